//! The vocabularies of MTA-STS (RFC 8461) and TLS-RPT (RFC 8460) that the survey records:
//! the policy mode, the TXT record status, the TLS-RPT deviations, and the delivery verdict
//! with its per-MX outcome. The parsers that produce them live in `mxscan-policy`, which
//! re-exports every type here under its old name.

use crate::status::{CertStatus, ProbeStatus};
use crate::vocabulary;

vocabulary! {
    /// The policy mode (RFC 8461 §3.2 `sts-policy-mode-value`, case-sensitive; RFC 8461 §5).
    pub enum Mode {
        Enforce = "enforce", "Senders MUST NOT deliver to MX hosts that fail MX matching or \
            certificate validation (RFC 8461 §5).";
        Testing = "testing", "Senders deliver anyway and report failures via TLS-RPT (RFC 8461 §5).";
        None = "none", "The domain has withdrawn its policy; senders treat it as having none \
            (RFC 8461 §5, §8.3).";
    }
}

vocabulary! {
    /// Outcome of a TXT record lookup (`sts_record` / `tlsrpt_record` columns, without
    /// `dns_error`, which the DNS stage decides).
    pub enum RecordStatus {
        None = "none", "No record begins with the version tag (or there are no TXT records).";
        Valid = "valid", "Exactly one record begins with the version tag and it is usable.";
        Invalid = "invalid", "Exactly one record begins with the version tag, but it is unusable \
            (see the invalidating deviations).";
        Multiple = "multiple", "More than one record begins with the version tag; senders assume \
            there is none.";
    }
}

vocabulary! {
    /// A deviation from RFC 8460 §3 in the `_smtp._tls` TXT answer. Kept apart from
    /// [`Deviation`](crate::Deviation), whose vocabulary is the MTA-STS `sts_deviations` column.
    pub enum TlsRptDeviation {
        StrayRecords = "tlsrpt_stray_records",
            "Note (RFC 8460 §3). At least one TXT record did not begin with `v=TLSRPTv1` and was \
             discarded.";
        MultipleRecords = "tlsrpt_multiple_records",
            "Invalidating (RFC 8460 §3). More than one record begins with `v=TLSRPTv1`; the \
             status is `multiple`.";
        VersionCase = "tlsrpt_version_case",
            "Note (RFC 8460 §3). A record begins with `v=TLSRPTv1` in another letter case; like \
             `txt_version_case`, it is discarded (case-sensitive `%s` ABNF).";
        MissingRua = "tlsrpt_missing_rua",
            "Invalidating (RFC 8460 §3). No `rua=` field.";
        InvalidRua = "tlsrpt_invalid_rua",
            "Invalidating (RFC 8460 §3). `rua=` holds no usable URI (empty, or only URIs with \
             another scheme or malformed ones).";
        UnsupportedUri = "tlsrpt_unsupported_uri",
            "Note (RFC 8460 §3). Some `rua` URIs are unusable (scheme other than `mailto:` / \
             `https:`, no address or host, whitespace inside) and were dropped while others \
             remain.";
        DuplicateField = "tlsrpt_duplicate_field",
            "Note (RFC 8460 §3). A field name occurs more than once; the first occurrence wins.";
        UnknownField = "tlsrpt_unknown_field",
            "Note (RFC 8460 §3). An extension field other than `v` and `rua`; ignored.";
        Syntax = "tlsrpt_syntax",
            "Note (RFC 8460 §3). Other text outside the ABNF (as `txt_syntax`). The record stays \
             `valid` when `v` and `rua` are usable.";
    }
}

impl TlsRptDeviation {
    /// Whether this deviation alone makes the record unusable.
    #[must_use]
    pub const fn invalidates(self) -> bool {
        match self {
            TlsRptDeviation::MultipleRecords
            | TlsRptDeviation::MissingRua
            | TlsRptDeviation::InvalidRua => true,
            TlsRptDeviation::StrayRecords
            | TlsRptDeviation::VersionCase
            | TlsRptDeviation::UnsupportedUri
            | TlsRptDeviation::DuplicateField
            | TlsRptDeviation::UnknownField
            | TlsRptDeviation::Syntax => false,
        }
    }
}

vocabulary! {
    /// What one probe of one MX address says about MTA-STS delivery to it.
    pub enum MxOutcome {
        Secure = "secure", "STARTTLS completed and the certificate is valid for the exchange \
            name (RFC 8461 §4.2): an enforcing sender would deliver here.";
        Insecure = "insecure", "The host answered but an enforcing sender would refuse it: no \
            STARTTLS, STARTTLS rejected, TLS handshake failed, or the certificate is not valid \
            for the exchange name.";
        Unknown = "unknown", "Nothing could be learned about TLS (not contacted, connection or \
            greeting failed, timeouts, protocol errors): neither secure nor insecure.";
    }
}

vocabulary! {
    /// The `sts_delivery` column: the per-domain verdict (RFC 8461 §5).
    pub enum Delivery {
        NoPolicy = "no_policy", "The policy's mode is `none` (or, set by the caller, there is \
            no valid policy): MTA-STS does not constrain delivery.";
        Ok = "ok", "At least one MX host that matches a policy pattern is `secure`.";
        WouldFail = "would_fail", "Every matching MX host is `insecure`, or no MX host matches \
            a pattern: an enforcing sender would not deliver.";
        Untested = "untested", "No matching MX host is `secure`, but at least one could not be \
            tested (`unknown`), or there were no MX observations at all.";
    }
}

/// Classifies one (exchange, address) observation (RFC 8461 §4.2, §5).
///
/// `cert_status` is the certificate judged for this exchange name (`None` without a
/// completed handshake).
///
/// * [`ProbeStatus::Ok`] or [`ProbeStatus::TlsLegacy`] + [`CertStatus::Valid`] →
///   [`MxOutcome::Secure`]
/// * `ok` / `tls_legacy` with any other or missing certificate status →
///   [`MxOutcome::Insecure`]
/// * `no_starttls`, `starttls_rejected`, `tls_failed` → [`MxOutcome::Insecure`]
/// * anything else (`blocked`, `connect_*`, `closed_before_greeting`, `greeting_*`,
///   `ehlo_rejected`, `io_error`, `protocol_error`, `timeout`) → [`MxOutcome::Unknown`]
///
/// `tls_legacy` counts like `ok`: RFC 8461 §4.2 asks for TLS and a valid certificate, not
/// for a version, and an OpenSSL-based sender with its classic suites enabled completes the
/// handshake. A sender that refuses TLS below 1.2 (RFC 8996) would not; a notebook applies
/// that stricter reading with `probes.tls_max_version`.
#[must_use]
pub fn mx_outcome(status: ProbeStatus, cert_status: Option<CertStatus>) -> MxOutcome {
    match status {
        ProbeStatus::Ok | ProbeStatus::TlsLegacy if cert_status == Some(CertStatus::Valid) => {
            MxOutcome::Secure
        }
        ProbeStatus::Ok
        | ProbeStatus::TlsLegacy
        | ProbeStatus::NoStarttls
        | ProbeStatus::StarttlsRejected
        | ProbeStatus::TlsFailed => MxOutcome::Insecure,
        _ => MxOutcome::Unknown,
    }
}
