//! The DNS server over real sockets (127.0.0.1, ephemeral port): every DNS scenario answers
//! what the ground truth says. Runs inside `unshare --net` (loopback only).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use hickory_proto::op::{Edns, Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};
use mxscan_testbed::dns::{DnsHandle, start_dns};
use mxscan_testbed::names::synthetic_domains;
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::{DnsScenario, StsScenario, TlsRptScenario};
use mxscan_testbed::world::World;
use mxscan_testkit::tools::tool_available;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};
use tokio::task::JoinHandle;

const SEED: u64 = 31;

fn world() -> Arc<World> {
    Arc::new(mxscan_testkit::bed::world(SEED, Profile::Stress))
}

async fn server(w: &Arc<World>) -> DnsHandle {
    start_dns(Arc::clone(w), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn query_bytes(name: &str, rtype: RecordType, edns: Option<u16>) -> (u16, Vec<u8>) {
    let mut msg = Message::new(0x4242, MessageType::Query, OpCode::Query);
    msg.metadata.recursion_desired = true;
    msg.add_query(Query::query(
        Name::from_ascii(format!("{name}.")).unwrap(),
        rtype,
    ));
    if let Some(p) = edns {
        let mut e = Edns::new();
        e.set_max_payload(p);
        msg.set_edns(e);
    }
    (0x4242, msg.to_vec().unwrap())
}

/// One UDP query; `None` if no reply within 2 s.
async fn udp(
    addr: SocketAddr,
    name: &str,
    rtype: RecordType,
    edns: Option<u16>,
) -> Option<Message> {
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let (id, bytes) = query_bytes(name, rtype, edns);
    sock.send_to(&bytes, addr).await.unwrap();
    let mut buf = vec![0u8; 65535];
    let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut buf))
        .await
        .ok()?
        .ok()?;
    let msg = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(msg.metadata.id, id);
    Some(msg)
}

/// One TCP query; `None` if no reply within 2 s.
async fn tcp(addr: SocketAddr, name: &str, rtype: RecordType) -> Option<Message> {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let (_, bytes) = query_bytes(name, rtype, None);
    s.write_all(&(bytes.len() as u16).to_be_bytes())
        .await
        .unwrap();
    s.write_all(&bytes).await.unwrap();
    let read = async {
        let mut len = [0u8; 2];
        s.read_exact(&mut len).await.unwrap();
        let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
        s.read_exact(&mut buf).await.unwrap();
        Message::from_vec(&buf).unwrap()
    };
    tokio::time::timeout(Duration::from_secs(2), read)
        .await
        .ok()
}

fn find(pred: impl Fn(&str) -> bool) -> String {
    synthetic_domains(SEED, 20_000, Profile::Stress)
        .map(|(_, d)| d)
        .find(|d| pred(d))
        .expect("a domain of that scenario")
}

fn with_dns(w: &World, dns: DnsScenario) -> String {
    find(|d| w.scenario(d).dns == dns)
}

fn mx_of(msg: &Message) -> Vec<(u16, String)> {
    msg.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::MX(mx) => Some((
                mx.preference,
                mx.exchange.to_ascii().trim_end_matches('.').to_owned(),
            )),
            _ => None,
        })
        .collect()
}

fn addrs_of(msg: &Message) -> Vec<String> {
    msg.answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::A(a) => Some(a.0.to_string()),
            _ => None,
        })
        .collect()
}

fn has_soa(msg: &Message) -> bool {
    msg.authorities
        .iter()
        .any(|r| matches!(r.data, RData::SOA(_)))
}

#[tokio::test]
async fn negative_and_failure_answers() {
    let w = world();
    let h = server(&w).await;
    let a = h.local_addr();

    let d = with_dns(&w, DnsScenario::Nxdomain);
    let m = udp(a, &d, RecordType::MX, None).await.unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert!(m.metadata.authoritative && m.answers.is_empty() && has_soa(&m));
    assert_eq!(w.expected(&d).dns_status, "nxdomain");

    let d = with_dns(&w, DnsScenario::Servfail);
    let m = udp(a, &d, RecordType::MX, None).await.unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::ServFail);
    assert_eq!(w.expected(&d).dns_status, "servfail");

    let d = with_dns(&w, DnsScenario::Timeout);
    assert!(
        udp(a, &d, RecordType::MX, None).await.is_none(),
        "timeout: no UDP reply"
    );
    assert!(
        tcp(a, &d, RecordType::MX).await.is_none(),
        "timeout: no TCP reply"
    );
    assert_eq!(w.expected(&d).dns_status, "timeout");

    let d = with_dns(&w, DnsScenario::NoMailHost);
    for rt in [RecordType::MX, RecordType::A, RecordType::AAAA] {
        let m = udp(a, &d, rt, None).await.unwrap();
        assert_eq!(m.metadata.response_code, ResponseCode::NoError, "{rt}");
        assert!(
            m.answers.is_empty() && has_soa(&m),
            "NODATA with SOA for {rt}"
        );
    }
    assert_eq!(w.expected(&d).dns_status, "no_mail_host");

    assert!(h.queries() >= 5);
    assert!(h.stats().unanswered() >= 2);
}

#[tokio::test]
async fn mx_shapes() {
    let w = world();
    let h = server(&w).await;
    let a = h.local_addr();

    // Null MX (RFC 7505).
    let d = with_dns(&w, DnsScenario::NullMx);
    let m = udp(a, &d, RecordType::MX, Some(1232)).await.unwrap();
    assert_eq!(mx_of(&m), vec![(0, String::new())]);
    assert!(m.edns.is_some(), "EDNS answered with OPT");
    assert!(w.expected(&d).null_mx);

    // Implicit MX: no MX, an A.
    let d = with_dns(&w, DnsScenario::ImplicitMx);
    let m = udp(a, &d, RecordType::MX, None).await.unwrap();
    assert!(mx_of(&m).is_empty() && has_soa(&m));
    let m = udp(a, &d, RecordType::A, None).await.unwrap();
    let t = w.expected(&d);
    assert!(t.implicit_mx);
    assert_eq!(addrs_of(&m), vec![t.mx[0].address.clone()]);

    // CNAME on the MX target: the answer carries the chain.
    let d = with_dns(&w, DnsScenario::MxCname);
    let m = udp(a, &format!("mx1.{d}"), RecordType::A, None)
        .await
        .unwrap();
    assert!(matches!(&m.answers[0].data, RData::CNAME(c) if c.0.to_ascii() == format!("in1.{d}.")));
    let t = w.expected(&d);
    assert_eq!(
        addrs_of(&m),
        vec![
            t.mx.iter()
                .find(|r| r.exchange == format!("mx1.{d}"))
                .unwrap()
                .address
                .clone()
        ]
    );

    // MX whose exchange does not exist.
    let d = with_dns(&w, DnsScenario::MxUnresolved);
    let m = udp(a, &format!("mx1.{d}"), RecordType::A, None)
        .await
        .unwrap();
    assert_eq!(m.metadata.response_code, ResponseCode::NXDomain);
    assert_eq!(w.expected(&d).mx_unresolved, vec![format!("mx1.{d}")]);

    // MX → private address.
    let d = with_dns(&w, DnsScenario::MxPrivate);
    let m = udp(a, &format!("mx1.{d}"), RecordType::A, None)
        .await
        .unwrap();
    let addr: std::net::Ipv4Addr = addrs_of(&m)[0].parse().unwrap();
    assert!(addr.is_private());

    // Several MX with preferences.
    let d = with_dns(&w, DnsScenario::MxMultiPref);
    let m = udp(a, &d, RecordType::MX, None).await.unwrap();
    let prefs: Vec<u16> = mx_of(&m).iter().map(|(p, _)| *p).collect();
    assert_eq!(prefs.len(), 3);
    let mut sorted = prefs.clone();
    sorted.sort();
    sorted.dedup();
    assert_eq!(sorted, vec![10, 20, 30]);
}

#[tokio::test]
async fn huge_txt_is_truncated_over_udp_and_complete_over_tcp() {
    let w = world();
    let h = server(&w).await;
    let a = h.local_addr();
    let d = find(|d| w.scenario(d).sts == StsScenario::TxtHuge);
    let name = format!("_mta-sts.{d}");
    for edns in [None, Some(1232), Some(4096)] {
        let m = udp(a, &name, RecordType::TXT, edns).await.unwrap();
        assert!(m.metadata.truncation, "TC with edns {edns:?}");
        assert!(m.answers.is_empty());
    }
    let m = tcp(a, &name, RecordType::TXT).await.unwrap();
    assert!(!m.metadata.truncation);
    assert_eq!(m.answers.len(), mxscan_testbed::sts::STRAY_RECORDS + 1);
    let sts: Vec<String> = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::TXT(t) => Some(
                t.txt_data
                    .iter()
                    .map(|s| String::from_utf8_lossy(s).into_owned())
                    .collect::<String>(),
            ),
            _ => None,
        })
        .filter(|s| s.starts_with("v=STSv1"))
        .collect();
    assert_eq!(sts.len(), 1);
    let t = w.expected(&d);
    assert_eq!(t.sts_record, "valid");
    assert!(sts[0].contains(t.sts_id.as_deref().unwrap()));
    assert!(h.stats().truncated() >= 3);
}

/// The server and the truth agree for a sample of domains of every scenario: MX set in
/// preference order and the addresses of every exchange; TXT record presence.
#[tokio::test]
async fn answers_agree_with_truth_for_a_sample() {
    let w = world();
    let h = server(&w).await;
    let a = h.local_addr();
    for (_, d) in synthetic_domains(SEED, 400, Profile::Stress) {
        let t = w.expected(&d);
        if t.dns_status == "timeout" {
            continue;
        }
        let m = udp(a, &d, RecordType::MX, None).await.expect("reply");
        let mut mx = mx_of(&m);
        mx.sort();
        let hosts: Vec<String> = if t.implicit_mx || t.null_mx {
            Vec::new()
        } else {
            mx.iter().map(|(_, e)| e.clone()).collect()
        };
        if !t.implicit_mx {
            assert_eq!(hosts, t.mx_hosts, "{d}");
        }
        for ex in &t.mx_hosts {
            let m = udp(a, ex, RecordType::A, None).await.expect("reply");
            let want: Vec<String> =
                t.mx.iter()
                    .filter(|r| &r.exchange == ex)
                    .map(|r| r.address.clone())
                    .collect();
            assert_eq!(addrs_of(&m), want, "{ex}");
        }
        let m = udp(a, &format!("_smtp._tls.{d}"), RecordType::TXT, None)
            .await
            .expect("reply");
        match t.tlsrpt_record.as_str() {
            "none" => assert_eq!(m.metadata.response_code, ResponseCode::NXDomain),
            "dns_error" => assert_eq!(m.metadata.response_code, ResponseCode::ServFail),
            _ => assert!(!m.answers.is_empty()),
        }
    }
}

#[tokio::test]
async fn malformed_queries_and_shutdown() {
    let w = world();
    let h = server(&w).await;
    let a = h.local_addr();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let mut junk = vec![0x12, 0x34];
    junk.extend_from_slice(&[0xff; 20]);
    sock.send_to(&junk, a).await.unwrap();
    let mut buf = [0u8; 512];
    let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut buf))
        .await
        .unwrap()
        .unwrap();
    let m = Message::from_vec(&buf[..n]).unwrap();
    assert_eq!(m.metadata.id, 0x1234);
    assert_eq!(m.metadata.response_code, ResponseCode::FormErr);

    h.shutdown();
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(
        udp(a, "example.com", RecordType::MX, None).await.is_none(),
        "stopped"
    );
}

/// `dig` (if installed) talks to the server: MX, NXDOMAIN, and the TC → TCP retry.
#[tokio::test]
async fn dig_works_if_installed() {
    if !tool_available("dig") {
        return;
    }
    let w = world();
    let h = server(&w).await;
    let dig = |args: &[&str]| run_dig(h.local_addr(), "+time=2", args);
    let d = with_dns(&w, DnsScenario::MxDedicated);
    let out = dig(&[&d, "MX"]).await.unwrap();
    assert!(
        out.contains("status: NOERROR") && out.contains(" aa "),
        "{out}"
    );
    assert!(out.contains(&format!("mx1.{d}.")), "{out}");
    let d = with_dns(&w, DnsScenario::Nxdomain);
    let out = dig(&[&d, "MX"]).await.unwrap();
    assert!(
        out.contains("status: NXDOMAIN") && out.contains("SOA"),
        "{out}"
    );
    let d = find(|d| w.scenario(d).sts == StsScenario::TxtHuge);
    let out = dig(&[&format!("_mta-sts.{d}"), "TXT"]).await.unwrap();
    assert!(out.contains("ANSWER: 41"), "{out}");
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
}

/// `dig @ADDR -p PORT +tries=1 TIME ARGS…` on a blocking thread: its stdout.
fn run_dig(server: SocketAddr, time: &'static str, args: &[&str]) -> JoinHandle<String> {
    let port = server.port().to_string();
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    tokio::task::spawn_blocking(move || {
        let out = std::process::Command::new("dig")
            .args([&format!("@{}", server.ip()), "-p", &port, "+tries=1", time])
            .args(args)
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    })
}

/// One `dig` answer: rcode (`None`: no reply), answer records as (type, data).
#[derive(Debug)]
struct Dig {
    status: Option<String>,
    answers: Vec<(String, String)>,
}

impl Dig {
    fn of(&self, rtype: &str) -> Vec<&str> {
        self.answers
            .iter()
            .filter(|(t, _)| t == rtype)
            .map(|(_, d)| d.as_str())
            .collect()
    }
}

/// Parses `dig +noall +comments +answer` output.
fn parse_dig(out: &str) -> Dig {
    let status = out
        .split_once("status: ")
        .map(|(_, rest)| rest.split(',').next().unwrap_or("").trim().to_owned());
    let answers = out
        .lines()
        .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
        .filter_map(|l| {
            // name TTL class type data…
            let mut f = l.split_whitespace();
            let (_, _, _, t) = (f.next()?, f.next()?, f.next()?, f.next()?);
            Some((t.to_owned(), f.collect::<Vec<_>>().join(" ")))
        })
        .collect();
    Dig { status, answers }
}

/// The character-strings of one TXT record as dig prints them (`"a" "b"`), concatenated.
fn txt_data(data: &str) -> String {
    let mut out = String::new();
    let mut chars = data.chars();
    let mut quoted = false;
    while let Some(c) = chars.next() {
        match c {
            '"' => quoted = !quoted,
            '\\' if quoted => out.extend(chars.next()),
            c if quoted => out.push(c),
            _ => {}
        }
    }
    out
}

/// Every DNS scenario, and every `_mta-sts` / `_smtp._tls` record scenario, observed by
/// `dig` (a client that is not mxscan's resolver) and mapped to the truth's columns:
/// NXDOMAIN ↔ `nxdomain`, SERVFAIL ↔ `servfail`, no reply ↔ `timeout`, NODATA for MX and A
/// ↔ `no_mail_host`, `MX 0 .` ↔ `null_mx`, no MX but an A ↔ `implicit_mx` (that address);
/// otherwise the MX set in preference order equals `mx_hosts`, each exchange's A answer
/// (CNAMEs followed by dig) equals its mx rows' addresses, and an exchange without an
/// address is in `mx_unresolved`. TXT answers (dig retries the truncated one over TCP) are
/// parsed with `mxscan_policy` and give `sts_record` / `tlsrpt_record` (no reply or
/// SERVFAIL ↔ `dns_error`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn dig_observes_every_scenario_as_the_truth_says() {
    if !tool_available("dig") {
        return;
    }
    let w = world();
    let h = server(&w).await;
    let addr = h.local_addr();
    let dig = |name: String, rtype: &'static str| async move {
        let args = ["+noall", "+comments", "+answer", &name, rtype];
        parse_dig(&run_dig(addr, "+time=1", &args).await.unwrap())
    };
    let domains: Vec<String> = synthetic_domains(SEED, 20_000, Profile::Stress)
        .map(|(_, d)| d)
        .filter(|d| !w.is_shadowed(d))
        .collect();
    let pick = |pred: &dyn Fn(&str) -> bool| -> String {
        domains
            .iter()
            .find(|d| pred(d))
            .expect("a domain of that scenario")
            .clone()
    };

    for dns in DnsScenario::ALL {
        let d = pick(&|d| w.scenario(d).dns == *dns);
        let t = w.expected(&d);
        let mx = dig(d.clone(), "MX").await;
        let mut got_hosts = Vec::new();
        let mut got_rows = Vec::new();
        let mut unresolved = Vec::new();
        let (mut null_mx, mut implicit) = (false, false);
        let status = match mx.status.as_deref() {
            None => "timeout",
            Some("NXDOMAIN") => "nxdomain",
            Some("SERVFAIL") => "servfail",
            Some("NOERROR") => {
                let mut prefs: Vec<(u16, String)> = mx
                    .of("MX")
                    .iter()
                    .map(|data| {
                        let (p, ex) = data.split_once(' ').unwrap();
                        (p.parse().unwrap(), ex.trim_end_matches('.').to_owned())
                    })
                    .collect();
                prefs.sort();
                if prefs == [(0, String::new())] {
                    null_mx = true;
                    prefs.clear();
                }
                if prefs.is_empty() && !null_mx {
                    let a = dig(d.clone(), "A").await;
                    let addrs = a.of("A");
                    if !addrs.is_empty() {
                        assert_eq!(addrs.len(), 1, "{d}: {a:?}");
                        implicit = true;
                        prefs.push((0, d.clone()));
                    }
                }
                for (_, ex) in &prefs {
                    got_hosts.push(ex.clone());
                    let a = dig(ex.clone(), "A").await;
                    let addrs = a.of("A");
                    if addrs.is_empty() {
                        unresolved.push(ex.clone());
                    }
                    for addr in addrs {
                        got_rows.push((ex.clone(), addr.to_owned()));
                    }
                }
                if prefs.is_empty() && !null_mx {
                    "no_mail_host"
                } else {
                    "ok"
                }
            }
            Some(other) => panic!("{d}: unexpected rcode {other}"),
        };
        let want_rows: Vec<(String, String)> =
            t.mx.iter()
                .map(|r| (r.exchange.clone(), r.address.clone()))
                .collect();
        let ctx = format!("{dns} ({d}): dig {mx:?}");
        assert_eq!(status, t.dns_status, "{ctx}");
        assert_eq!(null_mx, t.null_mx, "{ctx}");
        assert_eq!(implicit, t.implicit_mx, "{ctx}");
        assert_eq!(got_hosts, t.mx_hosts, "{ctx}");
        assert_eq!(unresolved, t.mx_unresolved, "{ctx}");
        assert_eq!(got_rows, want_rows, "{ctx}");
        if *dns == DnsScenario::MxCname {
            let a = dig(format!("mx1.{d}"), "A").await;
            assert_eq!(a.of("CNAME"), vec![format!("in1.{d}.")], "{ctx}");
        }
    }

    // `_mta-sts` and `_smtp._tls` records, one domain per scenario.
    let record_status =
        |d: &Dig, records: &dyn Fn(&[String]) -> &'static str| match d.status.as_deref() {
            None | Some("SERVFAIL") => "dns_error",
            Some("NXDOMAIN") => "none",
            Some("NOERROR") => {
                let txt: Vec<String> = d.of("TXT").iter().map(|t| txt_data(t)).collect();
                records(&txt)
            }
            Some(other) => panic!("unexpected rcode {other}"),
        };
    for sts in StsScenario::ALL {
        let d = pick(&|d| w.scenario(d).sts == *sts);
        let t = w.expected(&d);
        let got = dig(format!("_mta-sts.{d}"), "TXT").await;
        let status = record_status(&got, &|txt| {
            mxscan_policy::parse_sts_txt(txt).status.as_str()
        });
        assert_eq!(status, t.sts_record, "{sts} ({d}): {got:?}");
    }
    for tlsrpt in TlsRptScenario::ALL {
        let d = pick(&|d| w.scenario(d).tlsrpt == *tlsrpt);
        let t = w.expected(&d);
        let got = dig(format!("_smtp._tls.{d}"), "TXT").await;
        let status = record_status(&got, &|txt| {
            mxscan_policy::parse_tlsrpt_txt(txt).status.as_str()
        });
        assert_eq!(status, t.tlsrpt_record, "{tlsrpt} ({d}): {got:?}");
    }
}
