//! MX host patterns: syntax (RFC 8461 §3.2 `sts-policy-mx-value = ["*."] Domain`) and matching
//! against MX hostnames (RFC 8461 §4.1).

/// Maximum length of a hostname or pattern in octets, without a trailing dot (RFC 1035 §2.3.4).
pub const MAX_NAME_LEN: usize = 253;
/// Maximum length of one label in octets (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Whether `name` is an LDH hostname: dot-separated labels of letters, digits and hyphens, not
/// starting or ending in a hyphen, each 1 to 63 octets, at most 253 octets in all, no trailing
/// dot (RFC 5321 §4.1.2 `Domain`, RFC 1035 §2.3.4). Case is not checked.
#[must_use]
pub fn is_hostname(name: &str) -> bool {
    !name.is_empty() && name.len() <= MAX_NAME_LEN && name.split('.').all(is_ldh_label)
}

fn is_ldh_label(label: &str) -> bool {
    let b = label.as_bytes();
    match (b.first(), b.last()) {
        (Some(first), Some(last)) => {
            b.len() <= MAX_LABEL_LEN
                && first.is_ascii_alphanumeric()
                && last.is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        }
        _ => false,
    }
}

/// The result of checking one `mx:` value of a policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PatternCheck {
    /// A valid pattern, lowercased.
    Valid(String),
    /// A valid pattern once its trailing dot is stripped (lowercased, dot removed). RFC 8461
    /// §3.2's ABNF has no trailing dot; mxscan accepts it and records `mx_trailing_dot`.
    TrailingDot(String),
    /// Neither a hostname nor `*.` + hostname (the line is dropped, `invalid_mx_pattern`).
    Invalid,
}

/// Checks and normalizes one `mx:` value (RFC 8461 §3.2): a hostname or `*.` + hostname, with an
/// optional trailing dot (accepted, reported), compared case-insensitively (lowercased).
#[must_use]
pub fn check_pattern(value: &str) -> PatternCheck {
    let (body, dot) = match value.strip_suffix('.') {
        Some(body) => (body, true),
        None => (value, false),
    };
    let host = body.strip_prefix("*.").unwrap_or(body);
    if body.len() > MAX_NAME_LEN || !is_hostname(host) {
        return PatternCheck::Invalid;
    }
    let lower = body.to_ascii_lowercase();
    if dot {
        PatternCheck::TrailingDot(lower)
    } else {
        PatternCheck::Valid(lower)
    }
}

fn strip_dot(s: &str) -> &str {
    s.strip_suffix('.').unwrap_or(s)
}

/// Whether the MX hostname `mx_host` matches the policy pattern `pattern` (RFC 8461 §4.1).
///
/// * Comparison is ASCII case-insensitive; one trailing dot on either side is ignored (a DNS
///   answer's exchange is fully qualified; the dot is not part of the name).
/// * `*.example.com` matches exactly one additional left-most label: `mx.example.com` yes,
///   `a.b.example.com` no, `example.com` no. Only a left-most `*.` is a wildcard:
///   `*example.com` or `mx.*.example.com` match only themselves, literally.
/// * Empty names never match.
#[must_use]
pub fn mx_matches(pattern: &str, mx_host: &str) -> bool {
    let pattern = strip_dot(pattern);
    let host = strip_dot(mx_host);
    if pattern.is_empty() || host.is_empty() {
        return false;
    }
    match pattern.strip_prefix('*') {
        Some(suffix) if suffix.starts_with('.') => {
            // suffix = ".example.com": the host is <one label> + suffix.
            host.len() > suffix.len() && host.is_char_boundary(host.len() - suffix.len()) && {
                let (label, tail) = host.split_at(host.len() - suffix.len());
                tail.eq_ignore_ascii_case(suffix) && !label.contains('.')
            }
        }
        _ => pattern.eq_ignore_ascii_case(host),
    }
}

/// Whether any of `patterns` matches `mx_host` (RFC 8461 §4.1).
#[must_use]
pub fn matches_any<P: AsRef<str>>(patterns: &[P], mx_host: &str) -> bool {
    patterns.iter().any(|p| mx_matches(p.as_ref(), mx_host))
}

/// The MX hosts that no pattern covers, in input order (the `sts_mx_unmatched` column).
#[must_use]
pub fn unmatched<'a, P: AsRef<str>, H: AsRef<str>>(patterns: &[P], hosts: &'a [H]) -> Vec<&'a str> {
    hosts
        .iter()
        .map(AsRef::as_ref)
        .filter(|h| !matches_any(patterns, h))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matching_table() {
        let cases: &[(&str, &str, bool)] = &[
            ("mx.example.com", "mx.example.com", true),
            ("mx.example.com", "MX.Example.COM", true),
            ("MX.EXAMPLE.COM", "mx.example.com", true),
            ("mx.example.com", "mx.example.com.", true),
            ("mx.example.com.", "mx.example.com", true),
            ("mx.example.com", "mx2.example.com", false),
            ("mx.example.com", "example.com", false),
            ("*.example.com", "mx.example.com", true),
            ("*.example.com", "MX.EXAMPLE.COM.", true),
            ("*.example.com.", "mx.example.com", true),
            ("*.Example.com", "mx.example.COM", true),
            ("*.example.com", "a.b.example.com", false),
            ("*.example.com", "example.com", false),
            ("*.example.com", ".example.com", false),
            ("*.example.com", "mx.example.org", false),
            ("*.example.com", "mxexample.com", false),
            ("*example.com", "mxexample.com", false),
            ("*example.com", "mx.example.com", false),
            ("*example.com", "*example.com", true),
            ("mx.*.example.com", "mx.a.example.com", false),
            ("*.com", "example.com", true),
            ("*", "example", false),
            ("", "", false),
            ("", "mx.example.com", false),
            ("mx.example.com", "", false),
            (".", ".", false),
            ("*.example.com", "é.example.com", true),
            ("*.éxample.com", "mx.éxample.com", true),
        ];
        for (pattern, host, want) in cases {
            assert_eq!(mx_matches(pattern, host), *want, "{pattern} vs {host}");
        }
    }

    #[test]
    fn check_pattern_table() {
        use PatternCheck::*;
        let long_label = "a".repeat(64);
        let ok_label = "a".repeat(63);
        let long_name = format!("{ok_label}.{ok_label}.{ok_label}.{ok_label}"); // 255
        let cases: Vec<(String, PatternCheck)> = vec![
            ("mx.example.com".into(), Valid("mx.example.com".into())),
            ("MX.Example.COM".into(), Valid("mx.example.com".into())),
            ("*.example.com".into(), Valid("*.example.com".into())),
            (
                "mx.example.com.".into(),
                TrailingDot("mx.example.com".into()),
            ),
            ("*.example.com.".into(), TrailingDot("*.example.com".into())),
            ("localhost".into(), Valid("localhost".into())),
            (
                "xn--mll-hoa.example".into(),
                Valid("xn--mll-hoa.example".into()),
            ),
            ("mx-1.example.com".into(), Valid("mx-1.example.com".into())),
            (format!("{ok_label}.com"), Valid(format!("{ok_label}.com"))),
            (format!("{long_label}.com"), Invalid),
            (long_name, Invalid),
            ("".into(), Invalid),
            (".".into(), Invalid),
            ("*".into(), Invalid),
            ("*.".into(), Invalid),
            ("*example.com".into(), Invalid),
            ("mx.*.example.com".into(), Invalid),
            ("*.*.example.com".into(), Invalid),
            ("mx.example.com..".into(), Invalid),
            (".example.com".into(), Invalid),
            ("mx..example.com".into(), Invalid),
            ("-mx.example.com".into(), Invalid),
            ("mx-.example.com".into(), Invalid),
            ("mx_1.example.com".into(), Invalid),
            ("mäil.example.com".into(), Invalid),
            ("mx1.example.com, mx2.example.com".into(), Invalid),
            ("mx1.example.com mx2.example.com".into(), Invalid),
            ("[192.0.2.1]".into(), Invalid),
            ("enforce # comment".into(), Invalid),
        ];
        for (value, want) in cases {
            assert_eq!(check_pattern(&value), want, "{value:?}");
        }
    }

    #[test]
    fn unmatched_keeps_order() {
        let patterns = ["*.example.com", "backup.example.net"];
        let hosts = [
            "mx1.example.com.",
            "backup.example.net",
            "mx.other.org",
            "a.b.example.com",
        ];
        assert_eq!(
            unmatched(&patterns, &hosts),
            vec!["mx.other.org", "a.b.example.com"]
        );
        let none: [&str; 0] = [];
        assert_eq!(unmatched(&none, &hosts), hosts.to_vec());
        assert!(unmatched(&patterns, &none).is_empty());
    }
}
