//! Crash safety end to end: a scan of the stress world killed with SIGKILL three times (2 s
//! into the first run, 3 s into the first resume, 4 s into the second: 2, 5 and 9 s of
//! scanning), then `mxscan scan --resume DIR LIST` until the survey is complete. The result
//! must be the survey an uninterrupted run of the same world writes: the same domain and mx
//! rows on every contract column except timing, no duplicate rows, one probe row per
//! address, one certificate row per hash; the ground truth agrees; pyarrow and DuckDB read it.

mod common;

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{Harness, Scan, compare, mxscan, only_survey};
use mxscan_store::manifest::{Manifest, SurveyStatus};
use mxscan_store::rows::{DomainRow, MxRow};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::truth::DomainTruth;

const COUNT: u64 = 1_500;

/// Small, frequent commits so that every kill finds part files on disk.
fn commit_flags() -> Vec<String> {
    ["--commit-rows", "25", "--commit-interval", "0.5"]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// `mxscan scan` with the testbed flags, fast flags and small commits.
fn scan_command(h: &Harness, list: &Path, target: &[String], log: &Path) -> Command {
    let mut cmd = mxscan();
    cmd.arg("scan")
        .args(h.scan_flags())
        .args(Harness::fast_flags())
        .args(commit_flags())
        .args(target)
        .arg(list)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(log).unwrap());
    cmd
}

/// Start the command, SIGKILL it after `after` (unless it finished before); true if killed.
fn run_and_kill(mut cmd: Command, after: Duration) -> bool {
    let mut child = cmd.spawn().expect("mxscan starts");
    let t0 = Instant::now();
    while t0.elapsed() < after {
        if child.try_wait().unwrap().is_some() {
            return false;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.kill().expect("SIGKILL"); // Child::kill is SIGKILL on Unix
    child.wait().unwrap();
    true
}

fn committed_parts(survey: &Path) -> usize {
    mxscan_store::reader::parts(survey, mxscan_store::Table::Domains)
        .unwrap()
        .len()
}

/// Domain rows without timing and survey id; cert verdicts blanked where the truth says
/// they depend on probe order (an address shared by two names).
fn normalised_domains(survey: &Path, ambiguous: &HashSet<String>) -> BTreeMap<String, DomainRow> {
    let mut out = BTreeMap::new();
    for mut d in mxscan_store::reader::read_domains(survey).unwrap() {
        d.survey_id.clear();
        d.elapsed_ms = 0;
        if ambiguous.contains(&d.domain) {
            d.cert_valid = "untested".parse().unwrap();
        }
        let name = d.domain.clone();
        assert!(
            out.insert(name.clone(), d).is_none(),
            "duplicate domain row {name}"
        );
    }
    out
}

type MxKey = (String, String, String);

fn normalised_mx(survey: &Path, ambiguous: &HashSet<MxKey>) -> BTreeMap<MxKey, MxRow> {
    let mut out = BTreeMap::new();
    for mut m in mxscan_store::reader::read_mx(survey).unwrap() {
        m.survey_id.clear();
        let key = (m.domain.clone(), m.exchange.clone(), m.address.clone());
        if ambiguous.contains(&key) {
            m.cert_status = None;
            m.cert_matches_domain = None;
        }
        assert!(
            out.insert(key.clone(), m).is_none(),
            "duplicate mx row {key:?}"
        );
    }
    out
}

/// address → status; panics on a second row for one (address, port).
fn probes(survey: &Path) -> BTreeMap<String, &'static str> {
    let mut seen = HashSet::new();
    let mut out = BTreeMap::new();
    for p in mxscan_store::reader::read_probes(survey).unwrap() {
        assert!(
            seen.insert((p.address.clone(), p.port)),
            "two probe rows for {}:{}",
            p.address,
            p.port
        );
        out.insert(p.address, p.status.as_str());
    }
    out
}

fn certs(survey: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for c in mxscan_store::reader::read_certs(survey).unwrap() {
        assert!(
            out.insert(c.sha256.clone()),
            "two cert rows for {}",
            c.sha256
        );
    }
    out
}

fn diff_maps<K: Ord + std::fmt::Debug, V: PartialEq + std::fmt::Debug>(
    what: &str,
    want: &BTreeMap<K, V>,
    got: &BTreeMap<K, V>,
) -> Vec<String> {
    let mut out = Vec::new();
    for (k, w) in want {
        match got.get(k) {
            None => out.push(format!("{what} {k:?}: missing after resume")),
            Some(g) if g != w => {
                out.push(format!("{what} {k:?}:\n  clean   {w:?}\n  resumed {g:?}"))
            }
            Some(_) => {}
        }
    }
    for k in got.keys() {
        if !want.contains_key(k) {
            out.push(format!("{what} {k:?}: only after resume"));
        }
    }
    out
}

const READ_BACK: &str = r#"
import json, sys
root, survey = sys.argv[1], sys.argv[2]
out = {}
try:
    import pyarrow.dataset as ds
    for t in ['domains', 'mx', 'probes', 'certs']:
        out['pyarrow.' + t] = ds.dataset(f'{survey}/{t}', format='parquet').count_rows()
except ImportError:
    pass
try:
    import duckdb
    con = duckdb.connect()
    q = f"select count(*), count(distinct domain), count(distinct survey_id) from read_parquet('{root}/*/domains/*.parquet', hive_partitioning = true)"
    n, d, s = con.execute(q).fetchone()
    out['duckdb.domains'], out['duckdb.distinct_domains'], out['duckdb.surveys'] = n, d, s
    out['duckdb.probes_distinct'] = con.execute(f"select count(distinct address) from read_parquet('{survey}/probes/*.parquet')").fetchone()[0]
except ImportError:
    pass
print(json.dumps(out))
"#;

#[test]
fn killed_three_times_then_resumed_equals_an_uninterrupted_run() {
    mxscan_testkit::require_sandbox!();
    let h = Harness::start(11, Profile::Stress);
    let list = h.write_list("list.csv", COUNT);
    let logs = h.dir.path().join("logs");
    std::fs::create_dir_all(&logs).unwrap();

    // The reference: one uninterrupted run with the same flags.
    let clean_root = h.dir.path().join("clean");
    let mut flags = Harness::fast_flags();
    flags.extend(commit_flags());
    h.scan(&list, &clean_root, &flags);
    let clean = only_survey(&clean_root);

    // Killed 2 s into the first run.
    let crash_root = h.dir.path().join("crashed");
    let target = vec!["--out".to_string(), crash_root.display().to_string()];
    let cmd = scan_command(&h, &list, &target, &logs.join("run-0.log"));
    assert!(
        run_and_kill(cmd, Duration::from_secs(2)),
        "the scan finished within 2 s; the test needs a longer list"
    );
    let survey: PathBuf = only_survey(&crash_root);
    let mut history = vec![(2u64, committed_parts(&survey))];

    // Resumed, and killed again 3 s and 4 s into the resumed runs (5 s and 9 s of scanning).
    let resume = vec!["--resume".to_string(), survey.display().to_string()];
    for (i, secs) in [3u64, 4].into_iter().enumerate() {
        // A killed survey reads back cleanly at every stage.
        normalised_domains(&survey, &HashSet::new());
        let log = logs.join(format!("resume-{i}.log"));
        let killed = run_and_kill(
            scan_command(&h, &list, &resume, &log),
            Duration::from_secs(secs),
        );
        assert!(killed, "a resumed run finished within {secs} s");
        history.push((history.last().unwrap().0 + secs, committed_parts(&survey)));
    }
    eprintln!("committed domain parts after each kill (seconds of scanning, parts): {history:?}");
    assert!(
        history.iter().any(|(_, parts)| *parts > 0),
        "no kill found a committed part: commits are not frequent enough"
    );

    // Resume until complete.
    let mut resumes = 0;
    loop {
        let m = Manifest::load(&survey).unwrap();
        if m.status == SurveyStatus::Complete {
            break;
        }
        resumes += 1;
        assert!(resumes <= 3, "survey still {:?} after 3 resumes", m.status);
        let log = logs.join(format!("final-{resumes}.log"));
        let status = scan_command(&h, &list, &resume, &log).status().unwrap();
        assert!(
            status.success(),
            "resume failed: {status:?}\n{}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }
    let manifest = Manifest::load(&survey).unwrap();
    assert_eq!(manifest.input.domains, Some(COUNT));
    assert!(
        !manifest.resumed_at.is_empty(),
        "manifest records the resumes"
    );

    // The same rows as the uninterrupted run.
    let truth: Vec<DomainTruth> = h.truth(&list);
    let ambiguous_domains: HashSet<String> = truth
        .iter()
        .filter(|t| t.mx.iter().any(|m| m.ambiguous))
        .map(|t| t.domain.clone())
        .collect();
    let ambiguous_mx: HashSet<MxKey> = truth
        .iter()
        .flat_map(|t| {
            t.mx.iter()
                .filter(|m| m.ambiguous)
                .map(|m| (t.domain.clone(), m.exchange.clone(), m.address.clone()))
        })
        .collect();
    let want_d = normalised_domains(&clean, &ambiguous_domains);
    let got_d = normalised_domains(&survey, &ambiguous_domains);
    assert_eq!(want_d.len() as u64, COUNT);
    let mut problems = diff_maps("domain", &want_d, &got_d);
    problems.extend(diff_maps(
        "mx",
        &normalised_mx(&clean, &ambiguous_mx),
        &normalised_mx(&survey, &ambiguous_mx),
    ));
    problems.extend(diff_maps("probe", &probes(&clean), &probes(&survey)));
    let (cc, cr) = (certs(&clean), certs(&survey));
    assert_eq!(cc, cr, "certificate hashes differ");
    problems.truncate(20);
    assert!(
        problems.is_empty(),
        "the resumed survey differs from the uninterrupted one:\n{}",
        problems.join("\n")
    );

    // Every probe row belongs to an address of the mx table (and each contacted address has one).
    let mx_addrs: HashSet<String> = mxscan_store::reader::read_mx(&survey)
        .unwrap()
        .into_iter()
        .filter(|m| !m.blocked)
        .map(|m| m.address)
        .collect();
    let probe_addrs: HashSet<String> = probes(&survey).into_keys().collect();
    assert_eq!(
        probe_addrs, mx_addrs,
        "probes: one row per contacted address"
    );

    // And the truth agrees, as for a clean run.
    compare(&survey, &truth).assert_none();

    // Third-party readers see the same survey.
    let out = Command::new("python3")
        .args(["-c", READ_BACK])
        .arg(&crash_root)
        .arg(&survey)
        .output();
    match out {
        Ok(o) if o.status.success() => {
            let v: HashMap<String, u64> = serde_json::from_slice(&o.stdout).unwrap();
            if v.is_empty() {
                eprintln!(
                    "SKIPPED pyarrow/DuckDB read-back: neither is installed (CI installs them)"
                );
            }
            let rows = |t| {
                mxscan_store::reader::read_batches(&survey, t)
                    .unwrap()
                    .iter()
                    .map(|b| b.num_rows() as u64)
                    .sum::<u64>()
            };
            use mxscan_store::Table;
            let want: HashMap<&str, u64> = HashMap::from([
                ("pyarrow.domains", COUNT),
                ("pyarrow.mx", rows(Table::Mx)),
                ("pyarrow.probes", rows(Table::Probes)),
                ("pyarrow.certs", rows(Table::Certs)),
                ("duckdb.domains", COUNT),
                ("duckdb.distinct_domains", COUNT),
                ("duckdb.surveys", 1),
                ("duckdb.probes_distinct", rows(Table::Probes)),
            ]);
            for (k, n) in &v {
                assert_eq!(Some(n), want.get(k.as_str()), "{k}");
            }
        }
        Ok(o) => panic!("read-back script: {}", String::from_utf8_lossy(&o.stderr)),
        Err(e) => eprintln!("SKIPPED pyarrow/DuckDB read-back: python3: {e}"),
    }
}
