//! `_smtp._tls.<domain>` TLS-RPT TXT record (RFC 8460 §3).
//!
//! Same discovery rules as MTA-STS: strings concatenated, records not beginning with
//! `v=TLSRPTv1` (case-sensitive, `%s"v=TLSRPTv1"`) discarded, exactly one must remain. The
//! record needs `rua=` with one or more comma-separated URIs (`*WSP "," *WSP` between them);
//! mxscan keeps the `mailto:` and `https:` ones (scheme case-insensitive) and records the rest.

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::txt::{self, Prefix};
use crate::{RecordStatus, TlsRptDeviation};

/// The version tag of a TLS-RPT record (RFC 8460 §3, `%s"v=TLSRPTv1"`).
pub const TLSRPT_VERSION_TAG: &str = "v=TLSRPTv1";

/// The parsed `_smtp._tls` TXT answer. JSON: `{"status": "...", "rua": [...], "deviations": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TlsRptRecord {
    /// `none`, `valid`, `invalid` or `multiple`.
    pub status: RecordStatus,
    /// The usable report URIs as published, in order (empty unless `status` is `valid`).
    pub rua: Vec<String>,
    /// Canonically ordered, duplicate-free deviations.
    pub deviations: Vec<TlsRptDeviation>,
}

/// Parses every TXT record found at `_smtp._tls.<domain>` (RFC 8460 §3), each given as its
/// character-strings.
pub fn parse_tlsrpt_records<Rec, S>(records: &[Rec]) -> TlsRptRecord
where
    Rec: AsRef<[S]>,
    S: AsRef<[u8]>,
{
    let joined: Vec<Vec<u8>> = records.iter().map(|r| txt::concat(r.as_ref())).collect();
    parse_joined(&joined)
}

/// Like [`parse_tlsrpt_records`], one (concatenated) string per record.
pub fn parse_tlsrpt_txt<S: AsRef<str>>(records: &[S]) -> TlsRptRecord {
    let joined: Vec<&[u8]> = records.iter().map(|r| r.as_ref().as_bytes()).collect();
    parse_joined(&joined)
}

/// Whether one `rua` URI is usable: `mailto:` + an address with `@`, or `https://` + a host;
/// scheme case-insensitive; no whitespace or control characters (RFC 8460 §3, RFC 3986).
fn is_usable_uri(uri: &str) -> bool {
    if uri
        .bytes()
        .any(|b| b.is_ascii_whitespace() || b.is_ascii_control())
    {
        return false;
    }
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    if scheme.eq_ignore_ascii_case("mailto") {
        rest.split_once('@')
            .is_some_and(|(local, domain)| !local.is_empty() && !domain.is_empty())
    } else if scheme.eq_ignore_ascii_case("https") {
        rest.strip_prefix("//").is_some_and(|authority| {
            authority
                .split(['/', '?', '#'])
                .next()
                .is_some_and(|host| !host.is_empty())
        })
    } else {
        false
    }
}

fn parse_joined<R: AsRef<[u8]>>(records: &[R]) -> TlsRptRecord {
    let mut devs: Vec<TlsRptDeviation> = Vec::new();
    let mut kept: Vec<&[u8]> = Vec::new();
    for record in records {
        let record = record.as_ref();
        match txt::prefix(record, TLSRPT_VERSION_TAG) {
            Prefix::Exact => kept.push(record),
            Prefix::OtherCase => {
                devs.push(TlsRptDeviation::StrayRecords);
                devs.push(TlsRptDeviation::VersionCase);
            }
            Prefix::Stray => devs.push(TlsRptDeviation::StrayRecords),
        }
    }
    let (status, rua) = match kept.as_slice() {
        [] => (RecordStatus::None, Vec::new()),
        [record] => parse_one(record, &mut devs),
        _ => {
            devs.push(TlsRptDeviation::MultipleRecords);
            (RecordStatus::Multiple, Vec::new())
        }
    };
    devs.sort_unstable();
    devs.dedup();
    TlsRptRecord {
        status,
        rua,
        deviations: devs,
    }
}

fn parse_one(record: &[u8], devs: &mut Vec<TlsRptDeviation>) -> (RecordStatus, Vec<String>) {
    let text = String::from_utf8_lossy(record);
    let fields = txt::split(&text, record, TLSRPT_VERSION_TAG);
    if fields.syntax {
        devs.push(TlsRptDeviation::Syntax);
    }
    let mut seen: HashSet<&str> = HashSet::from(["v"]);
    let mut rua: Option<&str> = None;
    for field in &fields.fields {
        if !seen.insert(field.name) {
            devs.push(TlsRptDeviation::DuplicateField);
            continue;
        }
        if field.name == "rua" {
            rua = Some(field.value);
        } else {
            devs.push(TlsRptDeviation::UnknownField);
            if !txt::is_ext_value(field.value) {
                devs.push(TlsRptDeviation::Syntax);
            }
        }
    }
    let Some(rua) = rua else {
        devs.push(TlsRptDeviation::MissingRua);
        return (RecordStatus::Invalid, Vec::new());
    };
    let mut good = Vec::new();
    let mut bad = false;
    for uri in rua.split(',').map(|u| u.trim_matches([' ', '\t'])) {
        if is_usable_uri(uri) {
            good.push(uri.to_owned());
        } else {
            bad = true;
        }
    }
    if good.is_empty() {
        devs.push(TlsRptDeviation::InvalidRua);
        (RecordStatus::Invalid, Vec::new())
    } else {
        if bad {
            devs.push(TlsRptDeviation::UnsupportedUri);
        }
        (RecordStatus::Valid, good)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_table() {
        let cases: &[(&str, bool)] = &[
            ("mailto:tlsrpt@example.com", true),
            ("MAILTO:tlsrpt@example.com", true),
            ("https://reports.example.com/v1/tlsrpt", true),
            ("HTTPS://reports.example.com", true),
            ("https://reports.example.com?x=1", true),
            ("http://reports.example.com", false),
            ("mailto:", false),
            ("mailto:example.com", false),
            ("mailto:@example.com", false),
            ("https:", false),
            ("https://", false),
            ("https:///path", false),
            ("tlsrpt@example.com", false),
            ("ftp://example.com", false),
            ("mailto:a b@example.com", false),
            ("", false),
        ];
        for (uri, want) in cases {
            assert_eq!(is_usable_uri(uri), *want, "{uri}");
        }
    }
}
