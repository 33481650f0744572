//! `scripts/run-survey.sh` run periodically against a world that moves through time: one
//! run per epoch of one running testbed, retention keeping the newest K, and the two newest
//! surveys left differ as `mxscan testbed truth-diff` says. Scans, so it runs inside the
//! network sandbox (`scripts/test.sh`).

mod common;

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Harness, items, sandboxed, serial, survey_diff, truth_diff, write_domains};
use mxscan_testbed::names::synthetic_domains_through;
use mxscan_testbed::profile::Profile;
use serde_json::Value;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/run-survey.sh")
}

/// The survey directories under `root`, oldest first (the store's order: started_at, then the
/// shorter id; two runs in one minute are `…T0050Z` then `…T005019Z`, which a name sort swaps).
fn surveys(root: &Path) -> Vec<String> {
    mxscan_store::survey::list_surveys(root)
        .unwrap()
        .into_iter()
        .map(|(id, _)| format!("survey={id}"))
        .collect()
}

/// An operator config pointing at the harness's testbed (fast, loopback only).
fn config(h: &Harness) -> PathBuf {
    let cfg = h.dir.path().join("mxscan.toml");
    std::fs::write(
        &cfg,
        format!(
            "ehlo_name = \"scanner.example.org\"\ntrust_anchors = [\"ca.pem\"]\n\
             smtp_port = {}\nhttps_port = {}\n[dns]\nresolvers = [\"{}\"]\ntimeout = 2\n\
             attempts = 2\n[politeness]\nallow = [\"127.0.0.0/8\"]\nrate = 100000\n\
             per_ip_interval = 0\nper_prefix_interval = 0\n[timeouts]\ngreeting = 5\n\
             command = 10\ntls = 10\nprobe = 30\nfetch = 10\n",
            h.testbed.smtp_port(),
            h.testbed.https_port(),
            h.testbed.dns_addr()
        ),
    )
    .unwrap();
    cfg
}

#[test]
fn run_survey_over_epochs_keeps_the_newest_k_and_they_diff_as_the_truth_says() {
    if !sandboxed("run_survey_over_epochs_keeps_the_newest_k_and_they_diff_as_the_truth_says") {
        return;
    }
    let (seed, runs, keep) = (13, 4u32, 2usize);
    let h = Harness::start(seed, Profile::Stress);
    let domains: Vec<String> = synthetic_domains_through(seed, 300, Profile::Stress, runs - 1)
        .map(|(_, d)| d)
        .collect();
    let list = write_domains(&h, "list.csv", &domains);
    let cfg = config(&h);
    let root = h.dir.path().join("surveys");
    let mut made = Vec::new();
    for epoch in 0..runs {
        h.testbed.set_epoch(epoch);
        let output = {
            let _guard = serial();
            Command::new("bash")
                .arg(script())
                .arg("--config")
                .arg(&cfg)
                .arg("--list")
                .arg(&list)
                .arg("--out")
                .arg(&root)
                .args(["--keep", &keep.to_string()])
                .env("MXSCAN", env!("CARGO_BIN_EXE_mxscan"))
                .output()
                .unwrap()
        };
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "epoch {epoch}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let survey = PathBuf::from(stdout.lines().last().expect("survey path printed"));
        let manifest: Value =
            serde_json::from_str(&std::fs::read_to_string(survey.join("survey.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["status"], "complete");
        made.push(survey);
        let left = surveys(&root);
        assert_eq!(
            left.len(),
            (epoch as usize + 1).min(keep),
            "epoch {epoch}: {left:?}"
        );
    }
    // The newest K are left: the surveys of the last K epochs.
    let newest: Vec<String> = made[made.len() - keep..]
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(surveys(&root), newest);
    // And they differ as the world did between those epochs.
    let (a, b) = (&made[made.len() - 2], &made[made.len() - 1]);
    let got = items(&survey_diff(a, b));
    let want = items(&truth_diff(
        seed,
        Profile::Stress,
        runs - 2,
        runs - 1,
        &list,
    ));
    assert_eq!(got, want);
    let changed: usize = want.values().map(BTreeSet::len).sum();
    assert!(changed > 0, "the world changed between the last two epochs");
}
