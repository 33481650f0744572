//! The commands mxscan sends — EHLO, STARTTLS, QUIT and nothing else — and the validated
//! EHLO name.
//!
//! The command set is a closed enum so that "mxscan never sends mail" holds by
//! construction: there is no way to express MAIL, RCPT, DATA, VRFY, HELO or anything else.

use std::fmt;

use serde::Serialize;

use crate::error::InvalidEhloName;

/// The client's EHLO argument (RFC 5321 §4.1.1.1: `Domain / address-literal`), validated so
/// that it can never inject a CR, LF or a second command into the line.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct EhloName(String);

impl EhloName {
    /// Validates `name`: either a domain (RFC 5321 §4.1.2 `Domain`: dot-separated labels of
    /// letters, digits and inner hyphens, each 1–63 bytes, 255 bytes in all, no trailing
    /// dot) or an address literal `[…]` (RFC 5321 §4.1.3) of printable ASCII without
    /// brackets, backslash or space inside.
    pub fn new(name: &str) -> Result<EhloName, InvalidEhloName> {
        let bad = |reason| {
            Err(InvalidEhloName {
                name: name.to_owned(),
                reason,
            })
        };
        if name.is_empty() {
            return bad("empty");
        }
        if name.len() > 255 {
            return bad("longer than 255 bytes");
        }
        if let Some(inner) = name.strip_prefix('[') {
            let Some(inner) = inner.strip_suffix(']') else {
                return bad("address literal without closing ']'");
            };
            if inner.is_empty()
                || !inner
                    .bytes()
                    .all(|b| b.is_ascii_graphic() && !matches!(b, b'[' | b']' | b'\\'))
            {
                return bad("address literal with invalid characters");
            }
            return Ok(EhloName(name.to_owned()));
        }
        for label in name.split('.') {
            if label.is_empty() {
                return bad("empty label");
            }
            if label.len() > 63 {
                return bad("label longer than 63 bytes");
            }
            if !label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            {
                return bad("label with characters other than letters, digits, '-'");
            }
            if label.starts_with('-') || label.ends_with('-') {
                return bad("label starting or ending with '-'");
            }
        }
        Ok(EhloName(name.to_owned()))
    }

    /// The name as configured.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EhloName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A command the session sends. Exhaustive: mxscan sends nothing else.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Command {
    /// `EHLO <name>` (RFC 5321 §4.1.1.1); sent before and after TLS (RFC 3207 §4.2).
    Ehlo(EhloName),
    /// `STARTTLS` (RFC 3207 §4).
    Starttls,
    /// `QUIT` (RFC 5321 §4.1.1.10).
    Quit,
}

impl Command {
    /// The command verb.
    pub fn verb(&self) -> &'static str {
        match self {
            Command::Ehlo(_) => "EHLO",
            Command::Starttls => "STARTTLS",
            Command::Quit => "QUIT",
        }
    }

    /// The command line in wire form, CRLF-terminated (RFC 5321 §2.3.8).
    pub fn to_bytes(&self) -> Vec<u8> {
        match self {
            Command::Ehlo(name) => format!("EHLO {name}\r\n").into_bytes(),
            other => format!("{}\r\n", other.verb()).into_bytes(),
        }
    }
}
