//! `mxscan demo`: a first history of surveys with no network and no setup. Starts the
//! simulated mail internet (the testbed) in-process on ephemeral loopback ports, writes its
//! CA bundle and a synthetic domain list, and scans the list `--surveys N` times (default 3)
//! through the real `scan` path with `--allow 127.0.0.0/8` (never `--allow-private`), moving
//! the world `--epoch-step K` epochs (about a month each) on between two scans: adoption
//! grows, certificates are renewed, policies change (with and without a new id). Then it
//! prints the summary of the newest survey, the diff of the last two, where the files are
//! and how to open the notebook, whose time series then has N points.
//!
//! One testbed serves every epoch, so a certificate that did not change between two epochs
//! is the same leaf (the diff's `leaf_changed` means something). Each survey records
//! `labels` {`testbed.seed`, `testbed.profile`, `testbed.epoch`} in survey.json; run again
//! into the same `--dir` and the history goes on after the newest epoch found there.
//!
//! The network sandbox: the testbed publishes MX records that point at private addresses on
//! purpose (ARCHITECTURE.md, "The network sandbox"). Started outside a namespace
//! (`MXSCAN_IN_SANDBOX` unset), the demo re-executes itself in a network namespace of its own
//! where only loopback exists — `unshare --net` as root, `unshare -rn` (a user namespace)
//! otherwise, the same dance as `scripts/sandbox.sh` — and only when neither works does it run
//! in place, saying that the blocklist is then the only guard (the private-address MX records
//! stay blocked by default: only 127.0.0.0/8 is allowed).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use anyhow::Context;
use clap::Args;
use mxscan_engine::config::{DnsSection, PolitenessSection, ScanConfig, TimeoutSection};
use mxscan_engine::survey::{Output, Plan, Source};
use mxscan_testbed::profile::{LatencyConfig, Profile};
use mxscan_testbed::world::WorldConfig;
use mxscan_testbed::{Testbed, TestbedConfig};

use crate::UsageError;
use crate::scan_cmd::{self, Progress};

/// Environment variable set inside the network namespace (by this command and by
/// `scripts/sandbox.sh`).
pub const SANDBOX_ENV: &str = "MXSCAN_IN_SANDBOX";

/// At most this many surveys per demo run (ten years of months).
const MAX_SURVEYS: u32 = 120;

/// The demo's domain list stays the same through this epoch (three years), so that runs
/// which continue a history scan the same list (`synthetic_domains_through`).
const LIST_HORIZON: u32 = 36;

/// survey.json labels of a demo survey.
const LABEL_SEED: &str = "testbed.seed";
const LABEL_PROFILE: &str = "testbed.profile";
const LABEL_EPOCH: &str = "testbed.epoch";
const PROFILE: Profile = Profile::Realistic;

/// Run a complete survey of a simulated mail internet on this machine: no network needed.
#[derive(Debug, Args)]
#[command(after_help = "\
Everything happens on loopback: the testbed's DNS, SMTP and HTTPS servers run inside this
process on ephemeral 127.0.0.1 ports, and the scan runs in a private network namespace where
only loopback exists (unshare; when that is unavailable the demo says so and relies on the
blocklist). The world is deterministic: the same --seed gives the same domains and verdicts.

Time: --surveys N scans of the same list, the world --epoch-step K epochs (about a month
each) further on at each; epoch 0 is the world `mxscan testbed serve` shows by default.
Running the demo again into the same --dir goes on after the newest epoch there.

Files (under --dir): testbed-ca.pem, domains.csv and surveys/survey=<id>/ (Parquet) — the
surveys root is DIR/surveys, what `mxscan scan --out` would be given.
Then: MXSCAN_SURVEYS=<dir>/surveys jupyter lab notebooks/adoption.ipynb")]
pub struct DemoArgs {
    /// How many synthetic domains to scan.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub domains: u64,
    /// How many surveys to make, one per epoch of the simulated world (1-120).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub surveys: u32,
    /// Epochs between two surveys (an epoch is about a month of the simulated world).
    #[arg(long, default_value_t = 3, value_name = "K")]
    pub epoch_step: u32,
    /// The demo's working directory: the CA bundle, the domain list and the surveys root
    /// DIR/surveys (created if missing; each run adds a survey there). Named apart from
    /// `scan --out`, which is a surveys root itself.
    #[arg(long = "dir", default_value = "mxscan-demo", value_name = "DIR")]
    pub dir: PathBuf,
    /// World seed: the same seed gives the same world.
    #[arg(long, default_value_t = 1, value_name = "S")]
    pub seed: u64,
    /// Median simulated round-trip time per host, milliseconds (long-tailed).
    #[arg(long, default_value_t = 20, value_name = "MS")]
    pub latency: u32,
    /// Greeting delay of the postscreen-like hosts, seconds.
    #[arg(long, default_value_t = 2.0, value_name = "SECS")]
    pub greet_delay: f64,
    /// Progress display: auto (bars on a terminal), bars, lines, none.
    #[arg(long, default_value = "auto", value_name = "MODE")]
    pub progress: String,
    /// Run in place even outside a network namespace (do not re-execute under unshare).
    #[arg(long, hide = true)]
    pub no_sandbox: bool,
}

/// Where the demo's testbed listens, and where its files go.
#[derive(Debug, Clone)]
struct DemoBed {
    dns: SocketAddr,
    ca: PathBuf,
    smtp_port: u16,
    https_port: u16,
    /// The AIA (plain HTTP) port: the caIssuers URLs of the world's leaves name none.
    http_port: u16,
    surveys: PathBuf,
}

/// The demo's scan: the testbed's resolver, CA and ports, loopback allowed (never
/// `allow_private`), and
/// - the demo's politeness: the structure of the defaults (one connection at a time per
///   address, intervals per address and per /24, a global rate), with the numbers shrunk
///   because every address is loopback;
/// - short deadlines so the simulated tarpits, slow greeters and silent hosts cost seconds.
fn demo_config(bed: &DemoBed) -> ScanConfig {
    let defaults = ScanConfig::default();
    ScanConfig {
        out: bed.surveys.clone(),
        ehlo_name: "mxscan-demo.invalid".into(),
        trust_anchors: vec![bed.ca.clone()],
        smtp_port: bed.smtp_port,
        https_port: bed.https_port,
        http_port: bed.http_port,
        grace: 5.0,
        dns: DnsSection {
            resolvers: vec![bed.dns.to_string()],
            rate: 20000.0,
            timeout: 1.0,
            attempts: 2,
            ..defaults.dns.clone()
        },
        politeness: PolitenessSection {
            allow: vec!["127.0.0.0/8".into()],
            per_ip_interval: 0.05,
            per_prefix_interval: 0.001,
            rate: 5000.0,
            concurrency: 500,
            ..defaults.politeness.clone()
        },
        timeouts: TimeoutSection {
            connect: 3.0,
            greeting: 5.0,
            command: 5.0,
            tls: 5.0,
            probe: 15.0,
            fetch: 10.0,
        },
        ..defaults
    }
}

/// How this process relates to the network sandbox.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sandbox {
    /// Already inside a namespace with loopback only.
    Inside,
    /// No namespace could be made: the blocklist is the only guard.
    Unavailable,
}

pub fn run(args: DemoArgs) -> anyhow::Result<()> {
    if args.domains == 0 {
        return Err(UsageError("--domains must be at least 1".into()).into());
    }
    if !(1..=MAX_SURVEYS).contains(&args.surveys) {
        return Err(UsageError(format!("--surveys must be 1 to {MAX_SURVEYS}")).into());
    }
    if args.epoch_step == 0 {
        return Err(UsageError(
            "--epoch-step must be at least 1 (two surveys of one epoch are the same world)".into(),
        )
        .into());
    }
    if !(args.greet_delay.is_finite() && args.greet_delay >= 0.0) {
        return Err(UsageError("--greet-delay must be a number of seconds".into()).into());
    }
    let sandbox = if std::env::var(SANDBOX_ENV).is_ok_and(|v| v == "1") {
        Sandbox::Inside
    } else if args.no_sandbox {
        Sandbox::Unavailable
    } else {
        match reexec_in_namespace()? {
            Some(code) => std::process::exit(code),
            None => Sandbox::Unavailable,
        }
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let code = runtime.block_on(demo(args, sandbox))?;
    if code != 0 {
        std::process::exit(code);
    }
    Ok(())
}

/// The `sh -c` script run inside the new namespace: loopback up, nothing else up, then the
/// demo again with the sandbox marker set (as `scripts/sandbox.sh` does).
const INNER: &str = r#"ip link set lo up 2>/dev/null || ifconfig lo up 2>/dev/null || exit 97
if ip -o link show up 2>/dev/null | grep -v " lo:" | grep -q .; then exit 97; fi
export MXSCAN_IN_SANDBOX=1
exec "$@""#;

/// Re-execute this command inside a fresh network namespace. `Ok(Some(code))`: it ran there
/// and exited with `code`; `Ok(None)`: no namespace could be made here.
fn reexec_in_namespace() -> anyhow::Result<Option<i32>> {
    let exe = std::env::current_exe().context("locating the mxscan executable")?;
    let rest: Vec<std::ffi::OsString> = std::env::args_os().skip(1).collect();
    // Probe each way first (cheaply, with the same script) so that a failure of the demo
    // itself is never mistaken for a missing namespace.
    for unshare_args in [&["--net"][..], &["-rn"][..]] {
        let probe = Command::new("unshare")
            .args(unshare_args)
            .args(["sh", "-c", INNER, "sandbox", "true"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        if !probe.is_ok_and(|s| s.success()) {
            continue;
        }
        eprintln!(
            "mxscan demo: entering a private network namespace (unshare {}): only loopback exists there",
            unshare_args.join(" ")
        );
        let status = Command::new("unshare")
            .args(unshare_args)
            .args(["sh", "-c", INNER, "sandbox"])
            .arg(&exe)
            .args(&rest)
            .status()
            .context("running the demo under unshare")?;
        return Ok(Some(status.code().unwrap_or(1)));
    }
    Ok(None)
}

fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// What the demo's politeness and deadlines are, next to the real defaults.
fn notes(demo: &ScanConfig, real: &ScanConfig) -> String {
    let (p, r) = (&demo.politeness, &real.politeness);
    let (t, rt) = (&demo.timeouts, &real.timeouts);
    format!(
        "  politeness: one connection at a time per address, {} s between connections to one address and\n              \
         {} s per /24 (real defaults: {} s and {} s, {} connections/s) — every address here is loopback\n\
         \x20 deadlines:  greeting {} s, reply {} s, TLS {} s, probe {} s, policy fetch {} s, DNS {} s x {} so the\n              \
         simulated tarpits and silent hosts cost seconds (real defaults: {}/{}/{}/{}/{} s, DNS {} s x {})\n",
        p.per_ip_interval,
        p.per_prefix_interval,
        r.per_ip_interval,
        r.per_prefix_interval,
        r.rate,
        t.greeting,
        t.command,
        t.tls,
        t.probe,
        t.fetch,
        demo.dns.timeout,
        demo.dns.attempts,
        rt.greeting,
        rt.command,
        rt.tls,
        rt.probe,
        rt.fetch,
        real.dns.timeout,
        real.dns.attempts,
    )
}

async fn demo(args: DemoArgs, sandbox: Sandbox) -> anyhow::Result<i32> {
    // `auto`: bars on a terminal, a status line every 10 s otherwise (as `scan`).
    let progress = Progress::parse(&args.progress)?;
    std::fs::create_dir_all(&args.dir)
        .with_context(|| format!("creating {}", args.dir.display()))?;
    let out = std::fs::canonicalize(&args.dir).unwrap_or(args.dir.clone());

    // 1. The world.
    let testbed = Testbed::start(TestbedConfig {
        world: WorldConfig {
            seed: args.seed,
            profile: PROFILE,
            latency: LatencyConfig::with_median_ms(args.latency),
            greet_delay: Duration::from_secs_f64(args.greet_delay),
        },
        ..TestbedConfig::default()
    })
    .await
    .context("starting the testbed servers on loopback")?;
    let ca = out.join("testbed-ca.pem");
    testbed
        .write_ca(&ca)
        .with_context(|| format!("writing {}", ca.display()))?;
    // The epochs: from 0, or on after the newest epoch of this seed already under DIR/surveys.
    let surveys_root = out.join("surveys");
    let first = match newest_epoch(&surveys_root, args.seed) {
        Some(e) => e.saturating_add(args.epoch_step),
        None => 0,
    };
    let epochs: Vec<u32> = (0..args.surveys)
        .map(|i| first.saturating_add(i.saturating_mul(args.epoch_step)))
        .collect();
    let last = *epochs.last().expect("at least one survey");
    let list = out.join("domains.csv");
    write_list(&list, args.seed, args.domains, last.max(LIST_HORIZON))?;

    eprintln!(
        "mxscan demo: a simulated mail internet of {} domains on loopback (seed {}, realistic profile)",
        thousands(args.domains),
        args.seed
    );
    eprintln!(
        "  testbed:    DNS {}, SMTP port {} and HTTPS port {} on every 127.x.y.z, median RTT {} ms, greet delay {} s",
        testbed.dns_addr(),
        testbed.smtp_port(),
        testbed.https_port(),
        args.latency,
        args.greet_delay
    );
    eprintln!("  history:    {}", history_note(&epochs, first > 0));
    match sandbox {
        Sandbox::Inside => eprintln!(
            "  network:    private namespace, loopback only; the scan may dial 127.0.0.0/8 (--allow), nothing else"
        ),
        Sandbox::Unavailable => eprintln!(
            "  network:    NOTE: no network namespace could be made here (unshare needs root or user namespaces);\n              \
             the blocklist is the only guard: the scan may dial 127.0.0.0/8 only, and the testbed's\n              \
             private-address MX records (10.x, 192.168.x, 172.16.x) stay blocked by default"
        ),
    }
    let config = demo_config(&DemoBed {
        dns: testbed.dns_addr(),
        ca: ca.clone(),
        smtp_port: testbed.smtp_port(),
        https_port: testbed.https_port(),
        http_port: testbed.http_port(),
        surveys: surveys_root.clone(),
    });
    eprintln!("{}", notes(&config, &ScanConfig::default()));

    // 2. The scans, through the same library path as `mxscan scan`, one per epoch.
    let mut made: Vec<PathBuf> = Vec::new();
    let mut interrupted = false;
    for (i, &epoch) in epochs.iter().enumerate() {
        testbed.set_epoch(epoch);
        eprintln!(
            "mxscan demo: survey {} of {}: the world at epoch {epoch}",
            i + 1,
            epochs.len()
        );
        let valid = config.clone().validate().map_err(|e| UsageError(e.0))?;
        let plan = Plan {
            count_total: progress != Progress::None,
            labels: [
                (LABEL_SEED, args.seed.to_string()),
                (LABEL_PROFILE, PROFILE.to_string()),
                (LABEL_EPOCH, epoch.to_string()),
            ]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v))
            .collect(),
            ..Plan::new(
                Source::Lists(vec![list.display().to_string()]),
                Output::NewSurvey,
            )
        };
        let result = scan_cmd::run_survey(valid, plan, progress).await?;
        made.push(result.survey_dir);
        if result.interrupted {
            interrupted = true;
            break;
        }
    }
    drop(testbed);

    // 3. What came out: the newest survey, and what changed since the one before it.
    let newest = made.last().expect("at least one survey was started");
    let summary = mxscan_store::summary::Summary::compute(newest)
        .with_context(|| format!("summarising {}", newest.display()))?;
    println!();
    println!("{}", summary.render());
    if let Some(previous) = previous_survey(&surveys_root, newest, args.seed) {
        let diff =
            mxscan_store::diff::SurveyDiff::between(&previous, newest).with_context(|| {
                format!("comparing {} with {}", previous.display(), newest.display())
            })?;
        println!("What changed between the last two surveys (`mxscan diff`):");
        println!("{}", diff.render(3));
    }
    print_next_steps(&out, &made, &list, &ca);
    Ok(if interrupted { 130 } else { 0 })
}

/// One line on the epochs the demo scans.
fn history_note(epochs: &[u32], continued: bool) -> String {
    let list = epochs
        .iter()
        .map(u32::to_string)
        .collect::<Vec<_>>()
        .join(", ");
    let what = if epochs.len() == 1 {
        format!("one survey, the world at epoch {list}")
    } else {
        format!(
            "{} surveys, the world at epochs {list} (an epoch is about a month)",
            epochs.len()
        )
    };
    if continued {
        format!("{what}, going on after the surveys already under --dir")
    } else {
        what
    }
}

/// The demo labels of a survey: (seed, epoch) when it is a demo survey of the realistic world.
fn demo_epoch(m: &mxscan_store::manifest::Manifest) -> Option<(u64, u32)> {
    if m.labels.get(LABEL_PROFILE).map(String::as_str) != Some(PROFILE.as_str()) {
        return None;
    }
    let seed = m.labels.get(LABEL_SEED)?.parse().ok()?;
    let epoch = m.labels.get(LABEL_EPOCH)?.parse().ok()?;
    Some((seed, epoch))
}

/// The newest epoch of `seed` among the demo surveys under `root`, if any.
fn newest_epoch(root: &Path, seed: u64) -> Option<u32> {
    let surveys = mxscan_store::survey::list_surveys(root).ok()?;
    surveys
        .iter()
        .filter_map(|(_, dir)| mxscan_store::manifest::Manifest::load(dir).ok())
        .filter_map(|m| demo_epoch(&m))
        .filter(|&(s, _)| s == seed)
        .map(|(_, e)| e)
        .max()
}

/// The demo survey of `seed` just before `newest` under `root` (oldest-first order of the
/// store), to diff against.
fn previous_survey(root: &Path, newest: &Path, seed: u64) -> Option<PathBuf> {
    let surveys = mxscan_store::survey::list_surveys(root).ok()?;
    let at = surveys.iter().position(|(_, d)| d == newest)?;
    surveys[..at]
        .iter()
        .rev()
        .find(|(_, dir)| {
            mxscan_store::manifest::Manifest::load(dir)
                .ok()
                .and_then(|m| demo_epoch(&m))
                .is_some_and(|(s, _)| s == seed)
        })
        .map(|(_, d)| d.clone())
}

/// The demo's list: `count` domains of the realistic world whose truth is unambiguous at
/// every epoch through `through`.
fn write_list(path: &Path, seed: u64, count: u64, through: u32) -> anyhow::Result<()> {
    use std::io::Write;
    let file =
        std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "rank,domain")?;
    for (rank, name) in
        mxscan_testbed::names::synthetic_domains_through(seed, count, PROFILE, through)
    {
        writeln!(w, "{rank},{name}")?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn print_next_steps(out: &Path, made: &[PathBuf], list: &Path, ca: &Path) {
    let newest = made.last().expect("at least one survey");
    let surveys = newest.parent().unwrap_or(out);
    println!("Files:");
    for dir in made {
        println!("  survey       {}/", dir.display());
    }
    println!(
        "               (each: domains, mx, probes, certs as Parquet; survey.json: manifest, labels, effective config)"
    );
    println!("  domain list  {}", list.display());
    println!("  testbed CA   {}", ca.display());
    println!();
    println!("Next:");
    println!(
        "  # the analysis notebook (adoption tables, the time series over these surveys, what changed):"
    );
    println!("  #   {}", notebook_location());
    println!("  pip install -r notebooks/requirements.txt jupyterlab");
    println!(
        "  MXSCAN_SURVEYS={} jupyter lab notebooks/adoption.ipynb",
        surveys.display()
    );
    if made.len() >= 2 {
        let name = |p: &PathBuf| {
            p.file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned()
        };
        println!("  # the full diff of the last two (every domain, or --json):");
        println!(
            "  mxscan diff {}/{} {}/{}",
            surveys.display(),
            name(&made[made.len() - 2]),
            surveys.display(),
            name(newest)
        );
    }
    println!("  # or straight SQL:");
    println!(
        "  duckdb -c \"SELECT survey_id, starttls, count(*) FROM read_parquet('{}/*/domains/*.parquet', hive_partitioning = true) GROUP BY ALL ORDER BY ALL\"",
        surveys.display()
    );
    println!("  # a real survey: docs/guide.md (resolver, EHLO name, politeness, config file)");
}

/// Where the notebook is: the repository's copy when this binary was built from a checkout
/// that is still there, else where it is in the repository.
fn notebook_location() -> String {
    let built_from = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../notebooks/adoption.ipynb");
    match std::fs::canonicalize(&built_from) {
        Ok(p) => p.display().to_string(),
        Err(_) => "notebooks/adoption.ipynb in the mxscan repository".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thousands_separators() {
        for (n, want) in [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (2000, "2,000"),
            (1234567, "1,234,567"),
        ] {
            assert_eq!(thousands(n), want);
        }
    }

    fn bed() -> DemoBed {
        DemoBed {
            dns: "127.0.0.1:5300".parse().unwrap(),
            ca: "ca.pem".into(),
            smtp_port: 2525,
            https_port: 8443,
            http_port: 8080,
            surveys: "surveys".into(),
        }
    }

    #[test]
    fn demo_scan_arguments_parse_and_never_allow_private() {
        let a = demo_config(&bed());
        let a = &a.politeness;
        assert!(!a.allow_private);
        assert_eq!(a.allow, vec!["127.0.0.0/8"]);
        assert!(a.per_ip_interval > 0.0, "keeps a per-address interval");
        assert!(a.per_prefix_interval > 0.0, "keeps a per-prefix interval");
        let t = &demo_config(&bed()).timeouts;
        assert!(t.probe <= 15.0 && t.greeting <= 5.0);
    }

    /// The notes quote the numbers of the demo and of the defaults as they are.
    #[test]
    fn notes_state_the_demo_and_the_real_numbers() {
        let text = notes(&demo_config(&bed()), &ScanConfig::default());
        assert_eq!(
            text,
            "  politeness: one connection at a time per address, 0.05 s between connections to one address and\n              \
             0.001 s per /24 (real defaults: 1 s and 0.1 s, 100 connections/s) — every address here is loopback\n\
             \x20 deadlines:  greeting 5 s, reply 5 s, TLS 5 s, probe 15 s, policy fetch 10 s, DNS 1 s x 2 so the\n              \
             simulated tarpits and silent hosts cost seconds (real defaults: 30/30/20/90/60 s, DNS 5 s x 3)\n"
        );
    }

    fn demo_survey(root: &Path, id: &str, started: &str, labels: &[(&str, &str)]) -> PathBuf {
        let dir = root.join(format!("survey={id}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut m = mxscan_store::manifest::Manifest::new(id, started);
        m.labels = labels
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        m.store(&dir).unwrap();
        dir
    }

    /// A second demo run into the same directory goes on after the newest epoch of its seed,
    /// and diffs against the demo survey of that seed just before the newest one.
    #[test]
    fn history_goes_on_from_the_newest_epoch_of_the_seed() {
        let root = tempfile::tempdir().unwrap();
        let root = root.path();
        assert_eq!(newest_epoch(&root.join("missing"), 1), None);
        let realistic = |seed: &'static str, epoch: &'static str| {
            vec![
                (LABEL_SEED, seed),
                (LABEL_PROFILE, "realistic"),
                (LABEL_EPOCH, epoch),
            ]
        };
        let a = demo_survey(
            root,
            "2026-12-05T0700Z",
            "2026-12-05T07:00:00Z",
            &realistic("1", "0"),
        );
        demo_survey(
            root,
            "2026-12-05T0701Z",
            "2026-12-05T07:01:00Z",
            &realistic("2", "9"),
        );
        let c = demo_survey(
            root,
            "2026-12-05T070130Z",
            "2026-12-05T07:01:30Z",
            &realistic("1", "3"),
        );
        demo_survey(root, "mine", "2026-12-05T07:02:00Z", &[("vantage", "x")]);
        let stress = [
            (LABEL_SEED, "1"),
            (LABEL_PROFILE, "stress"),
            (LABEL_EPOCH, "50"),
        ];
        let e = demo_survey(root, "2026-12-05T0703Z", "2026-12-05T07:03:00Z", &stress);
        let f = demo_survey(
            root,
            "2026-12-05T0704Z",
            "2026-12-05T07:04:00Z",
            &realistic("1", "6"),
        );
        assert_eq!(
            newest_epoch(root, 1),
            Some(6),
            "stress and other seeds do not count"
        );
        assert_eq!(newest_epoch(root, 2), Some(9));
        assert_eq!(newest_epoch(root, 3), None);
        assert_eq!(previous_survey(root, &f, 1), Some(c.clone()));
        assert_eq!(previous_survey(root, &c, 1), Some(a.clone()));
        assert_eq!(previous_survey(root, &a, 1), None);
        assert_eq!(previous_survey(root, &e, 1), Some(c));
    }

    #[test]
    fn history_note_names_the_epochs() {
        assert_eq!(
            history_note(&[0], false),
            "one survey, the world at epoch 0"
        );
        assert_eq!(
            history_note(&[9, 12, 15], true),
            "3 surveys, the world at epochs 9, 12, 15 (an epoch is about a month), going on after the surveys already under --dir"
        );
    }
}
