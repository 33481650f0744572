//! The crate's error types.
//!
//! Grouped by who is to blame (the rustls convention): [`ReplyError`] means the *peer* sent
//! bytes that are not a valid RFC 5321 §4.2 reply — a measurement outcome that the session
//! turns into the `protocol_error` status, never a bug. [`InvalidEhloName`] is the only
//! *local* error: a misconfigured EHLO name, rejected before any session starts.

use serde::Serialize;
use thiserror::Error;

/// Why a byte stream is not a valid SMTP reply (RFC 5321 §4.2).
///
/// Every variant is the peer's fault. The parser reports the first violation in stream
/// order, so the same bytes give the same error however they are split into reads.
#[derive(Debug, Clone, PartialEq, Eq, Error, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ReplyError {
    /// A line does not begin with three ASCII digits (RFC 5321 §4.2: `Reply-code`).
    /// `line` is a lossy sample of the first bytes of the offending line.
    #[error("reply line does not start with a three-digit code: {line:?}")]
    NonDigitCode {
        /// Up to 16 bytes of the offending line, lossily decoded.
        line: String,
    },
    /// The three digits are outside 200–599 (RFC 5321 §4.2.1 defines 2yz–5yz only).
    #[error("reply code {code} is outside 200-599")]
    CodeOutOfRange {
        /// The code as read.
        code: u16,
    },
    /// The code is followed by something other than `-`, SP or the end of the line.
    #[error("reply code {code} is followed by byte 0x{byte:02x}, not '-', ' ' or end of line")]
    MissingSeparator {
        /// The code as read.
        code: u16,
        /// The byte found where the separator belongs.
        byte: u8,
    },
    /// A line of a multi-line reply carries a different code than the first line
    /// (RFC 5321 §4.2.1: "the same code on each line").
    #[error("multi-line reply changes code from {first} to {found}")]
    CodeMismatch {
        /// Code of the reply's first line.
        first: u16,
        /// Code of the offending line.
        found: u16,
    },
    /// A single line (terminator included) exceeds the line cap
    /// ([`crate::MAX_LINE_BYTES`] by default; RFC 5321 §4.5.3.1.5 says 512).
    #[error("reply line longer than {limit} bytes")]
    LineTooLong {
        /// The cap that was exceeded.
        limit: usize,
    },
    /// A whole reply exceeds the reply cap ([`crate::MAX_REPLY_BYTES`] by default).
    #[error("reply larger than {limit} bytes")]
    ReplyTooLarge {
        /// The cap that was exceeded.
        limit: usize,
    },
}

impl ReplyError {
    /// A closed, snake_case name of the error kind, for a detail column or a log field.
    pub fn as_str(&self) -> &'static str {
        match self {
            ReplyError::NonDigitCode { .. } => "non_digit_code",
            ReplyError::CodeOutOfRange { .. } => "code_out_of_range",
            ReplyError::MissingSeparator { .. } => "missing_separator",
            ReplyError::CodeMismatch { .. } => "code_mismatch",
            ReplyError::LineTooLong { .. } => "line_too_long",
            ReplyError::ReplyTooLarge { .. } => "reply_too_large",
        }
    }
}

/// The configured EHLO name is not a valid RFC 5321 §4.1.1.1 argument
/// (`Domain` or `address-literal`). A local configuration error.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("invalid EHLO name {name:?}: {reason}")]
pub struct InvalidEhloName {
    /// The rejected name (as given).
    pub name: String,
    /// What is wrong with it.
    pub reason: &'static str,
}
