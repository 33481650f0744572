//! Plain Rust rows, one struct per table, with every column of SCHEMA.md plus the columns
//! this crate adds (marked "added" below; SCHEMA.md allows additions, never renames).
//!
//! Status columns are `&'static str` taken from the table's vocabulary (for example
//! `domains::DNS_STATUS`); the engine produces them with its enums' `as_str()`. A value
//! outside the vocabulary is rejected by [`TableRow::validate`], which the writer calls on
//! every row: that is a bug, not data.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::error::Result;
use crate::timestamp::{TimestampMs, TimestampS};

/// The four tables of a survey, in commit order (see `writer`): certs, probes, mx, domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One row per distinct certificate.
    Certs,
    /// One row per SMTP probe (one per MX address).
    Probes,
    /// One row per (domain, MX exchange, address).
    Mx,
    /// One row per input domain.
    Domains,
}

impl Table {
    /// All tables in commit order.
    pub const ALL: [Table; 4] = [Table::Certs, Table::Probes, Table::Mx, Table::Domains];

    /// The table's name: its directory in the survey and its name in SCHEMA.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Certs => "certs",
            Table::Probes => "probes",
            Table::Mx => "mx",
            Table::Domains => "domains",
        }
    }

    /// Parses a table name.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The table's Arrow schema.
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Certs => crate::certs::schema(),
            Table::Probes => crate::probes::schema(),
            Table::Mx => crate::mx::schema(),
            Table::Domains => crate::domains::schema(),
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Value counts per status column: `"table.column"` → value → rows (nulls not counted).
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// What every row type offers the writer and reader.
pub trait TableRow: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The table the row belongs to.
    const TABLE: Table;
    /// Checks every contract the writer enforces (vocabularies, formats).
    fn validate(&self) -> Result<()>;
    /// Builds one record batch (validating every row).
    fn to_batch(rows: &[Self]) -> Result<RecordBatch>;
    /// Decodes a batch (by column name; extra columns ignored, added columns optional).
    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>>;
    /// Adds this row's status values to `counts`.
    fn count(&self, counts: &mut Counts);
}

pub(crate) fn bump(counts: &mut Counts, voc: &crate::vocab::Vocabulary, value: Option<&str>) {
    if let Some(v) = value {
        *counts
            .entry(voc.key())
            .or_default()
            .entry(v.to_owned())
            .or_default() += 1;
    }
}

/// One row of `domains`: the verdicts for one input domain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DomainRow {
    /// Survey id.
    pub survey_id: String,
    /// Rank from the input list, if it had one.
    pub rank: Option<u64>,
    /// Normalised domain: lowercase ASCII (IDNA A-label), no trailing dot.
    pub domain: String,
    /// `domains::DNS_STATUS`.
    pub dns_status: &'static str,
    /// RFC 7505 null MX.
    pub null_mx: bool,
    /// No MX; the domain's own address used (RFC 5321 §5.1).
    pub implicit_mx: bool,
    /// Exchanges in preference order.
    pub mx_hosts: Vec<String>,
    /// Added: exchanges that did not resolve to any address.
    pub mx_unresolved: Vec<String>,
    /// `domains::STARTTLS`.
    pub starttls: &'static str,
    /// `domains::CERT_VALID`.
    pub cert_valid: &'static str,
    /// `domains::STS_RECORD`.
    pub sts_record: &'static str,
    /// The `id=` of the `_mta-sts` record (RFC 8461 §3.1).
    pub sts_id: Option<String>,
    /// `domains::STS_POLICY`.
    pub sts_policy: &'static str,
    /// `domains::STS_FETCH_ERROR`.
    pub sts_fetch_error: Option<&'static str>,
    /// HTTP status of the policy fetch.
    pub sts_http_status: Option<i32>,
    /// Content-Type as sent.
    pub sts_content_type: Option<String>,
    /// `domains::STS_MODE`.
    pub sts_mode: Option<&'static str>,
    /// Policy `max_age`.
    pub sts_max_age: Option<i64>,
    /// Policy `mx` patterns.
    pub sts_mx: Vec<String>,
    /// RFC 8461 deviations found in record and policy (vocabulary of mxscan-policy).
    pub sts_deviations: Vec<String>,
    /// MX hosts no policy pattern covers.
    pub sts_mx_unmatched: Vec<String>,
    /// `domains::STS_DELIVERY`.
    pub sts_delivery: &'static str,
    /// `domains::TLSRPT_RECORD`.
    pub tlsrpt_record: &'static str,
    /// `rua=` URIs.
    pub tlsrpt_rua: Vec<String>,
    /// Added: RFC 8460 deviations found in the TLS-RPT record (vocabulary of mxscan-policy).
    pub tlsrpt_deviations: Vec<String>,
    /// Wall time spent on the domain.
    pub elapsed_ms: u32,
}

/// One row of `mx`: one (domain, exchange, address) with the verdicts for that name.
#[derive(Debug, Clone, PartialEq, Eq)]
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
    /// The probe's status for this address (`probes::STATUS`).
    pub smtp_status: &'static str,
    /// STARTTLS offered.
    pub starttls: Option<bool>,
    /// `mx::CERT_STATUS`, judged for this exchange name.
    pub cert_status: Option<&'static str>,
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
    /// `probes::STATUS`.
    pub status: &'static str,
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

pub(crate) fn check_hex_sha256(table: &'static str, column: &'static str, v: &str) -> Result<()> {
    if v.len() == 64
        && v.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(crate::error::StoreError::InvalidRow {
            table,
            column,
            reason: format!("{v:?} is not 64 lowercase hex digits"),
        })
    }
}

pub(crate) fn check_domain(table: &'static str, column: &'static str, v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && !v.ends_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase());
    if ok {
        Ok(())
    } else {
        Err(crate::error::StoreError::InvalidRow {
            table,
            column,
            reason: format!("{v:?} is not a normalised name (lowercase ASCII, no trailing dot)"),
        })
    }
}
