//! `mxscan demo` end to end: the real binary starts its own testbed, scans it at several
//! epochs and prints the summary of the newest survey and the diff of the last two. Scans, so
//! it runs inside the network sandbox (`scripts/test.sh`).

mod common;

use std::path::{Path, PathBuf};

use common::{items, survey_diff, truth_diff};
use mxscan_store::diff::SurveyDiff;
use mxscan_store::summary::Summary;
use mxscan_testbed::profile::Profile;

fn run_demo(
    out: &Path,
    domains: u64,
    surveys: u32,
    keep_sandbox_env: bool,
) -> std::process::Output {
    let mut cmd = common::mxscan();
    cmd.args([
        "demo",
        "--domains",
        &domains.to_string(),
        "--surveys",
        &surveys.to_string(),
        "--progress",
        "none",
    ])
    .arg("--dir")
    .arg(out);
    if !keep_sandbox_env {
        cmd.env_remove("MXSCAN_IN_SANDBOX");
    }
    mxscan_testkit::tools::run_ok(&mut cmd, "mxscan demo")
}

#[test]
fn demo_writes_a_survey_and_prints_non_trivial_figures() {
    mxscan_testkit::require_sandbox!();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let output = run_demo(&out, 300, 1, true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);

    // The files it says it wrote.
    assert!(out.join("testbed-ca.pem").is_file());
    let list = std::fs::read_to_string(out.join("domains.csv")).unwrap();
    assert_eq!(list.lines().count(), 301, "header + 300 domains");
    let survey = common::only_survey(&out.join("surveys"));
    assert!(survey.join("survey.json").is_file());
    assert!(
        std::fs::read_dir(survey.join("domains")).unwrap().count() > 0,
        "domains parts"
    );

    // The survey is complete and its figures are not trivial.
    let s = Summary::compute(&survey).unwrap();
    assert_eq!(s.status, "complete");
    assert_eq!(s.domains.written, 300);
    assert!(s.domains.with_mail_hosts > 150, "{:?}", s.domains);
    assert!(s.hosts.probes > 100, "{:?}", s.hosts);
    assert!(
        s.starttls_by_domain.get("all") > 50,
        "{:?}",
        s.starttls_by_domain
    );
    assert!(s.cert_by_host.get("valid") > 20, "{:?}", s.cert_by_host);
    assert!(s.providers.distinct > 10);

    // The manifest's effective config: loopback allowed, private ranges not.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(survey.join("survey.json")).unwrap())
            .unwrap();
    assert_eq!(
        manifest["config"]["allow"],
        serde_json::json!(["127.0.0.0/8"])
    );
    assert_eq!(
        manifest["config"]["allow_private"],
        serde_json::json!(false)
    );

    // What it prints: the setting, the table, the files and the notebook.
    assert!(
        stderr.contains("simulated mail internet of 300 domains"),
        "{stderr}"
    );
    assert!(
        stderr.contains("tarpits"),
        "deadlines are explained: {stderr}"
    );
    assert!(stderr.contains("private namespace"), "{stderr}");
    assert!(stdout.contains("with mail hosts"), "{stdout}");
    assert!(stdout.contains("STARTTLS by MX host"), "{stdout}");
    let with_mail = format!("{}", s.domains.with_mail_hosts);
    assert!(
        stdout.contains(&with_mail),
        "the figure is printed: {stdout}"
    );
    assert!(stdout.contains("MXSCAN_SURVEYS="), "{stdout}");
    assert!(stdout.contains("notebooks/adoption.ipynb"), "{stdout}");
    assert!(stdout.contains(&survey.display().to_string()), "{stdout}");
}

/// Started without the sandbox marker, the demo enters a namespace of its own (unshare), or
/// says that it could not and that the blocklist is the only guard.
#[test]
fn demo_reexecutes_itself_in_a_namespace_or_says_why_not() {
    mxscan_testkit::require_sandbox!();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let output = run_demo(&out, 40, 1, false);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let entered = stderr.contains("entering a private network namespace")
        && stderr.contains("network:    private namespace");
    let noted = stderr.contains("the blocklist is the only guard");
    assert!(entered || noted, "{stderr}");
    let survey = common::only_survey(&out.join("surveys"));
    assert_eq!(Summary::compute(&survey).unwrap().domains.written, 40);
}

/// The surveys under `root` with their `testbed.epoch` label, oldest first.
fn epochs(root: &Path) -> Vec<(PathBuf, u32)> {
    mxscan_store::survey::list_surveys(root)
        .unwrap()
        .into_iter()
        .map(|(_, dir)| {
            let m = mxscan_store::manifest::Manifest::load(&dir).unwrap();
            assert_eq!(m.labels["testbed.seed"], "1");
            assert_eq!(m.labels["testbed.profile"], "realistic");
            (dir, m.labels["testbed.epoch"].parse().unwrap())
        })
        .collect()
}

/// The default demo makes a history: three surveys of one list at epochs 0, 3, 6, each
/// labelled with its epoch; it prints the newest summary and the diff of the last two, which
/// is what `mxscan diff` says and what the world's truth-diff says. Run again into the same
/// directory, it goes on at epoch 9 and diffs against the survey of epoch 6.
#[test]
fn demo_makes_a_history_that_changes_as_the_truth_says() {
    mxscan_testkit::require_sandbox!();
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("demo");
    let output = run_demo(&out, 300, 3, true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let root = out.join("surveys");
    let made = epochs(&root);
    assert_eq!(
        made.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
        [0, 3, 6],
        "{stderr}"
    );
    for (dir, _) in &made {
        let s = Summary::compute(dir).unwrap();
        assert_eq!(s.status, "complete");
        assert_eq!(s.domains.written, 300);
    }
    assert!(
        stderr.contains("3 surveys, the world at epochs 0, 3, 6"),
        "{stderr}"
    );
    assert!(
        stderr.contains("survey 3 of 3: the world at epoch 6"),
        "{stderr}"
    );

    // The summary printed is the newest survey's; the diff printed is `mxscan diff`'s of the
    // last two, and it is what the world says changed between epochs 3 and 6.
    let (mid, newest) = (&made[1].0, &made[2].0);
    let summary = Summary::compute(newest).unwrap().render();
    assert!(stdout.contains(&summary), "{stdout}");
    let diff = SurveyDiff::between(mid, newest).unwrap();
    assert!(stdout.contains(&diff.render(3)), "{stdout}");
    let list = out.join("domains.csv");
    let got = items(&survey_diff(mid, newest));
    let want = items(&truth_diff(1, Profile::Realistic, 3, 6, &list));
    assert_eq!(got, want);
    let changed: usize = want.values().map(|s| s.len()).sum();
    assert!(changed > 10, "a quarter changes the world: {want:?}");
    assert!(stdout.contains("jupyter lab"), "{stdout}");
    assert!(stdout.contains("mxscan diff"), "{stdout}");

    // Again into the same directory: the history goes on.
    let output = run_demo(&out, 300, 1, true);
    let stdout = String::from_utf8_lossy(&output.stdout);
    let made = epochs(&root);
    assert_eq!(
        made.iter().map(|(_, e)| *e).collect::<Vec<_>>(),
        [0, 3, 6, 9]
    );
    let diff = SurveyDiff::between(&made[2].0, &made[3].0).unwrap();
    assert!(stdout.contains(&diff.render(3)), "{stdout}");
}

#[test]
fn demo_rejects_zero_domains() {
    // Fails before any testbed or socket exists: safe outside the sandbox.
    let tmp = tempfile::tempdir().unwrap();
    let output = common::mxscan()
        .args(["demo", "--domains", "0", "--no-sandbox", "--dir"])
        .arg(tmp.path())
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
}

#[test]
fn demo_rejects_zero_surveys_and_a_zero_epoch_step() {
    // Fails before any testbed or socket exists: safe outside the sandbox.
    let tmp = tempfile::tempdir().unwrap();
    for bad in [
        ["--surveys", "0"],
        ["--surveys", "121"],
        ["--epoch-step", "0"],
    ] {
        let output = common::mxscan()
            .arg("demo")
            .args(bad)
            .args(["--no-sandbox", "--dir"])
            .arg(tmp.path())
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{bad:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(bad[0]), "{stderr}");
    }
}
