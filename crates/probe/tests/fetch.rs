//! The MTA-STS policy fetch against the testbed's HTTPS server (one site per 127.0.1.x
//! address) and the in-test DNS server: every error class of the vocabulary.

mod common;

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use common::{dialer, trust};
use hickory_proto::rr::RecordType;
use mxscan_probe::dns::{Dns, DnsConfig, Nameservers};
use mxscan_probe::fetch::{FetchError, FetchOptions, fetch_policy};
use mxscan_probe::tls::client_config;
use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec, HttpResponse, HttpsSite};
use mxscan_testbed::table::BehaviourTable;
use mxscan_testkit::bed::{Bed, https_bed};
use mxscan_testkit::dns::{self as dns_server, Ans};

const POLICY: &[u8] = b"version: STSv1\nmode: enforce\nmx: mx.example.test\nmax_age: 86400\n";

fn site(defect: CertDefect, names: CertNames, response: HttpResponse) -> HttpsSite {
    HttpsSite::Serve {
        rtt: Duration::ZERO,
        cert: CertSpec { names, defect },
        response,
    }
}

fn sni() -> CertNames {
    CertNames::Sni {
        fallback: "fallback.test".into(),
    }
}

fn ok_body() -> HttpResponse {
    HttpResponse::Body {
        content_type: Some("text/plain; charset=utf-8".into()),
        body: POLICY.to_vec(),
    }
}

/// (label, site) — domain `<label>.test` lives at 127.0.1.<index+1>.
fn sites() -> Vec<(&'static str, HttpsSite)> {
    vec![
        ("good", site(CertDefect::None, sni(), ok_body())),
        (
            "notfound",
            site(CertDefect::None, sni(), HttpResponse::Status(404)),
        ),
        (
            "redirect",
            site(
                CertDefect::None,
                sni(),
                HttpResponse::Redirect("https://elsewhere.test/".into()),
            ),
        ),
        (
            "big",
            site(CertDefect::None, sni(), HttpResponse::Oversized(1 << 30)),
        ),
        (
            "drip",
            site(CertDefect::None, sni(), HttpResponse::Slowloris),
        ),
        ("reset", HttpsSite::Reset),
        ("expired", site(CertDefect::Expired, sni(), ok_body())),
        ("future", site(CertDefect::NotYetValid, sni(), ok_body())),
        ("rogue", site(CertDefect::UnknownIssuer, sni(), ok_body())),
        ("selfsigned", site(CertDefect::SelfSigned, sni(), ok_body())),
        (
            "incomplete",
            site(CertDefect::IncompleteChain, sni(), ok_body()),
        ),
        (
            "wrongname",
            site(
                CertDefect::None,
                CertNames::Fixed(vec!["www.other.test".into()]),
                ok_body(),
            ),
        ),
        (
            "notype",
            site(
                CertDefect::None,
                sni(),
                HttpResponse::Body {
                    content_type: None,
                    body: b"<html>oops</html>".to_vec(),
                },
            ),
        ),
    ]
}

struct World {
    dns: Dns,
    dns_server: dns_server::Server,
    bed: Bed,
    trust: mxscan_probe::cert::TrustStore,
    dialer: mxscan_probe::dialer::Dialer,
    opts: FetchOptions,
}

async fn world() -> World {
    let mut table = BehaviourTable::new();
    let mut zone: HashMap<(String, RecordType), Ans> = HashMap::new();
    for (i, (label, s)) in sites().into_iter().enumerate() {
        let ip = Ipv4Addr::new(127, 0, 1, i as u8 + 1);
        table = table.https(ip, s);
        let name = format!("mta-sts.{label}.test.");
        zone.insert(
            (name.clone(), RecordType::A),
            Ans::Records(vec![dns_server::a(&name, ip.octets())]),
        );
    }
    // A policy host on a private address: blocked, never dialled.
    zone.insert(
        ("mta-sts.private.test.".into(), RecordType::A),
        Ans::Records(vec![dns_server::a("mta-sts.private.test.", [10, 9, 9, 9])]),
    );
    // Resolves, but nothing listens there (unknown address → testbed resets).
    zone.insert(
        ("mta-sts.nobody.test.".into(), RecordType::A),
        Ans::Records(vec![dns_server::a(
            "mta-sts.nobody.test.",
            [127, 0, 1, 200],
        )]),
    );
    let bed = https_bed(table).await;
    let dns_server = dns_server::start(zone).await;
    let dns = Dns::new(
        DnsConfig {
            nameservers: Nameservers::Explicit(vec![dns_server.addr]),
            timeout: Duration::from_secs(2),
            ..DnsConfig::default()
        },
        None,
    )
    .unwrap();
    let trust = trust(&bed.ca);
    let dialer = dialer(1, bed.server.port());
    let mut opts = FetchOptions::new(client_config(&[b"http/1.1"]).unwrap());
    opts.timeout = Duration::from_secs(3);
    opts.read_timeout = Duration::from_secs(2);
    World {
        dns,
        dns_server,
        bed,
        trust,
        dialer,
        opts,
    }
}

#[tokio::test]
async fn every_fetch_outcome() {
    let w = world().await;
    let cases: &[(&str, Option<FetchError>, Option<u16>)] = &[
        ("good", None, Some(200)),
        ("notfound", Some(FetchError::HttpStatus), Some(404)),
        ("redirect", Some(FetchError::Redirect), Some(301)),
        ("big", Some(FetchError::TooLarge), Some(200)),
        ("reset", Some(FetchError::Connect), None),
        ("nobody", Some(FetchError::Connect), None),
        ("expired", Some(FetchError::TlsExpired), None),
        ("future", Some(FetchError::TlsExpired), None),
        ("rogue", Some(FetchError::TlsUntrusted), None),
        ("selfsigned", Some(FetchError::TlsUntrusted), None),
        ("incomplete", Some(FetchError::TlsUntrusted), None),
        ("wrongname", Some(FetchError::TlsNameMismatch), None),
        ("notype", None, Some(200)),
        ("missing", Some(FetchError::Dns), None),
        ("private", Some(FetchError::Connect), None),
    ];
    for (label, want, status) in cases {
        let out = fetch_policy(
            &format!("{label}.test"),
            &w.dns,
            &w.dialer,
            &w.trust,
            &w.opts,
        )
        .await;
        assert_eq!(out.error, *want, "{label}: {out:?}");
        assert_eq!(out.http_status, *status, "{label}: {out:?}");
        match *label {
            "good" => {
                assert_eq!(out.body.as_deref(), Some(POLICY));
                assert_eq!(
                    out.content_type.as_deref(),
                    Some("text/plain; charset=utf-8")
                );
                assert_eq!(out.chain().len(), 2, "leaf + intermediate");
                let tls = out.tls.as_ref().unwrap();
                assert!(tls.version.as_deref().unwrap().starts_with("TLSv1."));
                assert!(tls.cipher_suite.as_deref().unwrap().starts_with("TLS_"));
            }
            "redirect" => {
                assert_eq!(out.location.as_deref(), Some("https://elsewhere.test/"));
                assert!(out.body.is_none());
            }
            "notype" => {
                assert_eq!(out.content_type, None);
                assert_eq!(out.body.as_deref(), Some(&b"<html>oops</html>"[..]));
            }
            "private" => assert!(out.blocked, "{out:?}"),
            "incomplete" => assert_eq!(out.chain().len(), 1),
            "expired" | "rogue" | "selfsigned" | "wrongname" => {
                assert!(!out.chain().is_empty(), "chain captured: {label}");
                assert!(out.body.is_none());
            }
            _ => {}
        }
        if *label != "private" {
            assert!(!out.blocked, "{label}");
        }
    }
    // Nothing was ever dialled on the private address: only loopback connections logged.
    assert!(
        w.bed
            .log
            .snapshot()
            .records
            .iter()
            .all(|r| r.local.ip().is_loopback())
    );
    assert_eq!(w.dialer.blocked(), 1);
    let _ = &w.dns_server;
}

#[tokio::test]
async fn slowloris_hits_the_whole_fetch_deadline() {
    let w = world().await;
    let started = Instant::now();
    let out = fetch_policy("drip.test", &w.dns, &w.dialer, &w.trust, &w.opts).await;
    assert_eq!(out.error, Some(FetchError::Timeout), "{out:?}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "{:?}",
        started.elapsed()
    );
    assert!(out.elapsed >= Duration::from_secs(3));
}
