//! Fetching a certificate's issuer through its Authority Information Access caIssuers URL
//! (RFC 5280 §4.2.2.1), as browsers do to complete a chain the server sent incomplete — so a
//! survey can tell `incomplete_chain` (the issuer exists, the server forgot to send it) from
//! `untrusted_issuer` without a list of every intermediate.
//!
//! One plain HTTP/1.1 GET per URL (`http://` only), bounded: the whole fetch has a deadline
//! ([`AiaOptions::timeout`]), the response head and body are capped (the sans-io
//! [`ResponseReader`] of `mxscan-model`; a DER certificate is a few KiB), a redirect is not
//! followed, and the dial goes through the [`Dialer`] (blocklist). The caller resolves the
//! host, passes the politeness gate, and caches by URL (the engine fetches a URL at most once
//! per survey).

use std::net::IpAddr;
use std::time::{Duration, Instant};

use mxscan_model::policy_response::{Progress, ResponseReader};
use rustls::pki_types::CertificateDer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::dialer::{DialOutcome, Dialer};

/// An `http://host[:port]/path` URL, split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// Host name (lowercase, no trailing dot) or address literal (IPv6 without brackets).
    pub host: String,
    /// The port the URL names, if it names one.
    pub port: Option<u16>,
    /// Path and query, at least `/`.
    pub path: String,
}

impl HttpUrl {
    /// Parses an `http://` URL (scheme case-insensitive); `None` for anything else, for
    /// user-info, fragments kept out, an empty host, or bytes that cannot go into a request
    /// line (controls, spaces).
    pub fn parse(url: &str) -> Option<HttpUrl> {
        let rest = url
            .get(..7)
            .filter(|p| p.eq_ignore_ascii_case("http://"))
            .map(|_| &url[7..])?;
        if rest
            .bytes()
            .any(|b| b.is_ascii_control() || b == b' ' || !b.is_ascii())
        {
            return None;
        }
        let rest = rest.split('#').next().unwrap_or("");
        let (authority, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], rest[i..].to_owned()),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, "/".to_owned()),
        };
        if authority.contains('@') {
            return None;
        }
        let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
            let (h, after) = v6.split_once(']')?;
            let port = match after.strip_prefix(':') {
                Some(p) => Some(p.parse().ok()?),
                None if after.is_empty() => None,
                None => return None,
            };
            // RFC 3986 §3.2.2: an IP-literal in brackets is an IPv6 address (IPvFuture is
            // not dialled).
            h.parse::<std::net::Ipv6Addr>().ok()?;
            (h.to_owned(), port)
        } else {
            let (h, p) = match authority.rsplit_once(':') {
                Some((h, p)) => (h, Some(p.parse().ok()?)),
                None => (authority, None),
            };
            // A reg-name or IPv4 address: no brackets, no colon (RFC 3986 §3.2.2).
            if h.contains(['[', ']', ':']) {
                return None;
            }
            (h.to_owned(), p)
        };
        let host = host.trim_end_matches('.').to_ascii_lowercase();
        if host.is_empty() {
            return None;
        }
        Some(HttpUrl { host, port, path })
    }

    /// The host as an address, when it is an address literal.
    pub fn address(&self) -> Option<IpAddr> {
        self.host.parse().ok()
    }
}

/// Deadlines and caps of one AIA fetch.
#[derive(Debug, Clone, Copy)]
pub struct AiaOptions {
    /// The whole fetch, connect included (default 10 s).
    pub timeout: Duration,
    /// Response head bytes (default 8 KiB).
    pub max_head: usize,
    /// Response body bytes (default 64 KiB; a certificate is 1–3 KiB).
    pub max_body: usize,
    /// Certificates taken from one (PEM) body (default 4).
    pub max_certs: usize,
}

impl Default for AiaOptions {
    fn default() -> Self {
        AiaOptions {
            timeout: Duration::from_secs(10),
            max_head: 8 * 1024,
            max_body: 64 * 1024,
            max_certs: 4,
        }
    }
}

/// Why an AIA fetch gave no certificate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AiaError {
    /// The host did not resolve.
    Dns,
    /// The address is blocked (never dialled).
    Blocked,
    /// Refused or unreachable.
    Connect,
    /// The deadline passed.
    Timeout,
    /// A status other than 200 (redirects are not followed).
    HttpStatus,
    /// The body passed its cap.
    TooLarge,
    /// Malformed response or broken connection.
    Io,
    /// A 200 whose body is no certificate we read (PKCS#7 bundles included).
    NotACertificate,
}

/// What one AIA fetch gave.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AiaOutcome {
    /// The certificates of the body (empty on error).
    pub certs: Vec<CertificateDer<'static>>,
    /// Why there are none.
    pub error: Option<AiaError>,
    /// Bytes of body received.
    pub body_bytes: usize,
    /// The whole fetch.
    pub elapsed: Duration,
}

impl AiaOutcome {
    fn failed(error: AiaError, start: Instant) -> AiaOutcome {
        AiaOutcome {
            certs: Vec::new(),
            error: Some(error),
            body_bytes: 0,
            elapsed: start.elapsed(),
        }
    }
}

/// Fetches `url` from `addr` (already resolved and admitted by the caller's gate).
pub async fn fetch_aia_at(
    url: &HttpUrl,
    addr: IpAddr,
    dialer: &Dialer,
    opts: &AiaOptions,
) -> AiaOutcome {
    let start = Instant::now();
    match tokio::time::timeout(opts.timeout, fetch_inner(url, addr, dialer, opts, start)).await {
        Ok(o) => o,
        Err(_) => AiaOutcome::failed(AiaError::Timeout, start),
    }
}

async fn fetch_inner(
    url: &HttpUrl,
    addr: IpAddr,
    dialer: &Dialer,
    opts: &AiaOptions,
    start: Instant,
) -> AiaOutcome {
    let port = url.port.unwrap_or(dialer.http_port());
    let mut tcp = match dialer
        .connect(std::net::SocketAddr::new(addr, port), opts.timeout)
        .await
    {
        DialOutcome::Connected(s) => s,
        DialOutcome::Blocked(_) => return AiaOutcome::failed(AiaError::Blocked, start),
        DialOutcome::Timeout => return AiaOutcome::failed(AiaError::Timeout, start),
        DialOutcome::Refused(_) | DialOutcome::Reset(_) | DialOutcome::Error(_) => {
            return AiaOutcome::failed(AiaError::Connect, start);
        }
    };
    let host = match (url.address(), url.port) {
        (Some(IpAddr::V6(a)), Some(p)) => format!("[{a}]:{p}"),
        (Some(IpAddr::V6(a)), None) => format!("[{a}]"),
        (_, Some(p)) => format!("{}:{p}", url.host),
        (_, None) => url.host.clone(),
    };
    let req = format!(
        "GET {} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: mxscan (AIA caIssuers)\r\nAccept: application/pkix-cert, */*;q=0.1\r\nConnection: close\r\n\r\n",
        url.path
    );
    if tcp.write_all(req.as_bytes()).await.is_err() {
        return AiaOutcome::failed(AiaError::Io, start);
    }
    let mut reader = ResponseReader::new(opts.max_head, opts.max_body);
    let mut buf = vec![0u8; 16 * 1024];
    let done = loop {
        let limit = reader.read_limit().clamp(1, buf.len());
        let progress = match tcp.read(&mut buf[..limit]).await {
            Ok(0) => reader.eof(),
            Ok(n) => reader.feed(&buf[..n]),
            Err(_) => break Err(AiaError::Io),
        };
        if let Progress::Done(r) = progress {
            break r.map_err(|f| match f.error {
                mxscan_model::FetchError::TooLarge => AiaError::TooLarge,
                mxscan_model::FetchError::HttpStatus | mxscan_model::FetchError::Redirect => {
                    AiaError::HttpStatus
                }
                _ => AiaError::Io,
            });
        }
    };
    match done {
        Err(e) => AiaOutcome::failed(e, start),
        Ok(body) => match mxscan_pki::certs_from_aia_body(&body, opts.max_certs) {
            Some(certs) => AiaOutcome {
                certs,
                error: None,
                body_bytes: body.len(),
                elapsed: start.elapsed(),
            },
            None => AiaOutcome {
                certs: Vec::new(),
                error: Some(AiaError::NotACertificate),
                body_bytes: body.len(),
                elapsed: start.elapsed(),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_as_a_request_line_needs_them() {
        let u = HttpUrl::parse("http://AIA.Example.COM./certs/int.der").unwrap();
        assert_eq!(
            u,
            HttpUrl {
                host: "aia.example.com".into(),
                port: None,
                path: "/certs/int.der".into()
            }
        );
        let u = HttpUrl::parse("HTTP://127.0.0.1:8080").unwrap();
        assert_eq!((u.port, u.path.as_str()), (Some(8080), "/"));
        assert_eq!(u.address(), Some("127.0.0.1".parse().unwrap()));
        let u = HttpUrl::parse("http://[2001:db8::1]:81/x?y=1#frag").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.path.as_str()),
            ("2001:db8::1", Some(81), "/x?y=1")
        );
        let u = HttpUrl::parse("http://h.example?q").unwrap();
        assert_eq!(u.path, "/?q");
        for bad in [
            "https://h.example/x",
            "ldap://h.example/x",
            "http://",
            "http:///x",
            "http://user@h.example/x",
            // Found by the aia fuzz target: a host with colons and a stray `]` but no
            // opening bracket was accepted, and printed back in brackets it was another URL.
            // A bracketed host must be an IPv6 address; a plain one has no bracket or colon.
            "http://[y4302002:db8::1]]:80/x?y=1",
            "http://[not-an-address]/x",
            "http://h.example]/x",
            "http://a:b:80/x",
            "HTTP://Y4302002:db8::1]:0080/x?y=1#Hrag",
            "http://h.example:99999/x",
            "http://h.example:/x",
            "http://h.example/a b",
            "http://h.example/a\r\nHost: evil",
            "http://[::1/x",
            "http://h.éxample/",
        ] {
            assert_eq!(HttpUrl::parse(bad), None, "{bad}");
        }
    }
}
