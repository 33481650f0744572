//! The MTA-STS policy fetch (RFC 8461 §3.3): `GET https://mta-sts.<domain>/.well-known/mta-sts.txt`.
//!
//! What a compliant sender does, measured step by step, every failure an outcome
//! ([`FetchError`], column `domains.sts_fetch_error`):
//!
//! 1. Resolve `mta-sts.<domain>` with the scanner's resolver (A; AAAA too when
//!    [`FetchOptions::ipv6`]). No address → `dns`.
//! 2. Dial through the [`Dialer`] (blocklist re-checked there). Every address blocked →
//!    `connect` with [`FetchOutcome::blocked`] set; refused / unreachable → `connect`;
//!    a reset or EOF before the server sent a byte → `connect` ("refused or reset before the
//!    server said anything", as for SMTP); no answer within the connect timeout → `timeout`.
//!    Addresses are tried in answer order (at most [`FetchOptions::max_addresses`]).
//! 3. TLS 1.2+ with SNI `mta-sts.<domain>`; the handshake accepts any certificate (so the
//!    chain is always captured), then [`TrustStore::judge`] decides for `mta-sts.<domain>` at
//!    [`FetchOptions::at`]: untrusted_issuer / self_signed / incomplete_chain →
//!    `tls_untrusted`; expired / not_yet_valid → `tls_expired`; name_mismatch →
//!    `tls_name_mismatch`; `other` and handshake failures → `tls_other`. An invalid
//!    certificate stops the fetch: a sender would not send the request.
//! 4. HTTP/1.1 `GET` with `Host`, `Connection: close` and no conditional/caching headers
//!    (§3.3: HTTP caching MUST NOT be used). `3xx` → `redirect` (never followed; Location
//!    recorded); any other non-200 → `http_status`.
//! 5. Body: Content-Length, chunked, or close-delimited; more than [`FetchOptions::max_body`]
//!    bytes (64 KiB, §3.3's suggestion) → `too_large` (reading stops at the cap + 1, or at
//!    once when Content-Length announces more). Reset / EOF mid-way → `io`.
//!
//! Deadlines: the whole fetch ([`FetchOptions::timeout`], 60 s per §3.3) and each read
//! ([`FetchOptions::read_timeout`]) → `timeout`. A server that drips bytes (slowloris) hits
//! the whole-fetch deadline.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::ClientConfig;
use rustls_pki_types::{CertificateDer, UnixTime};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio_rustls::TlsConnector;

use crate::cert::{CertStatus, TrustStore};
use crate::dialer::{DialOutcome, Dialer};
use crate::dns::{Dns, DnsStatus};
use crate::io_util::{CountingStream, is_hangup};
use crate::tls::{HandshakeInfo, server_name};

/// The policy path (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// Why a policy fetch failed (`domains.sts_fetch_error`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FetchError {
    /// `mta-sts.<domain>` has no usable address.
    Dns,
    /// Blocked, refused, unreachable, or reset before the server sent anything.
    Connect,
    /// A deadline passed (connect, a read, or the whole fetch).
    Timeout,
    /// Certificate does not chain to a trust anchor (untrusted issuer, self-signed,
    /// incomplete chain).
    TlsUntrusted,
    /// Certificate expired or not yet valid.
    TlsExpired,
    /// Certificate not valid for `mta-sts.<domain>`.
    TlsNameMismatch,
    /// Handshake failure or other certificate problem.
    TlsOther,
    /// HTTP status other than 200 and not a redirect.
    HttpStatus,
    /// A 3xx response (RFC 8461 §3.3: redirects MUST NOT be followed).
    Redirect,
    /// Body over the cap.
    TooLarge,
    /// Reset, EOF or malformed HTTP after the handshake.
    Io,
}

impl FetchError {
    /// The snake_case vocabulary word.
    pub fn as_str(self) -> &'static str {
        match self {
            FetchError::Dns => "dns",
            FetchError::Connect => "connect",
            FetchError::Timeout => "timeout",
            FetchError::TlsUntrusted => "tls_untrusted",
            FetchError::TlsExpired => "tls_expired",
            FetchError::TlsNameMismatch => "tls_name_mismatch",
            FetchError::TlsOther => "tls_other",
            FetchError::HttpStatus => "http_status",
            FetchError::Redirect => "redirect",
            FetchError::TooLarge => "too_large",
            FetchError::Io => "io",
        }
    }

    /// Every value.
    pub const ALL: [FetchError; 11] = [
        FetchError::Dns,
        FetchError::Connect,
        FetchError::Timeout,
        FetchError::TlsUntrusted,
        FetchError::TlsExpired,
        FetchError::TlsNameMismatch,
        FetchError::TlsOther,
        FetchError::HttpStatus,
        FetchError::Redirect,
        FetchError::TooLarge,
        FetchError::Io,
    ];

    /// The fetch error a certificate verdict causes (`None` for `valid`).
    pub fn from_cert_status(s: CertStatus) -> Option<FetchError> {
        match s {
            CertStatus::Valid => None,
            CertStatus::UntrustedIssuer | CertStatus::SelfSigned | CertStatus::IncompleteChain => {
                Some(FetchError::TlsUntrusted)
            }
            CertStatus::Expired | CertStatus::NotYetValid => Some(FetchError::TlsExpired),
            CertStatus::NameMismatch => Some(FetchError::TlsNameMismatch),
            CertStatus::Other => Some(FetchError::TlsOther),
        }
    }
}

/// Caps, deadlines and shared configuration of a fetch.
#[derive(Debug, Clone)]
pub struct FetchOptions {
    /// Whole-fetch deadline (default 60 s).
    pub timeout: Duration,
    /// TCP connect deadline per address (default 10 s).
    pub connect_timeout: Duration,
    /// Deadline of the TLS handshake (default 20 s).
    pub handshake_timeout: Duration,
    /// Deadline of each read (default 15 s).
    pub read_timeout: Duration,
    /// Body cap (default 64 KiB).
    pub max_body: usize,
    /// Cap of the status line + headers (default 16 KiB; more → `too_large`).
    pub max_head: usize,
    /// Also resolve AAAA (default false).
    pub ipv6: bool,
    /// Addresses tried at most (default 2).
    pub max_addresses: usize,
    /// The survey timestamp the certificate is judged at.
    pub at: UnixTime,
    /// `User-Agent` header value.
    pub user_agent: String,
    /// The TLS configuration (build once with `tls::client_config(&[b"http/1.1"])`).
    pub tls: Arc<ClientConfig>,
}

impl FetchOptions {
    /// Defaults with the given TLS configuration, judged now.
    pub fn new(tls: Arc<ClientConfig>) -> Self {
        Self {
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(10),
            handshake_timeout: Duration::from_secs(20),
            read_timeout: Duration::from_secs(15),
            max_body: 64 * 1024,
            max_head: 16 * 1024,
            ipv6: false,
            max_addresses: 2,
            at: UnixTime::now(),
            user_agent: concat!("mxscan/", env!("CARGO_PKG_VERSION")).to_string(),
            tls,
        }
    }
}

/// Everything observed during one fetch, successful or not.
#[derive(Debug, Clone, Default)]
pub struct FetchOutcome {
    /// `None`: HTTP 200 with a body within the cap (the policy is then parsed elsewhere).
    pub error: Option<FetchError>,
    /// Every address of the policy host was on the blocklist (error `connect`).
    pub blocked: bool,
    /// The address the fetch connected to (or last tried).
    pub address: Option<IpAddr>,
    /// HTTP status code, if a response head was read.
    pub http_status: Option<u16>,
    /// `Content-Type` as sent.
    pub content_type: Option<String>,
    /// `Location` of a redirect.
    pub location: Option<String>,
    /// The body (≤ max_body), for a 200.
    pub body: Option<Vec<u8>>,
    /// The certificate verdict for `mta-sts.<domain>`.
    pub cert_status: Option<CertStatus>,
    /// Negotiated TLS parameters and the presented chain.
    pub tls: Option<HandshakeInfo>,
    /// Human-readable detail of the error.
    pub detail: Option<String>,
    /// Wall time of the whole fetch.
    pub elapsed: Duration,
}

impl FetchOutcome {
    /// The presented chain (empty when no handshake completed).
    pub fn chain(&self) -> &[CertificateDer<'static>] {
        self.tls.as_ref().map(|t| t.chain.as_slice()).unwrap_or(&[])
    }

    fn fail(&mut self, e: FetchError, detail: impl Into<String>) {
        self.error = Some(e);
        self.detail = Some(detail.into());
    }
}

/// Fetches the MTA-STS policy of `domain` (already normalised, no trailing dot).
pub async fn fetch_policy(
    domain: &str,
    dns: &Dns,
    dialer: &Dialer,
    trust: &TrustStore,
    opts: &FetchOptions,
) -> FetchOutcome {
    fetch(domain, None, dns, dialer, trust, opts).await
}

/// Like [`fetch_policy`], but dials exactly `addrs` (already resolved and chosen by the
/// caller — e.g. the one address the politeness gate admitted) instead of resolving
/// `mta-sts.<domain>` again, so the connection starts the moment the caller decides.
/// An empty `addrs` is the `dns` error.
pub async fn fetch_policy_at(
    domain: &str,
    addrs: &[IpAddr],
    dns: &Dns,
    dialer: &Dialer,
    trust: &TrustStore,
    opts: &FetchOptions,
) -> FetchOutcome {
    fetch(domain, Some(addrs), dns, dialer, trust, opts).await
}

/// Both entry points: the whole-fetch deadline around [`fetch_inner`].
async fn fetch(
    domain: &str,
    given: Option<&[IpAddr]>,
    dns: &Dns,
    dialer: &Dialer,
    trust: &TrustStore,
    opts: &FetchOptions,
) -> FetchOutcome {
    let start = Instant::now();
    let mut out = FetchOutcome::default();
    let host = format!(
        "mta-sts.{}",
        domain.trim_end_matches('.').to_ascii_lowercase()
    );
    let run = fetch_inner(&host, given, dns, dialer, trust, opts, &mut out);
    if tokio::time::timeout(opts.timeout, run).await.is_err() {
        out.fail(FetchError::Timeout, "whole-fetch deadline passed");
    }
    out.elapsed = start.elapsed();
    out
}

async fn fetch_inner(
    host: &str,
    given: Option<&[IpAddr]>,
    dns: &Dns,
    dialer: &Dialer,
    trust: &TrustStore,
    opts: &FetchOptions,
    out: &mut FetchOutcome,
) {
    // 1. Addresses (unless the caller resolved them).
    let addrs: Vec<IpAddr> = match given {
        Some(given) => given.to_vec(),
        None => {
            let a = dns.ipv4(host).await;
            let mut addrs = a.addrs.clone();
            let mut dns_status = a.status;
            if opts.ipv6 {
                let aaaa = dns.ipv6(host).await;
                addrs.extend(aaaa.addrs.iter().copied());
                if dns_status != DnsStatus::Ok {
                    dns_status = aaaa.status;
                }
            }
            if addrs.is_empty() {
                out.fail(FetchError::Dns, format!("{host}: {}", dns_status.as_str()));
                return;
            }
            addrs
        }
    };
    if addrs.is_empty() {
        out.fail(FetchError::Dns, format!("{host}: no address"));
        return;
    }

    // 2. Connect: the first address that accepts.
    let mut stream = None;
    let mut all_blocked = true;
    let mut last: Option<(FetchError, String)> = None;
    for ip in addrs.iter().take(opts.max_addresses.max(1)) {
        out.address = Some(*ip);
        match dialer.connect_https(*ip, opts.connect_timeout).await {
            DialOutcome::Connected(s) => {
                stream = Some(s);
                break;
            }
            DialOutcome::Blocked(r) => {
                last = Some((
                    FetchError::Connect,
                    format!("{ip} blocked ({})", r.as_str()),
                ));
                continue;
            }
            DialOutcome::Refused(e) => last = Some((FetchError::Connect, format!("{ip}: {e}"))),
            DialOutcome::Timeout => {
                last = Some((FetchError::Timeout, format!("{ip}: connect timeout")))
            }
            DialOutcome::Error(e) => last = Some((FetchError::Connect, format!("{ip}: {e}"))),
        }
        all_blocked = false;
    }
    let Some(tcp) = stream else {
        out.blocked = all_blocked;
        let (e, d) = last.unwrap_or((FetchError::Connect, "no address tried".into()));
        out.fail(e, d);
        return;
    };

    // 3. TLS; judge the chain offline.
    let Ok(sni) = server_name(host) else {
        out.fail(FetchError::TlsOther, format!("invalid server name {host}"));
        return;
    };
    let counting = CountingStream::new(tcp);
    let peer_bytes = counting.counter();
    let connector = TlsConnector::from(opts.tls.clone());
    let mut tls = match tokio::time::timeout(
        opts.handshake_timeout,
        connector.connect(sni, counting),
    )
    .await
    {
        Err(_) => {
            out.fail(FetchError::Timeout, "TLS handshake timeout");
            return;
        }
        Ok(Err(e)) => {
            // Reset or closed before the server sent a byte: nothing listens there.
            let d = format!("TLS handshake: {e}");
            if is_hangup(&e) && peer_bytes.load(std::sync::atomic::Ordering::Relaxed) == 0 {
                out.fail(FetchError::Connect, d);
            } else {
                out.fail(FetchError::TlsOther, d);
            }
            return;
        }
        Ok(Ok(s)) => s,
    };
    let info = HandshakeInfo::from_conn(tls.get_ref().1);
    let verdict = trust.judge(&info.chain, host, opts.at);
    out.cert_status = Some(verdict);
    out.tls = Some(info);
    if let Some(e) = FetchError::from_cert_status(verdict) {
        out.fail(e, format!("certificate for {host}: {}", verdict.as_str()));
        let _ = tls.shutdown().await;
        return;
    }

    // 4. Request.
    let req = format!(
        "GET {POLICY_PATH} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: {}\r\nAccept: text/plain, */*;q=0.1\r\nConnection: close\r\n\r\n",
        opts.user_agent
    );
    if let Err(e) = tls.write_all(req.as_bytes()).await {
        out.fail(FetchError::Io, format!("writing request: {e}"));
        return;
    }
    let _ = tls.flush().await;

    // 5. Response.
    read_response(&mut tls, opts, out).await;
}

struct Reader<'a, S> {
    s: &'a mut S,
    buf: Vec<u8>,
    eof: bool,
    read_timeout: Duration,
}

enum ReadErr {
    Timeout,
    Io(std::io::Error),
}

impl<S: AsyncRead + Unpin> Reader<'_, S> {
    /// Reads more bytes into `buf` (at most `limit` total); Ok(0) at EOF.
    async fn fill(&mut self, limit: usize) -> Result<usize, ReadErr> {
        if self.eof {
            return Ok(0);
        }
        let room = limit.saturating_sub(self.buf.len()).clamp(1, 16 * 1024);
        let mut tmp = vec![0u8; room];
        match tokio::time::timeout(self.read_timeout, self.s.read(&mut tmp)).await {
            Err(_) => Err(ReadErr::Timeout),
            Ok(Ok(0)) => {
                self.eof = true;
                Ok(0)
            }
            Ok(Ok(n)) => {
                self.buf.extend_from_slice(&tmp[..n]);
                Ok(n)
            }
            // A peer closing without close_notify ends a close-delimited body; the callers
            // decide whether the body was complete.
            Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                self.eof = true;
                Ok(0)
            }
            Ok(Err(e)) => Err(ReadErr::Io(e)),
        }
    }
}

fn read_err(out: &mut FetchOutcome, e: ReadErr, what: &str) {
    match e {
        ReadErr::Timeout => out.fail(FetchError::Timeout, format!("read timeout ({what})")),
        ReadErr::Io(e) => out.fail(FetchError::Io, format!("{what}: {e}")),
    }
}

async fn read_response<S: AsyncRead + Unpin>(
    s: &mut S,
    opts: &FetchOptions,
    out: &mut FetchOutcome,
) {
    let mut r = Reader {
        s,
        buf: Vec::new(),
        eof: false,
        read_timeout: opts.read_timeout,
    };
    // Head.
    let (status, head_len, content_type, location, length, chunked) = loop {
        let mut headers = [httparse::EMPTY_HEADER; 64];
        let mut resp = httparse::Response::new(&mut headers);
        match resp.parse(&r.buf) {
            Ok(httparse::Status::Complete(n)) => {
                let code = resp.code.unwrap_or(0);
                let get = |name: &str| {
                    resp.headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .map(|h| String::from_utf8_lossy(h.value).trim().to_string())
                };
                let te = get("transfer-encoding").unwrap_or_default();
                let chunked = te
                    .rsplit(',')
                    .next()
                    .is_some_and(|t| t.trim().eq_ignore_ascii_case("chunked"));
                let length = get("content-length").map(|v| v.parse::<u64>());
                break (
                    code,
                    n,
                    get("content-type"),
                    get("location"),
                    length,
                    chunked,
                );
            }
            Ok(httparse::Status::Partial) => {}
            Err(e) => {
                out.fail(FetchError::Io, format!("malformed HTTP response: {e}"));
                return;
            }
        }
        if r.buf.len() > opts.max_head {
            out.fail(FetchError::TooLarge, "response head over the cap");
            return;
        }
        match r.fill(opts.max_head + 1).await {
            Ok(0) => {
                out.fail(
                    FetchError::Io,
                    "connection closed before the response head ended",
                );
                return;
            }
            Ok(_) => {}
            Err(e) => return read_err(out, e, "response head"),
        }
    };
    out.http_status = Some(status);
    out.content_type = content_type;
    if (300..400).contains(&status) {
        out.location = location;
        out.fail(FetchError::Redirect, format!("HTTP {status}"));
        return;
    }
    if status != 200 {
        out.fail(FetchError::HttpStatus, format!("HTTP {status}"));
        return;
    }
    let cap = opts.max_body;
    let mut body: Vec<u8> = r.buf.split_off(head_len);
    r.buf.clear();
    if chunked {
        let mut dec = Chunked::default();
        let mut decoded = Vec::new();
        loop {
            match dec.feed(&body, &mut decoded) {
                Ok(consumed) => {
                    body.drain(..consumed);
                }
                Err(e) => {
                    out.fail(FetchError::Io, format!("bad chunked encoding: {e}"));
                    return;
                }
            }
            if decoded.len() > cap {
                out.fail(FetchError::TooLarge, format!("body over {cap} bytes"));
                return;
            }
            if dec.done {
                break;
            }
            if body.len() > 4096 {
                out.fail(FetchError::Io, "chunk size line too long");
                return;
            }
            let before = r.buf.len();
            match r.fill(before + 16 * 1024).await {
                Ok(0) => {
                    out.fail(FetchError::Io, "connection closed inside a chunked body");
                    return;
                }
                Ok(_) => body.append(&mut r.buf),
                Err(e) => return read_err(out, e, "body"),
            }
        }
        out.body = Some(decoded);
        return;
    }
    match length {
        Some(Ok(n)) => {
            if n > cap as u64 {
                out.fail(
                    FetchError::TooLarge,
                    format!("Content-Length {n} over {cap}"),
                );
                return;
            }
            let n = n as usize;
            r.buf = body;
            while r.buf.len() < n {
                match r.fill(n).await {
                    Ok(0) => {
                        out.fail(
                            FetchError::Io,
                            format!("connection closed after {} of {n} body bytes", r.buf.len()),
                        );
                        return;
                    }
                    Ok(_) => {}
                    Err(e) => return read_err(out, e, "body"),
                }
            }
            r.buf.truncate(n);
            out.body = Some(std::mem::take(&mut r.buf));
        }
        Some(Err(_)) => out.fail(FetchError::Io, "invalid Content-Length"),
        None => {
            // Close-delimited: read to EOF, stop at cap + 1.
            r.buf = body;
            while !r.eof {
                if r.buf.len() > cap {
                    break;
                }
                if let Err(e) = r.fill(cap + 1).await {
                    return read_err(out, e, "body");
                }
            }
            if r.buf.len() > cap {
                out.fail(FetchError::TooLarge, format!("body over {cap} bytes"));
                return;
            }
            out.body = Some(std::mem::take(&mut r.buf));
        }
    }
}

/// Incremental chunked transfer-coding decoder (RFC 9112 §7.1).
#[derive(Debug, Default)]
struct Chunked {
    /// Bytes of chunk data still expected in the current chunk.
    remaining: usize,
    /// Expecting the CRLF after chunk data.
    want_crlf: bool,
    /// In the trailer section (after the last chunk).
    trailer: bool,
    done: bool,
}

impl Chunked {
    /// Consumes what it can of `input`, appending data to `out`; returns bytes consumed.
    fn feed(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
        let mut i = 0;
        loop {
            if self.done {
                return Ok(i);
            }
            if self.remaining > 0 {
                let n = self.remaining.min(input.len() - i);
                out.extend_from_slice(&input[i..i + n]);
                i += n;
                self.remaining -= n;
                if self.remaining > 0 {
                    return Ok(i);
                }
                self.want_crlf = true;
            }
            let Some(pos) = input[i..].windows(2).position(|w| w == b"\r\n") else {
                return Ok(i);
            };
            let line = &input[i..i + pos];
            i += pos + 2;
            if self.want_crlf {
                if !line.is_empty() {
                    return Err("missing CRLF after chunk data".into());
                }
                self.want_crlf = false;
                continue;
            }
            if self.trailer {
                if line.is_empty() {
                    self.done = true;
                }
                continue;
            }
            let size_txt = std::str::from_utf8(line)
                .map_err(|_| "non-ASCII chunk size".to_string())?
                .split(';')
                .next()
                .unwrap_or("")
                .trim();
            let size = usize::from_str_radix(size_txt, 16)
                .map_err(|_| format!("bad chunk size {size_txt:?}"))?;
            if size == 0 {
                self.trailer = true;
            } else {
                self.remaining = size;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoder_any_split() {
        let wire =
            b"4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nX-T: 1\r\n\r\n";
        for split in 1..wire.len() {
            let mut dec = Chunked::default();
            let mut out = Vec::new();
            let mut pending = Vec::new();
            for part in wire.chunks(split) {
                pending.extend_from_slice(part);
                let n = dec.feed(&pending, &mut out).unwrap();
                pending.drain(..n);
            }
            assert!(dec.done, "split {split}");
            assert_eq!(out, b"Wikipedia in\r\n\r\nchunks.", "split {split}");
        }
        let mut dec = Chunked::default();
        assert!(dec.feed(b"zz\r\n", &mut Vec::new()).is_err());
    }

    async fn parse(wire: &[u8], max_body: usize) -> FetchOutcome {
        let mut opts = FetchOptions::new(crate::tls::client_config(&[]).unwrap());
        opts.max_body = max_body;
        opts.max_head = 256;
        opts.read_timeout = Duration::from_secs(1);
        let mut out = FetchOutcome::default();
        let mut r: &[u8] = wire;
        read_response(&mut r, &opts, &mut out).await;
        out
    }

    #[tokio::test]
    async fn response_framings() {
        let big_head = format!("HTTP/1.1 200 OK\r\nX-Pad: {}\r\n\r\nbody", "p".repeat(400));
        type Case<'a> = (
            &'a str,
            Vec<u8>,
            usize,
            Option<FetchError>,
            Option<&'a [u8]>,
        );
        let cases: Vec<Case<'_>> = vec![
            ("content-length", b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\n\r\nbodyEXTRA".to_vec(), 64, None, Some(b"body")),
            ("close-delimited", b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it".to_vec(), 64, None, Some(b"all of it")),
            ("chunked", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n".to_vec(), 64, None, Some(b"abcde")),
            ("chunked over cap", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabcde\r\n5\r\nfghij\r\n0\r\n\r\n".to_vec(), 8, Some(FetchError::TooLarge), None),
            ("chunked truncated", b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nab".to_vec(), 64, Some(FetchError::Io), None),
            ("length announced over cap", b"HTTP/1.1 200 OK\r\nContent-Length: 9999\r\n\r\n".to_vec(), 64, Some(FetchError::TooLarge), None),
            ("close-delimited over cap", [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &[b'x'; 100]].concat(), 64, Some(FetchError::TooLarge), None),
            ("exactly the cap", [&b"HTTP/1.1 200 OK\r\n\r\n"[..], &[b'x'; 64]].concat(), 64, None, Some(&[b'x'; 64])),
            ("truncated body", b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc".to_vec(), 64, Some(FetchError::Io), None),
            ("bad length", b"HTTP/1.1 200 OK\r\nContent-Length: ten\r\n\r\n".to_vec(), 64, Some(FetchError::Io), None),
            ("not http", b"SSH-2.0-OpenSSH\r\n\r\n".to_vec(), 64, Some(FetchError::Io), None),
            ("eof in head", b"HTTP/1.1 200 OK\r\nContent-".to_vec(), 64, Some(FetchError::Io), None),
            ("head over cap", big_head.into_bytes(), 64, Some(FetchError::TooLarge), None),
            ("302", b"HTTP/1.1 302 Found\r\nLocation: /x\r\n\r\n".to_vec(), 64, Some(FetchError::Redirect), None),
            ("500", b"HTTP/1.1 500 Oops\r\nContent-Length: 0\r\n\r\n".to_vec(), 64, Some(FetchError::HttpStatus), None),
        ];
        for (what, wire, cap, err, body) in cases {
            let out = parse(&wire, cap).await;
            assert_eq!(out.error, err, "{what}: {out:?}");
            assert_eq!(out.body.as_deref(), body, "{what}");
        }
    }

    #[test]
    fn error_words() {
        let words: Vec<&str> = FetchError::ALL.iter().map(|e| e.as_str()).collect();
        assert_eq!(
            words,
            [
                "dns",
                "connect",
                "timeout",
                "tls_untrusted",
                "tls_expired",
                "tls_name_mismatch",
                "tls_other",
                "http_status",
                "redirect",
                "too_large",
                "io"
            ]
        );
        let map = [
            (CertStatus::Valid, None),
            (CertStatus::SelfSigned, Some(FetchError::TlsUntrusted)),
            (CertStatus::IncompleteChain, Some(FetchError::TlsUntrusted)),
            (CertStatus::UntrustedIssuer, Some(FetchError::TlsUntrusted)),
            (CertStatus::Expired, Some(FetchError::TlsExpired)),
            (CertStatus::NotYetValid, Some(FetchError::TlsExpired)),
            (CertStatus::NameMismatch, Some(FetchError::TlsNameMismatch)),
            (CertStatus::Other, Some(FetchError::TlsOther)),
        ];
        for (s, e) in map {
            assert_eq!(FetchError::from_cert_status(s), e, "{s:?}");
        }
    }
}
