//! The SMTP/STARTTLS probe: one connection to one MX address, driving the sans-io
//! [`mxscan_smtp::Session`] (greeting → EHLO → STARTTLS → TLS → EHLO → QUIT; RFC 5321,
//! RFC 3207). Nothing but EHLO, STARTTLS and QUIT is ever sent.
//!
//! Deadlines ([`ProbeOptions`]) are per phase, not per read, so a server that drips bytes
//! cannot stretch a phase: connect (10 s), greeting (30 s: postscreen-style greet delays),
//! each command's reply (30 s), the TLS handshake (20 s), QUIT's reply (5 s), and the whole
//! probe (90 s). Each read takes at most [`ProbeOptions::read_cap`] bytes; the session caps
//! replies, so memory stays bounded whatever the peer sends (an endless banner or a 1 GiB
//! reply ends as `protocol_error` at the session's reply cap).
//!
//! Status mapping (column `probes.status`) beyond what the session decides:
//! - blocked address → `blocked` (checked by the [`Dialer`]; no packet sent);
//! - connection refused (RST to the SYN), host/network unreachable → `connect_refused`;
//! - reset while connect was returning (the server accepted and reset at once) →
//!   `closed_before_greeting`;
//!   accepted and then reset or closed before the server sent a byte →
//!   `closed_before_greeting` (decided by the session);
//! - no TCP answer within the connect deadline → `connect_timeout`;
//! - local errors while connecting (e.g. out of file descriptors) → `io_error`;
//! - TLS handshake error *or deadline* → `tls_failed` with [`ProbeOutcome::tls_error`];
//! - the whole-probe deadline → the session's timeout for the current phase
//!   (`greeting_timeout` in the greeting, `timeout` elsewhere).
//!
//! The TLS handshake accepts any certificate ([`crate::tls`]): the chain is recorded and
//! judged later, offline, for every MX name that points at this address.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use mxscan_model::{TlsFailure, TlsVersion};
use mxscan_smtp::{Action, EhloName, Event, Outcome, Phase, ProbeStatus, Session};
use mxscan_tls::{Caps, Flight, FlightReader, Step, Version};
use rustls::ClientConfig;
use tokio::io::{AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::dialer::{DialOutcome, Dialer};
use crate::tls::{HandshakeInfo, server_name, tls_failure};

/// Most bytes read after the STARTTLS 220 before the handshake starts (RFC 3207 §4: any byte
/// there is a finding; counting further would only let a hostile server keep us reading).
pub const AFTER_STARTTLS_DRAIN_CAP: usize = 64 * 1024;

/// Deadlines, caps and shared configuration of a probe.
#[derive(Debug, Clone)]
pub struct ProbeOptions {
    /// The name sent in EHLO (an operator-set FQDN).
    pub ehlo_name: EhloName,
    /// TCP connect deadline (default 10 s).
    pub connect_timeout: Duration,
    /// Deadline for the complete greeting (default 30 s).
    pub greeting_timeout: Duration,
    /// Deadline for each command's reply (default 30 s).
    pub command_timeout: Duration,
    /// Deadline for the TLS handshake (default 20 s).
    pub tls_timeout: Duration,
    /// Deadline for the reply to QUIT (default 5 s).
    pub quit_timeout: Duration,
    /// Deadline for the whole probe, connect included (default 90 s).
    pub total_timeout: Duration,
    /// Bytes taken per read at most (default 16 KiB).
    pub read_cap: usize,
    /// The shared TLS configuration (`tls::client_config(&[])`, built once per scanner).
    pub tls: Arc<ClientConfig>,
}

impl ProbeOptions {
    /// Defaults with the given EHLO name and TLS configuration.
    pub fn new(ehlo_name: EhloName, tls: Arc<ClientConfig>) -> Self {
        Self {
            ehlo_name,
            connect_timeout: Duration::from_secs(10),
            greeting_timeout: Duration::from_secs(30),
            command_timeout: Duration::from_secs(30),
            tls_timeout: Duration::from_secs(20),
            quit_timeout: Duration::from_secs(5),
            total_timeout: Duration::from_secs(90),
            read_cap: 16 * 1024,
            tls,
        }
    }

    fn phase_timeout(&self, phase: Phase) -> Duration {
        match phase {
            Phase::Greeting => self.greeting_timeout,
            Phase::Tls => self.tls_timeout,
            Phase::Quit => self.quit_timeout,
            Phase::Ehlo | Phase::Starttls | Phase::EhloTls => self.command_timeout,
        }
    }
}

/// Everything one probe observed (a `probes` row plus detail).
#[derive(Debug, Clone)]
pub struct ProbeOutcome {
    /// Dialled address.
    pub address: IpAddr,
    /// Dialled port.
    pub port: u16,
    /// Name sent as SNI.
    pub sni: String,
    /// The `probes.status` value.
    pub status: ProbeStatus,
    /// Phase in which the status was decided (`Greeting` for connect-level statuses).
    pub phase: Phase,
    /// Human-readable reason for a non-ok status.
    pub detail: Option<String>,
    /// Greeting text (lines joined by `\n`).
    pub banner: Option<String>,
    /// Pre-TLS EHLO keywords (uppercase).
    pub ehlo_keywords: Vec<String>,
    /// Post-TLS EHLO keywords.
    pub ehlo_keywords_tls: Vec<String>,
    /// STARTTLS advertised in the pre-TLS EHLO reply.
    pub starttls_offered: Option<bool>,
    /// Reply code to STARTTLS.
    pub starttls_code: Option<u16>,
    /// Bytes received after the STARTTLS 220 before the handshake (RFC 3207 §4 finding).
    pub bytes_after_starttls: Option<u32>,
    /// First bytes of those.
    pub after_starttls_sample: Vec<u8>,
    /// Negotiated TLS parameters and the presented chain (leaf first).
    pub tls: Option<HandshakeInfo>,
    /// Why the handshake failed.
    pub tls_error: Option<String>,
    /// Why the modern handshake failed, as data (`probes.tls_failure` for `tls_failed`,
    /// `probes.modern_tls_failure` for `tls_legacy`).
    pub tls_failure: Option<TlsFailure>,
    /// The version the server selected (modern handshake, or the legacy hello's ServerHello).
    pub tls_max_version: Option<TlsVersion>,
    /// How the legacy hello ended, when one was made ([`probe_legacy_hello`]).
    pub legacy: Option<LegacyHello>,
    /// Wall-clock start (Unix milliseconds).
    pub started_at_ms: i64,
    /// TCP connect time.
    pub connect_ms: Option<u32>,
    /// Connected → greeting complete.
    pub greeting_ms: Option<u32>,
    /// EHLO sent → reply complete.
    pub ehlo_ms: Option<u32>,
    /// TLS handshake time.
    pub tls_ms: Option<u32>,
    /// Whole probe.
    pub total_ms: u32,
    /// The session's full outcome (reply codes, parsed EHLO, …); `None` when no TCP
    /// connection was made.
    pub smtp: Option<Outcome>,
}

fn ms(d: Duration) -> u32 {
    d.as_millis().min(u32::MAX as u128) as u32
}

enum Conn {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
    Gone,
}

impl Conn {
    async fn write_all(&mut self, b: &[u8]) -> std::io::Result<()> {
        match self {
            Conn::Plain(s) => write_flush(s, b).await,
            Conn::Tls(s) => write_flush(s.as_mut(), b).await,
            Conn::Gone => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }

    async fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        match self {
            Conn::Plain(s) => s.read(buf).await,
            Conn::Tls(s) => s.read(buf).await,
            Conn::Gone => Err(std::io::ErrorKind::NotConnected.into()),
        }
    }
}

async fn write_flush<S: AsyncWrite + Unpin>(s: &mut S, b: &[u8]) -> std::io::Result<()> {
    s.write_all(b).await?;
    s.flush().await
}

/// Timings collected by the driver.
#[derive(Debug, Default)]
struct Clock {
    greeting_ms: Option<u32>,
    ehlo_ms: Option<u32>,
    tls_ms: Option<u32>,
    tls: Option<HandshakeInfo>,
    tls_failure: Option<TlsFailure>,
    /// In a legacy hello: the server's first flight.
    flight: Option<Flight>,
}

/// What the driver does at the STARTTLS 220.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The modern handshake (rustls), then EHLO and QUIT over TLS.
    Modern,
    /// Send [`mxscan_tls::client_hello`], read the server's first flight, close.
    LegacyHello,
}

/// Probes `addr` on the dialer's SMTP port, sending `sni` in the TLS ClientHello.
pub async fn probe_smtp(
    addr: IpAddr,
    sni: &str,
    opts: &ProbeOptions,
    dialer: &Dialer,
) -> ProbeOutcome {
    let start = Instant::now();
    let started_at_ms = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0);
    let total_deadline = tokio::time::Instant::now() + opts.total_timeout;
    let mut out = ProbeOutcome {
        address: addr,
        port: dialer.smtp_port(),
        sni: sni.to_string(),
        status: ProbeStatus::Timeout,
        phase: Phase::Greeting,
        detail: None,
        banner: None,
        ehlo_keywords: Vec::new(),
        ehlo_keywords_tls: Vec::new(),
        starttls_offered: None,
        starttls_code: None,
        bytes_after_starttls: None,
        after_starttls_sample: Vec::new(),
        tls: None,
        tls_error: None,
        tls_failure: None,
        tls_max_version: None,
        legacy: None,
        started_at_ms,
        connect_ms: None,
        greeting_ms: None,
        ehlo_ms: None,
        tls_ms: None,
        total_ms: 0,
        smtp: None,
    };

    let connect_timeout = opts.connect_timeout.min(opts.total_timeout);
    let tcp = match dialer.connect_smtp(addr, connect_timeout).await {
        DialOutcome::Connected(s) => s,
        other => {
            let (status, detail) = match other {
                DialOutcome::Blocked(r) => {
                    (ProbeStatus::Blocked, format!("blocked: {}", r.as_str()))
                }
                DialOutcome::Refused(e) => (ProbeStatus::ConnectRefused, e.to_string()),
                // Accepted, then reset before connect returned: the session's
                // "closed before any byte", reached a little earlier.
                DialOutcome::Reset(e) => (ProbeStatus::ClosedBeforeGreeting, e.to_string()),
                DialOutcome::Timeout => (ProbeStatus::ConnectTimeout, "connect timeout".into()),
                DialOutcome::Error(e) => match e.kind() {
                    std::io::ErrorKind::HostUnreachable
                    | std::io::ErrorKind::NetworkUnreachable => {
                        (ProbeStatus::ConnectRefused, e.to_string())
                    }
                    _ => (ProbeStatus::IoError, format!("connect: {e}")),
                },
                DialOutcome::Connected(_) => unreachable!("handled above"),
            };
            out.status = status;
            out.detail = Some(detail);
            if status != ProbeStatus::Blocked {
                out.connect_ms = Some(ms(start.elapsed()));
            }
            out.total_ms = ms(start.elapsed());
            return out;
        }
    };
    out.connect_ms = Some(ms(start.elapsed()));

    let mut session = Session::new(opts.ehlo_name.clone());
    let mut clock = Clock::default();
    let mut conn = Conn::Plain(tcp);
    let drive = drive(
        &mut session,
        &mut conn,
        &mut clock,
        sni,
        opts,
        total_deadline,
        Mode::Modern,
    );
    // The per-phase deadlines inside `drive` are capped by the total deadline; this outer
    // guard only covers a stuck write.
    let _ = tokio::time::timeout_at(total_deadline + Duration::from_millis(50), drive).await;
    drop(conn);

    let o = session.into_outcome();
    out.status = o.status;
    out.phase = o.phase;
    out.detail = o.detail.clone();
    out.banner = o.banner.clone();
    out.ehlo_keywords = o.ehlo_keywords.clone();
    out.ehlo_keywords_tls = o.ehlo_keywords_tls.clone();
    out.starttls_offered = o.starttls_offered;
    out.starttls_code = o.starttls_code;
    out.bytes_after_starttls = o.bytes_after_starttls;
    out.after_starttls_sample = o.after_starttls_sample.clone();
    out.tls_error = o.tls_error.clone();
    if out.status == ProbeStatus::TlsFailed {
        out.tls_failure = Some(clock.tls_failure.unwrap_or(TlsFailure::Io));
    }
    out.tls_max_version = clock
        .tls
        .as_ref()
        .and_then(|t| t.version.as_deref())
        .and_then(|v| v.parse().ok());
    out.greeting_ms = clock.greeting_ms;
    out.ehlo_ms = clock.ehlo_ms;
    out.tls_ms = clock.tls_ms;
    out.tls = clock.tls;
    out.smtp = Some(o);
    out.total_ms = ms(start.elapsed());
    out
}

async fn drive(
    session: &mut Session,
    conn: &mut Conn,
    clock: &mut Clock,
    sni: &str,
    opts: &ProbeOptions,
    total_deadline: tokio::time::Instant,
    mode: Mode,
) {
    let connected = Instant::now();
    let mut buf = vec![0u8; opts.read_cap.max(1)];
    let mut phase = Phase::Greeting;
    let mut phase_started = Instant::now();
    let mut phase_deadline =
        total_deadline.min(tokio::time::Instant::now() + opts.greeting_timeout);
    loop {
        let action = session.next_action();
        match action {
            Action::Send { command, phase: p } => {
                let now = Instant::now();
                if phase == Phase::Greeting && clock.greeting_ms.is_none() {
                    clock.greeting_ms = Some(ms(now - connected));
                }
                if phase == Phase::Ehlo && clock.ehlo_ms.is_none() {
                    clock.ehlo_ms = Some(ms(now - phase_started));
                }
                phase = p;
                phase_started = now;
                phase_deadline =
                    total_deadline.min(tokio::time::Instant::now() + opts.phase_timeout(p));
                let bytes = command.to_bytes();
                let write = tokio::time::timeout_at(phase_deadline, conn.write_all(&bytes)).await;
                match write {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => session.handle(Event::ConnectionClosed),
                    Err(_) => session.handle(Event::Timeout),
                }
            }
            Action::Read(_) => {
                let read = tokio::time::timeout_at(phase_deadline, conn.read(&mut buf)).await;
                match read {
                    Err(_) => session.handle(Event::Timeout),
                    Ok(Ok(0)) | Ok(Err(_)) => session.handle(Event::ConnectionClosed),
                    Ok(Ok(n)) => session.handle(Event::Data(&buf[..n])),
                }
            }
            Action::StartTls { .. } => {
                if phase == Phase::Ehlo && clock.ehlo_ms.is_none() {
                    clock.ehlo_ms = Some(ms(Instant::now() - phase_started));
                }
                let Conn::Plain(tcp) = std::mem::replace(conn, Conn::Gone) else {
                    session.handle(Event::TlsFailed(
                        "STARTTLS on a connection that is not plain",
                    ));
                    continue;
                };
                // Drain what already arrived after the 220 (without waiting): it is the
                // RFC 3207 §4 finding, never fed to TLS. Capped: a server that refills the
                // socket as fast as it is read must not keep the probe reading.
                let mut drained = 0usize;
                while drained < AFTER_STARTTLS_DRAIN_CAP {
                    match tcp.try_read(&mut buf) {
                        Ok(n) if n > 0 => {
                            drained += n;
                            session.handle(Event::Data(&buf[..n]));
                        }
                        _ => break,
                    }
                }
                phase = Phase::Tls;
                let t0 = Instant::now();
                let deadline = total_deadline.min(tokio::time::Instant::now() + opts.tls_timeout);
                if mode == Mode::LegacyHello {
                    let mut tcp = tcp;
                    let flight = read_first_flight(&mut tcp, sni, opts, deadline, &mut buf).await;
                    clock.tls_ms = Some(ms(t0.elapsed()));
                    clock.flight = Some(flight);
                    session.handle(Event::TlsFailed(
                        "legacy hello: first flight read, handshake not completed",
                    ));
                    continue;
                }
                let name = match server_name(sni) {
                    Ok(n) => n,
                    Err(e) => {
                        session.handle(Event::TlsFailed(&e.to_string()));
                        continue;
                    }
                };
                let connector = TlsConnector::from(opts.tls.clone());
                match tokio::time::timeout_at(deadline, connector.connect(name, tcp)).await {
                    Ok(Ok(tls)) => {
                        clock.tls_ms = Some(ms(t0.elapsed()));
                        clock.tls = Some(HandshakeInfo::from_conn(tls.get_ref().1));
                        *conn = Conn::Tls(Box::new(tls));
                        session.handle(Event::TlsEstablished);
                    }
                    Ok(Err(e)) => {
                        clock.tls_ms = Some(ms(t0.elapsed()));
                        clock.tls_failure = Some(tls_failure(&e));
                        session.handle(Event::TlsFailed(&e.to_string()));
                    }
                    Err(_) => {
                        clock.tls_ms = Some(ms(t0.elapsed()));
                        clock.tls_failure = Some(TlsFailure::Timeout);
                        let msg = format!("handshake timed out after {:?}", opts.tls_timeout);
                        session.handle(Event::TlsFailed(&msg));
                    }
                }
            }
            Action::Done => {
                if let Conn::Tls(s) = conn {
                    let _ = tokio::time::timeout(Duration::from_millis(200), s.shutdown()).await;
                }
                return;
            }
        }
    }
}

/// Sends the legacy ClientHello and reads the server's first flight into a
/// [`FlightReader`] until it decides, the deadline passes, or the server closes. Reads are
/// capped by the reader ([`Caps::default`]: 128 KiB, 16 certificates).
async fn read_first_flight(
    tcp: &mut TcpStream,
    sni: &str,
    opts: &ProbeOptions,
    deadline: tokio::time::Instant,
    buf: &mut [u8],
) -> Flight {
    let mut random = [0u8; 32];
    if opts
        .tls
        .crypto_provider()
        .secure_random
        .fill(&mut random)
        .is_err()
    {
        // The random only has to differ between connections; the clock does that.
        let t = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or(0);
        random[..16].copy_from_slice(&t.to_be_bytes());
    }
    let hello = mxscan_tls::client_hello(Some(sni), random, Version::TLS12);
    match tokio::time::timeout_at(deadline, write_flush(tcp, &hello)).await {
        Ok(Ok(())) => {}
        Ok(Err(_)) => return Flight::Truncated { received: 0 },
        Err(_) => return Flight::Truncated { received: 0 },
    }
    let mut reader = FlightReader::new(Caps::default());
    loop {
        match tokio::time::timeout_at(deadline, tcp.read(buf)).await {
            Ok(Ok(n)) if n > 0 => {
                if let Step::Done(f) = reader.feed(&buf[..n]) {
                    return f;
                }
            }
            // The end of the stream, a reset, or the deadline: what arrived decides.
            _ => return reader.finish(),
        }
    }
}

/// How a legacy hello ([`probe_legacy_hello`]) ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyHello {
    /// The second conversation's status up to STARTTLS (`tls_failed` when the legacy hello
    /// was sent: the handshake is never completed; anything else when the server did not get
    /// that far this time).
    pub status: ProbeStatus,
    /// The server's first flight, when the hello was sent.
    pub flight: Option<Flight>,
    /// The whole second probe.
    pub total_ms: u32,
}

impl LegacyHello {
    /// The ServerHello's version, suite and chain when the server answered the legacy hello
    /// with one (not a HelloRetryRequest: that is TLS 1.3, which the modern handshake speaks).
    pub fn hello(&self) -> Option<(Version, u16, &[Vec<u8>])> {
        match &self.flight {
            Some(Flight::Hello {
                hello,
                certificates,
                ..
            }) if !hello.retry_request => {
                Some((hello.version, hello.cipher_suite, certificates.as_slice()))
            }
            _ => None,
        }
    }
}

impl ProbeOutcome {
    /// True when a legacy hello may tell more: the modern handshake failed in a way that
    /// says the server speaks TLS, but not a version or suite we offer (`protocol_version`,
    /// `no_shared_cipher`, another alert). Not after `not_tls`, `timeout` or `io`.
    pub fn wants_legacy_hello(&self) -> bool {
        self.status == ProbeStatus::TlsFailed
            && self.tls_failure.is_some_and(TlsFailure::legacy_may_help)
    }

    /// Takes in a legacy hello's result. A ServerHello with a version we know turns the probe
    /// into `tls_legacy`: its version, suite and chain become the probe's (judged like any
    /// other), the modern failure moves to [`ProbeOutcome::tls_failure`]'s place for
    /// `modern_tls_failure`. Otherwise the probe stays `tls_failed` and only records that
    /// the legacy hello was made.
    pub fn merge_legacy(&mut self, legacy: LegacyHello) {
        if let Some((version, suite, certs)) = legacy.hello()
            && let Some(v) = TlsVersion::from_wire(version.0)
        {
            self.status = ProbeStatus::TlsLegacy;
            self.tls_max_version = Some(v);
            self.tls = Some(HandshakeInfo {
                version: Some(v.as_str().to_owned()),
                cipher_suite: Some(mxscan_tls::suite_label(suite)),
                kx_group: None,
                chain: certs
                    .iter()
                    .map(|c| rustls::pki_types::CertificateDer::from(c.clone()))
                    .collect(),
            });
            self.detail = Some(format!(
                "modern handshake failed ({}); the server answered a legacy hello with {} {}",
                self.tls_failure.map_or("?", |f| f.as_str()),
                v.as_str(),
                mxscan_tls::suite_label(suite)
            ));
        }
        self.legacy = Some(legacy);
    }
}

/// The legacy hello probe (issue 15): one more connection to an address whose modern
/// handshake failed with [`ProbeOutcome::wants_legacy_hello`]. Greeting, EHLO and STARTTLS as
/// in [`probe_smtp`], then a hand-built ClientHello offering TLS 1.0–1.2 and the classic
/// suites ([`mxscan_tls::client_hello`]); the server's plaintext first flight (ServerHello,
/// Certificate, ServerHelloDone) is read without completing the handshake, like zgrab2's
/// hello-only scans, and the connection is closed. The caller passes the politeness gate
/// first (it is a new connection).
pub async fn probe_legacy_hello(
    addr: IpAddr,
    sni: &str,
    opts: &ProbeOptions,
    dialer: &Dialer,
) -> LegacyHello {
    let start = Instant::now();
    let total_deadline = tokio::time::Instant::now() + opts.total_timeout;
    let connect_timeout = opts.connect_timeout.min(opts.total_timeout);
    let tcp = match dialer.connect_smtp(addr, connect_timeout).await {
        DialOutcome::Connected(s) => s,
        other => {
            let status = match other {
                DialOutcome::Blocked(_) => ProbeStatus::Blocked,
                DialOutcome::Timeout => ProbeStatus::ConnectTimeout,
                DialOutcome::Error(_) => ProbeStatus::IoError,
                DialOutcome::Reset(_) => ProbeStatus::ClosedBeforeGreeting,
                DialOutcome::Refused(_) | DialOutcome::Connected(_) => ProbeStatus::ConnectRefused,
            };
            return LegacyHello {
                status,
                flight: None,
                total_ms: ms(start.elapsed()),
            };
        }
    };
    let mut session = Session::new(opts.ehlo_name.clone());
    let mut clock = Clock::default();
    let mut conn = Conn::Plain(tcp);
    let drive = drive(
        &mut session,
        &mut conn,
        &mut clock,
        sni,
        opts,
        total_deadline,
        Mode::LegacyHello,
    );
    let _ = tokio::time::timeout_at(total_deadline + Duration::from_millis(50), drive).await;
    drop(conn);
    LegacyHello {
        status: session.into_outcome().status,
        flight: clock.flight,
        total_ms: ms(start.elapsed()),
    }
}
