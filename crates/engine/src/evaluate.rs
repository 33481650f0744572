//! Evaluation: from what was observed for one domain (DNS answers, the shared probe result of
//! every MX address, the policy fetch) to its `domains` row and `mx` rows. Pure: no I/O, so
//! every rule below is unit-tested on hand-made observations.
//!
//! The rules (they are the contract of SCHEMA.md and the testbed's ground truth):
//! - `dns_status` is about the domain's MX lookup and, when the domain has no MX (NODATA), its
//!   address lookup (RFC 5321 §5.1 implicit MX): no MX and no address is `no_mail_host`.
//!   A null MX (RFC 7505) is `ok` with `null_mx` and no mx rows.
//! - One mx row per (exchange, address); an exchange that does not resolve has no rows but is
//!   listed in `mx_hosts` and `mx_unresolved`.
//! - `mx.starttls` is null unless EHLO was answered; `mx.cert_status` is null unless the TLS
//!   handshake completed, and then judged for THIS exchange name.
//! - `starttls` / `cert_valid` aggregate over the mx rows whose value is not null:
//!   all / some / none; `untested` when there are mx rows but no such value; `no_mx` when there
//!   are no mx rows.
//! - `sts_policy`: `not_fetched` unless the `_mta-sts` record is valid (RFC 8461 §3.1);
//!   `fetch_error` with its class; `invalid` when the body fails RFC 8461 §3.2; else `ok`.
//!   `sts_mx_unmatched`, `mx.sts_match` and `sts_delivery` (RFC 8461 §5) only for `ok`.

use std::net::IpAddr;
use std::sync::Arc;

use mxscan_policy::{Deviation, Mode, RecordStatus};
use mxscan_probe::dns::{AddrAnswer, DnsStatus, MxAnswer, TxtAnswer};
use mxscan_store::rows::{DomainRow, MxRow};

use crate::chain::ChainFacts;

/// What the engine keeps of one SMTP probe (one per address per survey).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostResult {
    /// `probes.status` vocabulary.
    pub status: &'static str,
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
    /// `sts_fetch_error` vocabulary, `None` when a 200 body was received.
    pub error: Option<&'static str>,
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

/// What the DNS answers say about where the domain's mail goes (RFC 5321 §5.1, RFC 7505).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailHosts {
    /// `domains.dns_status`.
    pub dns_status: &'static str,
    /// RFC 7505 null MX.
    pub null_mx: bool,
    /// No MX: the domain itself is the exchange.
    pub implicit_mx: bool,
    /// Exchanges with preferences, in preference order (ties by name), capped.
    pub exchanges: Vec<(String, u16)>,
}

/// Decide the mail hosts from the MX answer and, if the MX lookup said NODATA, the domain's
/// own address answer. `None` for `fallback` with a NODATA MX answer means "not looked up
/// yet": the caller must look it up (see [`needs_fallback`]).
pub fn mail_hosts(
    domain: &str,
    mx: &MxAnswer,
    fallback: Option<&AddrAnswer>,
    max_mx: usize,
) -> MailHosts {
    let none = |status: &'static str| MailHosts {
        dns_status: status,
        null_mx: false,
        implicit_mx: false,
        exchanges: Vec::new(),
    };
    match mx.status {
        DnsStatus::Ok if mx.null_mx => MailHosts {
            null_mx: true,
            ..none("ok")
        },
        DnsStatus::Ok => {
            let mut exchanges: Vec<(String, u16)> = Vec::new();
            for r in &mx.records {
                // A "." exchange beside real ones is not a null MX (RFC 7505 §3): skip it.
                if r.exchange == "." || r.exchange.is_empty() {
                    continue;
                }
                if !exchanges.iter().any(|(e, _)| *e == r.exchange) {
                    exchanges.push((r.exchange.clone(), r.preference));
                }
            }
            exchanges.truncate(max_mx);
            MailHosts {
                exchanges,
                ..none("ok")
            }
        }
        DnsStatus::NoData => match fallback.map(|a| a.status) {
            Some(DnsStatus::Ok) => MailHosts {
                implicit_mx: true,
                exchanges: vec![(domain.to_string(), 0)],
                ..none("ok")
            },
            Some(DnsStatus::NoData | DnsStatus::NxDomain) | None => none("no_mail_host"),
            Some(other) => none(dns_word(other)),
        },
        other => none(dns_word(other)),
    }
}

/// True when the MX answer requires the domain's own address lookup (implicit MX).
pub fn needs_fallback(mx: &MxAnswer) -> bool {
    mx.status == DnsStatus::NoData
}

fn dns_word(s: DnsStatus) -> &'static str {
    match s {
        DnsStatus::Ok | DnsStatus::NoData => "ok",
        DnsStatus::NxDomain => "nxdomain",
        DnsStatus::ServFail => "servfail",
        DnsStatus::Refused => "refused",
        DnsStatus::Timeout => "timeout",
        DnsStatus::Error => "error",
    }
}

/// all / some / none over the known values; `untested` when rows exist but none is known;
/// `no_mx` when there are no rows.
fn aggregate(rows: usize, known: impl Iterator<Item = bool>) -> &'static str {
    if rows == 0 {
        return "no_mx";
    }
    let (mut yes, mut no) = (0usize, 0usize);
    for k in known {
        if k {
            yes += 1;
        } else {
            no += 1;
        }
    }
    match (yes, no) {
        (0, 0) => "untested",
        (_, 0) => "all",
        (0, _) => "none",
        _ => "some",
    }
}

/// The record status word of SCHEMA.md for a TXT lookup parsed by `parse`.
fn record_status(txt: &TxtAnswer, status: RecordStatus) -> &'static str {
    match txt.status {
        DnsStatus::Ok => status.as_str(),
        DnsStatus::NoData | DnsStatus::NxDomain => "none",
        _ => "dns_error",
    }
}

/// Build the domain's rows.
pub fn evaluate(survey_id: &str, obs: &DomainObs, max_mx: usize) -> (DomainRow, Vec<MxRow>) {
    let hosts = mail_hosts(&obs.domain, &obs.mx, obs.fallback.as_ref(), max_mx);

    // mx rows.
    let mut mx_rows: Vec<MxRow> = Vec::new();
    let mut unresolved: Vec<String> = Vec::new();
    for ex in &obs.exchanges {
        if ex.hosts.is_empty() {
            unresolved.push(ex.exchange.clone());
        }
        for (addr, view) in &ex.hosts {
            let (smtp_status, starttls, chain) = match view {
                HostView::Blocked => ("blocked", None, None),
                HostView::Probed(h) => (h.status, h.starttls, h.chain.as_ref()),
            };
            mx_rows.push(MxRow {
                survey_id: survey_id.to_string(),
                domain: obs.domain.clone(),
                exchange: ex.exchange.clone(),
                preference: ex.preference,
                address: addr.to_string(),
                blocked: matches!(view, HostView::Blocked),
                smtp_status,
                starttls,
                cert_status: chain.map(|c| c.status_for(&ex.exchange).as_str()),
                sts_match: None,
                cert_matches_domain: chain.map(|c| c.valid_for(&obs.domain)),
            });
        }
    }
    let starttls = aggregate(mx_rows.len(), mx_rows.iter().filter_map(|r| r.starttls));
    let cert_valid = aggregate(
        mx_rows.len(),
        mx_rows
            .iter()
            .filter_map(|r| r.cert_status.map(|s| s == "valid")),
    );

    // MTA-STS record (RFC 8461 §3.1).
    let record = mxscan_policy::parse_sts_records(&obs.sts_txt.records);
    let sts_record = record_status(&obs.sts_txt, record.status);
    let mut deviations: Vec<Deviation> = if obs.sts_txt.status == DnsStatus::Ok {
        record.deviations.clone()
    } else {
        Vec::new()
    };
    // The id of a valid record only (an invalid one's problem is in the deviations).
    let sts_id = if sts_record == "valid" {
        record.id.clone()
    } else {
        None
    };

    // Policy (RFC 8461 §3.2, §3.3).
    let mut sts_policy = "not_fetched";
    let (mut sts_fetch_error, mut sts_http_status, mut sts_content_type) = (None, None, None);
    let (mut sts_mode, mut sts_max_age, mut sts_mx) = (None, None, Vec::new());
    let mut policy_mode: Option<Mode> = None;
    if sts_record == "valid"
        && let Some(fetch) = &obs.fetch
    {
        sts_http_status = fetch.http_status.map(i32::from);
        sts_content_type = fetch.content_type.clone();
        if let Some(err) = fetch.error {
            sts_policy = "fetch_error";
            sts_fetch_error = Some(err);
        } else {
            let report = mxscan_policy::parse_policy(&fetch.body);
            deviations.extend(report.deviations.iter().copied());
            deviations.extend(mxscan_policy::content_type_deviation(
                fetch.content_type.as_deref(),
            ));
            sts_mode = report.mode.map(|m| m.as_str());
            sts_max_age = report.max_age.and_then(|a| i64::try_from(a).ok());
            sts_mx = report.mx.clone();
            if report.valid {
                sts_policy = "ok";
                policy_mode = report.mode;
            } else {
                sts_policy = "invalid";
            }
        }
    }
    Deviation::normalize(&mut deviations);

    // Verdict (RFC 8461 §4.1, §5).
    let mut sts_mx_unmatched = Vec::new();
    let mut sts_delivery = "no_policy";
    if let Some(mode) = policy_mode {
        let names: Vec<&str> = hosts.exchanges.iter().map(|(e, _)| e.as_str()).collect();
        sts_mx_unmatched = mxscan_policy::unmatched(&sts_mx, &names)
            .into_iter()
            .map(str::to_string)
            .collect();
        for row in &mut mx_rows {
            row.sts_match = Some(mxscan_policy::matches_any(&sts_mx, &row.exchange));
        }
        let outcomes: Vec<(&str, mxscan_policy::MxOutcome)> = mx_rows
            .iter()
            .map(|r| {
                (
                    r.exchange.as_str(),
                    mxscan_policy::mx_outcome(r.smtp_status, r.starttls, r.cert_status),
                )
            })
            .collect();
        sts_delivery = mxscan_policy::delivery(mode, &sts_mx, &outcomes).as_str();
    }

    // TLS-RPT (RFC 8460 §3).
    let tlsrpt = mxscan_policy::parse_tlsrpt_records(&obs.tlsrpt_txt.records);
    let tlsrpt_record = record_status(&obs.tlsrpt_txt, tlsrpt.status);
    let tlsrpt_ok = obs.tlsrpt_txt.status == DnsStatus::Ok;

    let domain = DomainRow {
        survey_id: survey_id.to_string(),
        rank: obs.rank,
        domain: obs.domain.clone(),
        dns_status: hosts.dns_status,
        null_mx: hosts.null_mx,
        implicit_mx: hosts.implicit_mx,
        mx_hosts: hosts.exchanges.iter().map(|(e, _)| e.clone()).collect(),
        mx_unresolved: unresolved,
        starttls,
        cert_valid,
        sts_record,
        sts_id,
        sts_policy,
        sts_fetch_error,
        sts_http_status,
        sts_content_type,
        sts_mode,
        sts_max_age,
        sts_mx,
        sts_deviations: deviations.iter().map(|d| d.as_str().to_string()).collect(),
        sts_mx_unmatched,
        sts_delivery,
        tlsrpt_record,
        tlsrpt_rua: if tlsrpt_record == "valid" {
            tlsrpt.rua.clone()
        } else {
            Vec::new()
        },
        tlsrpt_deviations: if tlsrpt_ok {
            tlsrpt
                .deviations
                .iter()
                .map(|d| d.as_str().to_string())
                .collect()
        } else {
            Vec::new()
        },
        elapsed_ms: obs.elapsed_ms,
    };
    (domain, mx_rows)
}
