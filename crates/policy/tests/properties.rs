//! Property tests (run in plain `cargo test`): the parsers never panic, their output is bounded
//! by their input and internally consistent, valid policies survive print → parse, and
//! `mx_matches` agrees with a label-by-label reference model.

use mxscan_policy::{
    Deviation, LineEnding, MAX_AGE_LIMIT, Mode, Policy, PolicyReport, RecordStatus, mx_matches,
    parse_policy, parse_sts_records, parse_sts_txt, parse_tlsrpt_records, parse_tlsrpt_txt,
};
use proptest::prelude::*;

/// Invariants every report satisfies, whatever the input.
fn check_report(body: &[u8], r: &PolicyReport) -> Result<(), TestCaseError> {
    let mut sorted = r.deviations.clone();
    Deviation::normalize(&mut sorted);
    prop_assert_eq!(&sorted, &r.deviations, "deviations canonical");
    prop_assert_eq!(r.valid, !r.deviations.iter().any(|d| d.invalidates()));
    prop_assert_eq!(r.valid, r.errors.is_empty());
    prop_assert!(r.errors.len() <= 6);
    prop_assert!(r.errors.iter().all(|e| e.len() <= 200), "{:?}", r.errors);
    // Output bounded by input.
    prop_assert!(r.mx.iter().map(String::len).sum::<usize>() <= body.len());
    prop_assert!(r.mx.len() <= body.len() / 4 + 1);
    prop_assert!(r.version.as_ref().is_none_or(|v| v.len() <= body.len() * 3));
    let json = serde_json::to_string(r).unwrap();
    prop_assert!(
        json.len() <= 2048 + 8 * body.len(),
        "json {} for {} bytes",
        json.len(),
        body.len()
    );
    if r.valid {
        prop_assert!(r.mode.is_some() && r.max_age.is_some());
        prop_assert!(r.max_age.unwrap() <= MAX_AGE_LIMIT);
        prop_assert!(r.mode == Some(Mode::None) || !r.mx.is_empty());
        prop_assert_eq!(r.version.as_deref(), Some("STSv1"));
    }
    for p in &r.mx {
        prop_assert_eq!(p, &p.to_ascii_lowercase());
        prop_assert!(!p.ends_with('.'));
    }
    Ok(())
}

/// Line-structured policy-ish input built from the fragments that matter.
fn policy_like() -> impl Strategy<Value = Vec<u8>> {
    let key = prop_oneof![
        Just("version"),
        Just("mode"),
        Just("max_age"),
        Just("mx"),
        Just("Mode"),
        Just("MX"),
        Just("max-age"),
        Just("foo"),
        Just("  mode"),
        Just("\tmx"),
        Just("#"),
        Just("<html>"),
        Just(""),
        Just("\u{feff}version"),
    ];
    let sep = prop_oneof![
        Just(": "),
        Just(":"),
        Just(" : "),
        Just(":\t"),
        Just(""),
        Just(" ")
    ];
    let value = prop_oneof![
        Just("STSv1".to_owned()),
        Just("enforce".to_owned()),
        Just("testing".to_owned()),
        Just("none".to_owned()),
        Just("86400".to_owned()),
        Just("31557601".to_owned()),
        Just("mx.example.com".to_owned()),
        Just("*.example.com".to_owned()),
        Just("MX.example.com.".to_owned()),
        Just("enforce # x".to_owned()),
        Just(String::new()),
        "[ -~]{0,20}",
        "\\PC{0,8}",
    ];
    let ending = prop_oneof![Just("\n"), Just("\r\n"), Just(""), Just("\r")];
    let line = (key, sep, value, ending).prop_map(|(k, s, v, e)| format!("{k}{s}{v}{e}"));
    (
        prop::collection::vec(line, 0..12),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(lines, bom, bad)| {
            let mut out = Vec::new();
            if bom {
                out.extend_from_slice("\u{feff}".as_bytes());
            }
            for l in lines {
                out.extend_from_slice(l.as_bytes());
            }
            if bad {
                out.push(0xff);
            }
            out
        })
}

fn label() -> impl Strategy<Value = String> {
    "[a-z0-9]([a-z0-9-]{0,8}[a-z0-9])?"
}

fn hostname() -> impl Strategy<Value = String> {
    prop::collection::vec(label(), 1..5).prop_map(|l| l.join("."))
}

fn pattern() -> impl Strategy<Value = String> {
    (any::<bool>(), hostname()).prop_map(|(wild, h)| if wild { format!("*.{h}") } else { h })
}

fn valid_policy() -> impl Strategy<Value = Policy> {
    (
        prop::sample::select(Mode::ALL.to_vec()),
        0..=MAX_AGE_LIMIT,
        prop::collection::vec(pattern(), 0..6),
    )
        .prop_filter_map("mx required unless mode none", |(mode, max_age, mut mx)| {
            let mut seen = std::collections::HashSet::new();
            mx.retain(|p| seen.insert(p.clone()));
            (mode == Mode::None || !mx.is_empty()).then_some(Policy { mode, max_age, mx })
        })
}

/// Reference model for RFC 8461 §4.1: compare label by label.
fn reference_match(pattern: &str, host: &str) -> bool {
    let p = pattern
        .strip_suffix('.')
        .unwrap_or(pattern)
        .to_ascii_lowercase();
    let h = host.strip_suffix('.').unwrap_or(host).to_ascii_lowercase();
    if p.is_empty() || h.is_empty() {
        return false;
    }
    let pl: Vec<&str> = p.split('.').collect();
    let hl: Vec<&str> = h.split('.').collect();
    if pl.len() > 1 && pl[0] == "*" {
        hl.len() == pl.len() && !hl[0].is_empty() && pl[1..] == hl[1..]
    } else {
        p == h
    }
}

fn name_from(labels: &[&'static str]) -> impl Strategy<Value = String> {
    (
        prop::collection::vec(prop::sample::select(labels.to_vec()), 1..5),
        any::<bool>(),
        any::<bool>(),
    )
        .prop_map(|(l, upper, dot)| {
            let mut s = l.join(".");
            if upper {
                s = s.to_ascii_uppercase();
            }
            if dot {
                s.push('.');
            }
            s
        })
}

fn txt_fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("v=STSv1".to_owned()),
        Just("v=TLSRPTv1".to_owned()),
        Just("V=stsv1".to_owned()),
        Just(";".to_owned()),
        Just("; ".to_owned()),
        Just(" ".to_owned()),
        Just("id=".to_owned()),
        Just("rua=".to_owned()),
        Just("mailto:a@example.com".to_owned()),
        Just("https://r.example.com".to_owned()),
        Just(",".to_owned()),
        Just("=".to_owned()),
        "[a-zA-Z0-9]{0,40}",
        "\\PC{0,4}",
    ]
}

fn txt_record() -> impl Strategy<Value = String> {
    prop::collection::vec(txt_fragment(), 0..10).prop_map(|f| f.concat())
}

proptest! {
    #[test]
    fn policy_never_panics_on_bytes(body in prop::collection::vec(any::<u8>(), 0..1024)) {
        let r = parse_policy(&body);
        check_report(&body, &r)?;
    }

    #[test]
    fn policy_never_panics_on_lines(body in policy_like()) {
        let r = parse_policy(&body);
        check_report(&body, &r)?;
    }

    #[test]
    fn valid_policies_round_trip(policy in valid_policy(), crlf in any::<bool>(), upper in any::<bool>()) {
        let ending = if crlf { LineEnding::CrLf } else { LineEnding::Lf };
        let mut printed = policy.clone();
        if upper {
            printed.mx = printed.mx.iter().map(|p| p.to_ascii_uppercase()).collect();
        }
        let body = printed.render(ending);
        let r = parse_policy(body.as_bytes());
        prop_assert!(r.valid, "{body:?} -> {r:?}");
        prop_assert_eq!(r.mode, Some(policy.mode));
        prop_assert_eq!(r.max_age, Some(policy.max_age));
        prop_assert_eq!(&r.mx, &policy.mx);
        prop_assert_eq!(r.version.as_deref(), Some("STSv1"));
        let expected: Vec<Deviation> = if crlf { vec![] } else { vec![Deviation::LfLineEndings] };
        prop_assert_eq!(&r.deviations, &expected);
        prop_assert_eq!(r.policy(), Some(policy));
    }

    #[test]
    fn sts_txt_never_panics(records in prop::collection::vec(prop::collection::vec(prop::collection::vec(any::<u8>(), 0..64), 0..4), 0..4)) {
        let r = parse_sts_records(&records);
        prop_assert_eq!(r.status == RecordStatus::Valid, r.deviations.iter().all(|d| !d.invalidates()) && r.status != RecordStatus::None);
        let _ = parse_tlsrpt_records(&records);
    }

    #[test]
    fn txt_parsers_invariants(records in prop::collection::vec(txt_record(), 0..4)) {
        let r = parse_sts_txt(&records);
        let mut sorted = r.deviations.clone();
        Deviation::normalize(&mut sorted);
        prop_assert_eq!(&sorted, &r.deviations);
        prop_assert!(r.deviations.iter().all(|d| d.is_record_deviation()));
        match r.status {
            RecordStatus::Valid => {
                let id = r.id.as_deref().unwrap();
                prop_assert!((1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()));
                prop_assert!(r.deviations.iter().all(|d| !d.invalidates()));
            }
            RecordStatus::Multiple | RecordStatus::None => prop_assert!(r.id.is_none()),
            RecordStatus::Invalid => prop_assert!(r.deviations.iter().any(|d| d.invalidates())),
        }
        let t = parse_tlsrpt_txt(&records);
        prop_assert_eq!(t.status == RecordStatus::Valid, !t.rua.is_empty());
        let mut sorted = t.deviations.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(&sorted, &t.deviations);
        for uri in &t.rua {
            let lower = uri.to_ascii_lowercase();
            prop_assert!(lower.starts_with("mailto:") || lower.starts_with("https://"));
        }
    }

    #[test]
    fn mx_matches_agrees_with_reference(
        pattern in prop_oneof![
            name_from(&["*", "a", "b", "mx", "example", "com", ""]),
            name_from(&["a", "mx", "example", "com"]).prop_map(|n| format!("*.{n}")),
        ],
        host in name_from(&["a", "b", "mx", "example", "com", "", "*"]),
    ) {
        prop_assert_eq!(mx_matches(&pattern, &host), reference_match(&pattern, &host), "{} vs {}", pattern, host);
    }

    #[test]
    fn wildcard_matches_one_label(label in label(), base in hostname()) {
        let pattern = format!("*.{base}");
        let one = format!("{label}.{base}");
        let two = format!("{label}.{label}.{base}");
        prop_assert!(mx_matches(&pattern, &one));
        let upper_dot = format!("{}.", one.to_ascii_uppercase());
        prop_assert!(mx_matches(&pattern, &upper_dot));
        prop_assert!(!mx_matches(&pattern, &two));
        prop_assert!(!mx_matches(&pattern, &base));
    }
}
