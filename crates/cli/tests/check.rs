//! `mxscan check` end to end against the testbed: one domain of every scenario class
//! (DNS, MTA-STS, TLS-RPT, SMTP host class), checked with the real binary. The JSON report
//! must agree with the ground truth column by column (through the survey it writes with
//! `--out`, compared like every scan), the in-memory run must print the same rows, the exit
//! status must say whether the truth shows a problem, and usage errors exit 2.

mod common;

use std::collections::{BTreeSet, HashMap};

use common::*;
use mxscan_testbed::profile::Profile;
use mxscan_testbed::truth::DomainTruth;

/// The testbed flags without `--progress` (a scan option `check` does not have).
fn check_flags(h: &Harness) -> Vec<String> {
    let mut flags = h.scan_flags();
    let i = flags.iter().position(|f| f == "--progress").unwrap();
    flags.drain(i..i + 2);
    flags.extend(Harness::fast_flags());
    flags
}

/// Domains of the world's synthetic list until every DNS, MTA-STS and TLS-RPT scenario and
/// every SMTP host class seen in the first `pool` names is covered.
fn one_of_each_class(h: &Harness, pool: u64) -> Vec<DomainTruth> {
    let list = h.write_list("pool.csv", pool);
    let mut seen = BTreeSet::new();
    let mut picked = Vec::new();
    for t in h.truth(&list) {
        let mut classes = vec![
            format!("dns:{}", t.scenario.dns),
            format!("sts:{}", t.scenario.sts),
            format!("tlsrpt:{}", t.scenario.tlsrpt),
        ];
        classes.extend(
            t.mx.iter()
                .filter_map(|m| m.scenario.map(|c| format!("smtp:{c}"))),
        );
        if classes.iter().any(|c| !seen.contains(c)) && !t.mx.iter().any(|m| m.ambiguous) {
            seen.extend(classes);
            picked.push(t);
        }
    }
    assert!(
        seen.iter().filter(|c| c.starts_with("smtp:")).count() >= 10,
        "the pool covers the SMTP classes: {seen:?}"
    );
    picked
}

/// What the truth says is wrong with a domain, restated independently of the engine.
fn truth_has_problem(t: &DomainTruth) -> bool {
    t.dns_status != "ok"
        || !t.mx_unresolved.is_empty()
        || t.mx
            .iter()
            .any(|m| m.smtp_status != "ok" || m.cert_status.is_some_and(|c| c != "valid"))
        || matches!(t.sts_record.as_str(), "invalid" | "multiple" | "dns_error")
        || matches!(t.sts_policy.as_str(), "fetch_error" | "invalid")
        || t.sts_delivery == "would_fail"
        || matches!(
            t.tlsrpt_record.as_str(),
            "invalid" | "multiple" | "dns_error"
        )
}

fn json_lines(stdout: &[u8]) -> HashMap<String, serde_json::Value> {
    String::from_utf8_lossy(stdout)
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("a JSON object per line");
            (v["domain"].as_str().unwrap().to_string(), v)
        })
        .collect()
}

#[test]
fn check_agrees_with_the_truth_for_every_scenario_class() {
    if !sandboxed("check_agrees_with_the_truth_for_every_scenario_class") {
        return;
    }
    let _serial = serial();
    for (seed, profile) in [(31, Profile::Stress), (32, Profile::Realistic)] {
        let h = Harness::start(seed, profile);
        let picked = one_of_each_class(&h, 2000);
        let names: Vec<String> = picked.iter().map(|t| t.domain.clone()).collect();
        let out = h.dir.path().join("surveys");
        let run = |extra: &[&str]| {
            mxscan()
                .arg("check")
                .arg("--json")
                .args(check_flags(&h))
                .args(extra)
                .args(&names)
                .output()
                .expect("mxscan runs")
        };
        let written = run(&["--out", out.to_str().unwrap()]);
        let stderr = String::from_utf8_lossy(&written.stderr);
        let want_problem = picked.iter().any(truth_has_problem);
        assert_eq!(
            written.status.code(),
            Some(if want_problem { 1 } else { 0 }),
            "{stderr}"
        );

        // The survey it wrote is the truth, column by column.
        let survey = only_survey(&out);
        compare(&survey, &picked).assert_none();

        // The JSON is the survey's rows, one object per domain in the order given.
        let lines: Vec<String> = String::from_utf8_lossy(&written.stdout)
            .lines()
            .map(str::to_string)
            .collect();
        let order: Vec<String> = lines
            .iter()
            .map(|l| {
                serde_json::from_str::<serde_json::Value>(l).unwrap()["domain"]
                    .as_str()
                    .unwrap()
                    .to_string()
            })
            .collect();
        assert_eq!(order, names, "one line per domain, in the order given");
        let json = json_lines(&written.stdout);
        let rows = mxscan_store::reader::read_domains(&survey).unwrap();
        let mx = mxscan_store::reader::read_mx(&survey).unwrap();
        for t in &picked {
            let v = &json[&t.domain];
            let row = rows.iter().find(|r| r.domain == t.domain).unwrap();
            let mut want = serde_json::to_value(row).unwrap();
            let mut got = v.clone();
            for k in ["survey_id", "elapsed_ms"] {
                want.as_object_mut().unwrap().remove(k);
                got.as_object_mut().unwrap().remove(k);
            }
            for k in want.as_object().unwrap().keys() {
                assert_eq!(got[k], want[k], "{}: {k}", t.domain);
            }
            let want_mx: Vec<&mxscan_store::MxRow> =
                mx.iter().filter(|m| m.domain == t.domain).collect();
            let got_mx = v["mx"].as_array().unwrap();
            assert_eq!(got_mx.len(), want_mx.len(), "{}: mx rows", t.domain);
            for (g, w) in got_mx.iter().zip(&want_mx) {
                let w = serde_json::to_value(w).unwrap();
                for k in [
                    "exchange",
                    "address",
                    "smtp_status",
                    "starttls",
                    "cert_status",
                    "sts_match",
                    "blocked",
                ] {
                    assert_eq!(g[k], w[k], "{}: mx {k}", t.domain);
                }
            }
            let problems = v["problems"].as_array().unwrap();
            assert_eq!(
                !problems.is_empty(),
                truth_has_problem(t),
                "{}: {problems:?} ({:?})",
                t.domain,
                t.scenario
            );
            assert!(v["delivery_reason"].as_str().is_some_and(|r| !r.is_empty()));
        }

        // Without --out: nothing written, the same verdicts.
        let before = std::fs::read_dir(&out).unwrap().count();
        let memory = run(&[]);
        assert_eq!(memory.status.code(), written.status.code());
        assert_eq!(
            std::fs::read_dir(&out).unwrap().count(),
            before,
            "no survey without --out"
        );
        let mem = json_lines(&memory.stdout);
        for t in &picked {
            for k in [
                "dns_status",
                "starttls",
                "cert_valid",
                "sts_record",
                "sts_policy",
                "sts_delivery",
                "tlsrpt_record",
                "problems",
            ] {
                assert_eq!(mem[&t.domain][k], json[&t.domain][k], "{}: {k}", t.domain);
            }
        }
    }
}

#[test]
fn check_prints_a_readable_report_and_exits_zero_when_all_is_well() {
    if !sandboxed("check_prints_a_readable_report_and_exits_zero_when_all_is_well") {
        return;
    }
    let _serial = serial();
    let h = Harness::start(33, Profile::Stress);
    let list = h.write_list("pool.csv", 3000);
    let truths = h.truth(&list);
    let good = truths
        .iter()
        .find(|t| !truth_has_problem(t) && t.sts_policy == "ok" && t.sts_delivery == "ok")
        .expect("a healthy MTA-STS domain in the pool");
    let bad = truths
        .iter()
        .find(|t| t.mx.iter().any(|m| m.smtp_status == "no_starttls"))
        .expect("a domain without STARTTLS");
    let run = |names: &[&str]| {
        mxscan()
            .arg("check")
            .args(check_flags(&h))
            .args(names)
            .output()
            .expect("mxscan runs")
    };
    let ok = run(&[good.domain.as_str()]);
    let text = String::from_utf8_lossy(&ok.stdout);
    assert_eq!(ok.status.code(), Some(0), "{text}");
    assert!(text.starts_with(&format!("{} — ok", good.domain)), "{text}");
    for want in [
        "MTA-STS   record valid",
        "policy ok: mode",
        "TLS-RPT   ",
        "enforcing sender: ok",
        "cert    valid for",
        "expires",
    ] {
        assert!(text.contains(want), "{want:?} in\n{text}");
    }
    let both = run(&[good.domain.as_str(), bad.domain.as_str()]);
    let text = String::from_utf8_lossy(&both.stdout);
    assert_eq!(both.status.code(), Some(1), "{text}");
    assert!(text.contains("does not offer STARTTLS"), "{text}");
    assert!(text.contains("problem: "), "{text}");
}

#[test]
fn check_usage_errors_exit_2() {
    let bad_name = mxscan().args(["check", "not a domain"]).output().unwrap();
    assert_eq!(bad_name.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad_name.stderr).contains("not a domain name"));
    let none = mxscan().arg("check").output().unwrap();
    assert_eq!(none.status.code(), Some(2));
    let bad_flag = mxscan()
        .args(["check", "--rate", "0", "example.com"])
        .output()
        .unwrap();
    assert_eq!(bad_flag.status.code(), Some(2));
}
