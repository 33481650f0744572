//! MTA-STS and TLS-RPT (RFC 8461, RFC 8460): policy bodies, the two TXT records, MX patterns,
//! and a fetched policy response as the engine evaluates it.

use std::collections::HashSet;

use crate::api::{
    Deviation, LineEnding, MAX_AGE_LIMIT, MAX_NAME_LEN, Mode, MxOutcome, PatternCheck,
    PolicyReport, Progress, RecordStatus, ResponseReader, StsRecord, TlsRptDeviation, TlsRptRecord,
    check_pattern, content_type_deviation, delivery, is_hostname, matches_any, mx_matches,
    parse_policy, parse_sts_records, parse_sts_txt, parse_tlsrpt_records, parse_tlsrpt_txt,
    unmatched,
};
use crate::{assert_canonical, split_n, txt_records};

/// Invariants of every policy report, whatever the body.
fn check_report(body: &[u8], r: &PolicyReport) {
    assert_canonical(&r.deviations);
    assert_eq!(
        r.valid,
        !r.deviations.iter().any(|d| d.invalidates()),
        "valid vs deviations"
    );
    assert_eq!(r.valid, r.errors.is_empty(), "valid vs errors");
    // One error per invalidating problem (not_utf8, version, mode, max_age, mx), each short:
    // values are quoted cut to 40 characters (at most 10 bytes each once escaped).
    assert!(r.errors.len() <= 5, "{:?}", r.errors);
    assert!(r.errors.iter().all(|e| e.len() <= 600), "{:?}", r.errors);
    assert!(r.deviations.iter().all(|d| !d.is_record_deviation()));
    // Output bounded by the input.
    assert!(r.mx.iter().map(String::len).sum::<usize>() <= body.len());
    assert!(r.version.as_ref().is_none_or(|v| v.len() <= body.len() * 3));
    let mut seen = HashSet::new();
    for p in &r.mx {
        assert!(seen.insert(p), "duplicate mx {p:?}");
        assert_eq!(
            check_pattern(p),
            PatternCheck::Valid(p.clone()),
            "mx {p:?} is not a valid normalised pattern"
        );
    }
    if r.deviations.contains(&Deviation::EmptyBody) {
        assert!(r.version.is_none() && r.mode.is_none() && r.max_age.is_none() && r.mx.is_empty());
    }
    if r.valid {
        assert_eq!(r.version.as_deref(), Some("STSv1"));
        assert!(r.mode.is_some() && r.max_age.is_some_and(|a| a <= MAX_AGE_LIMIT));
        assert!(r.mode == Some(Mode::None) || !r.mx.is_empty());
    }
    assert_eq!(r.policy().is_some(), r.valid);
    // The report's JSON form (the CLI's output) reads back to the same report.
    let json = serde_json::to_string(r).unwrap();
    assert_eq!(&serde_json::from_str::<PolicyReport>(&json).unwrap(), r);
    for d in &r.deviations {
        assert_eq!(d.as_str().parse::<Deviation>().ok(), Some(*d));
    }
}

/// `policy_body`: arbitrary bytes as the body of `https://mta-sts.<domain>/.well-known/mta-sts.txt`
/// (RFC 8461 §3.2). A valid policy, rendered with either line ending, parses to itself.
pub fn policy_body(data: &[u8]) {
    let report = parse_policy(data);
    check_report(data, &report);
    if let Some(policy) = report.policy() {
        for ending in [LineEnding::CrLf, LineEnding::Lf] {
            let body = policy.render(ending);
            let again = parse_policy(body.as_bytes());
            assert_eq!(again.policy().as_ref(), Some(&policy), "{body:?}");
            let want: &[Deviation] = match ending {
                LineEnding::CrLf => &[],
                LineEnding::Lf => &[Deviation::LfLineEndings],
            };
            assert_eq!(
                again.deviations, want,
                "a rendered policy has deviations: {body:?}"
            );
        }
    }
}

/// Invariants of an `_mta-sts` record result.
fn check_sts(r: &StsRecord) {
    assert_canonical(&r.deviations);
    assert!(
        r.deviations.iter().all(|d| d.is_record_deviation()),
        "{:?}",
        r.deviations
    );
    let has = |d| r.deviations.contains(&d);
    if has(Deviation::TxtVersionCase) {
        assert!(has(Deviation::TxtStrayRecords));
    }
    assert_eq!(
        r.status == RecordStatus::Multiple,
        has(Deviation::TxtMultipleRecords)
    );
    let invalidating = r.deviations.iter().any(|d| d.invalidates());
    match r.status {
        RecordStatus::Valid => {
            assert!(r.is_valid() && !invalidating);
            let id = r.id.as_deref().expect("a valid record has an id");
            assert!(
                (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric()),
                "id {id:?}"
            );
        }
        RecordStatus::Invalid => {
            assert!(has(Deviation::TxtMissingId) != has(Deviation::TxtInvalidId));
            assert_eq!(r.id.is_none(), has(Deviation::TxtMissingId));
        }
        RecordStatus::None | RecordStatus::Multiple => {
            assert!(r.id.is_none());
            assert!(!has(Deviation::TxtMissingId) && !has(Deviation::TxtInvalidId));
        }
    }
    let json = serde_json::to_string(r).unwrap();
    assert_eq!(&serde_json::from_str::<StsRecord>(&json).unwrap(), r);
}

/// `sts_txt`: the TXT answer at `_mta-sts.<domain>` (RFC 8461 §3.1), records split at `\n`,
/// character-strings at `\0`. The result must not depend on how a record is cut into strings,
/// and the one-string-per-record entry point must agree.
pub fn sts_txt(data: &[u8]) {
    let records = txt_records(data);
    let result = parse_sts_records(&records);
    check_sts(&result);
    let joined: Vec<Vec<u8>> = records.iter().map(|r| r.concat()).collect();
    let whole: Vec<Vec<&[u8]>> = joined.iter().map(|r| vec![r.as_slice()]).collect();
    assert_eq!(parse_sts_records(&whole), result);
    if let Ok(texts) = joined
        .iter()
        .map(|r| std::str::from_utf8(r))
        .collect::<Result<Vec<_>, _>>()
    {
        assert_eq!(parse_sts_txt(&texts), result);
    }
}

/// Invariants of a `_smtp._tls` record result.
fn check_tlsrpt(r: &TlsRptRecord) {
    assert_canonical(&r.deviations);
    let has = |d| r.deviations.contains(&d);
    if has(TlsRptDeviation::VersionCase) {
        assert!(has(TlsRptDeviation::StrayRecords));
    }
    assert_eq!(r.status == RecordStatus::Valid, !r.rua.is_empty());
    assert_eq!(
        r.status == RecordStatus::Multiple,
        has(TlsRptDeviation::MultipleRecords)
    );
    let invalidating = r.deviations.iter().any(|d| d.invalidates());
    match r.status {
        RecordStatus::Valid => assert!(!invalidating),
        RecordStatus::Invalid => {
            assert!(has(TlsRptDeviation::MissingRua) != has(TlsRptDeviation::InvalidRua));
        }
        RecordStatus::None | RecordStatus::Multiple => {
            assert!(!has(TlsRptDeviation::MissingRua) && !has(TlsRptDeviation::InvalidRua));
        }
    }
    for uri in &r.rua {
        assert!(
            !uri.bytes()
                .any(|b| b.is_ascii_whitespace() || b.is_ascii_control()),
            "{uri:?}"
        );
        let (scheme, rest) = uri.split_once(':').expect("a URI has a scheme");
        if scheme.eq_ignore_ascii_case("mailto") {
            assert!(
                rest.split_once('@')
                    .is_some_and(|(l, d)| !l.is_empty() && !d.is_empty()),
                "{uri:?}"
            );
        } else {
            assert!(scheme.eq_ignore_ascii_case("https"), "{uri:?}");
            let host = rest
                .strip_prefix("//")
                .expect("https://")
                .split(['/', '?', '#'])
                .next();
            assert!(host.is_some_and(|h| !h.is_empty()), "{uri:?}");
        }
    }
    let json = serde_json::to_string(r).unwrap();
    assert_eq!(&serde_json::from_str::<TlsRptRecord>(&json).unwrap(), r);
}

/// `tlsrpt_txt`: the TXT answer at `_smtp._tls.<domain>` (RFC 8460 §3), split as in `sts_txt`.
pub fn tlsrpt_txt(data: &[u8]) {
    let records = txt_records(data);
    let result = parse_tlsrpt_records(&records);
    check_tlsrpt(&result);
    let joined: Vec<Vec<u8>> = records.iter().map(|r| r.concat()).collect();
    let whole: Vec<Vec<&[u8]>> = joined.iter().map(|r| vec![r.as_slice()]).collect();
    assert_eq!(parse_tlsrpt_records(&whole), result);
    if let Ok(texts) = joined
        .iter()
        .map(|r| std::str::from_utf8(r))
        .collect::<Result<Vec<_>, _>>()
    {
        assert_eq!(parse_tlsrpt_txt(&texts), result);
    }
}

/// RFC 8461 §4.1 written label by label (the reference the property tests use too).
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

/// `mx_pattern`: `pattern \n host` (lossy UTF-8). `mx_matches` agrees with the label-by-label
/// reference, ignores ASCII case and one trailing dot; `check_pattern` normalises to a
/// lowercase pattern that checks as itself and matches a host it describes.
pub fn mx_pattern(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (pattern, host) = text.split_once('\n').unwrap_or((&text, ""));
    let m = mx_matches(pattern, host);
    assert_eq!(m, reference_match(pattern, host), "{pattern:?} vs {host:?}");
    assert_eq!(
        m,
        mx_matches(&pattern.to_ascii_uppercase(), &host.to_ascii_lowercase())
    );
    if !host.ends_with('.') {
        assert_eq!(m, mx_matches(pattern, &format!("{host}.")));
    }
    assert_eq!(m, matches_any(&[pattern], host));
    let expected: &[&str] = if m { &[] } else { &[host] };
    assert_eq!(unmatched(&[pattern], &[host]), expected);

    let normalised = match check_pattern(pattern) {
        PatternCheck::Valid(p) => {
            assert!(!pattern.ends_with('.'));
            p
        }
        PatternCheck::TrailingDot(p) => {
            assert!(pattern.ends_with('.'));
            p
        }
        PatternCheck::Invalid => {
            if is_hostname(pattern) {
                panic!("hostname {pattern:?} rejected as a pattern");
            }
            return;
        }
    };
    assert_eq!(normalised, normalised.to_ascii_lowercase());
    assert!(!normalised.ends_with('.') && normalised.len() <= MAX_NAME_LEN);
    assert!(normalised.eq_ignore_ascii_case(pattern.strip_suffix('.').unwrap_or(pattern)));
    assert_eq!(
        check_pattern(&normalised),
        PatternCheck::Valid(normalised.clone())
    );
    let concrete = match normalised.strip_prefix("*.") {
        Some(rest) => format!("mx.{rest}"),
        None => normalised.clone(),
    };
    assert!(
        mx_matches(&normalised, &concrete),
        "{normalised:?} does not match {concrete:?}"
    );
    assert_eq!(
        m,
        mx_matches(&normalised, host),
        "normalising {pattern:?} changed what it matches"
    );
}

/// `policy_response`: a fetched policy response as `mxscan_engine::evaluate` consumes it.
/// Sections split at `\0`: the `Content-Type` value (a lone `\x01` = no header), the body,
/// then MX host names, each judged `secure` / `insecure` / `unknown` by its length mod 3.
/// The combined deviation list stays canonical, a note never changes validity, and the
/// RFC 8461 §5 verdict agrees with a direct reading of the rule.
///
/// The HTTP framing itself (status line, headers, Content-Length / chunked / close-delimited
/// bodies, head and body caps: `read_response` and `Chunked` in `mxscan-probe`'s fetch
/// module) is private and reachable only through a TLS connection, so it is not fuzzed here;
/// see docs/fuzzing.md.
pub fn policy_response(data: &[u8]) {
    let mut parts = split_n(data, 0, 3).into_iter();
    let ct = parts.next().unwrap_or_default();
    let body = parts.next().unwrap_or_default();
    let hosts_raw = parts.next().unwrap_or_default();
    let ct = (ct != b"\x01").then(|| String::from_utf8_lossy(ct).into_owned());

    let ct_dev = content_type_deviation(ct.as_deref());
    let plain = ct.as_deref().is_some_and(|c| {
        c.split(';')
            .next()
            .unwrap_or("")
            .trim()
            .eq_ignore_ascii_case("text/plain")
    });
    assert_eq!(ct_dev.is_none(), plain, "content type {ct:?}");
    assert!(ct_dev.is_none_or(|d| d == Deviation::ContentTypeNotTextPlain && !d.invalidates()));

    let report = parse_policy(body);
    let mut with_ct = report.clone();
    if let Some(d) = ct_dev {
        with_ct.add_deviation(d);
    }
    assert_canonical(&with_ct.deviations);
    assert_eq!(with_ct.valid, report.valid, "a note changed validity");
    // What the engine does: concatenate and normalise.
    let mut deviations: Vec<Deviation> = report.deviations.clone();
    deviations.extend(ct_dev);
    Deviation::normalize(&mut deviations);
    assert_eq!(deviations, with_ct.deviations);

    let Some(policy) = report.policy() else {
        return;
    };
    let names: Vec<String> = hosts_raw
        .split(|&b| b == 0)
        .filter(|h| !h.is_empty())
        .take(16)
        .map(|h| String::from_utf8_lossy(h).into_owned())
        .collect();
    let mx: Vec<(&str, MxOutcome)> = names
        .iter()
        .map(|n| (n.as_str(), MxOutcome::ALL[n.len() % 3]))
        .collect();
    let verdict = delivery(policy.mode, &policy.mx, &mx);
    let matching: Vec<MxOutcome> = mx
        .iter()
        .filter(|(n, _)| policy.mx.iter().any(|p| reference_match(p, n)))
        .map(|(_, o)| *o)
        .collect();
    let want = if policy.mode == Mode::None {
        "no_policy"
    } else if mx.is_empty() {
        "untested"
    } else if matching.contains(&MxOutcome::Secure) {
        "ok"
    } else if matching.contains(&MxOutcome::Unknown) {
        "untested"
    } else {
        "would_fail"
    };
    assert_eq!(
        verdict.as_str(),
        want,
        "verdict for {:?} over {mx:?}",
        policy
    );
    let hosts: Vec<&str> = names.iter().map(String::as_str).collect();
    if policy.mode != Mode::None
        && !hosts.is_empty()
        && unmatched(&policy.mx, &hosts).len() == hosts.len()
    {
        assert_eq!(
            verdict.as_str(),
            "would_fail",
            "no MX matches, yet {verdict}"
        );
    }
}

/// `http_response`: the policy host's HTTP response read by `model`'s sans-io
/// `ResponseReader`. The first byte picks the body cap (0–255 bytes, so caps are hit), the
/// second the split size; the rest is the wire. Invariants: the reader never asks for 0 bytes,
/// always decides at the end of the connection, never returns a body over the cap, and decides
/// the same whatever the split (one byte at a time against the chosen split).
pub fn http_response(data: &[u8]) {
    if data.len() < 2 {
        return;
    }
    let cap = usize::from(data[0]);
    let split = usize::from(data[1]).max(1);
    let wire = &data[2..];
    let run = |split: usize| {
        let mut r = ResponseReader::new(512, cap);
        let mut rest = wire;
        loop {
            let limit = r.read_limit();
            assert!(limit >= 1, "the reader asks for at least one byte");
            if rest.is_empty() {
                match r.eof() {
                    Progress::Done(d) => return d,
                    Progress::NeedMore => panic!("eof must decide"),
                }
            }
            let n = split.min(limit).min(rest.len());
            let (part, tail) = rest.split_at(n);
            rest = tail;
            if let Progress::Done(d) = r.feed(part) {
                return d;
            }
        }
    };
    let a = run(split);
    let b = run(1);
    if let Ok(body) = &a {
        assert!(body.len() <= cap, "body over the cap");
    }
    assert_eq!(
        a.as_ref().map_err(|f| f.error),
        b.as_ref().map_err(|f| f.error),
        "the outcome depends on the split"
    );
}
