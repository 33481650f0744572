//! Shared tokenizer for the two `tag=value; …` TXT record formats: `_mta-sts` (RFC 8461 §3.1)
//! and `_smtp._tls` (RFC 8460 §3). Both have the same shape:
//!
//! ```text
//! record    = version 1*(sep field) [sep]        ; version is %s"v=STSv1" / %s"v=TLSRPTv1"
//! sep       = *WSP ";" *WSP
//! field     = name "=" value
//! ext-name  = (ALPHA / DIGIT) *31(ALPHA / DIGIT / "_" / "-" / ".")
//! ext-value = 1*(%x21-3A / %x3C / %x3E-7E)      ; no "=", ";", SP or control characters
//! ```
//!
//! Pure functions over bytes; the callers turn the findings into their own deviations.

/// How a (concatenated) TXT record relates to the version tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// Begins with the tag exactly, followed by the end, `;` or whitespace.
    Exact,
    /// Begins with the tag in another letter case (discarded, but worth recording).
    OtherCase,
    /// Anything else (SPF, a hostname, prose, empty): a stray record.
    Stray,
}

/// Concatenates the character-strings of one TXT record without separators (RFC 8461 §3.1,
/// RFC 8460 §3: "as if those strings are concatenated together without adding spaces").
pub(crate) fn concat<S: AsRef<[u8]>>(strings: &[S]) -> Vec<u8> {
    let mut out = Vec::with_capacity(strings.iter().map(|s| s.as_ref().len()).sum());
    for s in strings {
        out.extend_from_slice(s.as_ref());
    }
    out
}

/// Classifies a record against its version tag (`v=STSv1`, `v=TLSRPTv1`). The tag must be a
/// whole token: `v=STSv10` is stray.
pub(crate) fn prefix(record: &[u8], tag: &str) -> Prefix {
    let tag = tag.as_bytes();
    if record.len() < tag.len() {
        return Prefix::Stray;
    }
    let (head, rest) = record.split_at(tag.len());
    let boundary = matches!(rest.first(), None | Some(b';' | b' ' | b'\t'));
    if !boundary {
        Prefix::Stray
    } else if head == tag {
        Prefix::Exact
    } else if head.eq_ignore_ascii_case(tag) {
        Prefix::OtherCase
    } else {
        Prefix::Stray
    }
}

/// One `name=value` field (value untrimmed of inner characters, surrounding WSP removed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Field<'a> {
    pub(crate) name: &'a str,
    pub(crate) value: &'a str,
}

/// The result of splitting a record that begins with its version tag.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Fields<'a> {
    /// Fields after the version tag, in order, duplicates included.
    pub(crate) fields: Vec<Field<'a>>,
    /// Something outside the ABNF was seen (and skipped).
    pub(crate) syntax: bool,
}

const fn is_wsp(c: char) -> bool {
    c == ' ' || c == '\t'
}

/// `ext-name` of RFC 8461 §3.1 / RFC 8460 §3.
pub(crate) fn is_ext_name(name: &str) -> bool {
    let b = name.as_bytes();
    !b.is_empty()
        && b.len() <= 32
        && b[0].is_ascii_alphanumeric()
        && b[1..]
            .iter()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// `ext-value` of RFC 8461 §3.1 / RFC 8460 §3: visible ASCII except `=` and `;`.
pub(crate) fn is_ext_value(value: &str) -> bool {
    !value.is_empty()
        && value
            .bytes()
            .all(|c| matches!(c, 0x21..=0x3A | 0x3C | 0x3E..=0x7E))
}

/// Splits a record (already known to begin with `tag`) into fields. `text` is the lossy UTF-8
/// decoding of the record's bytes; `raw` the bytes themselves (to detect non-ASCII).
pub(crate) fn split<'a>(text: &'a str, raw: &[u8], tag: &str) -> Fields<'a> {
    let mut out = Fields {
        fields: Vec::new(),
        syntax: raw
            .iter()
            .any(|&b| !b.is_ascii() || (b.is_ascii_control() && b != b'\t')),
    };
    let parts: Vec<&str> = text.split(';').collect();
    let last = parts.len() - 1;
    for (i, part) in parts.iter().enumerate() {
        let part = part.trim_matches(is_wsp);
        if i == 0 {
            // The version tag must be the whole first field ("v=STSv1 id=x" is not).
            if part != tag {
                out.syntax = true;
            }
            continue;
        }
        if part.is_empty() {
            // One trailing separator is allowed; an empty field in between is not.
            if i != last {
                out.syntax = true;
            }
            continue;
        }
        match part.split_once('=') {
            Some((name, value)) if is_ext_name(name) => out.fields.push(Field { name, value }),
            _ => out.syntax = true,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefix_table() {
        let cases: &[(&[u8], Prefix)] = &[
            (b"v=STSv1; id=1", Prefix::Exact),
            (b"v=STSv1", Prefix::Exact),
            (b"v=STSv1 ;id=1", Prefix::Exact),
            (b"v=STSv1\t;id=1", Prefix::Exact),
            (b"v=STSv10; id=1", Prefix::Stray),
            (b"v=STSv1x", Prefix::Stray),
            (b"V=stsv1; id=1", Prefix::OtherCase),
            (b"v=stsv1", Prefix::OtherCase),
            (b" v=STSv1; id=1", Prefix::Stray),
            (b"v=spf1 -all", Prefix::Stray),
            (b"mta-sts.example.net.", Prefix::Stray),
            (b"", Prefix::Stray),
            (b"v=STS", Prefix::Stray),
        ];
        for (record, want) in cases {
            assert_eq!(
                prefix(record, "v=STSv1"),
                *want,
                "{:?}",
                String::from_utf8_lossy(record)
            );
        }
    }

    #[test]
    fn split_table() {
        type Case = (&'static str, &'static [(&'static str, &'static str)], bool);
        // (record, fields, syntax)
        let cases: &[Case] = &[
            ("v=STSv1; id=1", &[("id", "1")], false),
            ("v=STSv1;id=1;", &[("id", "1")], false),
            ("v=STSv1 ;\tid=1 ; ", &[("id", "1")], false),
            ("v=STSv1; id=1;; x=y", &[("id", "1"), ("x", "y")], true),
            ("v=STSv1; id", &[], true),
            ("v=STSv1 id=1", &[], true),
            ("v=STSv1; _x=1; id=2", &[("id", "2")], true),
            ("v=STSv1; id = 2", &[], true),
            ("v=STSv1; a=b=c", &[("a", "b=c")], false),
            ("v=STSv1", &[], false),
        ];
        for (text, fields, syntax) in cases {
            let got = split(text, text.as_bytes(), "v=STSv1");
            let got_fields: Vec<(&str, &str)> =
                got.fields.iter().map(|f| (f.name, f.value)).collect();
            assert_eq!(&got_fields, fields, "{text}");
            assert_eq!(got.syntax, *syntax, "{text}");
        }
    }

    #[test]
    fn non_ascii_is_syntax() {
        let raw = "v=STSv1; id=1; x=é".as_bytes();
        assert!(split(&String::from_utf8_lossy(raw), raw, "v=STSv1").syntax);
        let raw = b"v=STSv1; id=1\x01";
        assert!(split(&String::from_utf8_lossy(raw), raw, "v=STSv1").syntax);
    }

    #[test]
    fn ext_name_and_value() {
        assert!(is_ext_name("a"));
        assert!(is_ext_name("a_b-c.d"));
        assert!(!is_ext_name("_a"));
        assert!(!is_ext_name(""));
        assert!(!is_ext_name(&"a".repeat(33)));
        assert!(is_ext_name(&"a".repeat(32)));
        assert!(is_ext_value("x"));
        assert!(!is_ext_value(""));
        assert!(!is_ext_value("a b"));
        assert!(!is_ext_value("a=b"));
    }
}
