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
use mxscan_testbed::scenario::{DnsScenario, StsScenario};
use mxscan_testbed::world::{World, WorldConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

const SEED: u64 = 31;

fn world() -> Arc<World> {
    Arc::new(World::new(WorldConfig {
        seed: SEED,
        profile: Profile::Stress,
        ..WorldConfig::default()
    }))
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
        match t.tlsrpt_record {
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
    if std::process::Command::new("dig")
        .arg("-v")
        .output()
        .is_err()
    {
        eprintln!("dig not installed; skipping");
        return;
    }
    let w = world();
    let h = server(&w).await;
    let port = h.local_addr().port().to_string();
    let dig = |args: Vec<String>| {
        let port = port.clone();
        tokio::task::spawn_blocking(move || {
            let out = std::process::Command::new("dig")
                .args(["@127.0.0.1", "-p", &port, "+tries=1", "+time=2"])
                .args(args)
                .output()
                .unwrap();
            String::from_utf8_lossy(&out.stdout).into_owned()
        })
    };
    let d = with_dns(&w, DnsScenario::MxDedicated);
    let out = dig(vec![d.clone(), "MX".into()]).await.unwrap();
    assert!(
        out.contains("status: NOERROR") && out.contains(" aa "),
        "{out}"
    );
    assert!(out.contains(&format!("mx1.{d}.")), "{out}");
    let d = with_dns(&w, DnsScenario::Nxdomain);
    let out = dig(vec![d, "MX".into()]).await.unwrap();
    assert!(
        out.contains("status: NXDOMAIN") && out.contains("SOA"),
        "{out}"
    );
    let d = find(|d| w.scenario(d).sts == StsScenario::TxtHuge);
    let out = dig(vec![format!("_mta-sts.{d}"), "TXT".into()])
        .await
        .unwrap();
    assert!(out.contains("ANSWER: 41"), "{out}");
    assert!(out.contains("Truncated, retrying in TCP mode"), "{out}");
}
