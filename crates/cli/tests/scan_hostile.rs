//! Issue 4, part 4: hostile servers cost one bounded probe each, and the survey completes.
//!
//! Two halves, both driving the real binary:
//!
//! * **The world's hostile scenarios** (stress profile): tarpit, EHLO reply over 1 MiB, TLS
//!   garbage after STARTTLS, bytes injected after the STARTTLS 220, connection resets; and
//!   on the policy side slowloris headers, a 301 redirect (never followed: RFC 8461 §3.3),
//!   an oversized policy body and a resetting policy host. Their rows must match the ground
//!   truth, each hostile address must see exactly one connection, and no domain may take
//!   longer than its deadlines allow.
//! * **Servers the world does not have**, written here: an endless multi-line banner, an
//!   endless banner line without CRLF, a banner that drips one line a second forever, a
//!   1 GiB EHLO reply and 1 GiB of garbage after the STARTTLS 220. The scan is pointed at
//!   them with `--smtp-port` (the testbed's DNS still names the MX hosts; every probe then
//!   reaches this server, which picks its behaviour by the address dialled). Asserted: the
//!   expected status, one connection per address, the server could push only a few MiB
//!   before the scanner hung up (not 1 GiB), bounded elapsed time, and the scanner's peak
//!   RSS (VmHWM of the child, sampled from /proc while it runs) stays far below 1 GiB.

mod common;

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr};
use std::process::Stdio;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Harness, Scan, compare, flags_with, mxscan, only_survey, serial, write_domains};
use mxscan_testbed::connlog::ServerKind;
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::{DnsScenario, SmtpClass, StsScenario};
use mxscan_testkit::hostile::{pour, serve_tcp};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

/// The hostile SMTP behaviours of the hand-written server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Hostile {
    /// `220-…` continuation lines as fast as the client reads, forever.
    EndlessBanner,
    /// `220 ` followed by one endless line without CRLF.
    EndlessLine,
    /// One `220-` line per second, forever.
    DripBanner,
    /// A normal greeting, then a 1 GiB EHLO reply.
    HugeEhlo,
    /// STARTTLS offered and accepted, then 1 GiB of bytes that are not TLS.
    GarbageAfterStarttls,
}

impl Hostile {
    const ALL: [Hostile; 5] = [
        Hostile::EndlessBanner,
        Hostile::EndlessLine,
        Hostile::DripBanner,
        Hostile::HugeEhlo,
        Hostile::GarbageAfterStarttls,
    ];

    /// The probe status the scanner must record.
    fn want(self) -> &'static str {
        match self {
            Hostile::EndlessBanner | Hostile::EndlessLine | Hostile::HugeEhlo => "protocol_error",
            Hostile::DripBanner => "greeting_timeout",
            Hostile::GarbageAfterStarttls => "tls_failed",
        }
    }
}

const GIB: u64 = 1 << 30;

/// Per address: connections accepted and bytes the server managed to write.
type Stats = Arc<Mutex<HashMap<IpAddr, (usize, u64)>>>;

async fn serve_one(s: TcpStream, what: Hostile, stats: Stats) {
    let local = s.local_addr().unwrap().ip();
    let sent = AtomicU64::new(0);
    let mut s = BufReader::new(s);
    let mut line = String::new();
    let deadline = Duration::from_secs(120); // server-side cap: never outlive the test
    let _ = tokio::time::timeout(deadline, async {
        match what {
            Hostile::EndlessBanner => {
                let chunk =
                    "220-hostile.test endless banner line, keep reading please\r\n".repeat(64);
                pour(s.get_mut(), chunk.as_bytes(), GIB, &sent).await;
            }
            Hostile::EndlessLine => {
                let _ = s.get_mut().write_all(b"220 ").await;
                pour(s.get_mut(), &[b'A'; 8192], GIB, &sent).await;
            }
            Hostile::DripBanner => loop {
                if s.get_mut()
                    .write_all(b"220-still greeting\r\n")
                    .await
                    .is_err()
                {
                    break;
                }
                sent.fetch_add(20, Ordering::Relaxed);
                tokio::time::sleep(Duration::from_secs(1)).await;
            },
            Hostile::HugeEhlo => {
                let _ = s.get_mut().write_all(b"220 hostile.test ESMTP\r\n").await;
                let _ = s.read_line(&mut line).await;
                let chunk = format!("250-X-PAD-{}\r\n", "P".repeat(1000)).repeat(8);
                pour(s.get_mut(), chunk.as_bytes(), GIB, &sent).await;
            }
            Hostile::GarbageAfterStarttls => {
                let _ = s.get_mut().write_all(b"220 hostile.test ESMTP\r\n").await;
                let _ = s.read_line(&mut line).await;
                let _ = s
                    .get_mut()
                    .write_all(b"250-hostile.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
                    .await;
                line.clear();
                let _ = s.read_line(&mut line).await;
                let _ = s.get_mut().write_all(b"220 2.0.0 go ahead\r\n").await;
                pour(s.get_mut(), &[b'g'; 8192], GIB, &sent).await;
            }
        }
    })
    .await;
    let mut st = stats.lock().unwrap();
    st.entry(local).or_default().1 += sent.load(Ordering::Relaxed);
}

/// The hand-written hostile server on 0.0.0.0:PORT; its behaviour is chosen by the address
/// the client dialled.
async fn hostile_server(plan: HashMap<IpAddr, Hostile>, stats: Stats) -> u16 {
    serve_tcp("0.0.0.0:0", move |s| {
        let local = s.local_addr().unwrap().ip();
        stats.lock().unwrap().entry(local).or_default().0 += 1;
        // Unknown addresses (none expected) get the harmless drip.
        let what = plan.get(&local).copied().unwrap_or(Hostile::DripBanner);
        serve_one(s, what, Arc::clone(&stats))
    })
    .await
}

/// Peak resident set (VmHWM, KiB) of a running process, if readable.
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))?
        .split_whitespace()
        .nth(1)?
        .parse()
        .ok()
}

#[test]
fn hand_written_hostile_smtp_servers_cost_one_bounded_probe_each() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(81, Profile::Realistic);
    let w = h.testbed.world();
    // Domains with exactly one MX on a dedicated loopback address, no MTA-STS: one probe each.
    let mut picked: Vec<(String, IpAddr)> = Vec::new();
    for d in h.domains(2_000) {
        let t = w.expected(&d);
        if t.scenario.dns == "mx_dedicated"
            && t.scenario.sts == "none"
            && t.mx.len() == 1
            && !t.mx[0].blocked
        {
            picked.push((d, t.mx[0].address.parse().unwrap()));
        }
        if picked.len() == Hostile::ALL.len() {
            break;
        }
    }
    assert_eq!(picked.len(), Hostile::ALL.len());
    let plan: HashMap<IpAddr, Hostile> = picked
        .iter()
        .zip(Hostile::ALL)
        .map(|((_, a), k)| (*a, k))
        .collect();
    let stats: Stats = Arc::default();
    let port =
        h.rt.block_on(hostile_server(plan.clone(), Arc::clone(&stats)));

    let domains: Vec<String> = picked.iter().map(|(d, _)| d.clone()).collect();
    let list = write_domains(&h, "list.csv", &domains);
    let out = h.dir.path().join("surveys");
    let mut flags = h.scan_flags();
    let i = flags.iter().position(|f| f == "--smtp-port").unwrap();
    flags[i + 1] = port.to_string();
    let t0 = Instant::now();
    let mut child = mxscan()
        .arg("scan")
        .args(flags)
        .args(Harness::fast_flags())
        .arg("--out")
        .arg(&out)
        .arg(&list)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut peak_kib = 0;
    let status = loop {
        if let Some(v) = vm_hwm_kib(pid) {
            peak_kib = peak_kib.max(v);
        }
        if let Some(st) = child.try_wait().unwrap() {
            break st;
        }
        assert!(
            t0.elapsed() < Duration::from_secs(90),
            "scan did not finish"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let elapsed = t0.elapsed();
    let stderr = {
        use std::io::Read;
        let mut s = String::new();
        child.stderr.take().unwrap().read_to_string(&mut s).unwrap();
        s
    };
    assert!(status.success(), "scan failed: {status:?}\n{stderr}");
    eprintln!(
        "hostile scan: {:.1} s, peak RSS {} MiB",
        elapsed.as_secs_f64(),
        peak_kib / 1024
    );
    // Deadlines: greeting 5 s, command 10 s, TLS 10 s, probe 30 s; all run concurrently.
    assert!(elapsed < Duration::from_secs(35), "bounded: {elapsed:?}");
    assert!(peak_kib > 0, "VmHWM sampled");
    assert!(
        peak_kib < 200 * 1024,
        "peak RSS {} MiB: a 1 GiB reply must not be buffered",
        peak_kib / 1024
    );

    std::thread::sleep(Duration::from_millis(300)); // let the server tasks record their bytes
    let survey = only_survey(&out);
    let probes = mxscan_store::reader::read_probes(&survey).unwrap();
    let mx = mxscan_store::reader::read_mx(&survey).unwrap();
    let st = stats.lock().unwrap().clone();
    for (addr, what) in &plan {
        let a = addr.to_string();
        let p: Vec<_> = probes.iter().filter(|p| p.address == a).collect();
        assert_eq!(p.len(), 1, "{what:?}: one probe row");
        assert_eq!(p[0].status, what.want(), "{what:?}: probe status");
        let row = mx.iter().find(|m| m.address == a).unwrap();
        assert_eq!(row.smtp_status, what.want(), "{what:?}: mx row");
        let total_ms = p[0].total_ms.unwrap_or(u32::MAX);
        assert!(total_ms <= 31_000, "{what:?}: probe took {total_ms} ms");
        let (conns, bytes) = st.get(addr).copied().unwrap_or_default();
        assert_eq!(conns, 1, "{what:?}: one connection");
        eprintln!(
            "{what:?}: {} ms, server wrote {} KiB",
            total_ms,
            bytes / 1024
        );
        assert!(
            bytes < 32 << 20,
            "{what:?}: the scanner hung up early ({bytes} bytes sent)"
        );
    }
    let domains = mxscan_store::reader::read_domains(&survey).unwrap();
    assert_eq!(domains.len(), plan.len(), "the survey completed");
}

#[test]
fn the_worlds_hostile_scenarios_cost_one_bounded_probe_each() {
    mxscan_testkit::require_sandbox!();
    let _serial = serial();
    let h = Harness::start(82, Profile::Stress);
    let w = h.testbed.world();
    let hostile_smtp = [
        SmtpClass::Tarpit,
        SmtpClass::EhloOversized,
        SmtpClass::TlsGarbage,
        SmtpClass::StarttlsInjection,
        SmtpClass::Reset,
        SmtpClass::EhloDrop,
    ];
    let hostile_sts = [
        StsScenario::Slowloris,
        StsScenario::Redirect301,
        StsScenario::TooLarge,
        StsScenario::Refused,
    ];
    let mut domains = Vec::new();
    let mut smtp_seen: HashMap<&str, usize> = HashMap::new();
    let mut sts_seen: HashMap<&str, usize> = HashMap::new();
    for d in h.domains(6_000) {
        let t = w.expected(&d);
        let sc = w.scenario(&d);
        let smtp_hit =
            t.mx.iter()
                .any(|m| hostile_smtp.iter().any(|c| m.scenario == Some(c.as_str())));
        let sts_hit = hostile_sts.contains(&sc.sts) && sc.dns != DnsScenario::Nxdomain;
        if !(smtp_hit || sts_hit) {
            continue;
        }
        for m in &t.mx {
            if let Some(s) = m.scenario {
                *smtp_seen.entry(s).or_default() += 1;
            }
        }
        if sts_hit {
            *sts_seen.entry(sc.sts.as_str()).or_default() += 1;
        }
        domains.push(d);
        if domains.len() >= 150 {
            break;
        }
    }
    for c in hostile_smtp {
        assert!(
            smtp_seen.get(c.as_str()).copied().unwrap_or(0) >= 3,
            "{c} covered"
        );
    }
    for s in hostile_sts {
        assert!(
            sts_seen.get(s.as_str()).copied().unwrap_or(0) >= 3,
            "{s} covered"
        );
    }
    let list = write_domains(&h, "list.csv", &domains);
    let out = h.dir.path().join("surveys");
    // Fetch deadline 8 s: the slowloris header drip (1 byte/s) must end in `timeout`.
    let flags = flags_with(&[("--fetch-timeout", "8"), ("--dns-rate", "20000")]);
    let t0 = Instant::now();
    h.scan(&list, &out, &flags);
    let elapsed = t0.elapsed();
    eprintln!(
        "{} hostile domains in {:.1} s",
        domains.len(),
        elapsed.as_secs_f64()
    );
    assert!(elapsed < Duration::from_secs(40), "bounded: {elapsed:?}");
    let survey = only_survey(&out);
    compare(&survey, &h.truth(&list)).assert_none();

    // One connection per SMTP address, one per policy fetch; every domain within deadlines.
    std::thread::sleep(Duration::from_millis(200));
    let log = h.testbed.conn_log().snapshot();
    let smtp = log.only(ServerKind::Smtp);
    let mut per_addr: HashMap<IpAddr, usize> = HashMap::new();
    for r in &smtp.records {
        *per_addr.entry(r.local.ip()).or_default() += 1;
    }
    // Twice exactly where the probe made its legacy hello (a TLS alert to the modern hello).
    let probes = mxscan_store::reader::read_probes(&survey).unwrap();
    let allowed: HashMap<IpAddr, usize> = probes
        .iter()
        .map(|p| {
            (
                p.address.parse().unwrap(),
                1 + usize::from(p.legacy_ms.is_some()),
            )
        })
        .collect();
    let many: Vec<_> = per_addr
        .iter()
        .filter(|&(a, &n)| Some(&n) != allowed.get(a))
        .collect();
    assert!(
        many.is_empty(),
        "SMTP addresses dialled other than once (twice with a legacy hello): {many:?}"
    );
    let https = log.only(ServerKind::Https);
    let mut per_host: HashMap<Ipv4Addr, usize> = HashMap::new();
    for d in &domains {
        let sc = w.scenario(d);
        if hostile_sts.contains(&sc.sts) {
            *per_host.entry(w.policy_host_addr(d, sc.sts)).or_default() += 1;
        }
    }
    for (a, want) in per_host {
        let got = https.connections_to(IpAddr::V4(a));
        assert_eq!(got, want, "{a}: one connection per policy fetch");
    }
    let rows = mxscan_store::reader::read_domains(&survey).unwrap();
    let slowest = rows.iter().map(|r| r.elapsed_ms).max().unwrap();
    // probe deadline 30 s bounds SMTP; fetch 8 s; DNS 2 × 2 s.
    assert!(slowest <= 31_000, "slowest domain {slowest} ms");
}
