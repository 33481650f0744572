//! Two surveys of one world at two epochs (issue 18): the testbed serves the world at epoch
//! E1, `mxscan scan` surveys it, the same running testbed moves to epoch E2 (same CA, so an
//! unchanged certificate is the same leaf), a second survey follows, and `mxscan diff
//! --json` must agree with `mxscan testbed truth-diff --from E1 --to E2` class by class —
//! items and denominators, every class, `sts_policy_changed_same_id` included — for the
//! stress and the realistic profile. Each survey also agrees with the ground truth of its
//! epoch column by column. Scans, so it runs inside the network sandbox (`scripts/test.sh`).

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{
    Classes, Harness, Scan, compare, only_survey, sandboxed, serial, survey_diff, truth_diff,
    write_domains,
};
use mxscan_testbed::names::synthetic_domains_through;
use mxscan_testbed::profile::Profile;

/// Scan `list` at epochs `from` and `to` of one running testbed; check each survey against
/// the truth of its epoch, then the diff against truth-diff. Returns the expected classes.
fn two_epochs(h: &Harness, list: &Path, from: u32, to: u32) -> Classes {
    let cfg = h.testbed.world().config().clone();
    let mut surveys = Vec::new();
    for (i, epoch) in [from, to].into_iter().enumerate() {
        h.testbed.set_epoch(epoch);
        let out = h.dir.path().join(format!("surveys-{i}"));
        {
            let _guard = serial();
            h.scan(list, &out, &Harness::fast_flags());
        }
        let survey = only_survey(&out);
        let truth = h.truth(list);
        let d = compare(&survey, &truth);
        eprintln!(
            "epoch {epoch}: {} domains, {} mx rows compared with the truth",
            d.domains_compared, d.mx_rows_compared
        );
        d.assert_none();
        surveys.push(survey);
    }
    let want = truth_diff(cfg.seed, cfg.profile, from, to, list);
    let got = survey_diff(&surveys[0], &surveys[1]);
    let mut report = Vec::new();
    assert_eq!(
        want.keys().collect::<Vec<_>>(),
        got.keys().collect::<Vec<_>>(),
        "the same classes"
    );
    for (class, (w_items, w_count, w_den)) in &want {
        let (g_items, g_count, g_den) = &got[class];
        eprintln!(
            "{:?} {from}->{to} {class}: truth {w_count} of {w_den}, survey {g_count} of {g_den}",
            cfg.profile
        );
        assert_eq!(*w_count as usize, w_items.len(), "{class}: truth count");
        if w_items != g_items || w_count != g_count || w_den != g_den {
            let missing: Vec<_> = w_items.difference(g_items).take(5).collect();
            let extra: Vec<_> = g_items.difference(w_items).take(5).collect();
            report.push(format!(
                "{class}: truth {w_count} of {w_den}, survey {g_count} of {g_den}; \
                 missing {missing:?} extra {extra:?}"
            ));
        }
    }
    assert!(
        report.is_empty(),
        "mxscan diff disagrees with truth-diff ({:?}, epochs {from} -> {to}):\n{}",
        cfg.profile,
        report.join("\n")
    );
    want
}

const DOMAIN_CLASSES: [&str; 11] = [
    "sts_adopted",
    "sts_dropped",
    "sts_mode_changed",
    "sts_policy_changed_same_id",
    "sts_id_changed",
    "sts_now_would_fail",
    "sts_no_longer_would_fail",
    "starttls_gained",
    "starttls_lost",
    "cert_valid_improved",
    "cert_valid_worsened",
];

#[test]
fn stress_epochs_diff_as_the_truth_says() {
    if !sandboxed("stress_epochs_diff_as_the_truth_says") {
        return;
    }
    let (seed, from, to) = (31, 1, 3);
    let h = Harness::start(seed, Profile::Stress);
    let domains: Vec<String> = synthetic_domains_through(seed, 2_000, Profile::Stress, to)
        .map(|(_, d)| d)
        .collect();
    let list = write_domains(&h, "list.csv", &domains);
    let want = two_epochs(&h, &list, from, to);
    for class in DOMAIN_CLASSES.iter().chain(&["leaf_changed"]) {
        assert!(
            !want[*class].0.is_empty(),
            "{class}: no example between epochs {from} and {to}"
        );
    }
}

#[test]
fn realistic_epochs_diff_as_the_truth_says() {
    if !sandboxed("realistic_epochs_diff_as_the_truth_says") {
        return;
    }
    let (seed, from, to) = (32, 0, 12);
    let h = Harness::start(seed, Profile::Realistic);
    // A realistic list of 1,500, plus the candidates (from further down the same
    // unambiguous list) that show the rare MTA-STS changes between the two epochs.
    let candidates: Vec<String> = synthetic_domains_through(seed, 40_000, Profile::Realistic, to)
        .map(|(_, d)| d)
        .collect();
    let pool = write_domains(&h, "pool.csv", &candidates[1_500..]);
    let rare = truth_diff(seed, Profile::Realistic, from, to, &pool);
    let mut picked: BTreeSet<String> = BTreeSet::new();
    for class in &DOMAIN_CLASSES[..7] {
        picked.extend(rare[*class].0.iter().take(8).cloned());
    }
    eprintln!("{} rare-change domains added", picked.len());
    let mut domains = candidates[..1_500].to_vec();
    domains.extend(
        candidates[1_500..]
            .iter()
            .filter(|d| picked.contains(*d))
            .cloned(),
    );
    let list = write_domains(&h, "list.csv", &domains);
    let want = two_epochs(&h, &list, from, to);
    for class in DOMAIN_CLASSES.iter().chain(&["leaf_changed"]) {
        assert!(
            !want[*class].0.is_empty(),
            "{class}: no example between epochs {from} and {to}"
        );
    }
}
