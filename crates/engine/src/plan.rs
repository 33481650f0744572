//! The plan of one domain: what its DNS answers say the survey must do next — which mail
//! hosts to resolve and probe, and whether to fetch an MTA-STS policy. Pure, computed once
//! per domain by the scheduler and handed to [`crate::evaluate`], which builds the rows from
//! the same plan (the answers are never interpreted twice).

use mxscan_model::dns::{AddrAnswer, LookupStatus, MxAnswer, TxtAnswer};
use mxscan_model::{DnsStatus, TxtStatus};
use mxscan_policy::StsRecord;

/// What the DNS answers say about where the domain's mail goes (RFC 5321 §5.1, RFC 7505).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailHosts {
    /// `domains.dns_status`.
    pub dns_status: DnsStatus,
    /// RFC 7505 null MX.
    pub null_mx: bool,
    /// No MX: the domain itself is the exchange.
    pub implicit_mx: bool,
    /// Exchanges with preferences, in preference order (ties by name), capped.
    pub exchanges: Vec<(String, u16)>,
}

/// Decide the mail hosts from the MX answer and, if the MX lookup said NODATA, the domain's
/// own address answer. `None` for `fallback` with a NODATA MX answer means "not looked up":
/// the caller must look it up first (see [`needs_fallback`]).
pub fn mail_hosts(
    domain: &str,
    mx: &MxAnswer,
    fallback: Option<&AddrAnswer>,
    max_mx: usize,
) -> MailHosts {
    let none = |dns_status: DnsStatus| MailHosts {
        dns_status,
        null_mx: false,
        implicit_mx: false,
        exchanges: Vec::new(),
    };
    match mx.status {
        LookupStatus::Ok if mx.null_mx => MailHosts {
            null_mx: true,
            ..none(DnsStatus::Ok)
        },
        LookupStatus::Ok => {
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
                ..none(DnsStatus::Ok)
            }
        }
        LookupStatus::NoData => match fallback.map(|a| a.status) {
            Some(LookupStatus::Ok) => MailHosts {
                implicit_mx: true,
                exchanges: vec![(domain.to_string(), 0)],
                ..none(DnsStatus::Ok)
            },
            Some(LookupStatus::NoData | LookupStatus::NxDomain) | None => {
                none(DnsStatus::NoMailHost)
            }
            Some(other) => none(dns_status(other)),
        },
        other => none(dns_status(other)),
    }
}

/// True when the MX answer requires the domain's own address lookup (implicit MX).
pub fn needs_fallback(mx: &MxAnswer) -> bool {
    mx.status == LookupStatus::NoData
}

/// `domains.dns_status` of a failed lookup.
fn dns_status(s: LookupStatus) -> DnsStatus {
    match s {
        LookupStatus::Ok | LookupStatus::NoData => DnsStatus::Ok,
        LookupStatus::NxDomain => DnsStatus::NxDomain,
        LookupStatus::ServFail => DnsStatus::ServFail,
        LookupStatus::Refused => DnsStatus::Refused,
        LookupStatus::Timeout => DnsStatus::Timeout,
        LookupStatus::Error => DnsStatus::Error,
    }
}

/// The record status column of a TXT lookup whose records parsed to `parsed`: the lookup's
/// failure wins; no records at all is `none`.
pub fn txt_status(txt: &TxtAnswer, parsed: mxscan_policy::RecordStatus) -> TxtStatus {
    match txt.status {
        LookupStatus::Ok => parsed.into(),
        LookupStatus::NoData | LookupStatus::NxDomain => TxtStatus::None,
        _ => TxtStatus::DnsError,
    }
}

/// Everything the DNS stage decides for one domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Where the mail goes.
    pub hosts: MailHosts,
    /// The `_mta-sts` TXT answer parsed (RFC 8461 §3.1); its deviations count only when the
    /// lookup succeeded.
    pub sts: StsRecord,
    /// `domains.sts_record`.
    pub sts_status: TxtStatus,
}

impl Plan {
    /// Whether a sender would fetch the policy: exactly one valid `v=STSv1` record
    /// (RFC 8461 §3.3).
    pub fn fetch_policy(&self) -> bool {
        self.sts_status == TxtStatus::Valid
    }
}

/// The plan of `domain` from its MX answer, its implicit-MX address answer (when
/// [`needs_fallback`] said so) and its `_mta-sts` TXT answer.
pub fn plan(
    domain: &str,
    mx: &MxAnswer,
    fallback: Option<&AddrAnswer>,
    sts_txt: &TxtAnswer,
    max_mx: usize,
) -> Plan {
    let sts = mxscan_policy::parse_sts_records(&sts_txt.records);
    Plan {
        hosts: mail_hosts(domain, mx, fallback, max_mx),
        sts_status: txt_status(sts_txt, sts.status),
        sts,
    }
}
