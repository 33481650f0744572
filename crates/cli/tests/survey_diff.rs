//! `mxscan diff` between two surveys of the same list in two worlds (stress seeds 7 and 8,
//! whose scenarios differ per domain): every change class agrees with what the two ground
//! truths say changed, and `leaf_changed` with a join of the two surveys' probes.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;

use common::{Harness, Scan, mxscan, only_survey};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::truth::DomainTruth;
use mxscan_testkit::tools::run_ok;
use serde_json::Value;

const COUNT: u64 = 1_000;

fn rank(v: &str) -> Option<u8> {
    ["none", "some", "all"]
        .iter()
        .position(|x| *x == v)
        .map(|p| p as u8)
}

/// The expected members of each class, from the two truths (old `a`, new `b`).
fn expected(a: &[DomainTruth], b: &[DomainTruth]) -> BTreeMap<&'static str, BTreeSet<String>> {
    let mut out: BTreeMap<&'static str, BTreeSet<String>> = BTreeMap::new();
    for (o, n) in a.iter().zip(b) {
        assert_eq!(o.domain, n.domain);
        let d = o.domain.clone();
        let mut put = |class: &'static str, yes: bool| {
            let e = out.entry(class).or_default();
            if yes {
                e.insert(d.clone());
            }
        };
        let (ook, nok) = (o.sts_policy == "ok", n.sts_policy == "ok");
        put("sts_adopted", nok && !ook);
        put("sts_dropped", ook && !nok);
        put("sts_mode_changed", ook && nok && o.sts_mode != n.sts_mode);
        let mut omx = o.sts_mx.clone();
        let mut nmx = n.sts_mx.clone();
        omx.sort();
        omx.dedup();
        nmx.sort();
        nmx.dedup();
        put(
            "sts_policy_changed_same_id",
            ook && nok
                && o.sts_id.is_some()
                && o.sts_id == n.sts_id
                && (o.sts_mode != n.sts_mode || o.sts_max_age != n.sts_max_age || omx != nmx),
        );
        put(
            "sts_id_changed",
            o.sts_record == "valid" && n.sts_record == "valid" && o.sts_id != n.sts_id,
        );
        put(
            "sts_now_would_fail",
            n.sts_delivery == "would_fail" && o.sts_delivery != "would_fail",
        );
        put(
            "sts_no_longer_would_fail",
            o.sts_delivery == "would_fail" && n.sts_delivery != "would_fail",
        );
        let (st_o, st_n) = (rank(o.starttls.as_str()), rank(n.starttls.as_str()));
        put(
            "starttls_gained",
            matches!((st_o, st_n), (Some(x), Some(y)) if y > x),
        );
        put(
            "starttls_lost",
            matches!((st_o, st_n), (Some(x), Some(y)) if y < x),
        );
        let (c_o, c_n) = (rank(o.cert_valid.as_str()), rank(n.cert_valid.as_str()));
        put(
            "cert_valid_improved",
            matches!((c_o, c_n), (Some(x), Some(y)) if y > x),
        );
        put(
            "cert_valid_worsened",
            matches!((c_o, c_n), (Some(x), Some(y)) if y < x),
        );
    }
    out
}

/// exchange → leaf sha256 set, joined by hand from the survey's probes and mx rows.
fn leaves(survey: &Path) -> HashMap<String, BTreeSet<String>> {
    let probes = mxscan_store::reader::read_probes(survey).unwrap();
    let leaf: HashMap<String, String> = probes
        .into_iter()
        .filter(|p| !p.chain_sha256.is_empty())
        .map(|p| (p.address, p.chain_sha256[0].clone()))
        .collect();
    let mut out: HashMap<String, BTreeSet<String>> = HashMap::new();
    for m in mxscan_store::reader::read_mx(survey).unwrap() {
        if let Some(l) = leaf.get(&m.address) {
            out.entry(m.exchange).or_default().insert(l.clone());
        }
    }
    out
}

fn items(diff: &Value, class: &str) -> BTreeSet<String> {
    diff["changes"][class]["items"]
        .as_array()
        .unwrap_or_else(|| panic!("class {class} missing"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn diff_of_two_worlds_agrees_with_their_truths() {
    mxscan_testkit::require_sandbox!();
    let old_h = Harness::start(7, Profile::Stress);
    let list = old_h.write_list("list.csv", COUNT);
    let old_out = old_h.dir.path().join("surveys");
    old_h.scan(&list, &old_out, &Harness::fast_flags());
    let old = only_survey(&old_out);
    let old_truth = old_h.truth(&list);

    let new_h = Harness::start(8, Profile::Stress);
    let new_out = new_h.dir.path().join("surveys");
    new_h.scan(&list, &new_out, &Harness::fast_flags());
    let new = only_survey(&new_out);
    let new_truth = new_h.truth(&list);

    let out = run_ok(
        mxscan().arg("diff").arg(&old).arg(&new).arg("--json"),
        "diff",
    );
    let diff: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(diff["common_domains"], COUNT);
    assert!(items(&diff, "only_old").is_empty());
    assert!(items(&diff, "only_new").is_empty());

    // Certificate verdicts of an address shared by two names depend on which name was
    // probed first (the truth marks those `ambiguous`): leave such domains out of the
    // certificate classes.
    let ambiguous: BTreeSet<String> = old_truth
        .iter()
        .zip(&new_truth)
        .filter(|(a, b)| a.mx.iter().chain(&b.mx).any(|m| m.ambiguous))
        .map(|(a, _)| a.domain.clone())
        .collect();
    let want = expected(&old_truth, &new_truth);
    let mut report = Vec::new();
    for (class, want) in &want {
        let mut got = items(&diff, class);
        let mut want = want.clone();
        if class.starts_with("cert_valid") {
            got.retain(|d| !ambiguous.contains(d));
            want.retain(|d| !ambiguous.contains(d));
        }
        eprintln!("{class}: {} expected, {} reported", want.len(), got.len());
        if got != want {
            let missing: Vec<_> = want.difference(&got).take(5).collect();
            let extra: Vec<_> = got.difference(&want).take(5).collect();
            report.push(format!("{class}: missing {missing:?} extra {extra:?}"));
        }
        let count = diff["changes"][class]["count"].as_u64().unwrap();
        assert_eq!(count as usize, items(&diff, class).len(), "{class} count");
    }
    assert!(
        report.is_empty(),
        "diff disagrees with the truths:\n{}",
        report.join("\n")
    );
    // The two worlds differ in every direction, so the comparison is not vacuous.
    for class in [
        "sts_adopted",
        "sts_dropped",
        "sts_mode_changed",
        "sts_id_changed",
        "starttls_gained",
        "starttls_lost",
        "cert_valid_improved",
        "cert_valid_worsened",
    ] {
        assert!(
            !want[class].is_empty(),
            "{class}: no example in these worlds"
        );
    }

    // Leaves per exchange, joined by hand.
    let (lo, ln) = (leaves(&old), leaves(&new));
    let mut want_leaf = BTreeSet::new();
    let mut both = 0u64;
    for (x, a) in &lo {
        if let Some(b) = ln.get(x) {
            both += 1;
            if a != b {
                want_leaf.insert(x.clone());
            }
        }
    }
    assert_eq!(items(&diff, "leaf_changed"), want_leaf);
    assert_eq!(diff["changes"]["leaf_changed"]["denominator"], both);
    assert!(both > 0);

    // The terminal view: counts with denominators, lists capped.
    let text = mxscan()
        .arg("diff")
        .arg(&old)
        .arg(&new)
        .args(["--limit", "3"])
        .output()
        .unwrap();
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    eprintln!("{text}");
    assert!(text.contains("sts_adopted"), "{text}");
    assert!(text.contains("--json lists all"), "{text}");
}
