//! Raw SMTP and TLS clients for the testbed's servers, each wait bounded by [`WAIT`].

use std::io;
use std::net::SocketAddr;
use std::sync::Arc;

use mxscan_testbed::ca::Ca;
use rustls::CertificateError;
use rustls::pki_types::ServerName;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use crate::bed::WAIT;

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

/// One read into `buf`, which must end (with bytes, EOF or an error) within [`WAIT`].
pub async fn read_once<S: AsyncRead + Unpin>(s: &mut S, buf: &mut [u8]) -> io::Result<usize> {
    tokio::time::timeout(WAIT, s.read(buf))
        .await
        .expect("a read ends within WAIT")
}

/// Send `line` with CRLF.
pub async fn send<S: AsyncWrite + Unpin>(s: &mut S, line: &str) {
    s.write_all(format!("{line}\r\n").as_bytes()).await.unwrap();
    s.flush().await.unwrap();
}

/// Send `line` and return the reply.
pub async fn command<S: AsyncRead + AsyncWrite + Unpin>(s: &mut S, line: &str) -> String {
    send(s, line).await;
    read_reply(s).await.unwrap()
}

/// A TCP connection to `addr`, with a deadline.
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

/// [`connector`] for rustls's default versions.
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

/// [`tls_handshake`] over `tcp` for `name`, trusting the testbed root, that must fail: why
/// it failed.
pub async fn tls_failure(ca: &Ca, tcp: TcpStream, name: &str) -> TlsFailure {
    tls_handshake(&default_connector(ca), tcp, name)
        .await
        .err()
        .unwrap()
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

    pub fn cert_error(&self) -> Option<&CertificateError> {
        match self {
            TlsFailure::Tls(rustls::Error::InvalidCertificate(c)) => Some(c),
            _ => None,
        }
    }
}

/// The certificate errors a client sees for the testbed's certificate defects.
pub fn is_expired(e: &CertificateError) -> bool {
    matches!(
        e,
        CertificateError::Expired | CertificateError::ExpiredContext { .. }
    )
}

/// See [`is_expired`].
pub fn is_not_yet_valid(e: &CertificateError) -> bool {
    matches!(
        e,
        CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
    )
}

/// See [`is_expired`]: self-signed, unknown issuer and incomplete chain all look like this.
pub fn is_unknown_issuer(e: &CertificateError) -> bool {
    matches!(e, CertificateError::UnknownIssuer)
}

/// See [`is_expired`].
pub fn is_wrong_name(e: &CertificateError) -> bool {
    matches!(
        e,
        CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. }
    )
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

/// What a handshake must fail with: a predicate on the certificate error (`is_expired`, …).
pub type CertCheck = fn(&CertificateError) -> bool;

/// A handshake `result` succeeded when `check` is `None`, or failed with a certificate error
/// that `check` accepts; `case` names the case in the failure message.
pub fn assert_handshake<T>(
    result: Result<T, TlsFailure>,
    check: Option<CertCheck>,
    case: &dyn std::fmt::Debug,
) {
    match (result, check) {
        (Ok(_), None) => {}
        (Err(f), Some(check)) => {
            let e = f
                .cert_error()
                .unwrap_or_else(|| panic!("{case:?}: not a certificate error: {f:?}"));
            assert!(check(e), "{case:?}: {e:?}");
        }
        (Ok(_), Some(_)) => panic!("{case:?}: the handshake succeeded"),
        (Err(f), None) => panic!("{case:?}: {f:?}"),
    }
}
