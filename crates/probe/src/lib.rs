//! mxscan's async I/O layer: everything that touches a socket, plus the offline
//! certificate judgement that belongs next to the chain capture.
//!
//! - [`blocklist`]: reserved/special-purpose CIDR sets, user blocklists and allow-lists.
//! - [`dialer`]: the one seam every TCP connection goes through (port overrides for tests,
//!   blocklist checked again at dial time).
//! - [`dns`]: a hickory-resolver wrapper whose lookups return data with a status, never `Err`.
//! - [`cert`]: trust store, offline WebPKI judgement per name, certificate facts.
//! - [`fetch`]: the RFC 8461 §3.3 policy fetch over HTTPS.
//! - [`smtp_probe`]: the SMTP/STARTTLS probe driving the sans-io `mxscan-smtp` session.
//!
//! Functions take their deadlines and caps as parameters and return outcomes as data
//! (closed vocabularies, see SCHEMA.md); `Err` ([`ProbeError`]) is for bad configuration.

pub mod blocklist;
pub mod error;

pub use error::ProbeError;
pub mod cert;
pub mod dialer;
pub mod dns;
pub mod fetch;
pub mod io_util;
pub mod smtp_probe;
pub mod tls;
