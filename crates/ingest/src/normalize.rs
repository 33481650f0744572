//! Domain-name normalisation: one raw field in, one surveyable host name (or a
//! [`RejectReason`]) out. Pure: no I/O.
//!
//! # Steps, in order
//!
//! 1. Trim surrounding whitespace (Unicode `White_Space`). Nothing left: [`RejectReason::Empty`].
//! 2. Cheap syntactic checks on the raw text, so that common mistakes get a precise reason
//!    instead of a generic IDNA failure: IP literals (IPv4, IPv6, anything starting with `[`),
//!    URLs (`scheme://`, `/`, `?`, `#`, `:` port, `@`), inner whitespace, control characters.
//! 3. IDNA: UTS #46 *ToASCII*, non-transitional (`ß` → `xn--zca`, as IDNA2008 and today's
//!    browsers and mail software do), via [`idna::uts46::Uts46::to_ascii`] with the WHATWG URL
//!    Standard's settings — the forbidden-code-point deny list, `CheckHyphens=false`,
//!    `VerifyDnsLength=false` — i.e. exactly what a browser does with a host
//!    (`idna::domain_to_ascii_cow(.., AsciiDenyList::URL)`). This maps case (`Bücher.EXAMPLE`
//!    → `xn--bcher-kva.example`), full-width forms and the ideographic full stop. We do *not*
//!    use `domain_to_ascii_strict` (STD3 + CheckHyphens): it rejects real names with `--` in
//!    positions 3–4 (`r3---sn-….googlevideo.com`). The host-name rules it would enforce are
//!    checked by step 5 instead, each with its own reason.
//! 4. Strip ONE trailing dot (the root label): `example.com.` → `example.com`; `example.com..`
//!    keeps an empty label and is rejected.
//! 5. Host-name rules on the A-label form (RFC 952, RFC 1123 §2.1, RFC 1035 §2.3.4): no empty
//!    label; labels of 1–63 octets of `[a-z0-9-]` (so `_` is rejected: it is legal in DNS
//!    owner names like `_dmarc.example.com` but never in a host or mail domain); no label
//!    starting or ending with `-`; at most 253 octets in all.
//! 6. Survey rules: the name must have at least two labels — single-label names (`localhost`,
//!    `com`) are rejected ([`RejectReason::SingleLabel`]): a TLD with its own MX exists but is
//!    not a mail domain a survey of domain lists means, and `localhost` is a local name. The
//!    last label must not be numeric (`1.2.3`, `a.0x7f`), which URL parsers and `inet_aton`
//!    read as an IPv4 address; no TLD is numeric (RFC 3696 §2).
//!
//! Every accepted name therefore is lowercase ASCII, has ≥ 2 labels of LDH characters of
//! 1–63 octets not starting or ending in `-`, no trailing dot, and is ≤ 253 octets.

use std::borrow::Cow;
use std::net::{Ipv4Addr, Ipv6Addr};

use idna::uts46::{AsciiDenyList, DnsLength, Hyphens, Uts46};

use crate::error::RejectReason;

/// Maximum length of a name in text form without the trailing dot (RFC 1035 §2.3.4: 255 octets
/// on the wire = 253 characters of text).
pub const MAX_NAME_LEN: usize = 253;
/// Maximum length of one label (RFC 1035 §2.3.4).
pub const MAX_LABEL_LEN: usize = 63;

/// Normalise one raw domain field: trim, IDNA to A-labels (lowercase), strip one trailing
/// dot, then check the host-name rules. See the module docs for the exact rules.
///
/// ```
/// use mxscan_ingest::normalize_domain;
/// assert_eq!(normalize_domain(" Bücher.Example. ").unwrap(), "xn--bcher-kva.example");
/// assert_eq!(normalize_domain("http://x.com/").unwrap_err().as_str(), "url");
/// ```
pub fn normalize_domain(raw: &str) -> Result<String, RejectReason> {
    let s = raw.trim();
    if s.is_empty() {
        return Err(RejectReason::Empty);
    }
    precheck(s)?;
    let ascii: Cow<'_, str> = Uts46::new()
        .to_ascii(
            s.as_bytes(),
            AsciiDenyList::URL,
            Hyphens::Allow,
            DnsLength::Ignore,
        )
        .map_err(|_| RejectReason::Idna)?;
    let name = ascii.strip_suffix('.').unwrap_or(&ascii);
    check_host_name(name)?;
    Ok(name.to_owned())
}

/// Raw-text checks before IDNA, giving precise reasons for common mistakes.
fn precheck(s: &str) -> Result<(), RejectReason> {
    if s.starts_with('[') || s.parse::<Ipv6Addr>().is_ok() {
        return Err(RejectReason::IpLiteral);
    }
    if s.strip_suffix('.').unwrap_or(s).parse::<Ipv4Addr>().is_ok() {
        return Err(RejectReason::IpLiteral);
    }
    if s.contains("://") {
        return Err(RejectReason::Url { what: "scheme://" });
    }
    for ch in s.chars() {
        let reason = match ch {
            c if c.is_whitespace() => RejectReason::Whitespace,
            '/' | '\\' => RejectReason::Url { what: "path" },
            '?' => RejectReason::Url { what: "query" },
            '#' => RejectReason::Url { what: "fragment" },
            ':' => RejectReason::Url { what: "port" },
            '@' => RejectReason::Url { what: "userinfo/@" },
            c if c.is_control() => RejectReason::InvalidCharacter { ch: c },
            _ => continue,
        };
        return Err(reason);
    }
    Ok(())
}

/// Check the host-name rules (module docs, steps 5–6) on an ASCII name without trailing dot.
///
/// Public so that other stages can assert the same invariant on names they receive.
pub fn check_host_name(name: &str) -> Result<(), RejectReason> {
    if name.is_empty() {
        return Err(RejectReason::Empty);
    }
    if name.parse::<Ipv4Addr>().is_ok() {
        return Err(RejectReason::IpLiteral);
    }
    for label in name.split('.') {
        check_label(label)?;
    }
    if name.len() > MAX_NAME_LEN {
        return Err(RejectReason::NameTooLong { len: name.len() });
    }
    match name.rsplit_once('.') {
        None => Err(RejectReason::SingleLabel),
        Some((_, last)) if is_numeric_label(last) => Err(RejectReason::NumericTld),
        Some(_) => Ok(()),
    }
}

fn check_label(label: &str) -> Result<(), RejectReason> {
    if label.is_empty() {
        return Err(RejectReason::EmptyLabel);
    }
    if label.len() > MAX_LABEL_LEN {
        return Err(RejectReason::LabelTooLong { len: label.len() });
    }
    if let Some(ch) = label
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '-'))
    {
        return Err(RejectReason::InvalidCharacter { ch });
    }
    if label.starts_with('-') || label.ends_with('-') {
        return Err(RejectReason::HyphenPosition);
    }
    Ok(())
}

/// The WHATWG URL Standard's "ends in a number" test for the last label: all decimal digits,
/// or `0x`/`0X` followed by hex digits (these hosts are parsed as IPv4 addresses).
fn is_numeric_label(label: &str) -> bool {
    if !label.is_empty() && label.bytes().all(|b| b.is_ascii_digit()) {
        return true;
    }
    match label
        .strip_prefix("0x")
        .or_else(|| label.strip_prefix("0X"))
    {
        Some(hex) => hex.bytes().all(|b| b.is_ascii_hexdigit()),
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `(input, expected normalised name)`.
    const ACCEPTED: &[(&str, &str)] = &[
        ("example.com", "example.com"),
        ("EXAMPLE.COM", "example.com"),
        ("Example.Com.", "example.com"),
        ("  example.com\t", "example.com"),
        ("\u{feff}example.com", "example.com"),
        ("Bücher.example", "xn--bcher-kva.example"),
        ("BÜCHER.EXAMPLE", "xn--bcher-kva.example"),
        ("xn--bcher-kva.example", "xn--bcher-kva.example"),
        ("XN--BCHER-KVA.EXAMPLE", "xn--bcher-kva.example"),
        ("faß.de", "xn--fa-hia.de"),
        ("ｅｘａｍｐｌｅ．ｃｏｍ", "example.com"),
        ("例え.テスト", "xn--r8jz45g.xn--zckzah"),
        ("mail.example.co.uk", "mail.example.co.uk"),
        ("r3---sn-abc.googlevideo.com", "r3---sn-abc.googlevideo.com"),
        ("a-b.c-d.example", "a-b.c-d.example"),
        ("123.example", "123.example"),
        ("example.com。", "example.com"),
        ("1.2.3.4.example", "1.2.3.4.example"),
        ("x.y.z.0a", "x.y.z.0a"),
    ];

    #[test]
    fn accepted_names_are_normalised() {
        for (raw, want) in ACCEPTED {
            assert_eq!(normalize_domain(raw).as_deref(), Ok(*want), "input {raw:?}");
        }
    }

    /// `(input, expected reason code)`.
    const REJECTED: &[(&str, &str)] = &[
        ("", "empty"),
        ("   ", "empty"),
        (".", "empty"),
        ("192.0.2.1", "ip_literal"),
        ("192.0.2.1.", "ip_literal"),
        ("2001:db8::1", "ip_literal"),
        ("::1", "ip_literal"),
        ("[::1]", "ip_literal"),
        ("[2001:db8::1]:25", "ip_literal"),
        ("[192.0.2.1]", "ip_literal"),
        ("１９２．０．２．１", "ip_literal"),
        ("http://x.com/", "url"),
        ("https://example.com", "url"),
        ("example.com/path", "url"),
        ("example.com?q=1", "url"),
        ("example.com#frag", "url"),
        ("example.com:25", "url"),
        ("user@example.com", "url"),
        ("mailto:user@example.com", "url"),
        ("exa mple.com", "whitespace"),
        ("example.com # comment", "whitespace"),
        ("example.com\u{a0}x", "whitespace"),
        ("a..b", "empty_label"),
        (".example.com", "empty_label"),
        ("example.com..", "empty_label"),
        ("a.。b", "empty_label"),
        ("-example.com", "hyphen_position"),
        ("example-.com", "hyphen_position"),
        ("example.-com", "hyphen_position"),
        ("_dmarc.example.com", "invalid_character"),
        ("ex_ample.com", "invalid_character"),
        ("ex%ample.com", "idna"),
        ("ex*ample.com", "invalid_character"),
        ("ex,ample.com", "invalid_character"),
        ("ex\"ample.com", "invalid_character"),
        ("ex\u{1}ample.com", "invalid_character"),
        ("xn--a.example", "idna"),
        ("xn--bcher-kva!.example", "idna"),
        ("ex!ample.com", "invalid_character"),
        ("a\u{200d}b.example", "idna"),
        ("localhost", "single_label"),
        ("com", "single_label"),
        ("COM.", "single_label"),
        ("1.2.3", "numeric_tld"),
        ("example.123", "numeric_tld"),
        ("example.0x7f", "numeric_tld"),
        ("0x7f.0x1", "numeric_tld"),
    ];

    #[test]
    fn rejected_names_have_the_expected_reason() {
        for (raw, want) in REJECTED {
            let got = normalize_domain(raw);
            assert_eq!(
                got.as_ref().map_err(RejectReason::as_str),
                Err(*want),
                "input {raw:?} gave {got:?}"
            );
        }
    }

    #[test]
    fn length_limits_are_octets_after_idna() {
        let l63 = "a".repeat(63);
        let l64 = "a".repeat(64);
        assert!(normalize_domain(&format!("{l63}.example")).is_ok());
        assert_eq!(
            normalize_domain(&format!("{l64}.example")),
            Err(RejectReason::LabelTooLong { len: 64 })
        );
        // 4 labels of 63 + 3 dots = 255 > 253; 3×63 + 61 + 3 dots = 253 exactly.
        let at_limit = format!("{l63}.{l63}.{l63}.{}", "b".repeat(61));
        assert_eq!(at_limit.len(), 253);
        assert!(normalize_domain(&at_limit).is_ok());
        assert!(normalize_domain(&format!("{at_limit}.")).is_ok());
        let over = format!("{l63}.{l63}.{l63}.{}", "b".repeat(62));
        assert_eq!(
            normalize_domain(&over),
            Err(RejectReason::NameTooLong { len: 254 })
        );
        // A U-label short in characters but long as an A-label.
        let u = "ü".repeat(60);
        assert_eq!(
            normalize_domain(&format!("{u}.example")).map_err(|r| r.as_str()),
            Err("label_too_long")
        );
    }

    #[test]
    fn check_host_name_agrees_with_normalised_output() {
        for (raw, _) in ACCEPTED {
            let n = normalize_domain(raw).unwrap();
            assert_eq!(check_host_name(&n), Ok(()));
        }
    }
}
