//! The DNS wrapper against a tiny in-test authoritative server on 127.0.0.1 (UDP + TCP on
//! the same port): every status, CNAME, null MX, TC→TCP fallback, retries, caching.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hickory_proto::rr::{Record, RecordType};
use mxscan_probe::dns::{Dns, DnsConfig, LookupStatus, Nameservers, RateHook};
use mxscan_testkit::dns::*;

fn world() -> HashMap<(String, RecordType), Ans> {
    let mut z = HashMap::new();
    let mut put = |name: &str, t: RecordType, a: Ans| {
        z.insert((name.to_string(), t), a);
    };
    put(
        "example.test.",
        RecordType::MX,
        Ans::Records(vec![
            mx("example.test.", 20, "b.example.test."),
            mx("example.test.", 10, "z.example.test."),
            mx("example.test.", 10, "A.example.test."),
        ]),
    );
    put(
        "nullmx.test.",
        RecordType::MX,
        Ans::Records(vec![mx("nullmx.test.", 0, ".")]),
    );
    put(
        "literal.test.",
        RecordType::MX,
        Ans::Records(vec![mx("literal.test.", 10, "192.0.2.25.")]),
    );
    put("nodata.test.", RecordType::MX, Ans::NoData);
    put("servfail.test.", RecordType::MX, Ans::ServFail);
    put("refused.test.", RecordType::MX, Ans::Refused);
    put("slow.test.", RecordType::MX, Ans::Silent);
    put(
        "mx.example.test.",
        RecordType::A,
        Ans::Records(vec![a("mx.example.test.", [127, 0, 0, 10])]),
    );
    put(
        "alias.test.",
        RecordType::A,
        Ans::Records(vec![
            cname("alias.test.", "target.test."),
            a("target.test.", [127, 0, 0, 11]),
        ]),
    );
    put(
        "_mta-sts.example.test.",
        RecordType::TXT,
        Ans::Records(vec![
            txt("_mta-sts.example.test.", &["v=STSv1; ", "id=2024;"]),
            txt("_mta-sts.example.test.", &["unrelated"]),
        ]),
    );
    let big: Vec<Record> = (0..40)
        .map(|i| txt("big.test.", &[&format!("{i:03}-{}", "x".repeat(200))]))
        .collect();
    put("big.test.", RecordType::TXT, Ans::Truncated(big));
    z
}

fn cfg(server: &Server) -> DnsConfig {
    DnsConfig {
        nameservers: Nameservers::Explicit(vec![server.addr]),
        timeout: Duration::from_millis(300),
        attempts: 2,
        backoff: Duration::from_millis(10),
        ..DnsConfig::default()
    }
}

/// The scripted world's server, and a resolver asking it (no rate hook).
async fn resolver() -> (Server, Dns) {
    let server = start(world()).await;
    let dns = Dns::new(cfg(&server), None).unwrap();
    (server, dns)
}

#[tokio::test]
async fn mx_answers_and_statuses() {
    let (server, dns) = resolver().await;

    let ans = dns.mx("Example.Test").await;
    assert_eq!(ans.status, LookupStatus::Ok);
    let got: Vec<(u16, &str)> = ans
        .records
        .iter()
        .map(|r| (r.preference, r.exchange.as_str()))
        .collect();
    assert_eq!(
        got,
        [
            (10, "a.example.test"),
            (10, "z.example.test"),
            (20, "b.example.test")
        ]
    );
    assert!(!ans.null_mx);

    let null = dns.mx("nullmx.test").await;
    assert_eq!(null.status, LookupStatus::Ok);
    assert!(null.null_mx, "{null:?}");
    assert_eq!(null.records[0].exchange, ".");

    let lit = dns.mx("literal.test").await;
    assert!(lit.records[0].ip_literal, "{lit:?}");

    let cases = [
        ("nodata.test", LookupStatus::NoData),
        ("missing.test", LookupStatus::NxDomain),
        ("servfail.test", LookupStatus::ServFail),
        ("refused.test", LookupStatus::Refused),
        ("slow.test", LookupStatus::Timeout),
        ("bad..name", LookupStatus::Error),
    ];
    for (name, want) in cases {
        let ans = dns.mx(name).await;
        assert_eq!(ans.status, want, "{name}: {ans:?}");
        assert!(ans.records.is_empty());
    }
    // Both attempts reached the server for the silent name.
    assert!(
        server.hits("slow.test.") >= 2,
        "{}",
        server.hits("slow.test.")
    );
}

#[tokio::test]
async fn cname_chain_and_txt_strings() {
    let (_server, dns) = resolver().await;
    let alias = dns.ipv4("alias.test").await;
    assert_eq!(alias.status, LookupStatus::Ok);
    assert!(alias.cname);
    assert_eq!(alias.cname_chain, ["target.test"]);
    assert_eq!(
        alias.addrs,
        ["127.0.0.11".parse::<std::net::IpAddr>().unwrap()]
    );

    let direct = dns.ipv4("mx.example.test").await;
    assert!(!direct.cname);
    assert_eq!(direct.addrs.len(), 1);
    let v6 = dns.ipv6("mx.example.test").await;
    assert_eq!(v6.status, LookupStatus::NxDomain, "{v6:?}");

    let t = dns.txt("_mta-sts.example.test").await;
    assert_eq!(t.status, LookupStatus::Ok);
    let mut recs = t.records.clone();
    recs.sort();
    assert_eq!(
        recs,
        vec![
            vec![b"unrelated".to_vec()],
            vec![b"v=STSv1; ".to_vec(), b"id=2024;".to_vec()],
        ]
    );
}

#[tokio::test]
async fn truncated_udp_falls_back_to_tcp() {
    let (server, dns) = resolver().await;
    let t = dns.txt("big.test").await;
    assert_eq!(t.status, LookupStatus::Ok, "{t:?}");
    assert_eq!(t.records.len(), 40);
    assert!(server.tcp_hits.load(Ordering::Relaxed) >= 1);
}

#[tokio::test]
async fn answers_are_cached_including_negative_ones() {
    let server = start(world()).await;
    let calls = Arc::new(AtomicU64::new(0));
    let hook: RateHook = {
        let calls = calls.clone();
        Arc::new(move || {
            calls.fetch_add(1, Ordering::Relaxed);
            Box::pin(async {})
        })
    };
    let dns = Dns::new(cfg(&server), Some(hook)).unwrap();
    for _ in 0..5 {
        assert_eq!(dns.ipv4("mx.example.test").await.status, LookupStatus::Ok);
        assert_eq!(dns.mx("missing.test").await.status, LookupStatus::NxDomain);
        assert_eq!(dns.mx("nodata.test").await.status, LookupStatus::NoData);
    }
    assert_eq!(server.hits("mx.example.test."), 1);
    assert_eq!(server.hits("missing.test."), 1);
    assert_eq!(server.hits("nodata.test."), 1);
    assert_eq!(
        calls.load(Ordering::Relaxed),
        3,
        "hook only for wire queries"
    );
    assert_eq!(dns.queries_sent(), 3);
    assert_eq!(dns.cache_hits(), 12);

    // Failures are not cached: a servfail is asked again.
    dns.mx("servfail.test").await;
    dns.mx("servfail.test").await;
    assert_eq!(server.hits("servfail.test."), 2);
}
