//! The legacy hello (issue 15) against scripted servers that answer a ClientHello the way old
//! mail servers do: a TLS 1.0 ServerHello (rustls refuses it), a handshake_failure alert to
//! modern suites but a static-RSA ServerHello to the classic ones, an alert to everything,
//! garbage. The modern probe must name the failure; the legacy hello must read version, suite
//! and chain from the plaintext first flight however the server cuts it; and it is only
//! wanted after failures it can explain.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use common::dialer;
use mxscan_model::{TlsFailure, TlsVersion};
use mxscan_probe::smtp_probe::{ProbeOptions, probe_legacy_hello, probe_smtp};
use mxscan_probe::tls::client_config;
use mxscan_smtp::{EhloName, ProbeStatus};
use mxscan_testkit::hostile::serve_tcp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn opts() -> ProbeOptions {
    let mut o = ProbeOptions::new(
        EhloName::new("scanner.mxscan.test").unwrap(),
        client_config(&[]).unwrap(),
    );
    o.connect_timeout = Duration::from_secs(2);
    o.greeting_timeout = Duration::from_secs(2);
    o.command_timeout = Duration::from_secs(2);
    o.tls_timeout = Duration::from_secs(2);
    o.quit_timeout = Duration::from_millis(500);
    o.total_timeout = Duration::from_secs(6);
    o
}

fn record(ct: u8, version: u16, body: &[u8]) -> Vec<u8> {
    let mut r = vec![ct];
    r.extend(version.to_be_bytes());
    r.extend(u16::try_from(body.len()).unwrap().to_be_bytes());
    r.extend(body);
    r
}

fn handshake(t: u8, body: &[u8]) -> Vec<u8> {
    let mut m = vec![t];
    m.extend(&u32::try_from(body.len()).unwrap().to_be_bytes()[1..]);
    m.extend(body);
    m
}

/// ServerHello + Certificate + ServerHelloDone in one handshake record.
fn flight(version: u16, suite: u16, chain: &[Vec<u8>]) -> Vec<u8> {
    let mut sh = version.to_be_bytes().to_vec();
    sh.extend([0x42; 32]);
    sh.push(0);
    sh.extend(suite.to_be_bytes());
    sh.push(0);
    let mut list: Vec<u8> = Vec::new();
    for c in chain {
        list.extend(&u32::try_from(c.len()).unwrap().to_be_bytes()[1..]);
        list.extend(c);
    }
    let mut cert = u32::try_from(list.len()).unwrap().to_be_bytes()[1..].to_vec();
    cert.extend(list);
    let mut hs = handshake(2, &sh);
    hs.extend(handshake(11, &cert));
    hs.extend(handshake(14, &[]));
    record(22, version, &hs)
}

const ALERT_HANDSHAKE_FAILURE: [u8; 7] = [21, 3, 3, 0, 2, 2, 40];

/// How the scripted server answers the ClientHello after its STARTTLS 220.
#[derive(Clone, Copy, PartialEq)]
enum Answer {
    /// A TLS 1.0 ServerHello (static RSA AES128-SHA) and the chain, to any hello.
    Tls10,
    /// The same, one byte per write.
    Tls10Drip,
    /// handshake_failure unless the hello offers TLS_RSA_WITH_AES_128_CBC_SHA; then a TLS 1.2
    /// ServerHello selecting it.
    StaticRsa12,
    /// handshake_failure to everything.
    Alert,
    /// Not TLS.
    Garbage,
}

/// Reads one TLS record (the ClientHello) and says whether it offers `suite`.
async fn read_hello_offers(s: &mut TcpStream, suite: u16) -> Option<bool> {
    let mut head = [0u8; 5];
    s.read_exact(&mut head).await.ok()?;
    let len = usize::from(u16::from_be_bytes([head[3], head[4]]));
    let mut body = vec![0u8; len];
    s.read_exact(&mut body).await.ok()?;
    // handshake header 4, client_version 2, random 32, session id.
    let sid = usize::from(*body.get(38)?);
    let at = 39 + sid;
    let n = usize::from(u16::from_be_bytes([*body.get(at)?, *body.get(at + 1)?]));
    let suites = body.get(at + 2..at + 2 + n)?;
    Some(
        suites
            .chunks(2)
            .any(|c| u16::from_be_bytes([c[0], c[1]]) == suite),
    )
}

async fn serve(mut s: TcpStream, answer: Answer, chain: Arc<Vec<Vec<u8>>>) {
    let _ = s.write_all(b"220 legacy.test ESMTP\r\n").await;
    let mut line = Vec::new();
    let mut b = [0u8; 1];
    loop {
        line.clear();
        while !line.ends_with(b"\r\n") {
            if s.read(&mut b).await.unwrap_or(0) == 0 {
                return;
            }
            line.push(b[0]);
        }
        let cmd = String::from_utf8_lossy(&line).to_ascii_uppercase();
        if cmd.starts_with("EHLO") {
            let _ = s
                .write_all(b"250-legacy.test\r\n250-PIPELINING\r\n250 STARTTLS\r\n")
                .await;
        } else if cmd.starts_with("STARTTLS") {
            let _ = s.write_all(b"220 2.0.0 go ahead\r\n").await;
            break;
        } else {
            let _ = s.write_all(b"221 bye\r\n").await;
            return;
        }
    }
    let Some(offers_rsa) = read_hello_offers(&mut s, 0x002f).await else {
        return;
    };
    let reply = match answer {
        Answer::Tls10 | Answer::Tls10Drip => flight(0x0301, 0x002f, &chain),
        Answer::StaticRsa12 if offers_rsa => flight(0x0303, 0x002f, &chain),
        Answer::StaticRsa12 | Answer::Alert => ALERT_HANDSHAKE_FAILURE.to_vec(),
        Answer::Garbage => b"500 what?\r\n".to_vec(),
    };
    if answer == Answer::Tls10Drip {
        for byte in reply {
            if s.write_all(&[byte]).await.is_err() {
                return;
            }
            let _ = s.flush().await;
        }
    } else {
        let _ = s.write_all(&reply).await;
    }
    // Hold the connection until the client leaves (it never completes the handshake).
    let mut sink = [0u8; 512];
    while let Ok(n) = s.read(&mut sink).await {
        if n == 0 {
            break;
        }
    }
}

/// A server answering with `answer`, and its connection counter.
async fn server(answer: Answer) -> (u16, Arc<AtomicU64>, Arc<Vec<Vec<u8>>>) {
    let key = rcgen::KeyPair::generate().unwrap();
    let leaf = rcgen::CertificateParams::new(vec!["legacy.test".to_string()])
        .unwrap()
        .self_signed(&key)
        .unwrap();
    let chain = Arc::new(vec![
        leaf.der().to_vec(),
        vec![0x30, 0x03, 0x02, 0x01, 0x07],
    ]);
    let conns = Arc::new(AtomicU64::new(0));
    let (c, ch) = (conns.clone(), chain.clone());
    let port = serve_tcp("127.0.0.1:0", move |s| {
        c.fetch_add(1, Ordering::SeqCst);
        serve(s, answer, ch.clone())
    })
    .await;
    (port, conns, chain)
}

#[tokio::test]
async fn tls10_only_server_is_tls_legacy_with_its_chain() {
    for answer in [Answer::Tls10, Answer::Tls10Drip] {
        let (port, conns, chain) = server(answer).await;
        let d = dialer(port, 1);
        let addr = "127.0.0.1".parse().unwrap();
        let mut o = probe_smtp(addr, "legacy.test", &opts(), &d).await;
        assert_eq!(o.status, ProbeStatus::TlsFailed, "{o:?}");
        assert_eq!(o.tls_failure, Some(TlsFailure::ProtocolVersion), "{o:?}");
        assert!(o.tls.is_none());
        assert!(o.wants_legacy_hello());

        let legacy = probe_legacy_hello(addr, "legacy.test", &opts(), &d).await;
        assert_eq!(legacy.status, ProbeStatus::TlsFailed, "{legacy:?}");
        o.merge_legacy(legacy);
        assert_eq!(o.status, ProbeStatus::TlsLegacy, "{o:?}");
        assert_eq!(o.tls_max_version, Some(TlsVersion::Tls10));
        assert_eq!(o.tls_failure, Some(TlsFailure::ProtocolVersion));
        let tls = o.tls.as_ref().unwrap();
        assert_eq!(tls.version.as_deref(), Some("TLSv1.0"));
        assert_eq!(
            tls.cipher_suite.as_deref(),
            Some("TLS_RSA_WITH_AES_128_CBC_SHA")
        );
        let got: Vec<Vec<u8>> = tls.chain.iter().map(|c| c.as_ref().to_vec()).collect();
        assert_eq!(&got, chain.as_ref(), "the chain as sent, leaf first");
        assert!(o.legacy.as_ref().unwrap().total_ms < 6000);
        // The SMTP part of the first conversation is kept.
        assert_eq!(o.starttls_offered, Some(true));
        assert_eq!(conns.load(Ordering::SeqCst), 2);
    }
}

#[tokio::test]
async fn static_rsa_only_server_fails_modern_suites_and_answers_classic_ones() {
    let (port, conns, _) = server(Answer::StaticRsa12).await;
    let d = dialer(port, 1);
    let addr = "127.0.0.1".parse().unwrap();
    let mut o = probe_smtp(addr, "legacy.test", &opts(), &d).await;
    assert_eq!(o.status, ProbeStatus::TlsFailed, "{o:?}");
    assert_eq!(o.tls_failure, Some(TlsFailure::NoSharedCipher), "{o:?}");
    assert!(o.wants_legacy_hello());
    o.merge_legacy(probe_legacy_hello(addr, "legacy.test", &opts(), &d).await);
    assert_eq!(o.status, ProbeStatus::TlsLegacy, "{o:?}");
    assert_eq!(o.tls_max_version, Some(TlsVersion::Tls12));
    assert_eq!(conns.load(Ordering::SeqCst), 2);
}

#[tokio::test]
async fn an_alert_to_every_hello_stays_tls_failed() {
    let (port, _, _) = server(Answer::Alert).await;
    let d = dialer(port, 1);
    let addr = "127.0.0.1".parse().unwrap();
    let mut o = probe_smtp(addr, "legacy.test", &opts(), &d).await;
    assert_eq!(o.tls_failure, Some(TlsFailure::NoSharedCipher), "{o:?}");
    assert!(o.wants_legacy_hello());
    o.merge_legacy(probe_legacy_hello(addr, "legacy.test", &opts(), &d).await);
    assert_eq!(o.status, ProbeStatus::TlsFailed, "{o:?}");
    assert_eq!(o.tls_max_version, None);
    assert!(o.tls.is_none());
    assert!(o.legacy.is_some(), "the legacy hello is recorded as made");
}

#[tokio::test]
async fn garbage_is_not_tls_and_wants_no_second_connection() {
    let (port, _, _) = server(Answer::Garbage).await;
    let d = dialer(port, 1);
    let o = probe_smtp("127.0.0.1".parse().unwrap(), "legacy.test", &opts(), &d).await;
    assert_eq!(o.status, ProbeStatus::TlsFailed, "{o:?}");
    assert_eq!(o.tls_failure, Some(TlsFailure::NotTls), "{o:?}");
    assert!(!o.wants_legacy_hello());
}
