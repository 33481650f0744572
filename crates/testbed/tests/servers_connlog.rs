//! The connection log as the scanner's politeness tests will use it: concurrency and
//! intervals per address, measured on connections the real servers accepted.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mxscan_testbed::behaviour::SmtpScript;
use mxscan_testbed::ca::Ca;
use mxscan_testbed::connlog::{ConnLog, ConnSnapshot, ServerKind};
use mxscan_testbed::smtp_server::start_smtp_with;
use mxscan_testbed::table::BehaviourTable;
use mxscan_testkit::bed::*;
use mxscan_testkit::client::*;

async fn wait_for(cond: impl Fn() -> bool) {
    let reached = wait_until(Duration::from_millis(10), cond).await;
    assert!(reached, "condition not reached");
}

#[tokio::test]
async fn concurrent_connections_per_address_are_counted() {
    let (a, b) = (ip(40, 0, 1), ip(40, 0, 2));
    let table = BehaviourTable::new()
        .smtp_script(a, SmtpScript::Tarpit)
        .smtp_script(b, SmtpScript::Tarpit);
    let bed = smtp_bed(table).await;
    let held = connect_all(&[bed.addr(a), bed.addr(a), bed.addr(a), bed.addr(b)]).await;
    wait_for(|| bed.log.total() == 4).await;
    assert_eq!(bed.log.open_now(), 4);
    // Held together well beyond the close slack.
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(held);
    wait_for(|| bed.log.open_now() == 0).await;

    let max = bed.log.max_concurrent_per_address();
    assert_eq!(max[&IpAddr::V4(a)], 3);
    assert_eq!(max[&IpAddr::V4(b)], 1);
    assert_eq!(bed.log.connections_to(IpAddr::V4(a)), 3);
    assert_eq!(bed.log.connections_to(IpAddr::V4(b)), 1);
    let snap = bed.log.snapshot();
    assert!(
        snap.records
            .iter()
            .all(|r| r.kind == ServerKind::Smtp && r.closed_at.is_some())
    );
    let exact = snap.max_concurrent_per_address_with_slack(Duration::ZERO);
    assert_eq!(exact[&IpAddr::V4(a)], 3);
    assert_eq!(
        snap.max_concurrent_per_prefix(24)[&IpAddr::from([127, 40, 0, 0])],
        4
    );
}

async fn connect_all(addrs: &[SocketAddr]) -> Vec<tokio::net::TcpStream> {
    let mut out = Vec::new();
    for a in addrs {
        out.push(connect(*a).await);
    }
    out
}

#[tokio::test]
async fn sequential_connections_show_interval_and_no_overlap() {
    let a = ip(40, 1, 1);
    let conv = plain("mx.seq.test");
    let bed = conversation_bed(a, conv).await;
    let gap = Duration::from_millis(150);
    for i in 0..3 {
        if i > 0 {
            tokio::time::sleep(gap).await;
        }
        // A polite client: greeting, QUIT, wait for the server's close.
        let mut tcp = connect(bed.addr(a)).await;
        read_reply(&mut tcp).await.unwrap();
        assert!(command(&mut tcp, "QUIT").await.starts_with("221"));
        let (_, end) = read_all(&mut tcp, 64).await;
        end.unwrap();
    }
    wait_for(|| bed.log.open_now() == 0).await;
    let key = IpAddr::V4(a);
    assert_eq!(bed.log.max_concurrent_per_address()[&key], 1);
    let exact = bed
        .log
        .snapshot()
        .max_concurrent_per_address_with_slack(Duration::ZERO);
    assert_eq!(exact[&key], 1);
    let min = bed.log.min_interval_per_address()[&key];
    assert!(min >= gap, "{min:?}");
    assert!(min < gap + Duration::from_secs(1), "{min:?}");
}

#[tokio::test]
async fn jsonl_log_is_readable_by_another_process() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("connections.jsonl");
    let a = ip(40, 2, 1);
    let log = ConnLog::to_file(&path).unwrap();
    let table = BehaviourTable::new().smtp_script(a, SmtpScript::Greeting421);
    let server = start_smtp_with(
        "0.0.0.0:0".parse().unwrap(),
        Arc::new(table),
        Arc::new(Ca::new().unwrap()),
        log.clone(),
        test_options(),
    )
    .await
    .unwrap();
    for _ in 0..2 {
        let mut tcp = connect(SocketAddr::from((a, server.port()))).await;
        read_reply(&mut tcp).await.unwrap();
        let (_, end) = read_all(&mut tcp, 64).await;
        end.unwrap();
    }
    wait_for(|| log.total() == 2 && log.open_now() == 0).await;
    let back = ConnSnapshot::from_jsonl(&path).unwrap();
    assert_eq!(back.records.len(), 2);
    assert_eq!(back.connections_to(IpAddr::V4(a)), 2);
    assert_eq!(back.max_concurrent_per_address()[&IpAddr::V4(a)], 1);
    let text = std::fs::read_to_string(&path).unwrap();
    assert!(
        text.lines()
            .all(|l| l.contains("\"kind\":\"smtp\"") && l.contains("\"peer\"")),
        "{text}"
    );
}
