//! `_mta-sts` TXT discovery (RFC 8461 §3.1): table of edge cases with exact expectations.

use mxscan_policy::{RecordStatus, StsRecord, parse_sts_records, parse_sts_txt};

fn names(r: &StsRecord) -> Vec<&'static str> {
    r.deviations.iter().map(|d| d.as_str()).collect()
}

/// (one string per record, status, id, deviations)
type Case = (
    &'static [&'static str],
    &'static str,
    Option<&'static str>,
    &'static [&'static str],
);

const ID32: &str = "abcdefghijklmnopqrstuvwxyz012345";

#[test]
fn txt_table() {
    let long33 = format!("v=STSv1; id={ID32}6");
    let exact32 = format!("v=STSv1; id={ID32}");
    let cases: &[Case] = &[
        (&[], "none", None, &[]),
        (
            &["v=STSv1; id=20160831085700Z;"],
            "valid",
            Some("20160831085700Z"),
            &[],
        ),
        (&["v=STSv1; id=1"], "valid", Some("1"), &[]),
        // whitespace variants around the separator
        (&["v=STSv1;id=abc"], "valid", Some("abc"), &[]),
        (&["v=STSv1 ; id=abc ;"], "valid", Some("abc"), &[]),
        (&["v=STSv1;\tid=abc\t;\t"], "valid", Some("abc"), &[]),
        (&["v=STSv1;  id=abc  "], "valid", Some("abc"), &[]),
        // several records
        (
            &["v=STSv1; id=a", "v=STSv1; id=b"],
            "multiple",
            None,
            &["txt_multiple_records"],
        ),
        (
            &["v=STSv1; id=a", "v=STSv1; id=a"],
            "multiple",
            None,
            &["txt_multiple_records"],
        ),
        (
            &["v=STSv1; id=a", "v=spf1 -all", "v=STSv1; id=b"],
            "multiple",
            None,
            &["txt_stray_records", "txt_multiple_records"],
        ),
        // stray records (SPF, CNAME-like hostnames, prose, empty)
        (
            &["v=spf1 include:_spf.example.com -all", "v=STSv1; id=a"],
            "valid",
            Some("a"),
            &["txt_stray_records"],
        ),
        (&["v=spf1 -all"], "none", None, &["txt_stray_records"]),
        (
            &["mta-sts.provider.example."],
            "none",
            None,
            &["txt_stray_records"],
        ),
        (
            &["mta-sts.provider.example", "v=STSv1; id=x"],
            "valid",
            Some("x"),
            &["txt_stray_records"],
        ),
        (
            &["google-site-verification=abc"],
            "none",
            None,
            &["txt_stray_records"],
        ),
        (&[""], "none", None, &["txt_stray_records"]),
        (&[" v=STSv1; id=a"], "none", None, &["txt_stray_records"]),
        (&["v=STSv10; id=a"], "none", None, &["txt_stray_records"]),
        (&["v=STSv2; id=a"], "none", None, &["txt_stray_records"]),
        (&["\"v=STSv1; id=a\""], "none", None, &["txt_stray_records"]),
        // case of the version tag: discarded, but recorded
        (
            &["V=STSv1; id=a"],
            "none",
            None,
            &["txt_stray_records", "txt_version_case"],
        ),
        (
            &["v=stsv1; id=a", "v=STSv1; id=b"],
            "valid",
            Some("b"),
            &["txt_stray_records", "txt_version_case"],
        ),
        // id
        (&["v=STSv1;"], "invalid", None, &["txt_missing_id"]),
        (&["v=STSv1"], "invalid", None, &["txt_missing_id"]),
        (&["v=STSv1; id="], "invalid", Some(""), &["txt_invalid_id"]),
        (
            &["v=STSv1; id=abc-def"],
            "invalid",
            Some("abc-def"),
            &["txt_invalid_id"],
        ),
        (
            &["v=STSv1; id=2024.01.01"],
            "invalid",
            Some("2024.01.01"),
            &["txt_invalid_id"],
        ),
        (
            &["v=STSv1; id=abc def"],
            "invalid",
            Some("abc def"),
            &["txt_invalid_id"],
        ),
        (
            &["v=STSv1; id=ä1"],
            "invalid",
            Some("ä1"),
            &["txt_invalid_id", "txt_syntax"],
        ),
        (
            &["v=STSv1; ID=abc"],
            "invalid",
            None,
            &["txt_missing_id", "txt_unknown_field"],
        ),
        (
            &["v=STSv1; id = abc"],
            "invalid",
            None,
            &["txt_missing_id", "txt_syntax"],
        ),
        (
            &["v=STSv1 id=abc"],
            "invalid",
            None,
            &["txt_missing_id", "txt_syntax"],
        ),
        // unknown and duplicate fields
        (
            &["v=STSv1; id=a; foo=bar"],
            "valid",
            Some("a"),
            &["txt_unknown_field"],
        ),
        (
            &["v=STSv1; foo=bar; id=a"],
            "valid",
            Some("a"),
            &["txt_unknown_field"],
        ),
        (
            &["v=STSv1; id=a; id=b"],
            "valid",
            Some("a"),
            &["txt_duplicate_field"],
        ),
        (
            &["v=STSv1; id=bad!; id=good"],
            "invalid",
            Some("bad!"),
            &["txt_invalid_id", "txt_duplicate_field"],
        ),
        (
            &["v=STSv1; id=a; v=STSv1"],
            "valid",
            Some("a"),
            &["txt_duplicate_field"],
        ),
        // other syntax: noted, still valid
        (&["v=STSv1;; id=a"], "valid", Some("a"), &["txt_syntax"]),
        (&["v=STSv1; id=a;;"], "valid", Some("a"), &["txt_syntax"]),
        (
            &["v=STSv1; id=a; junk"],
            "valid",
            Some("a"),
            &["txt_syntax"],
        ),
        (
            &["v=STSv1; id=a; x="],
            "valid",
            Some("a"),
            &["txt_unknown_field", "txt_syntax"],
        ),
        (
            &["v=STSv1; id=a; x=a=b"],
            "valid",
            Some("a"),
            &["txt_unknown_field", "txt_syntax"],
        ),
        (
            &["v=STSv1; id=a; x=é"],
            "valid",
            Some("a"),
            &["txt_unknown_field", "txt_syntax"],
        ),
        (
            &["v=STSv1; id=a; _x=1"],
            "valid",
            Some("a"),
            &["txt_syntax"],
        ),
        (
            &["v=STSv1; id=a\u{1}"],
            "invalid",
            Some("a\u{1}"),
            &["txt_invalid_id", "txt_syntax"],
        ),
    ];
    for (records, status, id, devs) in cases {
        let r = parse_sts_txt(records);
        assert_eq!(r.status.as_str(), *status, "{records:?}");
        assert_eq!(r.id.as_deref(), *id, "{records:?}");
        assert_eq!(names(&r), *devs, "{records:?}");
    }
    let r = parse_sts_txt(&[exact32.as_str()]);
    assert_eq!(
        (r.status, r.id.as_deref()),
        (RecordStatus::Valid, Some(ID32))
    );
    let r = parse_sts_txt(&[long33.as_str()]);
    assert_eq!(r.status, RecordStatus::Invalid);
    assert_eq!(names(&r), ["txt_invalid_id"]);
}

#[test]
fn character_strings_are_concatenated_without_spaces() {
    // One record made of several character-strings (e.g. split at 255 octets).
    type Strings = (&'static [&'static [u8]], RecordStatus, Option<&'static str>);
    let cases: &[Strings] = &[
        (&[b"v=STSv1; ", b"id=abc"], RecordStatus::Valid, Some("abc")),
        (
            &[b"v=ST", b"Sv1; id=a", b"bc"],
            RecordStatus::Valid,
            Some("abc"),
        ),
        (&[b"v=STSv1;", b"id=abc"], RecordStatus::Valid, Some("abc")),
        // concatenation adds no space: "id=ab" + "c d" is one id "abc d"
        (
            &[b"v=STSv1; id=ab", b"c d"],
            RecordStatus::Invalid,
            Some("abc d"),
        ),
        (&[], RecordStatus::None, None),
        (&[b"", b"v=STSv1; id=z"], RecordStatus::Valid, Some("z")),
    ];
    for (strings, status, id) in cases {
        let records = vec![strings.to_vec()];
        let r = parse_sts_records(&records);
        assert_eq!(r.status, *status, "{strings:?}");
        assert_eq!(r.id.as_deref(), *id, "{strings:?}");
    }
    // Several multi-string records.
    let records: Vec<Vec<&[u8]>> = vec![
        vec![b"v=spf1 ", b"-all"],
        vec![b"v=STSv1; id=", b"20240101T000000"],
    ];
    let r = parse_sts_records(&records);
    assert_eq!(r.status, RecordStatus::Valid);
    assert_eq!(r.id.as_deref(), Some("20240101T000000"));
    assert_eq!(names(&r), ["txt_stray_records"]);
    // Hickory's shape: Box<[Box<[u8]>]> per record.
    let hickory: Vec<Box<[Box<[u8]>]>> =
        vec![vec![b"v=STSv1; id=h".to_vec().into_boxed_slice()].into_boxed_slice()];
    assert_eq!(parse_sts_records(&hickory).id.as_deref(), Some("h"));
    // Non-UTF-8 bytes are a syntax note, not a panic.
    let records = vec![vec![b"v=STSv1; id=a; x=\xff".as_slice()]];
    let r = parse_sts_records(&records);
    assert_eq!(r.status, RecordStatus::Valid);
    assert_eq!(names(&r), ["txt_unknown_field", "txt_syntax"]);
}

#[test]
fn json_shape() {
    let r = parse_sts_txt(&["v=STSv1; id=abc", "v=spf1 -all"]);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"status": "valid", "id": "abc", "deviations": ["txt_stray_records"]})
    );
    let r = parse_sts_txt::<&str>(&[]);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"status": "none", "id": null, "deviations": []})
    );
    let back: StsRecord = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back, r);
    assert!(!r.is_valid());
}
