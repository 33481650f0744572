//! DNS answers as data: what the resolver said for one name and type, negative answers
//! included (RFC 2308). The resolver driver (`mxscan-probe`) produces them; evaluation and
//! the testbed's truth read them.

use std::net::IpAddr;

/// Outcome of one lookup. `domains.dns_status` ([`crate::DnsStatus`]) is derived from the
/// MX (and implicit-MX address) lookups by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LookupStatus {
    /// Records of the requested type exist (they may be behind a CNAME).
    Ok,
    /// The name exists but has no records of this type (NOERROR, empty answer; RFC 2308 §2.2).
    NoData,
    /// The name does not exist (RCODE 3, RFC 2308 §2.1).
    NxDomain,
    /// RCODE 2 (SERVFAIL).
    ServFail,
    /// RCODE 5 (REFUSED).
    Refused,
    /// No answer within the per-query timeout, after all attempts.
    Timeout,
    /// Anything else: other RCODEs, malformed answers, network errors, invalid names.
    Error,
}

impl LookupStatus {
    /// The snake_case vocabulary word.
    pub fn as_str(self) -> &'static str {
        match self {
            LookupStatus::Ok => "ok",
            LookupStatus::NoData => "nodata",
            LookupStatus::NxDomain => "nxdomain",
            LookupStatus::ServFail => "servfail",
            LookupStatus::Refused => "refused",
            LookupStatus::Timeout => "timeout",
            LookupStatus::Error => "error",
        }
    }

    /// Answers worth caching for the survey: positive and authoritative negative ones.
    pub fn cacheable(self) -> bool {
        matches!(
            self,
            LookupStatus::Ok | LookupStatus::NoData | LookupStatus::NxDomain
        )
    }
}

/// One MX record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxRecord {
    /// Preference (RFC 5321 §5.1: lower is preferred).
    pub preference: u16,
    /// Exchange, lowercase, without the trailing dot; `"."` for the root (null MX).
    pub exchange: String,
    /// The exchange is an IP literal (e.g. `192.0.2.1`), which RFC 5321 §5.1 does not allow.
    pub ip_literal: bool,
}

/// Answer to an MX query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MxAnswer {
    /// Lookup status.
    pub status: LookupStatus,
    /// Records sorted by preference, then exchange name.
    pub records: Vec<MxRecord>,
    /// RFC 7505 §3: exactly one MX, preference 0, exchange `.` — the domain accepts no mail.
    pub null_mx: bool,
    /// The queried name is an alias (a CNAME was followed).
    pub cname: bool,
    /// Error detail for `servfail`/`refused`/`timeout`/`error`.
    pub error: Option<String>,
}

/// Answer to an A or AAAA query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AddrAnswer {
    /// Lookup status.
    pub status: LookupStatus,
    /// Addresses in answer order.
    pub addrs: Vec<IpAddr>,
    /// A CNAME was followed.
    pub cname: bool,
    /// The CNAME targets followed, in order (lowercase, no trailing dot).
    pub cname_chain: Vec<String>,
    /// Error detail.
    pub error: Option<String>,
}

/// Answer to a TXT query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TxtAnswer {
    /// Lookup status.
    pub status: LookupStatus,
    /// Each TXT record as its list of character-strings (RFC 1035 §3.3.14), raw bytes.
    /// RFC 8461 §3.1 / RFC 8460 §3: the strings of one record are concatenated by the caller.
    pub records: Vec<Vec<Vec<u8>>>,
    /// A CNAME was followed (allowed for `_mta-sts`, RFC 8461 §3.1).
    pub cname: bool,
    /// Error detail.
    pub error: Option<String>,
}
