//! Closed vocabularies: the probe status (the `probes.status` column of the survey schema,
//! defined in `mxscan-model`) and the conversation phases.

use std::fmt;

use serde::Serialize;

/// The `probes.status` vocabulary, defined with every other status of the survey schema in
/// `mxscan-model`. The sans-io [`crate::Session`] produces all values but `blocked`,
/// `connect_timeout` and `tls_failed`, which the driver sets.
pub use mxscan_model::ProbeStatus;

/// The phases of a probe conversation, in order. The session reports the current phase
/// (in [`crate::Action`]s and [`crate::Session::phase`]) so the driver can timestamp each
/// one and pick a deadline per phase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Phase {
    /// Waiting for the (complete) 220 greeting (RFC 5321 §3.1).
    Greeting,
    /// EHLO sent, waiting for its reply (RFC 5321 §4.1.1.1).
    Ehlo,
    /// STARTTLS sent, waiting for its reply (RFC 3207 §4).
    Starttls,
    /// STARTTLS accepted; the driver runs the TLS handshake (RFC 3207 §4.1).
    Tls,
    /// EHLO sent over TLS, waiting for its reply (RFC 3207 §4.2).
    EhloTls,
    /// QUIT sent; the 221 is awaited but not required (RFC 5321 §4.1.1.10).
    Quit,
}

impl Phase {
    /// snake_case name.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Greeting => "greeting",
            Phase::Ehlo => "ehlo",
            Phase::Starttls => "starttls",
            Phase::Tls => "tls",
            Phase::EhloTls => "ehlo_tls",
            Phase::Quit => "quit",
        }
    }
}

/// Serialised as [`Phase::as_str`].
impl Serialize for Phase {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
