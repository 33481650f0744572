//! mxscan's data model: the survey schema's vocabularies and the data that flows between
//! the stages, with no I/O and no async runtime.
//!
//! | module | what |
//! |---|---|
//! | [`vocabulary`] | the `vocabulary!` macro and the [`Vocab`] trait: closed, string-valued enums |
//! | [`status`] | `probes.status`, `mx.cert_status`, `sts_fetch_error`, `dns_status`, the per-domain aggregates |
//! | [`sts`] | MTA-STS / TLS-RPT vocabularies: mode, record status, TLS-RPT deviations, the delivery verdict (RFC 8461 §5) |
//! | [`deviation`] | the RFC 8461 deviation vocabulary (`sts_deviations`) |
//! | [`schema`] | which status column holds which vocabulary ([`STATUS_COLUMNS`]) |
//! | [`dns`] | DNS answers as data (negative answers are values, RFC 2308) |
//! | [`dane`] | DANE for SMTP (RFC 7672): DNSSEC status, TLSA records and their usability, the DANE verdict vocabularies |
//! | [`chain`] | [`ChainFacts`]: a judged certificate chain, re-judged per name by RFC 6125 §6.4 |
//! | [`observation`] | what the engine observed for one domain, the input of evaluation |
//! | [`policy_response`] | the policy host's HTTP response, read sans-io (RFC 8461 §3.3) |
//! | [`rows`] | the rows of the four tables |
//! | [`timestamp`] | exact integer instants as stored |
//! | [`blocklist`] | reserved and operator-blocked address ranges |
//!
//! Every status column of the schema (docs/schema.md) is an enum here; no other crate
//! spells a status word. The store writes them as dictionaries of their strings.

#![forbid(unsafe_code)]

pub mod blocklist;
pub mod chain;
pub mod dane;
pub mod deviation;
pub mod dns;
mod error;
pub mod observation;
pub mod policy_response;
pub mod rows;
pub mod schema;
pub mod status;
pub mod sts;
pub mod timestamp;
pub mod vocabulary;

pub use chain::ChainFacts;
pub use dane::{DaneDelivery, DaneMatch, DaneStatus, Dnssec, Tlsa, TransportVerdict};
pub use deviation::Deviation;
pub use error::Error;
pub use rows::{CertRow, DomainRow, MxRow, ProbeRow};
pub use schema::{STATUS_COLUMNS, StatusColumn, status_column};
pub use status::{
    CertStatus, Change, Coverage, DnsStatus, FetchError, HostStarttls, PolicyStatus, ProbeStatus,
    TlsFailure, TlsVersion, TxtStatus,
};
pub use sts::{Delivery, Mode, MxOutcome, RecordStatus, TlsRptDeviation, mx_outcome};
pub use timestamp::{TimestampMs, TimestampS};
pub use vocabulary::Vocab;
