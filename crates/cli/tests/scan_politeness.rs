//! Issue 4, part 2: politeness, judged on the testbed's connection log (every connection its
//! SMTP and HTTPS servers accepted, with open and close times).
//!
//! One scan of a `stress` world with `--per-ip-interval 0.3 --per-prefix-interval 0.05`, on
//! a list built so that the rules have something to bite on: besides 800 ordinary names it
//! holds groups of three domains whose `mta-sts.<domain>` hosts share one address (several
//! policy fetches to one address), and the world's big providers and hosters put dozens of
//! (domain, exchange) rows on one SMTP address. Asserted:
//!
//! * at most one open connection per address at any time (SMTP and HTTPS together);
//! * successive connections to one address start ≥ 0.3 s apart, into one /24 ≥ 0.05 s apart;
//! * every SMTP address was connected to exactly once, whatever the number of mx rows that
//!   point there — twice when its probe row says it made the legacy hello (`legacy_ms`: one
//!   more connection after a failed modern handshake, through the same gate, so the
//!   intervals hold for it too) — and the probes table has exactly one row per probed
//!   address;
//! * the survey still agrees with the ground truth (politeness changes timing, not results).
//!
//! The interval checks live in their own test (they once found the gate counting intervals
//! from a limiter check instead of the connection start).
//!
//! Clock slack: the gate releases a connection, then the scanner's connect and the server's
//! accept each take a scheduling delay before the log stamps the time; two such delays can
//! differ, so an interval may look shorter than the gate's by a few milliseconds. Intervals
//! are therefore required to be ≥ the configured value minus [`SLACK`] (20 ms: on this
//! 2-core machine, with the debug-built testbed sharing the cores with the scanner, accept
//! stamps were seen up to ~13 ms late), and the concurrency count ignores overlaps shorter
//! than 10 ms (a server sees a client's close only when its task next runs:
//! `connlog::DEFAULT_CLOSE_SLACK`). The gate's own spacing of connection starts, measured in
//! the scanner's process, is tested to within 3 ms in `engine::politeness`.

mod common;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use common::{Harness, Scan, compare, flags_with, only_survey, serial, write_domains};
use mxscan_testbed::connlog::ServerKind;
use mxscan_testbed::profile::Profile;

/// Scheduling slack allowed on measured intervals (module docs).
const SLACK: Duration = Duration::from_millis(20);
const PER_IP: Duration = Duration::from_millis(300);
const PER_PREFIX: Duration = Duration::from_millis(50);

/// Groups of `size` domains of the pool whose policy hosts share one address and whose
/// record the scanner will find valid (so each of them makes a policy fetch).
fn shared_policy_hosts(
    h: &Harness,
    pool: &[String],
    groups: usize,
    size: usize,
) -> Vec<Vec<String>> {
    let world = h.testbed.world();
    let mut by_addr: BTreeMap<Ipv4Addr, Vec<String>> = BTreeMap::new();
    for d in pool {
        let sc = world.scenario(d);
        if sc.sts.publishes_record() {
            by_addr
                .entry(world.policy_host_addr(d, sc.sts))
                .or_default()
                .push(d.clone());
        }
    }
    let mut out = Vec::new();
    for (_, names) in by_addr {
        let fetching: Vec<String> = names
            .into_iter()
            .filter(|d| {
                let t = world.expected(d);
                t.sts_record == "valid" && t.sts_fetch_error.is_none_or(|e| e != "dns")
            })
            .take(size)
            .collect();
        if fetching.len() == size {
            out.push(fetching);
            if out.len() == groups {
                break;
            }
        }
    }
    out
}

#[test]
fn one_connection_per_address_and_shared_mx_probed_once() {
    mxscan_testkit::require_sandbox!();
    politeness_run(false);
}

/// Intervals per address and per /24, measured on the testbed's connection log.
#[test]
fn intervals_per_address_and_per_prefix_are_kept() {
    mxscan_testkit::require_sandbox!();
    politeness_run(true);
}

/// The scan and every check; the interval checks only with `check_intervals`.
fn politeness_run(check_intervals: bool) {
    let _serial = serial();
    let h = Harness::start(31, Profile::Stress);
    let pool = h.domains(20_000);
    let groups = shared_policy_hosts(&h, &pool, 12, 3);
    assert_eq!(groups.len(), 12, "the pool has enough shared policy hosts");
    let mut domains: Vec<String> = pool[..800].to_vec();
    let mut seen: HashSet<String> = domains.iter().cloned().collect();
    for d in groups.iter().flatten() {
        if seen.insert(d.clone()) {
            domains.push(d.clone());
        }
    }
    let list = write_domains(&h, "list.csv", &domains);
    let out = h.dir.path().join("surveys");
    let flags = flags_with(&[
        ("--per-ip-interval", "0.3"),
        ("--per-prefix-interval", "0.05"),
        // A global rate as in real scans (the default is 100/s): every limit of the gate is
        // then in play at once, and a wait for one limit must not void another.
        ("--rate", "200"),
        ("--dns-rate", "20000"),
        ("--fetch-timeout", "10"),
    ]);
    h.scan(&list, &out, &flags);
    let survey = only_survey(&out);
    // The scanner has exited; every server task notices its client's close on its next
    // read or write.
    let t0 = std::time::Instant::now();
    while h.testbed.conn_log().open_now() > 0 && t0.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
    }
    let log = h.testbed.conn_log().snapshot();
    assert_eq!(log.dropped, 0);
    let open: Vec<_> = log
        .records
        .iter()
        .filter(|r| r.closed_at.is_none())
        .collect();
    assert!(
        open.is_empty(),
        "still open 5 s after the scanner exited: {open:?}"
    );

    // Every check runs and reports; the test fails at the end with all that failed.
    let mut failed: Vec<String> = Vec::new();
    let show = |a: &IpAddr| {
        let world = h.testbed.world();
        let mut lines = String::new();
        for r in log.records.iter().filter(|r| r.local.ip() == *a) {
            let (o, c) = (
                r.opened_at.as_secs_f64(),
                r.closed_at.map(|c| c.as_secs_f64()),
            );
            lines.push_str(&format!(
                "      {} {a} open {o:.4} s close {c:.4?} s\n",
                r.kind.as_str()
            ));
        }
        for d in &domains {
            let sc = world.scenario(d);
            if IpAddr::V4(world.policy_host_addr(d, sc.sts)) == *a {
                lines.push_str(&format!("      policy host of {d} (sts {})\n", sc.sts));
            }
        }
        lines
    };

    // 1. At most one open connection per address (both servers together).
    let conc = log.max_concurrent_per_address();
    let mut worst: Vec<_> = conc.iter().filter(|&(_, &n)| n > 1).collect();
    worst.sort();
    if !worst.is_empty() {
        let mut m = format!("{} addresses with concurrent connections:\n", worst.len());
        for (a, n) in worst.iter().take(5) {
            m.push_str(&format!("    {a}: {n} at once\n{}", show(a)));
        }
        failed.push(m);
    }
    let exact = log.max_concurrent_per_address_with_slack(Duration::ZERO);
    let exact_over = exact.values().filter(|&&n| n > 1).count();
    eprintln!("overlaps within the close slack (exact count): {exact_over} addresses");

    // 2. Intervals per address (SMTP and HTTPS together) and per /24.
    if check_intervals {
        let per_ip = log.min_interval_per_address();
        let mut short: Vec<_> = per_ip
            .iter()
            .filter(|&(_, &d)| d + SLACK < PER_IP)
            .collect();
        short.sort();
        if !short.is_empty() {
            let mut m = format!(
                "{} of {} addresses connected to twice or more saw connections < 0.3 s apart:\n",
                short.len(),
                per_ip.len()
            );
            for (a, d) in short.iter().take(5) {
                m.push_str(&format!("    {a}: {d:?}\n{}", show(a)));
            }
            failed.push(m);
        }
        let https = log.only(ServerKind::Https);
        let repeated_https = https.min_interval_per_address().len();
        eprintln!(
            "{} connections ({} HTTPS), {} addresses connected to more than once ({} HTTPS)",
            log.records.len(),
            https.records.len(),
            per_ip.len(),
            repeated_https
        );
        if repeated_https < 12 {
            failed.push(format!(
                "only {repeated_https} policy hosts saw repeated fetches (want every shared one, 12)"
            ));
        }
        let per_prefix = log.min_interval_per_prefix(24);
        let mut short: Vec<_> = per_prefix
            .iter()
            .filter(|&(_, &d)| d + SLACK < PER_PREFIX)
            .collect();
        short.sort();
        if !short.is_empty() {
            failed.push(format!(
                "{} of {} /24s saw connections < 50 ms apart: {:?}",
                short.len(),
                per_prefix.len(),
                &short[..short.len().min(10)]
            ));
        }
        if per_prefix.len() < 5 {
            failed.push(format!(
                "only {} /24s saw two connections",
                per_prefix.len()
            ));
        }
    }

    // 3. Shared MX addresses: one SMTP connection each, one probe row each.
    let mx = mxscan_store::reader::read_mx(&survey).unwrap();
    let probes = mxscan_store::reader::read_probes(&survey).unwrap();
    let mut rows_per_addr: HashMap<IpAddr, usize> = HashMap::new();
    for m in mx.iter().filter(|m| !m.blocked) {
        *rows_per_addr.entry(m.address.parse().unwrap()).or_default() += 1;
    }
    let mut smtp_conns: HashMap<IpAddr, usize> = HashMap::new();
    for r in log.only(ServerKind::Smtp).records {
        *smtp_conns.entry(r.local.ip()).or_default() += 1;
    }
    let mut probe_rows: HashMap<IpAddr, usize> = HashMap::new();
    for p in &probes {
        *probe_rows.entry(p.address.parse().unwrap()).or_default() += 1;
    }
    let probed: HashSet<_> = rows_per_addr.keys().copied().collect();
    let dialled: HashSet<_> = smtp_conns.keys().copied().collect();
    if dialled != probed {
        failed.push(format!(
            "SMTP addresses dialled but not unblocked mx addresses: {:?}; mx addresses never dialled: {:?}",
            dialled.difference(&probed).collect::<Vec<_>>(),
            probed.difference(&dialled).collect::<Vec<_>>()
        ));
    }
    let with_rows: HashSet<_> = probe_rows.keys().copied().collect();
    if with_rows != probed {
        failed.push(format!(
            "probe rows do not match the unblocked mx addresses: extra {:?}, missing {:?}",
            with_rows.difference(&probed).collect::<Vec<_>>(),
            probed.difference(&with_rows).collect::<Vec<_>>()
        ));
    }
    let allowed: HashMap<IpAddr, usize> = probes
        .iter()
        .map(|p| {
            (
                p.address.parse().unwrap(),
                1 + usize::from(p.legacy_ms.is_some()),
            )
        })
        .collect();
    let legacy = allowed.values().filter(|&&n| n == 2).count();
    eprintln!("{legacy} addresses with a legacy hello (two connections)");
    if legacy == 0 {
        failed.push(
            "no legacy hello in a stress world (its tls_alert and legacy hosts want one)".into(),
        );
    }
    let multi_conn: Vec<_> = smtp_conns
        .iter()
        .filter(|&(a, &n)| Some(&n) != allowed.get(a))
        .collect();
    if !multi_conn.is_empty() {
        failed.push(format!(
            "SMTP addresses connected other than once (twice with a legacy hello): {multi_conn:?}"
        ));
    }
    let multi_row: Vec<_> = probe_rows.iter().filter(|&(_, &n)| n != 1).collect();
    if !multi_row.is_empty() {
        failed.push(format!("addresses with several probe rows: {multi_row:?}"));
    }
    let shared = rows_per_addr.values().filter(|&&n| n >= 2).count();
    let busiest = rows_per_addr.values().copied().max().unwrap_or(0);
    eprintln!(
        "{} mx rows on {} addresses; {shared} addresses carry ≥ 2 rows, the busiest {busiest}",
        rows_per_addr.values().sum::<usize>(),
        rows_per_addr.len()
    );
    if busiest < 10 {
        failed.push(format!(
            "the busiest address carries only {busiest} mx rows"
        ));
    }
    // 4. Results unchanged by politeness.
    let diff = compare(&survey, &h.truth(&list));
    if !diff.columns.is_empty() {
        failed.push(format!(
            "survey disagrees with the truth: {:?}",
            diff.columns
        ));
    }
    assert!(
        failed.is_empty(),
        "politeness violated:\n{}",
        failed.join("\n")
    );
}
