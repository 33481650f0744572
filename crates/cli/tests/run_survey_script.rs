//! `scripts/run-survey.sh` against the testbed: a local list instead of the download, the
//! operator's config file, and pruning to the newest K surveys. Scans, so it runs inside the
//! network sandbox (`scripts/test.sh`).

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use mxscan_testbed::profile::Profile;
use mxscan_testkit::tools::run_ok;

fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scripts/run-survey.sh")
}

fn surveys(root: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("survey="))
        .collect();
    v.sort();
    v
}

/// A config file that points a scan at the harness's testbed, plus `extra` top-level lines.
fn testbed_config(h: &common::Harness, extra: &str) -> PathBuf {
    let cfg = h.dir.path().join("mxscan.toml");
    std::fs::write(
        &cfg,
        format!(
            "{extra}ehlo_name = \"scanner.example.org\"\ntrust_anchors = [\"ca.pem\"]\n\
             smtp_port = {}\nhttps_port = {}\n[dns]\nresolvers = [\"{}\"]\ntimeout = 2\n\
             attempts = 2\n[politeness]\nallow = [\"127.0.0.0/8\"]\nrate = 100000\n\
             per_ip_interval = 0\nper_prefix_interval = 0\n[timeouts]\ngreeting = 5\n\
             command = 10\ntls = 10\nprobe = 30\nfetch = 30\n",
            h.testbed.smtp_port(),
            h.testbed.https_port(),
            h.testbed.dns_addr()
        ),
    )
    .unwrap();
    cfg
}

/// A realistic world of `seed`, a list of `count` of its names, and a config file for it.
fn world_list_config(seed: u64, count: u64, extra: &str) -> (common::Harness, PathBuf, PathBuf) {
    let h = common::Harness::start(seed, Profile::Realistic);
    let list = h.write_list("list.csv", count);
    let cfg = testbed_config(&h, extra);
    (h, list, cfg)
}

#[test]
fn run_survey_takes_the_surveys_root_from_the_config() {
    mxscan_testkit::require_sandbox!();
    let (h, list, cfg) = world_list_config(12, 20, "out = \"cfg-surveys\"\n");
    run_ok(
        Command::new("bash")
            .arg(script())
            .arg("--config")
            .arg(&cfg)
            .arg("--list")
            .arg(&list)
            .args(["--keep", "1"])
            .current_dir("/")
            .env("MXSCAN", env!("CARGO_BIN_EXE_mxscan")),
        "run-survey.sh",
    );
    let root = h.dir.path().join("cfg-surveys");
    assert_eq!(surveys(&root).len(), 1);
    assert!(
        root.join(".run-survey.lock").exists(),
        "the lock lives in the root"
    );
}

#[test]
fn run_survey_scans_a_local_list_and_keeps_the_newest_k() {
    mxscan_testkit::require_sandbox!();
    let (h, list, cfg) = world_list_config(11, 40, "");
    let root = h.dir.path().join("surveys");
    // An old survey to prune, and a directory that is not a survey (never touched).
    std::fs::create_dir_all(root.join("survey=2000-01-01T0000Z/domains")).unwrap();
    std::fs::create_dir_all(root.join("notes")).unwrap();

    let mut made = Vec::new();
    for run in 0..3 {
        let output = Command::new("bash")
            .arg(script())
            .arg("--config")
            .arg(&cfg)
            .arg("--list")
            .arg(&list)
            .arg("--out")
            .arg(&root)
            .args(["--keep", "2"])
            .env("MXSCAN", env!("CARGO_BIN_EXE_mxscan"))
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "run {run}: {stderr}");
        let stdout = String::from_utf8_lossy(&output.stdout);
        let survey = PathBuf::from(stdout.lines().last().expect("survey path printed"));
        assert!(survey.join("survey.json").is_file(), "run {run}: {stdout}");
        let manifest: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(survey.join("survey.json")).unwrap())
                .unwrap();
        assert_eq!(manifest["status"], "complete");
        assert_eq!(manifest["input"]["domains"], 40);
        assert_eq!(manifest["config"]["ehlo_name"], "scanner.example.org");
        let summary_cmd = common::mxscan()
            .args(["summary", "--help"])
            .output()
            .is_ok_and(|o| o.status.success());
        if summary_cmd {
            let text = std::fs::read_to_string(survey.join("summary.txt")).unwrap();
            assert!(text.contains("40"), "{text}");
        }
        made.push(survey.file_name().unwrap().to_string_lossy().into_owned());
        let left = surveys(&root);
        assert!(left.len() <= 2, "run {run}: {left:?}");
        assert!(!left.contains(&"survey=2000-01-01T0000Z".to_string()) || run == 0);
    }
    // The two newest runs remain; the old one and the first run were pruned.
    assert_eq!(surveys(&root), made[1..].to_vec());
    assert!(
        root.join("notes").is_dir(),
        "non-survey directories are kept"
    );
}

#[test]
fn run_survey_refuses_unknown_options_and_bad_keep() {
    // Argument errors happen before any scan: safe outside the sandbox.
    for args in [
        &["--bogus"][..],
        &["--keep", "x", "--list", "/dev/null"][..],
    ] {
        let output = Command::new("bash")
            .arg(script())
            .args(args)
            .env("MXSCAN", env!("CARGO_BIN_EXE_mxscan"))
            .output()
            .unwrap();
        assert_eq!(output.status.code(), Some(2), "{args:?}");
    }
}
