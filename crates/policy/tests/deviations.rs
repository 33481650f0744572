//! The vocabularies themselves: round trips, documentation, invalidating flags, and a trigger
//! for every single `Deviation` / `TlsRptDeviation` variant (asserted by name).

use std::collections::BTreeSet;

use mxscan_policy::{
    Delivery, Deviation, Mode, MxOutcome, RecordStatus, TlsRptDeviation, content_type_deviation,
    parse_policy, parse_sts_txt, parse_tlsrpt_txt,
};

const LIB_DOCS: &str = include_str!("../src/lib.rs");

#[test]
fn deviation_all_round_trips_and_is_documented() {
    let mut names = BTreeSet::new();
    for (i, d) in Deviation::ALL.iter().enumerate() {
        assert_eq!(*d as usize, i, "ALL is in declaration order");
        let s = d.as_str();
        assert!(names.insert(s), "duplicate name {s}");
        assert_eq!(s.parse::<Deviation>(), Ok(*d));
        assert_eq!(d.to_string(), s);
        assert!(
            s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_'),
            "{s} is snake_case"
        );
        let doc = d.description();
        let effect = if d.invalidates() {
            "Invalidating"
        } else {
            "Note"
        };
        assert!(
            doc.starts_with(effect),
            "{s}: doc must start with {effect}: {doc}"
        );
        assert!(doc.contains("RFC 846"), "{s}: doc cites the RFC section");
        // The crate-level table documents every variant with the same effect.
        let effect_col = if d.invalidates() {
            "| invalid"
        } else {
            "| note"
        };
        let row = LIB_DOCS
            .lines()
            .find(|l| l.starts_with(&format!("//! | `{s}` |")))
            .unwrap_or_else(|| panic!("{s} missing from the crate docs table"));
        assert!(row.contains(effect_col), "{s}: table says {row}");
        // serde spelling = as_str
        assert_eq!(serde_json::to_value(d).unwrap(), serde_json::json!(s));
        assert_eq!(
            serde_json::from_value::<Deviation>(serde_json::json!(s)).unwrap(),
            *d
        );
    }
    assert!("Bom".parse::<Deviation>().is_err());
    assert!("".parse::<Deviation>().is_err());
    assert!(serde_json::from_value::<Deviation>(serde_json::json!("nope")).is_err());
}

#[test]
fn other_vocabularies_round_trip() {
    fn check<T>(all: &[T])
    where
        T: Copy + std::fmt::Debug + PartialEq + std::str::FromStr + serde::Serialize + ToString,
        <T as std::str::FromStr>::Err: std::fmt::Debug,
    {
        for v in all {
            let s = v.to_string();
            assert_eq!(s.parse::<T>().unwrap(), *v);
            assert_eq!(serde_json::to_value(v).unwrap(), serde_json::json!(s));
        }
    }
    check(TlsRptDeviation::ALL);
    check(Mode::ALL);
    check(RecordStatus::ALL);
    check(MxOutcome::ALL);
    check(Delivery::ALL);
    let names: Vec<&str> = Delivery::ALL.iter().map(|d| d.as_str()).collect();
    assert_eq!(names, ["no_policy", "ok", "would_fail", "untested"]);
    let names: Vec<&str> = RecordStatus::ALL.iter().map(|d| d.as_str()).collect();
    assert_eq!(names, ["none", "valid", "invalid", "multiple"]);
    let names: Vec<&str> = Mode::ALL.iter().map(|d| d.as_str()).collect();
    assert_eq!(names, ["enforce", "testing", "none"]);
    assert!("Enforce".parse::<Mode>().is_err());
    for d in TlsRptDeviation::ALL {
        assert!(d.as_str().starts_with("tlsrpt_"));
        assert!(
            LIB_DOCS.contains(&format!("`{}`", d.as_str())),
            "{d} in crate docs"
        );
        let effect = if d.invalidates() {
            "Invalidating"
        } else {
            "Note"
        };
        assert!(d.description().starts_with(effect), "{d}");
    }
}

#[test]
fn normalize_sorts_and_dedups() {
    let mut v = vec![
        Deviation::ContentTypeNotTextPlain,
        Deviation::TxtStrayRecords,
        Deviation::Bom,
        Deviation::TxtStrayRecords,
    ];
    Deviation::normalize(&mut v);
    assert_eq!(
        v,
        [
            Deviation::TxtStrayRecords,
            Deviation::Bom,
            Deviation::ContentTypeNotTextPlain
        ]
    );
    assert!(Deviation::TxtSyntax.is_record_deviation());
    assert!(!Deviation::Bom.is_record_deviation());
}

/// How to provoke a deviation.
enum Trigger {
    Txt(&'static [&'static str]),
    Body(&'static [u8]),
    ContentType(Option<&'static str>),
}

const VALID: &[u8] = b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 86400\r\n";

const TRIGGERS: &[(&str, Trigger)] = &[
    ("txt_stray_records", Trigger::Txt(&["v=spf1 -all", "v=STSv1; id=1"])),
    ("txt_stray_records", Trigger::Txt(&["mta-sts.provider.example."])),
    ("txt_multiple_records", Trigger::Txt(&["v=STSv1; id=1", "v=STSv1; id=2"])),
    ("txt_version_case", Trigger::Txt(&["V=STSv1; id=1"])),
    ("txt_missing_id", Trigger::Txt(&["v=STSv1;"])),
    ("txt_invalid_id", Trigger::Txt(&["v=STSv1; id=2024-01-01"])),
    ("txt_duplicate_field", Trigger::Txt(&["v=STSv1; id=1; id=2"])),
    ("txt_unknown_field", Trigger::Txt(&["v=STSv1; id=1; x=y"])),
    ("txt_syntax", Trigger::Txt(&["v=STSv1;; id=1"])),
    ("not_utf8", Trigger::Body(b"version: STSv1\nmode: enforce\nmx: \xe9.example\nmax_age: 1\n")),
    ("empty_body", Trigger::Body(b"")),
    ("empty_body", Trigger::Body(b" \r\n\t\n")),
    ("bom", Trigger::Body(b"\xef\xbb\xbfversion: STSv1\r\nmode: none\r\nmax_age: 1\r\n")),
    ("lf_line_endings", Trigger::Body(b"version: STSv1\nmode: none\nmax_age: 1\n")),
    ("mixed_line_endings", Trigger::Body(b"version: STSv1\r\nmode: none\nmax_age: 1\r\n")),
    ("missing_final_newline", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmax_age: 1")),
    ("blank_line", Trigger::Body(b"version: STSv1\r\n\r\nmode: none\r\nmax_age: 1\r\n")),
    ("leading_whitespace", Trigger::Body(b"version: STSv1\r\n  mode: none\r\nmax_age: 1\r\n")),
    ("space_before_colon", Trigger::Body(b"version: STSv1\r\nmode : none\r\nmax_age: 1\r\n")),
    ("key_case", Trigger::Body(b"version: STSv1\r\nMode: none\r\nmax_age: 1\r\n")),
    ("unknown_key", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmax-age: 1\r\n")),
    ("duplicate_key", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmode: none\r\nmax_age: 1\r\n")),
    ("trailing_garbage", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmax_age: 1\r\n# done\r\n")),
    ("html_body", Trigger::Body(b"<!DOCTYPE html>\n<html><body>Not Found</body></html>\n")),
    ("missing_version", Trigger::Body(b"mode: none\r\nmax_age: 1\r\n")),
    ("invalid_version", Trigger::Body(b"version: STSv2\r\nmode: none\r\nmax_age: 1\r\n")),
    ("version_not_first", Trigger::Body(b"mode: none\r\nversion: STSv1\r\nmax_age: 1\r\n")),
    ("missing_mode", Trigger::Body(b"version: STSv1\r\nmx: a.example\r\nmax_age: 1\r\n")),
    ("unknown_mode", Trigger::Body(b"version: STSv1\r\nmode: report\r\nmx: a.example\r\nmax_age: 1\r\n")),
    ("missing_max_age", Trigger::Body(b"version: STSv1\r\nmode: none\r\n")),
    ("invalid_max_age", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmax_age: 1d\r\n")),
    ("max_age_out_of_range", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmax_age: 31557601\r\n")),
    ("missing_mx", Trigger::Body(b"version: STSv1\r\nmode: enforce\r\nmax_age: 1\r\n")),
    ("invalid_mx_pattern", Trigger::Body(b"version: STSv1\r\nmode: none\r\nmx: *mx.example\r\nmax_age: 1\r\n")),
    ("mx_trailing_dot", Trigger::Body(b"version: STSv1\r\nmode: testing\r\nmx: mx.example.\r\nmax_age: 1\r\n")),
    ("duplicate_mx", Trigger::Body(b"version: STSv1\r\nmode: testing\r\nmx: mx.example\r\nmx: MX.example\r\nmax_age: 1\r\n")),
    ("content_type_not_text_plain", Trigger::ContentType(Some("text/html; charset=utf-8"))),
    ("content_type_not_text_plain", Trigger::ContentType(None)),
];

#[test]
fn every_deviation_is_triggered_by_name() {
    let mut covered = BTreeSet::new();
    for (name, trigger) in TRIGGERS {
        let wanted: Deviation = name.parse().unwrap();
        let (found, valid) = match trigger {
            Trigger::Txt(records) => {
                let r = parse_sts_txt(records);
                (r.deviations, r.status == RecordStatus::Valid)
            }
            Trigger::Body(body) => {
                let r = parse_policy(body);
                (r.deviations, r.valid)
            }
            Trigger::ContentType(ct) => {
                let d: Vec<Deviation> = content_type_deviation(*ct).into_iter().collect();
                let mut r = parse_policy(VALID);
                for x in &d {
                    r.add_deviation(*x);
                }
                (d, r.valid)
            }
        };
        assert!(found.contains(&wanted), "{name}: got {found:?}");
        if wanted.invalidates() {
            assert!(!valid, "{name} must invalidate");
        }
        covered.insert(wanted);
    }
    let missing: Vec<&str> = Deviation::ALL
        .iter()
        .filter(|d| !covered.contains(d))
        .map(|d| d.as_str())
        .collect();
    assert!(
        missing.is_empty(),
        "deviations without a trigger: {missing:?}"
    );
}

#[test]
fn every_tlsrpt_deviation_is_triggered_by_name() {
    let triggers: &[(&str, &[&str])] = &[
        (
            "tlsrpt_stray_records",
            &["v=spf1 -all", "v=TLSRPTv1; rua=mailto:r@example.com"],
        ),
        (
            "tlsrpt_multiple_records",
            &[
                "v=TLSRPTv1; rua=mailto:r@example.com",
                "v=TLSRPTv1; rua=mailto:s@example.com",
            ],
        ),
        (
            "tlsrpt_version_case",
            &["v=tlsrptv1; rua=mailto:r@example.com"],
        ),
        ("tlsrpt_missing_rua", &["v=TLSRPTv1;"]),
        (
            "tlsrpt_invalid_rua",
            &["v=TLSRPTv1; rua=http://example.com/report"],
        ),
        (
            "tlsrpt_unsupported_uri",
            &["v=TLSRPTv1; rua=mailto:r@example.com,http://example.com"],
        ),
        (
            "tlsrpt_duplicate_field",
            &["v=TLSRPTv1; rua=mailto:r@example.com; rua=mailto:s@example.com"],
        ),
        (
            "tlsrpt_unknown_field",
            &["v=TLSRPTv1; rua=mailto:r@example.com; ruf=mailto:f@example.com"],
        ),
        ("tlsrpt_syntax", &["v=TLSRPTv1; rua=mailto:r@example.com;;"]),
    ];
    let mut covered = BTreeSet::new();
    for (name, records) in triggers {
        let wanted: TlsRptDeviation = name.parse().unwrap();
        let r = parse_tlsrpt_txt(records);
        assert!(
            r.deviations.contains(&wanted),
            "{name}: got {:?}",
            r.deviations
        );
        if wanted.invalidates() {
            assert_ne!(r.status, RecordStatus::Valid, "{name}");
        }
        covered.insert(wanted);
    }
    assert_eq!(covered.len(), TlsRptDeviation::ALL.len());
}
