//! A low open-file limit slows the scanner down; it never turns into wrong rows. The
//! scanner runs under a hard limit of 200 descriptors with 500 connections asked for: it
//! must cap the connections in flight to what fits, say so, and still agree with the
//! ground truth everywhere.

mod common;

use common::{Harness, compare, only_survey};
use mxscan_testbed::profile::Profile;
use mxscan_testkit::tools::run_ok;

#[test]
fn low_fd_limit_caps_connections_but_changes_no_row() {
    mxscan_testkit::require_sandbox!();
    let h = Harness::start(11, Profile::Realistic);
    let list = h.write_list("list.csv", 600);
    let out = h.dir.path().join("surveys");
    let mut args: Vec<String> = vec!["scan".into()];
    args.extend(h.scan_flags());
    args.extend(Harness::fast_flags());
    args.extend(["--dns-concurrency", "8"].map(String::from));
    args.push("--out".into());
    args.push(out.display().to_string());
    args.push(list.display().to_string());
    // `ulimit -n` in sh sets the soft and the hard limit: the scanner cannot raise it.
    let script = "ulimit -n 200 && exec \"$0\" \"$@\"";
    let output = run_ok(
        std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .arg(env!("CARGO_BIN_EXE_mxscan"))
            .args(&args),
        "scan under a descriptor limit",
    );
    let stderr = String::from_utf8_lossy(&output.stderr);
    // 200 − 64 reserved − 8 DNS queries = 128 connections.
    assert!(
        stderr.contains("connections in flight capped at 128 (asked 500)"),
        "the cap is reported:\n{stderr}"
    );
    assert!(stderr.contains(" waits for file descriptors"), "{stderr}");
    let survey = only_survey(&out);
    compare(&survey, &h.truth(&list)).assert_none();
}
