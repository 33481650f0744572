//! mxscan's async I/O layer: everything that touches a socket. The pure parts it relies
//! on live in crates without a runtime (hickory's proto/resolver split): the answer types,
//! the blocklist and the vocabularies in `mxscan-model`, certificate judgement in
//! `mxscan-pki`, the SMTP session in `mxscan-smtp`.
//!
//! - [`dialer`]: the one seam every TCP connection goes through (port overrides for tests,
//!   blocklist checked again at dial time).
//! - [`dns`]: a hickory-resolver wrapper whose lookups return data with a status, never `Err`.
//! - [`fetch`]: the RFC 8461 §3.3 policy fetch over HTTPS.
//! - [`smtp_probe`]: the SMTP/STARTTLS probe driving the sans-io `mxscan-smtp` session.
//! - [`tls`]: the capturing TLS client configuration.
//!
//! Functions take their deadlines and caps as parameters and return outcomes as data
//! (closed vocabularies, docs/schema.md); `Err` ([`ProbeError`]) is for bad configuration.

pub mod error;

pub use error::ProbeError;
pub mod aia;
pub mod dialer;
pub mod dns;
pub mod fetch;
pub mod io_util;
pub mod smtp_probe;
pub mod tls;

/// The blocklist (pure; `mxscan-model`), re-exported for the dialer's users.
pub use mxscan_model::blocklist;
/// Certificate judgement (pure; `mxscan-pki`), re-exported for the fetch's users.
pub use mxscan_pki as cert;
