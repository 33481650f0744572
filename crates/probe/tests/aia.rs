//! AIA caIssuers fetches (RFC 5280 §4.2.2.1) against tiny in-test HTTP servers: a DER
//! certificate, a PEM one, and every way a server can fail us — 404, a redirect (not
//! followed), a body past the cap, a body that is no certificate, a server that never
//! answers, a refused port, a blocked address. Each costs one bounded fetch.

mod common;

use std::net::IpAddr;
use std::time::{Duration, Instant};

use common::dialer;
use mxscan_probe::aia::{AiaError, AiaOptions, HttpUrl, fetch_aia_at};
use mxscan_testkit::hostile::serve_tcp;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

fn intermediate_der() -> Vec<u8> {
    let mut p = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    p.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    p.self_signed(&rcgen::KeyPair::generate().unwrap())
        .unwrap()
        .der()
        .to_vec()
}

/// Reads the request head, then answers with `response` (and holds the connection when
/// `response` is empty: the tarpit).
async fn answer(mut s: TcpStream, response: Vec<u8>) {
    let mut head = Vec::new();
    let mut b = [0u8; 512];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match s.read(&mut b).await {
            Ok(0) | Err(_) => return,
            Ok(n) => head.extend(&b[..n]),
        }
    }
    assert!(head.starts_with(b"GET /int.der HTTP/1.1\r\n"), "{head:?}");
    assert!(
        String::from_utf8_lossy(&head).contains("\r\nHost: aia.test"),
        "{head:?}"
    );
    if response.is_empty() {
        tokio::time::sleep(Duration::from_secs(30)).await;
        return;
    }
    let _ = s.write_all(&response).await;
}

fn ok(body: &[u8], ctype: &str) -> Vec<u8> {
    let mut r = format!(
        "HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    r.extend(body);
    r
}

async fn fetch(response: Vec<u8>, opts: AiaOptions) -> (mxscan_probe::aia::AiaOutcome, Duration) {
    let port = serve_tcp("127.0.0.1:0", move |s| answer(s, response.clone())).await;
    let url = HttpUrl::parse("http://aia.test/int.der").unwrap();
    let t = Instant::now();
    let d = dialer(1, 1).with_http_port(port);
    let o = fetch_aia_at(&url, "127.0.0.1".parse().unwrap(), &d, &opts).await;
    (o, t.elapsed())
}

fn quick() -> AiaOptions {
    AiaOptions {
        timeout: Duration::from_millis(800),
        ..AiaOptions::default()
    }
}

#[tokio::test]
async fn a_der_or_pem_issuer_is_fetched() {
    let der = intermediate_der();
    let (o, _) = fetch(ok(&der, "application/pkix-cert"), quick()).await;
    assert_eq!(o.error, None, "{o:?}");
    assert_eq!(o.certs.len(), 1);
    assert_eq!(o.certs[0].as_ref(), der.as_slice());
    assert_eq!(o.body_bytes, der.len());

    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        base64_lines(&der)
    );
    let (o, _) = fetch(ok(pem.as_bytes(), "application/x-pem-file"), quick()).await;
    assert_eq!(o.error, None, "{o:?}");
    assert_eq!(o.certs[0].as_ref(), der.as_slice());
}

#[tokio::test]
async fn every_failure_is_one_bounded_fetch() {
    let cases: Vec<(&str, Vec<u8>, AiaError)> = vec![
        (
            "404",
            b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n".to_vec(),
            AiaError::HttpStatus,
        ),
        (
            "redirect",
            b"HTTP/1.1 301 Moved\r\nLocation: http://elsewhere.test/\r\nContent-Length: 0\r\n\r\n"
                .to_vec(),
            AiaError::HttpStatus,
        ),
        (
            "too large",
            ok(&vec![0x30; 200 * 1024], "application/pkix-cert"),
            AiaError::TooLarge,
        ),
        (
            "html",
            ok(b"<html>not here</html>", "text/html"),
            AiaError::NotACertificate,
        ),
        ("garbage head", b"\x16\x03\x01 hello".to_vec(), AiaError::Io),
        ("tarpit", Vec::new(), AiaError::Timeout),
    ];
    for (label, response, want) in cases {
        let (o, took) = fetch(response, quick()).await;
        assert_eq!(o.error, Some(want), "{label}: {o:?}");
        assert!(o.certs.is_empty(), "{label}");
        assert!(took < Duration::from_secs(3), "{label}: {took:?}");
    }
}

#[tokio::test]
async fn refused_and_blocked_addresses() {
    let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let url = HttpUrl::parse(&format!("http://aia.test:{port}/int.der")).unwrap();
    let d = dialer(1, 1);
    let o = fetch_aia_at(&url, "127.0.0.1".parse().unwrap(), &d, &quick()).await;
    assert_eq!(o.error, Some(AiaError::Connect), "{o:?}");
    let private: IpAddr = "10.1.2.3".parse().unwrap();
    let o = fetch_aia_at(&url, private, &d, &quick()).await;
    assert_eq!(o.error, Some(AiaError::Blocked), "{o:?}");
    assert_eq!(d.blocked(), 1);
}

fn base64_lines(der: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for c in der.chunks(3) {
        let n = (u32::from(c[0]) << 16)
            | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
            | u32::from(*c.get(2).unwrap_or(&0));
        for i in 0..4 {
            if i <= c.len() {
                out.push(T[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out.as_bytes()
        .chunks(64)
        .map(|l| String::from_utf8_lossy(l).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}
