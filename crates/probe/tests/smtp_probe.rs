//! The SMTP probe against the testbed's SMTP server (one behaviour per 127.0.2.x address)
//! and against tiny hostile in-test servers: every script and TLS behaviour, the status
//! vocabulary, the recorded fields, deadlines and caps.

mod common;

use std::net::{IpAddr, Ipv4Addr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use common::{dialer, trust};
use mxscan_probe::cert::CertStatus;
use mxscan_probe::smtp_probe::{ProbeOptions, ProbeOutcome, probe_smtp};
use mxscan_probe::tls::client_config;
use mxscan_smtp::{EhloName, ProbeStatus};
use mxscan_testbed::behaviour::{
    CertDefect, CertNames, CertSpec, Conversation, EhloReply, SmtpHost, SmtpScript, StarttlsReply,
    TlsBehaviour,
};
use mxscan_testbed::table::BehaviourTable;
use mxscan_testkit::bed::smtp_bed;
use mxscan_testkit::hostile::{pour, serve_tcp};
use rustls_pki_types::UnixTime;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;

/// A certificate for the SNI name, with `defect`.
fn sni_cert(defect: CertDefect) -> CertSpec {
    CertSpec {
        names: CertNames::Sni {
            fallback: "fallback.test".into(),
        },
        defect,
    }
}

fn conv(f: impl FnOnce(&mut Conversation)) -> SmtpScript {
    let mut c = Conversation::well_behaved("mx.example.test", sni_cert(CertDefect::None));
    f(&mut c);
    SmtpScript::Conversation(c)
}

fn cert(defect: CertDefect) -> TlsBehaviour {
    TlsBehaviour::Handshake(sni_cert(defect))
}

fn opts() -> ProbeOptions {
    let mut o = ProbeOptions::new(
        EhloName::new("scanner.mxscan.test").unwrap(),
        client_config(&[]).unwrap(),
    );
    o.connect_timeout = Duration::from_secs(2);
    o.greeting_timeout = Duration::from_secs(1);
    o.command_timeout = Duration::from_secs(2);
    o.tls_timeout = Duration::from_secs(2);
    o.quit_timeout = Duration::from_millis(500);
    o.total_timeout = Duration::from_secs(5);
    o
}

struct Case {
    label: &'static str,
    host: SmtpHost,
    status: ProbeStatus,
    check: fn(&ProbeOutcome),
}

fn host(script: SmtpScript) -> SmtpHost {
    SmtpHost {
        rtt: Duration::ZERO,
        greet_delay: Duration::ZERO,
        script,
    }
}

fn nothing(_: &ProbeOutcome) {}

fn full_ok(o: &ProbeOutcome) {
    assert_eq!(
        o.banner
            .as_deref()
            .map(|b| b.starts_with("mx.example.test")),
        Some(true),
        "{o:?}"
    );
    assert!(o.ehlo_keywords.iter().any(|k| k == "STARTTLS"), "{o:?}");
    assert_eq!(o.starttls_offered, Some(true));
    assert_eq!(o.starttls_code, Some(220));
    assert_eq!(o.bytes_after_starttls, Some(0));
    let tls = o.tls.as_ref().expect("handshake info");
    assert!(
        matches!(tls.version.as_deref(), Some("TLSv1.2" | "TLSv1.3")),
        "{tls:?}"
    );
    assert_eq!(
        o.tls_max_version.map(|v| v.as_str()),
        tls.version.as_deref(),
        "tls_max_version is the negotiated version"
    );
    assert_eq!(o.tls_failure, None);
    assert!(!o.wants_legacy_hello() && o.legacy.is_none());
    assert!(
        tls.cipher_suite.as_deref().unwrap().starts_with("TLS_"),
        "{tls:?}"
    );
    assert!(
        matches!(
            tls.kx_group.as_deref(),
            Some("x25519" | "secp256r1" | "secp384r1" | "X25519MLKEM768")
        ),
        "{tls:?}"
    );
    assert_eq!(tls.chain.len(), 2, "leaf + intermediate");
    assert!(
        !o.ehlo_keywords_tls.iter().any(|k| k == "STARTTLS"),
        "{o:?}"
    );
    assert!(!o.ehlo_keywords_tls.is_empty(), "post-TLS EHLO recorded");
    assert!(o.connect_ms.is_some() && o.greeting_ms.is_some() && o.ehlo_ms.is_some());
    assert!(o.tls_ms.is_some());
    assert_eq!(o.smtp.as_ref().unwrap().codes().last(), Some(&221));
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            label: "ok",
            host: host(conv(|_| {})),
            status: ProbeStatus::Ok,
            check: full_ok,
        },
        Case {
            label: "multiline greeting",
            host: host(conv(|c| c.multiline_greeting = true)),
            status: ProbeStatus::Ok,
            check: |o| assert!(o.banner.as_deref().unwrap().contains('\n'), "{o:?}"),
        },
        Case {
            label: "greet delay within deadline",
            host: SmtpHost {
                rtt: Duration::from_millis(20),
                greet_delay: Duration::from_millis(400),
                script: conv(|_| {}),
            },
            status: ProbeStatus::Ok,
            check: |o| assert!(o.greeting_ms.unwrap() >= 400, "{o:?}"),
        },
        Case {
            label: "reset",
            host: host(SmtpScript::Reset),
            status: ProbeStatus::ClosedBeforeGreeting,
            check: |o| assert!(o.banner.is_none() && o.connect_ms.is_some(), "{o:?}"),
        },
        Case {
            label: "tarpit",
            host: host(SmtpScript::Tarpit),
            status: ProbeStatus::GreetingTimeout,
            check: |o| assert!(o.total_ms < 2500, "{o:?}"),
        },
        Case {
            label: "greet delay beyond deadline",
            host: SmtpHost {
                rtt: Duration::ZERO,
                greet_delay: Duration::from_secs(3),
                script: conv(|_| {}),
            },
            status: ProbeStatus::GreetingTimeout,
            check: nothing,
        },
        Case {
            label: "421",
            host: host(SmtpScript::Greeting421),
            status: ProbeStatus::Greeting421,
            check: |o| assert!(o.banner.is_some()),
        },
        Case {
            label: "554",
            host: host(SmtpScript::Greeting554),
            status: ProbeStatus::GreetingRejected,
            check: nothing,
        },
        Case {
            label: "ehlo rejected",
            host: host(conv(|c| c.ehlo = EhloReply::Rejected)),
            status: ProbeStatus::EhloRejected,
            check: |o| assert_eq!(o.starttls_offered, None),
        },
        Case {
            label: "ehlo drop",
            host: host(conv(|c| c.ehlo = EhloReply::Drop)),
            status: ProbeStatus::IoError,
            check: nothing,
        },
        Case {
            label: "no starttls",
            host: host(conv(|c| {
                c.ehlo = EhloReply::Ok {
                    starttls: false,
                    padding_bytes: 0,
                }
            })),
            status: ProbeStatus::NoStarttls,
            check: |o| {
                assert_eq!(o.starttls_offered, Some(false));
                assert!(o.tls.is_none());
                assert!(!o.ehlo_keywords.is_empty());
            },
        },
        Case {
            label: "454",
            host: host(conv(|c| c.starttls = StarttlsReply::Unavailable454)),
            status: ProbeStatus::StarttlsRejected,
            check: |o| assert_eq!(o.starttls_code, Some(454)),
        },
        Case {
            label: "502",
            host: host(conv(|c| c.starttls = StarttlsReply::NotImplemented502)),
            status: ProbeStatus::StarttlsRejected,
            check: |o| assert_eq!(o.starttls_code, Some(502)),
        },
        Case {
            label: "injection after 220",
            host: host(conv(|c| {
                c.inject_after_starttls = Some(b"250-INJECTED\r\n250 OK\r\n".to_vec())
            })),
            status: ProbeStatus::Ok,
            check: |o| {
                assert_eq!(o.bytes_after_starttls, Some(22), "{o:?}");
                assert_eq!(o.after_starttls_sample, b"250-INJECTED\r\n250 OK\r\n");
                assert!(o.tls.is_some());
            },
        },
        Case {
            label: "tls garbage",
            host: host(conv(|c| c.tls = TlsBehaviour::Garbage)),
            status: ProbeStatus::TlsFailed,
            check: |o| {
                assert!(o.tls_error.is_some() && o.tls.is_none(), "{o:?}");
                assert_eq!(
                    o.tls_failure,
                    Some(mxscan_model::TlsFailure::NotTls),
                    "{o:?}"
                );
                assert!(!o.wants_legacy_hello());
            },
        },
        Case {
            label: "tls alert",
            host: host(conv(|c| c.tls = TlsBehaviour::Alert)),
            status: ProbeStatus::TlsFailed,
            check: |o| {
                assert!(
                    o.tls_error
                        .as_deref()
                        .unwrap()
                        .to_lowercase()
                        .contains("handshake"),
                    "{o:?}"
                );
                assert_eq!(
                    o.tls_failure,
                    Some(mxscan_model::TlsFailure::NoSharedCipher),
                    "{o:?}"
                );
                assert!(o.wants_legacy_hello());
            },
        },
        Case {
            label: "oversized ehlo",
            host: host(conv(|c| {
                c.ehlo = EhloReply::Ok {
                    starttls: true,
                    padding_bytes: 1 << 20,
                }
            })),
            status: ProbeStatus::ProtocolError,
            check: nothing,
        },
        Case {
            label: "expired cert",
            host: host(conv(|c| c.tls = cert(CertDefect::Expired))),
            status: ProbeStatus::Ok,
            check: nothing,
        },
        Case {
            label: "not yet valid cert",
            host: host(conv(|c| c.tls = cert(CertDefect::NotYetValid))),
            status: ProbeStatus::Ok,
            check: nothing,
        },
        Case {
            label: "self-signed cert",
            host: host(conv(|c| c.tls = cert(CertDefect::SelfSigned))),
            status: ProbeStatus::Ok,
            check: nothing,
        },
        Case {
            label: "unknown issuer",
            host: host(conv(|c| c.tls = cert(CertDefect::UnknownIssuer))),
            status: ProbeStatus::Ok,
            check: nothing,
        },
        Case {
            label: "incomplete chain",
            host: host(conv(|c| c.tls = cert(CertDefect::IncompleteChain))),
            status: ProbeStatus::Ok,
            check: |o| assert_eq!(o.tls.as_ref().unwrap().chain.len(), 1),
        },
    ]
}

fn ip_of(i: usize) -> Ipv4Addr {
    Ipv4Addr::new(127, 0, 2, i as u8 + 1)
}

#[tokio::test]
async fn every_script_and_tls_behaviour() {
    let cases = cases();
    let mut table = BehaviourTable::new();
    for (i, c) in cases.iter().enumerate() {
        table = table.smtp(ip_of(i), c.host.clone());
    }
    let bed = smtp_bed(table).await;
    let dialer = Arc::new(dialer(bed.server.port(), 1));
    let trust = trust(&bed.ca);
    let opts = opts();
    // Probe concurrently, as the engine would (one connection per address).
    let mut handles = Vec::new();
    for (i, c) in cases.iter().enumerate() {
        let sni = format!("mx{i}.example.test");
        let ip = IpAddr::V4(ip_of(i));
        let (opts, dialer, sni2) = (opts.clone(), dialer.clone(), sni.clone());
        let task = tokio::spawn(async move { probe_smtp(ip, &sni2, &opts, &dialer).await });
        handles.push((c.label, c.status, c.check, sni, task));
    }
    let mut results = Vec::new();
    for (label, status, check, sni, task) in handles {
        let o = task.await.unwrap();
        assert_eq!(o.status, status, "{label}: {o:?}");
        assert_eq!(o.sni, sni);
        assert_eq!(o.port, bed.server.port());
        check(&o);
        results.push((label, o));
    }
    // Probe once, judge many times: the captured chains judged offline per name.
    let now = UnixTime::now();
    let verdicts = [
        ("ok", CertStatus::Valid),
        ("expired cert", CertStatus::Expired),
        ("not yet valid cert", CertStatus::NotYetValid),
        ("self-signed cert", CertStatus::SelfSigned),
        ("unknown issuer", CertStatus::UntrustedIssuer),
        ("incomplete chain", CertStatus::IncompleteChain),
    ];
    for (label, want) in verdicts {
        let (_, o) = results.iter().find(|(l, _)| *l == label).unwrap();
        let chain = &o.tls.as_ref().unwrap().chain;
        assert_eq!(trust.judge(chain, &o.sni, now), want, "{label}");
        if want == CertStatus::Valid {
            assert_eq!(
                trust.judge(chain, "other.example.test", now),
                CertStatus::NameMismatch
            );
        }
    }
}

#[tokio::test]
async fn blocked_and_refused_connections() {
    let bed = smtp_bed(BehaviourTable::new()).await;
    let dialer = dialer(bed.server.port(), 1);
    let o = probe_smtp("10.9.9.9".parse().unwrap(), "mx.test", &opts(), &dialer).await;
    assert_eq!(o.status, ProbeStatus::Blocked);
    assert!(o.connect_ms.is_none() && o.smtp.is_none());
    assert_eq!(dialer.attempts(), 0);
    let o = probe_smtp("::1".parse().unwrap(), "mx.test", &opts(), &dialer).await;
    assert_eq!(
        o.status,
        ProbeStatus::Blocked,
        "::1 is not in the allow-list"
    );

    // Nothing listens on this port.
    let l = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = l.local_addr().unwrap().port();
    drop(l);
    let closed = common::dialer(port, 1);
    let o = probe_smtp("127.0.0.1".parse().unwrap(), "mx.test", &opts(), &closed).await;
    assert_eq!(o.status, ProbeStatus::ConnectRefused, "{o:?}");
    assert!(bed.log.snapshot().records.is_empty());
}

/// A hostile server: runs `f` on each accepted connection; counts bytes it managed to write.
async fn hostile<F, Fut>(f: F) -> (u16, Arc<AtomicU64>)
where
    F: Fn(tokio::net::TcpStream, Arc<AtomicU64>) -> Fut + Send + Sync + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let written = Arc::new(AtomicU64::new(0));
    let w = written.clone();
    let port = serve_tcp("127.0.0.1:0", move |s| f(s, w.clone())).await;
    (port, written)
}

/// Probe the hostile server on `port` at 127.0.0.1 with `opts`: the outcome, and how long
/// the probe took.
async fn probe_hostile(port: u16, opts: &ProbeOptions) -> (ProbeOutcome, Duration) {
    let dialer = dialer(port, 1);
    let t = Instant::now();
    let o = probe_smtp("127.0.0.1".parse().unwrap(), "mx.test", opts, &dialer).await;
    (o, t.elapsed())
}

/// A moment after the probe: we stopped reading, so the server could only fill the socket
/// buffers.
async fn assert_server_stopped(written: &AtomicU64) {
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(
        written.load(Ordering::Relaxed) < 64 << 20,
        "{}",
        written.load(Ordering::Relaxed)
    );
}

#[tokio::test]
async fn endless_banner_ends_at_the_reply_cap() {
    let (port, written) = hostile(|mut s, w| async move {
        let line =
            b"220-endless banner line padding padding padding padding padding\r\n".repeat(64);
        pour(&mut s, &line, u64::MAX, &w).await;
    })
    .await;
    let (o, took) = probe_hostile(port, &opts()).await;
    assert_eq!(o.status, ProbeStatus::ProtocolError, "{o:?}");
    assert!(took < Duration::from_secs(3));
    assert_server_stopped(&written).await;
}

#[tokio::test]
async fn gigabyte_reply_ends_at_the_reply_cap() {
    let (port, written) = hostile(|mut s, w| async move {
        let _ = s.write_all(b"220 hostile.test ESMTP\r\n").await;
        let mut buf = [0u8; 512];
        let _ = s.read(&mut buf).await; // EHLO
        let _ = s.write_all(b"250-").await;
        pour(&mut s, &[b'A'; 64 * 1024], 1 << 30, &w).await;
    })
    .await;
    let (o, took) = probe_hostile(port, &opts()).await;
    assert_eq!(o.status, ProbeStatus::ProtocolError, "{o:?}");
    assert_eq!(o.banner.as_deref(), Some("hostile.test ESMTP"));
    assert!(took < Duration::from_secs(3));
    assert_server_stopped(&written).await;
}

#[tokio::test]
async fn dripping_greeting_hits_the_phase_deadline() {
    let (port, _) = hostile(|mut s, _| async move {
        let _ = s.write_all(b"220-").await;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if s.write_all(b"x").await.is_err() {
                return;
            }
        }
    })
    .await;
    let (o, took) = probe_hostile(port, &opts()).await;
    assert_eq!(o.status, ProbeStatus::GreetingTimeout, "{o:?}");
    assert!(
        took >= Duration::from_millis(900) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[tokio::test]
async fn whole_probe_deadline_caps_slow_phases() {
    // Each reply comes just inside its command deadline; the total deadline ends it.
    let (port, _) = hostile(|mut s, _| async move {
        let _ = s.write_all(b"220 slow.test\r\n").await;
        let mut buf = [0u8; 512];
        loop {
            if matches!(s.read(&mut buf).await, Ok(0) | Err(_)) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1500)).await;
            if s.write_all(b"250-slow.test\r\n250 STARTTLS\r\n")
                .await
                .is_err()
            {
                return;
            }
        }
    })
    .await;
    let mut o2 = opts();
    o2.total_timeout = Duration::from_secs(2);
    let (o, took) = probe_hostile(port, &o2).await;
    assert_eq!(o.status, ProbeStatus::Timeout, "{o:?}");
    assert!(took < Duration::from_millis(2600), "{took:?}");
}
