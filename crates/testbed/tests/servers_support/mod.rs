//! Helpers shared by the `servers_*` integration tests: a fixed world, raw and TLS clients.
//! Every socket is on 127.0.0.0/8 (the listeners bind 0.0.0.0 so that every 127/8 address
//! reaches them; inside `unshare --net` only loopback exists).
#![allow(dead_code)]

use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mxscan_testbed::behaviour::{
    CertDefect, CertNames, CertSpec, Conversation, EhloReply, StarttlsReply, TlsBehaviour,
};
use mxscan_testbed::ca::Ca;
use mxscan_testbed::connlog::ConnLog;
use mxscan_testbed::https_server::start_https_with;
use mxscan_testbed::listener::{ServerHandle, ServerOptions};
use mxscan_testbed::smtp_server::start_smtp_with;
use mxscan_testbed::table::BehaviourTable;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

/// Upper bound for any single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running testbed fragment.
pub struct Bed {
    pub ca: Arc<Ca>,
    pub log: ConnLog,
    pub server: ServerHandle,
}

impl Bed {
    pub fn addr(&self, ip: Ipv4Addr) -> SocketAddr {
        SocketAddr::from((ip, self.server.port()))
    }
}

/// Short limits so that misbehaving paths end quickly in tests.
pub fn test_options() -> ServerOptions {
    ServerOptions {
        idle_timeout: Duration::from_secs(5),
        hold_cap: Duration::from_secs(20),
        handshake_timeout: Duration::from_secs(5),
        close_drain: Duration::from_millis(500),
        ..ServerOptions::default()
    }
}

pub async fn smtp_bed(table: BehaviourTable) -> Bed {
    let ca = Arc::new(Ca::new().unwrap());
    let log = ConnLog::new();
    let bind: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let server = start_smtp_with(
        bind,
        Arc::new(table),
        Arc::clone(&ca),
        log.clone(),
        test_options(),
    )
    .await
    .unwrap();
    Bed { ca, log, server }
}

pub async fn https_bed(table: BehaviourTable) -> Bed {
    let ca = Arc::new(Ca::new().unwrap());
    let log = ConnLog::new();
    let bind: SocketAddr = "0.0.0.0:0".parse().unwrap();
    let server = start_https_with(
        bind,
        Arc::new(table),
        Arc::clone(&ca),
        log.clone(),
        test_options(),
    )
    .await
    .unwrap();
    Bed { ca, log, server }
}

pub fn ip(a: u8, b: u8, c: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, a, b, c)
}

pub fn fixed(names: &[&str], defect: CertDefect) -> CertSpec {
    CertSpec {
        names: CertNames::Fixed(names.iter().map(|s| s.to_string()).collect()),
        defect,
    }
}

/// A plain, well-behaved conversation host presenting `cert` after STARTTLS.
pub fn conversation(hostname: &str, cert: CertSpec) -> Conversation {
    Conversation {
        hostname: hostname.to_string(),
        multiline_greeting: false,
        ehlo: EhloReply::Ok {
            starttls: true,
            padding_bytes: 0,
        },
        starttls: StarttlsReply::Ready,
        inject_after_starttls: None,
        tls: TlsBehaviour::Handshake(cert),
    }
}

/// Read one complete SMTP reply (through the line `NNN text`), with a deadline.
pub async fn read_reply<S: AsyncRead + Unpin>(s: &mut S) -> io::Result<String> {
    let mut buf = Vec::new();
    let mut byte = [0u8; 1];
    tokio::time::timeout(WAIT, async {
        loop {
            let n = s.read(&mut byte).await?;
            if n == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "eof in reply"));
            }
            buf.push(byte[0]);
            if byte[0] == b'\n' {
                let start = buf[..buf.len() - 1]
                    .iter()
                    .rposition(|&b| b == b'\n')
                    .map_or(0, |p| p + 1);
                let line = &buf[start..];
                if line.len() >= 4 && line[3] == b' ' {
                    return Ok(String::from_utf8_lossy(&buf).into_owned());
                }
            }
        }
    })
    .await
    .map_err(|_| io::Error::new(io::ErrorKind::TimedOut, "no reply"))?
}

pub async fn send<S: AsyncWrite + Unpin>(s: &mut S, line: &str) {
    s.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
    s.flush().await.unwrap();
}

/// Send `line` and return the reply.
pub async fn command<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, line: &str) -> String {
    send(s, line).await;
    read_reply(s).await.unwrap()
}

pub async fn connect(addr: SocketAddr) -> TcpStream {
    tokio::time::timeout(WAIT, TcpStream::connect(addr))
        .await
        .unwrap()
        .unwrap()
}

/// A TLS client trusting only the testbed root, for `versions`.
pub fn connector(ca: &Ca, versions: &[&'static rustls::SupportedProtocolVersion]) -> TlsConnector {
    let config = rustls::ClientConfig::builder_with_provider(ca.provider())
        .with_protocol_versions(versions)
        .unwrap()
        .with_root_certificates(ca.root_store())
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

pub fn default_connector(ca: &Ca) -> TlsConnector {
    connector(ca, rustls::DEFAULT_VERSIONS)
}

/// TLS handshake over `tcp` for `name`; the rustls error when it fails.
pub async fn tls_handshake(
    connector: &TlsConnector,
    tcp: TcpStream,
    name: &str,
) -> Result<TlsStream<TcpStream>, TlsFailure> {
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    match tokio::time::timeout(WAIT, connector.connect(server_name, tcp)).await {
        Err(_) => Err(TlsFailure::Timeout),
        Ok(Ok(tls)) => Ok(tls),
        Ok(Err(e)) => Err(TlsFailure::from_io(e)),
    }
}

/// Why a client handshake failed.
#[derive(Debug)]
pub enum TlsFailure {
    Tls(rustls::Error),
    Io(io::ErrorKind, String),
    Timeout,
}

impl TlsFailure {
    pub fn from_io(e: io::Error) -> TlsFailure {
        match e
            .get_ref()
            .and_then(|inner| inner.downcast_ref::<rustls::Error>())
        {
            Some(tls) => TlsFailure::Tls(tls.clone()),
            None => TlsFailure::Io(e.kind(), e.to_string()),
        }
    }

    pub fn cert_error(&self) -> Option<&rustls::CertificateError> {
        match self {
            TlsFailure::Tls(rustls::Error::InvalidCertificate(c)) => Some(c),
            _ => None,
        }
    }
}

/// Greeting, EHLO, STARTTLS (expecting `220`): the stream ready for the TLS handshake.
pub async fn to_starttls(addr: SocketAddr) -> TcpStream {
    let mut tcp = connect(addr).await;
    let greeting = read_reply(&mut tcp).await.unwrap();
    assert!(greeting.starts_with("220"), "{greeting}");
    let ehlo = command(&mut tcp, "EHLO scanner.test").await;
    assert!(ehlo.starts_with("250"), "{ehlo}");
    let ready = command(&mut tcp, "STARTTLS").await;
    assert!(ready.starts_with("220 "), "{ready}");
    tcp
}

/// Read until EOF (or `cap` bytes, or an error); the bytes and how it ended.
pub async fn read_all<S: AsyncRead + Unpin>(s: &mut S, cap: usize) -> (Vec<u8>, io::Result<()>) {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 16 * 1024];
    let end = tokio::time::timeout(WAIT, async {
        loop {
            match s.read(&mut buf).await {
                Ok(0) => return Ok(()),
                Ok(n) => {
                    out.extend_from_slice(&buf[..n]);
                    if out.len() >= cap {
                        return Ok(());
                    }
                }
                Err(e) => return Err(e),
            }
        }
    })
    .await
    .unwrap_or_else(|_| Err(io::Error::new(io::ErrorKind::TimedOut, "read_all")));
    (out, end)
}
