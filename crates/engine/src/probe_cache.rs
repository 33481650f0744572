//! One shared SMTP probe result per address for the whole survey ("probe once, judge many
//! times", ARCHITECTURE.md).
//!
//! The first domain to need an address starts its probe; every later one awaits the same
//! result, and a domain that comes after the probe finished reads it back. The cache holds an
//! entry for every address the survey has met — 426k at a million domains — for the whole
//! run, so what an entry costs is what the scanner's memory grows by:
//!
//! - an address **in flight** has a [`OnceCell`] its waiters share (in a small map that
//!   holds only the probes in flight);
//! - a **settled** address is a fixed-size record inside one hash table: the status as an
//!   index into the interned status words, STARTTLS, the chain's name-independent verdict
//!   and a reference to the leaf's SANs, which live in large append-only text chunks.
//!
//! So a settled address costs no allocation of its own. That matters beyond the bytes: one
//! small long-lived object per address, allocated among millions of short-lived ones, pins
//! an allocator page each, and the resident set grew with the survey although the live heap
//! hardly did (docs/performance.md).

use std::collections::HashMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};

use mxscan_model::observation::HostResult;
use mxscan_model::{CertStatus, ChainFacts, ProbeStatus, Vocab};
use tokio::sync::OnceCell;

/// Where an address's result is: settled, or a cell to await.
#[derive(Debug)]
enum Lookup {
    /// The probe finished (or was seeded).
    Done(Arc<HostResult>),
    /// The probe is in flight, or nobody has started it: initialise or await the cell, then
    /// [`ProbeCache::settle`] the result.
    Pending(Arc<OnceCell<Arc<HostResult>>>),
}

/// The per-address results of one survey.
#[derive(Debug, Default)]
pub struct ProbeCache {
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    /// Probes in flight (or about to start).
    pending: HashMap<IpAddr, Arc<OnceCell<Arc<HostResult>>>>,
    /// Finished probes, IPv4 and IPv6 apart: an entry keyed by `u32` is 20 bytes, one keyed
    /// by `IpAddr` (17 bytes, padded) would be 36.
    done4: HashMap<u32, Settled>,
    done6: HashMap<u128, Settled>,
    /// The SANs of every settled chain.
    sans: TextChunks,
}

/// A finished probe in 16 bytes, without allocations of its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Settled {
    /// The `\n`-joined SANs of the chain (empty without one).
    sans: TextRef,
    /// Index of the status in [`ProbeStatus::ALL`].
    status: u8,
    starttls: Option<bool>,
    /// [`NO_CHAIN`], [`BASE_NONE`], or [`BASE_SOME`] + the index of [`ChainFacts::base`] in
    /// [`CertStatus::ALL`].
    chain: u8,
}

/// The TLS handshake did not complete: no chain.
const NO_CHAIN: u8 = 0;
/// A chain whose verdict depends on the name (valid or name_mismatch).
const BASE_NONE: u8 = 1;
/// A chain that fails for every name; add the index of its status.
const BASE_SOME: u8 = 2;

impl Inner {
    fn compact(&mut self, result: &HostResult) -> Settled {
        let (chain, sans) = match &result.chain {
            None => (NO_CHAIN, TextRef::EMPTY),
            Some(facts) => (
                facts
                    .base()
                    .map_or(BASE_NONE, |b| BASE_SOME + cert_status_index(b)),
                self.sans.push(facts.joined_sans()),
            ),
        };
        Settled {
            sans,
            status: u8::try_from(result.status.index())
                .expect("probes.status is a closed vocabulary of < 256 words"),
            starttls: result.starttls,
            chain,
        }
    }

    fn expand(&self, s: Settled) -> HostResult {
        let chain = match s.chain {
            NO_CHAIN => None,
            code => {
                let base =
                    (code >= BASE_SOME).then(|| CertStatus::ALL[usize::from(code - BASE_SOME)]);
                Some(ChainFacts::from_parts(base, self.sans.get(s.sans).into()))
            }
        };
        HostResult {
            status: ProbeStatus::ALL[usize::from(s.status)],
            starttls: s.starttls,
            chain,
        }
    }

    fn done(&self, addr: IpAddr) -> Option<Settled> {
        match addr {
            IpAddr::V4(a) => self.done4.get(&a.to_bits()).copied(),
            IpAddr::V6(a) => self.done6.get(&a.to_bits()).copied(),
        }
    }

    fn insert_done(&mut self, addr: IpAddr, s: Settled) {
        match addr {
            IpAddr::V4(a) => self.done4.insert(a.to_bits(), s),
            IpAddr::V6(a) => self.done6.insert(a.to_bits(), s),
        };
    }
}

fn cert_status_index(status: CertStatus) -> u8 {
    status.index() as u8
}

impl ProbeCache {
    /// The result for `addr`: settled already, or awaited from the probe in flight, or — for
    /// the first caller — produced by `probe`, which runs once per address. Callers that
    /// await hold no thread.
    pub async fn get_or_probe<F, Fut>(&self, addr: IpAddr, probe: F) -> Arc<HostResult>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Arc<HostResult>>,
    {
        let cell = match self.lookup(addr) {
            Lookup::Done(done) => return done,
            Lookup::Pending(cell) => cell,
        };
        let result = Arc::clone(cell.get_or_init(probe).await);
        self.settle(addr, &result);
        result
    }

    /// The result for `addr` if its probe is done, else the cell to await (created empty on
    /// first use).
    fn lookup(&self, addr: IpAddr) -> Lookup {
        let mut inner = self.inner.lock().expect("probe cache poisoned");
        if let Some(s) = inner.done(addr) {
            return Lookup::Done(Arc::new(inner.expand(s)));
        }
        Lookup::Pending(Arc::clone(inner.pending.entry(addr).or_default()))
    }

    /// Record `result` as the address's result and drop its cell. Every waiter of the cell
    /// may call this; the first settles, the rest find it settled.
    fn settle(&self, addr: IpAddr, result: &HostResult) {
        let mut inner = self.inner.lock().expect("probe cache poisoned");
        inner.pending.remove(&addr);
        if inner.done(addr).is_none() {
            let s = inner.compact(result);
            inner.insert_done(addr, s);
        }
    }

    /// Record a result known in advance (a probe committed by an earlier run of the survey).
    pub fn seed(&self, addr: IpAddr, result: &HostResult) {
        self.settle(addr, result);
    }

    /// (settled, in flight) address counts.
    #[cfg(test)]
    fn counts(&self) -> (usize, usize) {
        let inner = self.inner.lock().expect("probe cache poisoned");
        (inner.done4.len() + inner.done6.len(), inner.pending.len())
    }
}

/// Append-only text in 1 MiB chunks: one allocation per MiB, never moved.
#[derive(Debug, Default)]
struct TextChunks {
    chunks: Vec<String>,
}

/// A slice of [`TextChunks`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct TextRef {
    chunk: u32,
    start: u32,
    len: u32,
}

const CHUNK: usize = 1 << 20;

impl TextRef {
    const EMPTY: TextRef = TextRef {
        chunk: 0,
        start: 0,
        len: 0,
    };
}

impl TextChunks {
    fn push(&mut self, text: &str) -> TextRef {
        let fits = self
            .chunks
            .last()
            .is_some_and(|c| c.capacity() - c.len() >= text.len());
        if !fits {
            self.chunks
                .push(String::with_capacity(CHUNK.max(text.len())));
        }
        let chunk = self.chunks.len() - 1;
        let c = &mut self.chunks[chunk];
        let start = c.len();
        c.push_str(text);
        TextRef {
            chunk: u32::try_from(chunk).expect("fewer than 2^32 chunks"),
            start: u32::try_from(start).expect("chunk offsets fit u32"),
            len: u32::try_from(text.len()).expect("SAN lists shorter than 4 GiB"),
        }
    }

    fn get(&self, r: TextRef) -> &str {
        if r.len == 0 {
            return "";
        }
        let start = r.start as usize;
        &self.chunks[r.chunk as usize][start..start + r.len as usize]
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicU64, Ordering};

    use super::*;

    fn chainless(status: ProbeStatus, starttls: Option<bool>) -> HostResult {
        HostResult {
            status,
            starttls,
            chain: None,
        }
    }

    fn settled(cache: &ProbeCache, addr: IpAddr) -> HostResult {
        match cache.lookup(addr) {
            Lookup::Done(r) => Arc::unwrap_or_clone(r),
            Lookup::Pending(_) => panic!("{addr} not settled"),
        }
    }

    #[tokio::test]
    async fn waiters_share_one_probe_and_settling_drops_the_cell() {
        let cache = ProbeCache::default();
        let addr: IpAddr = "127.1.2.3".parse().unwrap();
        let probes = AtomicU64::new(0);
        let get = || {
            cache.get_or_probe(addr, || async {
                probes.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
                Arc::new(chainless(ProbeStatus::NoStarttls, Some(false)))
            })
        };
        let (a, b, c) = tokio::join!(get(), get(), get());
        assert_eq!(probes.load(Ordering::Relaxed), 1, "one probe per address");
        assert!(Arc::ptr_eq(&a, &b) && Arc::ptr_eq(&b, &c));
        assert_eq!(cache.counts(), (1, 0), "settled, no cell left");
        assert_eq!(settled(&cache, addr), *a);
        let d = get().await;
        assert_eq!(
            probes.load(Ordering::Relaxed),
            1,
            "a later caller does not probe"
        );
        assert_eq!(*d, *a);
    }

    #[test]
    fn every_result_round_trips_through_the_compact_form() {
        let ca = mxscan_testbed::ca::Ca::new().unwrap();
        let mut trust = mxscan_pki::TrustStore::empty();
        trust.add_ca_der(ca.root_der()).unwrap();
        let at = rustls_pki_types::UnixTime::now();
        let cache = ProbeCache::default();
        let mut want = Vec::new();
        use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec};
        for (i, defect) in [
            CertDefect::None,
            CertDefect::Expired,
            CertDefect::SelfSigned,
            CertDefect::UnknownIssuer,
        ]
        .into_iter()
        .enumerate()
        {
            let names: Vec<String> = (0..=i).map(|k| format!("mx{k}.example{i}.com")).collect();
            let spec = CertSpec {
                names: CertNames::Fixed(names),
                defect,
            };
            let chain = ca.chain(&spec, None).unwrap().cert.clone();
            want.push(HostResult {
                status: ProbeStatus::Ok,
                starttls: Some(true),
                chain: Some(trust.facts(&chain, at)),
            });
        }
        want.push(chainless(ProbeStatus::NoStarttls, Some(false)));
        want.push(chainless(ProbeStatus::ConnectRefused, None));
        want.push(HostResult {
            status: ProbeStatus::TlsFailed,
            starttls: Some(true),
            chain: Some(trust.facts(&[], at)),
        });
        want.push(want[0].clone());
        let addr = |i: usize| match i % 2 {
            0 => IpAddr::from([127, 9, 0, i as u8]),
            _ => IpAddr::from([0x2001, 0xdb8, 0, 0, 0, 0, 0, i as u16]),
        };
        for (i, r) in want.iter().enumerate() {
            cache.settle(addr(i), r);
        }
        assert_eq!(std::mem::size_of::<Settled>(), 16);
        for (i, r) in want.iter().enumerate() {
            let got = settled(&cache, addr(i));
            assert_eq!(got, *r, "entry {i}");
        }
        // A second settle of the same address keeps the first result.
        cache.settle(IpAddr::from([127, 9, 0, 0]), &want[5]);
        assert_eq!(settled(&cache, IpAddr::from([127, 9, 0, 0])), want[0]);
    }

    #[test]
    fn text_chunks_span_chunk_boundaries() {
        let mut t = TextChunks::default();
        let big = "x".repeat(CHUNK - 10);
        let a = t.push(&big);
        let b = t.push("mx.example.com\n*.example.net");
        let huge = "y".repeat(CHUNK + 5);
        let c = t.push(&huge);
        assert_eq!(t.get(a), big);
        assert_eq!(t.get(b), "mx.example.com\n*.example.net");
        assert_eq!(t.get(c), huge);
        assert_eq!((a.chunk, b.chunk, c.chunk), (0, 1, 2));
    }
}
