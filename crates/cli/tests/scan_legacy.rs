//! Issue 15: the legacy hello costs exactly one more connection, and only where the truth
//! expects one — proved on the testbed's connection log.
//!
//! A `stress` world and a list that holds every SMTP host class (the legacy TLS hosts, the
//! `tls_alert` host whose alert a legacy hello draws again, `tls_garbage`, `accept_close`,
//! …). After the scan, for every address the truth lists:
//!
//! * blocked (private) addresses: no connection;
//! * addresses whose truth expects a legacy hello (`tls10_only`, `tls11_only`,
//!   `static_rsa_only`, `cbc_only`, `tls_alert`): exactly 2 SMTP connections;
//! * every other probed address: exactly 1;
//! * and the SMTP server saw no connection to any address outside the list's truth.
//!
//! The same list with `--no-legacy-hello`: exactly 1 connection everywhere, and the hosts
//! that would have had a legacy hello stay `tls_failed` with their modern failure and no
//! `legacy_ms`. The first run also compares the whole survey with the truth (the probe's
//! TLS columns included, `mxscan_testkit::survey::compare`).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::net::IpAddr;
use std::time::Duration;

use common::{Harness, Scan, compare, only_survey, serial, write_domains};
use mxscan_testbed::connlog::{ConnSnapshot, ServerKind};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::SmtpClass;
use mxscan_testbed::truth::{DomainTruth, truth_for_list};

/// A list of this world's names whose mx rows cover every SMTP class.
fn every_class_list(h: &Harness) -> Vec<String> {
    let pool = h.domains(6_000);
    let mut domains: Vec<String> = pool[..300].to_vec();
    let world = h.testbed.world();
    let mut seen: BTreeSet<&str> = BTreeSet::new();
    for d in &domains {
        for row in world.expected(d).mx {
            seen.extend(row.scenario);
        }
    }
    for d in &pool[300..] {
        if seen.len() == SmtpClass::ALL.len() {
            break;
        }
        let classes: Vec<&str> = world
            .expected(d)
            .mx
            .iter()
            .filter_map(|r| r.scenario)
            .collect();
        if classes.iter().any(|c| !seen.contains(c)) {
            seen.extend(classes);
            domains.push(d.clone());
        }
    }
    let missing: Vec<&str> = SmtpClass::ALL
        .iter()
        .map(|c| c.as_str())
        .filter(|c| !seen.contains(c))
        .collect();
    assert!(missing.is_empty(), "the pool lacks classes {missing:?}");
    domains
}

/// What the truth says about each address: (blocked, legacy hello expected, class).
fn addresses(truth: &[DomainTruth]) -> BTreeMap<IpAddr, (bool, bool, Option<&'static str>)> {
    let mut out = BTreeMap::new();
    for t in truth {
        for row in &t.mx {
            let a: IpAddr = row.address.parse().unwrap();
            let v = (row.blocked, row.legacy_hello, row.scenario);
            let prev = out.insert(a, v);
            assert!(prev.is_none_or(|p| p == v), "{a}: {prev:?} vs {v:?}");
        }
    }
    out
}

/// The SMTP connections of the scan, once every server task has seen its client leave.
fn smtp_log(h: &Harness) -> ConnSnapshot {
    let t0 = std::time::Instant::now();
    while h.testbed.conn_log().open_now() > 0 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = h.testbed.conn_log().snapshot();
    assert_eq!(log.dropped, 0);
    log.only(ServerKind::Smtp)
}

/// Scan the every-class list; `legacy`: the default (legacy hello on) or
/// `--no-legacy-hello`. Returns the harness, the truth and the survey directory.
fn scan(legacy: bool) -> (Harness, Vec<DomainTruth>, std::path::PathBuf) {
    let h = Harness::start(15, Profile::Stress);
    let domains = every_class_list(&h);
    let list = write_domains(&h, "list.csv", &domains);
    let truth: Vec<DomainTruth> = truth_for_list(h.testbed.world(), &domains).collect();
    let out = h.dir.path().join("surveys");
    let mut flags = Harness::fast_flags();
    if !legacy {
        flags.push("--no-legacy-hello".into());
    }
    h.scan(&list, &out, &flags);
    let survey = only_survey(&out);
    (h, truth, survey)
}

/// Every address got the number of SMTP connections `want` gives (from its truth).
fn check_counts(
    log: &ConnSnapshot,
    truth: &[DomainTruth],
    want: impl Fn(bool, bool) -> usize,
) -> BTreeMap<usize, usize> {
    let addrs = addresses(truth);
    let mut wrong = Vec::new();
    let mut histogram: BTreeMap<usize, usize> = BTreeMap::new();
    for (a, (blocked, legacy, class)) in &addrs {
        let (w, g) = (want(*blocked, *legacy), log.connections_to(*a));
        *histogram.entry(w).or_default() += 1;
        if w != g {
            wrong.push(format!("{a} [{class:?}]: want {w} connections, got {g}"));
        }
    }
    let stray: BTreeSet<IpAddr> = log
        .records
        .iter()
        .map(|r| r.local.ip())
        .filter(|a| !addrs.contains_key(a))
        .collect();
    assert!(
        wrong.is_empty() && stray.is_empty(),
        "{} addresses with the wrong connection count:\n  {}\nconnections to addresses \
         outside the truth: {stray:?}",
        wrong.len(),
        wrong.join("\n  ")
    );
    let total: usize = addrs
        .values()
        .map(|(blocked, legacy, _)| want(*blocked, *legacy))
        .sum();
    assert_eq!(log.records.len(), total);
    histogram
}

#[test]
fn legacy_hello_is_exactly_one_more_connection_where_the_truth_expects_it() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let (h, truth, survey) = scan(true);
    let log = smtp_log(&h);
    let histogram = check_counts(&log, &truth, |blocked, legacy| match (blocked, legacy) {
        (true, _) => 0,
        (false, true) => 2,
        (false, false) => 1,
    });
    eprintln!("addresses by expected SMTP connections: {histogram:?}");
    assert!(
        histogram.get(&2).copied().unwrap_or(0) >= 5,
        "{histogram:?}"
    );
    assert!(
        histogram.get(&0).copied().unwrap_or(0) >= 1,
        "{histogram:?}"
    );
    let diff = compare(&survey, &truth);
    assert_eq!(diff.domains_compared, truth.len());
    diff.assert_none();
}

#[test]
fn no_legacy_hello_means_one_connection_everywhere_and_tls_failed() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let (h, truth, survey) = scan(false);
    let log = smtp_log(&h);
    check_counts(&log, &truth, |blocked, _| usize::from(!blocked));

    let probes = mxscan_store::reader::read_probes(&survey).unwrap();
    let by_addr: BTreeMap<&str, _> = probes.iter().map(|p| (p.address.as_str(), p)).collect();
    let mut checked = 0;
    let mut wrong = Vec::new();
    for row in truth.iter().flat_map(|t| &t.mx) {
        if !row.legacy_hello {
            continue;
        }
        let p = by_addr[row.address.as_str()];
        let want_failure = row.modern_tls_failure.or(row.tls_failure);
        let got = (p.status, p.tls_failure, p.legacy_ms, p.modern_tls_failure);
        if got
            != (
                mxscan_model::ProbeStatus::TlsFailed,
                want_failure,
                None,
                None,
            )
        {
            wrong.push(format!(
                "{} [{:?}]: want tls_failed/{want_failure:?}, no legacy_ms; got {got:?}",
                row.address, row.scenario
            ));
        }
        checked += 1;
    }
    assert!(checked >= 5, "only {checked} legacy-hello rows");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
