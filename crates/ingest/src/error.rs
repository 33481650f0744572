//! Errors and rejections: the crate's one error enum ([`IngestError`]), the per-line
//! rejection value ([`LineError`]) and its closed reason vocabulary ([`RejectReason`]).
//!
//! A rejected line is data, not a failure: the iterator reports it and goes on with the next
//! line. Input-level errors (cannot open, I/O or gzip error mid-stream, undetectable format)
//! stop *that* input; the iterator then goes on with the next input and the caller decides
//! whether that is acceptable (see [`IngestError::stops_input`]).

use std::fmt;
use std::io;
use std::sync::Arc;

/// At most this many characters of an offending line are kept in a [`LineError`] (and echoed
/// by its `Display`); longer text is cut and ends in `…`.
pub const MAX_ECHO_CHARS: usize = 100;

/// Why a line was rejected. A closed vocabulary: [`RejectReason::as_str`] gives the stable
/// snake_case code, `Display` the human explanation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RejectReason {
    /// The domain field is empty (e.g. an empty CSV cell, or just `.`).
    Empty,
    /// An IPv4 or IPv6 address, bracketed or not (`192.0.2.1`, `2001:db8::1`, `[::1]`).
    IpLiteral,
    /// Looks like a URL, an e-mail address or `host:port`; `what` names the giveaway.
    Url {
        /// `"scheme://"`, `"path"`, `"port"`, `"query"`, `"fragment"` or `"userinfo/@"`.
        what: &'static str,
    },
    /// Whitespace inside the name (`exa mple.com`, or a trailing comment after a space).
    Whitespace,
    /// An empty label: `a..b`, `.example.com`, or two trailing dots (RFC 1035 §2.3.1).
    EmptyLabel,
    /// A label longer than 63 octets (RFC 1035 §2.3.4), measured after IDNA.
    LabelTooLong {
        /// Length of the offending label in octets.
        len: usize,
    },
    /// A name longer than 253 octets in text form without the trailing dot (RFC 1035 §2.3.4:
    /// 255 octets on the wire), measured after IDNA.
    NameTooLong {
        /// Length of the name in octets.
        len: usize,
    },
    /// A label that starts or ends with `-` (RFC 952, RFC 1123 §2.1).
    HyphenPosition,
    /// A character outside letters, digits and `-` after IDNA, e.g. `_` (RFC 952, RFC 1123 §2.1).
    InvalidCharacter {
        /// The first offending character.
        ch: char,
    },
    /// UTS #46 processing failed: a disallowed code point, invalid Punycode in an `xn--`
    /// label, a bidi or joiner rule violation (RFC 5891 §4, UTS #46 §4).
    Idna,
    /// A single-label name such as `localhost` or `com`: not a mail domain for a survey.
    SingleLabel,
    /// The last label is numeric (`1.2.3`, `example.0x7f`): URL parsers and `inet_aton` would
    /// read the name as an IPv4 address, and no TLD is numeric (RFC 3696 §2).
    NumericTld,
    /// The rank field is present but not a non-negative integer.
    BadRank,
    /// The line is not a valid record of the detected format (missing field, bad quoting).
    Malformed {
        /// What is wrong with the record.
        what: &'static str,
    },
    /// The line is not valid UTF-8.
    InvalidUtf8,
    /// The line is longer than [`crate::MAX_LINE_BYTES`]; the rest of it was skipped unread.
    LineTooLong,
}

impl RejectReason {
    /// The stable snake_case code of this reason (for counters and machine-readable output).
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Empty => "empty",
            Self::IpLiteral => "ip_literal",
            Self::Url { .. } => "url",
            Self::Whitespace => "whitespace",
            Self::EmptyLabel => "empty_label",
            Self::LabelTooLong { .. } => "label_too_long",
            Self::NameTooLong { .. } => "name_too_long",
            Self::HyphenPosition => "hyphen_position",
            Self::InvalidCharacter { .. } => "invalid_character",
            Self::Idna => "idna",
            Self::SingleLabel => "single_label",
            Self::NumericTld => "numeric_tld",
            Self::BadRank => "bad_rank",
            Self::Malformed { .. } => "malformed",
            Self::InvalidUtf8 => "invalid_utf8",
            Self::LineTooLong => "line_too_long",
        }
    }

    /// Every code [`RejectReason::as_str`] can return, in declaration order.
    pub const ALL_CODES: &'static [&'static str] = &[
        "empty",
        "ip_literal",
        "url",
        "whitespace",
        "empty_label",
        "label_too_long",
        "name_too_long",
        "hyphen_position",
        "invalid_character",
        "idna",
        "single_label",
        "numeric_tld",
        "bad_rank",
        "malformed",
        "invalid_utf8",
        "line_too_long",
    ];

    /// True if the reason is about the domain name itself (the echoed text is the domain
    /// field); false if it is about the record (the echoed text is the whole line).
    pub fn is_about_name(&self) -> bool {
        !matches!(
            self,
            Self::BadRank | Self::Malformed { .. } | Self::InvalidUtf8 | Self::LineTooLong
        )
    }
}

impl fmt::Display for RejectReason {
    /// The part of a [`LineError`] message that follows the quoted text, e.g.
    /// `is not a hostname: looks like a URL (scheme://)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const NOT: &str = "is not a hostname:";
        match self {
            Self::Empty => write!(f, "{NOT} empty"),
            Self::IpLiteral => write!(f, "{NOT} it is an IP address literal"),
            Self::Url { what } => write!(f, "{NOT} looks like a URL ({what})"),
            Self::Whitespace => write!(f, "{NOT} contains whitespace"),
            Self::EmptyLabel => write!(f, "{NOT} has an empty label"),
            Self::LabelTooLong { len } => {
                write!(f, "{NOT} a label is {len} octets long (max 63)")
            }
            Self::NameTooLong { len } => write!(f, "{NOT} {len} octets long (max 253)"),
            Self::HyphenPosition => write!(f, "{NOT} a label starts or ends with '-'"),
            Self::InvalidCharacter { ch } => write!(
                f,
                "{NOT} contains {ch:?} (only letters, digits, '-' and '.' are allowed)"
            ),
            Self::Idna => write!(f, "{NOT} IDNA (UTS #46) processing failed"),
            Self::SingleLabel => write!(
                f,
                "is not a domain to survey: single-label name (a TLD or a local name)"
            ),
            Self::NumericTld => write!(
                f,
                "{NOT} the last label is numeric (would be read as an IPv4 address)"
            ),
            Self::BadRank => write!(f, "is rejected: rank is not a non-negative integer"),
            Self::Malformed { what } => write!(f, "is not a valid record: {what}"),
            Self::InvalidUtf8 => write!(f, "is not valid UTF-8"),
            Self::LineTooLong => write!(
                f,
                "is rejected: line longer than {} bytes",
                crate::MAX_LINE_BYTES
            ),
        }
    }
}

/// One rejected line: which input, which line, the offending text (capped at
/// [`MAX_ECHO_CHARS`]) and why.
///
/// `Display`: `list.csv:17: "http://x.com/" is not a hostname: looks like a URL (scheme://)`.
/// The text is printed with Rust string escaping, so control characters cannot reach a
/// terminal raw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LineError {
    /// Name of the input (its path as given, or `<stdin>`).
    pub input: Arc<str>,
    /// 1-based physical line number within the (decompressed) input.
    pub line: u64,
    /// The offending text: the domain field for name reasons, else the line; capped.
    pub text: String,
    /// Why the line was rejected.
    pub reason: RejectReason,
}

impl LineError {
    pub(crate) fn new(input: &Arc<str>, line: u64, text: &str, reason: RejectReason) -> Self {
        Self {
            input: Arc::clone(input),
            line,
            text: cap_text(text),
            reason,
        }
    }
}

impl fmt::Display for LineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}:{}: {:?} {}",
            self.input, self.line, self.text, self.reason
        )
    }
}

impl std::error::Error for LineError {}

/// Cut `text` to at most [`MAX_ECHO_CHARS`] characters, marking a cut with `…`.
pub(crate) fn cap_text(text: &str) -> String {
    match text.char_indices().nth(MAX_ECHO_CHARS) {
        None => text.to_owned(),
        Some((cut, _)) => {
            let mut s = text[..cut].to_owned();
            s.push('…');
            s
        }
    }
}

/// The crate's error enum. Items of the ingest iterator are `Result<Entry, IngestError>`.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum IngestError {
    /// A line was rejected and skipped; reading goes on with the next line.
    #[error("{0}")]
    Rejected(LineError),
    /// The input could not be opened; it is skipped.
    #[error("{input}: cannot open: {source}")]
    Open {
        /// Input name.
        input: Arc<str>,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// Reading failed mid-stream (I/O error, corrupt or truncated gzip); the rest of that
    /// input is not read. Entries already yielded from it stay valid.
    #[error("{input}:{line}: read error (rest of this input skipped): {source}")]
    Read {
        /// Input name.
        input: Arc<str>,
        /// Number of the last line read completely before the error.
        line: u64,
        /// The underlying error.
        #[source]
        source: io::Error,
    },
    /// The first data line matches none of the formats (see the crate docs); the input is
    /// skipped.
    #[error("{input}:{line}: cannot detect the list format from {text:?}: {why}")]
    Format {
        /// Input name.
        input: Arc<str>,
        /// Line number of the first data line.
        line: u64,
        /// That line (capped).
        text: String,
        /// Why no format matched.
        why: &'static str,
    },
    /// The input is compressed with something other than gzip; it is skipped.
    #[error(
        "{input}: {kind}-compressed input is not supported (only gzip is decoded): decompress it first"
    )]
    Compression {
        /// Input name.
        input: Arc<str>,
        /// `zstd`, `xz`, `bzip2` or `zip`.
        kind: &'static str,
    },
    /// A `--shard K/N` specification could not be parsed.
    #[error("invalid shard {spec:?}: {why} (expected K/N with 1 <= K <= N, e.g. 2/8)")]
    InvalidShard {
        /// The specification as given (capped).
        spec: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

impl IngestError {
    /// True if this error ended an input early (open, read, format or compression error);
    /// false for a
    /// rejected line (the input goes on) and for configuration errors.
    pub fn stops_input(&self) -> bool {
        matches!(
            self,
            Self::Open { .. } | Self::Read { .. } | Self::Format { .. } | Self::Compression { .. }
        )
    }

    /// The rejection, if this is a rejected line.
    pub fn as_rejection(&self) -> Option<&LineError> {
        match self {
            Self::Rejected(e) => Some(e),
            _ => None,
        }
    }
}

impl From<LineError> for IngestError {
    fn from(e: LineError) -> Self {
        Self::Rejected(e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_matches_the_documented_shape() {
        let input: Arc<str> = Arc::from("list.csv");
        let e = LineError::new(
            &input,
            17,
            "http://x.com/",
            RejectReason::Url { what: "scheme://" },
        );
        assert_eq!(
            e.to_string(),
            r#"list.csv:17: "http://x.com/" is not a hostname: looks like a URL (scheme://)"#
        );
    }

    #[test]
    fn echoed_text_is_capped_and_escaped() {
        let input: Arc<str> = Arc::from("in");
        let long = "é".repeat(500);
        let e = LineError::new(&input, 1, &long, RejectReason::LineTooLong);
        assert_eq!(e.text.chars().count(), MAX_ECHO_CHARS + 1);
        assert!(e.text.ends_with('…'));
        let e = LineError::new(&input, 2, "a\u{1b}[31mb", RejectReason::Whitespace);
        assert!(!e.to_string().contains('\u{1b}'));
    }

    #[test]
    fn codes_are_listed_and_unique() {
        let samples = [
            RejectReason::Empty,
            RejectReason::IpLiteral,
            RejectReason::Url { what: "path" },
            RejectReason::Whitespace,
            RejectReason::EmptyLabel,
            RejectReason::LabelTooLong { len: 64 },
            RejectReason::NameTooLong { len: 254 },
            RejectReason::HyphenPosition,
            RejectReason::InvalidCharacter { ch: '_' },
            RejectReason::Idna,
            RejectReason::SingleLabel,
            RejectReason::NumericTld,
            RejectReason::BadRank,
            RejectReason::Malformed { what: "x" },
            RejectReason::InvalidUtf8,
            RejectReason::LineTooLong,
        ];
        let codes: Vec<_> = samples.iter().map(RejectReason::as_str).collect();
        assert_eq!(codes, RejectReason::ALL_CODES);
    }
}
