//! A survey as a library call: a checked configuration ([`ValidConfig`]) and a [`Plan`]
//! (what to scan, where the rows go) build a [`Survey`], and [`Survey::run`] scans until the
//! input ends or a stop is asked for, and returns a [`Report`].
//!
//! The survey owns everything between the options and the [`Engine`]: the descriptor budget
//! (the open-file limit is raised, and the connections in flight are capped to what fits next
//! to the DNS queries), the DNS rate limiter, the survey directory (created, or opened for
//! resume: the resume index seeds the engine's probes and its skip set), the ingest thread
//! that feeds the engine's bounded channel, the stop → grace period → abandon logic, and the
//! manifest's input facts and final status. Rows go to the survey's `SurveyWriter`, or, with
//! [`Output::Memory`], to a [`MemorySink`] whose rows the report returns.
//!
//! What a caller shows is its own business: the survey reports what happens through
//! [`Events`] (the binary prints the same lines it always has; the default methods log with
//! `tracing`), and a progress display reads [`Survey::counters`] and [`Survey::total`].

use std::collections::{BTreeMap, HashMap};
use std::io::Cursor;
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use governor::{Quota, RateLimiter};
use mxscan_ingest::{Ingest, IngestError, IngestOptions, IngestStats, Input, Shard};
use mxscan_probe::dialer::Dialer;
use mxscan_probe::dns::{Dns, DnsConfig, RateHook};
use mxscan_probe::fetch::FetchOptions;
use mxscan_probe::smtp_probe::ProbeOptions;
use mxscan_store::manifest::{InputInfo, Manifest, SurveyStatus};
use mxscan_store::survey::{ResumeOptions, create_survey, open_for_resume};
use mxscan_store::writer::{SurveyWriter, WriterHandle, WriterOptions, WriterReport};
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::sync::mpsc;

use crate::config::{ConfigError, ValidConfig};
use crate::politeness::{Politeness, PolitenessConfig};
use crate::scan::{Counters, Engine, Job, RunReport, ScanSettings};
use crate::sink::{MemorySink, RowSink, Rows};

/// The domains to scan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Domain lists: plain, CSV with a `domain` column, or Tranco `rank,domain`; `.gz`
    /// accepted; `-` is standard input. Empty when resuming: the manifest's lists are read.
    Lists(Vec<String>),
    /// Domain names given directly (normalised and deduplicated like a list's lines).
    Domains(Vec<String>),
}

/// Where the rows go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    /// A new survey directory under the configuration's `out`: `OUT/survey=<id>/`.
    NewSurvey,
    /// Continue the partial survey in this directory: the domains it has are skipped and
    /// its probes are reused.
    Resume(PathBuf),
    /// No directory: the rows are kept in memory and returned in [`Report::rows`].
    Memory,
}

/// What to scan and where to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The domains.
    pub source: Source,
    /// Where the rows go.
    pub output: Output,
    /// The survey id (default: the UTC start time, e.g. 2026-11-22T1000Z). Ignored when
    /// resuming.
    pub survey_id: Option<String>,
    /// The config file the configuration came from, recorded in survey.json.
    pub config_file: Option<PathBuf>,
    /// Count the domains of the lists in the background first, so [`Survey::total`] is
    /// known early (for an ETA); standard input is never counted.
    pub count_total: bool,
    /// Labels recorded in survey.json (`labels`): a vantage point, the demo's testbed epoch.
    pub labels: BTreeMap<String, String>,
}

impl Plan {
    /// Scan `source` into `output`, nothing else set.
    pub fn new(source: Source, output: Output) -> Plan {
        Plan {
            source,
            output,
            survey_id: None,
            config_file: None,
            count_total: false,
            labels: BTreeMap::new(),
        }
    }
}

/// Something a caller may want to tell its user.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notice {
    /// The open-file limit caps the connections in flight below what was asked.
    DescriptorCap {
        /// The open-file limit (after raising it to the hard limit).
        nofile: u64,
        /// Connections in flight at most.
        connections: usize,
        /// What the configuration asked for.
        asked: usize,
    },
    /// A partial survey is continued.
    Resuming {
        /// Its directory.
        dir: PathBuf,
        /// Domains it already has (they are skipped).
        domains: usize,
        /// Probes it already has (they are reused).
        probes: usize,
    },
    /// The grace period after a stop is over: the domains still in flight are abandoned.
    GraceOver,
}

/// What a survey tells its caller while it is built and runs. Calls come from any thread.
pub trait Events: Send + Sync {
    /// See [`Notice`].
    fn notice(&self, notice: &Notice) {
        tracing::info!(?notice, "survey");
    }
    /// An input line was rejected (or an input failed): the scan goes on without it, and the
    /// counts are in [`Report::ingest`].
    fn skipped(&self, error: &IngestError) {
        tracing::warn!(%error, "skipped");
    }
}

/// [`Events`] that only log (with `tracing`).
#[derive(Debug, Clone, Copy, Default)]
pub struct LogEvents;

impl Events for LogEvents {}

/// Why a survey could not be built or run.
#[derive(Debug, thiserror::Error)]
pub enum SurveyError {
    /// The caller's fault: a bad option, an unreadable input, a directory that is not a
    /// resumable survey. The message names the flag or the path.
    #[error("{0}")]
    Usage(String),
    /// Something failed on the way (disk, runtime); the context says what was being done.
    #[error("{context}")]
    Failed {
        /// What was being done.
        context: String,
        /// Why it failed.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// The store failed.
    #[error(transparent)]
    Store(#[from] mxscan_store::StoreError),
}

impl From<ConfigError> for SurveyError {
    fn from(e: ConfigError) -> SurveyError {
        SurveyError::Usage(e.0)
    }
}

fn failed<E: std::error::Error + Send + Sync + 'static>(
    context: impl Into<String>,
) -> impl FnOnce(E) -> SurveyError {
    move |e| SurveyError::Failed {
        context: context.into(),
        source: Box::new(e),
    }
}

/// The descriptor budget of a survey.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Descriptors {
    /// The open-file limit after raising it to the hard limit (0: unknown).
    pub nofile: u64,
    /// Connections in flight the configuration asked for.
    pub asked: usize,
    /// Connections in flight allowed: what fits next to the DNS queries in flight.
    pub connections: usize,
}

/// Descriptors kept for everything but connections and DNS queries (runtime, stdio, the
/// writer's part files, the input).
pub const RESERVED_FDS: u64 = 64;

/// Connections in flight that fit in `nofile` descriptors next to `dns` DNS queries
/// (at least 1; unchanged when the limit is unknown).
pub fn fd_budget(nofile: u64, wanted: usize, dns: usize) -> usize {
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

/// What a run did.
#[derive(Debug)]
pub struct Report {
    /// The survey id written into every row.
    pub survey_id: String,
    /// The survey directory (`OUT/survey=<id>`); `None` for [`Output::Memory`].
    pub survey_dir: Option<PathBuf>,
    /// `complete`, or `partial` when interrupted or an input could not be read completely.
    pub status: SurveyStatus,
    /// True when a stop ended the run before the input did.
    pub interrupted: bool,
    /// What ingest read (`None` when interrupted: the lists were not read to the end).
    pub ingest: Option<IngestStats>,
    /// Inputs that could not be read completely.
    pub inputs_failed: usize,
    /// From the start of the run to its end.
    pub elapsed: Duration,
    /// DNS queries sent.
    pub dns_queries: u64,
    /// Dials that waited for a file descriptor.
    pub fd_waits: u64,
    /// What the writer did (survey directories only).
    pub writer: Option<WriterReport>,
    /// The rows ([`Output::Memory`] only).
    pub rows: Option<Rows>,
}

/// Where the rows go, once built.
#[derive(Debug)]
enum Sink {
    Directory { dir: PathBuf, writer: WriterHandle },
    Memory(Arc<MemorySink>),
}

/// A survey ready to run. See the module docs.
#[derive(Debug)]
pub struct Survey {
    id: String,
    engine: Engine,
    sink: Sink,
    source: Source,
    shard: Option<Shard>,
    count_total: bool,
    grace: Duration,
    dns: Arc<Dns>,
    dialer: Arc<Dialer>,
    total: Arc<AtomicU64>,
    descriptors: Descriptors,
    events: Arc<dyn Events>,
}

impl std::fmt::Debug for dyn Events {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Events")
    }
}

impl Survey {
    /// Build the survey: raise the descriptor limit, check the inputs, create (or open for
    /// resume) the survey directory, and set up DNS, the dialer, the politeness gate, the
    /// row sink and the engine. Must be called inside a tokio runtime. Nothing is scanned
    /// yet, and on an error nothing is left behind but (at most) a new, empty survey.
    pub async fn build(
        config: ValidConfig,
        plan: Plan,
        events: Arc<dyn Events>,
    ) -> Result<Survey, SurveyError> {
        let started = time::OffsetDateTime::now_utc();
        let at =
            UnixTime::since_unix_epoch(Duration::from_secs(started.unix_timestamp().max(0) as u64));
        let c = config.config().clone();

        // Every connection and every DNS query in flight holds a descriptor: keep their sum
        // under the limit (EMFILE then never happens; if it still does, dials wait and retry).
        let nofile = raise_nofile();
        let asked = config.politeness.max_connections;
        let connections = fd_budget(nofile, asked, c.dns.concurrency);
        let descriptors = Descriptors {
            nofile,
            asked,
            connections,
        };
        if connections < asked {
            events.notice(&Notice::DescriptorCap {
                nofile,
                connections,
                asked,
            });
        }
        let politeness = PolitenessConfig {
            max_connections: connections,
            ..config.politeness
        };

        // Inputs that cannot be opened are an error before anything is created.
        if let Source::Lists(lists) = &plan.source {
            check_inputs(lists)?;
        }

        // The survey: new, resumed, or none.
        let manifest_config = c.manifest_json(plan.config_file.as_deref(), nofile);
        let (id, dir, index, manifest_lists) = match &plan.output {
            Output::Resume(dir) => {
                let (survey, index) = open_for_resume(dir, ResumeOptions::default())
                    .map_err(|e| SurveyError::Usage(format!("--resume {}: {e}", dir.display())))?;
                events.notice(&Notice::Resuming {
                    dir: survey.dir.clone(),
                    domains: index.domains.len(),
                    probes: index.probes.len(),
                });
                let lists = survey.manifest.input.paths.clone();
                (survey.id, Some(survey.dir), Some(index), lists)
            }
            Output::NewSurvey => {
                let lists = match &plan.source {
                    Source::Lists(lists) => lists.clone(),
                    Source::Domains(_) => Vec::new(),
                };
                let mut template = Manifest::new("", "");
                template.mxscan_version = env!("CARGO_PKG_VERSION").to_string();
                template.config = manifest_config;
                template.labels = plan.labels.clone();
                template.input = InputInfo {
                    path: lists.first().cloned(),
                    paths: lists.clone(),
                    sha256: None,
                    domains: None,
                };
                let survey =
                    create_survey(&c.out, plan.survey_id.as_deref(), started, template).map_err(
                        failed(format!("creating a survey under {}", c.out.display())),
                    )?;
                (survey.id, Some(survey.dir), None, lists)
            }
            Output::Memory => {
                let id = match &plan.survey_id {
                    Some(id) => {
                        mxscan_store::survey::validate_survey_id(id)
                            .map_err(|e| SurveyError::Usage(format!("--survey-id: {e}")))?;
                        id.clone()
                    }
                    None => mxscan_store::survey::survey_id_minutes(started),
                };
                (id, None, None, Vec::new())
            }
        };
        let source = match plan.source {
            Source::Lists(lists) => {
                let lists = if lists.is_empty() {
                    manifest_lists
                } else {
                    lists
                };
                if lists.is_empty() {
                    return Err(SurveyError::Usage(
                        "no INPUT given and the survey manifest names none".into(),
                    ));
                }
                check_inputs(&lists)?;
                if lists.iter().filter(|i| i.as_str() == "-").count() > 1 {
                    return Err(SurveyError::Usage(
                        "`-` (standard input) may be given once".into(),
                    ));
                }
                Source::Lists(lists)
            }
            domains => domains,
        };

        // The machinery.
        // The DNS rate with a burst of a tenth of a second of queries: the same average rate,
        // but the three lookups a domain starts at once do not each wait a limiter round trip.
        let dns_burst = NonZeroU32::new((c.dns.rate / 10.0).clamp(1.0, 100_000.0) as u32)
            .unwrap_or(NonZeroU32::MIN);
        let dns_limiter = Arc::new(RateLimiter::direct(
            Quota::with_period(Duration::from_secs_f64(1.0 / c.dns.rate))
                .expect("positive period")
                .allow_burst(dns_burst),
        ));
        let hook: RateHook = Arc::new(move || {
            let l = Arc::clone(&dns_limiter);
            Box::pin(async move { l.until_ready().await })
        });
        let timeouts = config.timeouts;
        let dns = Dns::new(
            DnsConfig {
                nameservers: config.nameservers,
                timeout: timeouts.dns,
                attempts: c.dns.attempts.max(1),
                max_concurrent: c.dns.concurrency.max(1),
                ..DnsConfig::default()
            },
            Some(hook),
        )
        .map_err(|e| SurveyError::Usage(format!("DNS resolver: {e}")))?;
        let dns = Arc::new(dns);
        let dialer = Arc::new(
            Dialer::new(Arc::new(config.blocklist))
                .with_ports(c.smtp_port, c.https_port)
                .with_http_port(c.http_port),
        );
        let trust = Arc::new(config.trust);
        let tls =
            mxscan_probe::tls::client_config(&[]).map_err(failed("TLS client configuration"))?;
        let mut smtp = ProbeOptions::new(config.ehlo_name, Arc::clone(&tls));
        smtp.connect_timeout = timeouts.connect;
        smtp.greeting_timeout = timeouts.greeting;
        smtp.command_timeout = timeouts.command;
        smtp.tls_timeout = timeouts.tls;
        smtp.total_timeout = timeouts.probe;
        let http_tls = mxscan_probe::tls::client_config(&[b"http/1.1"])
            .map_err(failed("TLS client configuration"))?;
        let mut fetch = FetchOptions::new(http_tls);
        fetch.timeout = timeouts.fetch;
        fetch.connect_timeout = smtp.connect_timeout;
        fetch.at = at;
        let settings = ScanSettings {
            survey_id: id.clone(),
            at,
            max_mx: c.max_mx,
            ipv6: c.ipv6,
            domain_concurrency: c.domain_concurrency(),
            smtp,
            fetch,
            legacy_hello: !c.politeness.no_legacy_hello,
            aia: !c.politeness.no_aia,
            aia_options: mxscan_probe::aia::AiaOptions {
                timeout: timeouts.fetch,
                ..Default::default()
            },
        };
        let gate = Arc::new(Politeness::new(politeness));

        // The rows go to the survey's writer, or to memory.
        let (rows, sink): (Arc<dyn RowSink>, Sink) = match dir {
            Some(dir) => {
                let mut writer_opts = WriterOptions {
                    part_max_rows: c.commit_rows.max(1),
                    part_max_age: config.commit_interval,
                    ..WriterOptions::default()
                };
                if let Some(index) = &index {
                    writer_opts.resume = Some(index.seed());
                }
                let (writer, handle) = SurveyWriter::spawn(&dir, &id, writer_opts)
                    .map_err(failed(format!("opening {} for writing", dir.display())))?;
                (
                    Arc::new(writer),
                    Sink::Directory {
                        dir,
                        writer: handle,
                    },
                )
            }
            None => {
                let memory = Arc::new(MemorySink::new());
                (memory.clone(), Sink::Memory(memory))
            }
        };
        let mut engine = Engine::new(
            settings,
            Arc::clone(&dns),
            Arc::clone(&dialer),
            trust,
            gate,
            rows,
        );
        // Resume: reuse every probe already written, skip every domain already written.
        if let (Some(index), Sink::Directory { dir, .. }) = (index, &sink) {
            let ders = load_cert_ders(dir)?;
            for row in index.probes.values() {
                if row.port != c.smtp_port {
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
        Ok(Survey {
            id,
            engine,
            sink,
            source,
            shard: c.shard,
            count_total: plan.count_total,
            grace: config.grace,
            dns,
            dialer,
            total: Arc::new(AtomicU64::new(0)),
            descriptors,
            events,
        })
    }

    /// The survey id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The survey directory (`None` for [`Output::Memory`]).
    pub fn dir(&self) -> Option<&Path> {
        match &self.sink {
            Sink::Directory { dir, .. } => Some(dir),
            Sink::Memory(_) => None,
        }
    }

    /// The descriptor budget.
    pub fn descriptors(&self) -> Descriptors {
        self.descriptors
    }

    /// The engine's live counters (for a progress display).
    pub fn counters(&self) -> Arc<Counters> {
        self.engine.counters()
    }

    /// Domains to scan in all: 0 while unknown, an estimate (duplicates included) once the
    /// background count of [`Plan::count_total`] is done, exact once ingest has read every
    /// input.
    pub fn total(&self) -> Arc<AtomicU64> {
        Arc::clone(&self.total)
    }

    /// Scan until the input ends or `stop` is set. A stop means: take no new domain, give the
    /// domains in flight the grace period to finish (their rows are written), abandon the rest;
    /// the survey is then `partial` and `interrupted` is set. The survey directory is finished
    /// (its manifest status and input facts written) before this returns.
    pub async fn run(self, stop: Arc<AtomicBool>) -> Result<Report, SurveyError> {
        let Survey {
            id,
            engine,
            sink,
            source,
            shard,
            count_total,
            grace,
            dns,
            dialer,
            total,
            descriptors: _,
            events,
        } = self;
        let t0 = Instant::now();
        let engine = Arc::new(engine);
        let counters = engine.counters();

        // Ingest on a blocking thread, feeding a bounded channel.
        let (tx, rx) = mpsc::channel::<Job>(1024);
        let ingest_total = Arc::clone(&total);
        let ingest_events = Arc::clone(&events);
        let ingest_inputs = inputs_of(&source);
        let ingest_task = tokio::task::spawn_blocking(move || {
            let mut ingest = Ingest::new(
                ingest_inputs,
                IngestOptions {
                    shard,
                    ..IngestOptions::default()
                },
            );
            let (mut sent, mut stopped) = (0u64, false);
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
                    Err(e) => ingest_events.skipped(&e),
                }
            }
            if !stopped {
                ingest_total.store(sent, Ordering::Relaxed);
            }
            ingest.into_stats()
        });

        // The number of domains to scan, counted in the background for file inputs (standard
        // input cannot be read twice), so progress can show a bar and an ETA. The count keeps
        // duplicates (a second duplicate filter would double ingest's memory at the start of a
        // survey); the ingest stream's own figure replaces it once the list has been read.
        let countable = match &source {
            Source::Lists(lists) => !lists.iter().any(|i| i.as_str() == "-"),
            Source::Domains(_) => true,
        };
        if count_total && countable {
            let (total, source) = (Arc::clone(&total), source.clone());
            tokio::task::spawn_blocking(move || {
                let mut count = Ingest::new(
                    inputs_of(&source),
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

        // The engine, and the grace period once a stop is asked for.
        let run = tokio::spawn(Arc::clone(&engine).run(rx, Arc::clone(&stop)));
        let run_abort = run.abort_handle();
        let report = {
            let stop = Arc::clone(&stop);
            tokio::select! {
                r = run => r.map_err(failed("the engine task failed"))?,
                _ = async move {
                    while !stop.load(Ordering::Relaxed) {
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    tokio::time::sleep(grace).await;
                } => {
                    events.notice(&Notice::GraceOver);
                    run_abort.abort();
                    RunReport {
                        domains: counters.domains_done.load(Ordering::Relaxed),
                        probes: counters.probes.load(Ordering::Relaxed),
                        interrupted: true,
                    }
                }
            }
        };
        drop(engine);

        let interrupted = report.interrupted || stop.load(Ordering::Relaxed);
        let stats = if interrupted {
            None
        } else {
            Some(
                ingest_task
                    .await
                    .map_err(failed("the ingest thread failed"))?,
            )
        };
        let inputs_failed = stats.as_ref().map_or(0, |s| s.inputs_failed());
        let status = if interrupted || inputs_failed > 0 {
            SurveyStatus::Partial
        } else {
            SurveyStatus::Complete
        };
        let (survey_dir, writer, rows) = match sink {
            Sink::Directory { dir, writer } => {
                let wrote = writer
                    .finish(status)
                    .await
                    .map_err(failed("finishing the survey files"))?;
                // The input facts into the manifest (the writer has finished with it).
                if let Some(stats) = &stats {
                    let lists = match &source {
                        Source::Lists(lists) => lists.clone(),
                        Source::Domains(_) => Vec::new(),
                    };
                    let mut manifest = Manifest::load(&dir)?;
                    manifest.input.path = lists.first().cloned();
                    manifest.input.paths = lists;
                    manifest.input.domains = Some(stats.total.accepted);
                    manifest.input.sha256 = match stats.inputs.as_slice() {
                        [one] => one.sha256.clone(),
                        _ => None,
                    };
                    manifest.store(&dir)?;
                }
                (Some(dir), Some(wrote), None)
            }
            Sink::Memory(memory) => (None, None, Some(memory.take())),
        };
        Ok(Report {
            survey_id: id,
            survey_dir,
            status,
            interrupted,
            ingest: stats,
            inputs_failed,
            elapsed: t0.elapsed(),
            dns_queries: dns.queries_sent(),
            fd_waits: dialer.fd_waits(),
            writer,
            rows,
        })
    }
}

/// The ingest inputs of a source (opened lazily by ingest).
fn inputs_of(source: &Source) -> Vec<Input> {
    match source {
        Source::Lists(lists) => lists.iter().map(|i| Input::from_arg(i)).collect(),
        Source::Domains(domains) => {
            vec![Input::reader(
                "<arguments>",
                Cursor::new(domains.join("\n").into_bytes()),
            )]
        }
    }
}

/// Every input path must be a readable file (`-` is standard input): checked before a
/// survey is created, so a typo never leaves an empty survey behind.
fn check_inputs(inputs: &[String]) -> Result<(), SurveyError> {
    for input in inputs.iter().filter(|i| i.as_str() != "-") {
        let path = Path::new(input);
        match std::fs::metadata(path) {
            Ok(m) if m.is_dir() => {
                return Err(SurveyError::Usage(format!(
                    "input {input}: Is a directory (give a domain list file)"
                )));
            }
            Ok(_) => {
                std::fs::File::open(path)
                    .map_err(|e| SurveyError::Usage(format!("input {input}: {e}")))?;
            }
            Err(e) => return Err(SurveyError::Usage(format!("input {input}: {e}"))),
        }
    }
    Ok(())
}

/// sha256 → DER of every certificate a resumed survey holds.
fn load_cert_ders(dir: &Path) -> Result<HashMap<String, Vec<u8>>, SurveyError> {
    let rows = mxscan_store::reader::read_certs(dir)
        .map_err(failed(format!("reading certs of {}", dir.display())))?;
    Ok(rows.into_iter().map(|r| (r.sha256, r.der)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fd_budget_leaves_room_for_dns_and_files() {
        assert_eq!(fd_budget(0, 500, 8), 500, "unknown limit: unchanged");
        assert_eq!(fd_budget(200, 500, 8), 128);
        assert_eq!(fd_budget(1 << 20, 1000, 256), 1000);
        assert_eq!(fd_budget(10, 500, 8), 1, "at least one");
    }
}
