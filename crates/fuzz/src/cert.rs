//! Certificates: facts from arbitrary DER (`parse_cert`, x509-parser underneath) and the
//! engine's "judge once, match names later" reduction ([`ChainFacts`]) against webpki.
//!
//! The fixed testbed PKI lives in `crates/fuzz/testdata/` (made by `examples/gen_certs.rs`):
//! a root (trust anchor), an intermediate (known to the trust store's pool) and the
//! intermediate's key, so that checked-in seed chains stay trusted and `cert_names` can mint
//! leaves that chain to the root. Everything is judged at [`AT`], inside their validity.

use std::sync::OnceLock;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls_pki_types::{CertificateDer, UnixTime};
use time::{Duration, OffsetDateTime};

use crate::api::{
    CertInfo, CertStatus, ChainFacts, TrustStore, matches_name, parse_cert, sha256_hex,
};

/// The survey time every chain is judged at: 2026-12-01T00:00:00Z.
pub const AT: u64 = 1_796_083_200;

/// The testbed root (self-signed CA, DER).
pub const ROOT_DER: &[u8] = include_bytes!("../testdata/root.der");
/// The testbed intermediate (signed by the root, DER).
pub const INTERMEDIATE_DER: &[u8] = include_bytes!("../testdata/intermediate.der");
/// The intermediate's key (PKCS#8 PEM; a fuzzing fixture, trusted by nothing real).
pub const INTERMEDIATE_KEY_PEM: &str = include_str!("../testdata/intermediate.key.pem");

/// Subject and CA parameters of the testbed root and intermediate (the issuer of a minted
/// leaf must carry exactly the intermediate's subject).
pub fn ca_params(intermediate: bool) -> CertificateParams {
    let mut p = CertificateParams::default();
    let cn = if intermediate {
        "mxscan fuzz intermediate CA"
    } else {
        "mxscan fuzz root CA"
    };
    p.distinguished_name = DistinguishedName::new();
    p.distinguished_name.push(DnType::CommonName, cn);
    p.distinguished_name
        .push(DnType::OrganizationName, "mxscan fuzz testbed");
    p.is_ca = IsCa::Ca(if intermediate {
        BasicConstraints::Constrained(0)
    } else {
        BasicConstraints::Unconstrained
    });
    p.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    p.not_before = at_offset(-800);
    p.not_after = at_offset(3650);
    p.use_authority_key_identifier_extension = intermediate;
    p
}

/// [`AT`] moved by `days`.
pub fn at_offset(days: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(AT as i64).unwrap() + Duration::days(days)
}

/// Leaf parameters: these dNSName (or IP) SANs, CN = the first, server auth, valid from
/// `from` to `to` days around [`AT`]. `None` if rcgen refuses a name (non-ASCII).
pub fn leaf_params(sans: &[String], from: i64, to: i64) -> Option<CertificateParams> {
    let mut p = CertificateParams::new(sans.to_vec()).ok()?;
    p.distinguished_name = DistinguishedName::new();
    if let Some(first) = sans.first() {
        p.distinguished_name
            .push(DnType::CommonName, first.as_str());
    }
    p.not_before = at_offset(from);
    p.not_after = at_offset(to);
    p.is_ca = IsCa::ExplicitNoCa;
    p.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    p.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    Some(p)
}

struct Pki {
    issuer: Issuer<'static, KeyPair>,
    leaf_key: KeyPair,
    empty: TrustStore,
    testbed: TrustStore,
}

fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(|| {
        let key = KeyPair::from_pem(INTERMEDIATE_KEY_PEM).expect("testdata key");
        let mut testbed = TrustStore::empty().with_cache_capacity(0);
        testbed
            .add_ca_der(CertificateDer::from(ROOT_DER.to_vec()))
            .expect("root");
        testbed
            .add_ca_der(CertificateDer::from(INTERMEDIATE_DER.to_vec()))
            .expect("intermediate");
        assert_eq!(
            (testbed.anchor_count(), testbed.intermediate_count()),
            (1, 1)
        );
        Pki {
            issuer: Issuer::new(ca_params(true), key),
            leaf_key: KeyPair::generate().expect("leaf key"),
            empty: TrustStore::empty().with_cache_capacity(0),
            testbed,
        }
    })
}

/// Signs a leaf for `params` with the testbed intermediate: the chain `[leaf, intermediate]`.
pub fn mint_chain(params: &CertificateParams) -> Option<Vec<CertificateDer<'static>>> {
    let pki = pki();
    let leaf = params.signed_by(&pki.leaf_key, &pki.issuer).ok()?;
    Some(vec![
        leaf.der().clone(),
        CertificateDer::from(INTERMEDIATE_DER.to_vec()),
    ])
}

/// Splits concatenated DER values (tag, definite length, contents); a value whose length
/// does not fit takes the rest. At most `max` values.
pub fn der_split(mut data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut out = Vec::new();
    while !data.is_empty() && out.len() < max {
        let len = der_len(data)
            .filter(|&n| n <= data.len())
            .unwrap_or(data.len());
        out.push(&data[..len]);
        data = &data[len..];
    }
    out
}

fn der_len(d: &[u8]) -> Option<usize> {
    let l = *d.get(1)?;
    if l < 0x80 {
        return Some(2 + usize::from(l));
    }
    let n = usize::from(l & 0x7f);
    if n == 0 || n > 3 {
        return None;
    }
    let v = d
        .get(2..2 + n)?
        .iter()
        .fold(0usize, |v, &b| v << 8 | usize::from(b));
    Some(2 + n + v)
}

/// What `parse_cert` promises about a certificate it could parse.
fn check_info(der: &[u8], info: &CertInfo) {
    assert_eq!(info.sha256, sha256_hex(der));
    assert!(
        info.sha256.len() == 64
            && info
                .sha256
                .bytes()
                .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
    );
    // A known name or the algorithm's OID (dotted, or hex when x509-parser cannot decode it).
    let oid_like = |s: &str| s.bytes().all(|b| b.is_ascii_hexdigit() || b == b'.');
    assert!(
        oid_like(&info.key_type)
            || info
                .key_type
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.'),
        "key type {:?}",
        info.key_type
    );
    assert!(
        oid_like(&info.signature_algorithm)
            || info
                .signature_algorithm
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-'),
        "signature algorithm {:?}",
        info.signature_algorithm
    );
    if info.self_signed {
        assert_eq!(
            info.subject, info.issuer,
            "self-signed with issuer ≠ subject"
        );
    }
    // The leaf parse is deterministic.
    assert_eq!(parse_cert(der).as_ref(), Some(info));
}

/// Names a chain is judged for: each SAN as written, with its wildcard filled, in upper case,
/// with a trailing dot, one label too deep, plus `extra` and two that match nothing.
fn names_for(sans: &[String], extra: &[String]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for san in sans.iter().take(4) {
        names.push(san.clone());
        names.push(san.to_ascii_uppercase());
        names.push(format!("{san}."));
        if let Some(rest) = san.strip_prefix("*.") {
            names.push(format!("mx.{rest}"));
            names.push(format!("a.b.{rest}"));
            names.push(rest.to_owned());
        }
    }
    names.extend(extra.iter().take(8).cloned());
    names.push("no-san.invalid".into());
    names.push(String::new());
    names
}

/// The engine's reduction against webpki: `ChainFacts::status_for(name)` is exactly
/// `TrustStore::judge(chain, name)` (checked in full for a few names), and when the chain is
/// trusted its SAN match is exactly webpki's name check (for every name).
fn check_facts(
    trust: &TrustStore,
    chain: &[CertificateDer<'_>],
    at: UnixTime,
    extra: &[String],
) -> ChainFacts {
    let facts = trust.facts(chain, at);
    assert!(
        !matches!(
            facts.base(),
            Some(CertStatus::Valid | CertStatus::NameMismatch)
        ),
        "a name-dependent verdict as the base: {:?}",
        facts.base()
    );
    if chain.is_empty() {
        assert_eq!(facts.base(), Some(CertStatus::Other));
    }
    let sans: Vec<String> = facts.sans().map(str::to_owned).collect();
    for s in &sans {
        assert!(
            !s.is_empty() && !s.contains('\n') && !s.bytes().any(|b| b.is_ascii_uppercase()),
            "SAN {s:?}"
        );
    }
    assert_eq!(
        ChainFacts::from_parts(facts.base(), facts.joined_sans().into()),
        facts
    );
    let names = names_for(&sans, extra);
    for (i, name) in names.iter().enumerate() {
        let status = facts.status_for(name);
        assert!(CertStatus::ALL.contains(&status));
        assert_eq!(facts.valid_for(name), status == CertStatus::Valid);
        match facts.base() {
            Some(base) => assert_eq!(status, base),
            None => {
                let webpki = matches_name(&chain[0], name);
                assert_eq!(
                    status == CertStatus::Valid,
                    webpki,
                    "SANs {sans:?}, name {name:?}: ChainFacts says {status:?}, webpki's name check {webpki}"
                );
            }
        }
        // The full judgement for the first SAN name, the given names and the no-match name.
        if i == 0 || i + 2 >= names.len() || extra.contains(name) {
            assert_eq!(
                status,
                trust.judge(chain, name, at),
                "SANs {sans:?}, name {name:?}"
            );
        }
    }
    facts
}

/// `cert_facts`: byte 0 picks the trust store (bit 0: the testbed root and intermediate, else
/// none at all), byte 1 moves the survey time by a signed number of weeks; the rest is a
/// chain of concatenated DER certificates (leaf first). `parse_cert` facts are consistent;
/// with no anchors nothing is trusted; `ChainFacts` agrees with webpki.
pub fn cert_facts(input: &[u8]) {
    let [flags, weeks, data @ ..] = input else {
        return;
    };
    let pki = pki();
    let trust = if flags & 1 == 1 {
        &pki.testbed
    } else {
        &pki.empty
    };
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(
        AT.saturating_add_signed(i64::from(*weeks as i8) * 7 * 86_400),
    ));
    let chain: Vec<CertificateDer<'_>> = der_split(data, 6)
        .into_iter()
        .map(CertificateDer::from)
        .collect();
    for der in &chain {
        if let Some(info) = parse_cert(der) {
            check_info(der, &info);
        }
    }
    let facts = check_facts(trust, &chain, at, &[]);
    if std::ptr::eq(trust, &pki.empty) {
        assert!(
            !matches!(facts.base(), None | Some(CertStatus::IncompleteChain)),
            "trusted without a trust anchor: {:?}",
            facts.base()
        );
    }
    if chain.first().is_none_or(|leaf| parse_cert(leaf).is_none()) {
        assert_eq!(facts.joined_sans(), "");
    }
}

/// `cert_names`: `SAN \n SAN … \0 name \n name …` (lossy UTF-8, at most 4 SANs and 8 names).
/// A leaf with those dNSName SANs is minted by the testbed intermediate, so the chain is
/// trusted and only the names decide: the engine's SAN match must equal webpki's for the SANs,
/// their variants and the given names (RFC 6125 §6.4 as webpki applies it).
pub fn cert_names(input: &[u8]) {
    let text = String::from_utf8_lossy(input);
    let (sans, names) = text.split_once('\0').unwrap_or((&text, ""));
    let sans: Vec<String> = sans
        .split('\n')
        .filter(|s| !s.is_empty())
        .take(4)
        .map(str::to_owned)
        .collect();
    let names: Vec<String> = names.split('\n').take(8).map(str::to_owned).collect();
    let Some(params) = leaf_params(&sans, -30, 60) else {
        return;
    };
    let Some(chain) = mint_chain(&params) else {
        return;
    };
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(AT));
    let facts = check_facts(&pki().testbed, &chain, at, &names);
    assert_eq!(
        facts.base(),
        None,
        "a minted chain is not trusted: SANs {sans:?}"
    );
}
