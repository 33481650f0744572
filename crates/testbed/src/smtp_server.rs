//! The testbed's SMTP server: one listener, every accepted connection plays the
//! [`SmtpScript`] that [`Behaviours::smtp_host`] gives for the address the client dialled.
//!
//! What goes on the wire (RFC 5321 replies; `<host>` is the conversation's host name, or the
//! dialled address for scripts that have none):
//!
//! - Before each reply the server waits the host's `rtt`; before the greeting also its
//!   `greet_delay` (postscreen-style, RFC 5321 §4.5.3.2.1 allows clients 5 minutes).
//! - `Reset`: accept, then SO_LINGER 0 and close: the client reads ECONNRESET, no byte.
//! - `Close`: accept, then close (FIN) without a byte: the client reads end of stream.
//! - `Tarpit`: accept, read and discard, send nothing, until the client leaves (cap
//!   [`ServerOptions::hold_cap`]).
//! - `Greeting421`: `421 <ip> Service not available, closing transmission channel`, close
//!   (RFC 5321 §3.8, §4.2.3).
//! - `Greeting554`: `554 <ip> No SMTP service here`; EHLO/HELO and everything else but QUIT
//!   get `503 5.5.1 Bad sequence of commands`; QUIT gets `221` (RFC 5321 §3.1).
//! - `Conversation`: `220 <host> ESMTP mxscan testbed` (multi-line `220-`…`220 ` when asked),
//!   then commands until QUIT:
//!   - EHLO `Ok`: `250-<host> greets <arg>`, `250-PIPELINING`, `250-SIZE 52428800`,
//!     [`250-STARTTLS`], [padding: `250-X-PAD-AAAA…` lines of 500 bytes, streamed in 64 KB
//!     writes, together `padding_bytes` long], `250-ENHANCEDSTATUSCODES`, `250 8BITMIME`.
//!   - EHLO `Rejected`: `550 5.7.1 <host> Client host rejected: access denied` to EHLO and
//!     HELO; anything but QUIT then gets `503 5.5.1`.
//!   - EHLO `Drop`: the EHLO line is read, then the server closes without replying.
//!   - HELO: `250 <host>`; NOOP/RSET: `250 2.0.0 OK`; QUIT: `221 2.0.0 <host> closing
//!     connection`, then close; MAIL, RCPT, DATA and unknown verbs: `502 5.5.1`.
//!   - STARTTLS `Ready`: `220 2.0.0 Ready to start TLS` plus the injected bytes in the SAME
//!     write (RFC 3207 §4 / CVE-2011-0411 test); plaintext the client pipelined after its
//!     STARTTLS line is discarded; then per [`TlsBehaviour`]: a TLS 1.2/1.3 handshake with the
//!     CA's chain for the SNI name (the server waits `rtt` after the ClientHello), after which EHLO (no STARTTLS, no padding) and QUIT are
//!     answered and STARTTLS gets `503 5.5.1 TLS already active`; or `Garbage` (the
//!     ClientHello is read, 1 KiB of non-TLS text is sent, close); or `Alert` (the ClientHello
//!     is read, a fatal handshake_failure alert `15 03 03 00 02 02 28` is sent, close);
//!     `Tls13Only`: the rustls handshake with TLS 1.3 only; `Legacy`: an OpenSSL server
//!     (TLS 1.0 / 1.1 only, or TLS 1.2 with static-RSA or CBC suites only, see
//!     [`crate::legacy_tls`]) with the same chain, then EHLO and QUIT as after a rustls
//!     handshake.
//!   - STARTTLS `Unavailable454` / `NotImplemented502`: that reply, conversation goes on.
//! - A line longer than [`ServerOptions::line_cap`] gets `500 5.5.2 Line too long` and a
//!   close; no command within [`ServerOptions::idle_timeout`] gets `421 4.4.2 … timeout` and
//!   a close.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use rustls::server::Acceptor;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::LazyConfigAcceptor;

use crate::behaviour::{
    Behaviours, CertSpec, Conversation, EhloReply, SmtpHost, SmtpScript, StarttlsReply,
    TlsBehaviour,
};
use crate::ca::Ca;
use crate::connlog::{ConnLog, ServerKind};
use crate::error::TestbedError;
use crate::legacy_tls::{self, CertSource};
use crate::listener::{
    ServerHandle, ServerOptions, close_gracefully, dialled_v4, discard_until_eof, reset, serve,
    write_after,
};

/// The fatal `handshake_failure` alert record (TLS 1.2 record version, RFC 8446 §6).
pub const HANDSHAKE_FAILURE_ALERT: [u8; 7] = [0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 0x28];

/// Length of the non-TLS text sent by [`TlsBehaviour::Garbage`].
pub const GARBAGE_LEN: usize = 1024;

/// Length of one EHLO padding line, CRLF included.
const PAD_LINE: usize = 500;

/// Start the SMTP server on `bind` with the default [`ServerOptions`].
pub async fn start_smtp(
    bind: SocketAddr,
    behaviours: Arc<dyn Behaviours>,
    ca: Arc<Ca>,
    log: ConnLog,
) -> Result<ServerHandle, TestbedError> {
    start_smtp_with(bind, behaviours, ca, log, ServerOptions::default()).await
}

/// Start the SMTP server on `bind` with explicit limits.
pub async fn start_smtp_with(
    bind: SocketAddr,
    behaviours: Arc<dyn Behaviours>,
    ca: Arc<Ca>,
    log: ConnLog,
    options: ServerOptions,
) -> Result<ServerHandle, TestbedError> {
    let options = Arc::new(options);
    serve(bind, ServerKind::Smtp, log, move |stream, local| {
        let behaviours = Arc::clone(&behaviours);
        let ca = Arc::clone(&ca);
        let options = Arc::clone(&options);
        async move {
            let Some(ip) = dialled_v4(local) else {
                reset(stream);
                return;
            };
            let host = behaviours.smtp_host(ip);
            let certs = CertSource { ca, behaviours, ip };
            handle(stream, &host, &certs, &options).await;
        }
    })
    .await
}

/// Send a greeting after `delay`; false when the client is gone.
async fn greet(tcp: &mut TcpStream, delay: Duration, text: String) -> bool {
    write_after(tcp, delay, text.as_bytes()).await.is_ok()
}

/// Play `host`'s script on one accepted connection.
async fn handle(mut tcp: TcpStream, host: &SmtpHost, certs: &CertSource, opts: &ServerOptions) {
    let ip = certs.ip;
    let rtt = host.rtt;
    let delay = host.greet_delay + rtt;
    match &host.script {
        SmtpScript::Reset => reset(tcp),
        SmtpScript::Close => close_gracefully(tcp, opts.close_drain).await,
        SmtpScript::Tarpit => {
            let _ = tokio::time::timeout(opts.hold_cap, discard_until_eof(&mut tcp)).await;
        }
        SmtpScript::Greeting421 => {
            let text = format!("421 {ip} Service not available, closing transmission channel\r\n");
            if greet(&mut tcp, delay, text).await {
                close_gracefully(tcp, opts.close_drain).await;
            }
        }
        SmtpScript::Greeting554 => {
            let text = format!("554 {ip} No SMTP service here\r\n");
            if greet(&mut tcp, delay, text).await {
                let mut lines = LineReader::new(opts.line_cap);
                let end = refusing_loop(&mut tcp, &mut lines, rtt, &ip.to_string(), opts).await;
                finish(tcp, end, opts).await;
            }
        }
        SmtpScript::Conversation(conv) => {
            if greet(&mut tcp, delay, greeting(conv)).await {
                conversation(tcp, rtt, conv, certs, opts).await;
            }
        }
    }
}

fn greeting(conv: &Conversation) -> String {
    let h = &conv.hostname;
    if conv.multiline_greeting {
        format!(
            "220-{h} ESMTP mxscan testbed\r\n220-This is a simulated host; no mail is accepted.\r\n\
             220 {h} ESMTP ready\r\n"
        )
    } else {
        format!("220 {h} ESMTP mxscan testbed\r\n")
    }
}

/// How a command loop ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum End {
    /// The server said goodbye (221, 421, 500) or decided to hang up: close gracefully.
    Close,
    /// The client closed, or the connection failed: just drop it.
    Gone,
    /// STARTTLS was accepted with `220`: start TLS on the raw stream.
    StartTls,
}

async fn finish<S: AsyncRead + AsyncWrite + Unpin>(stream: S, end: End, opts: &ServerOptions) {
    if end == End::Close {
        close_gracefully(stream, opts.close_drain).await;
    }
}

/// The plaintext conversation after a 220 greeting, then TLS if STARTTLS was accepted.
async fn conversation(
    mut tcp: TcpStream,
    rtt: Duration,
    conv: &Conversation,
    certs: &CertSource,
    opts: &ServerOptions,
) {
    let mut lines = LineReader::new(opts.line_cap);
    let end = command_loop(&mut tcp, &mut lines, rtt, conv, false, opts).await;
    if end != End::StartTls {
        finish(tcp, end, opts).await;
        return;
    }
    // Whatever the client pipelined after STARTTLS is dropped with `lines` (RFC 3207 §4).
    drop(lines);
    match &conv.tls {
        TlsBehaviour::Handshake(spec) => {
            tls_session(tcp, rtt, conv, spec, false, certs, opts).await
        }
        TlsBehaviour::Tls13Only(spec) => tls_session(tcp, rtt, conv, spec, true, certs, opts).await,
        TlsBehaviour::Legacy(spec, kind) => {
            // The server's handshake flight takes a round trip (waited before, as OpenSSL
            // answers the ClientHello inside `accept`).
            if !rtt.is_zero() {
                tokio::time::sleep(rtt).await;
            }
            let accepted = tokio::time::timeout(
                opts.handshake_timeout,
                legacy_tls::accept(tcp, *kind, spec, certs),
            )
            .await;
            if let Ok(Ok(mut tls)) = accepted {
                let mut lines = LineReader::new(opts.line_cap);
                let end = command_loop(&mut tls, &mut lines, rtt, conv, true, opts).await;
                finish(tls, end, opts).await;
            }
        }
        TlsBehaviour::Garbage => {
            if let Some(mut raw) = read_client_hello(tcp, opts).await
                && raw.write_all(&garbage()).await.is_ok()
            {
                close_gracefully(raw, opts.close_drain).await;
            }
        }
        TlsBehaviour::Alert => {
            if let Some(mut raw) = read_client_hello(tcp, opts).await
                && raw.write_all(&HANDSHAKE_FAILURE_ALERT).await.is_ok()
            {
                close_gracefully(raw, opts.close_drain).await;
            }
        }
    }
}

/// Read a complete ClientHello and hand back the raw stream (None: no ClientHello in time).
async fn read_client_hello(tcp: TcpStream, opts: &ServerOptions) -> Option<TcpStream> {
    let acceptor = LazyConfigAcceptor::new(Acceptor::default(), tcp);
    let start = tokio::time::timeout(opts.handshake_timeout, acceptor)
        .await
        .ok()?
        .ok()?;
    Some(start.io)
}

/// ~1 KiB of text that is no TLS record (first byte `G`, not a TLS content type).
fn garbage() -> Vec<u8> {
    let line = b"GARBAGE: this host answered STARTTLS but speaks no TLS. ";
    line.iter().copied().cycle().take(GARBAGE_LEN).collect()
}

/// TLS with the CA's chain for the client's SNI name, then EHLO/QUIT inside TLS.
/// `tls13_only`: refuse TLS 1.2.
async fn tls_session(
    tcp: TcpStream,
    rtt: Duration,
    conv: &Conversation,
    spec: &CertSpec,
    tls13_only: bool,
    certs: &CertSource,
    opts: &ServerOptions,
) {
    let deadline = tokio::time::Instant::now() + opts.handshake_timeout;
    let acceptor = LazyConfigAcceptor::new(Acceptor::default(), tcp);
    let Ok(Ok(start)) = tokio::time::timeout_at(deadline, acceptor).await else {
        return;
    };
    let sni = start.client_hello().server_name().map(str::to_owned);
    let renewal = certs.behaviours.cert_renewal(certs.ip, sni.as_deref());
    let versions: &[&'static rustls::SupportedProtocolVersion] = if tls13_only {
        &[&rustls::version::TLS13]
    } else {
        &[&rustls::version::TLS13, &rustls::version::TLS12]
    };
    let config = match certs
        .ca
        .server_config_versions(spec, sni.as_deref(), renewal, versions)
    {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(error = %e, ?sni, "no certificate for SMTP host");
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
    let mut lines = LineReader::new(opts.line_cap);
    let end = command_loop(&mut tls, &mut lines, rtt, conv, true, opts).await;
    finish(tls, end, opts).await;
}

/// Answer commands per `conv` until the conversation ends. `in_tls`: after STARTTLS.
async fn command_loop<S>(
    s: &mut S,
    lines: &mut LineReader,
    rtt: Duration,
    conv: &Conversation,
    in_tls: bool,
    opts: &ServerOptions,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let host = conv.hostname.as_str();
    let rejected = !in_tls && conv.ehlo == EhloReply::Rejected;
    loop {
        let line = match next_line(s, lines, rtt, host, opts).await {
            Ok(line) => line,
            Err(end) => return end,
        };
        let (verb, arg) = split_command(&line);
        let reply: String = match verb.as_str() {
            "EHLO" if in_tls => {
                ehlo_head(host, arg, false) + "250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n"
            }
            "EHLO" => match &conv.ehlo {
                EhloReply::Ok {
                    starttls,
                    padding_bytes,
                } => {
                    let r = ehlo_ok(s, rtt, host, arg, *starttls, *padding_bytes).await;
                    if r.is_err() {
                        return End::Gone;
                    }
                    continue;
                }
                EhloReply::Rejected => rejection(host),
                EhloReply::Drop => return End::Close,
            },
            "HELO" if rejected => rejection(host),
            "HELO" => format!("250 {host}\r\n"),
            "QUIT" => {
                let bye = format!("221 2.0.0 {host} closing connection\r\n");
                return if write_after(s, rtt, bye.as_bytes()).await.is_ok() {
                    End::Close
                } else {
                    End::Gone
                };
            }
            _ if rejected => "503 5.5.1 Bad sequence of commands\r\n".to_string(),
            "STARTTLS" if in_tls => "503 5.5.1 TLS already active\r\n".to_string(),
            "STARTTLS" => match conv.starttls {
                StarttlsReply::Ready => {
                    let mut out = b"220 2.0.0 Ready to start TLS\r\n".to_vec();
                    out.extend_from_slice(
                        conv.inject_after_starttls.as_deref().unwrap_or_default(),
                    );
                    return match write_after(s, rtt, &out).await {
                        Ok(()) => End::StartTls,
                        Err(_) => End::Gone,
                    };
                }
                StarttlsReply::Unavailable454 => {
                    "454 4.7.0 TLS not available due to temporary reason\r\n".to_string()
                }
                StarttlsReply::NotImplemented502 => {
                    "502 5.5.1 Command not implemented\r\n".to_string()
                }
            },
            "NOOP" | "RSET" => "250 2.0.0 OK\r\n".to_string(),
            "MAIL" | "RCPT" | "DATA" => "502 5.5.1 Command not implemented\r\n".to_string(),
            _ => "502 5.5.2 Command not recognized\r\n".to_string(),
        };
        if write_after(s, rtt, reply.as_bytes()).await.is_err() {
            return End::Gone;
        }
    }
}

/// Commands to a host that greeted with 554: only QUIT is honoured.
async fn refusing_loop<S>(
    s: &mut S,
    lines: &mut LineReader,
    rtt: Duration,
    host: &str,
    opts: &ServerOptions,
) -> End
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    loop {
        let line = match next_line(s, lines, rtt, host, opts).await {
            Ok(line) => line,
            Err(end) => return end,
        };
        let (verb, _) = split_command(&line);
        if verb == "QUIT" {
            let bye = format!("221 2.0.0 {host} closing connection\r\n");
            return if write_after(s, rtt, bye.as_bytes()).await.is_ok() {
                End::Close
            } else {
                End::Gone
            };
        }
        if write_after(s, rtt, b"503 5.5.1 Bad sequence of commands\r\n")
            .await
            .is_err()
        {
            return End::Gone;
        }
    }
}

/// The next command line, or how the loop must end (after telling the client why when the
/// line was too long or the client idle).
async fn next_line<S>(
    s: &mut S,
    lines: &mut LineReader,
    rtt: Duration,
    host: &str,
    opts: &ServerOptions,
) -> Result<Vec<u8>, End>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let goodbye = match lines.read_line(s, opts.idle_timeout).await {
        LineRead::Line(line) => return Ok(line),
        LineRead::Eof | LineRead::Failed => return Err(End::Gone),
        LineRead::TooLong => "500 5.5.2 Line too long\r\n".to_string(),
        LineRead::Idle => format!("421 4.4.2 {host} Error: timeout exceeded\r\n"),
    };
    Err(match write_after(s, rtt, goodbye.as_bytes()).await {
        Ok(()) => End::Close,
        Err(_) => End::Gone,
    })
}

fn rejection(host: &str) -> String {
    format!("550 5.7.1 {host} Client host rejected: access denied\r\n")
}

/// The first lines of a multi-line EHLO reply (RFC 5321 §4.1.1.1).
fn ehlo_head(host: &str, arg: &str, starttls: bool) -> String {
    let client = if arg.is_empty() { "client" } else { arg };
    let mut s = format!("250-{host} greets {client}\r\n250-PIPELINING\r\n250-SIZE 52428800\r\n");
    if starttls {
        s.push_str("250-STARTTLS\r\n");
    }
    s
}

/// A `250` EHLO reply, with `padding` bytes of extra keyword lines streamed in chunks.
async fn ehlo_ok<S>(
    s: &mut S,
    rtt: Duration,
    host: &str,
    arg: &str,
    starttls: bool,
    padding: usize,
) -> std::io::Result<()>
where
    S: AsyncWrite + Unpin,
{
    let tail = b"250-ENHANCEDSTATUSCODES\r\n250 8BITMIME\r\n";
    let head = ehlo_head(host, arg, starttls);
    if padding == 0 {
        return write_after(
            s,
            rtt,
            (head + std::str::from_utf8(tail).unwrap_or_default()).as_bytes(),
        )
        .await;
    }
    write_after(s, rtt, head.as_bytes()).await?;
    let line = pad_line(PAD_LINE);
    let chunk: Vec<u8> = line.iter().copied().cycle().take(PAD_LINE * 128).collect();
    let mut left = padding;
    while left >= chunk.len() {
        s.write_all(&chunk).await?;
        left -= chunk.len();
    }
    let whole = left / PAD_LINE * PAD_LINE;
    s.write_all(&chunk[..whole]).await?;
    left -= whole;
    if left > 0 {
        s.write_all(&pad_line(left)).await?;
    }
    s.write_all(tail).await?;
    s.flush().await
}

/// One `250-X-PAD-AAA…\r\n` line of exactly `len` bytes (at least 13).
fn pad_line(len: usize) -> Vec<u8> {
    let mut v = b"250-X-PAD-".to_vec();
    v.resize(len.max(12) - 2, b'A');
    v.extend_from_slice(b"\r\n");
    v
}

/// The upper-cased verb and the rest of a command line (CRLF or LF stripped).
fn split_command(line: &[u8]) -> (String, &str) {
    let text = std::str::from_utf8(line).unwrap_or("");
    let text = text.trim_end_matches(['\r', '\n']);
    let (verb, arg) = text.split_once(' ').unwrap_or((text, ""));
    (verb.to_ascii_uppercase(), arg.trim())
}

/// What reading a command line gave.
#[derive(Debug, PartialEq, Eq)]
enum LineRead {
    /// A line, terminator included.
    Line(Vec<u8>),
    /// The client closed.
    Eof,
    /// Nothing complete within the idle timeout.
    Idle,
    /// Longer than the cap.
    TooLong,
    /// A read error (reset, TLS error).
    Failed,
}

/// Reads LF-terminated lines with a length cap.
#[derive(Debug)]
struct LineReader {
    buf: Vec<u8>,
    cap: usize,
}

impl LineReader {
    fn new(cap: usize) -> LineReader {
        LineReader {
            buf: Vec::new(),
            cap,
        }
    }

    async fn read_line<S: AsyncRead + Unpin>(&mut self, s: &mut S, idle: Duration) -> LineRead {
        let deadline = tokio::time::Instant::now() + idle;
        loop {
            if let Some(pos) = self.buf.iter().position(|&b| b == b'\n') {
                if pos + 1 > self.cap {
                    return LineRead::TooLong;
                }
                let rest = self.buf.split_off(pos + 1);
                return LineRead::Line(std::mem::replace(&mut self.buf, rest));
            }
            if self.buf.len() >= self.cap {
                return LineRead::TooLong;
            }
            let mut chunk = [0u8; 1024];
            match tokio::time::timeout_at(deadline, s.read(&mut chunk)).await {
                Err(_) => return LineRead::Idle,
                Ok(Ok(0)) => return LineRead::Eof,
                Ok(Ok(n)) => self.buf.extend_from_slice(&chunk[..n]),
                Ok(Err(_)) => return LineRead::Failed,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_split() {
        let cases: &[(&[u8], &str, &str)] = &[
            (b"EHLO scanner.example\r\n", "EHLO", "scanner.example"),
            (b"ehlo  x\n", "EHLO", "x"),
            (b"QUIT\r\n", "QUIT", ""),
            (b"StartTLS\r\n", "STARTTLS", ""),
            (b"\xff\xfe\r\n", "", ""),
        ];
        for (line, verb, arg) in cases {
            assert_eq!(split_command(line), (verb.to_string(), *arg));
        }
    }

    #[test]
    fn pad_lines_have_exact_length() {
        for len in [13, 100, 500] {
            let l = pad_line(len);
            assert_eq!(l.len(), len);
            assert!(l.starts_with(b"250-X-PAD-") && l.ends_with(b"\r\n"));
        }
    }

    #[tokio::test]
    async fn line_reader_caps_and_splits() {
        let (mut client, mut server) = tokio::io::duplex(64 * 1024);
        client.write_all(b"EHLO a\r\nQUIT\r\n").await.unwrap();
        client.write_all(&[b'x'; 100]).await.unwrap();
        let mut r = LineReader::new(64);
        let idle = Duration::from_secs(5);
        assert_eq!(
            r.read_line(&mut server, idle).await,
            LineRead::Line(b"EHLO a\r\n".to_vec())
        );
        assert_eq!(
            r.read_line(&mut server, idle).await,
            LineRead::Line(b"QUIT\r\n".to_vec())
        );
        assert_eq!(r.read_line(&mut server, idle).await, LineRead::TooLong);
        drop(client);
        let mut r = LineReader::new(64);
        assert_eq!(r.read_line(&mut server, idle).await, LineRead::Eof);
    }

    #[tokio::test(start_paused = true)]
    async fn line_reader_times_out() {
        let (_client, mut server) = tokio::io::duplex(1024);
        let mut r = LineReader::new(64);
        assert_eq!(
            r.read_line(&mut server, Duration::from_secs(60)).await,
            LineRead::Idle
        );
    }
}
