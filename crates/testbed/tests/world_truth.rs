//! Ground truth of the world: coverage of the catalogue, determinism, a golden file,
//! realistic shares, and the vocabulary contract of docs/schema.md.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::catalogue;
use mxscan_testbed::truth::{DomainTruth, ScanTrust, truth_for_list};
use mxscan_testbed::world::HostTarget;
use mxscan_testkit::bed::{domains, world};

#[test]
fn stress_covers_every_scenario_of_every_dimension() {
    let w = world(11, Profile::Stress);
    let list = domains(11, 3_000, Profile::Stress);
    let mut seen: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    for t in truth_for_list(&w, &list) {
        seen.entry("dns").or_default().insert(t.scenario.dns);
        seen.entry("sts").or_default().insert(t.scenario.sts);
        seen.entry("tlsrpt").or_default().insert(t.scenario.tlsrpt);
        for row in &t.mx {
            if let Some(s) = row.scenario {
                seen.entry("smtp").or_default().insert(s);
            }
            assert!(
                !row.ambiguous,
                "synthetic lists are collision-free: {row:?}"
            );
        }
    }
    for (dim, all) in catalogue() {
        let want: BTreeSet<&str> = all.into_iter().collect();
        assert_eq!(seen.get(dim), Some(&want), "dimension {dim}");
    }
}

const DNS_STATUS: &[&str] = &[
    "ok",
    "nxdomain",
    "no_mail_host",
    "servfail",
    "refused",
    "timeout",
    "error",
];
const AGG: &[&str] = &["all", "some", "none", "untested", "no_mx"];
const RECORD: &[&str] = &["none", "valid", "invalid", "multiple", "dns_error"];
const POLICY: &[&str] = &["not_fetched", "ok", "fetch_error", "invalid"];
const FETCH: &[&str] = &[
    "dns",
    "connect",
    "timeout",
    "tls_untrusted",
    "tls_expired",
    "tls_name_mismatch",
    "tls_other",
    "http_status",
    "redirect",
    "too_large",
    "io",
];
const DELIVERY: &[&str] = &["no_policy", "ok", "would_fail", "untested"];
const PROBE: &[&str] = &[
    "ok",
    "blocked",
    "connect_refused",
    "connect_timeout",
    "greeting_timeout",
    "greeting_421",
    "greeting_rejected",
    "ehlo_rejected",
    "no_starttls",
    "starttls_rejected",
    "tls_failed",
    "io_error",
    "protocol_error",
    "timeout",
    "closed_before_greeting",
    "tls_legacy",
];
const CERT: &[&str] = &[
    "valid",
    "expired",
    "not_yet_valid",
    "name_mismatch",
    "untrusted_issuer",
    "self_signed",
    "incomplete_chain",
    "other",
];

/// Expected columns of one SMTP class (see `scenarios_produce_their_documented_columns`).
type SmtpRow = (
    &'static str,
    Option<bool>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    Option<&'static str>,
    bool,
);

fn check_vocabulary(t: &DomainTruth) {
    assert!(DNS_STATUS.contains(&t.dns_status.as_str()), "{t:?}");
    assert!(
        AGG.contains(&t.starttls.as_str()) && AGG.contains(&t.cert_valid.as_str()),
        "{t:?}"
    );
    assert!(
        RECORD.contains(&t.sts_record.as_str()) && RECORD.contains(&t.tlsrpt_record.as_str()),
        "{t:?}"
    );
    assert!(POLICY.contains(&t.sts_policy.as_str()), "{t:?}");
    assert!(
        t.sts_fetch_error
            .is_none_or(|e| FETCH.contains(&e.as_str())),
        "{t:?}"
    );
    assert!(DELIVERY.contains(&t.sts_delivery.as_str()), "{t:?}");
    assert!(
        t.sts_mode
            .is_none_or(|m| ["enforce", "testing", "none"].contains(&m.as_str()))
    );
    for row in &t.mx {
        assert!(PROBE.contains(&row.smtp_status.as_str()), "{row:?}");
        assert!(
            row.cert_status.is_none_or(|c| CERT.contains(&c.as_str())),
            "{row:?}"
        );
        assert_eq!(row.blocked, row.smtp_status == "blocked");
        if row.cert_status.is_some() {
            assert!(matches!(row.smtp_status.as_str(), "ok" | "tls_legacy"));
        }
        // The TLS columns of the probe (truth module docs).
        assert_eq!(
            row.tls_failure.is_some(),
            row.smtp_status == "tls_failed",
            "{row:?}"
        );
        assert_eq!(
            row.modern_tls_failure.is_some(),
            row.smtp_status == "tls_legacy",
            "{row:?}"
        );
        if matches!(row.smtp_status.as_str(), "ok" | "tls_legacy") {
            assert!(row.tls_max_version.is_some(), "{row:?}");
        }
        let modern = row.modern_tls_failure.or(row.tls_failure);
        assert_eq!(
            row.legacy_hello,
            modern.is_some_and(|f| matches!(
                f.as_str(),
                "protocol_version" | "no_shared_cipher" | "alert"
            )),
            "{row:?}"
        );
        assert_eq!(row.sts_match.is_some(), t.sts_policy == "ok");
    }
    // Invariants of the conventions.
    if t.null_mx {
        assert!(t.mx_hosts.is_empty() && t.mx.is_empty() && t.dns_status == "ok");
    }
    if t.mx.is_empty() {
        assert_eq!(t.starttls, "no_mx");
    }
    if t.sts_policy != "ok" {
        assert!(t.sts_mx_unmatched.is_empty());
        assert_eq!(t.sts_delivery, "no_policy");
    }
    if t.sts_record != "valid" {
        assert_eq!(t.sts_policy, "not_fetched");
    }
    assert_eq!(t.sts_fetch_error.is_some(), t.sts_policy == "fetch_error");
}

/// Independent table: what each scenario must produce (spot-checks the truth logic).
#[test]
fn scenarios_produce_their_documented_columns() {
    let w = world(5, Profile::Stress);
    let list = domains(5, 3_000, Profile::Stress);
    let dns_expect: HashMap<&str, &str> = [
        ("nxdomain", "nxdomain"),
        ("servfail", "servfail"),
        ("timeout", "timeout"),
        ("no_mail_host", "no_mail_host"),
    ]
    .into_iter()
    .collect();
    // sts scenario -> (sts_record, sts_policy, sts_fetch_error)
    let sts_expect: HashMap<&str, (&str, &str, Option<&str>)> = [
        ("none", ("none", "not_fetched", None)),
        ("enforce", ("valid", "ok", None)),
        ("testing", ("valid", "ok", None)),
        ("mode_none", ("valid", "ok", None)),
        ("policy_lf", ("valid", "ok", None)),
        ("wildcard", ("valid", "ok", None)),
        ("mx_not_covered", ("valid", "ok", None)),
        ("enforce_mx_insecure", ("valid", "ok", None)),
        ("txt_bad_id", ("invalid", "not_fetched", None)),
        ("txt_missing_id", ("invalid", "not_fetched", None)),
        ("txt_multiple", ("multiple", "not_fetched", None)),
        ("txt_huge", ("valid", "ok", None)),
        ("txt_servfail", ("dns_error", "not_fetched", None)),
        ("host_nxdomain", ("valid", "fetch_error", Some("dns"))),
        ("refused", ("valid", "fetch_error", Some("connect"))),
        (
            "cert_untrusted",
            ("valid", "fetch_error", Some("tls_untrusted")),
        ),
        (
            "cert_expired",
            ("valid", "fetch_error", Some("tls_expired")),
        ),
        (
            "cert_wrong_name",
            ("valid", "fetch_error", Some("tls_name_mismatch")),
        ),
        ("http_404", ("valid", "fetch_error", Some("http_status"))),
        ("redirect_301", ("valid", "fetch_error", Some("redirect"))),
        ("content_type_html", ("valid", "ok", None)),
        ("too_large", ("valid", "fetch_error", Some("too_large"))),
        ("slowloris", ("valid", "fetch_error", Some("timeout"))),
        ("policy_missing_mx", ("valid", "invalid", None)),
        ("policy_bad_max_age", ("valid", "invalid", None)),
        ("policy_unknown_mode", ("valid", "invalid", None)),
        ("policy_max_age_out_of_range", ("valid", "invalid", None)),
        ("html_200", ("valid", "invalid", None)),
    ]
    .into_iter()
    .collect();
    let tlsrpt_expect: HashMap<&str, &str> = [
        ("none", "none"),
        ("mailto", "valid"),
        ("https", "valid"),
        ("no_rua", "invalid"),
        ("bad_scheme", "invalid"),
        ("multiple", "multiple"),
        ("servfail", "dns_error"),
    ]
    .into_iter()
    .collect();
    // smtp class -> (smtp_status, starttls, cert_status for a dedicated host,
    //                tls_max_version, tls_failure, modern_tls_failure, legacy hello)
    let smtp_expect: HashMap<&str, SmtpRow> = [
        (
            "starttls_valid",
            (
                "ok",
                Some(true),
                Some("valid"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "cert_expired",
            (
                "ok",
                Some(true),
                Some("expired"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "cert_not_yet_valid",
            (
                "ok",
                Some(true),
                Some("not_yet_valid"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "cert_wrong_name",
            (
                "ok",
                Some(true),
                Some("name_mismatch"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "cert_self_signed",
            (
                "ok",
                Some(true),
                Some("self_signed"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "cert_unknown_issuer",
            (
                "ok",
                Some(true),
                Some("untrusted_issuer"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "cert_incomplete_chain",
            (
                "ok",
                Some(true),
                Some("incomplete_chain"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "no_starttls",
            ("no_starttls", Some(false), None, None, None, None, false),
        ),
        (
            "starttls_454",
            (
                "starttls_rejected",
                Some(true),
                None,
                None,
                None,
                None,
                false,
            ),
        ),
        (
            "starttls_502",
            (
                "starttls_rejected",
                Some(true),
                None,
                None,
                None,
                None,
                false,
            ),
        ),
        (
            "tls_garbage",
            (
                "tls_failed",
                Some(true),
                None,
                None,
                Some("not_tls"),
                None,
                false,
            ),
        ),
        (
            "tls_alert",
            (
                "tls_failed",
                Some(true),
                None,
                None,
                Some("no_shared_cipher"),
                None,
                true,
            ),
        ),
        (
            "greeting_421",
            ("greeting_421", None, None, None, None, None, false),
        ),
        (
            "greeting_554",
            ("greeting_rejected", None, None, None, None, None, false),
        ),
        (
            "ehlo_rejected",
            ("ehlo_rejected", None, None, None, None, None, false),
        ),
        (
            "multiline",
            (
                "ok",
                Some(true),
                Some("valid"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "greet_delay",
            (
                "ok",
                Some(true),
                Some("valid"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "tarpit",
            ("greeting_timeout", None, None, None, None, None, false),
        ),
        (
            "reset",
            (
                "closed_before_greeting",
                None,
                None,
                None,
                None,
                None,
                false,
            ),
        ),
        (
            "starttls_injection",
            (
                "ok",
                Some(true),
                Some("valid"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "ehlo_oversized",
            ("protocol_error", None, None, None, None, None, false),
        ),
        (
            "ehlo_drop",
            ("io_error", None, None, None, None, None, false),
        ),
        (
            "tls10_only",
            (
                "tls_legacy",
                Some(true),
                Some("valid"),
                Some("TLSv1.0"),
                None,
                Some("protocol_version"),
                true,
            ),
        ),
        (
            "tls11_only",
            (
                "tls_legacy",
                Some(true),
                Some("valid"),
                Some("TLSv1.1"),
                None,
                Some("protocol_version"),
                true,
            ),
        ),
        (
            "static_rsa_only",
            (
                "tls_legacy",
                Some(true),
                Some("valid"),
                Some("TLSv1.2"),
                None,
                Some("no_shared_cipher"),
                true,
            ),
        ),
        (
            "cbc_only",
            (
                "tls_legacy",
                Some(true),
                Some("valid"),
                Some("TLSv1.2"),
                None,
                Some("no_shared_cipher"),
                true,
            ),
        ),
        (
            "tls13_only",
            (
                "ok",
                Some(true),
                Some("valid"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "accept_close",
            (
                "closed_before_greeting",
                None,
                None,
                None,
                None,
                None,
                false,
            ),
        ),
        (
            "aia_incomplete_chain",
            (
                "ok",
                Some(true),
                Some("incomplete_chain"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "aia_tarpit",
            (
                "ok",
                Some(true),
                Some("incomplete_chain"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
        (
            "aia_loop",
            (
                "ok",
                Some(true),
                Some("untrusted_issuer"),
                Some("TLSv1.3"),
                None,
                None,
                false,
            ),
        ),
    ]
    .into_iter()
    .collect();
    for d in &list {
        let t = w.expected(d);
        check_vocabulary(&t);
        if let Some(s) = dns_expect.get(t.scenario.dns) {
            assert_eq!(t.dns_status, *s, "{t:?}");
        } else {
            assert_eq!(t.dns_status, "ok", "{t:?}");
        }
        match t.scenario.dns {
            "null_mx" => assert!(t.null_mx),
            "implicit_mx" => {
                assert!(t.implicit_mx);
                assert_eq!(t.mx_hosts, vec![d.clone()]);
            }
            "mx_unresolved" => assert_eq!(t.mx_unresolved, vec![format!("mx1.{d}")]),
            "mx_private" => assert!(t.mx[0].blocked && t.mx[0].exchange == format!("mx1.{d}")),
            "mx_hoster_shared" => {
                assert!(
                    t.mx.iter()
                        .all(|r| r.cert_status.is_none_or(|c| c != "valid")),
                    "{t:?}"
                )
            }
            "mx_big_provider" => assert_eq!(t.cert_valid, "all", "{t:?}"),
            _ => {}
        }
        let (rec, pol, err) = sts_expect[t.scenario.sts];
        assert_eq!(
            (
                t.sts_record.as_str(),
                t.sts_policy.as_str(),
                t.sts_fetch_error.map(|e| e.as_str())
            ),
            (rec, pol, err),
            "{t:?}"
        );
        match t.scenario.sts {
            "enforce_mx_insecure" => assert_eq!(t.sts_delivery, "would_fail", "{t:?}"),
            "mx_not_covered" if !t.mx.is_empty() => {
                assert_eq!(t.sts_delivery, "would_fail", "{t:?}");
                assert_eq!(t.sts_mx_unmatched, t.mx_hosts);
            }
            "enforce" | "policy_lf" | "wildcard" | "testing" | "txt_huge" => {
                assert!(t.sts_mx_unmatched.is_empty(), "{t:?}")
            }
            "mode_none" => assert_eq!(t.sts_delivery, "no_policy"),
            "content_type_html" => {
                assert_eq!(t.sts_deviations, vec!["content_type_not_text_plain"])
            }
            _ => {}
        }
        assert_eq!(t.tlsrpt_record, tlsrpt_expect[t.scenario.tlsrpt], "{t:?}");
        for row in &t.mx {
            let Some(class) = row.scenario else { continue };
            let (status, starttls, cert, version, failure, modern, legacy) = smtp_expect[class];
            assert_eq!(
                (row.smtp_status.as_str(), row.starttls),
                (status, starttls),
                "{row:?}"
            );
            assert_eq!(
                (
                    row.tls_max_version.map(|v| v.as_str()),
                    row.tls_failure.map(|f| f.as_str()),
                    row.modern_tls_failure.map(|f| f.as_str()),
                    row.legacy_hello
                ),
                (version, failure, modern, legacy),
                "{row:?}"
            );
            let shared = matches!(
                t.scenario.dns,
                "mx_big_provider" | "mx_hoster_shared" | "mx_hoster_named"
            );
            if shared && cert == Some("valid") {
                // A shared certificate is for the provider's names only.
                assert!(
                    matches!(
                        row.cert_status.map(|c| c.as_str()),
                        Some("valid" | "name_mismatch")
                    ),
                    "{row:?}"
                );
            } else {
                assert_eq!(row.cert_status.map(|c| c.as_str()), cert, "{row:?}");
            }
        }
    }
}

/// The certificate columns of the chain classes under each trust a scan can be given
/// (`ScanTrust`): the bundle (intermediate known) or the root alone, AIA on or off.
/// (cert_status, chain_completed) per class, for (bundle+AIA, bundle without AIA,
/// root+AIA, root without AIA).
#[test]
fn certificate_columns_follow_the_scan_trust() {
    type Cell = (&'static str, bool);
    let inc: Cell = ("incomplete_chain", true);
    let unt: Cell = ("untrusted_issuer", false);
    let table: [(&str, [Cell; 4]); 6] = [
        ("starttls_valid", [("valid", false); 4]),
        ("cert_unknown_issuer", [unt; 4]),
        ("cert_incomplete_chain", [inc, inc, unt, unt]),
        ("aia_incomplete_chain", [inc, inc, inc, unt]),
        ("aia_tarpit", [inc, inc, unt, unt]),
        ("aia_loop", [unt; 4]),
    ];
    let trusts = [
        ScanTrust::default(),
        ScanTrust {
            intermediate_known: true,
            aia: false,
        },
        ScanTrust::ROOT_ONLY,
        ScanTrust {
            intermediate_known: false,
            aia: false,
        },
    ];
    let w = world(5, Profile::Stress);
    let list = domains(5, 3_000, Profile::Stress);
    let mut seen = std::collections::BTreeSet::new();
    for d in &list {
        for (i, trust) in trusts.iter().enumerate() {
            for row in w.expected_with(d, *trust).mx {
                let Some(class) = row.scenario else { continue };
                if !matches!(row.smtp_status.as_str(), "ok" | "tls_legacy") {
                    assert_eq!(row.chain_completed, None, "{row:?}");
                    continue;
                }
                let Some((_, cells)) = table.iter().find(|(c, _)| *c == class) else {
                    assert!(row.chain_completed.is_some(), "{row:?}");
                    continue;
                };
                let (cert, completed) = cells[i];
                if cert != "valid" {
                    assert_eq!(
                        row.cert_status.map(|c| c.as_str()),
                        Some(cert),
                        "{trust:?} {row:?}"
                    );
                }
                assert_eq!(row.chain_completed, Some(completed), "{trust:?} {row:?}");
                seen.insert(class);
            }
        }
    }
    assert_eq!(
        seen.len(),
        table.len(),
        "every chain class in the list: {seen:?}"
    );
    // The default is the bundle with AIA: `expected` is `expected_with` that trust.
    for d in list.iter().take(200) {
        assert_eq!(w.expected(d), w.expected_with(d, ScanTrust::default()));
    }
}

#[test]
fn same_seed_same_world_other_seed_other_world() {
    let list = domains(42, 200, Profile::Realistic);
    let a = world(42, Profile::Realistic);
    let b = world(42, Profile::Realistic);
    let c = world(43, Profile::Realistic);
    let mut differs = 0;
    for d in &list {
        assert_eq!(a.expected(d), b.expected(d));
        assert_eq!(a.scenario(d), b.scenario(d));
        if a.expected(d) != c.expected(d) {
            differs += 1;
        }
    }
    assert!(differs > 50, "only {differs} of 200 differ between seeds");
    assert_eq!(domains(42, 200, Profile::Realistic), list);
    assert_ne!(domains(43, 200, Profile::Realistic), list);
}

/// Golden file: the truth of 50 names at seed 42 (stress), committed. Proves the world is
/// the same across processes, platforms and releases. Regenerate (deliberately!) with
/// `MXSCAN_UPDATE_GOLDEN=1 cargo test -p mxscan-testbed --test world_truth golden`.
#[test]
fn golden_truth_seed_42() {
    let w = world(42, Profile::Stress);
    let list = domains(42, 50, Profile::Stress);
    let truths: Vec<DomainTruth> = truth_for_list(&w, &list).collect();
    let json = serde_json::to_string_pretty(&truths).unwrap() + "\n";
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/testdata/world_golden_seed42.json"
    );
    if std::env::var_os("MXSCAN_UPDATE_GOLDEN").is_some() {
        std::fs::write(path, &json).unwrap();
    }
    let golden = std::fs::read_to_string(path).expect("golden file (see test docs)");
    assert!(golden == json, "world changed: truth differs from {path}");
}

#[test]
fn realistic_shares_match_the_documented_targets() {
    let n = 20_000;
    let w = world(2024, Profile::Realistic);
    let list = domains(2024, n, Profile::Realistic);
    let (mut mail, mut starttls, mut valid, mut sts, mut sts_bad, mut tlsrpt, mut dns_fail) =
        (0u32, 0u32, 0u32, 0u32, 0u32, 0u32, 0u32);
    for d in &list {
        let t = w.expected(d);
        check_vocabulary(&t);
        if matches!(t.dns_status.as_str(), "nxdomain" | "servfail" | "timeout") {
            dns_fail += 1;
        }
        if t.dns_status == "ok" && !t.mx.is_empty() {
            mail += 1;
            if matches!(t.starttls.as_str(), "all" | "some") {
                starttls += 1;
            }
            if t.cert_valid == "all" {
                valid += 1;
            }
        }
        if t.sts_record != "none" {
            sts += 1;
            if t.sts_policy != "ok" {
                sts_bad += 1;
            }
        }
        if t.tlsrpt_record != "none" {
            tlsrpt += 1;
        }
    }
    let share = |x: u32, of: u32| f64::from(x) / f64::from(of);
    let n = n as u32;
    let report = format!(
        "mail {:.3} starttls {:.3} valid {:.3} sts {:.4} sts_bad {:.3} tlsrpt {:.4} dns_fail {:.3}",
        share(mail, n),
        share(starttls, mail),
        share(valid, mail),
        share(sts, n),
        share(sts_bad, sts),
        share(tlsrpt, n),
        share(dns_fail, n)
    );
    println!("{report}");
    assert!((0.75..0.85).contains(&share(mail, n)), "{report}");
    assert!((0.72..0.88).contains(&share(starttls, mail)), "{report}");
    assert!((0.25..0.50).contains(&share(valid, mail)), "{report}");
    assert!((0.006..0.015).contains(&share(sts, n)), "{report}");
    assert!((0.15..0.55).contains(&share(sts_bad, sts)), "{report}");
    assert!((0.004..0.012).contains(&share(tlsrpt, n)), "{report}");
    assert!(tlsrpt < sts, "{report}");
    assert!((0.03..0.09).contains(&share(dns_fail, n)), "{report}");
}

#[test]
fn truth_for_list_marks_dedicated_address_collisions() {
    let w = world(9, Profile::Stress);
    // Brute-force two domains whose dedicated hosts share an address.
    let mut owner: HashMap<std::net::Ipv4Addr, String> = HashMap::new();
    let mut pair = None;
    for i in 0..400_000 {
        let d = format!("c{i}.example");
        let sc = w.scenario(&d);
        for mx in w.mx_plan(&d, &sc) {
            if let HostTarget::Dedicated { addr, .. } = mx.target {
                if let Some(other) = owner.get(&addr) {
                    if *other != d {
                        pair = Some((other.clone(), d.clone()));
                    }
                } else {
                    owner.insert(addr, d.clone());
                }
            }
        }
        if pair.is_some() {
            break;
        }
    }
    let (a, b) = pair.expect("a collision among 400k names");
    let both: Vec<DomainTruth> = truth_for_list(&w, &[a.clone(), b.clone()]).collect();
    assert!(
        both.iter().all(|t| t.mx.iter().any(|r| r.ambiguous)),
        "{both:?}"
    );
    let alone: Vec<DomainTruth> = truth_for_list(&w, &[a.clone(), a]).collect();
    assert!(
        alone.iter().all(|t| t.mx.iter().all(|r| !r.ambiguous)),
        "duplicates are not collisions"
    );
}

#[test]
fn synthetic_names_unique_realistic_and_fast() {
    let start = std::time::Instant::now();
    let list = domains(1, 100_000, Profile::Realistic);
    let elapsed = start.elapsed();
    assert_eq!(list.len(), 100_000);
    let set: std::collections::HashSet<&String> = list.iter().collect();
    assert_eq!(set.len(), list.len(), "names are unique");
    let com = list.iter().filter(|d| d.ends_with(".com")).count() as f64 / 100_000.0;
    assert!((0.40..0.52).contains(&com), "com share {com}");
    for tld in [
        ".de", ".co.uk", ".ru", ".org", ".net", ".jp", ".br", ".fr", ".nl", ".io",
    ] {
        assert!(list.iter().any(|d| d.ends_with(tld)), "no {tld}");
    }
    assert!(
        list.iter()
            .all(|d| !mxscan_testbed::world::has_host_label(d))
    );
    assert!(elapsed.as_secs_f64() < 10.0, "100k names took {elapsed:?}");
    println!("100k synthetic names in {elapsed:?}");
}

#[test]
fn synthetic_names_never_share_a_dedicated_address() {
    let w = world(77, Profile::Realistic);
    let list = domains(77, 20_000, Profile::Realistic);
    let mut seen = std::collections::HashSet::new();
    for d in &list {
        for row in w.expected(d).mx {
            let a: std::net::Ipv4Addr = row.address.parse().unwrap();
            if mxscan_testbed::addr::is_dedicated(a) {
                assert!(seen.insert(a), "{a} used twice ({})", row.exchange);
            }
        }
    }
}
