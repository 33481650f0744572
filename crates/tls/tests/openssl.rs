//! The legacy hello against a real OpenSSL server (`openssl s_server`, Debian's libssl) on
//! loopback: TLS 1.0 only, TLS 1.2, and TLS 1.3 only. The reader must see the version and
//! suite OpenSSL chose and the very certificate it serves, or its protocol_version alert.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use mxscan_tls::{
    AlertDescription, Caps, Flight, FlightReader, LEGACY_SUITES, Step, Version, client_hello,
};

fn openssl() -> Option<Command> {
    let ok = Command::new("openssl")
        .arg("version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        // CI installs openssl (.ci/run); a developer machine without it says so loudly.
        eprintln!("######## SKIPPED: no openssl binary ########");
        return None;
    }
    Some(Command::new("openssl"))
}

/// A key and a self-signed certificate for mx.example.com; returns the certificate's DER.
fn make_cert(dir: &Path) -> Vec<u8> {
    let status = openssl()
        .unwrap()
        .args([
            "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
        ])
        .args(["-subj", "/CN=mx.example.com"])
        .arg("-keyout")
        .arg(dir.join("key.pem"))
        .arg("-out")
        .arg(dir.join("cert.pem"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let der = openssl()
        .unwrap()
        .args(["x509", "-outform", "DER", "-in"])
        .arg(dir.join("cert.pem"))
        .output()
        .unwrap();
    assert!(der.status.success());
    der.stdout
}

struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(dir: &Path, version_flag: &str) -> (Server, u16) {
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = openssl()
        .unwrap()
        .args(["s_server", "-quiet", "-naccept", "1", "-accept"])
        .arg(format!("127.0.0.1:{port}"))
        .arg("-cert")
        .arg(dir.join("cert.pem"))
        .arg("-key")
        .arg(dir.join("key.pem"))
        .args([version_flag, "-cipher", "DEFAULT:@SECLEVEL=0"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    (Server(child), port)
}

/// Sends the legacy hello and reads the first flight (at most 10 s).
fn hello_flight(port: u16) -> Flight {
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut stream = loop {
        match TcpStream::connect(("127.0.0.1", port)) {
            Ok(s) => break s,
            Err(_) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => panic!("s_server did not listen: {e}"),
        }
    };
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    stream
        .write_all(&client_hello(
            Some("mx.example.com"),
            [0x5a; 32],
            Version::TLS12,
        ))
        .unwrap();
    let mut reader = FlightReader::new(Caps::default());
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => return reader.finish(),
            Ok(n) => {
                if let Step::Done(f) = reader.feed(&buf[..n]) {
                    return f;
                }
            }
        }
    }
}

#[test]
fn openssl_servers_first_flights() {
    if openssl().is_none() {
        return;
    }
    let dir = tempfile_dir();
    let der = make_cert(&dir);
    for (flag, want) in [("-tls1", Version::TLS10), ("-tls1_2", Version::TLS12)] {
        let (_server, port) = serve(&dir, flag);
        match hello_flight(port) {
            Flight::Hello {
                hello,
                certificates,
                complete,
            } => {
                assert_eq!(hello.version, want, "{flag}");
                assert!(
                    LEGACY_SUITES.contains(&hello.cipher_suite),
                    "{flag}: suite {:04x}",
                    hello.cipher_suite
                );
                assert_eq!(
                    certificates,
                    vec![der.clone()],
                    "{flag}: the served certificate"
                );
                assert!(complete, "{flag}: ServerHelloDone read");
            }
            other => panic!("{flag}: {other:?}"),
        }
    }
    // A TLS 1.3-only server refuses a hello that offers at most TLS 1.2.
    let (_server, port) = serve(&dir, "-tls1_3");
    match hello_flight(port) {
        Flight::Alert(a) => assert_eq!(a.description, AlertDescription::PROTOCOL_VERSION),
        other => panic!("-tls1_3: {other:?}"),
    }
    let _ = std::fs::remove_dir_all(&dir);
}

fn tempfile_dir() -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("mxscan-tls-openssl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
