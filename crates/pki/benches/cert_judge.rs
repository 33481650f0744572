//! Micro-benchmarks of the offline certificate judgement (issue 7).
//!
//! Run with `cargo bench -p mxscan-pki --bench cert_judge`. Every probe that completes TLS
//! has its presented chain judged once (`TrustStore::judge`: RFC 5280 path validation with
//! webpki, then the RFC 6125 §6.4 name match) and parsed for its `certs` row
//! (`parse_cert`); the chains come from the testbed's CA (ECDSA P-256, root → intermediate
//! → leaf), like the chains of the benchmark's world.

#![allow(missing_docs)]

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, SystemTime};

use mxscan_pki::{TrustStore, parse_cert};
use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec};
use mxscan_testbed::ca::Ca;
use rustls_pki_types::{CertificateDer, UnixTime};

fn main() {
    divan::main();
}

const DEFECTS: [CertDefect; 5] = [
    CertDefect::None,
    CertDefect::Expired,
    CertDefect::SelfSigned,
    CertDefect::UnknownIssuer,
    CertDefect::IncompleteChain,
];

struct Setup {
    chains: Vec<Vec<CertificateDer<'static>>>,
    trust_uncached: TrustStore,
    trust_cached: TrustStore,
    at: UnixTime,
}

fn setup() -> Setup {
    let ca = Ca::new().expect("testbed CA");
    let chains = DEFECTS
        .iter()
        .map(|&defect| {
            let spec = CertSpec {
                names: CertNames::Fixed(vec!["mx.example.com".into()]),
                defect,
            };
            ca.chain(&spec, None).expect("chain").cert.clone()
        })
        .collect();
    // As the scanner builds it: Mozilla's anchors plus the testbed's CA (`--trust-anchor`).
    let trust = || {
        let mut t = TrustStore::new(&[]).expect("trust store");
        t.add_ca_der(ca.root_der()).expect("root");
        t.add_ca_der(ca.intermediate_der()).expect("intermediate");
        t
    };
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs();
    Setup {
        chains,
        trust_uncached: trust().with_cache_capacity(0),
        trust_cached: trust(),
        at: UnixTime::since_unix_epoch(Duration::from_secs(secs)),
    }
}

/// One full judgement per call (verdict cache off): valid, expired, self-signed, unknown
/// issuer, incomplete chain.
#[divan::bench(args = [0, 1, 2, 3, 4])]
fn judge_uncached(bencher: divan::Bencher<'_, '_>, defect: usize) {
    let s = setup();
    let chain = &s.chains[defect];
    bencher.bench(|| {
        s.trust_uncached
            .judge(divan::black_box(chain), "mx.example.com", s.at)
    });
}

/// The same chain judged for a name already judged (the verdict cache's hit path).
#[divan::bench]
fn judge_cached_hit(bencher: divan::Bencher<'_, '_>) {
    let s = setup();
    let chain = &s.chains[0];
    s.trust_cached.judge(chain, "mx.example.com", s.at);
    bencher.bench(|| {
        s.trust_cached
            .judge(divan::black_box(chain), "mx.example.com", s.at)
    });
}

/// A shared provider chain judged for a new name each time (cache misses, name mismatch).
#[divan::bench]
fn judge_new_name(bencher: divan::Bencher<'_, '_>) {
    let s = setup();
    let chain = &s.chains[0];
    let n = AtomicU64::new(0);
    bencher.bench(|| {
        let name = format!("mx{}.customer.example", n.fetch_add(1, Ordering::Relaxed));
        s.trust_cached.judge(divan::black_box(chain), &name, s.at)
    });
}

/// The `certs` row facts of one leaf (x509 parse, SANs, key, signature algorithm).
#[divan::bench]
fn parse_leaf(bencher: divan::Bencher<'_, '_>) {
    let s = setup();
    let leaf = s.chains[0][0].clone();
    bencher.bench(|| parse_cert(divan::black_box(leaf.as_ref())));
}
