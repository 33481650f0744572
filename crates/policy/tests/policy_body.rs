//! Policy bodies (RFC 8461 §3.2): table of cases with exact deviations, plus field values and
//! error messages.

use mxscan_policy::{
    LineEnding, MAX_AGE_LIMIT, Mode, Policy, PolicyReport, content_type_deviation, parse_policy,
};

fn names(r: &PolicyReport) -> Vec<&'static str> {
    r.deviations.iter().map(|d| d.as_str()).collect()
}

/// A body from lines joined with CRLF (each line terminated).
fn crlf(lines: &[&str]) -> Vec<u8> {
    lines
        .iter()
        .flat_map(|l| format!("{l}\r\n").into_bytes())
        .collect()
}

const V: &str = "version: STSv1";
const E: &str = "mode: enforce";
const MX: &str = "mx: mx.example.com";
const A: &str = "max_age: 86400";

/// (name, body, valid, deviations)
type Case = (&'static str, Vec<u8>, bool, &'static [&'static str]);

#[test]
fn policy_table() {
    let cases: Vec<Case> = vec![
        ("clean crlf", crlf(&[V, E, MX, A]), true, &[]),
        ("bare lf", b"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n".to_vec(), true, &["lf_line_endings"]),
        ("mixed", b"version: STSv1\r\nmode: enforce\nmx: mx.example.com\r\nmax_age: 86400\n".to_vec(), true, &["mixed_line_endings"]),
        ("no final newline crlf", b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 86400".to_vec(), true, &["missing_final_newline"]),
        ("no final newline lf", b"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400".to_vec(), true, &["lf_line_endings", "missing_final_newline"]),
        ("single line", b"version: STSv1".to_vec(), false, &["missing_final_newline", "missing_mode", "missing_max_age", "missing_mx"]),
        ("trailing bare cr", b"version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmax_age: 86400\r".to_vec(), true, &["missing_final_newline"]),
        ("bom", [b"\xef\xbb\xbf".as_slice(), &crlf(&[V, E, MX, A])].concat(), true, &["bom"]),
        ("bom only", b"\xef\xbb\xbf".to_vec(), false, &["empty_body", "bom"]),
        ("empty", Vec::new(), false, &["empty_body"]),
        ("whitespace only", b"\r\n \t\n\n".to_vec(), false, &["empty_body"]),
        ("not utf8", [crlf(&[V, E, MX, A]), b"x-note: caf\xe9\r\n".to_vec()].concat(), false, &["not_utf8", "unknown_key"]),
        ("blank line between", crlf(&[V, E, "", MX, A]), true, &["blank_line"]),
        ("double final newline", [crlf(&[V, E, MX, A]), b"\r\n".to_vec()].concat(), true, &["blank_line"]),
        ("whitespace-only line", crlf(&[V, E, "   ", MX, A]), true, &["blank_line"]),
        // keys
        ("indented key", crlf(&[V, "  mode: enforce", MX, A]), true, &["leading_whitespace"]),
        ("tab-indented key", crlf(&[V, E, "\tmx: mx.example.com", A]), true, &["leading_whitespace"]),
        ("space before colon", crlf(&[V, "mode : enforce", MX, A]), true, &["space_before_colon"]),
        ("no space after colon", crlf(&["version:STSv1", "mode:enforce", "mx:mx.example.com", "max_age:86400"]), true, &[]),
        ("tab after colon", crlf(&["version:\tSTSv1", E, MX, A]), true, &[]),
        ("trailing whitespace trimmed", crlf(&["version: STSv1  ", "mode: enforce\t", "mx: mx.example.com ", "max_age: 86400 \t "]), true, &[]),
        ("Mode key case", crlf(&[V, "Mode: enforce", MX, A]), false, &["key_case", "missing_mode"]),
        ("VERSION key case", crlf(&["VERSION: STSv1", E, MX, A]), false, &["key_case", "missing_version"]),
        ("MX key case", crlf(&[V, E, "MX: mx.example.com", A]), false, &["key_case", "missing_mx"]),
        ("unknown key", crlf(&[V, E, MX, A, "foo: bar"]), true, &["unknown_key"]),
        ("max-age hyphen", crlf(&[V, E, MX, "max-age: 86400"]), false, &["unknown_key", "missing_max_age"]),
        ("duplicate mode", crlf(&[V, E, "mode: testing", MX, A]), true, &["duplicate_key"]),
        ("duplicate version", crlf(&[V, E, MX, A, V]), true, &["duplicate_key"]),
        ("duplicate max_age invalid second", crlf(&[V, E, MX, A, "max_age: x"]), true, &["duplicate_key"]),
        ("duplicate mode invalid first", crlf(&[V, "mode: Enforce", E, MX, A]), false, &["duplicate_key", "unknown_mode"]),
        // garbage
        ("comment line", crlf(&["# MTA-STS policy", V, E, MX, A]), true, &["trailing_garbage", "version_not_first"]),
        ("prose", crlf(&[V, E, MX, A, "This is our policy."]), true, &["trailing_garbage"]),
        ("bad key name", crlf(&[V, E, MX, A, "_x: y"]), true, &["trailing_garbage"]),
        ("html", b"<!DOCTYPE html>\n<html>\n<head><title>404 Not Found</title></head>\n<body>Not Found</body>\n</html>\n".to_vec(), false,
            &["lf_line_endings", "trailing_garbage", "html_body", "missing_version", "missing_mode", "missing_max_age", "missing_mx"]),
        // version
        ("missing version", crlf(&[E, MX, A]), false, &["missing_version"]),
        ("version STSv2", crlf(&["version: STSv2", E, MX, A]), false, &["invalid_version"]),
        ("version lowercase value", crlf(&["version: stsv1", E, MX, A]), false, &["invalid_version"]),
        ("version empty", crlf(&["version:", E, MX, A]), false, &["invalid_version"]),
        ("version not first", crlf(&[E, V, MX, A]), true, &["version_not_first"]),
        // mode
        ("missing mode", crlf(&[V, MX, A]), false, &["missing_mode"]),
        ("mode Enforce", crlf(&[V, "mode: Enforce", MX, A]), false, &["unknown_mode"]),
        ("mode report", crlf(&[V, "mode: report", MX, A]), false, &["unknown_mode"]),
        ("mode with comment", crlf(&[V, "mode: enforce # strict", MX, A]), false, &["unknown_mode"]),
        ("mode empty", crlf(&[V, "mode:", MX, A]), false, &["unknown_mode"]),
        ("mode testing", crlf(&[V, "mode: testing", MX, A]), true, &[]),
        ("mode none no mx", crlf(&[V, "mode: none", A]), true, &[]),
        ("mode none bad mx", crlf(&[V, "mode: none", "mx: not a host", A]), true, &["invalid_mx_pattern"]),
        ("mode unknown no mx", crlf(&[V, "mode: off", A]), false, &["unknown_mode", "missing_mx"]),
        // max_age
        ("missing max_age", crlf(&[V, E, MX]), false, &["missing_max_age"]),
        ("max_age letters", crlf(&[V, E, MX, "max_age: abc"]), false, &["invalid_max_age"]),
        ("max_age unit", crlf(&[V, E, MX, "max_age: 86400s"]), false, &["invalid_max_age"]),
        ("max_age negative", crlf(&[V, E, MX, "max_age: -1"]), false, &["invalid_max_age"]),
        ("max_age plus", crlf(&[V, E, MX, "max_age: +86400"]), false, &["invalid_max_age"]),
        ("max_age 11 digits", crlf(&[V, E, MX, "max_age: 00000086400"]), false, &["invalid_max_age"]),
        ("max_age empty", crlf(&[V, E, MX, "max_age:"]), false, &["invalid_max_age"]),
        ("max_age inner space", crlf(&[V, E, MX, "max_age: 86 400"]), false, &["invalid_max_age"]),
        ("max_age 10 digits", crlf(&[V, E, MX, "max_age: 0000086400"]), true, &[]),
        ("max_age zero", crlf(&[V, E, MX, "max_age: 0"]), true, &[]),
        ("max_age limit", crlf(&[V, E, MX, "max_age: 31557600"]), true, &[]),
        ("max_age over limit", crlf(&[V, E, MX, "max_age: 31557601"]), false, &["max_age_out_of_range"]),
        ("max_age 10 nines", crlf(&[V, E, MX, "max_age: 9999999999"]), false, &["max_age_out_of_range"]),
        // mx
        ("no mx enforce", crlf(&[V, E, A]), false, &["missing_mx"]),
        ("no mx testing", crlf(&[V, "mode: testing", A]), false, &["missing_mx"]),
        ("only invalid mx", crlf(&[V, E, "mx: mäil.example.com", A]), false, &["missing_mx", "invalid_mx_pattern"]),
        ("comma list mx", crlf(&[V, E, "mx: a.example.com, b.example.com", A]), false, &["missing_mx", "invalid_mx_pattern"]),
        ("bad wildcard mx", crlf(&[V, E, "mx: *example.com", MX, A]), true, &["invalid_mx_pattern"]),
        ("empty mx", crlf(&[V, E, "mx:", MX, A]), true, &["invalid_mx_pattern"]),
        ("trailing dot", crlf(&[V, E, "mx: mx.example.com.", A]), true, &["mx_trailing_dot"]),
        ("trailing dot duplicate", crlf(&[V, E, "mx: mx.example.com.", MX, A]), true, &["mx_trailing_dot", "duplicate_mx"]),
        ("duplicate mx case", crlf(&[V, E, MX, "mx: MX.Example.COM", A]), true, &["duplicate_mx"]),
        ("wildcard", crlf(&[V, E, "mx: *.example.com", A]), true, &[]),
    ];
    for (name, body, valid, devs) in &cases {
        let r = parse_policy(body);
        assert_eq!(names(&r), *devs, "{name}");
        assert_eq!(r.valid, *valid, "{name}");
        assert_eq!(
            r.valid,
            r.errors.is_empty(),
            "{name}: errors iff invalid: {:?}",
            r.errors
        );
        assert_eq!(r.valid, r.policy().is_some(), "{name}");
    }
}

#[test]
fn field_values() {
    let r = parse_policy(b"version: STSv1\nmode: testing\nmx: MX1.Example.com.\nmx: *.example.NET\nmx: mx1.example.com\nmax_age: 604800\n");
    assert!(r.valid);
    assert_eq!(r.version.as_deref(), Some("STSv1"));
    assert_eq!(r.mode, Some(Mode::Testing));
    assert_eq!(r.max_age, Some(604_800));
    assert_eq!(r.mx, ["mx1.example.com", "*.example.net"]);

    // First occurrence wins.
    let r = parse_policy(&crlf(&[
        V,
        "mode: none",
        E,
        "max_age: 5",
        "max_age: 6",
        "version: STSv9",
    ]));
    assert_eq!(r.mode, Some(Mode::None));
    assert_eq!(r.max_age, Some(5));
    assert_eq!(r.version.as_deref(), Some("STSv1"));

    // Out-of-range max_age is still reported; invalid version reported as written.
    let r = parse_policy(&crlf(&["version: STSv2", E, MX, "max_age: 63072000"]));
    assert_eq!(r.max_age, Some(63_072_000));
    assert_eq!(r.version.as_deref(), Some("STSv2"));
    assert_eq!(r.mode, Some(Mode::Enforce));
    assert!(!r.valid);

    // Unknown mode is not reported as a mode.
    let r = parse_policy(&crlf(&[V, "mode: enforce # x", MX, A]));
    assert_eq!(r.mode, None);

    // Non-UTF-8 body: fields from the lossy decoding, invalid overall.
    let r = parse_policy(
        b"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n# \xff\n",
    );
    assert_eq!((r.mode, r.max_age), (Some(Mode::Enforce), Some(86400)));
    assert!(!r.valid);
}

#[test]
fn error_messages_have_line_numbers() {
    let r = parse_policy(&crlf(&[
        E,
        "version: STSv2",
        MX,
        "max_age: 1w",
        "mode: testing",
    ]));
    assert_eq!(
        r.errors,
        [
            "line 2: version is \"STSv2\", expected \"STSv1\"",
            "line 4: max_age is \"1w\", expected 1 to 10 digits",
        ]
    );
    let r = parse_policy(&crlf(&[V, "mode: Enforce", "max_age: 31557601"]));
    assert_eq!(
        r.errors,
        [
            "line 2: mode is \"Enforce\", expected \"enforce\", \"testing\" or \"none\"",
            "line 3: max_age 31557601 exceeds the maximum of 31557600",
            "no valid \"mx\" pattern (required unless mode is \"none\")",
        ]
    );
    let r = parse_policy(b"");
    assert_eq!(r.errors, ["body is empty"]);
    let r = parse_policy(b"\xff");
    assert_eq!(
        r.errors[0],
        "body is not valid UTF-8 (invalid byte at offset 0)"
    );
    let r = parse_policy(b"foo: bar\n");
    assert_eq!(
        r.errors,
        [
            "missing required key \"version\"",
            "missing required key \"mode\"",
            "missing required key \"max_age\"",
            "no valid \"mx\" pattern (required unless mode is \"none\")",
        ]
    );
    // Long values are cut in messages.
    let long = format!("mode: {}", "x".repeat(1000));
    let r = parse_policy(&crlf(&[V, &long, MX, A]));
    assert!(r.errors[0].len() < 120, "{}", r.errors[0]);
}

#[test]
fn json_shape_is_exact() {
    let r = parse_policy(b"version: STSv1\nmode: enforce\nmx: mx.example.com.\nmax_age: 86400\n");
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({
            "valid": true,
            "version": "STSv1",
            "mode": "enforce",
            "max_age": 86400,
            "mx": ["mx.example.com"],
            "deviations": ["lf_line_endings", "mx_trailing_dot"],
            "errors": []
        })
    );
    let r = parse_policy(b"");
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({
            "valid": false, "version": null, "mode": null, "max_age": null,
            "mx": [], "deviations": ["empty_body"], "errors": ["body is empty"]
        })
    );
    let back: PolicyReport = serde_json::from_value(serde_json::to_value(&r).unwrap()).unwrap();
    assert_eq!(back, r);
}

#[test]
fn content_type_table() {
    let cases: &[(Option<&str>, bool)] = &[
        (Some("text/plain"), true),
        (Some("text/plain; charset=utf-8"), true),
        (Some("Text/Plain;charset=UTF-8"), true),
        (Some(" text/plain "), true),
        (Some("text/html"), false),
        (Some("text/html; charset=utf-8"), false),
        (Some("application/octet-stream"), false),
        (Some("text/plain-ish"), false),
        (Some("textplain"), false),
        (Some(""), false),
        (None, false),
    ];
    for (ct, fine) in cases {
        assert_eq!(content_type_deviation(*ct).is_none(), *fine, "{ct:?}");
    }
    // A content-type note does not invalidate a policy.
    let mut r = parse_policy(&crlf(&[V, E, MX, A]));
    r.add_deviation(content_type_deviation(Some("text/html")).unwrap());
    assert!(r.valid);
    assert_eq!(names(&r), ["content_type_not_text_plain"]);
}

#[test]
fn render_round_trips() {
    let p = Policy {
        mode: Mode::Enforce,
        max_age: MAX_AGE_LIMIT,
        mx: vec!["mx.example.com".into(), "*.example.net".into()],
    };
    assert_eq!(
        p.render(LineEnding::CrLf),
        "version: STSv1\r\nmode: enforce\r\nmx: mx.example.com\r\nmx: *.example.net\r\nmax_age: 31557600\r\n"
    );
    for ending in [LineEnding::Lf, LineEnding::CrLf] {
        let r = parse_policy(p.render(ending).as_bytes());
        assert_eq!(r.policy(), Some(p.clone()));
    }
}
