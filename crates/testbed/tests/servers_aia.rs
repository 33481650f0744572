//! The plain-HTTP AIA server against a raw TCP client: each AIA host of `mxscan_testbed::aia`
//! serves what the module table says (the intermediate, the loop pair, a tarpit), other
//! paths are 404, other addresses are reset, and every connection is logged as `aia`.

use std::sync::Arc;
use std::time::Duration;

use mxscan_testbed::aia::AiaHost;
use mxscan_testbed::aia_server::{PKIX_CERT, start_aia_with};
use mxscan_testbed::ca::Ca;
use mxscan_testbed::connlog::{ConnLog, ServerKind};
use mxscan_testkit::bed::{any_addr, ip, test_options};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get(port: u16, host: AiaHost, path: &str) -> std::io::Result<Vec<u8>> {
    let mut s = TcpStream::connect((host.addr(), port)).await?;
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\n\r\n",
        host.name()
    );
    s.write_all(req.as_bytes()).await?;
    let mut out = Vec::new();
    s.read_to_end(&mut out).await?;
    Ok(out)
}

fn split(raw: &[u8]) -> (String, Vec<u8>) {
    let end = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    (
        String::from_utf8_lossy(&raw[..end]).into_owned(),
        raw[end..].to_vec(),
    )
}

#[tokio::test]
async fn aia_hosts_serve_their_certificates_and_the_tarpit_never_answers() {
    mxscan_testkit::require_sandbox!();
    let ca = Arc::new(Ca::new().unwrap());
    let log = ConnLog::new();
    let server = start_aia_with(any_addr(), ca.clone(), log.clone(), test_options())
        .await
        .unwrap();
    let port = server.port();
    for host in [AiaHost::Intermediate, AiaHost::LoopA, AiaHost::LoopB] {
        let (head, body) = split(&get(port, host, host.path()).await.unwrap());
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(
            head.contains(&format!("Content-Type: {PKIX_CERT}\r\n")),
            "{head}"
        );
        assert!(head.contains("Connection: close\r\n"), "{head}");
        assert_eq!(body, ca.aia_der(host).unwrap().as_ref(), "{host:?}");
        let (head, _) = split(&get(port, host, "/other.der").await.unwrap());
        assert!(head.starts_with("HTTP/1.1 404 "), "{head}");
    }
    // The tarpit: the request is accepted and nothing ever comes back.
    let tarpit = tokio::time::timeout(
        Duration::from_millis(800),
        get(port, AiaHost::Tarpit, AiaHost::Tarpit.path()),
    )
    .await;
    assert!(tarpit.is_err(), "the tarpit answered: {tarpit:?}");
    // Any other address is reset.
    let other = get(port, AiaHost::Intermediate, "/").await.map(|_| ());
    assert!(other.is_ok());
    let mut s = TcpStream::connect((ip(4, 0, 9), port)).await.unwrap();
    let _ = s.write_all(b"GET / HTTP/1.1\r\n\r\n").await;
    let mut buf = Vec::new();
    let r = s.read_to_end(&mut buf).await;
    assert!(r.is_err() || buf.is_empty(), "{r:?} {buf:?}");

    let snap = log.snapshot();
    assert_eq!(snap.only(ServerKind::Aia).records.len(), snap.records.len());
    assert_eq!(snap.connections_to(AiaHost::Tarpit.addr().into()), 1);
    assert_eq!(snap.connections_to(AiaHost::LoopA.addr().into()), 2);
}
