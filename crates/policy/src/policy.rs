//! The policy body served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`
//! (RFC 8461 §3.2), parsed into a [`PolicyReport`].
//!
//! The parser accepts what senders accept and records everything odd as a [`Deviation`]; the
//! fixed positions are listed in the crate documentation and on each variant. The steps:
//!
//! 1. UTF-8 check (`not_utf8`, invalidating; parsing continues on a lossy decoding), BOM strip
//!    (`bom`), empty check (`empty_body`, invalidating, stops here), HTML sniffing (`html_body`).
//! 2. Lines end in LF or CRLF (`sts-policy-term = LF / CRLF`, erratum 6253); the endings seen
//!    give `lf_line_endings` / `mixed_line_endings` / `missing_final_newline`.
//! 3. Each line is `key ":" *WSP value`; the key must be an `sts-policy-ext-name` and is
//!    case-sensitive; the value is trimmed. Other lines are `blank_line` or `trailing_garbage`.
//! 4. `version`, `mode`, `max_age`: first occurrence wins (`duplicate_key`); `mx` lines
//!    accumulate (invalid patterns dropped, duplicates merged).
//! 5. The required-field checks produce the invalidating deviations and one human-readable
//!    `errors` entry each (with the line number where there is a line).

use std::borrow::Cow;
use std::collections::HashSet;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::deviation_set::DeviationSet;
use crate::pattern::{PatternCheck, check_pattern};
use crate::txt::is_ext_name;
use crate::{Deviation, Mode};

/// The only policy version (RFC 8461 §3.2 `sts-policy-version-value = %s"STSv1"`).
pub const POLICY_VERSION: &str = "STSv1";
/// The largest valid `max_age` in seconds (RFC 8461 §3.2: "up to 31557600").
pub const MAX_AGE_LIMIT: u64 = 31_557_600;
/// Suggested cap on a policy body (RFC 8461 §3.3: 64 KiB); the fetcher enforces it.
pub const MAX_POLICY_BYTES: usize = 64 * 1024;

/// Everything learned from one policy body. Serializes to exactly
/// `{"valid", "version", "mode", "max_age", "mx", "deviations", "errors"}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PolicyReport {
    /// True when no invalidating deviation was found: a sender would apply this policy.
    pub valid: bool,
    /// The first `version` value as written (even when it is not `STSv1`).
    pub version: Option<String>,
    /// The first `mode` value, if it is one of the three modes.
    pub mode: Option<Mode>,
    /// The first `max_age` value, if it is 1–10 digits (also when above [`MAX_AGE_LIMIT`]).
    pub max_age: Option<u64>,
    /// Valid `mx` patterns, lowercased, trailing dot stripped, duplicates removed, in order.
    pub mx: Vec<String>,
    /// Canonically ordered, duplicate-free deviations.
    pub deviations: Vec<Deviation>,
    /// One human-readable message per invalidating problem (with line numbers).
    pub errors: Vec<String>,
}

impl PolicyReport {
    /// The usable policy, if the report is valid.
    #[must_use]
    pub fn policy(&self) -> Option<Policy> {
        match (self.valid, self.mode, self.max_age) {
            (true, Some(mode), Some(max_age)) => Some(Policy {
                mode,
                max_age,
                mx: self.mx.clone(),
            }),
            _ => None,
        }
    }

    /// Adds a deviation found outside the body (e.g. from [`content_type_deviation`]), keeping
    /// the list canonical and `valid` consistent.
    pub fn add_deviation(&mut self, deviation: Deviation) {
        self.deviations.push(deviation);
        Deviation::normalize(&mut self.deviations);
        if deviation.invalidates() {
            self.valid = false;
        }
    }
}

/// Line terminator used by [`Policy::render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LineEnding {
    /// Bare `\n` (what most real policies use; valid per erratum 6253).
    Lf,
    /// `\r\n` (what RFC 8461 §3.2's prose asks for).
    CrLf,
}

impl LineEnding {
    /// The terminator bytes.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            LineEnding::Lf => "\n",
            LineEnding::CrLf => "\r\n",
        }
    }
}

/// A valid policy (RFC 8461 §3.2) — what a sender applies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// `mode`.
    pub mode: Mode,
    /// `max_age` in seconds.
    pub max_age: u64,
    /// `mx` patterns.
    pub mx: Vec<String>,
}

impl Policy {
    /// Prints the policy as a body: `version`, `mode`, the `mx` lines, `max_age`, each line
    /// terminated by `ending` (as in the RFC 8461 §3.2 example).
    #[must_use]
    pub fn render(&self, ending: LineEnding) -> String {
        let nl = ending.as_str();
        let mut out = format!("version: {POLICY_VERSION}{nl}mode: {}{nl}", self.mode);
        for mx in &self.mx {
            let _ = write!(out, "mx: {mx}{nl}");
        }
        let _ = write!(out, "max_age: {}{nl}", self.max_age);
        out
    }
}

/// Classifies the HTTP `Content-Type` of a policy response (RFC 8461 §3.3: the media type
/// "should be text/plain"). `text/plain` in any letter case with any parameters is fine;
/// anything else, or no header, gives `content_type_not_text_plain` (a note).
#[must_use]
pub fn content_type_deviation(content_type: Option<&str>) -> Option<Deviation> {
    let ok = content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .unwrap_or_default()
            .trim()
            .eq_ignore_ascii_case("text/plain")
    });
    (!ok).then_some(Deviation::ContentTypeNotTextPlain)
}

/// A value quoted for an error message, cut to keep messages bounded.
fn quote(value: &str) -> String {
    const MAX: usize = 40;
    if value.chars().count() <= MAX {
        format!("{value:?}")
    } else {
        let cut: String = value.chars().take(MAX).collect();
        format!("{cut:?}…")
    }
}

/// Whether the body looks like an HTML document (RFC 8461 §3.3 error pages served with 200).
fn looks_like_html(text: &str) -> bool {
    let lower = text.to_ascii_lowercase();
    ["<html", "<!doctype", "<head", "<body"]
        .iter()
        .any(|m| lower.contains(m))
}

/// `1*10 DIGIT` (RFC 8461 §3.2 `sts-policy-max-age-value`).
fn parse_max_age(value: &str) -> Option<u64> {
    if (1..=10).contains(&value.len()) && value.bytes().all(|b| b.is_ascii_digit()) {
        value.parse().ok()
    } else {
        None
    }
}

/// The policy keys of RFC 8461 §3.2.
const KNOWN_KEYS: [&str; 4] = ["version", "mode", "max_age", "mx"];

/// First occurrence of a single-valued key: (line number, value).
type First<'a> = Option<(usize, &'a str)>;

/// Parses a policy body (RFC 8461 §3.2). Never fails and never panics; see the module and crate
/// documentation for the positions taken.
#[must_use]
pub fn parse_policy(body: &[u8]) -> PolicyReport {
    let mut devs = DeviationSet::default();
    let mut errors = Vec::new();

    let decoded: Cow<'_, str> = match std::str::from_utf8(body) {
        Ok(s) => Cow::Borrowed(s),
        Err(e) => {
            devs.insert(Deviation::NotUtf8);
            errors.push(format!(
                "body is not valid UTF-8 (invalid byte at offset {})",
                e.valid_up_to()
            ));
            String::from_utf8_lossy(body)
        }
    };
    let mut text: &str = &decoded;
    if let Some(rest) = text.strip_prefix('\u{feff}') {
        devs.insert(Deviation::Bom);
        text = rest;
    }
    if text.trim_ascii().is_empty() {
        devs.insert(Deviation::EmptyBody);
        errors.push("body is empty".to_owned());
        return PolicyReport {
            valid: false,
            version: None,
            mode: None,
            max_age: None,
            mx: Vec::new(),
            deviations: devs.to_vec(),
            errors,
        };
    }
    if looks_like_html(text) {
        devs.insert(Deviation::HtmlBody);
    }

    let mut version: First<'_> = None;
    let mut mode: First<'_> = None;
    let mut max_age: First<'_> = None;
    let mut mx: Vec<String> = Vec::new();
    let mut mx_seen: HashSet<String> = HashSet::new();
    let (mut crlf, mut lf) = (false, false);

    for (index, piece) in text.split_inclusive('\n').enumerate() {
        let line_no = index + 1;
        let content = if let Some(c) = piece.strip_suffix("\r\n") {
            crlf = true;
            c
        } else if let Some(c) = piece.strip_suffix('\n') {
            lf = true;
            c
        } else {
            devs.insert(Deviation::MissingFinalNewline);
            piece
        };

        let unindented = content.trim_ascii_start();
        if unindented.trim_ascii_end().is_empty() {
            devs.insert(Deviation::BlankLine);
            continue;
        }
        let Some((raw_key, raw_value)) = unindented.split_once(':') else {
            devs.insert(Deviation::TrailingGarbage);
            continue;
        };
        let key = raw_key.trim_ascii_end();
        if !is_ext_name(key) {
            devs.insert(Deviation::TrailingGarbage);
            continue;
        }
        if unindented.len() != content.len() {
            devs.insert(Deviation::LeadingWhitespace);
        }
        if key.len() != raw_key.len() {
            devs.insert(Deviation::SpaceBeforeColon);
        }
        let value = raw_value.trim_ascii();

        let slot = match key {
            "version" => &mut version,
            "mode" => &mut mode,
            "max_age" => &mut max_age,
            "mx" => {
                match check_pattern(value) {
                    PatternCheck::Valid(p) => add_mx(p, &mut mx, &mut mx_seen, &mut devs),
                    PatternCheck::TrailingDot(p) => {
                        devs.insert(Deviation::MxTrailingDot);
                        add_mx(p, &mut mx, &mut mx_seen, &mut devs);
                    }
                    PatternCheck::Invalid => devs.insert(Deviation::InvalidMxPattern),
                }
                continue;
            }
            other => {
                if KNOWN_KEYS.iter().any(|k| k.eq_ignore_ascii_case(other)) {
                    devs.insert(Deviation::KeyCase);
                } else {
                    devs.insert(Deviation::UnknownKey);
                }
                continue;
            }
        };
        if slot.is_some() {
            devs.insert(Deviation::DuplicateKey);
        } else {
            *slot = Some((line_no, value));
        }
    }

    match (crlf, lf) {
        (true, true) => devs.insert(Deviation::MixedLineEndings),
        (false, true) => devs.insert(Deviation::LfLineEndings),
        _ => {}
    }

    let version_out = match version {
        None => {
            devs.insert(Deviation::MissingVersion);
            errors.push("missing required key \"version\"".to_owned());
            None
        }
        Some((line, v)) => {
            if line != 1 {
                devs.insert(Deviation::VersionNotFirst);
            }
            if v != POLICY_VERSION {
                devs.insert(Deviation::InvalidVersion);
                errors.push(format!(
                    "line {line}: version is {}, expected \"{POLICY_VERSION}\"",
                    quote(v)
                ));
            }
            Some(v.to_owned())
        }
    };

    let mode_out = match mode {
        None => {
            devs.insert(Deviation::MissingMode);
            errors.push("missing required key \"mode\"".to_owned());
            None
        }
        Some((line, v)) => match v.parse::<Mode>() {
            Ok(m) => Some(m),
            Err(_) => {
                devs.insert(Deviation::UnknownMode);
                errors.push(format!(
                    "line {line}: mode is {}, expected \"enforce\", \"testing\" or \"none\"",
                    quote(v)
                ));
                None
            }
        },
    };

    let max_age_out = match max_age {
        None => {
            devs.insert(Deviation::MissingMaxAge);
            errors.push("missing required key \"max_age\"".to_owned());
            None
        }
        Some((line, v)) => match parse_max_age(v) {
            Some(n) => {
                if n > MAX_AGE_LIMIT {
                    devs.insert(Deviation::MaxAgeOutOfRange);
                    errors.push(format!(
                        "line {line}: max_age {n} exceeds the maximum of {MAX_AGE_LIMIT}"
                    ));
                }
                Some(n)
            }
            None => {
                devs.insert(Deviation::InvalidMaxAge);
                errors.push(format!(
                    "line {line}: max_age is {}, expected 1 to 10 digits",
                    quote(v)
                ));
                None
            }
        },
    };

    if mx.is_empty() && mode_out != Some(Mode::None) {
        devs.insert(Deviation::MissingMx);
        errors.push("no valid \"mx\" pattern (required unless mode is \"none\")".to_owned());
    }

    let deviations = devs.to_vec();
    PolicyReport {
        valid: !deviations.iter().any(|d| d.invalidates()),
        version: version_out,
        mode: mode_out,
        max_age: max_age_out,
        mx,
        deviations,
        errors,
    }
}

fn add_mx(
    pattern: String,
    mx: &mut Vec<String>,
    seen: &mut HashSet<String>,
    devs: &mut DeviationSet,
) {
    if seen.insert(pattern.clone()) {
        mx.push(pattern);
    } else {
        devs.insert(Deviation::DuplicateMx);
    }
}
