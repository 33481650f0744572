//! Closed vocabularies: the probe status (the `probes.status` column of the survey schema)
//! and the conversation phases.

use std::fmt;
use std::str::FromStr;

use serde::Serialize;

/// Outcome of one SMTP probe: exactly the `probes.status` vocabulary of the survey schema
/// (SCHEMA.md). The whole prober uses this one enum; the values the sans-io
/// [`crate::Session`] never produces itself (`blocked`, `connect_timeout`) are set by the
/// driver.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ProbeStatus {
    /// TLS was established after STARTTLS (the post-TLS EHLO is recorded if it came, but
    /// its failure does not change the status).
    Ok,
    /// The address is on the blocklist; never contacted (driver).
    Blocked,
    /// TCP connect refused, or the connection was reset/closed before the peer sent a
    /// single byte (session: `ConnectionClosed` before any data).
    ConnectRefused,
    /// TCP connect did not complete in time (driver).
    ConnectTimeout,
    /// The greeting did not complete in time (session: `Timeout` in [`Phase::Greeting`]).
    GreetingTimeout,
    /// Greeting `421` (RFC 5321 §3.8: service not available, often rate limiting).
    Greeting421,
    /// Greeting `5yz` (RFC 5321 §3.1, typically 554) or a `4yz` other than 421.
    GreetingRejected,
    /// EHLO answered `4yz`/`5yz` (mxscan does not fall back to HELO).
    EhloRejected,
    /// The EHLO reply does not advertise STARTTLS (RFC 3207 §4).
    NoStarttls,
    /// STARTTLS answered `4yz`/`5yz` (454 RFC 3207 §4, 502 …); code in `starttls_code`.
    StarttlsRejected,
    /// The driver reported a failed TLS handshake.
    TlsFailed,
    /// The peer closed or reset the connection mid-conversation.
    IoError,
    /// The peer violated the protocol: unparseable reply, reply over the cap, or an
    /// unexpected code (e.g. a 2yz greeting other than 220).
    ProtocolError,
    /// A deadline expired after the greeting phase (which phase: [`crate::Outcome::phase`]).
    Timeout,
}

impl ProbeStatus {
    /// Every value, in schema order.
    pub const ALL: [ProbeStatus; 14] = [
        ProbeStatus::Ok,
        ProbeStatus::Blocked,
        ProbeStatus::ConnectRefused,
        ProbeStatus::ConnectTimeout,
        ProbeStatus::GreetingTimeout,
        ProbeStatus::Greeting421,
        ProbeStatus::GreetingRejected,
        ProbeStatus::EhloRejected,
        ProbeStatus::NoStarttls,
        ProbeStatus::StarttlsRejected,
        ProbeStatus::TlsFailed,
        ProbeStatus::IoError,
        ProbeStatus::ProtocolError,
        ProbeStatus::Timeout,
    ];

    /// The schema value (snake_case).
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeStatus::Ok => "ok",
            ProbeStatus::Blocked => "blocked",
            ProbeStatus::ConnectRefused => "connect_refused",
            ProbeStatus::ConnectTimeout => "connect_timeout",
            ProbeStatus::GreetingTimeout => "greeting_timeout",
            ProbeStatus::Greeting421 => "greeting_421",
            ProbeStatus::GreetingRejected => "greeting_rejected",
            ProbeStatus::EhloRejected => "ehlo_rejected",
            ProbeStatus::NoStarttls => "no_starttls",
            ProbeStatus::StarttlsRejected => "starttls_rejected",
            ProbeStatus::TlsFailed => "tls_failed",
            ProbeStatus::IoError => "io_error",
            ProbeStatus::ProtocolError => "protocol_error",
            ProbeStatus::Timeout => "timeout",
        }
    }

    /// The server answered SMTP at all (a greeting byte arrived): the statuses that count
    /// for the `domains.starttls` aggregate ("over MX hosts that answered SMTP").
    pub fn answered_smtp(self) -> bool {
        !matches!(
            self,
            ProbeStatus::Blocked
                | ProbeStatus::ConnectRefused
                | ProbeStatus::ConnectTimeout
                | ProbeStatus::GreetingTimeout
        )
    }
}

/// Serialised as [`ProbeStatus::as_str`] (serde's `snake_case` would give `greeting421`).
impl Serialize for ProbeStatus {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl fmt::Display for ProbeStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A status string outside the vocabulary.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown probe status")]
pub struct UnknownStatus;

impl FromStr for ProbeStatus {
    type Err = UnknownStatus;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        ProbeStatus::ALL
            .into_iter()
            .find(|v| v.as_str() == s)
            .ok_or(UnknownStatus)
    }
}

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
