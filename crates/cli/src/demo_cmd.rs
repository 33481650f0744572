//! `mxscan demo`: a first survey with no network and no setup. Starts the simulated mail
//! internet (the testbed) in-process on ephemeral loopback ports, writes its CA bundle and a
//! synthetic domain list, scans it through the real `scan` path with `--allow 127.0.0.0/8`
//! (never `--allow-private`), then prints the summary table, where the files are and how to
//! open the notebook.
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

/// Run a complete survey of a simulated mail internet on this machine: no network needed.
#[derive(Debug, Args)]
#[command(after_help = "\
Everything happens on loopback: the testbed's DNS, SMTP and HTTPS servers run inside this
process on ephemeral 127.0.0.1 ports, and the scan runs in a private network namespace where
only loopback exists (unshare; when that is unavailable the demo says so and relies on the
blocklist). The world is deterministic: the same --seed gives the same domains and verdicts.

Files (under --dir): testbed-ca.pem, domains.csv and surveys/survey=<id>/ (Parquet) — the
surveys root is DIR/surveys, what `mxscan scan --out` would be given.
Then: MXSCAN_SURVEYS=<dir>/surveys jupyter lab notebooks/adoption.ipynb")]
pub struct DemoArgs {
    /// How many synthetic domains to scan.
    #[arg(long, default_value_t = 2000, value_name = "N")]
    pub domains: u64,
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
            profile: Profile::Realistic,
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
    let list = out.join("domains.csv");
    write_list(&list, args.seed, args.domains)?;

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
        surveys: out.join("surveys"),
    });
    eprintln!("{}", notes(&config, &ScanConfig::default()));

    // 2. The scan, through the same library path as `mxscan scan`.
    let config = config.validate().map_err(|e| UsageError(e.0))?;
    let plan = Plan {
        count_total: progress != Progress::None,
        ..Plan::new(
            Source::Lists(vec![list.display().to_string()]),
            Output::NewSurvey,
        )
    };
    let result = scan_cmd::run_survey(config, plan, progress).await?;
    drop(testbed);

    // 3. What came out.
    let summary = mxscan_store::summary::Summary::compute(&result.survey_dir)
        .with_context(|| format!("summarising {}", result.survey_dir.display()))?;
    println!();
    println!("{}", summary.render());
    print_next_steps(&out, &result.survey_dir, &list, &ca);
    Ok(if result.interrupted { 130 } else { 0 })
}

fn write_list(path: &Path, seed: u64, count: u64) -> anyhow::Result<()> {
    use std::io::Write;
    let file =
        std::fs::File::create(path).with_context(|| format!("writing {}", path.display()))?;
    let mut w = std::io::BufWriter::new(file);
    writeln!(w, "rank,domain")?;
    for (rank, name) in mxscan_testbed::names::synthetic_domains(seed, count, Profile::Realistic) {
        writeln!(w, "{rank},{name}")?;
    }
    w.flush()
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

fn print_next_steps(out: &Path, survey: &Path, list: &Path, ca: &Path) {
    let surveys = survey.parent().unwrap_or(out);
    println!("Files:");
    println!(
        "  survey       {}/  (domains, mx, probes, certs: Parquet; survey.json: manifest and effective config)",
        survey.display()
    );
    println!("  domain list  {}", list.display());
    println!("  testbed CA   {}", ca.display());
    println!();
    println!("Next:");
    println!("  # the analysis notebook (adoption tables and plots), from the mxscan repository:");
    println!("  pip install -r notebooks/requirements.txt jupyterlab");
    println!(
        "  MXSCAN_SURVEYS={} jupyter lab notebooks/adoption.ipynb",
        surveys.display()
    );
    println!("  # or straight SQL:");
    println!(
        "  duckdb -c \"SELECT starttls, count(*) FROM read_parquet('{}/*/domains/*.parquet', hive_partitioning = true) GROUP BY ALL\"",
        surveys.display()
    );
    println!("  # a real survey: docs/guide.md (resolver, EHLO name, politeness, config file)");
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
}
