//! Inside the network sandbox only (`scripts/sandbox.sh`, which sets MXSCAN_IN_SANDBOX=1):
//! put a private address on `lo`, listen there with a counting listener, and prove that the
//! dialer never connects to it unless the allow-list lifts its range (ARCHITECTURE.md, "The
//! network sandbox"). Outside a namespace the test does nothing: it must never change the
//! host's interfaces.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use mxscan_probe::blocklist::Blocklist;
use mxscan_probe::dialer::{DialOutcome, Dialer};
use mxscan_testkit::sandbox::in_sandbox;
use tokio::net::TcpListener;

#[tokio::test]
async fn private_address_on_lo_is_never_dialled_unless_allowed() {
    if !in_sandbox() {
        eprintln!("skipped: not inside scripts/sandbox.sh");
        return;
    }
    let added = std::process::Command::new("ip")
        .args(["addr", "add", "10.9.9.9/32", "dev", "lo"])
        .status()
        .map(|s| s.success())
        .unwrap_or(false);
    let ip: IpAddr = "10.9.9.9".parse().unwrap();
    let listener = match TcpListener::bind(SocketAddr::new(ip, 0)).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("skipped: cannot listen on 10.9.9.9 (added: {added}): {e}");
            return;
        }
    };
    let port = listener.local_addr().unwrap().port();
    let accepted = Arc::new(AtomicU64::new(0));
    let a = accepted.clone();
    tokio::spawn(async move {
        while let Ok((_s, _)) = listener.accept().await {
            a.fetch_add(1, Ordering::Relaxed);
        }
    });

    let loopback_only = Blocklist::new().allow_str("127.0.0.0/8").unwrap();
    let dialer = Dialer::new(Arc::new(loopback_only)).with_ports(port, port);
    for _ in 0..3 {
        let out = dialer.connect_smtp(ip, Duration::from_secs(1)).await;
        assert!(matches!(out, DialOutcome::Blocked(_)), "{out:?}");
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        accepted.load(Ordering::Relaxed),
        0,
        "a blocked address was dialled"
    );

    let private = Blocklist::new().allow_str("10.0.0.0/8").unwrap();
    let dialer = Dialer::new(Arc::new(private)).with_ports(port, port);
    let out = dialer.connect_smtp(ip, Duration::from_secs(1)).await;
    assert!(matches!(out, DialOutcome::Connected(_)), "{out:?}");
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(accepted.load(Ordering::Relaxed), 1);

    // A user blocklist entry wins over --allow-private.
    let opted_out = Blocklist::new()
        .block_text("10.9.9.9\n", "opt-out")
        .unwrap()
        .allow_private(true);
    let dialer = Dialer::new(Arc::new(opted_out)).with_ports(port, port);
    let out = dialer.connect_smtp(ip, Duration::from_secs(1)).await;
    assert!(matches!(out, DialOutcome::Blocked(_)), "{out:?}");
}
