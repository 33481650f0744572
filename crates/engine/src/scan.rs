//! The scheduler: streams domains through DNS, the shared SMTP probes, the policy fetch and
//! evaluation, and hands rows to the store.
//!
//! # Shape
//! The input arrives on a bounded channel (ingest runs on a blocking thread). Each domain
//! becomes one task; at most `domain_concurrency` domain tasks exist at a time, so memory is
//! bounded whatever the length of the list. A domain task:
//! 1. asks DNS for the MX, `_mta-sts` and `_smtp._tls` records at once (and the domain's own
//!    address when there is no MX: RFC 5321 §5.1 implicit MX);
//! 2. resolves every exchange (capped at `max_mx`) and, for every address, either records it
//!    as blocked (never dialled) or awaits the address's SMTP probe through the
//!    [`ProbeCache`](crate::probe_cache::ProbeCache): the first domain to need an address
//!    starts its probe, every later one awaits the same result — one probe per address per
//!    survey, and a waiting domain holds no thread and no probe slot;
//! 3. fetches the MTA-STS policy when the record is valid (RFC 8461 §3.3), concurrently with
//!    the probes;
//! 4. evaluates ([`crate::evaluate`]) and sends the domain row with its mx rows in one message.
//!
//! Probes and fetches pass the politeness gate ([`crate::politeness`]), which also holds the
//! cap on connections in flight. Probe rows and certificate rows are written when a
//! probe finishes, so they always precede the domains that refer to them (the store's
//! exactly-once resume contract).

use std::collections::HashSet;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures::future::join_all;
use mxscan_model::dns::{AddrAnswer, LookupStatus};
use mxscan_model::observation::{DomainObs, ExchangeObs, HostResult, HostView, PolicyFetch};
use mxscan_model::{CertStatus, ChainFacts};
use mxscan_pki::TrustStore;
use mxscan_probe::dialer::Dialer;
use mxscan_probe::dns::Dns;
use mxscan_probe::fetch::{FetchOptions, fetch_policy_at};
use mxscan_probe::smtp_probe::{ProbeOptions, probe_legacy_hello, probe_smtp};
use mxscan_store::rows::ProbeRow;
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;

use crate::evaluate::evaluate;
use crate::plan::{needs_fallback, plan};
use crate::politeness::Politeness;
use crate::probe_cache::ProbeCache;
use crate::sink::RowSink;

/// One domain to scan, as ingest delivers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Job {
    /// Normalised domain.
    pub domain: String,
    /// Rank in the input list.
    pub rank: Option<u64>,
}

/// The validated runtime settings of a scan.
#[derive(Debug, Clone)]
pub struct ScanSettings {
    /// Survey id written into every row.
    pub survey_id: String,
    /// The survey's timestamp: certificates are judged at this instant.
    pub at: UnixTime,
    /// MX exchanges considered per domain (RFC 5321 allows many; real domains have ≤ 10).
    pub max_mx: usize,
    /// Also resolve and probe IPv6 addresses.
    pub ipv6: bool,
    /// Domain tasks in flight at once (each mostly waits on DNS or on a shared probe).
    pub domain_concurrency: usize,
    /// SMTP probe settings (EHLO name, deadlines, caps).
    pub smtp: ProbeOptions,
    /// Policy fetch settings (deadlines, caps, TLS config).
    pub fetch: FetchOptions,
    /// Make the legacy hello after a modern handshake that failed in a way it can explain
    /// (`--no-legacy-hello` turns it off).
    pub legacy_hello: bool,
    /// Follow caIssuers URLs to complete chains with no path (`--no-aia` turns it off).
    pub aia: bool,
    /// Deadline and caps of one AIA fetch.
    pub aia_options: mxscan_probe::aia::AiaOptions,
}

/// Live counters for progress display and the final line.
#[derive(Debug, Default)]
pub struct Counters {
    /// Domains taken from the input.
    pub domains_started: AtomicU64,
    /// Domains whose rows were handed to the writer.
    pub domains_done: AtomicU64,
    /// Domains skipped because a resumed survey already has them.
    pub domains_skipped: AtomicU64,
    /// Domains whose MX/address lookup failed (not ok).
    pub dns_failed: AtomicU64,
    /// SMTP probes made in this run.
    pub probes: AtomicU64,
    /// Probes in flight.
    pub probes_in_flight: AtomicU64,
    /// Probes that completed TLS (or read a legacy first flight).
    pub starttls_ok: AtomicU64,
    /// Legacy hellos made (each one extra connection after a failed modern handshake).
    pub legacy_hellos: AtomicU64,
    /// AIA caIssuers URLs fetched (each at most once per survey).
    pub aia_fetches: AtomicU64,
    /// AIA fetches that gave no certificate (unreachable, timeout, not a certificate, …).
    pub aia_failed: AtomicU64,
    /// AIA URLs not fetched because the survey's cap of distinct URLs was reached.
    pub aia_over_cap: AtomicU64,
    /// Chains with no path that AIA completed (`incomplete_chain`).
    pub chains_completed_by_aia: AtomicU64,
    /// Probes that ended otherwise (no STARTTLS, rejected, failed, unreachable).
    pub starttls_failed: AtomicU64,
    /// Addresses recorded as blocked (per mx row).
    pub blocked: AtomicU64,
    /// Policy fetches made.
    pub policies_fetched: AtomicU64,
    /// Policy fetches that produced a body.
    pub policies_ok: AtomicU64,
}

impl Counters {
    fn bump(c: &AtomicU64) {
        c.fetch_add(1, Ordering::Relaxed);
    }
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    /// Domains written in this run.
    pub domains: u64,
    /// Probes made in this run.
    pub probes: u64,
    /// True when the run stopped before the input ended (Ctrl-C / SIGTERM).
    pub interrupted: bool,
}

/// The engine. Build once per survey; [`Engine::run`] consumes the input.
#[derive(Debug)]
pub struct Engine {
    settings: ScanSettings,
    dns: Arc<Dns>,
    dialer: Arc<Dialer>,
    trust: Arc<TrustStore>,
    gate: Arc<Politeness>,
    probes: ProbeCache,
    aia: crate::aia::AiaCache,
    writer: Arc<dyn RowSink>,
    counters: Arc<Counters>,
    skip: HashSet<String>,
}

impl Engine {
    /// An engine writing through `writer` (a survey's `SurveyWriter`, or any [`RowSink`]).
    pub fn new(
        settings: ScanSettings,
        dns: Arc<Dns>,
        dialer: Arc<Dialer>,
        trust: Arc<TrustStore>,
        gate: Arc<Politeness>,
        writer: Arc<dyn RowSink>,
    ) -> Engine {
        Engine {
            settings,
            dns,
            dialer,
            trust,
            gate,
            probes: ProbeCache::default(),
            aia: crate::aia::AiaCache::default(),
            writer,
            counters: Arc::new(Counters::default()),
            skip: HashSet::new(),
        }
    }

    /// Domains to skip (already written by an earlier run of this survey).
    pub fn with_skip(mut self, skip: HashSet<String>) -> Engine {
        self.skip = skip;
        self
    }

    /// Reuse a probe committed by an earlier run: its row and the DER of its chain.
    pub fn seed_probe(&self, row: &ProbeRow, chain: &[CertificateDer<'_>]) {
        let Ok(addr) = row.address.parse::<IpAddr>() else {
            return;
        };
        let chain_facts = (row.tls_version.is_some() && !chain.is_empty())
            .then(|| self.trust.facts(chain, self.settings.at));
        // The chain's certificates are in the resume index, which seeded the writer's filter.
        self.probes.seed(
            addr,
            &HostResult {
                status: row.status,
                starttls: row.starttls_offered,
                chain: chain_facts,
            },
        );
    }

    /// The live counters (for a progress display).
    pub fn counters(&self) -> Arc<Counters> {
        Arc::clone(&self.counters)
    }

    /// Scan every job from `input` until it closes or `stop` is set. Stopping means: take no
    /// new domain, let the domains in flight finish (their rows are written), return.
    pub async fn run(
        self: Arc<Self>,
        mut input: mpsc::Receiver<Job>,
        stop: Arc<AtomicBool>,
    ) -> RunReport {
        let slots = Arc::new(Semaphore::new(self.settings.domain_concurrency.max(1)));
        let mut tasks = JoinSet::new();
        let mut interrupted = false;
        loop {
            if stop.load(Ordering::Relaxed) {
                interrupted = true;
                break;
            }
            let job = tokio::select! {
                job = input.recv() => job,
                _ = wait_for(&stop) => { interrupted = true; break; }
            };
            let Some(job) = job else { break };
            if self.skip.contains(&job.domain) {
                Counters::bump(&self.counters.domains_skipped);
                continue;
            }
            let slot = Arc::clone(&slots)
                .acquire_owned()
                .await
                .expect("never closed");
            Counters::bump(&self.counters.domains_started);
            let engine = Arc::clone(&self);
            tasks.spawn(async move {
                engine.domain(job).await;
                drop(slot);
            });
            while let Some(done) = tasks.try_join_next() {
                log_panic(done);
            }
        }
        while let Some(done) = tasks.join_next().await {
            log_panic(done);
        }
        RunReport {
            domains: self.counters.domains_done.load(Ordering::Relaxed),
            probes: self.counters.probes.load(Ordering::Relaxed),
            interrupted,
        }
    }

    /// Scan one domain and hand its rows to the writer.
    async fn domain(&self, job: Job) {
        let t0 = Instant::now();
        let d = job.domain.as_str();
        let (sts_name, tlsrpt_name) = (format!("_mta-sts.{d}"), format!("_smtp._tls.{d}"));
        let (mx, sts_txt, tlsrpt_txt) = tokio::join!(
            self.dns.mx(d),
            self.dns.txt(&sts_name),
            self.dns.txt(&tlsrpt_name),
        );
        let fallback = if needs_fallback(&mx) {
            Some(self.addresses(d).await)
        } else {
            None
        };
        // The plan: which hosts, whether to fetch a policy — decided once, evaluated below.
        let plan = plan(d, &mx, fallback.as_ref(), &sts_txt, self.settings.max_mx);
        if plan.hosts.dns_status != mxscan_model::DnsStatus::Ok {
            Counters::bump(&self.counters.dns_failed);
        }

        let exchanges_fut = async {
            let mut out = Vec::with_capacity(plan.hosts.exchanges.len());
            let futs = plan.hosts.exchanges.iter().map(|(exchange, preference)| {
                let implicit = plan.hosts.implicit_mx;
                let fallback = fallback.clone();
                async move {
                    let addrs = match (implicit, fallback) {
                        (true, Some(a)) => a,
                        _ => self.addresses(exchange).await,
                    };
                    self.exchange(exchange.clone(), *preference, addrs).await
                }
            });
            for ex in join_all(futs).await {
                out.push(ex);
            }
            out
        };
        let fetch_fut = async {
            if plan.fetch_policy() {
                Some(self.fetch(d).await)
            } else {
                None
            }
        };
        let (exchanges, fetch) = tokio::join!(exchanges_fut, fetch_fut);

        let obs = DomainObs {
            rank: job.rank,
            domain: job.domain.clone(),
            mx,
            fallback,
            exchanges,
            sts_txt,
            tlsrpt_txt,
            fetch,
            elapsed_ms: u32::try_from(t0.elapsed().as_millis()).unwrap_or(u32::MAX),
        };
        let (row, mx_rows) = evaluate(&self.settings.survey_id, &plan, &obs);
        let blocked = mx_rows.iter().filter(|r| r.blocked).count() as u64;
        self.counters.blocked.fetch_add(blocked, Ordering::Relaxed);
        if let Err(e) = self.writer.domain(row, mx_rows).await {
            tracing::error!(domain = d, error = %e, "writer refused a domain row");
        }
        Counters::bump(&self.counters.domains_done);
    }

    /// A and (with `ipv6`) AAAA of `name`, merged; the status is the A lookup's unless only
    /// the AAAA lookup found addresses.
    async fn addresses(&self, name: &str) -> AddrAnswer {
        if !self.settings.ipv6 {
            return self.dns.ipv4(name).await;
        }
        let (mut a, aaaa) = tokio::join!(self.dns.ipv4(name), self.dns.ipv6(name));
        if a.status != LookupStatus::Ok && aaaa.status == LookupStatus::Ok {
            return aaaa;
        }
        a.addrs.extend(aaaa.addrs);
        a
    }

    /// The hosts behind one exchange: blocked addresses are recorded, never dialled.
    async fn exchange(&self, exchange: String, preference: u16, addrs: AddrAnswer) -> ExchangeObs {
        let futs = addrs.addrs.iter().map(|&addr| {
            let exchange = exchange.as_str();
            async move {
                if self.dialer.check(addr).is_blocked() {
                    (addr, HostView::Blocked)
                } else {
                    (addr, HostView::Probed(self.host(addr, exchange).await))
                }
            }
        });
        let hosts = join_all(futs).await;
        let hosts = if addrs.status == LookupStatus::Ok {
            hosts
        } else {
            Vec::new()
        };
        ExchangeObs {
            exchange,
            preference,
            addrs,
            hosts,
        }
    }

    /// The shared probe result for `addr`: probe it if nobody has, else await theirs.
    async fn host(&self, addr: IpAddr, sni: &str) -> Arc<HostResult> {
        self.probes
            .get_or_probe(addr, || self.probe(addr, sni.to_string()))
            .await
    }

    /// Probe `addr` once: politeness, the SMTP conversation, rows for probes and certs.
    async fn probe(&self, addr: IpAddr, sni: String) -> Arc<HostResult> {
        // The gate: address lock, connection slot, rate and intervals; dial right after.
        let permit = self.gate.acquire(addr).await;
        self.counters
            .probes_in_flight
            .fetch_add(1, Ordering::Relaxed);
        let mut outcome = probe_smtp(addr, &sni, &self.settings.smtp, &self.dialer).await;
        drop(permit);
        // At most one more connection, and only after a modern handshake whose failure a
        // legacy hello can explain; through the gate again (a new connection, the address
        // interval applies).
        if self.settings.legacy_hello && outcome.wants_legacy_hello() {
            let _permit = self.gate.acquire(addr).await;
            Counters::bump(&self.counters.legacy_hellos);
            let legacy = probe_legacy_hello(addr, &sni, &self.settings.smtp, &self.dialer).await;
            outcome.merge_legacy(legacy);
        }
        self.counters
            .probes_in_flight
            .fetch_sub(1, Ordering::Relaxed);
        Counters::bump(&self.counters.probes);
        let tls_done = outcome.tls.is_some();
        Counters::bump(if tls_done {
            &self.counters.starttls_ok
        } else {
            &self.counters.starttls_failed
        });

        let chain: Vec<CertificateDer<'static>> = outcome
            .tls
            .as_ref()
            .map(|t| t.chain.clone())
            .unwrap_or_default();
        for c in &chain {
            if self.new_cert(c.as_ref())
                && let Some(row) = crate::rows::cert_row(&self.settings.survey_id, c.as_ref())
                && let Err(e) = self.writer.cert(row).await
            {
                tracing::error!(error = %e, "writer refused a cert row");
            }
        }
        let mut facts = tls_done.then(|| self.trust.facts(&chain, self.settings.at));
        if self.settings.aia
            && facts
                .as_ref()
                .is_some_and(|f| f.base() == Some(CertStatus::UntrustedIssuer))
            && let Some(completed) = self.complete_chain(&chain).await
        {
            facts = Some(completed);
        }
        // A path through an intermediate the server did not send (AIA or the pool).
        let chain_completed = facts
            .as_ref()
            .map(|f| f.base() == Some(CertStatus::IncompleteChain));
        let result = HostResult {
            status: outcome.status,
            starttls: outcome.starttls_offered,
            chain: facts,
        };
        let row = crate::rows::probe_row(&self.settings.survey_id, &outcome, chain_completed);
        if let Err(e) = self.writer.probe(row).await {
            tracing::error!(error = %e, "writer refused a probe row");
        }
        Arc::new(result)
    }

    /// Follows caIssuers URLs from the leaf up (at most [`crate::aia::MAX_DEPTH`] issuers,
    /// each URL once per survey and once per chain) and judges the chain again with what was
    /// fetched; `Some` when that found a path (`incomplete_chain`, or a verdict after it).
    async fn complete_chain(&self, chain: &[CertificateDer<'static>]) -> Option<ChainFacts> {
        use crate::aia::{MAX_DEPTH, MAX_URLS_PER_CERT};
        let mut extra: Vec<CertificateDer<'static>> = Vec::new();
        let mut seen: HashSet<String> = HashSet::new();
        let mut frontier = chain.first()?.clone();
        for _ in 0..MAX_DEPTH {
            let mut next = None;
            for url in mxscan_probe::cert::ca_issuers_urls(frontier.as_ref(), MAX_URLS_PER_CERT) {
                if !seen.insert(url.clone()) {
                    continue;
                }
                let certs = self
                    .aia
                    .get(
                        &url,
                        &self.dns,
                        &self.dialer,
                        &self.gate,
                        &self.settings.aia_options,
                        &self.counters,
                    )
                    .await;
                for c in certs.iter() {
                    if !extra.contains(c) && !chain.contains(c) {
                        extra.push(c.clone());
                        next.get_or_insert_with(|| c.clone());
                    }
                }
            }
            if extra.is_empty() {
                return None;
            }
            let f = self.trust.facts_with(chain, &extra, self.settings.at);
            if f.base() != Some(CertStatus::UntrustedIssuer) {
                Counters::bump(&self.counters.chains_completed_by_aia);
                return Some(f);
            }
            frontier = next?;
        }
        None
    }

    /// True unless the survey already has (or has queued) this certificate: the writer's
    /// filter is the one set of certificate keys, so the engine keeps none of its own and
    /// builds a row only for a new certificate. (Two probes that present one new
    /// certificate at the same instant may both build its row; the writer keeps one.)
    fn new_cert(&self, der: &[u8]) -> bool {
        use sha2::{Digest, Sha256};
        let h: [u8; 32] = Sha256::digest(der).into();
        !self.writer.knows_cert(&h)
    }

    /// The MTA-STS policy fetch (RFC 8461 §3.3) to the first address of `mta-sts.<domain>`
    /// that is not blocked, through the politeness gate (a host serving both SMTP and HTTPS
    /// shares one gate entry, as it should).
    async fn fetch(&self, domain: &str) -> PolicyFetch {
        let host = format!("mta-sts.{domain}");
        let addrs = self.addresses(&host).await.addrs;
        let first = addrs
            .iter()
            .copied()
            .find(|a| !self.dialer.check(*a).is_blocked());
        Counters::bump(&self.counters.policies_fetched);
        let out = match first {
            // Dial exactly the admitted address, right after the gate admits it.
            Some(addr) => {
                let _permit = self.gate.acquire(addr).await;
                fetch_policy_at(
                    domain,
                    &[addr],
                    &self.dns,
                    &self.dialer,
                    &self.trust,
                    &self.settings.fetch,
                )
                .await
            }
            // No address, or every address blocked: recorded without dialling.
            None => {
                fetch_policy_at(
                    domain,
                    &addrs,
                    &self.dns,
                    &self.dialer,
                    &self.trust,
                    &self.settings.fetch,
                )
                .await
            }
        };
        if out.error.is_none() {
            Counters::bump(&self.counters.policies_ok);
        }
        PolicyFetch {
            error: out.error,
            http_status: out.http_status,
            content_type: out.content_type.clone(),
            body: out.body.unwrap_or_default(),
        }
    }
}

/// Resolve when `stop` becomes true (polled: the flag is set from a signal handler).
async fn wait_for(stop: &AtomicBool) {
    while !stop.load(Ordering::Relaxed) {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn log_panic(r: Result<(), tokio::task::JoinError>) {
    if let Err(e) = r
        && e.is_panic()
    {
        tracing::error!(error = %e, "a domain task panicked");
    }
}
