//! The rows of a survey, one struct per table, with every column of the schema
//! (docs/schema.md) plus the columns mxscan adds (marked "added" below; the schema allows
//! additions, never renames). Status columns are the vocabulary enums of this crate; the
//! store writes each as a dictionary of its strings.

use crate::timestamp::{TimestampMs, TimestampS};
use crate::{
    CertStatus, Coverage, Delivery, DnsStatus, FetchError, Mode, PolicyStatus, ProbeStatus,
    TxtStatus,
};

/// One row of `domains`: the verdicts for one input domain. Serializes to an object keyed
/// by the column names (`mxscan check --json`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DomainRow {
    /// Survey id.
    pub survey_id: String,
    /// Rank from the input list, if it had one.
    pub rank: Option<u64>,
    /// Normalised domain: lowercase ASCII (IDNA A-label), no trailing dot.
    pub domain: String,
    /// [`DnsStatus`].
    pub dns_status: DnsStatus,
    /// RFC 7505 null MX.
    pub null_mx: bool,
    /// No MX; the domain's own address used (RFC 5321 §5.1).
    pub implicit_mx: bool,
    /// Exchanges in preference order.
    pub mx_hosts: Vec<String>,
    /// Added: exchanges that did not resolve to any address.
    pub mx_unresolved: Vec<String>,
    /// [`Coverage`] over MX hosts that answered SMTP.
    pub starttls: Coverage,
    /// [`Coverage`] over MX hosts that completed TLS.
    pub cert_valid: Coverage,
    /// [`TxtStatus`] of `_mta-sts`.
    pub sts_record: TxtStatus,
    /// The `id=` of the `_mta-sts` record (RFC 8461 §3.1).
    pub sts_id: Option<String>,
    /// [`PolicyStatus`].
    pub sts_policy: PolicyStatus,
    /// [`FetchError`].
    pub sts_fetch_error: Option<FetchError>,
    /// HTTP status of the policy fetch.
    pub sts_http_status: Option<i32>,
    /// Content-Type as sent.
    pub sts_content_type: Option<String>,
    /// [`Mode`].
    pub sts_mode: Option<Mode>,
    /// Policy `max_age`.
    pub sts_max_age: Option<i64>,
    /// Policy `mx` patterns.
    pub sts_mx: Vec<String>,
    /// RFC 8461 deviations found in record and policy (vocabulary of mxscan-policy).
    pub sts_deviations: Vec<String>,
    /// MX hosts no policy pattern covers.
    pub sts_mx_unmatched: Vec<String>,
    /// [`Delivery`].
    pub sts_delivery: Delivery,
    /// [`TxtStatus`] of `_smtp._tls`.
    pub tlsrpt_record: TxtStatus,
    /// `rua=` URIs.
    pub tlsrpt_rua: Vec<String>,
    /// Added: RFC 8460 deviations found in the TLS-RPT record (vocabulary of mxscan-policy).
    pub tlsrpt_deviations: Vec<String>,
    /// Wall time spent on the domain.
    pub elapsed_ms: u32,
}

/// One row of `mx`: one (domain, exchange, address) with the verdicts for that name.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct MxRow {
    /// Survey id.
    pub survey_id: String,
    /// The recipient domain (as in `domains.domain`).
    pub domain: String,
    /// MX hostname (or the domain itself for an implicit MX).
    pub exchange: String,
    /// MX preference.
    pub preference: u16,
    /// IP address the exchange resolved to.
    pub address: String,
    /// Address on the blocklist (never contacted).
    pub blocked: bool,
    /// The probe's status for this address ([`ProbeStatus`]).
    pub smtp_status: ProbeStatus,
    /// STARTTLS offered.
    pub starttls: Option<bool>,
    /// [`CertStatus`], judged for this exchange name.
    pub cert_status: Option<CertStatus>,
    /// Exchange covered by the domain's policy patterns (RFC 8461 §4.1).
    pub sts_match: Option<bool>,
    /// Added: the certificate is also valid for the recipient domain itself.
    pub cert_matches_domain: Option<bool>,
}

/// One row of `probes`: one SMTP conversation with one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProbeRow {
    /// Survey id.
    pub survey_id: String,
    /// Address dialled.
    pub address: String,
    /// Port dialled.
    pub port: u16,
    /// Name sent in the TLS ClientHello.
    pub sni: Option<String>,
    /// [`ProbeStatus`].
    pub status: ProbeStatus,
    /// Greeting text.
    pub banner: Option<String>,
    /// EHLO keywords before STARTTLS.
    pub ehlo_keywords: Vec<String>,
    /// Added: EHLO keywords after the TLS handshake.
    pub ehlo_keywords_tls: Vec<String>,
    /// STARTTLS advertised.
    pub starttls_offered: Option<bool>,
    /// Reply code to STARTTLS.
    pub starttls_code: Option<u16>,
    /// Bytes received after the STARTTLS 220, before the handshake (RFC 3207 §4).
    pub bytes_after_starttls: Option<u32>,
    /// Added: up to 256 of those bytes.
    pub starttls_sample: Option<Vec<u8>>,
    /// `TLSv1.2`, `TLSv1.3`.
    pub tls_version: Option<String>,
    /// Negotiated cipher suite.
    pub cipher_suite: Option<String>,
    /// Negotiated key-exchange group.
    pub kx_group: Option<String>,
    /// Hex SHA-256 of each presented certificate, leaf first.
    pub chain_sha256: Vec<String>,
    /// TLS error text.
    pub tls_error: Option<String>,
    /// The version the server selected (modern handshake or legacy ServerHello):
    /// [`crate::TlsVersion`] spelled `SSLv3` … `TLSv1.3`.
    pub tls_max_version: Option<String>,
    /// [`TlsFailure`](crate::TlsFailure) when `status` is `tls_failed`.
    pub tls_failure: Option<crate::TlsFailure>,
    /// Added: why the modern handshake failed when `status` is `tls_legacy`.
    pub modern_tls_failure: Option<crate::TlsFailure>,
    /// The chain was completed with an intermediate the server did not send (AIA or the
    /// known-intermediates file); null when no chain was judged.
    pub chain_completed: Option<bool>,
    /// Added: duration of the legacy hello probe (the one extra connection made after a
    /// failed modern handshake); null when none was made.
    pub legacy_ms: Option<u32>,
    /// When the probe started.
    pub started_at: TimestampMs,
    /// TCP connect time.
    pub connect_ms: Option<u32>,
    /// Added: time from connect to the complete greeting.
    pub greeting_ms: Option<u32>,
    /// Added: time for the first EHLO round trip.
    pub ehlo_ms: Option<u32>,
    /// TLS handshake time.
    pub tls_ms: Option<u32>,
    /// Whole probe.
    pub total_ms: Option<u32>,
}

/// One row of `certs`: one distinct certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertRow {
    /// Added: survey id (lets certificate tables of several surveys be stacked).
    pub survey_id: String,
    /// Hex SHA-256 of the DER (lowercase, 64 digits).
    pub sha256: String,
    /// The certificate.
    pub der: Vec<u8>,
    /// Subject, RFC 4514 form.
    pub subject: String,
    /// Issuer, RFC 4514 form.
    pub issuer: String,
    /// dNSName SANs.
    pub san_dns: Vec<String>,
    /// Validity start.
    pub not_before: TimestampS,
    /// Validity end.
    pub not_after: TimestampS,
    /// Subject equals issuer and the signature verifies with the own key.
    pub self_signed: bool,
    /// `rsa`, `ecdsa-p256`, `ed25519`, …
    pub key_type: String,
    /// Key size in bits.
    pub key_bits: u32,
    /// Signature algorithm name.
    pub signature_algorithm: String,
}
