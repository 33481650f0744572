//! mxscan-smtp: the pure SMTP client core of mxscan — no sockets, no async, no I/O.
//!
//! - [`ReplyParser`] / [`parse_reply`]: incremental RFC 5321 §4.2 reply parser with byte caps
//!   ([`MAX_REPLY_BYTES`], [`MAX_LINE_BYTES`]) that reports the bytes following a reply.
//! - [`Ehlo`]: RFC 5321 §4.1.1.1 EHLO capability parser (STARTTLS is a keyword line,
//!   never a substring).
//! - [`Session`]: the sans-io client conversation greeting → EHLO → STARTTLS → (TLS by the
//!   driver) → EHLO → QUIT (RFC 5321, RFC 3207), producing an [`Outcome`] whose
//!   [`ProbeStatus`] is the `probes.status` column.
//!
//! The only commands that can ever be sent are EHLO, STARTTLS and QUIT ([`Command`] is a
//! closed enum): mxscan never sends mail.

#![forbid(unsafe_code)]

mod command;
mod ehlo;
mod error;
mod reply;
mod session;
mod status;

pub use command::{Command, EhloName};
pub use ehlo::{Capability, Ehlo, is_ehlo_keyword};
pub use error::{InvalidEhloName, ReplyError};
pub use reply::{
    EnhancedStatus, MAX_LINE_BYTES, MAX_REPLY_BYTES, Parse, Reply, ReplyParser, parse_reply,
};
pub use session::{AFTER_STARTTLS_SAMPLE_BYTES, Action, Event, Outcome, ReplyRecord, Session};
pub use status::{Phase, ProbeStatus};
