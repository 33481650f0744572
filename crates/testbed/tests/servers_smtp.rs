//! The SMTP server against raw tokio clients: every script, reply and TLS behaviour of the
//! behaviour contract, on loopback only.

use std::io::ErrorKind;
use std::time::{Duration, Instant};

use mxscan_testbed::behaviour::{
    CertDefect, CertNames, CertSpec, EhloReply, SmtpHost, SmtpScript, StarttlsReply, TlsBehaviour,
};
use mxscan_testbed::smtp_server::HANDSHAKE_FAILURE_ALERT;
use mxscan_testbed::table::BehaviourTable;
use mxscan_testkit::bed::*;
use mxscan_testkit::client::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

#[tokio::test]
async fn reset_is_econnreset_without_a_byte() {
    let a = ip(10, 0, 1);
    let bed = smtp_bed(BehaviourTable::new().smtp_script(a, SmtpScript::Reset)).await;
    let mut tcp = connect(bed.addr(a)).await;
    let mut buf = [0u8; 64];
    let r = read_once(&mut tcp, &mut buf).await;
    assert_eq!(r.map_err(|e| e.kind()), Err(ErrorKind::ConnectionReset));
    // Unknown addresses are no-service hosts too.
    let mut tcp = connect(bed.addr(ip(10, 0, 99))).await;
    let r = read_once(&mut tcp, &mut buf).await;
    assert_eq!(r.map_err(|e| e.kind()), Err(ErrorKind::ConnectionReset));
}

#[tokio::test]
async fn tarpit_sends_nothing() {
    let a = ip(10, 0, 2);
    let bed = smtp_bed(BehaviourTable::new().smtp_script(a, SmtpScript::Tarpit)).await;
    let mut tcp = connect(bed.addr(a)).await;
    tcp.write_all(b"EHLO x\r\n").await.unwrap();
    let mut buf = [0u8; 64];
    let r = tokio::time::timeout(Duration::from_secs(1), tcp.read(&mut buf)).await;
    assert!(r.is_err(), "tarpit answered: {r:?}");
    assert_eq!(bed.server.active(), 1);
}

#[tokio::test]
async fn greeting_421_and_554() {
    let (a, b) = (ip(10, 0, 3), ip(10, 0, 4));
    let table = BehaviourTable::new()
        .smtp_script(a, SmtpScript::Greeting421)
        .smtp_script(b, SmtpScript::Greeting554);
    let bed = smtp_bed(table).await;

    let mut tcp = connect(bed.addr(a)).await;
    let reply = read_reply(&mut tcp).await.unwrap();
    assert_eq!(
        reply,
        format!("421 {a} Service not available, closing transmission channel\r\n")
    );
    let (rest, end) = read_all(&mut tcp, 1024).await;
    assert!(rest.is_empty() && end.is_ok(), "clean close after 421");

    let mut tcp = connect(bed.addr(b)).await;
    let reply = read_reply(&mut tcp).await.unwrap();
    assert_eq!(reply, format!("554 {b} No SMTP service here\r\n"));
    assert!(
        command(&mut tcp, "EHLO scanner.test")
            .await
            .starts_with("503 5.5.1")
    );
    assert!(command(&mut tcp, "STARTTLS").await.starts_with("503 5.5.1"));
    assert!(command(&mut tcp, "QUIT").await.starts_with("221"));
}

#[tokio::test]
async fn conversation_replies() {
    let (single, multi) = (ip(10, 1, 1), ip(10, 1, 2));
    let mut conv = plain("mx.single.test");
    let table = BehaviourTable::new().smtp_script(single, SmtpScript::Conversation(conv.clone()));
    conv.hostname = "mx.multi.test".into();
    conv.multiline_greeting = true;
    let bed = smtp_bed(table.smtp_script(multi, SmtpScript::Conversation(conv))).await;

    let mut tcp = connect(bed.addr(single)).await;
    assert_eq!(
        read_reply(&mut tcp).await.unwrap(),
        "220 mx.single.test ESMTP mxscan testbed\r\n"
    );
    let ehlo = command(&mut tcp, "EHLO scanner.test").await;
    assert!(
        ehlo.starts_with("250-mx.single.test greets scanner.test\r\n"),
        "{ehlo}"
    );
    assert!(ehlo.contains("\r\n250-STARTTLS\r\n"), "{ehlo}");
    assert!(ehlo.ends_with("\r\n250 8BITMIME\r\n"), "{ehlo}");
    // (command, expected reply prefix)
    let cases = [
        ("HELO scanner.test", "250 mx.single.test"),
        ("NOOP", "250 2.0.0"),
        ("RSET", "250 2.0.0"),
        ("MAIL FROM:<a@b.test>", "502 5.5.1"),
        ("RCPT TO:<a@b.test>", "502 5.5.1"),
        ("DATA", "502 5.5.1"),
        ("VRFY postmaster", "502 5.5.2"),
        ("XYZZY", "502 5.5.2"),
        ("QUIT", "221 2.0.0 mx.single.test"),
    ];
    for (cmd, want) in cases {
        let got = command(&mut tcp, cmd).await;
        assert!(got.starts_with(want), "{cmd}: {got}");
    }

    let mut tcp = connect(bed.addr(multi)).await;
    let greeting = read_reply(&mut tcp).await.unwrap();
    let lines: Vec<&str> = greeting.lines().collect();
    assert_eq!(lines.len(), 3, "{greeting}");
    assert!(lines[0].starts_with("220-mx.multi.test") && lines[2].starts_with("220 mx.multi.test"));
}

#[tokio::test]
async fn ehlo_rejected_and_dropped() {
    let (rej, drop_) = (ip(10, 2, 1), ip(10, 2, 2));
    let mut conv = plain("mx.rej.test");
    conv.ehlo = EhloReply::Rejected;
    let mut table = BehaviourTable::new().smtp_script(rej, SmtpScript::Conversation(conv.clone()));
    conv.ehlo = EhloReply::Drop;
    table = table.smtp_script(drop_, SmtpScript::Conversation(conv));
    let bed = smtp_bed(table).await;

    let mut tcp = connect(bed.addr(rej)).await;
    read_reply(&mut tcp).await.unwrap();
    assert!(
        command(&mut tcp, "EHLO scanner.test")
            .await
            .starts_with("550 5.7.1")
    );
    assert!(
        command(&mut tcp, "HELO scanner.test")
            .await
            .starts_with("550 5.7.1")
    );
    assert!(command(&mut tcp, "STARTTLS").await.starts_with("503 5.5.1"));
    assert!(command(&mut tcp, "QUIT").await.starts_with("221"));

    let mut tcp = connect(bed.addr(drop_)).await;
    read_reply(&mut tcp).await.unwrap();
    send(&mut tcp, "EHLO scanner.test").await;
    let (rest, end) = read_all(&mut tcp, 1024).await;
    assert!(rest.is_empty(), "dropped without a reply: {rest:?}");
    assert!(end.is_ok(), "clean close: {end:?}");
}

#[tokio::test]
async fn oversized_ehlo_is_streamed_and_complete() {
    let a = ip(10, 3, 1);
    let pad = 1 << 20;
    let mut conv = plain("mx.big.test");
    conv.ehlo = EhloReply::Ok {
        starttls: true,
        padding_bytes: pad,
    };
    let bed = conversation_bed(a, conv).await;

    // A client that reads it all.
    let mut tcp = connect(bed.addr(a)).await;
    read_reply(&mut tcp).await.unwrap();
    send(&mut tcp, "EHLO scanner.test").await;
    let mut all = Vec::new();
    while !all.ends_with(b"250 8BITMIME\r\n") {
        let mut buf = vec![0u8; 65536];
        let n = read_once(&mut tcp, &mut buf).await.unwrap();
        assert!(n > 0);
        all.extend_from_slice(&buf[..n]);
    }
    let pad_bytes: usize = all
        .split_inclusive(|&b| b == b'\n')
        .filter(|l| l.starts_with(b"250-X-PAD-"))
        .map(<[u8]>::len)
        .sum();
    assert_eq!(pad_bytes, pad);
    assert!(
        all.split_inclusive(|&b| b == b'\n')
            .all(|l| l.starts_with(b"250"))
    );
    assert!(command(&mut tcp, "QUIT").await.starts_with("221"));

    // A client that stops at 64 KiB and leaves: the server just ends that connection.
    let mut tcp = connect(bed.addr(a)).await;
    read_reply(&mut tcp).await.unwrap();
    send(&mut tcp, "EHLO scanner.test").await;
    let (got, _) = read_all(&mut tcp, 64 * 1024).await;
    assert!(got.len() >= 64 * 1024);
    drop(tcp);
    assert_idle(&bed, "server let go of the client that left").await;
}

#[tokio::test]
async fn starttls_refusals() {
    let (u454, n502) = (ip(10, 4, 1), ip(10, 4, 2));
    let mut conv = plain("mx.r.test");
    conv.starttls = StarttlsReply::Unavailable454;
    let mut table = BehaviourTable::new().smtp_script(u454, SmtpScript::Conversation(conv.clone()));
    conv.starttls = StarttlsReply::NotImplemented502;
    conv.ehlo = EhloReply::Ok {
        starttls: false,
        padding_bytes: 0,
    };
    table = table.smtp_script(n502, SmtpScript::Conversation(conv));
    let bed = smtp_bed(table).await;

    let cases = [(u454, "454 4.7.0", true), (n502, "502 5.5.1", false)];
    for (addr, want, advertised) in cases {
        let mut tcp = connect(bed.addr(addr)).await;
        read_reply(&mut tcp).await.unwrap();
        let ehlo = command(&mut tcp, "EHLO scanner.test").await;
        assert_eq!(ehlo.contains("250-STARTTLS"), advertised, "{ehlo}");
        let got = command(&mut tcp, "STARTTLS").await;
        assert!(got.starts_with(want), "{got}");
        // The conversation goes on.
        assert!(command(&mut tcp, "NOOP").await.starts_with("250"));
        assert!(command(&mut tcp, "QUIT").await.starts_with("221"));
    }
}

#[tokio::test]
async fn injected_bytes_arrive_with_the_220() {
    let a = ip(10, 5, 1);
    let mut conv = plain("mx.inj.test");
    conv.inject_after_starttls = Some(b"250 injected\r\n".to_vec());
    let bed = conversation_bed(a, conv).await;
    let mut tcp = connect(bed.addr(a)).await;
    read_reply(&mut tcp).await.unwrap();
    command(&mut tcp, "EHLO scanner.test").await;
    send(&mut tcp, "STARTTLS").await;
    let mut buf = [0u8; 1024];
    let n = read_once(&mut tcp, &mut buf).await.unwrap();
    assert_eq!(
        &buf[..n],
        b"220 2.0.0 Ready to start TLS\r\n250 injected\r\n"
    );
    // The handshake still follows.
    let tls = tls_handshake(&default_connector(&bed.ca), tcp, "mx.inj.test").await;
    assert!(tls.is_ok(), "{:?}", tls.err());
}

#[tokio::test]
async fn tls_handshake_both_versions_then_ehlo_and_quit() {
    let a = ip(10, 6, 1);
    let conv = plain("mx.tls.test");
    let bed = conversation_bed(a, conv).await;
    let versions = [
        (&rustls::version::TLS12, rustls::ProtocolVersion::TLSv1_2),
        (&rustls::version::TLS13, rustls::ProtocolVersion::TLSv1_3),
    ];
    for (version, want) in versions {
        let tcp = to_starttls(bed.addr(a)).await;
        let mut tls = tls_handshake(&connector(&bed.ca, &[version]), tcp, "mx.tls.test")
            .await
            .unwrap();
        assert_eq!(tls.get_ref().1.protocol_version(), Some(want));
        assert_eq!(
            tls.get_ref().1.peer_certificates().map(<[_]>::len),
            Some(2),
            "leaf + intermediate"
        );
        let ehlo = command(&mut tls, "EHLO scanner.test").await;
        assert!(
            ehlo.starts_with("250-mx.tls.test") && !ehlo.contains("STARTTLS"),
            "{ehlo}"
        );
        assert!(command(&mut tls, "STARTTLS").await.starts_with("503"));
        assert!(command(&mut tls, "QUIT").await.starts_with("221"));
    }
}

#[tokio::test]
async fn certificate_defects_fail_verification_for_the_right_reason() {
    let name = "mx.cert.test";
    let cases: [(u8, CertSpec, Option<CertCheck>); 8] = [
        (1, fixed(&[name], CertDefect::None), None),
        (
            2,
            CertSpec {
                names: CertNames::Sni {
                    fallback: "x.test".into(),
                },
                defect: CertDefect::None,
            },
            None,
        ),
        (3, fixed(&[name], CertDefect::Expired), Some(is_expired)),
        (
            4,
            fixed(&[name], CertDefect::NotYetValid),
            Some(is_not_yet_valid),
        ),
        (
            5,
            fixed(&[name], CertDefect::SelfSigned),
            Some(is_unknown_issuer),
        ),
        (
            6,
            fixed(&[name], CertDefect::UnknownIssuer),
            Some(is_unknown_issuer),
        ),
        (
            7,
            fixed(&[name], CertDefect::IncompleteChain),
            Some(is_unknown_issuer),
        ),
        (
            8,
            fixed(&["other.test"], CertDefect::None),
            Some(is_wrong_name),
        ),
    ];
    let mut table = BehaviourTable::new();
    for (last, spec, _) in &cases {
        table = table.smtp_script(
            ip(10, 7, *last),
            SmtpScript::Conversation(conversation(name, spec.clone())),
        );
    }
    let bed = smtp_bed(table).await;
    let connector = default_connector(&bed.ca);
    for (last, spec, check) in cases {
        let tcp = to_starttls(bed.addr(ip(10, 7, last))).await;
        assert_handshake(tls_handshake(&connector, tcp, name).await, check, &spec);
    }
}

/// One plain host `name` at `a`, doing `tls` after STARTTLS.
async fn tls_bed(a: std::net::Ipv4Addr, name: &str, tls: TlsBehaviour) -> Bed {
    let mut conv = plain(name);
    conv.tls = tls;
    conversation_bed(a, conv).await
}

#[tokio::test]
async fn garbage_breaks_the_handshake() {
    let a = ip(10, 8, 1);
    let bed = tls_bed(a, "mx.g.test", TlsBehaviour::Garbage).await;
    let f = tls_failure(&bed.ca, to_starttls(bed.addr(a)).await, "mx.g.test").await;
    assert!(
        matches!(f, TlsFailure::Tls(rustls::Error::InvalidMessage(_))),
        "{f:?}"
    );
}

#[tokio::test]
async fn alert_is_the_exact_handshake_failure_record() {
    let a = ip(10, 8, 2);
    let bed = tls_bed(a, "mx.a.test", TlsBehaviour::Alert).await;

    // rustls sees a handshake_failure alert.
    let f = tls_failure(&bed.ca, to_starttls(bed.addr(a)).await, "mx.a.test").await;
    assert!(
        matches!(
            f,
            TlsFailure::Tls(rustls::Error::AlertReceived(
                rustls::AlertDescription::HandshakeFailure
            ))
        ),
        "{f:?}"
    );

    // On the wire: a ClientHello in, exactly the alert record out.
    let mut tcp = to_starttls(bed.addr(a)).await;
    let config = rustls::ClientConfig::builder_with_provider(bed.ca.provider())
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(bed.ca.root_store())
        .with_no_client_auth();
    let name = rustls::pki_types::ServerName::try_from("mx.a.test").unwrap();
    let mut client = rustls::ClientConnection::new(std::sync::Arc::new(config), name).unwrap();
    let mut hello = Vec::new();
    client.write_tls(&mut hello).unwrap();
    tcp.write_all(&hello).await.unwrap();
    let (got, _) = read_all(&mut tcp, 1024).await;
    assert_eq!(got, HANDSHAKE_FAILURE_ALERT);
}

#[tokio::test]
async fn rtt_and_greet_delay_are_waited() {
    let a = ip(10, 9, 1);
    let host = SmtpHost {
        rtt: Duration::from_millis(100),
        greet_delay: Duration::from_millis(300),
        script: SmtpScript::Conversation(plain("mx.slow.test")),
    };
    let bed = smtp_bed(BehaviourTable::new().smtp(a, host)).await;
    let t = Instant::now();
    let mut tcp = connect(bed.addr(a)).await;
    read_reply(&mut tcp).await.unwrap();
    let greet = t.elapsed();
    assert!(greet >= Duration::from_millis(400), "{greet:?}");
    let t = Instant::now();
    command(&mut tcp, "EHLO scanner.test").await;
    let ehlo = t.elapsed();
    assert!(
        ehlo >= Duration::from_millis(100) && ehlo < Duration::from_millis(400),
        "{ehlo:?}"
    );
    let t = Instant::now();
    assert!(command(&mut tcp, "STARTTLS").await.starts_with("220"));
    let tls = tls_handshake(&default_connector(&bed.ca), tcp, "mx.slow.test").await;
    assert!(tls.is_ok());
    let starttls = t.elapsed();
    assert!(
        starttls >= Duration::from_millis(200),
        "STARTTLS reply + handshake flight: {starttls:?}"
    );
}

#[tokio::test]
async fn overlong_line_is_refused() {
    let a = ip(10, 9, 2);
    let conv = plain("mx.l.test");
    let bed = conversation_bed(a, conv).await;
    let mut tcp = connect(bed.addr(a)).await;
    read_reply(&mut tcp).await.unwrap();
    tcp.write_all(&vec![b'A'; 5000]).await.unwrap();
    assert!(read_reply(&mut tcp).await.unwrap().starts_with("500 5.5.2"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_concurrent_connections() {
    let a = ip(10, 10, 1);
    let conv = plain("mx.many.test");
    let bed = conversation_bed(a, conv).await;
    let n = 2000;
    let mut open = Vec::with_capacity(n);
    for _ in 0..n {
        open.push(connect(bed.addr(a)).await);
    }
    // All held at once, every one greeted.
    let tasks: Vec<_> = open
        .into_iter()
        .map(|mut tcp| {
            tokio::spawn(async move {
                let g = read_reply(&mut tcp).await.unwrap();
                assert!(g.starts_with("220"));
                tcp
            })
        })
        .collect();
    let mut held = Vec::with_capacity(n);
    for t in tasks {
        held.push(t.await.unwrap());
    }
    assert_eq!(bed.server.accepted(), n as u64);
    assert_eq!(
        bed.log.max_concurrent_per_address()[&std::net::IpAddr::V4(a)],
        n
    );
    drop(held);
}

#[tokio::test]
async fn shutdown_stops_accepting_and_ends_connections() {
    let a = ip(10, 11, 1);
    let bed = smtp_bed(BehaviourTable::new().smtp_script(a, SmtpScript::Tarpit)).await;
    let addr = bed.addr(a);
    let mut tcp = connect(addr).await;
    wait_until(Duration::from_millis(10), || bed.server.accepted() >= 1).await;
    let Bed { server, .. } = bed;
    server.shutdown();
    let (_, end) = read_all(&mut tcp, 16).await;
    assert!(
        !matches!(end, Err(ref e) if e.kind() == ErrorKind::TimedOut),
        "connection ended"
    );
    tokio::time::sleep(Duration::from_millis(50)).await;
    let r = tokio::net::TcpStream::connect(addr).await;
    assert_eq!(
        r.err().map(|e| e.kind()),
        Some(ErrorKind::ConnectionRefused)
    );
}
