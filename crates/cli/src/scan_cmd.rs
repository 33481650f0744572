//! `mxscan scan`: flags (and `--config` TOML, flags winning) → a validated configuration →
//! a survey of the engine library, plus what only a command line has: the progress display
//! and the signals. Everything measured, and the survey itself, live in the library crates.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use clap::Args;
use mxscan_engine::config::{ScanConfig, ValidConfig};
use mxscan_engine::scan::Counters;
use mxscan_engine::survey::{Events, Notice, Output, Plan, Source, Survey, SurveyError};
use mxscan_ingest::IngestError;

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

    /// Survey id (default: the UTC start time, e.g. 2026-11-22T1000Z).
    #[arg(long, value_name = "ID")]
    pub survey_id: Option<String>,
    /// A label recorded in survey.json (`labels`), e.g. `--label vantage=fra1`; repeatable.
    /// KEY is 1–64 of [A-Za-z0-9._-]; a later KEY replaces an earlier one.
    #[arg(long = "label", value_name = "KEY=VALUE", value_parser = parse_label)]
    pub labels: Vec<(String, String)>,
    /// Continue a partial survey: ROOT/survey=<id>. Domains already written are skipped and
    /// probes already written are reused. Give the same INPUT lists again.
    #[arg(long, value_name = "SURVEY_DIR")]
    pub resume: Option<PathBuf>,

    /// Progress display: auto (bars on a terminal, a status line every 10 s otherwise),
    /// bars, lines, none.
    #[arg(long, default_value = "auto", value_name = "MODE")]
    pub progress: String,

    /// The options of the scan (also the keys of the config file).
    #[command(flatten)]
    pub scan: ScanConfig,
}

/// [`ScanFlags`] plus the ids of the flags given on the command line, which override the
/// config file (`crate::config`). Derefs to the flags, so `args.inputs` reads the value.
pub type ScanArgs = crate::config::Explicit<ScanFlags>;

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

/// `mxscan scan`: the configuration (flag > file > default), checked before the disk or the
/// network is touched, then the survey.
pub async fn scan(args: ScanArgs) -> anyhow::Result<ScanResult> {
    let resolved = crate::config::resolve(&args)?;
    let config = resolved.config.validate().map_err(|e| UsageError(e.0))?;
    let progress = Progress::parse(&resolved.progress)?;
    let plan = Plan {
        source: Source::Lists(resolved.inputs),
        output: match &args.resume {
            Some(dir) => Output::Resume(dir.clone()),
            None => Output::NewSurvey,
        },
        survey_id: args.survey_id.clone(),
        config_file: resolved.config_file,
        count_total: progress != Progress::None,
        labels: args.labels.iter().cloned().collect(),
    };
    run_survey(config, plan, progress).await
}

/// `KEY=VALUE` of `--label`.
fn parse_label(s: &str) -> Result<(String, String), String> {
    let (key, value) = s
        .split_once('=')
        .ok_or_else(|| format!("{s:?} is not KEY=VALUE"))?;
    let key_ok = !key.is_empty()
        && key.len() <= 64
        && key
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if !key_ok {
        return Err(format!(
            "label key {key:?}: 1-64 characters of letters, digits, '.', '_', '-'"
        ));
    }
    Ok((key.to_owned(), value.to_owned()))
}

/// Build and run a survey with the progress display and the signal handling of the
/// command line (used by `scan` and `demo`), and print what it did.
pub async fn run_survey(
    config: ValidConfig,
    plan: Plan,
    progress: Progress,
) -> anyhow::Result<ScanResult> {
    let survey = Survey::build(config, plan, Arc::new(Printer::default()))
        .await
        .map_err(cli_error)?;
    let survey_dir = survey.dir().map(PathBuf::from).unwrap_or_default();
    let counters = survey.counters();

    // Signals: first = stop taking domains and finish; second = leave now.
    let stop = Arc::new(AtomicBool::new(false));
    spawn_signal_handler(Arc::clone(&stop));
    let display = spawn_progress(
        progress,
        Arc::clone(&counters),
        Instant::now(),
        survey.total(),
    );
    let report = survey.run(Arc::clone(&stop)).await.map_err(cli_error);
    display.abort();
    let report = report?;

    if let Some(stats) = &report.ingest {
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
    let elapsed = report.elapsed.as_secs_f64();
    eprintln!(
        "{} {}: {} domains in {:.1} s ({:.0}/s), {} probes (STARTTLS ok {}, failed {}; {} legacy hellos), {} blocked, {} policies fetched ({} ok), {} AIA fetches ({} failed; {} chains completed), {} DNS queries, {} waits for file descriptors",
        if report.interrupted {
            "partial"
        } else {
            "complete"
        },
        survey_dir.display(),
        c.domains_done.load(Ordering::Relaxed),
        elapsed,
        c.domains_done.load(Ordering::Relaxed) as f64 / elapsed.max(0.001),
        c.probes.load(Ordering::Relaxed),
        c.starttls_ok.load(Ordering::Relaxed),
        c.starttls_failed.load(Ordering::Relaxed),
        c.legacy_hellos.load(Ordering::Relaxed),
        c.blocked.load(Ordering::Relaxed),
        c.policies_fetched.load(Ordering::Relaxed),
        c.policies_ok.load(Ordering::Relaxed),
        c.aia_fetches.load(Ordering::Relaxed),
        c.aia_failed.load(Ordering::Relaxed),
        c.chains_completed_by_aia.load(Ordering::Relaxed),
        report.dns_queries,
        report.fd_waits,
    );
    tracing::debug!(wrote = ?report.writer, "writer report");
    println!("{}", survey_dir.display());
    if report.interrupted {
        eprintln!(
            "resume with: mxscan scan --resume {} [same options]",
            survey_dir.display()
        );
    }
    if report.inputs_failed > 0 {
        bail!(
            "{} input(s) could not be read completely (see above); {} is marked partial: \
             fix the input and continue with --resume",
            report.inputs_failed,
            survey_dir.display()
        );
    }
    Ok(ScanResult {
        survey_dir,
        interrupted: report.interrupted,
    })
}

/// The caller's fault → exit status 2; anything else → 1 with its chain of causes.
fn cli_error(e: SurveyError) -> anyhow::Error {
    match e {
        SurveyError::Usage(m) => UsageError(m).into(),
        other => anyhow::Error::new(other),
    }
}

/// The survey's events as the lines `mxscan scan` prints on standard error.
#[derive(Debug, Default)]
struct Printer {
    skipped: AtomicU64,
}

impl Events for Printer {
    fn notice(&self, notice: &Notice) {
        match notice {
            Notice::DescriptorCap {
                nofile,
                connections,
                asked,
            } => eprintln!(
                "mxscan: the open-file limit is {nofile}: connections in flight capped at {connections} (asked {asked}); raise `ulimit -n` for more"
            ),
            Notice::Resuming {
                dir,
                domains,
                probes,
            } => eprintln!(
                "resuming {}: {domains} domains and {probes} probes already written",
                dir.display()
            ),
            Notice::GraceOver => {
                eprintln!("mxscan: grace period over; abandoning the domains still in flight")
            }
        }
    }

    fn skipped(&self, error: &IngestError) {
        let shown = self.skipped.fetch_add(1, Ordering::Relaxed) + 1;
        if shown <= 200 {
            eprintln!("mxscan: skipped: {error}");
        } else if shown == 201 {
            eprintln!("mxscan: more skipped lines not shown (counts at the end)");
        }
    }
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

/// How progress is shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// indicatif bars (on a terminal).
    Bars,
    /// A status line every 10 s.
    Lines,
    /// Nothing.
    None,
}

impl Progress {
    /// `--progress MODE`: `auto` is bars on a terminal, lines otherwise.
    pub fn parse(mode: &str) -> Result<Progress, UsageError> {
        Ok(match mode {
            "auto" if std::io::stderr().is_terminal() => Progress::Bars,
            "auto" | "lines" => Progress::Lines,
            "bars" => Progress::Bars,
            "none" => Progress::None,
            other => {
                return Err(UsageError(format!(
                    "--progress {other}: expected auto, bars, lines or none"
                )));
            }
        })
    }
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

#[cfg(test)]
mod tests {
    use super::parse_label;

    #[test]
    fn labels_are_key_value_with_a_safe_key() {
        assert_eq!(
            parse_label("vantage=fra1"),
            Ok(("vantage".into(), "fra1".into()))
        );
        assert_eq!(
            parse_label("note=a=b c"),
            Ok(("note".into(), "a=b c".into()))
        );
        assert_eq!(parse_label("empty="), Ok(("empty".into(), String::new())));
        for bad in [
            "novalue",
            "=x",
            "sp ace=x",
            "a/b=x",
            &format!("{}=x", "k".repeat(65)),
        ] {
            assert!(parse_label(bad).is_err(), "{bad:?}");
        }
    }
}
