//! The end-to-end harness: an in-process testbed world in a runtime of its own, synthetic
//! lists, the flags that point a scan at it, reading the survey, and a column-by-column
//! comparison of the survey with the ground truth.
//!
//! The binary under test is the caller's (`env!("CARGO_BIN_EXE_mxscan")` exists only in the
//! binary crate's own tests): [`Harness::scan_with`] takes its `Command`. Everything that
//! scans runs inside the network sandbox (`scripts/sandbox.sh`, see [`crate::sandbox`]): the
//! testbed publishes MX records that point at private addresses on purpose.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::Duration;

use mxscan_store::rows::{DomainRow, MxRow, ProbeRow};
use mxscan_testbed::Testbed;

use crate::tools::run_ok;
use mxscan_testbed::profile::{LatencyConfig, Profile};
use mxscan_testbed::truth::{DomainTruth, ScanTrust};
use mxscan_testbed::world::WorldConfig;

/// A running testbed plus a scratch directory with its CA bundle and its root alone.
#[derive(Debug)]
pub struct Harness {
    pub rt: tokio::runtime::Runtime,
    pub testbed: Testbed,
    pub dir: tempfile::TempDir,
    /// The CA bundle (root + intermediate): `ScanTrust::default()`.
    pub ca: PathBuf,
    /// The root alone: `ScanTrust::ROOT_ONLY` (incomplete chains complete through AIA only).
    pub root_ca: PathBuf,
    /// The file the scans are given as `--trust-anchor` (`ca` unless a test sets it).
    pub anchor: PathBuf,
}

impl Harness {
    /// Start a world with this seed and profile (no latency; greet delay 2 s).
    pub fn start(seed: u64, profile: Profile) -> Harness {
        Harness::start_with(WorldConfig {
            seed,
            profile,
            latency: LatencyConfig::with_median_ms(0),
            greet_delay: Duration::from_secs(2),
        })
    }

    /// Start a world with this configuration.
    pub fn start_with(world: WorldConfig) -> Harness {
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .unwrap();
        let testbed = rt.block_on(crate::bed::start_world(world));
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        testbed.write_ca(&ca).unwrap();
        let root_ca = dir.path().join("root.pem");
        testbed.write_root_ca(&root_ca).unwrap();
        Harness {
            rt,
            testbed,
            dir,
            anchor: ca.clone(),
            ca,
            root_ca,
        }
    }

    /// Write a synthetic `rank,domain` list of `count` names of this world.
    pub fn write_list(&self, name: &str, count: u64) -> PathBuf {
        let w = self.testbed.world().config();
        let ranked = mxscan_testbed::names::synthetic_domains(w.seed, count, w.profile);
        write_ranked(&self.dir.path().join(name), ranked)
    }

    /// The first `count` names of this world's synthetic list (those `write_list` writes).
    pub fn domains(&self, count: u64) -> Vec<String> {
        let w = self.testbed.world().config();
        crate::bed::domains(w.seed, count, w.profile)
    }

    /// The flags that point a scan at this testbed (loopback only is allowed; AIA
    /// caIssuers URLs are fetched from the testbed's AIA server).
    pub fn scan_flags(&self) -> Vec<String> {
        let t = &self.testbed;
        [
            ("--resolver", t.dns_addr().to_string()),
            ("--trust-anchor", self.anchor.display().to_string()),
            ("--allow", "127.0.0.0/8".into()),
            ("--smtp-port", t.smtp_port().to_string()),
            ("--https-port", t.https_port().to_string()),
            ("--http-port", t.http_port().to_string()),
            ("--progress", "none".into()),
        ]
        .into_iter()
        .flat_map(|(flag, value)| [flag.to_string(), value])
        .collect()
    }

    /// Flags for a fast test scan: no politeness intervals (the testbed's addresses are
    /// loopback), short deadlines so tarpits and slowloris cost seconds, not minutes.
    pub fn fast_flags() -> Vec<String> {
        [
            "--per-ip-interval",
            "0",
            "--per-prefix-interval",
            "0",
            "--rate",
            "100000",
            "--greeting-timeout",
            "5",
            "--command-timeout",
            "10",
            "--tls-timeout",
            "10",
            "--probe-timeout",
            "30",
            "--fetch-timeout",
            "30",
            "--dns-timeout",
            "2",
            "--dns-attempts",
            "2",
            "--concurrency",
            "500",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect()
    }

    /// Run `bin scan` (`bin`: the binary under test) on `list` with the testbed flags plus
    /// `extra`, into `out`; panics with its stderr unless it succeeds.
    pub fn scan_with(&self, mut bin: Command, list: &Path, out: &Path, extra: &[String]) -> Output {
        run_ok(self.scan_args(&mut bin, list, out, extra), "mxscan scan")
    }

    /// [`Harness::scan_with`], returning the output whatever the status.
    pub fn scan_output_with(
        &self,
        mut bin: Command,
        list: &Path,
        out: &Path,
        extra: &[String],
    ) -> Output {
        let cmd = self.scan_args(&mut bin, list, out, extra);
        cmd.output().expect("mxscan runs")
    }

    fn scan_args<'c>(
        &self,
        bin: &'c mut Command,
        list: &Path,
        out: &Path,
        extra: &[String],
    ) -> &'c mut Command {
        bin.arg("scan")
            .args(self.scan_flags())
            .args(extra)
            .arg("--out")
            .arg(out)
            .arg(list)
    }

    /// The trust the scans are given: the bundle (the default) or, when `anchor` is the
    /// root alone, [`ScanTrust::ROOT_ONLY`] (AIA on; a scan with `--no-aia` needs its own).
    pub fn scan_trust(&self) -> ScanTrust {
        ScanTrust {
            intermediate_known: self.anchor != self.root_ca,
            aia: true,
        }
    }

    /// The ground truth of every domain in `list` (collision marks included), for the
    /// trust the scans are given ([`Harness::scan_trust`]).
    pub fn truth(&self, list: &Path) -> Vec<DomainTruth> {
        let domains: Vec<String> = std::fs::read_to_string(list)
            .unwrap()
            .lines()
            .skip(1)
            .map(|l| l.split_once(',').unwrap().1.to_string())
            .collect();
        mxscan_testbed::truth::truth_for_list_with(
            self.testbed.world(),
            &domains,
            self.scan_trust(),
        )
        .collect()
    }
}

/// The single survey directory under `root`.
pub fn only_survey(root: &Path) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(root)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("survey=")
        })
        .collect();
    assert_eq!(dirs.len(), 1, "one survey under {}", root.display());
    dirs.pop().unwrap()
}

/// Disagreements between a survey and the truth: column → (count, a few examples).
#[derive(Debug, Default)]
pub struct Disagreements {
    pub columns: BTreeMap<String, (usize, Vec<String>)>,
    pub domains_compared: usize,
    pub mx_rows_compared: usize,
}

impl Disagreements {
    fn note(&mut self, column: &str, example: String) {
        let e = self.columns.entry(column.to_string()).or_default();
        e.0 += 1;
        if e.1.len() < 5 {
            e.1.push(example);
        }
    }

    /// Panic with the per-column counts and examples unless there are none.
    pub fn assert_none(&self) {
        if self.columns.is_empty() {
            return;
        }
        let mut msg = format!(
            "survey disagrees with the ground truth ({} domains, {} mx rows compared):\n",
            self.domains_compared, self.mx_rows_compared
        );
        for (col, (n, ex)) in &self.columns {
            msg.push_str(&format!("  {col}: {n}\n"));
            for e in ex {
                msg.push_str(&format!("      {e}\n"));
            }
        }
        panic!("{msg}");
    }
}

/// Compare every domain row and every mx row of the survey with the truth, on every
/// contract column the truth states. The probe's TLS columns (`tls_max_version`,
/// `tls_failure`, `modern_tls_failure`, whether a legacy hello was made: `legacy_ms` set,
/// and `chain_completed`) live in the probes table, one row per address: each mx row is joined to the probes
/// row of its address and compared with the truth of that row.
pub fn compare(survey: &Path, truth: &[DomainTruth]) -> Disagreements {
    let domains = mxscan_store::reader::read_domains(survey).expect("domains readable");
    let mx = mxscan_store::reader::read_mx(survey).expect("mx readable");
    let probes = mxscan_store::reader::read_probes(survey).expect("probes readable");
    let mut probe_by_addr: HashMap<&str, &ProbeRow> = HashMap::new();
    let mut by_domain: HashMap<&str, &DomainRow> = HashMap::new();
    let mut out = Disagreements::default();
    for d in &domains {
        if by_domain.insert(d.domain.as_str(), d).is_some() {
            out.note("duplicate_domain_row", d.domain.clone());
        }
    }
    for p in &probes {
        if probe_by_addr.insert(p.address.as_str(), p).is_some() {
            out.note("duplicate_probe_row", p.address.clone());
        }
    }
    let mut mx_by_domain: HashMap<&str, Vec<&MxRow>> = HashMap::new();
    for m in &mx {
        mx_by_domain.entry(m.domain.as_str()).or_default().push(m);
    }
    if domains.len() != truth.len() {
        out.note(
            "domain_count",
            format!("survey {} vs truth {}", domains.len(), truth.len()),
        );
    }
    for t in truth {
        let Some(g) = by_domain.get(t.domain.as_str()) else {
            out.note("missing_domain", t.domain.clone());
            continue;
        };
        out.domains_compared += 1;
        let ctx = |col: &str, want: String, got: String| {
            format!(
                "{} [{}/{}/{}] {col}: truth {want} got {got}",
                t.domain, t.scenario.dns, t.scenario.sts, t.scenario.tlsrpt
            )
        };
        macro_rules! col {
            ($name:ident, $want:expr, $got:expr) => {{
                let (w, g2) = ($want, $got);
                if w != g2 {
                    out.note(
                        stringify!($name),
                        ctx(stringify!($name), format!("{w:?}"), format!("{g2:?}")),
                    );
                }
            }};
        }
        col!(dns_status, t.dns_status, g.dns_status);
        col!(null_mx, t.null_mx, g.null_mx);
        col!(implicit_mx, t.implicit_mx, g.implicit_mx);
        col!(mx_hosts, &t.mx_hosts, &g.mx_hosts);
        col!(mx_unresolved, &t.mx_unresolved, &g.mx_unresolved);
        col!(starttls, t.starttls, g.starttls);
        col!(sts_record, t.sts_record, g.sts_record);
        col!(sts_id, &t.sts_id, &g.sts_id);
        col!(sts_policy, t.sts_policy, g.sts_policy);
        col!(sts_fetch_error, t.sts_fetch_error, g.sts_fetch_error);
        col!(
            sts_http_status,
            t.sts_http_status.map(i32::from),
            g.sts_http_status
        );
        col!(sts_mode, t.sts_mode, g.sts_mode);
        col!(sts_max_age, t.sts_max_age.map(|a| a as i64), g.sts_max_age);
        col!(sts_mx, &t.sts_mx, &g.sts_mx);
        col!(
            sts_deviations,
            t.sts_deviations
                .iter()
                .map(|s| s.to_string())
                .collect::<Vec<_>>(),
            g.sts_deviations.clone()
        );
        col!(sts_mx_unmatched, &t.sts_mx_unmatched, &g.sts_mx_unmatched);
        col!(sts_delivery, t.sts_delivery, g.sts_delivery);
        col!(tlsrpt_record, t.tlsrpt_record, g.tlsrpt_record);
        col!(tlsrpt_rua, &t.tlsrpt_rua, &g.tlsrpt_rua);
        let ambiguous = t.mx.iter().any(|m| m.ambiguous);
        if !ambiguous {
            col!(cert_valid, t.cert_valid, g.cert_valid);
        }

        // mx rows: same multiset of (exchange, address), then every column.
        let mut want: Vec<_> = t.mx.iter().collect();
        want.sort_by(|a, b| (&a.exchange, &a.address).cmp(&(&b.exchange, &b.address)));
        let mut got: Vec<&MxRow> = mx_by_domain
            .get(t.domain.as_str())
            .cloned()
            .unwrap_or_default();
        got.sort_by(|a, b| (&a.exchange, &a.address).cmp(&(&b.exchange, &b.address)));
        let keys_w: Vec<_> = want
            .iter()
            .map(|m| (m.exchange.as_str(), m.address.as_str()))
            .collect();
        let keys_g: Vec<_> = got
            .iter()
            .map(|m| (m.exchange.as_str(), m.address.as_str()))
            .collect();
        if keys_w != keys_g {
            out.note(
                "mx_rows",
                ctx("mx_rows", format!("{keys_w:?}"), format!("{keys_g:?}")),
            );
            continue;
        }
        for (w, g) in want.iter().zip(got.iter()) {
            out.mx_rows_compared += 1;
            let mctx = |col: &str, a: String, b: String| {
                format!(
                    "{} {} {} [{:?}] mx.{col}: truth {a} got {b}",
                    t.domain, w.exchange, w.address, w.scenario
                )
            };
            macro_rules! mcol {
                ($name:ident, $want:expr, $got:expr) => {{
                    let (a, b) = ($want, $got);
                    if a != b {
                        out.note(
                            concat!("mx.", stringify!($name)),
                            mctx(stringify!($name), format!("{a:?}"), format!("{b:?}")),
                        );
                    }
                }};
            }
            mcol!(preference, w.preference, g.preference);
            mcol!(blocked, w.blocked, g.blocked);
            mcol!(smtp_status, w.smtp_status, g.smtp_status);
            mcol!(starttls, w.starttls, g.starttls);
            if !w.ambiguous {
                mcol!(cert_status, w.cert_status, g.cert_status);
            }
            mcol!(sts_match, w.sts_match, g.sts_match);
            // The probes row of the address (none for a blocked address).
            match probe_by_addr.get(w.address.as_str()) {
                None if w.blocked => {}
                None => out.note(
                    "probe_row_missing",
                    mctx("probe", "a probes row".into(), "none".into()),
                ),
                Some(_) if w.blocked => out.note(
                    "probe_row_for_blocked",
                    mctx("probe", "none".into(), "a probes row".into()),
                ),
                Some(p) => {
                    mcol!(
                        tls_max_version,
                        w.tls_max_version.map(|v| v.as_str().to_string()),
                        p.tls_max_version.clone()
                    );
                    mcol!(tls_failure, w.tls_failure, p.tls_failure);
                    mcol!(
                        modern_tls_failure,
                        w.modern_tls_failure,
                        p.modern_tls_failure
                    );
                    mcol!(legacy_hello, w.legacy_hello, p.legacy_ms.is_some());
                    mcol!(chain_completed, w.chain_completed, p.chain_completed);
                }
            }
        }
    }
    out
}

/// [`Harness::fast_flags`] with some values replaced (or added when `fast_flags` lacks the
/// flag): e.g. `flags_with(&[("--per-ip-interval", "0.3")])`.
pub fn flags_with(overrides: &[(&str, &str)]) -> Vec<String> {
    let mut flags = Harness::fast_flags();
    for (name, value) in overrides {
        match flags.iter().position(|f| f == name) {
            Some(i) => flags[i + 1] = value.to_string(),
            None => flags.extend([name.to_string(), value.to_string()]),
        }
    }
    flags
}

/// Write `domains` as a `rank,domain` list named `name` in the harness's directory.
pub fn write_domains(h: &Harness, name: &str, domains: &[String]) -> PathBuf {
    let ranked = domains.iter().enumerate().map(|(i, d)| (i as u64 + 1, d));
    write_ranked(&h.dir.path().join(name), ranked)
}

/// Write a `rank,domain` list to `path`.
fn write_ranked<D: std::fmt::Display>(
    path: &Path,
    ranked: impl Iterator<Item = (u64, D)>,
) -> PathBuf {
    let mut text = String::from("rank,domain\n");
    for (rank, d) in ranked {
        text.push_str(&format!("{rank},{d}\n"));
    }
    std::fs::write(path, text).unwrap();
    path.to_path_buf()
}

/// [`Harness::fast_flags`] for the issue-4 tests: DNS rate 20,000/s (the default 500/s makes
/// DNS the bottleneck) and a 10 s fetch deadline (the slowloris policy hosts drip a byte a
/// second; every honest fetch on loopback takes milliseconds).
pub fn quick_flags() -> Vec<String> {
    flags_with(&[("--dns-rate", "20000"), ("--fetch-timeout", "10")])
}
