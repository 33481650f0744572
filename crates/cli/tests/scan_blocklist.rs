//! Issue 4, part 3: the blocklist. An MX that resolves to a private address is recorded as
//! blocked and never dialled; `--allow 10.0.0.0/8` really lifts the block for 10/8 (and
//! only 10/8); a `--blocklist FILE` entry blocks a loopback testbed address even though
//! `--allow 127.0.0.0/8` would allow it.
//!
//! "Never dialled" is proved, not assumed: inside the network sandbox the world's private
//! MX addresses are added to `lo`, so the testbed's SMTP listener (bound to 0.0.0.0) would
//! accept a dial to them and its connection log would show the private local address. The
//! test checks that setup by dialling each address itself after the scan (a control
//! connection that must appear in the log), so a silent setup failure cannot make the
//! "zero connections" assertion pass vacuously.

mod common;

use std::collections::{BTreeSet, HashSet};
use std::net::{IpAddr, Ipv4Addr, SocketAddr, TcpStream};
use std::process::Command;
use std::time::Duration;

use common::{Harness, Scan, only_survey, serial, write_domains};
use mxscan_store::rows::MxRow;
use mxscan_testbed::connlog::{ConnRecord, ServerKind};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::DnsScenario;

/// Private addresses added to `lo` for the life of the guard (sandbox only).
struct LoAddrs(Vec<Ipv4Addr>);

impl LoAddrs {
    fn add(addrs: &[Ipv4Addr]) -> LoAddrs {
        // Belt and braces on top of `require_sandbox!()`: only loopback may exist here.
        let links = Command::new("ip")
            .args(["-o", "link", "show"])
            .output()
            .unwrap();
        let links = String::from_utf8_lossy(&links.stdout);
        assert!(
            links.lines().all(|l| l.contains(": lo:")),
            "refusing to add addresses outside a loopback-only namespace:\n{links}"
        );
        for a in addrs {
            let st = Command::new("ip")
                .args(["addr", "replace", &format!("{a}/32"), "dev", "lo"])
                .status()
                .unwrap();
            assert!(st.success(), "ip addr replace {a}/32 dev lo");
        }
        LoAddrs(addrs.to_vec())
    }
}

impl Drop for LoAddrs {
    fn drop(&mut self) {
        for a in &self.0 {
            let _ = Command::new("ip")
                .args(["addr", "del", &format!("{a}/32"), "dev", "lo"])
                .status();
        }
    }
}

/// Up to `want` domains of the world whose MX plan includes a private address, covering
/// 10/8, 172.16/12 and 192.168/16; plus their private addresses.
fn private_mx_domains(h: &Harness, want: usize) -> (Vec<String>, Vec<Ipv4Addr>) {
    let w = h.testbed.world();
    let mut domains = Vec::new();
    let mut addrs = BTreeSet::new();
    for d in h.domains(5_000) {
        if w.scenario(&d).dns != DnsScenario::MxPrivate {
            continue;
        }
        for m in w.expected(&d).mx.iter().filter(|m| m.blocked) {
            addrs.insert(m.address.parse::<Ipv4Addr>().unwrap());
        }
        domains.push(d);
        if domains.len() == want {
            break;
        }
    }
    let firsts: HashSet<u8> = addrs.iter().map(|a| a.octets()[0]).collect();
    assert!(
        firsts.contains(&10) && firsts.contains(&172) && firsts.contains(&192),
        "private MX in every RFC 1918 range: {addrs:?}"
    );
    (domains, addrs.into_iter().collect())
}

fn rows_at<'a>(mx: &'a [MxRow], addr: &str) -> Vec<&'a MxRow> {
    mx.iter().filter(|m| m.address == addr).collect()
}

fn smtp_records(h: &Harness, from: usize) -> Vec<ConnRecord> {
    h.testbed
        .conn_log()
        .snapshot()
        .only(ServerKind::Smtp)
        .records[..]
        .iter()
        .filter(|r| r.id as usize >= from)
        .copied()
        .collect()
}

#[test]
fn private_mx_is_blocked_never_dialled_and_allow_lifts_only_its_range() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(41, Profile::Stress);
    let (mut domains, private) = private_mx_domains(&h, 24);
    domains.extend(h.domains(100));
    domains.sort();
    domains.dedup();
    let list = write_domains(&h, "list.csv", &domains);
    let _lo = LoAddrs::add(&private);
    let port = h.testbed.smtp_port();

    // 1. Default blocklist: every private row blocked, no connection to any of them.
    let out = h.dir.path().join("default");
    let before = h.testbed.conn_log().total() as usize;
    h.scan(&list, &out, &common::quick_flags());
    let survey = only_survey(&out);
    let mx = mxscan_store::reader::read_mx(&survey).unwrap();
    let probes = mxscan_store::reader::read_probes(&survey).unwrap();
    for a in &private {
        let rows = rows_at(&mx, &a.to_string());
        assert!(!rows.is_empty(), "{a} has mx rows");
        for r in rows {
            assert!(r.blocked, "{a}: blocked");
            assert_eq!(r.smtp_status, "blocked", "{a}: smtp_status");
            assert_eq!(r.starttls, None, "{a}: starttls");
        }
        assert!(
            probes
                .iter()
                .all(|p| p.address != a.to_string() || p.status == "blocked"),
            "{a}: no probe result other than blocked"
        );
    }
    std::thread::sleep(Duration::from_millis(100));
    let dialled: Vec<_> = smtp_records(&h, before)
        .into_iter()
        .filter(|r| !r.local.ip().is_loopback())
        .collect();
    assert!(dialled.is_empty(), "private addresses dialled: {dialled:?}");
    let https_private: Vec<_> = h
        .testbed
        .conn_log()
        .snapshot()
        .records
        .into_iter()
        .filter(|r| !r.local.ip().is_loopback())
        .collect();
    assert!(https_private.is_empty(), "{https_private:?}");

    // Control: the setup would have seen a dial (the listener answers on these addresses).
    let before_control = h.testbed.conn_log().total() as usize;
    for a in &private {
        // The testbed resets connections to addresses it does not serve, possibly before
        // `connect` returns: the outcome does not matter, the log entry does.
        let _ = TcpStream::connect_timeout(&SocketAddr::from((*a, port)), Duration::from_secs(2));
    }
    std::thread::sleep(Duration::from_millis(200));
    let seen: HashSet<IpAddr> = smtp_records(&h, before_control)
        .iter()
        .map(|r| r.local.ip())
        .collect();
    for a in &private {
        assert!(seen.contains(&IpAddr::V4(*a)), "control dial to {a} logged");
    }

    // 2. --allow 10.0.0.0/8: the 10/8 rows are probed (once per address), the others stay
    //    blocked and undialled.
    let out = h.dir.path().join("allow10");
    let before = h.testbed.conn_log().total() as usize;
    let mut flags = common::quick_flags();
    flags.extend(["--allow".to_string(), "10.0.0.0/8".to_string()]);
    h.scan(&list, &out, &flags);
    let survey = only_survey(&out);
    let mx = mxscan_store::reader::read_mx(&survey).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let records = smtp_records(&h, before);
    let (mut ten, mut other) = (0, 0);
    for a in &private {
        let rows = rows_at(&mx, &a.to_string());
        let conns = records
            .iter()
            .filter(|r| r.local.ip() == IpAddr::V4(*a))
            .count();
        if a.octets()[0] == 10 {
            ten += 1;
            for r in rows {
                assert!(!r.blocked, "{a}: allowed");
                // Nothing of the world lives on 10/8: the testbed accepts and resets.
                assert_eq!(r.smtp_status, "closed_before_greeting", "{a}: probed");
            }
            assert_eq!(conns, 1, "{a}: dialled exactly once");
        } else {
            other += 1;
            for r in rows {
                assert!(r.blocked, "{a}: still blocked");
                assert_eq!(r.smtp_status, "blocked");
            }
            assert_eq!(conns, 0, "{a}: never dialled");
        }
    }
    assert!(
        ten > 0 && other > 0,
        "both kinds checked ({ten} in 10/8, {other} others)"
    );
}

#[test]
fn blocklist_file_blocks_a_loopback_address_that_allow_would_lift() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(42, Profile::Realistic);
    let list = h.write_list("list.csv", 400);
    // The busiest SMTP address of the list (a big provider's host) and one dedicated host.
    let truth = h.truth(&list);
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for t in &truth {
        for m in t.mx.iter().filter(|m| !m.blocked) {
            *count.entry(m.address.clone()).or_default() += 1;
        }
    }
    let busiest = count.iter().max_by_key(|(_, n)| **n).unwrap().0.clone();
    let single = count
        .iter()
        .filter(|(a, n)| **n == 1 && a.starts_with("127.") && !a.starts_with("127.1."))
        .map(|(a, _)| a.clone())
        .min()
        .unwrap();
    assert!(count[&busiest] >= 5, "{busiest} carries several rows");
    let file = h.dir.path().join("blocklist.txt");
    std::fs::write(
        &file,
        format!("# test blocklist\n{busiest}\n{single}/32  # a dedicated host\n"),
    )
    .unwrap();

    let out = h.dir.path().join("surveys");
    let before = h.testbed.conn_log().total() as usize;
    let mut flags = common::quick_flags();
    flags.extend(["--blocklist".to_string(), file.display().to_string()]);
    h.scan(&list, &out, &flags);
    let survey = only_survey(&out);
    let mx = mxscan_store::reader::read_mx(&survey).unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let records = smtp_records(&h, before);
    for a in [&busiest, &single] {
        let rows = rows_at(&mx, a);
        assert_eq!(rows.len(), count[a], "{a}: every row present");
        for r in rows {
            assert!(r.blocked, "{a}: blocked by the file");
            assert_eq!(r.smtp_status, "blocked");
        }
        let ip: IpAddr = a.parse().unwrap();
        assert_eq!(
            records.iter().filter(|r| r.local.ip() == ip).count(),
            0,
            "{a}: never dialled"
        );
    }
    // Everything else on loopback was still probed.
    let probed = mx
        .iter()
        .filter(|m| !m.blocked && m.smtp_status != "blocked")
        .count();
    assert!(probed > 100, "the rest was probed ({probed} rows)");
    assert!(
        mx.iter()
            .filter(|m| m.blocked)
            .all(|m| m.address == busiest || m.address == single || !m.address.starts_with("127.")),
        "only the listed loopback addresses are blocked"
    );
}
