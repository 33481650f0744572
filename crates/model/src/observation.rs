//! Observations: what the engine saw for one domain — its DNS answers, the shared probe
//! result of every MX address, the policy fetch — in the form evaluation consumes. Built by
//! the scheduler, turned into rows by the engine's pure `evaluate`.

use std::net::IpAddr;
use std::sync::Arc;

use crate::chain::ChainFacts;
use crate::dns::{AddrAnswer, MxAnswer, TxtAnswer};
use crate::{FetchError, ProbeStatus};

/// What the engine keeps of one SMTP probe (one per address per survey).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResult {
    /// How the probe ended.
    pub status: ProbeStatus,
    /// STARTTLS advertised in the EHLO reply; `None` when EHLO was not answered.
    pub starttls: Option<bool>,
    /// The presented chain, judged once; `None` unless the TLS handshake completed.
    pub chain: Option<ChainFacts>,
}

/// One address of one exchange, as the domain sees it.
#[derive(Debug, Clone)]
pub enum HostView {
    /// On the blocklist: never contacted.
    Blocked,
    /// The (shared) probe result.
    Probed(Arc<HostResult>),
}

/// One exchange of the domain with its address lookup and the hosts behind it.
#[derive(Debug, Clone)]
pub struct ExchangeObs {
    /// Exchange name (lowercase, no trailing dot); the domain itself for an implicit MX.
    pub exchange: String,
    /// MX preference (0 for an implicit MX).
    pub preference: u16,
    /// Its address lookup.
    pub addrs: AddrAnswer,
    /// One entry per address in `addrs`, in the same order.
    pub hosts: Vec<(IpAddr, HostView)>,
}

/// The MTA-STS policy fetch (RFC 8461 §3.3), reduced to what the row needs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PolicyFetch {
    /// Why the fetch failed; `None` when a 200 body was received.
    pub error: Option<FetchError>,
    /// HTTP status, when a response head was received.
    pub http_status: Option<u16>,
    /// Content-Type as sent.
    pub content_type: Option<String>,
    /// The body (≤ 64 KiB) when `error` is `None`.
    pub body: Vec<u8>,
}

/// Everything observed for one domain.
#[derive(Debug, Clone)]
pub struct DomainObs {
    /// Rank from the input list.
    pub rank: Option<u64>,
    /// Normalised domain.
    pub domain: String,
    /// The MX lookup.
    pub mx: MxAnswer,
    /// The domain's own address lookup, made only when the MX lookup said NODATA.
    pub fallback: Option<AddrAnswer>,
    /// The exchanges that were resolved (capped at `--max-mx`), in preference order.
    pub exchanges: Vec<ExchangeObs>,
    /// TXT at `_mta-sts.<domain>`.
    pub sts_txt: TxtAnswer,
    /// TXT at `_smtp._tls.<domain>`.
    pub tlsrpt_txt: TxtAnswer,
    /// The policy fetch, made only for a valid `_mta-sts` record.
    pub fetch: Option<PolicyFetch>,
    /// Wall time spent on the domain.
    pub elapsed_ms: u32,
}
