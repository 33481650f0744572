//! Hand-written hostile TCP servers: behaviours the testbed's servers do not have (endless
//! banners, gigabyte replies, drips), written in the test that needs them on top of these.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};

/// Listen on `bind` (`"127.0.0.1:0"`, or `"0.0.0.0:0"` to be reached on every 127/8
/// address) and run `serve` on every accepted connection, each in its own task, until the
/// runtime ends. Returns the port.
pub async fn serve_tcp<F, Fut>(bind: &str, serve: F) -> u16
where
    F: Fn(TcpStream) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = TcpListener::bind(bind).await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((s, _)) = listener.accept().await {
            tokio::spawn(serve(s));
        }
    });
    port
}

/// Write `chunk` repeatedly until `total` bytes are out or the client goes away, counting
/// what was written in `written` as it goes.
pub async fn pour(s: &mut TcpStream, chunk: &[u8], total: u64, written: &AtomicU64) {
    let mut sent = 0u64;
    while sent < total {
        if s.write_all(chunk).await.is_err() {
            return;
        }
        sent += chunk.len() as u64;
        written.fetch_add(chunk.len() as u64, Ordering::Relaxed);
    }
}
