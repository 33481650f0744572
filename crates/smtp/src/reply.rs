//! Incremental SMTP reply parser (RFC 5321 §4.2).
//!
//! A reply is one or more lines `Reply-code [ SP / "-" ] text CRLF`; every line but the last
//! carries `code-`, the last carries `code SP` or the bare code (RFC 5321 §4.2.1), and all
//! lines carry the same code. [`ReplyParser`] consumes the byte stream in whatever chunks the
//! socket delivers and yields one [`Reply`] at a time, together with how many bytes of the
//! chunk it consumed — the bytes after a complete reply belong to the caller (pipelining
//! bugs, STARTTLS command injection, RFC 3207 §4 / CVE-2011-0411).
//!
//! Robustness choices (all deterministic: the parser works byte by byte in stream order, so
//! the result never depends on how the stream was split into reads):
//! - a bare LF ends a line like CRLF does, and is recorded in [`Reply::bare_lf`];
//! - a line, terminator included, may be at most [`MAX_LINE_BYTES`] (4096) bytes. RFC 5321
//!   §4.5.3.1.5 says 512, but real servers send longer EHLO and banner lines, and §4.5.3.1
//!   asks clients to be liberal; 4096 is still far below anything that costs memory;
//! - a whole reply may be at most [`MAX_REPLY_BYTES`] (64 KiB); the parser never holds more
//!   than that (plus one partial line), whatever the peer sends;
//! - text is decoded lossily as UTF-8 (RFC 5321 text is ASCII; anything else is kept visible
//!   as U+FFFD rather than rejected).

use serde::Serialize;
use std::fmt;

use crate::error::ReplyError;

/// Cap on a whole reply, all lines and terminators included (64 KiB). A reply that grows
/// past it is [`ReplyError::ReplyTooLarge`]. Real EHLO replies are well under 1 KiB.
pub const MAX_REPLY_BYTES: usize = 64 * 1024;

/// Cap on a single reply line, terminator included (4096 bytes; RFC 5321 §4.5.3.1.5 sets
/// 512, which real servers exceed). A longer line is [`ReplyError::LineTooLong`].
pub const MAX_LINE_BYTES: usize = 4096;

/// An RFC 3463 enhanced status code (`class.subject.detail`, RFC 2034 §4) found at the start
/// of a reply's first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub struct EnhancedStatus {
    /// 2, 4 or 5 (RFC 3463 §3.1); always equal to the first digit of the reply code.
    pub class: u8,
    /// 0–999 (RFC 3463 §2: 1*3digit).
    pub subject: u16,
    /// 0–999 (RFC 3463 §2: 1*3digit).
    pub detail: u16,
}

impl EnhancedStatus {
    /// Parses an enhanced status code at the start of `text` (RFC 3463 §2, RFC 2034 §4):
    /// `class "." 1*3digit "." 1*3digit` followed by SP or the end of the text. Returns
    /// `None` for anything else, including a class other than 2, 4, 5.
    pub fn parse_prefix(text: &str) -> Option<EnhancedStatus> {
        let token = text.split(' ').next().unwrap_or("");
        let mut parts = token.split('.');
        let (class, subject, detail) = (parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() {
            return None;
        }
        let class = match class {
            "2" => 2,
            "4" => 4,
            "5" => 5,
            _ => return None,
        };
        Some(EnhancedStatus {
            class,
            subject: digits_1_to_3(subject)?,
            detail: digits_1_to_3(detail)?,
        })
    }
}

fn digits_1_to_3(s: &str) -> Option<u16> {
    if (1..=3).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit()) {
        s.parse().ok()
    } else {
        None
    }
}

impl fmt::Display for EnhancedStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}.{}", self.class, self.subject, self.detail)
    }
}

/// One complete SMTP reply (RFC 5321 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Reply {
    /// The three-digit code, 200–599.
    pub code: u16,
    /// Enhanced status code from the start of the first line, if present and its class
    /// agrees with the code's first digit (RFC 2034 §4); otherwise `None`.
    pub enhanced: Option<EnhancedStatus>,
    /// The text of each line after `code-` / `code SP` (empty for a bare code), without the
    /// line terminator, lossily decoded. Never empty: a reply has at least one line.
    pub lines: Vec<String>,
    /// At least one line ended in a bare LF instead of CRLF (tolerated, recorded).
    pub bare_lf: bool,
}

impl Reply {
    /// Builds a reply from a code and its lines (enhanced status derived from the first line).
    /// `lines` must not be empty and no line may contain CR or LF for [`Reply::to_bytes`] to
    /// round-trip.
    pub fn new(code: u16, lines: Vec<String>) -> Reply {
        let enhanced = lines
            .first()
            .and_then(|l| EnhancedStatus::parse_prefix(l))
            .filter(|e| u16::from(e.class) == code / 100);
        Reply {
            code,
            enhanced,
            lines,
            bare_lf: false,
        }
    }

    /// First digit of the code (RFC 5321 §4.2.1): 2 positive completion, 3 intermediate,
    /// 4 transient negative, 5 permanent negative.
    pub fn class(&self) -> u16 {
        self.code / 100
    }

    /// 2yz (RFC 5321 §4.2.1).
    pub fn is_positive(&self) -> bool {
        self.class() == 2
    }

    /// 4yz or 5yz (RFC 5321 §4.2.1).
    pub fn is_negative(&self) -> bool {
        matches!(self.class(), 4 | 5)
    }

    /// All lines joined by `"\n"` (the `banner` column's format).
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// The reply in wire form: `code-text CRLF` for every line but the last, `code SP text
    /// CRLF` for the last (RFC 5321 §4.2.1). Used by tests and scripted servers.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut out = Vec::new();
        let n = self.lines.len();
        for (i, line) in self.lines.iter().enumerate() {
            let sep = if i + 1 == n { ' ' } else { '-' };
            out.extend_from_slice(format!("{:03}{sep}{line}\r\n", self.code).as_bytes());
        }
        out
    }
}

/// Result of feeding bytes to a [`ReplyParser`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Parse {
    /// All bytes were consumed (and are held, within the caps); the reply is not complete.
    NeedMoreData,
    /// A reply is complete. `consumed` bytes of the chunk belong to it (or to earlier
    /// chunks' partial lines); `chunk[consumed..]` follows the reply and is the caller's.
    Complete {
        /// The reply.
        reply: Reply,
        /// Bytes of this chunk consumed.
        consumed: usize,
    },
    /// The stream is not a valid reply. The parser stays failed: further feeds return the
    /// same error.
    Error(ReplyError),
}

/// Streaming RFC 5321 §4.2 reply parser: feed chunks, get replies.
///
/// Memory held is at most one partial line ([`MAX_LINE_BYTES`]) plus the text of the
/// reply's completed lines (≤ [`MAX_REPLY_BYTES`]); see [`ReplyParser::buffered_len`].
/// After a [`Parse::Complete`] the parser is ready for the next reply.
#[derive(Debug, Clone)]
pub struct ReplyParser {
    max_line: usize,
    max_reply: usize,
    /// Bytes of the current line so far (terminator excluded).
    line: Vec<u8>,
    /// Raw text of the current reply's completed lines (decoded when the reply completes,
    /// so that what is held is bounded by the wire bytes).
    lines: Vec<Vec<u8>>,
    /// Text bytes held in `lines`.
    text_len: usize,
    /// Wire bytes of the current reply's completed lines.
    total: usize,
    /// Code of the current reply's first line.
    code: Option<u16>,
    bare_lf: bool,
    failed: Option<ReplyError>,
}

impl Default for ReplyParser {
    fn default() -> Self {
        ReplyParser::new()
    }
}

impl ReplyParser {
    /// A parser with the default caps ([`MAX_LINE_BYTES`], [`MAX_REPLY_BYTES`]).
    pub fn new() -> ReplyParser {
        ReplyParser::with_limits(MAX_LINE_BYTES, MAX_REPLY_BYTES)
    }

    /// A parser with other caps (tests; a line cap below 5 makes every text line too long).
    pub fn with_limits(max_line: usize, max_reply: usize) -> ReplyParser {
        ReplyParser {
            max_line,
            max_reply,
            line: Vec::new(),
            lines: Vec::new(),
            text_len: 0,
            total: 0,
            code: None,
            bare_lf: false,
            failed: None,
        }
    }

    /// Bytes currently held (partial line + completed lines' text); never above the caps.
    pub fn buffered_len(&self) -> usize {
        self.line.len() + self.text_len
    }

    /// True when no byte of a next reply has been seen yet.
    pub fn is_idle(&self) -> bool {
        self.failed.is_none() && self.line.is_empty() && self.lines.is_empty()
    }

    /// The error the parser stopped on, if any.
    pub fn error(&self) -> Option<&ReplyError> {
        self.failed.as_ref()
    }

    /// Consumes bytes from `data` up to the end of the next complete reply.
    pub fn feed(&mut self, data: &[u8]) -> Parse {
        if let Some(e) = &self.failed {
            return Parse::Error(e.clone());
        }
        for (i, &b) in data.iter().enumerate() {
            match self.byte(b) {
                Ok(None) => {}
                Ok(Some(reply)) => {
                    return Parse::Complete {
                        reply,
                        consumed: i + 1,
                    };
                }
                Err(e) => {
                    self.fail(e.clone());
                    return Parse::Error(e);
                }
            }
        }
        Parse::NeedMoreData
    }

    fn fail(&mut self, e: ReplyError) {
        self.failed = Some(e);
        self.line = Vec::new();
        self.lines = Vec::new();
        self.text_len = 0;
    }

    /// Checks that a line whose bytes so far number `len` (terminator included once it
    /// arrives; while it has not, the terminator still to come counts as one byte) fits both
    /// caps. The cap with less room left is the one crossed first.
    fn check_caps(&self, len: usize) -> Result<(), ReplyError> {
        let reply_room = self.max_reply.saturating_sub(self.total);
        if len > self.max_line.min(reply_room) {
            if self.max_line < reply_room {
                return Err(ReplyError::LineTooLong {
                    limit: self.max_line,
                });
            }
            return Err(ReplyError::ReplyTooLarge {
                limit: self.max_reply,
            });
        }
        Ok(())
    }

    fn byte(&mut self, b: u8) -> Result<Option<Reply>, ReplyError> {
        if b == b'\n' {
            return self.end_line();
        }
        let idx = self.line.len();
        match idx {
            0..=2 => {
                if !b.is_ascii_digit() {
                    self.line.push(b);
                    return Err(self.non_digit());
                }
                self.line.push(b);
                if idx == 2 {
                    self.check_code()?;
                }
            }
            3 => {
                if !matches!(b, b'-' | b' ' | b'\r') {
                    return Err(ReplyError::MissingSeparator {
                        code: self.line_code(),
                        byte: b,
                    });
                }
                self.line.push(b);
            }
            _ => {
                if idx == 4 && self.line[3] == b'\r' {
                    // "250\rX": a CR where the separator belongs, not ending the line.
                    return Err(ReplyError::MissingSeparator {
                        code: self.line_code(),
                        byte: b'\r',
                    });
                }
                self.line.push(b);
            }
        }
        // The line now holds `idx + 1` bytes and a terminator is still to come.
        self.check_caps(idx + 2)?;
        Ok(None)
    }

    fn non_digit(&self) -> ReplyError {
        let n = self.line.len().min(16);
        ReplyError::NonDigitCode {
            line: String::from_utf8_lossy(&self.line[..n]).into_owned(),
        }
    }

    fn line_code(&self) -> u16 {
        self.line[..3]
            .iter()
            .fold(0u16, |acc, d| acc * 10 + u16::from(d - b'0'))
    }

    fn check_code(&self) -> Result<(), ReplyError> {
        let code = self.line_code();
        if !(200..=599).contains(&code) {
            return Err(ReplyError::CodeOutOfRange { code });
        }
        if let Some(first) = self.code
            && first != code
        {
            return Err(ReplyError::CodeMismatch { first, found: code });
        }
        Ok(())
    }

    fn end_line(&mut self) -> Result<Option<Reply>, ReplyError> {
        let len = self.line.len() + 1;
        self.check_caps(len)?;
        if self.line.last() == Some(&b'\r') {
            self.line.pop();
        } else {
            self.bare_lf = true;
        }
        if self.line.len() < 3 {
            return Err(self.non_digit());
        }
        // The three digits and the separator were validated byte by byte as they arrived.
        let code = self.line_code();
        let last = self.line.len() == 3 || self.line[3] == b' ';
        let mut raw = std::mem::take(&mut self.line);
        let text = if raw.len() > 4 {
            raw.split_off(4)
        } else {
            Vec::new()
        };
        self.total += len;
        self.text_len += text.len();
        self.code.get_or_insert(code);
        self.lines.push(text);
        if !last {
            return Ok(None);
        }
        let lines = std::mem::take(&mut self.lines)
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        let mut reply = Reply::new(code, lines);
        reply.bare_lf = self.bare_lf;
        self.code = None;
        self.total = 0;
        self.text_len = 0;
        self.bare_lf = false;
        Ok(Some(reply))
    }
}

/// Parses one reply from the start of `buf` with the default caps: a fresh
/// [`ReplyParser`] fed the whole buffer.
pub fn parse_reply(buf: &[u8]) -> Parse {
    ReplyParser::new().feed(buf)
}
