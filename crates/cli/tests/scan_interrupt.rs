//! Issue 4, part 5: Ctrl-C in the middle of a scan.
//!
//! * One SIGINT: mxscan stops taking domains, lets those in flight finish (at most
//!   `--grace` seconds), writes the survey as `partial` and exits with status 130. Every
//!   committed Parquet file is readable by the store's reader, by pyarrow and by DuckDB
//!   (those two are skipped with a message when python3 lacks them; CI installs them).
//! * Two SIGINTs in quick succession: mxscan leaves at once (status 130); the committed
//!   parts stay readable (an unfinished `.part-N.parquet.tmp` may remain, and is invisible
//!   to every reader).
//!
//! Signals are sent with `kill -INT PID` (no libc in the tests).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, flags_with, mxscan, serial};
use mxscan_store::manifest::{Manifest, SurveyStatus};
use mxscan_store::rows::Table;
use mxscan_testbed::profile::Profile;

const TABLES: [Table; 4] = [Table::Domains, Table::Mx, Table::Probes, Table::Certs];

/// Start a scan of `count` realistic domains that takes far longer than the test waits:
/// 300 DNS queries/s (≈ 60 domains/s), parts committed every second, 10 s of grace.
fn start_long_scan(h: &Harness, count: u64, out: &Path) -> Child {
    let list = h.write_list("list.csv", count);
    let flags = flags_with(&[
        ("--dns-rate", "300"),
        ("--commit-interval", "1"),
        ("--grace", "10"),
    ]);
    mxscan()
        .arg("scan")
        .args(h.scan_flags())
        .args(flags)
        .arg("--out")
        .arg(out)
        .arg(&list)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("mxscan starts")
}

/// Wait until the survey under `out` has a committed domains part (so the scan is well
/// under way), and return the survey directory.
fn wait_for_first_part(child: &mut Child, out: &Path) -> PathBuf {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            panic!("mxscan ended before the interrupt: {st:?}");
        }
        if let Ok(entries) = std::fs::read_dir(out) {
            for e in entries.flatten() {
                let dir = e.path();
                if mxscan_store::reader::parts(&dir, Table::Domains).is_ok_and(|p| !p.is_empty()) {
                    return dir;
                }
            }
        }
        assert!(
            t0.elapsed() < Duration::from_secs(60),
            "no part committed in 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn sigint(child: &Child) {
    let st = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .expect("kill runs");
    assert!(st.success(), "kill -INT");
}

/// Wait for the child to exit, at most `limit`; kill it and fail if it does not.
fn wait_at_most(child: &mut Child, limit: Duration) -> (ExitStatus, Duration, String) {
    let t0 = Instant::now();
    loop {
        if let Some(st) = child.try_wait().unwrap() {
            let out = child.wait_with_output_after_exit();
            return (st, t0.elapsed(), out);
        }
        if t0.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("mxscan did not exit within {limit:?} of the interrupt");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

trait StderrAfterExit {
    fn wait_with_output_after_exit(&mut self) -> String;
}

impl StderrAfterExit for Child {
    fn wait_with_output_after_exit(&mut self) -> String {
        use std::io::Read;
        let mut s = String::new();
        if let Some(mut e) = self.stderr.take() {
            let _ = e.read_to_string(&mut s);
        }
        s
    }
}

/// Every committed part of every table opens with the store's reader; returns the number
/// of domain rows.
fn store_reads_everything(survey: &Path) -> usize {
    for t in TABLES {
        for (_, p) in mxscan_store::reader::parts(survey, t).unwrap() {
            mxscan_store::reader::read_part(&p, None)
                .unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        }
    }
    mxscan_store::reader::read_mx(survey).expect("mx readable");
    mxscan_store::reader::read_probes(survey).expect("probes readable");
    mxscan_store::reader::read_certs(survey).expect("certs readable");
    let domains = mxscan_store::reader::read_domains(survey).expect("domains readable");
    let mut names: Vec<&str> = domains.iter().map(|d| d.domain.as_str()).collect();
    names.sort_unstable();
    let n = names.len();
    names.dedup();
    assert_eq!(names.len(), n, "no domain row twice");
    n
}

/// pyarrow reads every committed part and DuckDB the hive layout; skipped (with a message)
/// when python3 or the modules are missing.
fn python_reads_everything(root: &Path, survey: &Path, domain_rows: usize) {
    let probe = Command::new("python3")
        .args(["-c", "import pyarrow.parquet, duckdb"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIPPED pyarrow/DuckDB check: python3 with pyarrow and duckdb not installed");
        return;
    }
    let script = r#"
import glob, os, sys
import pyarrow.parquet as pq, duckdb
root, survey, want = sys.argv[1], sys.argv[2], int(sys.argv[3])
n = 0
for t in ("domains", "mx", "probes", "certs"):
    for p in sorted(glob.glob(os.path.join(survey, t, "*.parquet"))):
        rows = pq.read_table(p).num_rows
        if t == "domains":
            n += rows
assert n == want, f"pyarrow: {n} domain rows, the store reader {want}"
got = duckdb.sql(
    f"select count(*), count(distinct domain) from read_parquet('{root}/*/domains/*.parquet', hive_partitioning = true)"
).fetchone()
assert got == (want, want), f"duckdb: {got}, want {want}"
for t in ("mx", "probes", "certs"):
    if glob.glob(os.path.join(survey, t, "*.parquet")):
        duckdb.sql(f"select count(*) from read_parquet('{survey}/{t}/*.parquet')").fetchone()
print("python ok", n)
"#;
    let out = Command::new("python3")
        .args(["-c", script])
        .arg(root)
        .arg(survey)
        .arg(domain_rows.to_string())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "pyarrow/DuckDB could not read the survey:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

fn tmp_files(survey: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for t in TABLES {
        if let Ok(entries) = std::fs::read_dir(survey.join(t.as_str())) {
            for e in entries.flatten() {
                if e.file_name().to_string_lossy().ends_with(".tmp") {
                    out.push(e.path());
                }
            }
        }
    }
    out
}

#[test]
fn one_sigint_finishes_in_flight_domains_and_leaves_a_partial_readable_survey() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(51, Profile::Realistic);
    let out = h.dir.path().join("surveys");
    let mut child = start_long_scan(&h, 20_000, &out);
    let survey = wait_for_first_part(&mut child, &out);
    std::thread::sleep(Duration::from_secs(2));
    sigint(&child);
    // Grace 10 s (+ time to close the part files).
    let (status, took, stderr) = wait_at_most(&mut child, Duration::from_secs(40));
    eprintln!("exited {status:?} {:.1} s after SIGINT", took.as_secs_f64());
    assert_eq!(status.code(), Some(130), "status 130\nstderr:\n{stderr}");
    assert!(stderr.contains("interrupted"), "says so:\n{stderr}");
    let manifest = Manifest::load(&survey).unwrap();
    assert_eq!(manifest.status, SurveyStatus::Partial, "manifest status");
    let rows = store_reads_everything(&survey);
    assert!(
        rows > 0 && rows < 20_000,
        "a partial survey ({rows} domains)"
    );
    assert!(
        tmp_files(&survey).is_empty(),
        "a graceful stop closes every part: {:?}",
        tmp_files(&survey)
    );
    python_reads_everything(&out, &survey, rows);
}

#[test]
fn two_sigints_leave_at_once_and_committed_parts_stay_readable() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(52, Profile::Realistic);
    let out = h.dir.path().join("surveys");
    let mut child = start_long_scan(&h, 20_000, &out);
    let survey = wait_for_first_part(&mut child, &out);
    std::thread::sleep(Duration::from_secs(2));
    sigint(&child);
    std::thread::sleep(Duration::from_millis(200));
    sigint(&child);
    let (status, took, stderr) = wait_at_most(&mut child, Duration::from_secs(10));
    eprintln!(
        "exited {status:?} {:.2} s after the second SIGINT",
        took.as_secs_f64()
    );
    assert_eq!(status.code(), Some(130), "status 130\nstderr:\n{stderr}");
    assert!(took < Duration::from_secs(3), "left at once ({took:?})");
    let rows = store_reads_everything(&survey);
    assert!(rows > 0, "committed parts kept ({rows} domains)");
    eprintln!("left behind: {:?}", tmp_files(&survey));
    python_reads_everything(&out, &survey, rows);
}
