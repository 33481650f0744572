//! The HTTPS (MTA-STS policy) server against a tokio-rustls client: every site and response
//! of the behaviour contract, on loopback only.

use std::io::ErrorKind;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec, HttpResponse, HttpsSite};
use mxscan_testbed::table::BehaviourTable;
use mxscan_testkit::bed::*;
use mxscan_testkit::client::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

const POLICY: &[u8] = b"version: STSv1\nmode: enforce\nmx: mx.example.com\nmax_age: 86400\n";

fn site(response: HttpResponse) -> HttpsSite {
    HttpsSite::Serve {
        rtt: Duration::ZERO,
        cert: CertSpec {
            names: CertNames::Sni {
                fallback: "mta-sts.fallback.test".into(),
            },
            defect: CertDefect::None,
        },
        response,
    }
}

fn policy_body(content_type: Option<&str>) -> HttpResponse {
    HttpResponse::Body {
        content_type: content_type.map(str::to_string),
        body: POLICY.to_vec(),
    }
}

/// A parsed response: status, lower-cased headers, body.
struct Response {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

fn parse(raw: &[u8]) -> Response {
    let end = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("complete head")
        + 4;
    let head = std::str::from_utf8(&raw[..end]).unwrap();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers = lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let (n, v) = l.split_once(':').unwrap();
            (n.trim().to_ascii_lowercase(), v.trim().to_string())
        })
        .collect();
    Response {
        status,
        headers,
        body: raw[end..].to_vec(),
    }
}

/// Connect to `addr`, shake hands for `host` and send `GET path` with `headers` (each line
/// ending in CRLF) after `Host`: the stream, for reading the response.
async fn request(
    bed: &Bed,
    addr: SocketAddr,
    host: &str,
    path: &str,
    headers: &str,
) -> TlsStream<TcpStream> {
    let tcp = connect(addr).await;
    let mut tls = tls_handshake(&default_connector(&bed.ca), tcp, host)
        .await
        .unwrap();
    let req = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\n{headers}\r\n");
    tls.write_all(req.as_bytes()).await.unwrap();
    tls
}

/// [`request`] of the policy, without `Connection: close`.
async fn request_policy(bed: &Bed, addr: SocketAddr, host: &str) -> TlsStream<TcpStream> {
    request(bed, addr, host, "/.well-known/mta-sts.txt", "").await
}

async fn get(bed: &Bed, addr: SocketAddr, host: &str, path: &str) -> Response {
    let mut tls = request(bed, addr, host, path, "Connection: close\r\n").await;
    let (raw, end) = read_all(&mut tls, 1 << 20).await;
    end.unwrap();
    parse(&raw)
}

/// One read (of at most 16 bytes) within `wait`.
async fn read_some(tls: &mut TlsStream<TcpStream>, wait: Duration) -> Vec<u8> {
    let mut buf = [0u8; 16];
    let n = tokio::time::timeout(wait, tls.read(&mut buf))
        .await
        .unwrap()
        .unwrap();
    buf[..n].to_vec()
}

/// The handshake failed because the server reset the connection.
fn assert_reset(f: TlsFailure) {
    assert!(
        matches!(f, TlsFailure::Io(ErrorKind::ConnectionReset, _)),
        "{f:?}"
    );
}

#[tokio::test]
async fn policy_body_and_headers() {
    let (a, b) = (ip(20, 0, 1), ip(20, 0, 2));
    let table = BehaviourTable::new()
        .https(a, site(policy_body(Some("text/plain"))))
        .https(b, site(policy_body(None)));
    let bed = https_bed(table).await;

    let r = get(
        &bed,
        bed.addr(a),
        "mta-sts.example.com",
        "/.well-known/mta-sts.txt",
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body, POLICY);
    assert_eq!(r.header("content-type"), Some("text/plain"));
    assert_eq!(
        r.header("content-length"),
        Some(POLICY.len().to_string().as_str())
    );
    assert_eq!(r.header("connection"), Some("close"));

    let r = get(
        &bed,
        bed.addr(b),
        "mta-sts.example.com",
        "/.well-known/mta-sts.txt",
    )
    .await;
    assert_eq!((r.status, r.header("content-type")), (200, None));
    assert_eq!(r.body, POLICY);

    // Other paths: 404, with a small HTML page.
    for path in ["/", "/.well-known/mta-sts", "/robots.txt"] {
        let r = get(&bed, bed.addr(a), "mta-sts.example.com", path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.header("content-type").unwrap().starts_with("text/html"));
    }
    // A query string does not change the resource.
    let r = get(
        &bed,
        bed.addr(a),
        "mta-sts.example.com",
        "/.well-known/mta-sts.txt?x=1",
    )
    .await;
    assert_eq!(r.status, 200);
}

#[tokio::test]
async fn status_and_redirect() {
    let (s500, s404, redir) = (ip(20, 1, 1), ip(20, 1, 2), ip(20, 1, 3));
    let table = BehaviourTable::new()
        .https(s500, site(HttpResponse::Status(500)))
        .https(s404, site(HttpResponse::Status(404)))
        .https(
            redir,
            site(HttpResponse::Redirect(
                "https://elsewhere.test/policy.txt".into(),
            )),
        );
    let bed = https_bed(table).await;
    let path = "/.well-known/mta-sts.txt";
    let r = get(&bed, bed.addr(s500), "mta-sts.a.test", path).await;
    assert_eq!(r.status, 500);
    assert!(String::from_utf8_lossy(&r.body).contains("<html>"));
    assert_eq!(
        get(&bed, bed.addr(s404), "mta-sts.a.test", path)
            .await
            .status,
        404
    );
    let r = get(&bed, bed.addr(redir), "mta-sts.a.test", path).await;
    assert_eq!(r.status, 301);
    assert_eq!(
        r.header("location"),
        Some("https://elsewhere.test/policy.txt")
    );
}

#[tokio::test]
async fn oversized_body_client_stops_at_64k() {
    let a = ip(20, 2, 1);
    let size = 10u64 << 20;
    let bed = https_bed(BehaviourTable::new().https(a, site(HttpResponse::Oversized(size)))).await;
    let mut tls = request_policy(&bed, bed.addr(a), "mta-sts.big.test").await;
    let (raw, end) = read_all(&mut tls, 64 * 1024).await;
    end.unwrap();
    assert!(raw.len() >= 64 * 1024);
    let r = parse(&raw);
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-length"), Some(size.to_string().as_str()));
    assert_eq!(r.header("content-type"), Some("text/plain"));
    drop(tls);
    assert_idle(&bed, "server stopped streaming once the client left").await;
}

#[tokio::test]
async fn slowloris_trickles_one_byte_per_second() {
    let a = ip(20, 3, 1);
    let bed = https_bed(BehaviourTable::new().https(a, site(HttpResponse::Slowloris))).await;
    let mut tls = request_policy(&bed, bed.addr(a), "mta-sts.slow.test").await;
    let t = Instant::now();
    let byte = read_some(&mut tls, WAIT).await;
    let first = t.elapsed();
    assert_eq!(byte, b"H", "one byte at a time");
    assert!(
        first >= Duration::from_millis(900),
        "first byte after ~1 s, got {first:?}"
    );
    let byte = read_some(&mut tls, Duration::from_secs(3)).await;
    assert_eq!(byte, b"T");
    assert!(t.elapsed() >= Duration::from_millis(1900));
}

#[tokio::test]
async fn reset_site_resets_before_any_byte() {
    let a = ip(20, 4, 1);
    let bed = https_bed(BehaviourTable::new().https(a, HttpsSite::Reset)).await;
    let mut tcp = connect(bed.addr(a)).await;
    let mut buf = [0u8; 8];
    let r = read_once(&mut tcp, &mut buf).await;
    assert_eq!(r.map_err(|e| e.kind()), Err(ErrorKind::ConnectionReset));
    // Through a TLS client: the handshake fails with a reset.
    assert_reset(tls_failure(&bed.ca, connect(bed.addr(a)).await, "mta-sts.r.test").await);
}

#[tokio::test]
async fn sites_chosen_by_sni() {
    let a = ip(20, 5, 1);
    let table = BehaviourTable::new()
        .https_named(a, "mta-sts.one.test", site(policy_body(Some("text/plain"))))
        .https_named(a, "mta-sts.two.test", site(HttpResponse::Status(403)));
    let bed = https_bed(table).await;
    let path = "/.well-known/mta-sts.txt";
    assert_eq!(
        get(&bed, bed.addr(a), "mta-sts.one.test", path)
            .await
            .status,
        200
    );
    assert_eq!(
        get(&bed, bed.addr(a), "mta-sts.two.test", path)
            .await
            .status,
        403
    );
    // An unknown name at that address: reset after the ClientHello.
    assert_reset(tls_failure(&bed.ca, connect(bed.addr(a)).await, "mta-sts.three.test").await);
}

#[tokio::test]
async fn certificate_defects_fail_verification() {
    let name = "mta-sts.cert.test";
    let cases: [(u8, CertDefect, &str, Option<CertCheck>); 7] = [
        (1, CertDefect::None, name, None),
        (2, CertDefect::Expired, name, Some(is_expired)),
        (3, CertDefect::NotYetValid, name, Some(is_not_yet_valid)),
        (4, CertDefect::SelfSigned, name, Some(is_unknown_issuer)),
        (5, CertDefect::UnknownIssuer, name, Some(is_unknown_issuer)),
        (
            6,
            CertDefect::IncompleteChain,
            name,
            Some(is_unknown_issuer),
        ),
        (
            7,
            CertDefect::None,
            "mta-sts.wrong.test",
            Some(is_wrong_name),
        ),
    ];
    let mut table = BehaviourTable::new();
    for (last, defect, names, _) in &cases {
        let cert = fixed(&[names], *defect);
        table = table.https(
            ip(20, 6, *last),
            HttpsSite::Serve {
                rtt: Duration::ZERO,
                cert,
                response: policy_body(Some("text/plain")),
            },
        );
    }
    let bed = https_bed(table).await;
    let connector = default_connector(&bed.ca);
    for (last, defect, _, check) in cases {
        let tcp = connect(bed.addr(ip(20, 6, last))).await;
        let case = format!("case {last} {defect:?}");
        assert_handshake(tls_handshake(&connector, tcp, name).await, check, &case);
    }
}

#[tokio::test]
async fn rtt_delays_the_response() {
    let a = ip(20, 7, 1);
    let site = HttpsSite::Serve {
        rtt: Duration::from_millis(200),
        cert: fixed(&["mta-sts.rtt.test"], CertDefect::None),
        response: policy_body(Some("text/plain")),
    };
    let bed = https_bed(BehaviourTable::new().https(a, site)).await;
    let t = Instant::now();
    let r = get(
        &bed,
        bed.addr(a),
        "mta-sts.rtt.test",
        "/.well-known/mta-sts.txt",
    )
    .await;
    assert_eq!(r.status, 200);
    assert!(t.elapsed() >= Duration::from_millis(200));
}

/// Regression: the slowloris site noticed a client that gave up only at its next one-byte
/// write (a second or two later), so the connection log showed the connection open after
/// the scanner had closed it — a false "two connections at once" when the scanner's next
/// fetch to the same address followed at once.
#[tokio::test]
async fn slowloris_notices_the_client_leaving_at_once() {
    let a = ip(20, 3, 2);
    let bed = https_bed(BehaviourTable::new().https(a, site(HttpResponse::Slowloris))).await;
    let mut tls = request_policy(&bed, bed.addr(a), "mta-sts.slow.test").await;
    assert_eq!(read_some(&mut tls, WAIT).await, b"H");
    // Leave 100 ms into the server's one-second pause.
    tokio::time::sleep(Duration::from_millis(100)).await;
    drop(tls);
    let left = Instant::now();
    wait_until(Duration::from_millis(5), || bed.log.open_now() == 0).await;
    let noticed = left.elapsed();
    assert_eq!(bed.log.open_now(), 0);
    assert!(
        noticed < Duration::from_millis(300),
        "close logged {noticed:?} after the client left"
    );
}
