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

use crate::dialer::{DialOutcome, Dialer};
use crate::dns::{Dns, LookupStatus};
use crate::io_util::{CountingStream, is_hangup};
use crate::tls::{HandshakeInfo, server_name};
use mxscan_model::CertStatus;
use mxscan_model::policy_response::{Failure, Progress, ResponseReader};
use mxscan_pki::TrustStore;

/// The policy path (RFC 8461 §3.3).
pub const POLICY_PATH: &str = "/.well-known/mta-sts.txt";

/// Why a policy fetch failed (`domains.sts_fetch_error`; defined in `mxscan-model`).
pub use mxscan_model::FetchError;

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
                if dns_status != LookupStatus::Ok {
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
            DialOutcome::Refused(e) | DialOutcome::Reset(e) => {
                last = Some((FetchError::Connect, format!("{ip}: {e}")))
            }
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

/// Why a read did not return bytes.
enum ReadErr {
    Timeout,
    Io(std::io::Error),
}

/// Reads at most `limit` bytes; `Ok(0)` at the end of the connection. A peer closing
/// without close_notify ends a close-delimited body; the reader decides whether the body
/// was complete.
async fn read_some<S: AsyncRead + Unpin>(
    s: &mut S,
    buf: &mut [u8],
    read_timeout: Duration,
) -> Result<usize, ReadErr> {
    match tokio::time::timeout(read_timeout, s.read(buf)).await {
        Err(_) => Err(ReadErr::Timeout),
        Ok(Ok(n)) => Ok(n),
        Ok(Err(e)) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(0),
        Ok(Err(e)) => Err(ReadErr::Io(e)),
    }
}

/// Moves the response from `s` into the sans-io [`ResponseReader`] (which holds every rule
/// of RFC 8461 §3.3 about it) under the per-read deadline, and records what it decides.
async fn read_response<S: AsyncRead + Unpin>(
    s: &mut S,
    opts: &FetchOptions,
    out: &mut FetchOutcome,
) {
    let mut reader = ResponseReader::new(opts.max_head, opts.max_body);
    let mut tmp = vec![0u8; reader.read_limit()];
    let done = loop {
        let limit = reader.read_limit();
        if tmp.len() < limit {
            tmp.resize(limit, 0);
        }
        let what = if reader.in_head() {
            "response head"
        } else {
            "body"
        };
        let progress = match read_some(s, &mut tmp[..limit], opts.read_timeout).await {
            Ok(0) => reader.eof(),
            Ok(n) => reader.feed(&tmp[..n]),
            Err(ReadErr::Timeout) => {
                break Err(Failure {
                    error: FetchError::Timeout,
                    detail: format!("read timeout ({what})"),
                });
            }
            Err(ReadErr::Io(e)) => {
                break Err(Failure {
                    error: FetchError::Io,
                    detail: format!("{what}: {e}"),
                });
            }
        };
        if let Progress::Done(d) = progress {
            break d;
        }
    };
    if let Some(head) = reader.head() {
        out.http_status = Some(head.status);
        out.content_type.clone_from(&head.content_type);
        if (300..400).contains(&head.status) {
            out.location.clone_from(&head.location);
        }
    }
    match done {
        Ok(body) => out.body = Some(body),
        Err(f) => out.fail(f.error, f.detail),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
