//! The one seam every outgoing TCP connection goes through.
//!
//! The engine checks the blocklist before it schedules a probe; the [`Dialer`] checks it
//! again at dial time (defence in depth, as zgrab2 does), so a bug upstream can never make
//! the scanner send a SYN to a blocked address. Tests redirect the well-known ports with
//! [`Dialer::with_ports`] (the testbed listens on ephemeral ports on 127.0.0.0/8).

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::net::TcpStream;

use crate::blocklist::{BlockReason, BlockVerdict, Blocklist};

/// SMTP's port (RFC 5321 §4.5.4.2 relay port).
pub const SMTP_PORT: u16 = 25;
/// HTTPS port for the MTA-STS policy host (RFC 8461 §3.3).
pub const HTTPS_PORT: u16 = 443;

/// The result of one dial attempt — data, never `Err`.
#[derive(Debug)]
pub enum DialOutcome {
    /// Connected.
    Connected(TcpStream),
    /// The address is on the blocklist; nothing was sent.
    Blocked(BlockReason),
    /// Connection refused: a RST to our SYN (nothing listens).
    Refused(io::Error),
    /// The handshake completed on the server's side and it reset the connection before our
    /// connect returned (ECONNRESET from connect): accepted, then reset — a server that
    /// closes at once, not a refused SYN.
    Reset(io::Error),
    /// No answer within the connect deadline.
    Timeout,
    /// Any other local or network error (unreachable, no route, out of file descriptors…).
    Error(io::Error),
}

/// Dials TCP connections for the probes: blocklist check, port mapping, connect deadline.
/// Share one per scanner (`Arc<Dialer>`); it counts what it did.
#[derive(Debug)]
pub struct Dialer {
    blocklist: Arc<Blocklist>,
    smtp_port: u16,
    https_port: u16,
    http_port: u16,
    attempts: AtomicU64,
    blocked: AtomicU64,
    fd_waits: AtomicU64,
}

/// How long one dial waits in total for file descriptors before giving up (`io_error`).
const FD_WAIT_LIMIT: Duration = Duration::from_secs(60);

/// EMFILE (per-process) or ENFILE (system-wide) descriptor exhaustion.
fn is_fd_exhaustion(e: &io::Error) -> bool {
    matches!(e.raw_os_error(), Some(23) | Some(24))
}

impl Dialer {
    /// A dialer using the standard ports (25, 443).
    pub fn new(blocklist: Arc<Blocklist>) -> Self {
        Self {
            blocklist,
            smtp_port: SMTP_PORT,
            https_port: HTTPS_PORT,
            http_port: 80,
            attempts: AtomicU64::new(0),
            blocked: AtomicU64::new(0),
            fd_waits: AtomicU64::new(0),
        }
    }

    /// Port overrides (tests, testbed demos).
    pub fn with_ports(mut self, smtp_port: u16, https_port: u16) -> Self {
        self.smtp_port = smtp_port;
        self.https_port = https_port;
        self
    }

    /// The port plain-HTTP fetches (AIA caIssuers URLs without a port) dial: 80, or the
    /// testbed's HTTP port.
    pub fn with_http_port(mut self, http_port: u16) -> Self {
        self.http_port = http_port;
        self
    }

    /// The port of `http://` URLs that name none.
    pub fn http_port(&self) -> u16 {
        self.http_port
    }

    /// The port SMTP probes dial.
    pub fn smtp_port(&self) -> u16 {
        self.smtp_port
    }

    /// The port policy fetches dial.
    pub fn https_port(&self) -> u16 {
        self.https_port
    }

    /// The blocklist this dialer enforces.
    pub fn blocklist(&self) -> &Blocklist {
        &self.blocklist
    }

    /// The blocklist verdict for `ip`.
    pub fn check(&self, ip: IpAddr) -> BlockVerdict {
        self.blocklist.check(ip)
    }

    /// Connection attempts made (SYNs sent), blocked dials excluded.
    pub fn attempts(&self) -> u64 {
        self.attempts.load(Ordering::Relaxed)
    }

    /// Dials refused by the blocklist.
    pub fn blocked(&self) -> u64 {
        self.blocked.load(Ordering::Relaxed)
    }

    /// Dials `ip` on the SMTP port.
    pub async fn connect_smtp(&self, ip: IpAddr, timeout: Duration) -> DialOutcome {
        self.connect(SocketAddr::new(ip, self.smtp_port), timeout)
            .await
    }

    /// Dials `ip` on the HTTPS port.
    pub async fn connect_https(&self, ip: IpAddr, timeout: Duration) -> DialOutcome {
        self.connect(SocketAddr::new(ip, self.https_port), timeout)
            .await
    }

    /// Dials `addr` within `timeout`, unless its address is blocked.
    pub async fn connect(&self, addr: SocketAddr, timeout: Duration) -> DialOutcome {
        if let BlockVerdict::Blocked(reason) = self.blocklist.check(addr.ip()) {
            self.blocked.fetch_add(1, Ordering::Relaxed);
            tracing::debug!(%addr, reason = reason.as_str(), "dial blocked");
            return DialOutcome::Blocked(reason);
        }
        self.attempts.fetch_add(1, Ordering::Relaxed);
        // Out of file descriptors (EMFILE/ENFILE) is our shortage, not the peer's: wait and
        // retry (other connections are closing meanwhile) instead of recording an error.
        let mut backoff = Duration::from_millis(20);
        let mut waited = Duration::ZERO;
        loop {
            match tokio::time::timeout(timeout, TcpStream::connect(addr)).await {
                Err(_) => return DialOutcome::Timeout,
                Ok(Ok(stream)) => {
                    let _ = stream.set_nodelay(true);
                    return DialOutcome::Connected(stream);
                }
                Ok(Err(e)) if is_fd_exhaustion(&e) && waited < FD_WAIT_LIMIT => {
                    self.fd_waits.fetch_add(1, Ordering::Relaxed);
                    tracing::debug!(%addr, ?backoff, "out of file descriptors; waiting");
                    tokio::time::sleep(backoff).await;
                    waited += backoff;
                    backoff = (backoff * 2).min(Duration::from_secs(1));
                }
                Ok(Err(e)) => {
                    return match e.kind() {
                        io::ErrorKind::ConnectionRefused => DialOutcome::Refused(e),
                        io::ErrorKind::ConnectionReset => DialOutcome::Reset(e),
                        io::ErrorKind::TimedOut => DialOutcome::Timeout,
                        _ => DialOutcome::Error(e),
                    };
                }
            }
        }
    }

    /// Times a dial waited because the process was out of file descriptors.
    pub fn fd_waits(&self) -> u64 {
        self.fd_waits.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn blocked_addresses_are_never_dialled() {
        let dialer = Dialer::new(Arc::new(Blocklist::new()));
        let out = dialer
            .connect("127.0.0.1:1".parse().unwrap(), Duration::from_secs(1))
            .await;
        assert!(matches!(out, DialOutcome::Blocked(_)), "{out:?}");
        assert_eq!(dialer.attempts(), 0);
        assert_eq!(dialer.blocked(), 1);
    }

    #[tokio::test]
    async fn allowed_loopback_connects_and_refuses() {
        let bl = Blocklist::new().allow_str("127.0.0.0/8").unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let dialer = Dialer::new(Arc::new(bl)).with_ports(port, port);
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let out = dialer.connect_smtp(ip, Duration::from_secs(2)).await;
        assert!(matches!(out, DialOutcome::Connected(_)), "{out:?}");
        drop(listener);
        let out = dialer.connect_https(ip, Duration::from_secs(2)).await;
        assert!(matches!(out, DialOutcome::Refused(_)), "{out:?}");
        assert_eq!(dialer.attempts(), 2);
    }
}
