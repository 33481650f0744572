//! The testbed's plain-HTTP AIA server: the caIssuers URLs of the `aia_*` leaves
//! (RFC 5280 §4.2.2.1; hosts and paths in [`crate::aia`]).
//!
//! One listener on `0.0.0.0:PORT` (the scanner's `--http-port`); every connection is
//! recorded in the connection log as [`ServerKind::Aia`], so a test counts the fetches of a
//! URL as the connections to its address. Per connection, by the dialled address:
//!
//! - [`AiaHost::Tarpit`]: accepted and never answered (what the client sends is read and
//!   discarded) until the client leaves or [`ServerOptions::hold_cap`] passes;
//! - another AIA host: one HTTP/1.1 request is read; `GET` (or `HEAD`) of the host's path →
//!   `200 OK`, `Content-Type: application/pkix-cert`, the certificate's DER
//!   ([`Ca::aia_der`]); another path → `404`; another method → `405`; an unreadable head →
//!   `400`; always `Connection: close`, no redirects;
//! - any other address: reset at once.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

use crate::aia::AiaHost;
use crate::ca::Ca;
use crate::connlog::{ConnLog, ServerKind};
use crate::error::TestbedError;
use crate::https_server::{HeadError, parse_request, read_head};
use crate::listener::{
    ServerHandle, ServerOptions, close_gracefully, dialled_v4, discard_until_eof, reset, serve,
};

/// The Content-Type of a DER certificate (RFC 2585 §4.1).
pub const PKIX_CERT: &str = "application/pkix-cert";

/// Start the AIA server on `bind` with the default [`ServerOptions`].
pub async fn start_aia(
    bind: SocketAddr,
    ca: Arc<Ca>,
    log: ConnLog,
) -> Result<ServerHandle, TestbedError> {
    start_aia_with(bind, ca, log, ServerOptions::default()).await
}

/// Start the AIA server on `bind` with explicit limits.
pub async fn start_aia_with(
    bind: SocketAddr,
    ca: Arc<Ca>,
    log: ConnLog,
    options: ServerOptions,
) -> Result<ServerHandle, TestbedError> {
    let options = Arc::new(options);
    serve(bind, ServerKind::Aia, log, move |stream, local| {
        let ca = Arc::clone(&ca);
        let options = Arc::clone(&options);
        async move { handle(stream, local, &ca, &options).await }
    })
    .await
}

async fn handle(mut tcp: TcpStream, local: SocketAddr, ca: &Ca, opts: &ServerOptions) {
    let Some(host) = dialled_v4(local).and_then(AiaHost::by_addr) else {
        reset(tcp);
        return;
    };
    let Some(der) = ca.aia_der(host) else {
        // The tarpit: hold the connection, say nothing.
        let _ = tokio::time::timeout(opts.hold_cap, discard_until_eof(&mut tcp)).await;
        return;
    };
    let head = tokio::time::timeout(opts.idle_timeout, read_head(&mut tcp, opts.request_cap)).await;
    let request = match head {
        Ok(Ok(head)) => parse_request(&head),
        Ok(Err(HeadError::Gone)) | Err(_) => return,
        Ok(Err(HeadError::Bad)) => None,
    };
    let response = match request {
        None => status(400),
        Some((method, path)) => {
            let head_only = method == "HEAD";
            if method != "GET" && !head_only {
                status(405)
            } else if path.split('?').next() != Some(host.path()) {
                status(404)
            } else {
                let mut out = format!(
                    "HTTP/1.1 200 OK\r\nServer: mxscan-testbed\r\nContent-Type: {PKIX_CERT}\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n",
                    der.len()
                )
                .into_bytes();
                if !head_only {
                    out.extend_from_slice(der.as_ref());
                }
                out
            }
        }
    };
    if tcp.write_all(&response).await.is_ok() && tcp.flush().await.is_ok() {
        close_gracefully(tcp, opts.close_drain).await;
    }
}

/// A bodyless status response.
fn status(code: u16) -> Vec<u8> {
    let reason = match code {
        400 => "Bad Request",
        404 => "Not Found",
        _ => "Method Not Allowed",
    };
    format!(
        "HTTP/1.1 {code} {reason}\r\nServer: mxscan-testbed\r\nContent-Length: 0\r\n\
         Connection: close\r\n\r\n"
    )
    .into_bytes()
}
