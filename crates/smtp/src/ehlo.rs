//! EHLO reply capabilities (RFC 5321 §4.1.1.1).
//!
//! A `250` reply to EHLO is `250-<domain> [greeting]` followed by one line per service
//! extension: `ehlo-line = ehlo-keyword *( SP ehlo-param )`. The keyword is the first
//! whitespace-separated token of a line, compared case-insensitively and stored uppercased.
//! STARTTLS support (RFC 3207 §4) is a line whose keyword *is* `STARTTLS` — never a
//! substring match: `250-X-NOSTARTTLS` does not offer STARTTLS.
//!
//! Leniency (documented position): leading whitespace before a keyword is skipped, and a
//! token that is not a valid RFC 5321 `ehlo-keyword` (e.g. the pre-standard `AUTH=LOGIN`
//! form) is still kept, uppercased, with [`Capability::valid`] = false, so the
//! `ehlo_keywords` column shows what servers really send. Empty lines are skipped.

use serde::Serialize;

use crate::reply::Reply;

/// One advertised service extension.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Capability {
    /// The keyword, ASCII-uppercased (`STARTTLS`, `SIZE`, `8BITMIME`, `AUTH=LOGIN` …).
    pub keyword: String,
    /// The parameters after the keyword, split on whitespace, as sent.
    pub params: Vec<String>,
    /// The keyword matches RFC 5321 `ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`.
    pub valid: bool,
}

/// The parsed capabilities of an EHLO reply.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Ehlo {
    /// Text of the first line (the server's domain and optional greeting).
    pub domain_line: String,
    /// One entry per non-empty extension line, in the order sent (duplicates kept).
    pub capabilities: Vec<Capability>,
}

impl Ehlo {
    /// Parses the capabilities from the lines of an EHLO reply (the code is not checked:
    /// callers pass a 250 reply). Lines after the first are extension lines.
    pub fn from_reply(reply: &Reply) -> Ehlo {
        Ehlo::from_lines(&reply.lines)
    }

    /// Parses the capabilities from reply lines (texts after `250-` / `250 `).
    pub fn from_lines<S: AsRef<str>>(lines: &[S]) -> Ehlo {
        let mut it = lines.iter();
        let domain_line = it.next().map(|l| l.as_ref().to_owned()).unwrap_or_default();
        let capabilities = it.filter_map(|l| parse_line(l.as_ref())).collect();
        Ehlo {
            domain_line,
            capabilities,
        }
    }

    /// The keywords in order, uppercased, parameters dropped (the `ehlo_keywords` column).
    pub fn keywords(&self) -> Vec<String> {
        self.capabilities
            .iter()
            .map(|c| c.keyword.clone())
            .collect()
    }

    /// The capability with this keyword (case-insensitive), if advertised.
    pub fn get(&self, keyword: &str) -> Option<&Capability> {
        self.capabilities
            .iter()
            .find(|c| c.keyword.eq_ignore_ascii_case(keyword))
    }

    /// Whether this keyword (case-insensitive, exact token) is advertised.
    pub fn has(&self, keyword: &str) -> bool {
        self.get(keyword).is_some()
    }

    /// RFC 3207 §4: the server offers STARTTLS (an extension line whose keyword is exactly
    /// `STARTTLS`).
    pub fn starttls(&self) -> bool {
        self.has("STARTTLS")
    }
}

fn parse_line(line: &str) -> Option<Capability> {
    let mut tokens = line.split_ascii_whitespace();
    let keyword = tokens.next()?.to_ascii_uppercase();
    let valid = is_ehlo_keyword(&keyword);
    Some(Capability {
        keyword,
        params: tokens.map(str::to_owned).collect(),
        valid,
    })
}

/// RFC 5321 §4.1.1.1: `ehlo-keyword = (ALPHA / DIGIT) *(ALPHA / DIGIT / "-")`.
pub fn is_ehlo_keyword(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_alphanumeric())
        && bytes.all(|b| b.is_ascii_alphanumeric() || b == b'-')
}
