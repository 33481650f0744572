//! The engine as a library: `ScanConfig` → `ValidConfig` → `Survey::build` → `run`, against
//! the in-process testbed.
//!
//! * scheduling: every domain gets exactly one row; every address one probe (one SMTP
//!   connection), however many domains point at it;
//! * stop and grace: setting the stop flag makes `run` return `interrupted`, the survey is
//!   `partial` and what it wrote is readable; after the grace period the domains still in
//!   flight are abandoned;
//! * resume: a second run over the partial survey skips the domains written and does not
//!   probe an address written again.
//!
//! Everything here scans, so it runs only inside the network sandbox (`scripts/sandbox.sh`,
//! `scripts/test.sh`): the testbed publishes MX records on private addresses on purpose.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mxscan_engine::config::{DnsSection, PolitenessSection, ScanConfig, TimeoutSection};
use mxscan_engine::survey::{Events, Notice, Output, Plan, Report, Source, Survey};
use mxscan_store::manifest::{Manifest, SurveyStatus};
use mxscan_store::rows::Table;
use mxscan_testbed::connlog::ServerKind;
use mxscan_testbed::profile::{LatencyConfig, Profile};
use mxscan_testbed::world::WorldConfig;
use mxscan_testbed::{Testbed, TestbedConfig};

/// True inside `scripts/sandbox.sh`; tests that scan skip (saying so) outside.
fn sandboxed(test: &str) -> bool {
    let inside = std::env::var("MXSCAN_IN_SANDBOX").is_ok_and(|v| v == "1");
    if !inside {
        eprintln!(
            "SKIPPED {test}: scans the testbed; run it through scripts/test.sh (network sandbox)"
        );
    }
    inside
}

/// A running testbed, a scratch directory with its CA and a list of its domains.
struct Bed {
    testbed: Testbed,
    dir: tempfile::TempDir,
    ca: PathBuf,
}

impl Bed {
    async fn start(seed: u64, greet_delay: Duration) -> Bed {
        let testbed = Testbed::start(TestbedConfig {
            world: WorldConfig {
                seed,
                profile: Profile::Realistic,
                latency: LatencyConfig::with_median_ms(0),
                greet_delay,
            },
            ..TestbedConfig::default()
        })
        .await
        .expect("testbed starts");
        let dir = tempfile::tempdir().unwrap();
        let ca = dir.path().join("ca.pem");
        testbed.write_ca(&ca).unwrap();
        Bed { testbed, dir, ca }
    }

    /// `count` synthetic names of this world.
    fn domains(&self, count: u64) -> Vec<String> {
        let w = self.testbed.world().config();
        mxscan_testbed::names::synthetic_domains(w.seed, count, w.profile)
            .map(|(_, d)| d)
            .collect()
    }

    /// A `rank,domain` list file of `count` names.
    fn list(&self, count: u64) -> PathBuf {
        let path = self.dir.path().join("list.csv");
        let mut text = String::from("rank,domain\n");
        for (i, d) in self.domains(count).iter().enumerate() {
            text.push_str(&format!("{},{d}\n", i + 1));
        }
        std::fs::write(&path, text).unwrap();
        path
    }

    /// Options that point a scan at this testbed, fast: no intervals (every address is
    /// loopback), short deadlines.
    fn config(&self) -> ScanConfig {
        let defaults = ScanConfig::default();
        ScanConfig {
            out: self.dir.path().join("surveys"),
            trust_anchors: vec![self.ca.clone()],
            smtp_port: self.testbed.smtp_port(),
            https_port: self.testbed.https_port(),
            dns: DnsSection {
                resolvers: vec![self.testbed.dns_addr().to_string()],
                rate: 100_000.0,
                timeout: 2.0,
                attempts: 2,
                ..defaults.dns.clone()
            },
            politeness: PolitenessSection {
                allow: vec!["127.0.0.0/8".into()],
                per_ip_interval: 0.0,
                per_prefix_interval: 0.0,
                rate: 100_000.0,
                concurrency: 500,
                ..defaults.politeness.clone()
            },
            timeouts: TimeoutSection {
                greeting: 5.0,
                command: 5.0,
                tls: 5.0,
                probe: 10.0,
                fetch: 10.0,
                ..defaults.timeouts.clone()
            },
            ..defaults
        }
    }

    /// SMTP connections the testbed accepted, per address.
    fn smtp_connections(&self) -> HashMap<IpAddr, usize> {
        let mut out = HashMap::new();
        for r in self
            .testbed
            .conn_log()
            .snapshot()
            .only(ServerKind::Smtp)
            .records
        {
            *out.entry(r.local.ip()).or_default() += 1;
        }
        out
    }
}

/// Notices, recorded.
#[derive(Debug, Default)]
struct Recorder(Mutex<Vec<Notice>>);

impl Events for Recorder {
    fn notice(&self, notice: &Notice) {
        self.0.lock().unwrap().push(notice.clone());
    }
}

async fn build(config: ScanConfig, plan: Plan) -> Survey {
    let valid = config.validate().expect("valid options");
    Survey::build(valid, plan, Arc::new(Recorder::default()))
        .await
        .expect("the survey builds")
}

/// Wait until the survey under `root` has committed a domains part; its directory.
async fn first_commit(root: &Path) -> PathBuf {
    let t0 = Instant::now();
    loop {
        if let Ok(entries) = std::fs::read_dir(root) {
            for e in entries.flatten() {
                let dir = e.path();
                if mxscan_store::reader::parts(&dir, Table::Domains).is_ok_and(|p| !p.is_empty()) {
                    return dir;
                }
            }
        }
        assert!(t0.elapsed() < Duration::from_secs(60), "no part in 60 s");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Run `survey`, setting the stop flag once the first part is committed under `root`.
async fn run_and_stop(survey: Survey, root: &Path) -> Report {
    let stop = Arc::new(AtomicBool::new(false));
    let run = tokio::spawn(survey.run(Arc::clone(&stop)));
    first_commit(root).await;
    stop.store(true, Ordering::SeqCst);
    tokio::time::timeout(Duration::from_secs(90), run)
        .await
        .expect("run returns after a stop")
        .unwrap()
        .expect("the run succeeds")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_domain_gets_one_row_and_every_address_one_probe() {
    if !sandboxed("every_domain_gets_one_row_and_every_address_one_probe") {
        return;
    }
    let bed = Bed::start(21, Duration::from_millis(200)).await;
    let domains = bed.domains(300);
    // Duplicates and other spellings are one domain.
    let mut given = domains.clone();
    given.push(domains[0].to_ascii_uppercase());
    given.push(format!("{}.", domains[1]));
    let survey = build(
        bed.config(),
        Plan::new(Source::Domains(given), Output::Memory),
    )
    .await;
    assert!(survey.dir().is_none());
    let report = survey.run(Arc::new(AtomicBool::new(false))).await.unwrap();
    assert!(!report.interrupted);
    assert_eq!(report.status, SurveyStatus::Complete);
    assert!(report.survey_dir.is_none());
    let rows = report.rows.expect("rows in memory");

    // Every domain exactly once.
    let names: Vec<&str> = rows.domains.iter().map(|d| d.domain.as_str()).collect();
    let distinct: BTreeSet<&str> = names.iter().copied().collect();
    assert_eq!(names.len(), distinct.len(), "no domain twice");
    let want: BTreeSet<&str> = domains.iter().map(String::as_str).collect();
    assert_eq!(distinct, want, "every domain once");
    assert!(rows.mx.iter().all(|m| want.contains(m.domain.as_str())));
    assert!(rows.domains.iter().all(|d| d.survey_id == report.survey_id));

    // One probe row per address, one SMTP connection per probed address (two when the
    // probe made its legacy hello).
    let probed: Vec<IpAddr> = rows
        .probes
        .iter()
        .map(|p| p.address.parse().unwrap())
        .collect();
    let unique: HashSet<IpAddr> = probed.iter().copied().collect();
    assert_eq!(probed.len(), unique.len(), "one probe row per address");
    let conns = bed.smtp_connections();
    for p in &rows.probes {
        let addr: IpAddr = p.address.parse().unwrap();
        let want = 1 + usize::from(p.legacy_ms.is_some());
        assert_eq!(
            conns.get(&addr),
            Some(&want),
            "{addr}: {want} SMTP connection(s)"
        );
    }
    assert_eq!(
        conns.len(),
        unique.len(),
        "no connection without a probe row"
    );

    // Shared MX hosts: addresses in the mx rows of several domains, probed once each.
    let mut users: HashMap<IpAddr, HashSet<&str>> = HashMap::new();
    for m in rows.mx.iter().filter(|m| !m.blocked) {
        if let Ok(addr) = m.address.parse::<IpAddr>() {
            users.entry(addr).or_default().insert(m.domain.as_str());
        }
    }
    let shared = users.values().filter(|d| d.len() > 1).count();
    assert!(shared > 0, "the realistic world has shared MX hosts");
    for addr in users.keys() {
        assert!(unique.contains(addr), "{addr} of an mx row has its probe");
    }
    let mx_refs: usize = users.values().map(HashSet::len).sum();
    assert!(
        unique.len() < mx_refs,
        "probes ({}) are deduplicated across domains ({mx_refs} references)",
        unique.len()
    );
    // Certificates once each.
    let certs: HashSet<&str> = rows.certs.iter().map(|c| c.sha256.as_str()).collect();
    assert_eq!(certs.len(), rows.certs.len(), "one row per certificate");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stop_ends_the_run_with_a_partial_readable_survey() {
    if !sandboxed("a_stop_ends_the_run_with_a_partial_readable_survey") {
        return;
    }
    let bed = Bed::start(22, Duration::from_millis(200)).await;
    let list = bed.list(20_000);
    let mut config = bed.config();
    config.dns.rate = 300.0; // ≈ 60 domains/s: far longer than the test waits
    config.commit_interval = 1.0;
    config.grace = 30.0;
    let root = config.out.clone();
    let survey = build(
        config,
        Plan::new(
            Source::Lists(vec![list.display().to_string()]),
            Output::NewSurvey,
        ),
    )
    .await;
    let dir = survey.dir().unwrap().to_path_buf();
    let counters = survey.counters();
    let report = run_and_stop(survey, &root).await;
    assert!(report.interrupted);
    assert_eq!(report.status, SurveyStatus::Partial);
    assert!(
        report.ingest.is_none(),
        "the lists were not read to the end"
    );
    assert_eq!(report.survey_dir.as_deref(), Some(dir.as_path()));
    let manifest = Manifest::load(&dir).unwrap();
    assert_eq!(manifest.status, SurveyStatus::Partial);

    // Everything written is readable, each domain once; the domains in flight finished
    // within the grace period, so every domain begun was written.
    let domains = mxscan_store::reader::read_domains(&dir).expect("domains readable");
    mxscan_store::reader::read_mx(&dir).expect("mx readable");
    mxscan_store::reader::read_probes(&dir).expect("probes readable");
    mxscan_store::reader::read_certs(&dir).expect("certs readable");
    let names: HashSet<&str> = domains.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(names.len(), domains.len(), "no domain twice");
    assert!(!domains.is_empty() && domains.len() < 20_000);
    let done = counters.domains_done.load(Ordering::Relaxed) as usize;
    assert_eq!(
        domains.len(),
        done,
        "every domain begun was finished and written"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_the_grace_period_domains_in_flight_are_abandoned() {
    if !sandboxed("after_the_grace_period_domains_in_flight_are_abandoned") {
        return;
    }
    // Slow greeters: domains in flight take seconds; the grace period is a tenth of one.
    let bed = Bed::start(23, Duration::from_secs(4)).await;
    let list = bed.list(5_000);
    let mut config = bed.config();
    config.grace = 0.1;
    config.commit_interval = 1.0;
    let root = config.out.clone();
    let events = Arc::new(Recorder::default());
    let survey = Survey::build(
        config.validate().unwrap(),
        Plan::new(
            Source::Lists(vec![list.display().to_string()]),
            Output::NewSurvey,
        ),
        Arc::clone(&events) as Arc<dyn Events>,
    )
    .await
    .unwrap();
    let dir = survey.dir().unwrap().to_path_buf();
    let counters = survey.counters();
    let stop = Arc::new(AtomicBool::new(false));
    let run = tokio::spawn(survey.run(Arc::clone(&stop)));
    first_commit(&root).await;
    stop.store(true, Ordering::SeqCst);
    let t0 = Instant::now();
    let report = tokio::time::timeout(Duration::from_secs(30), run)
        .await
        .expect("run returns")
        .unwrap()
        .unwrap();
    assert!(
        t0.elapsed() < Duration::from_secs(3),
        "returned {:?} after the stop: the domains in flight were not awaited",
        t0.elapsed()
    );
    assert!(report.interrupted);
    assert_eq!(report.status, SurveyStatus::Partial);
    assert!(
        events.0.lock().unwrap().contains(&Notice::GraceOver),
        "the abandon is reported"
    );
    let started = counters.domains_started.load(Ordering::Relaxed);
    let domains = mxscan_store::reader::read_domains(&dir).expect("domains readable");
    assert!(
        (domains.len() as u64) < started,
        "some domains were abandoned"
    );
    assert_eq!(Manifest::load(&dir).unwrap().status, SurveyStatus::Partial);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resume_skips_written_domains_and_never_probes_an_address_again() {
    if !sandboxed("resume_skips_written_domains_and_never_probes_an_address_again") {
        return;
    }
    let bed = Bed::start(24, Duration::from_millis(200)).await;
    let list = bed.list(600);
    let mut config = bed.config();
    config.dns.rate = 300.0;
    config.commit_interval = 1.0;
    // Few domains in flight, so the stop leaves most of the list for the second run.
    config.politeness.domain_concurrency = Some(20);
    let root = config.out.clone();

    // First run: stopped after its first commit.
    let survey = build(
        config.clone(),
        Plan::new(
            Source::Lists(vec![list.display().to_string()]),
            Output::NewSurvey,
        ),
    )
    .await;
    let dir = survey.dir().unwrap().to_path_buf();
    let first = run_and_stop(survey, &root).await;
    assert_eq!(first.status, SurveyStatus::Partial);
    let written = mxscan_store::reader::read_domains(&dir).unwrap().len();
    let probes_before = mxscan_store::reader::read_probes(&dir).unwrap();
    assert!(
        written > 0 && written < 600,
        "{written} domains in the first run"
    );
    let conns_before = bed.smtp_connections();

    // Second run: the resume index (no INPUT: the manifest's lists).
    config.dns.rate = 100_000.0;
    let survey = build(
        config,
        Plan::new(Source::Lists(Vec::new()), Output::Resume(dir.clone())),
    )
    .await;
    assert_eq!(survey.dir(), Some(dir.as_path()));
    let counters = survey.counters();
    let second = survey.run(Arc::new(AtomicBool::new(false))).await.unwrap();
    assert!(!second.interrupted);
    assert_eq!(second.status, SurveyStatus::Complete);
    assert_eq!(
        counters.domains_skipped.load(Ordering::Relaxed) as usize,
        written,
        "the domains written are skipped"
    );
    assert_eq!(
        counters.domains_done.load(Ordering::Relaxed) as usize,
        600 - written,
        "the others are scanned"
    );

    // The survey has every domain once, every address's probe once.
    let domains = mxscan_store::reader::read_domains(&dir).unwrap();
    let names: HashSet<&str> = domains.iter().map(|d| d.domain.as_str()).collect();
    assert_eq!(domains.len(), 600);
    assert_eq!(names.len(), 600);
    let probes = mxscan_store::reader::read_probes(&dir).unwrap();
    let addrs: HashSet<&str> = probes.iter().map(|p| p.address.as_str()).collect();
    assert_eq!(addrs.len(), probes.len(), "one probe row per address");

    // No address probed in the first run was dialled again; none probed twice at all. A
    // probe is one connection, two when it made its legacy hello (after a modern handshake
    // that failed with an alert or a version/suite mismatch).
    let conns = bed.smtp_connections();
    let per_probe = |p: &mxscan_store::rows::ProbeRow| 1 + usize::from(p.legacy_ms.is_some());
    for p in &probes_before {
        let addr: IpAddr = p.address.parse().unwrap();
        assert_eq!(conns_before.get(&addr), Some(&per_probe(p)));
        assert_eq!(
            conns.get(&addr),
            Some(&per_probe(p)),
            "{addr} probed again on resume"
        );
    }
    for p in &probes {
        let addr: IpAddr = p.address.parse().unwrap();
        if p.status != mxscan_model::ProbeStatus::Blocked {
            assert_eq!(conns.get(&addr), Some(&per_probe(p)), "{addr}: {p:?}");
        }
    }
    assert_eq!(
        conns.values().sum::<usize>(),
        probes
            .iter()
            .filter(|p| p.status != mxscan_model::ProbeStatus::Blocked)
            .map(per_probe)
            .sum::<usize>(),
        "no address dialled but for its probe"
    );
    let manifest = Manifest::load(&dir).unwrap();
    assert_eq!(manifest.status, SurveyStatus::Complete);
    assert_eq!(manifest.resumed_at.len(), 1);
}
