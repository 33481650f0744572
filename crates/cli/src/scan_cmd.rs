//! `mxscan scan`: raw flags → validated settings → the engine, the writer and the progress
//! display. Everything measured is decided in the library crates; this file only wires.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use governor::{Quota, RateLimiter};
use mxscan_engine::politeness::{Politeness, PolitenessConfig};
use mxscan_engine::scan::{Counters, Engine, Job, ScanSettings};
use mxscan_ingest::{Ingest, IngestOptions, Input, Shard};
use mxscan_probe::blocklist::Blocklist;
use mxscan_probe::cert::TrustStore;
use mxscan_probe::dialer::Dialer;
use mxscan_probe::dns::{Dns, DnsConfig, Nameservers, RateHook};
use mxscan_probe::fetch::FetchOptions;
use mxscan_probe::smtp_probe::ProbeOptions;
use mxscan_smtp::EhloName;
use mxscan_store::manifest::{InputInfo, Manifest, SurveyStatus};
use mxscan_store::survey::{ResumeOptions, create_survey, open_for_resume};
use mxscan_store::writer::{SurveyWriter, WriterOptions};
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::sync::mpsc;

use crate::UsageError;

/// Scan domain lists: MX, STARTTLS, certificates, MTA-STS and TLS-RPT, into a survey of
/// Parquet files (`ROOT/survey=<id>/`).
#[derive(Debug, Args)]
#[command(after_help = "\
Politeness: at most one connection at a time per address, --per-ip-interval between
connections to one address, --per-prefix-interval per /24 (/48), --rate new connections
per second overall. Every reserved/private range is blocked unless lifted with --allow
(e.g. --allow 127.0.0.0/8 for the testbed). mxscan only says EHLO, STARTTLS and QUIT.

Example against the testbed (see `mxscan testbed serve`):
  mxscan scan --resolver 127.0.0.1:5353 --trust-anchor ca.pem --allow 127.0.0.0/8 \\
      --smtp-port 2525 --https-port 8443 --out surveys list.csv

Config file: every option above may also be set in a TOML file given with --config (see
docs/mxscan.example.toml); a flag on the command line overrides the file, the file
overrides the defaults. survey.json records the effective configuration.")]
pub struct ScanFlags {
    /// Domain lists: plain, CSV with a `domain` column, or Tranco `rank,domain`; `.gz`
    /// accepted; `-` for standard input.
    #[arg(value_name = "INPUT", required_unless_present_any = ["resume", "config"])]
    pub inputs: Vec<String>,

    /// Read options from this TOML file (flags given on the command line override it;
    /// relative paths in it are relative to its directory).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// Directory that holds surveys; this run creates ROOT/survey=<id>/.
    #[arg(long, value_name = "ROOT", default_value = "surveys")]
    pub out: PathBuf,
    /// Survey id (default: the UTC start time, e.g. 2026-11-22T1000Z).
    #[arg(long, value_name = "ID")]
    pub survey_id: Option<String>,
    /// Continue a partial survey: ROOT/survey=<id>. Domains already written are skipped and
    /// probes already written are reused. Give the same INPUT lists again.
    #[arg(long, value_name = "SURVEY_DIR")]
    pub resume: Option<PathBuf>,

    /// DNS resolver to use, IP[:PORT] (repeatable; default: /etc/resolv.conf).
    #[arg(long = "resolver", value_name = "IP[:PORT]")]
    pub resolvers: Vec<String>,
    /// DNS queries per second at most.
    #[arg(long, default_value_t = 500.0, value_name = "QPS")]
    pub dns_rate: f64,
    /// DNS queries in flight at most.
    #[arg(long, default_value_t = 256, value_name = "N")]
    pub dns_concurrency: usize,
    /// Timeout of one DNS query attempt, seconds.
    #[arg(long, default_value_t = 5.0, value_name = "SECS")]
    pub dns_timeout: f64,
    /// Attempts per DNS lookup (timeouts are retried with backoff).
    #[arg(long, default_value_t = 3, value_name = "N")]
    pub dns_attempts: u32,

    /// New connections per second, over all destinations.
    #[arg(long, default_value_t = 100.0, value_name = "PER_SEC")]
    pub rate: f64,
    /// Minimum seconds between connections to one address.
    #[arg(long, default_value_t = 1.0, value_name = "SECS")]
    pub per_ip_interval: f64,
    /// Minimum seconds between connections into one /24 (IPv4) or /48 (IPv6).
    #[arg(long, default_value_t = 0.1, value_name = "SECS")]
    pub per_prefix_interval: f64,
    /// Connections (SMTP probes and policy fetches) in flight at most.
    #[arg(long, default_value_t = 1000, value_name = "N")]
    pub concurrency: usize,
    /// Domains in flight at most (default: 1.5 × --concurrency; more only adds queueing).
    #[arg(long, value_name = "N")]
    pub domain_concurrency: Option<usize>,

    /// MX exchanges considered per domain.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub max_mx: usize,
    /// Also resolve AAAA records and probe IPv6 addresses.
    #[arg(long)]
    pub ipv6: bool,
    /// The name mxscan gives in EHLO: a name of the scanning host with a web page that
    /// explains the survey and how to opt out.
    #[arg(long, value_name = "NAME", default_value = "mxscan.invalid")]
    pub ehlo_name: String,

    /// Extra trust anchors (PEM). Self-signed CA certificates become anchors; other CA
    /// certificates are known intermediates (they tell an incomplete chain from an unknown
    /// issuer). Repeatable.
    #[arg(long = "trust-anchor", value_name = "PEM")]
    pub trust_anchors: Vec<PathBuf>,
    /// Never contact these addresses: a file with one CIDR or address per line, `#`
    /// comments. Repeatable.
    #[arg(long = "blocklist", value_name = "FILE")]
    pub blocklists: Vec<PathBuf>,
    /// Lift the default block of reserved ranges for this CIDR only (e.g. 127.0.0.0/8 for
    /// the testbed). Never lifts a --blocklist entry. Repeatable.
    #[arg(long = "allow", value_name = "CIDR")]
    pub allow: Vec<String>,
    /// Lift the default block of every reserved/private range (testing only).
    #[arg(long)]
    pub allow_private: bool,

    /// Scan only shard K of N (1-based): N machines with K = 1..N cover the list exactly once.
    #[arg(long, value_name = "K/N")]
    pub shard: Option<Shard>,

    /// Seconds to wait for the TCP connect.
    #[arg(long, default_value_t = 10.0, value_name = "SECS")]
    pub connect_timeout: f64,
    /// Seconds to wait for the full SMTP greeting (postscreen delays greetings by 6 s+).
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub greeting_timeout: f64,
    /// Seconds to wait for each reply after the greeting.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub command_timeout: f64,
    /// Seconds for the TLS handshake.
    #[arg(long, default_value_t = 20.0, value_name = "SECS")]
    pub tls_timeout: f64,
    /// Seconds for one whole SMTP probe.
    #[arg(long, default_value_t = 90.0, value_name = "SECS")]
    pub probe_timeout: f64,
    /// Seconds for one whole MTA-STS policy fetch (RFC 8461 §3.3 suggests 60 s at most).
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub fetch_timeout: f64,

    /// Seconds that in-flight domains get to finish after Ctrl-C / SIGTERM.
    #[arg(long, default_value_t = 30.0, value_name = "SECS")]
    pub grace: f64,
    /// Progress display: auto (bars on a terminal, a status line every 10 s otherwise),
    /// bars, lines, none.
    #[arg(long, default_value = "auto", value_name = "MODE")]
    pub progress: String,

    /// Close a part file (a crash-safe commit) after this many rows in any table.
    #[arg(long, default_value_t = 500_000, value_name = "ROWS")]
    pub commit_rows: usize,
    /// Close a part file at the latest this many seconds after its first row (the most a
    /// crash can lose).
    #[arg(long, default_value_t = 60.0, value_name = "SECS")]
    pub commit_interval: f64,

    /// SMTP port to probe (testing only; real mail servers listen on 25).
    #[arg(long, default_value_t = 25, hide_short_help = true)]
    pub smtp_port: u16,
    /// HTTPS port for policy fetches (testing only; RFC 8461 uses 443).
    #[arg(long, default_value_t = 443, hide_short_help = true)]
    pub https_port: u16,
}

/// [`ScanFlags`] plus the ids of the flags given on the command line, which override the
/// config file (`crate::config`). Derefs to the flags, so `args.rate` reads the value.
#[derive(Debug)]
pub struct ScanArgs {
    /// The flag values (defaults filled in by clap).
    pub flags: ScanFlags,
    /// Ids (field names) of the arguments given explicitly on the command line.
    pub explicit: std::collections::BTreeSet<String>,
}

impl std::ops::Deref for ScanArgs {
    type Target = ScanFlags;
    fn deref(&self) -> &ScanFlags {
        &self.flags
    }
}

impl std::ops::DerefMut for ScanArgs {
    fn deref_mut(&mut self) -> &mut ScanFlags {
        &mut self.flags
    }
}

impl clap::FromArgMatches for ScanArgs {
    fn from_arg_matches(m: &clap::ArgMatches) -> Result<Self, clap::Error> {
        Ok(ScanArgs {
            flags: ScanFlags::from_arg_matches(m)?,
            explicit: crate::config::explicit_ids(m),
        })
    }

    fn update_from_arg_matches(&mut self, m: &clap::ArgMatches) -> Result<(), clap::Error> {
        self.flags.update_from_arg_matches(m)?;
        self.explicit.extend(crate::config::explicit_ids(m));
        Ok(())
    }
}

impl clap::Args for ScanArgs {
    fn group_id() -> Option<clap::Id> {
        ScanFlags::group_id()
    }
    fn augment_args(cmd: clap::Command) -> clap::Command {
        ScanFlags::augment_args(cmd)
    }
    fn augment_args_for_update(cmd: clap::Command) -> clap::Command {
        ScanFlags::augment_args_for_update(cmd)
    }
}

fn secs(name: &str, v: f64) -> anyhow::Result<Duration> {
    if !(v.is_finite() && v > 0.0 && v < 86_400.0) {
        return Err(UsageError(format!(
            "--{name} must be a positive number of seconds, got {v}"
        ))
        .into());
    }
    Ok(Duration::from_secs_f64(v))
}

/// The interval flags may be 0 (no interval), unlike the timeouts.
fn interval(name: &str, v: f64) -> anyhow::Result<Duration> {
    if v == 0.0 {
        return Ok(Duration::ZERO);
    }
    secs(name, v)
}

/// Descriptors kept for everything but connections and DNS queries (runtime, stdio, the
/// writer's part files, the input).
const RESERVED_FDS: u64 = 64;

/// Connections in flight that fit in `nofile` descriptors next to `dns` DNS queries
/// (at least 1; unchanged when the limit is unknown).
fn fd_budget(nofile: u64, wanted: usize, dns: usize) -> usize {
    if nofile == 0 {
        return wanted;
    }
    let budget = nofile.saturating_sub(RESERVED_FDS + dns as u64).max(1);
    wanted.min(usize::try_from(budget).unwrap_or(usize::MAX))
}

/// Raise the open-file limit to the hard limit: thousands of connections need descriptors.
fn raise_nofile() -> u64 {
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => n,
        Err(e) => {
            tracing::warn!(error = %e, "could not raise the open-file limit");
            0
        }
    }
}

pub fn run(args: ScanArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let result = runtime.block_on(scan(args))?;
    tracing::debug!(survey = %result.survey_dir.display(), "scan finished");
    if result.interrupted {
        // Conventional status of a command stopped by SIGINT; the survey is `partial`.
        std::process::exit(130);
    }
    Ok(())
}

/// What a finished `scan` produced.
#[derive(Debug, Clone)]
pub struct ScanResult {
    /// The survey directory (`ROOT/survey=<id>`).
    pub survey_dir: PathBuf,
    /// True when the run was interrupted (the survey is `partial`).
    pub interrupted: bool,
}

/// Run a scan inside an existing runtime (used by `scan` and `demo`).
pub async fn scan(mut args: ScanArgs) -> anyhow::Result<ScanResult> {
    // 0. The config file under the flags (flags given on the command line win).
    let config_file = crate::config::apply(&mut args)?;
    // 1. Validate every flag before touching the disk or the network.
    let ehlo_name = EhloName::new(&args.ehlo_name)
        .map_err(|e| UsageError(format!("--ehlo-name {:?}: {e}", args.ehlo_name)))?;
    let nameservers = if args.resolvers.is_empty() {
        Nameservers::System
    } else {
        Nameservers::parse_list(&args.resolvers)
            .map_err(|e| UsageError(format!("--resolver: {e}")))?
    };
    let mut blocklist = Blocklist::new().allow_private(args.allow_private);
    for cidr in &args.allow {
        blocklist = blocklist
            .allow_str(cidr)
            .map_err(|e| UsageError(format!("--allow {cidr}: {e}")))?;
    }
    for file in &args.blocklists {
        blocklist = blocklist
            .block_file(file)
            .map_err(|e| UsageError(format!("--blocklist: {e}")))?;
    }
    // The engine judges each chain once per address (ChainFacts), so (chain, name) verdicts
    // hardly ever repeat: a small verdict cache, not the default 100k entries that would
    // only grow with the survey.
    let trust = TrustStore::new(&args.trust_anchors)
        .map_err(|e| UsageError(format!("--trust-anchor: {e}")))?
        .with_cache_capacity(1024);
    if args.concurrency == 0 || args.max_mx == 0 {
        bail!(UsageError(
            "--concurrency and --max-mx must be at least 1".into()
        ));
    }
    let positive = |v: f64| v > 0.0 && v.is_finite();
    if !positive(args.rate) || !positive(args.dns_rate) {
        bail!(UsageError("--rate and --dns-rate must be positive".into()));
    }
    let progress_mode = match args.progress.as_str() {
        "auto" if std::io::stderr().is_terminal() => Progress::Bars,
        "auto" | "lines" => Progress::Lines,
        "bars" => Progress::Bars,
        "none" => Progress::None,
        other => bail!(UsageError(format!(
            "--progress {other}: expected auto, bars, lines or none"
        ))),
    };
    let politeness = PolitenessConfig {
        rate: args.rate,
        per_ip_interval: interval("per-ip-interval", args.per_ip_interval)?,
        per_prefix_interval: interval("per-prefix-interval", args.per_prefix_interval)?,
        max_connections: args.concurrency,
    };
    let started = time::OffsetDateTime::now_utc();
    let at =
        UnixTime::since_unix_epoch(Duration::from_secs(started.unix_timestamp().max(0) as u64));
    let nofile = raise_nofile();
    // Every connection and every DNS query in flight holds a descriptor: keep their sum
    // under the limit (EMFILE then never happens; if it still does, dials wait and retry).
    let concurrency = fd_budget(nofile, args.concurrency, args.dns_concurrency);
    let politeness = PolitenessConfig {
        max_connections: concurrency,
        ..politeness
    };
    if concurrency < args.concurrency {
        eprintln!(
            "mxscan: the open-file limit is {nofile}: connections in flight capped at {concurrency} (asked {}); raise `ulimit -n` for more",
            args.concurrency
        );
    }

    // Inputs that cannot be opened are an error before anything is created.
    check_inputs(&args.inputs)?;

    // 2. The survey: new, or resumed.
    // Domain tasks in flight: 1.5 × the connection cap unless set (more only adds queueing).
    let domain_concurrency = args
        .domain_concurrency
        .unwrap_or(args.concurrency.saturating_mul(3) / 2)
        .max(1);
    let config_json = serde_json::json!({
        "resolvers": args.resolvers,
        "dns_rate": args.dns_rate,
        "dns_concurrency": args.dns_concurrency,
        "rate": args.rate,
        "per_ip_interval_s": args.per_ip_interval,
        "per_prefix_interval_s": args.per_prefix_interval,
        "concurrency": args.concurrency,
        "max_mx": args.max_mx,
        "ipv6": args.ipv6,
        "ehlo_name": args.ehlo_name,
        "trust_anchors": args.trust_anchors,
        "blocklists": args.blocklists,
        "allow": args.allow,
        "allow_private": args.allow_private,
        "shard": args.shard.map(|s| s.to_string()),
        "timeouts_s": {
            "connect": args.connect_timeout, "greeting": args.greeting_timeout,
            "command": args.command_timeout, "tls": args.tls_timeout,
            "probe": args.probe_timeout, "fetch": args.fetch_timeout,
        },
        "smtp_port": args.smtp_port,
        "https_port": args.https_port,
        "nofile_limit": nofile,
        "config_file": config_file,
        "dns_timeout_s": args.dns_timeout,
        "dns_attempts": args.dns_attempts,
        "domain_concurrency": domain_concurrency,
        "grace_s": args.grace,
        "commit_rows": args.commit_rows,
        "commit_interval_s": args.commit_interval,
    });
    let (survey, index) = match &args.resume {
        Some(dir) => {
            let (survey, index) = open_for_resume(dir, ResumeOptions::default())
                .map_err(|e| UsageError(format!("--resume {}: {e}", dir.display())))?;
            eprintln!(
                "resuming {}: {} domains and {} probes already written",
                survey.dir.display(),
                index.domains.len(),
                index.probes.len()
            );
            (survey, Some(index))
        }
        None => {
            let mut template = Manifest::new("", "");
            template.mxscan_version = env!("CARGO_PKG_VERSION").to_string();
            template.config = config_json.clone();
            template.input = InputInfo {
                path: args.inputs.first().cloned(),
                paths: args.inputs.clone(),
                sha256: None,
                domains: None,
            };
            let survey = create_survey(&args.out, args.survey_id.as_deref(), started, template)
                .with_context(|| format!("creating a survey under {}", args.out.display()))?;
            (survey, None)
        }
    };
    let inputs: Vec<String> = if args.inputs.is_empty() {
        survey.manifest.input.paths.clone()
    } else {
        args.inputs.clone()
    };
    if inputs.is_empty() {
        bail!(UsageError(
            "no INPUT given and the survey manifest names none".into()
        ));
    }
    check_inputs(&inputs)?;
    let stdin_inputs = inputs.iter().filter(|i| i.as_str() == "-").count();
    if stdin_inputs > 1 {
        bail!(UsageError("`-` (standard input) may be given once".into()));
    }

    // 3. The machinery.
    // The DNS rate with a burst of a tenth of a second of queries: the same average rate,
    // but the three lookups a domain starts at once do not each wait a limiter round trip.
    let dns_burst = NonZeroU32::new((args.dns_rate / 10.0).clamp(1.0, 100_000.0) as u32)
        .unwrap_or(NonZeroU32::MIN);
    let dns_limiter = Arc::new(RateLimiter::direct(
        Quota::with_period(Duration::from_secs_f64(1.0 / args.dns_rate))
            .expect("positive period")
            .allow_burst(dns_burst),
    ));
    let hook: RateHook = Arc::new(move || {
        let l = Arc::clone(&dns_limiter);
        Box::pin(async move { l.until_ready().await })
    });
    let dns = Dns::new(
        DnsConfig {
            nameservers,
            timeout: secs("dns-timeout", args.dns_timeout)?,
            attempts: args.dns_attempts.max(1),
            max_concurrent: args.dns_concurrency.max(1),
            ..DnsConfig::default()
        },
        Some(hook),
    )
    .map_err(|e| UsageError(format!("DNS resolver: {e}")))?;
    let dns = Arc::new(dns);
    let dialer =
        Arc::new(Dialer::new(Arc::new(blocklist)).with_ports(args.smtp_port, args.https_port));
    let trust = Arc::new(trust);
    let tls = mxscan_probe::tls::client_config(&[]).context("TLS client configuration")?;
    let mut smtp = ProbeOptions::new(ehlo_name, Arc::clone(&tls));
    smtp.connect_timeout = secs("connect-timeout", args.connect_timeout)?;
    smtp.greeting_timeout = secs("greeting-timeout", args.greeting_timeout)?;
    smtp.command_timeout = secs("command-timeout", args.command_timeout)?;
    smtp.tls_timeout = secs("tls-timeout", args.tls_timeout)?;
    smtp.total_timeout = secs("probe-timeout", args.probe_timeout)?;
    let http_tls =
        mxscan_probe::tls::client_config(&[b"http/1.1"]).context("TLS client configuration")?;
    let mut fetch = FetchOptions::new(http_tls);
    fetch.timeout = secs("fetch-timeout", args.fetch_timeout)?;
    fetch.connect_timeout = smtp.connect_timeout;
    fetch.at = at;
    let settings = ScanSettings {
        survey_id: survey.id.clone(),
        at,
        max_mx: args.max_mx,
        ipv6: args.ipv6,
        domain_concurrency,
        smtp,
        fetch,
    };

    let mut writer_opts = WriterOptions {
        part_max_rows: args.commit_rows.max(1),
        part_max_age: secs("commit-interval", args.commit_interval)?,
        ..WriterOptions::default()
    };
    if let Some(index) = &index {
        writer_opts.resume = Some(index.seed());
    }
    let (writer, writer_handle) = SurveyWriter::spawn(&survey.dir, &survey.id, writer_opts)
        .with_context(|| format!("opening {} for writing", survey.dir.display()))?;
    let gate = Arc::new(Politeness::new(politeness));
    let mut engine = Engine::new(
        settings,
        Arc::clone(&dns),
        Arc::clone(&dialer),
        Arc::clone(&trust),
        gate,
        writer,
    );
    if let Some(index) = index {
        let ders = load_cert_ders(&survey.dir)?;
        for row in index.probes.values() {
            if row.port != args.smtp_port {
                continue;
            }
            let chain: Vec<CertificateDer<'static>> = row
                .chain_sha256
                .iter()
                .filter_map(|h| ders.get(h).map(|d| CertificateDer::from(d.clone())))
                .collect();
            engine.seed_probe(row, &chain);
        }
        engine = engine.with_skip(index.domains);
    }
    let engine = Arc::new(engine);
    let counters = engine.counters();

    // 4. Ingest on a blocking thread, feeding a bounded channel.
    let (tx, rx) = mpsc::channel::<Job>(1024);
    let ingest_inputs: Vec<Input> = inputs.iter().map(|i| Input::from_arg(i)).collect();
    let shard = args.shard;
    // Domains to scan in all: exact once ingest has read every input, estimated before.
    let total = Arc::new(AtomicU64::new(0));
    let ingest_total = Arc::clone(&total);
    let ingest_task = tokio::task::spawn_blocking(move || {
        let mut ingest = Ingest::new(
            ingest_inputs,
            IngestOptions {
                shard,
                ..IngestOptions::default()
            },
        );
        let (mut shown, mut sent, mut stopped) = (0u64, 0u64, false);
        for item in ingest.by_ref() {
            match item {
                Ok(entry) => {
                    let job = Job {
                        domain: entry.domain,
                        rank: entry.rank,
                    };
                    if tx.blocking_send(job).is_err() {
                        stopped = true;
                        break; // the engine stopped taking domains
                    }
                    sent += 1;
                }
                Err(e) => {
                    shown += 1;
                    if shown <= 200 {
                        eprintln!("mxscan: skipped: {e}");
                    } else if shown == 201 {
                        eprintln!("mxscan: more skipped lines not shown (counts at the end)");
                    }
                }
            }
        }
        if !stopped {
            ingest_total.store(sent, Ordering::Relaxed);
        }
        ingest.into_stats()
    });

    // 5. Signals: first = stop taking domains and finish; second = leave now.
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_handler(Arc::clone(&stop));

    let t0 = Instant::now();
    // The number of domains to scan, counted in the background for file inputs (standard
    // input cannot be read twice), so progress can show a bar and an ETA. The count keeps
    // duplicates (a second duplicate filter would double ingest's memory at the start of a
    // survey); the ingest stream's own figure replaces it once the list has been read.
    if progress_mode != Progress::None && !inputs.iter().any(|i| i.as_str() == "-") {
        let (total, inputs, shard) = (Arc::clone(&total), inputs.clone(), args.shard);
        tokio::task::spawn_blocking(move || {
            let mut count = Ingest::new(
                inputs
                    .iter()
                    .map(|i| Input::from_arg(i))
                    .collect::<Vec<_>>(),
                IngestOptions {
                    shard,
                    keep_duplicates: true,
                    ..IngestOptions::default()
                },
            );
            let n = count.by_ref().filter(|e| e.is_ok()).count() as u64;
            // Unless the ingest stream finished first and stored the exact figure.
            let _ = total.compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed);
        });
    }
    let progress = spawn_progress(progress_mode, Arc::clone(&counters), t0, Arc::clone(&total));
    let grace = secs("grace", args.grace)?;
    let run = tokio::spawn(Arc::clone(&engine).run(rx, Arc::clone(&stop)));
    let run_abort = run.abort_handle();
    let report = {
        let stop = Arc::clone(&stop);
        tokio::select! {
            r = run => r.context("the engine task failed")?,
            _ = async move {
                while !stop.load(Ordering::Relaxed) { tokio::time::sleep(Duration::from_millis(100)).await; }
                tokio::time::sleep(grace).await;
            } => {
                eprintln!("mxscan: grace period over; abandoning the domains still in flight");
                run_abort.abort();
                mxscan_engine::scan::RunReport { domains: counters.domains_done.load(Ordering::Relaxed), probes: counters.probes.load(Ordering::Relaxed), interrupted: true }
            }
        }
    };
    progress.abort();
    drop(engine);

    let interrupted = report.interrupted || stop.load(Ordering::Relaxed);
    let stats = if interrupted {
        None
    } else {
        Some(ingest_task.await.context("the ingest thread failed")?)
    };
    let inputs_failed = stats.as_ref().map_or(0, |s| s.inputs_failed());
    let status = if interrupted || inputs_failed > 0 {
        SurveyStatus::Partial
    } else {
        SurveyStatus::Complete
    };
    let wrote = writer_handle
        .finish(status)
        .await
        .context("finishing the survey files")?;

    // 6. The input facts into the manifest (the writer has finished with it).
    if let Some(stats) = &stats {
        let mut manifest = Manifest::load(&survey.dir)?;
        manifest.input.paths = inputs.clone();
        manifest.input.path = inputs.first().cloned();
        manifest.input.domains = Some(stats.total.accepted);
        manifest.input.sha256 = match stats.inputs.as_slice() {
            [one] => one.sha256.clone(),
            _ => None,
        };
        manifest.store(&survey.dir)?;
        let t = &stats.total;
        eprintln!(
            "input: {} lines read, {} accepted, {} duplicates, {} rejected{}",
            t.read,
            t.accepted,
            t.duplicates,
            t.rejected,
            if t.other_shard > 0 {
                format!(", {} in other shards", t.other_shard)
            } else {
                String::new()
            }
        );
    }
    let c = &counters;
    let elapsed = t0.elapsed().as_secs_f64();
    eprintln!(
        "{} {}: {} domains in {:.1} s ({:.0}/s), {} probes (STARTTLS ok {}, failed {}), {} blocked, {} policies fetched ({} ok), {} DNS queries, {} waits for file descriptors",
        if interrupted { "partial" } else { "complete" },
        survey.dir.display(),
        c.domains_done.load(Ordering::Relaxed),
        elapsed,
        c.domains_done.load(Ordering::Relaxed) as f64 / elapsed.max(0.001),
        c.probes.load(Ordering::Relaxed),
        c.starttls_ok.load(Ordering::Relaxed),
        c.starttls_failed.load(Ordering::Relaxed),
        c.blocked.load(Ordering::Relaxed),
        c.policies_fetched.load(Ordering::Relaxed),
        c.policies_ok.load(Ordering::Relaxed),
        dns.queries_sent(),
        dialer.fd_waits(),
    );
    tracing::debug!(?wrote, "writer report");
    println!("{}", survey.dir.display());
    if interrupted {
        eprintln!(
            "resume with: mxscan scan --resume {} [same options]",
            survey.dir.display()
        );
    }
    if inputs_failed > 0 {
        bail!(
            "{inputs_failed} input(s) could not be read completely (see above); {} is marked partial: \
             fix the input and continue with --resume",
            survey.dir.display()
        );
    }
    Ok(ScanResult {
        survey_dir: survey.dir.clone(),
        interrupted,
    })
}

/// Every input path must be a readable file (`-` is standard input): checked before a
/// survey is created, so a typo never leaves an empty survey behind.
fn check_inputs(inputs: &[String]) -> anyhow::Result<()> {
    for input in inputs.iter().filter(|i| i.as_str() != "-") {
        let path = Path::new(input);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                bail!(UsageError(format!(
                    "input {input}: Is a directory (give a domain list file)"
                )))
            }
            Ok(_) => {
                std::fs::File::open(path).map_err(|e| UsageError(format!("input {input}: {e}")))?;
            }
            Err(e) => bail!(UsageError(format!("input {input}: {e}"))),
        }
    }
    Ok(())
}

/// sha256 → DER of every certificate a resumed survey holds.
fn load_cert_ders(dir: &Path) -> anyhow::Result<HashMap<String, Vec<u8>>> {
    let rows = mxscan_store::reader::read_certs(dir)
        .with_context(|| format!("reading certs of {}", dir.display()))?;
    Ok(rows.into_iter().map(|r| (r.sha256, r.der)).collect())
}

fn spawn_signal_handler(stop: Arc<AtomicBool>) {
    tokio::spawn(async move {
        #[cfg(unix)]
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        loop {
            #[cfg(unix)]
            let got = tokio::select! {
                r = tokio::signal::ctrl_c() => r.is_ok(),
                r = async { match term.as_mut() { Some(t) => t.recv().await, None => std::future::pending().await } } => r.is_some(),
            };
            #[cfg(not(unix))]
            let got = tokio::signal::ctrl_c().await.is_ok();
            if !got {
                return;
            }
            if stop.swap(true, Ordering::SeqCst) {
                eprintln!(
                    "\nmxscan: second interrupt: leaving now (closed part files stay readable)"
                );
                std::process::exit(130);
            }
            eprintln!(
                "\nmxscan: interrupted: finishing domains in flight (interrupt again to leave now)"
            );
        }
    });
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Progress {
    Bars,
    Lines,
    None,
}

fn spawn_progress(
    mode: Progress,
    c: Arc<Counters>,
    t0: Instant,
    total: Arc<AtomicU64>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        // Domains still to do (skipped ones of a resumed survey count as done) and the ETA.
        let eta = |c: &Counters| -> String {
            let total = total.load(Ordering::Relaxed);
            let done =
                c.domains_done.load(Ordering::Relaxed) + c.domains_skipped.load(Ordering::Relaxed);
            let el = t0.elapsed().as_secs_f64();
            if total == 0 || done == 0 || el < 1.0 {
                return String::new();
            }
            let left = total.saturating_sub(done) as f64
                / (c.domains_done.load(Ordering::Relaxed).max(1) as f64 / el);
            format!(
                " of {total}, ETA {}",
                indicatif::HumanDuration(Duration::from_secs_f64(left))
            )
        };
        let line = |c: &Counters| {
            let done = c.domains_done.load(Ordering::Relaxed);
            let el = t0.elapsed().as_secs_f64().max(0.001);
            format!(
                "{done} domains{} ({:.0}/s), {} in flight | probes {} ({} in flight) | STARTTLS ok {} failed {} | blocked {} | policies {} ({} ok)",
                eta(c),
                done as f64 / el,
                c.domains_started
                    .load(Ordering::Relaxed)
                    .saturating_sub(done),
                c.probes.load(Ordering::Relaxed),
                c.probes_in_flight.load(Ordering::Relaxed),
                c.starttls_ok.load(Ordering::Relaxed),
                c.starttls_failed.load(Ordering::Relaxed),
                c.blocked.load(Ordering::Relaxed),
                c.policies_fetched.load(Ordering::Relaxed),
                c.policies_ok.load(Ordering::Relaxed),
            )
        };
        match mode {
            Progress::None => {}
            Progress::Lines => loop {
                tokio::time::sleep(Duration::from_secs(10)).await;
                eprintln!("[{:>6.0}s] {}", t0.elapsed().as_secs_f64(), line(&c));
            },
            Progress::Bars => {
                let multi = indicatif::MultiProgress::new();
                let style = indicatif::ProgressStyle::with_template(
                    "{prefix:>8} {spinner} {pos:>9} {per_sec:>10}  {msg}",
                )
                .expect("valid template");
                let domains = multi.add(
                    indicatif::ProgressBar::no_length()
                        .with_style(style.clone())
                        .with_prefix("domains"),
                );
                let probes = multi.add(
                    indicatif::ProgressBar::no_length()
                        .with_style(style.clone())
                        .with_prefix("probes"),
                );
                let fetches = multi.add(
                    indicatif::ProgressBar::no_length()
                        .with_style(style)
                        .with_prefix("policies"),
                );
                loop {
                    let done = c.domains_done.load(Ordering::Relaxed);
                    domains.set_position(done);
                    domains.set_message(format!(
                        "{} in flight, {} DNS failures{}",
                        c.domains_started
                            .load(Ordering::Relaxed)
                            .saturating_sub(done),
                        c.dns_failed.load(Ordering::Relaxed),
                        eta(&c)
                    ));
                    probes.set_position(c.probes.load(Ordering::Relaxed));
                    probes.set_message(format!(
                        "{} in flight | STARTTLS ok {} failed {} | blocked {}",
                        c.probes_in_flight.load(Ordering::Relaxed),
                        c.starttls_ok.load(Ordering::Relaxed),
                        c.starttls_failed.load(Ordering::Relaxed),
                        c.blocked.load(Ordering::Relaxed)
                    ));
                    fetches.set_position(c.policies_fetched.load(Ordering::Relaxed));
                    fetches.set_message(format!("{} ok", c.policies_ok.load(Ordering::Relaxed)));
                    tokio::time::sleep(Duration::from_millis(200)).await;
                }
            }
        }
    })
}
