//! Chain completion through AIA (issue 15): when a captured chain has no path to a trusted
//! root, the engine follows the leaf's caIssuers URL (RFC 5280 §4.2.2.1) — each URL fetched
//! at most once per survey, through the politeness gate and the blocklist, bounded in time
//! and size ([`mxscan_probe::aia`]) — and judges the chain again with what it fetched. A path
//! found that way is `incomplete_chain` with `chain_completed`; no path is
//! `untrusted_issuer`.
//!
//! At most [`MAX_DEPTH`] issuers are followed up a chain (an intermediate's own AIA when the
//! first issuer is itself not under a root), [`MAX_URLS_PER_CERT`] URLs per certificate, and
//! a URL already seen in one completion is not taken again (AIA loops end).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::atomic::Ordering;

use mxscan_probe::aia::{AiaOptions, HttpUrl, fetch_aia_at};
use mxscan_probe::dialer::Dialer;
use mxscan_probe::dns::Dns;
use rustls_pki_types::CertificateDer;
use tokio::sync::OnceCell;

use crate::politeness::Politeness;
use crate::scan::Counters;

/// Issuers followed up one chain at most.
pub const MAX_DEPTH: usize = 3;
/// caIssuers URLs tried per certificate at most.
pub const MAX_URLS_PER_CERT: usize = 2;
/// Distinct URLs a survey fetches at most (real surveys see a few thousand); later ones are
/// not fetched (counted in [`Counters::aia_over_cap`]).
pub const MAX_URLS: usize = 100_000;

type Certs = Arc<Vec<CertificateDer<'static>>>;

/// The per-survey cache: one cell per URL; the first task to need a URL fetches it, later
/// ones await the same cell.
#[derive(Debug, Default)]
pub struct AiaCache {
    cells: Mutex<HashMap<String, Arc<OnceCell<Certs>>>>,
}

impl AiaCache {
    /// The certificates behind `url`: fetched once, then remembered (empty on failure).
    pub async fn get(
        &self,
        url: &str,
        dns: &Dns,
        dialer: &Dialer,
        gate: &Arc<Politeness>,
        opts: &AiaOptions,
        counters: &Counters,
    ) -> Certs {
        let cell = {
            let Ok(mut cells) = self.cells.lock() else {
                return Certs::default();
            };
            match cells.get(url) {
                Some(c) => c.clone(),
                None if cells.len() >= MAX_URLS => {
                    counters.aia_over_cap.fetch_add(1, Ordering::Relaxed);
                    return Certs::default();
                }
                None => cells.entry(url.to_owned()).or_default().clone(),
            }
        };
        cell.get_or_init(|| async {
            counters.aia_fetches.fetch_add(1, Ordering::Relaxed);
            let certs = fetch(url, dns, dialer, gate, opts).await;
            if certs.is_empty() {
                counters.aia_failed.fetch_add(1, Ordering::Relaxed);
            }
            Arc::new(certs)
        })
        .await
        .clone()
    }

    /// Distinct URLs seen.
    pub fn len(&self) -> usize {
        self.cells.lock().map_or(0, |c| c.len())
    }

    /// True before the first URL.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// One fetch: resolve (IPv4), pass the gate, GET.
async fn fetch(
    url: &str,
    dns: &Dns,
    dialer: &Dialer,
    gate: &Arc<Politeness>,
    opts: &AiaOptions,
) -> Vec<CertificateDer<'static>> {
    let Some(u) = HttpUrl::parse(url) else {
        return Vec::new();
    };
    let addr = match u.address() {
        Some(a) => a,
        None => match dns.ipv4(&u.host).await.addrs.first() {
            Some(a) => *a,
            None => return Vec::new(),
        },
    };
    if dialer.check(addr).is_blocked() {
        return Vec::new();
    }
    let _permit = gate.acquire(addr).await;
    let out = fetch_aia_at(&u, addr, dialer, opts).await;
    if let Some(e) = out.error {
        tracing::debug!(url, error = ?e, "AIA fetch gave no certificate");
    }
    out.certs
}
