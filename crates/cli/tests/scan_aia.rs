//! AIA chain completion end to end: a `stress` world whose list holds every SMTP class and
//! several hosts of each AIA class (`aia_incomplete_chain`, `aia_tarpit`, `aia_loop`),
//! scanned with the testbed's AIA server as `--http-port` (`Harness::scan_flags`), and
//! judged on the survey and on the AIA server's connection log (`ServerKind::Aia`; each AIA
//! URL has an address of its own, so connections to an address are fetches of a URL):
//!
//! * root-only trust (`--trust-anchor` = the root alone): every column matches the truth
//!   for `ScanTrust::ROOT_ONLY` (`compare`, `chain_completed` included): the AIA leaves are
//!   `incomplete_chain` with `chain_completed`, `cert_incomplete_chain` (no AIA) and the
//!   tarpit and loop hosts `untrusted_issuer`; every URL is fetched exactly once however
//!   many hosts share it; the tarpit costs one fetch that ends at the deadline
//!   (`--fetch-timeout`); the loop ends after A and B once each;
//! * root-only with `--no-aia`: the AIA leaves are `untrusted_issuer` too, and the AIA
//!   server sees no connection;
//! * the bundle (root + intermediate, today's flags): the pool completes every chain the
//!   intermediate signed before any fetch — no connection for the intermediate's and the
//!   tarpit's URLs. The loop's leaf is signed by a CA nobody has, so the pool cannot help
//!   it and its two URLs are still fetched once each (the only AIA connections).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{Harness, Scan, compare, only_survey, quick_flags, serial, write_domains};
use mxscan_testbed::aia::AiaHost;
use mxscan_testbed::connlog::{ConnRecord, ServerKind};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::SmtpClass;
use mxscan_testbed::truth::{DomainTruth, ScanTrust, truth_for_list_with};

/// The AIA classes and how many distinct addresses of each the list must hold (so that a
/// URL shared by several hosts shows it is fetched once).
const AIA_CLASSES: [(&str, usize); 3] = [
    ("aia_incomplete_chain", 4),
    ("aia_tarpit", 3),
    ("aia_loop", 3),
];

/// A list of this world's names whose mx rows cover every SMTP class, with at least the
/// [`AIA_CLASSES`] counts of AIA hosts.
fn aia_list(h: &Harness) -> Vec<String> {
    let pool = h.domains(8_000);
    let world = h.testbed.world();
    let mut domains: Vec<String> = pool[..250].to_vec();
    let mut classes: BTreeMap<&str, BTreeSet<String>> = BTreeMap::new();
    let note = |d: &str, classes: &mut BTreeMap<&str, BTreeSet<String>>| {
        for row in world.expected(d).mx {
            if let Some(c) = row.scenario {
                classes.entry(c).or_default().insert(row.address.clone());
            }
        }
    };
    for d in &domains {
        note(d, &mut classes);
    }
    let enough = |classes: &BTreeMap<&str, BTreeSet<String>>| {
        SmtpClass::ALL
            .iter()
            .all(|c| classes.contains_key(c.as_str()))
            && AIA_CLASSES
                .iter()
                .all(|(c, n)| classes.get(c).is_some_and(|s| s.len() >= *n))
    };
    for d in &pool[250..] {
        if enough(&classes) {
            break;
        }
        let wanted = world.expected(d).mx.iter().any(|r| {
            r.scenario.is_some_and(|c| {
                !classes.contains_key(c)
                    || AIA_CLASSES
                        .iter()
                        .any(|(a, n)| *a == c && classes[c].len() < *n)
            })
        });
        if wanted {
            note(d, &mut classes);
            domains.push(d.clone());
        }
    }
    assert!(enough(&classes), "the pool lacks classes: {classes:?}");
    domains
}

/// Scan `domains` into a fresh directory named `name` with `extra` flags on top of
/// `quick_flags` (10 s fetch deadline); returns the survey and the AIA server's
/// connections made during the scan, once every one of them has closed.
fn scan(h: &Harness, domains: &[String], name: &str, extra: &[&str]) -> (PathBuf, Vec<ConnRecord>) {
    let list = write_domains(h, &format!("{name}.csv"), domains);
    let out = h.dir.path().join(name);
    let mut flags = quick_flags();
    flags.extend(extra.iter().map(|s| s.to_string()));
    let before = h.testbed.conn_log().total();
    h.scan(&list, &out, &flags);
    let t0 = std::time::Instant::now();
    while h.testbed.conn_log().open_now() > 0 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = h.testbed.conn_log().snapshot();
    assert_eq!(log.dropped, 0);
    let aia = log
        .only(ServerKind::Aia)
        .records
        .into_iter()
        .filter(|r| r.id >= before)
        .collect();
    (only_survey(&out), aia)
}

/// Connections per AIA host (hosts without any are absent); panics on a connection to an
/// address that is no AIA host.
fn per_host(records: &[ConnRecord]) -> BTreeMap<&'static str, usize> {
    let mut out = BTreeMap::new();
    for r in records {
        let IpAddr::V4(a) = r.local.ip() else {
            panic!("AIA connection to {}", r.local)
        };
        let host = AiaHost::by_addr(a).unwrap_or_else(|| panic!("AIA connection to {a}"));
        *out.entry(host.name()).or_insert(0) += 1;
    }
    out
}

/// The truth for `domains` under `trust`, compared with the survey column by column.
fn check_truth(
    h: &Harness,
    survey: &Path,
    domains: &[String],
    trust: ScanTrust,
) -> Vec<DomainTruth> {
    let truth: Vec<DomainTruth> = truth_for_list_with(h.testbed.world(), domains, trust).collect();
    let diff = compare(survey, &truth);
    assert_eq!(diff.domains_compared, truth.len());
    diff.assert_none();
    truth
}

/// The (cert_status, chain_completed) pairs seen on some mx rows.
type Verdicts = BTreeSet<(Option<String>, Option<bool>)>;

/// (cert_status, chain_completed) of the survey's mx rows, per SMTP class of the truth.
fn verdicts_by_class(survey: &Path, truth: &[DomainTruth]) -> BTreeMap<&'static str, Verdicts> {
    let mx = mxscan_store::reader::read_mx(survey).unwrap();
    let probes = mxscan_store::reader::read_probes(survey).unwrap();
    let completed: BTreeMap<&str, Option<bool>> = probes
        .iter()
        .map(|p| (p.address.as_str(), p.chain_completed))
        .collect();
    let class: BTreeMap<(&str, &str), &'static str> = truth
        .iter()
        .flat_map(|t| &t.mx)
        .filter_map(|r| Some(((r.exchange.as_str(), r.address.as_str()), r.scenario?)))
        .collect();
    let mut out: BTreeMap<&str, BTreeSet<_>> = BTreeMap::new();
    for m in &mx {
        if let Some(c) = class.get(&(m.exchange.as_str(), m.address.as_str())) {
            out.entry(*c).or_default().insert((
                m.cert_status.map(|c| c.as_str().to_string()),
                completed.get(m.address.as_str()).copied().flatten(),
            ));
        }
    }
    out
}

fn one(status: &str, completed: bool) -> Verdicts {
    [(Some(status.to_string()), Some(completed))].into()
}

#[test]
fn root_only_trust_completes_aia_chains_fetching_each_url_once() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let mut h = Harness::start(16, Profile::Stress);
    h.anchor = h.root_ca.clone();
    let domains = aia_list(&h);
    let (survey, aia) = scan(&h, &domains, "root", &[]);
    let truth = check_truth(&h, &survey, &domains, ScanTrust::ROOT_ONLY);
    assert_eq!(h.scan_trust(), ScanTrust::ROOT_ONLY);

    let by_class = verdicts_by_class(&survey, &truth);
    assert_eq!(
        by_class["aia_incomplete_chain"],
        one("incomplete_chain", true)
    );
    assert_eq!(by_class["aia_tarpit"], one("untrusted_issuer", false));
    assert_eq!(by_class["aia_loop"], one("untrusted_issuer", false));
    assert_eq!(
        by_class["cert_incomplete_chain"],
        one("untrusted_issuer", false)
    );
    assert_eq!(
        by_class["cert_unknown_issuer"],
        one("untrusted_issuer", false)
    );

    // Each URL once, however many hosts share it; the loop ends after A and B.
    let want: BTreeMap<&str, usize> = AiaHost::ALL.iter().map(|h| (h.name(), 1)).collect();
    assert_eq!(
        per_host(&aia),
        want,
        "AIA connections per URL host: {aia:?}"
    );
    // The tarpit costs one fetch, bounded by the fetch deadline (10 s).
    let tarpit = aia
        .iter()
        .find(|r| r.local.ip() == IpAddr::V4(AiaHost::Tarpit.addr()))
        .unwrap();
    let held = tarpit.closed_at.expect("closed") - tarpit.opened_at;
    assert!(
        held >= Duration::from_secs(9) && held < Duration::from_secs(20),
        "the tarpit fetch was held {held:?}, want about the 10 s deadline"
    );
}

#[test]
fn no_aia_or_a_known_intermediate_means_no_fetch_for_the_testbed_chains() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let mut h = Harness::start(16, Profile::Stress);
    let domains = aia_list(&h);

    // Root only, --no-aia: nothing completes the AIA leaves, nothing is fetched.
    h.anchor = h.root_ca.clone();
    let (survey, aia) = scan(&h, &domains, "no-aia", &["--no-aia"]);
    let no_aia = ScanTrust {
        intermediate_known: false,
        aia: false,
    };
    let truth = check_truth(&h, &survey, &domains, no_aia);
    let by_class = verdicts_by_class(&survey, &truth);
    assert_eq!(
        by_class["aia_incomplete_chain"],
        one("untrusted_issuer", false)
    );
    assert!(aia.is_empty(), "--no-aia made AIA connections: {aia:?}");

    // The bundle (today's flags): the pool completes every chain the intermediate signed
    // first; only the loop, which no pool completes, is followed (once per URL).
    h.anchor = h.ca.clone();
    let (survey, aia) = scan(&h, &domains, "bundle", &[]);
    let truth = check_truth(&h, &survey, &domains, ScanTrust::default());
    let by_class = verdicts_by_class(&survey, &truth);
    for c in [
        "aia_incomplete_chain",
        "aia_tarpit",
        "cert_incomplete_chain",
    ] {
        assert_eq!(by_class[c], one("incomplete_chain", true), "{c}");
    }
    assert_eq!(by_class["aia_loop"], one("untrusted_issuer", false));
    let want: BTreeMap<&str, usize> =
        [(AiaHost::LoopA.name(), 1), (AiaHost::LoopB.name(), 1)].into();
    assert_eq!(
        per_host(&aia),
        want,
        "with the intermediate known, only the loop's URLs are fetched: {aia:?}"
    );
}
