//! The testbed's HTTPS server: the `mta-sts.<domain>` policy hosts (RFC 8461 §3.3).
//!
//! Per connection: the dialled address is asked for its site with no SNI first, so that a
//! [`HttpsSite::Reset`] address is reset before a byte is read; otherwise the ClientHello is
//! read, the site is chosen by (address, SNI), the handshake presents the CA's chain for it,
//! and one HTTP/1.1 request is answered (`Connection: close`, no keep-alive):
//!
//! - `GET` (or `HEAD`) of `/.well-known/mta-sts.txt`, any Host, query ignored: the site's
//!   [`HttpResponse`] —
//!   `Body` → `200 OK` with its Content-Type (omitted when `None`) and Content-Length;
//!   `Status(code)` → that status with a small HTML page;
//!   `Redirect(location)` → `301 Moved Permanently` with `Location`;
//!   `Oversized(n)` → `200 OK`, `text/plain`, Content-Length n, a body of policy-like
//!   comment lines streamed in 16 KiB writes;
//!   `Slowloris` → a status line and headers sent one byte per second, without end (until the
//!   client leaves, or [`ServerOptions::hold_cap`]).
//! - any other path: `404 Not Found`; any other method: `405 Method Not Allowed`;
//!   an unreadable or oversized request head: `400 Bad Request`.
//!
//! The site's `rtt` is waited after the ClientHello (the server's handshake flight) and
//! again before the response is written.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;

use crate::behaviour::{Behaviours, HttpResponse, HttpsSite};
use crate::ca::Ca;
use crate::connlog::{ConnLog, ServerKind};
use crate::error::TestbedError;
use crate::listener::{
    ServerHandle, ServerOptions, close_gracefully, dialled_v4, reset, serve, write_after,
};

/// The only path that is served (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// Size of one body write when streaming an oversized response.
const CHUNK: usize = 16 * 1024;

/// Start the HTTPS server on `bind` with the default [`ServerOptions`].
pub async fn start_https(
    bind: SocketAddr,
    behaviours: Arc<dyn Behaviours>,
    ca: Arc<Ca>,
    log: ConnLog,
) -> Result<ServerHandle, TestbedError> {
    start_https_with(bind, behaviours, ca, log, ServerOptions::default()).await
}

/// Start the HTTPS server on `bind` with explicit limits.
pub async fn start_https_with(
    bind: SocketAddr,
    behaviours: Arc<dyn Behaviours>,
    ca: Arc<Ca>,
    log: ConnLog,
    options: ServerOptions,
) -> Result<ServerHandle, TestbedError> {
    let options = Arc::new(options);
    serve(bind, ServerKind::Https, log, move |stream, local| {
        let behaviours = Arc::clone(&behaviours);
        let ca = Arc::clone(&ca);
        let options = Arc::clone(&options);
        async move { handle(stream, local, behaviours.as_ref(), &ca, &options).await }
    })
    .await
}

async fn handle(
    tcp: TcpStream,
    local: SocketAddr,
    behaviours: &dyn Behaviours,
    ca: &Ca,
    opts: &ServerOptions,
) {
    let Some(ip) = dialled_v4(local) else {
        reset(tcp);
        return;
    };
    if behaviours.https_site(ip, None) == HttpsSite::Reset {
        reset(tcp);
        return;
    }
    let deadline = tokio::time::Instant::now() + opts.handshake_timeout;
    let acceptor = LazyConfigAcceptor::new(Acceptor::default(), tcp);
    let Ok(Ok(start)) = tokio::time::timeout_at(deadline, acceptor).await else {
        return;
    };
    let sni = start.client_hello().server_name().map(str::to_owned);
    let (rtt, cert, response) = match behaviours.https_site(ip, sni.as_deref()) {
        HttpsSite::Reset => {
            reset(start.io);
            return;
        }
        HttpsSite::Serve {
            rtt,
            cert,
            response,
        } => (rtt, cert, response),
    };
    let renewal = behaviours.cert_renewal(ip, sni.as_deref());
    let config = match ca.server_config_renewed(&cert, sni.as_deref(), renewal) {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, ?sni, "no certificate for HTTPS site");
            return;
        }
    };
    // The server's handshake flight takes a round trip too.
    if !rtt.is_zero() {
        tokio::time::sleep(rtt).await;
    }
    let Ok(Ok(mut tls)) = tokio::time::timeout_at(deadline, start.into_stream(config)).await else {
        return;
    };
    let head = tokio::time::timeout(opts.idle_timeout, read_head(&mut tls, opts.request_cap)).await;
    let request = match head {
        Ok(Ok(head)) => parse_request(&head),
        Ok(Err(HeadError::Gone)) | Err(_) => return,
        Ok(Err(HeadError::Bad)) => None,
    };
    let sent = match request {
        None => simple(&mut tls, rtt, 400, false).await,
        Some((method, path)) => {
            let head_only = method == "HEAD";
            if method != "GET" && !head_only {
                simple(&mut tls, rtt, 405, false).await
            } else if path.split('?').next() != Some(POLICY_PATH) {
                simple(&mut tls, rtt, 404, head_only).await
            } else {
                respond(&mut tls, rtt, &response, head_only, opts).await
            }
        }
    };
    if sent.is_ok() {
        close_gracefully(tls, opts.close_drain).await;
    }
}

#[derive(Debug)]
pub(crate) enum HeadError {
    /// The client left (or the connection failed).
    Gone,
    /// Too long, or not a request.
    Bad,
}

/// Read up to the blank line that ends an HTTP request head (cap `cap` bytes).
pub(crate) async fn read_head<S: AsyncRead + Unpin>(
    s: &mut S,
    cap: usize,
) -> Result<Vec<u8>, HeadError> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 2048];
    loop {
        if let Some(end) = find_head_end(&buf) {
            buf.truncate(end);
            return Ok(buf);
        }
        if buf.len() > cap {
            return Err(HeadError::Bad);
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return Err(HeadError::Gone),
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// The end of the head (`\r\n\r\n`, or a bare `\n\n`), if complete.
fn find_head_end(buf: &[u8]) -> Option<usize> {
    let crlf = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4);
    let lf = buf.windows(2).position(|w| w == b"\n\n").map(|p| p + 2);
    match (crlf, lf) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    }
}

/// Method and target of the request line (`GET /path HTTP/1.1`).
pub(crate) fn parse_request(head: &[u8]) -> Option<(String, String)> {
    let text = std::str::from_utf8(head).ok()?;
    let line = text.lines().next()?;
    let mut parts = line.split_ascii_whitespace();
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if !version.starts_with("HTTP/1.") || parts.next().is_some() {
        return None;
    }
    // Absolute-form targets (`https://host/path`) are reduced to their path.
    let path = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    Some((method.to_string(), path.to_string()))
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        301 => "Moved Permanently",
        302 => "Found",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A response head with the usual headers.
fn head(code: u16, content_type: Option<&str>, length: u64, extra: &str) -> String {
    let mut h = format!(
        "HTTP/1.1 {code} {}\r\nServer: mxscan-testbed\r\n",
        reason(code)
    );
    if let Some(ct) = content_type {
        h.push_str(&format!("Content-Type: {ct}\r\n"));
    }
    h.push_str(extra);
    h.push_str(&format!(
        "Content-Length: {length}\r\nConnection: close\r\n\r\n"
    ));
    h
}

/// A status with a small HTML body.
async fn simple<S: AsyncWrite + Unpin>(
    s: &mut S,
    rtt: Duration,
    code: u16,
    head_only: bool,
) -> std::io::Result<()> {
    let page = html(code);
    let mut out = head(
        code,
        Some("text/html; charset=utf-8"),
        page.len() as u64,
        "",
    )
    .into_bytes();
    if !head_only {
        out.extend_from_slice(page.as_bytes());
    }
    write_after(s, rtt, &out).await
}

fn html(code: u16) -> String {
    let r = reason(code);
    format!(
        "<!DOCTYPE html>\n<html><head><title>{code} {r}</title></head><body><h1>{code} {r}</h1></body></html>\n"
    )
}

async fn respond<S>(
    s: &mut S,
    rtt: Duration,
    response: &HttpResponse,
    head_only: bool,
    opts: &ServerOptions,
) -> std::io::Result<()>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    match response {
        HttpResponse::Body { content_type, body } => {
            let mut out = head(200, content_type.as_deref(), body.len() as u64, "").into_bytes();
            if !head_only {
                out.extend_from_slice(body);
            }
            write_after(s, rtt, &out).await
        }
        HttpResponse::Status(code) => simple(s, rtt, *code, head_only).await,
        HttpResponse::Redirect(location) => {
            let page = html(301);
            let extra = format!("Location: {location}\r\n");
            let mut out = head(
                301,
                Some("text/html; charset=utf-8"),
                page.len() as u64,
                &extra,
            )
            .into_bytes();
            if !head_only {
                out.extend_from_slice(page.as_bytes());
            }
            write_after(s, rtt, &out).await
        }
        HttpResponse::Oversized(n) => {
            write_after(s, rtt, head(200, Some("text/plain"), *n, "").as_bytes()).await?;
            if !head_only {
                stream_body(s, *n).await?;
            }
            s.flush().await
        }
        HttpResponse::Slowloris => {
            if !rtt.is_zero() {
                tokio::time::sleep(rtt).await;
            }
            let _ = tokio::time::timeout(opts.hold_cap, slowloris(s)).await;
            // Never completed: the caller must not treat the response as sent.
            Err(std::io::ErrorKind::TimedOut.into())
        }
    }
}

/// `n` bytes of comment lines, in [`CHUNK`]-sized writes.
async fn stream_body<S: AsyncWrite + Unpin>(s: &mut S, n: u64) -> std::io::Result<()> {
    let line = b"# padding: this policy file is larger than any client should read.\n";
    let chunk: Vec<u8> = line.iter().copied().cycle().take(CHUNK).collect();
    let mut left = n;
    while left > 0 {
        let take = left.min(CHUNK as u64) as usize;
        s.write_all(&chunk[..take]).await?;
        left -= take as u64;
    }
    Ok(())
}

/// One byte per second: a status line, then header lines, never the blank line.
///
/// Between bytes the server watches the connection, so a client that gives up is noticed
/// at once (end of stream or reset), not at the next write a second or two later: the
/// connection log's close time is the evidence politeness tests judge "one connection per
/// address at a time" on, and a late close would look like an overlap with the client's
/// next connection to the address.
async fn slowloris<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S) -> std::io::Result<()> {
    let start = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n";
    let more = b"X-Slow: waiting\r\n";
    let bytes = start.iter().chain(more.iter().cycle());
    let mut sink = [0u8; 512];
    for &b in bytes {
        let tick = tokio::time::sleep(Duration::from_secs(1));
        tokio::pin!(tick);
        loop {
            tokio::select! {
                _ = &mut tick => break,
                // `read` is cancel-safe; whatever the client sends meanwhile is discarded.
                r = s.read(&mut sink) => match r {
                    Ok(0) => return Err(std::io::ErrorKind::UnexpectedEof.into()),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                },
            }
        }
        s.write_all(&[b]).await?;
        s.flush().await?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_lines() {
        type Case<'a> = (&'a [u8], Option<(&'a str, &'a str)>);
        let cases: &[Case<'_>] = &[
            (
                b"GET /.well-known/mta-sts.txt HTTP/1.1\r\nHost: x\r\n\r\n",
                Some(("GET", POLICY_PATH)),
            ),
            (b"HEAD / HTTP/1.0\r\n\r\n", Some(("HEAD", "/"))),
            (
                b"GET https://mta-sts.example.com/a?b HTTP/1.1\r\n\r\n",
                Some(("GET", "/a?b")),
            ),
            (b"GET /\r\n\r\n", None),
            (b"GET / SPDY/3\r\n\r\n", None),
            (b"\xff\r\n\r\n", None),
        ];
        for (head, want) in cases {
            let got = parse_request(head);
            let want = want.map(|(m, p)| (m.to_string(), p.to_string()));
            assert_eq!(got, want, "{:?}", String::from_utf8_lossy(head));
        }
    }

    #[test]
    fn head_ends() {
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n\r\nrest"), Some(18));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\n\n"), Some(16));
        assert_eq!(find_head_end(b"GET / HTTP/1.1\r\n"), None);
    }

    #[test]
    fn heads_carry_length_and_close() {
        let h = head(200, None, 5, "");
        assert!(h.starts_with("HTTP/1.1 200 OK\r\n"));
        assert!(!h.contains("Content-Type"));
        assert!(h.contains("Content-Length: 5\r\nConnection: close\r\n\r\n"));
        let h = head(301, Some("text/html"), 0, "Location: https://x/\r\n");
        assert!(h.contains("Location: https://x/\r\n"));
    }

    #[tokio::test]
    async fn oversized_body_has_exact_length() {
        let mut out = Vec::new();
        stream_body(&mut out, 100_001).await.unwrap();
        assert_eq!(out.len(), 100_001);
    }
}
