//! What the SMTP and HTTPS servers share: binding one listener, the accept loop (one task
//! per connection, every connection recorded in the [`ConnLog`]), the [`ServerHandle`] that
//! stops it all, the per-server limits ([`ServerOptions`]) and the ways a connection ends
//! (reset, graceful close).

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::connlog::{ConnLog, ServerKind};
use crate::error::TestbedError;

/// Listen backlog: bursts of thousands of connects must not be refused by the kernel.
const BACKLOG: u32 = 4096;

/// Limits that keep a bad client from holding a server task forever.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerOptions {
    /// Longest wait for the client's next command line / request head.
    pub idle_timeout: Duration,
    /// Longest time a tarpit or slowloris host holds a connection.
    pub hold_cap: Duration,
    /// Longest wait for a ClientHello plus the rest of the TLS handshake.
    pub handshake_timeout: Duration,
    /// Longest SMTP command line the server reads (bytes, CRLF included).
    pub line_cap: usize,
    /// Longest HTTP request head the server reads (bytes).
    pub request_cap: usize,
    /// After the server closes its side, how long it keeps reading (and discarding) so that
    /// unread client bytes do not turn its close into a reset.
    pub close_drain: Duration,
}

impl Default for ServerOptions {
    fn default() -> Self {
        ServerOptions {
            idle_timeout: Duration::from_secs(60),
            hold_cap: Duration::from_secs(300),
            handshake_timeout: Duration::from_secs(30),
            line_cap: 4096,
            request_cap: 16 * 1024,
            close_drain: Duration::from_secs(2),
        }
    }
}

#[derive(Debug, Default)]
struct Stats {
    accepted: AtomicU64,
    active: AtomicUsize,
}

/// A running server. Dropping it (or [`ServerHandle::shutdown`]) stops accepting and ends
/// every connection it holds.
#[derive(Debug)]
pub struct ServerHandle {
    local_addr: SocketAddr,
    kind: ServerKind,
    stats: Arc<Stats>,
    shutdown: watch::Sender<bool>,
    accept_task: JoinHandle<()>,
}

impl ServerHandle {
    /// The bound address (with the real port when bound to port 0).
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The bound port.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// Which server this is.
    pub fn kind(&self) -> ServerKind {
        self.kind
    }

    /// Connections accepted since start.
    pub fn accepted(&self) -> u64 {
        self.stats.accepted.load(Ordering::Relaxed)
    }

    /// Connections open now.
    pub fn active(&self) -> usize {
        self.stats.active.load(Ordering::Relaxed)
    }

    /// Stop accepting and end every open connection.
    pub fn shutdown(self) {
        drop(self);
    }
}

impl Drop for ServerHandle {
    fn drop(&mut self) {
        let _ = self.shutdown.send(true);
        self.accept_task.abort();
    }
}

/// Counts a connection as active for as long as it lives.
struct ActiveGuard(Arc<Stats>);

impl Drop for ActiveGuard {
    fn drop(&mut self) {
        self.0.active.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Bind `bind` and run `handler(stream, local_addr)` in its own task for every accepted
/// connection, until the returned handle is dropped.
pub(crate) async fn serve<F, Fut>(
    bind: SocketAddr,
    kind: ServerKind,
    log: ConnLog,
    handler: F,
) -> Result<ServerHandle, TestbedError>
where
    F: Fn(TcpStream, SocketAddr) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let socket = if bind.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    socket.set_reuseaddr(true)?;
    socket.bind(bind)?;
    let listener = socket.listen(BACKLOG)?;
    let local_addr = listener.local_addr()?;
    let stats = Arc::new(Stats::default());
    let (shutdown, mut stop) = watch::channel(false);

    let loop_stats = Arc::clone(&stats);
    let accept_task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                _ = stop.changed() => break,
                r = listener.accept() => r,
            };
            let (stream, peer) = match accepted {
                Ok(pair) => pair,
                Err(e) => {
                    // Out of file descriptors (EMFILE/ENFILE) or a connection that died in
                    // the backlog: wait a moment and go on; never give up the listener.
                    tracing::debug!(error = %e, ?kind, "accept failed");
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                }
            };
            let local = stream.local_addr().unwrap_or(local_addr);
            let guard = log.open(kind, local, peer);
            loop_stats.accepted.fetch_add(1, Ordering::Relaxed);
            loop_stats.active.fetch_add(1, Ordering::Relaxed);
            let active = ActiveGuard(Arc::clone(&loop_stats));
            let _ = stream.set_nodelay(true);
            let conn = handler(stream, local);
            let mut conn_stop = stop.clone();
            tokio::spawn(async move {
                let _guard = guard;
                let _active = active;
                tokio::select! {
                    _ = conn => {}
                    _ = conn_stop.changed() => {}
                }
            });
        }
    });

    Ok(ServerHandle {
        local_addr,
        kind,
        stats,
        shutdown,
        accept_task,
    })
}

/// The IPv4 address a client dialled, from the accepted socket's local address
/// (IPv4-mapped IPv6 and `::1` are mapped; any other IPv6 address has no host: `None`).
pub(crate) fn dialled_v4(local: SocketAddr) -> Option<Ipv4Addr> {
    match local {
        SocketAddr::V4(a) => Some(*a.ip()),
        SocketAddr::V6(a) if a.ip().is_loopback() => Some(Ipv4Addr::LOCALHOST),
        SocketAddr::V6(a) => a.ip().to_ipv4_mapped(),
    }
}

/// Abort the connection: SO_LINGER 0 then close, so the client sees a TCP reset
/// (ECONNRESET), not a clean end of stream.
pub(crate) fn reset(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// Close our side (FIN; for TLS, close_notify first), then read and discard what the client
/// still sends, until it closes or `drain` passes, so unread bytes do not make the kernel
/// answer with a reset.
pub(crate) async fn close_gracefully<S>(mut stream: S, drain: Duration)
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let _ = tokio::time::timeout(drain, stream.shutdown()).await;
    let _ = tokio::time::timeout(drain, discard_until_eof(&mut stream)).await;
}

/// Read and discard until end of stream or an error.
pub(crate) async fn discard_until_eof<S>(stream: &mut S)
where
    S: AsyncRead + Unpin,
{
    let mut buf = [0u8; 2048];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
    }
}

/// Wait `rtt` (the simulated round trip), then write `bytes` and flush.
pub(crate) async fn write_after<S>(stream: &mut S, rtt: Duration, bytes: &[u8]) -> io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    if !rtt.is_zero() {
        tokio::time::sleep(rtt).await;
    }
    stream.write_all(bytes).await?;
    stream.flush().await
}
