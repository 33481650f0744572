//! Smoke test of the world through the real SMTP server: for one dedicated address of every
//! SMTP class, a plain-text client walks the conversation up to the STARTTLS reply and the
//! stage where it ends agrees with the ground truth's `smtp_status` (TLS itself is covered
//! by the servers' own tests). Loopback only (run inside `unshare --net`).

use std::sync::Arc;
use std::time::Duration;

use mxscan_testbed::addr::dedicated_addr;
use mxscan_testbed::behaviour::Behaviours;
use mxscan_testbed::ca::Ca;
use mxscan_testbed::connlog::ConnLog;
use mxscan_testbed::profile::Profile;
use mxscan_testbed::scenario::SmtpClass;
use mxscan_testbed::smtp_server::start_smtp;
use mxscan_testbed::truth::expected_probe;
use mxscan_testbed::world::{World, WorldConfig};
use mxscan_testkit::bed::world_config;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const CAP: usize = 64 * 1024;

/// Read one SMTP reply (possibly multi-line). `Err(kind)`: "eof", "reset", "timeout",
/// "oversized".
async fn reply(s: &mut TcpStream, buf: &mut Vec<u8>) -> Result<String, &'static str> {
    loop {
        // A complete reply: last line `ddd ` + CRLF.
        if let Some(end) = complete(buf) {
            let r = String::from_utf8_lossy(&buf[..end]).into_owned();
            buf.drain(..end);
            return Ok(r);
        }
        if buf.len() > CAP {
            return Err("oversized");
        }
        let mut chunk = [0u8; 8192];
        match tokio::time::timeout(Duration::from_secs(2), s.read(&mut chunk)).await {
            Err(_) => return Err("timeout"),
            Ok(Ok(0)) => return Err("eof"),
            Ok(Ok(n)) => buf.extend_from_slice(&chunk[..n]),
            Ok(Err(_)) => return Err("reset"),
        }
    }
}

fn complete(buf: &[u8]) -> Option<usize> {
    let mut start = 0;
    while let Some(pos) = buf[start..].windows(2).position(|w| w == b"\r\n") {
        let line = &buf[start..start + pos];
        let end = start + pos + 2;
        if line.len() >= 4 && line[3] == b' ' || line.len() == 3 {
            return Some(end);
        }
        start = end;
    }
    None
}

/// The stage a plain-text client reaches, in `probes.status` words ("tls" = the server
/// said 220 to STARTTLS; the handshake decides between ok and tls_failed).
async fn walk(addr: std::net::SocketAddr) -> &'static str {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let mut buf = Vec::new();
    let greeting = match reply(&mut s, &mut buf).await {
        Ok(r) => r,
        Err("timeout") => return "greeting_timeout",
        Err(_) => return "closed_before_greeting",
    };
    match &greeting[..3] {
        "421" => return "greeting_421",
        "554" => return "greeting_rejected",
        _ => {}
    }
    s.write_all(b"EHLO scanner.test\r\n").await.unwrap();
    let ehlo = match reply(&mut s, &mut buf).await {
        Ok(r) => r,
        Err("oversized") => return "protocol_error",
        Err(_) => return "io_error",
    };
    if !ehlo.starts_with("250") {
        return "ehlo_rejected";
    }
    if !ehlo
        .lines()
        .any(|l| l.len() > 4 && l[4..].trim().eq_ignore_ascii_case("STARTTLS"))
    {
        return "no_starttls";
    }
    s.write_all(b"STARTTLS\r\n").await.unwrap();
    match reply(&mut s, &mut buf).await {
        Ok(r) if r.starts_with("220") => "tls",
        Ok(_) => "starttls_rejected",
        Err(_) => "io_error",
    }
}

#[tokio::test]
async fn every_class_reaches_the_stage_the_truth_expects() {
    let world = Arc::new(World::new(WorldConfig {
        greet_delay: Duration::from_millis(300),
        ..world_config(1, Profile::Stress)
    }));
    let ca = Arc::new(Ca::new().unwrap());
    let server = start_smtp(
        "0.0.0.0:0".parse().unwrap(),
        Arc::clone(&world) as Arc<dyn Behaviours>,
        ca,
        ConnLog::new(),
    )
    .await
    .unwrap();
    let port = server.local_addr().port();
    let mut tasks = Vec::new();
    for class in SmtpClass::ALL {
        let ip = dedicated_addr(*class, 0xfeed_beef_0000_0001);
        let want = expected_probe(&world.smtp_host(ip)).status;
        tasks.push(tokio::spawn(async move {
            let got = walk(std::net::SocketAddr::new(ip.into(), port)).await;
            (*class, want, got)
        }));
    }
    for t in tasks {
        let (class, want, got) = t.await.unwrap();
        let want = if want == "ok" || want == "tls_failed" || want == "tls_legacy" {
            "tls"
        } else {
            want.as_str()
        };
        assert_eq!(got, want, "{class}");
    }
}
