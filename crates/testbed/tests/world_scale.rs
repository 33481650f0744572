//! Memory stays flat with the size of the world: nothing is stored per domain.
//!
//! `flat_memory_small` runs in every `cargo test` (50k names). The full million-domain run
//! is `#[ignore]`d because it takes about a minute in a debug build:
//!
//! ```text
//! unshare --net sh -c 'ip link set lo up && cargo test -p mxscan-testbed --release \
//!     --test world_scale -- --ignored --nocapture'
//! ```
//!
//! It prints RSS before and after and asserts it stays far below 1 GiB (the synthetic
//! list generator itself holds a 2 MiB address bitset and an 8-byte dedupe key per name).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hickory_proto::op::{Message, MessageType, OpCode, Query};
use hickory_proto::rr::{Name, RecordType};
use mxscan_testbed::dns::start_dns;
use mxscan_testbed::names::synthetic_domains;
use mxscan_testbed::profile::Profile;
use mxscan_testkit::bed::world;
use tokio::net::UdpSocket;

fn rss_kib() -> u64 {
    status_kib("VmRSS:")
}

/// Peak RSS of the process (the generator's dedupe set included).
fn peak_kib() -> u64 {
    status_kib("VmHWM:")
}

fn status_kib(key: &str) -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(key))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

async fn run(count: u64, dns_every: u64) -> (u64, u64, u64) {
    let world = Arc::new(world(99, Profile::Realistic));
    let handle = start_dns(Arc::clone(&world), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let sock = UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let before = rss_kib();
    let start = Instant::now();
    let mut asked = 0u64;
    let mut buf = vec![0u8; 4096];
    for (rank, domain) in synthetic_domains(99, count, Profile::Realistic) {
        let truth = world.expected(&domain);
        if rank % dns_every == 0 && truth.dns_status != "timeout" {
            let mut msg = Message::new(rank as u16, MessageType::Query, OpCode::Query);
            msg.add_query(Query::query(
                Name::from_ascii(format!("{domain}.")).unwrap(),
                RecordType::MX,
            ));
            sock.send_to(&msg.to_vec().unwrap(), handle.local_addr())
                .await
                .unwrap();
            let n = tokio::time::timeout(Duration::from_secs(2), sock.recv(&mut buf))
                .await
                .expect("reply")
                .unwrap();
            Message::from_vec(&buf[..n]).unwrap();
            asked += 1;
        }
    }
    let after = rss_kib();
    println!(
        "{count} domains ({asked} DNS queries, {} answered by the server) in {:?}: RSS {} MiB -> {} MiB, peak {} MiB",
        handle.queries(),
        start.elapsed(),
        before / 1024,
        after / 1024,
        peak_kib() / 1024
    );
    assert_eq!(handle.queries(), asked);
    (before, after, asked)
}

#[tokio::test]
async fn flat_memory_small() {
    let (before, after, asked) = run(50_000, 250).await;
    assert!(asked >= 150);
    // The generator's dedupe set for 50k names is well under 8 MiB; the world adds nothing.
    assert!(
        after < before + 64 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}

#[tokio::test]
#[ignore = "a million domains: run with --release --ignored (see module docs)"]
async fn flat_memory_one_million() {
    let (before, after, _) = run(1_000_000, 500).await;
    assert!(
        peak_kib() < 1024 * 1024,
        "peak RSS {} KiB exceeds 1 GiB",
        peak_kib()
    );
    assert!(
        after < before + 256 * 1024,
        "RSS grew from {before} KiB to {after} KiB"
    );
}
