//! Issue 15, against a real mail server: Debian's Postfix (OpenSSL underneath), started by
//! the test inside the network sandbox, configured for TLS 1.0 only — the kind of server
//! rustls refuses and OpenSSL-based senders still deliver to. mxscan must file it
//! `tls_legacy` with `tls_max_version` TLSv1.0 and its certificate, and `openssl s_client`
//! must agree: a TLS 1.0 handshake completes, a modern one does not. The same Postfix with
//! TLS ≥ 1.2 is an ordinary `ok` probe and gets no legacy hello.
//!
//! Postfix reads its configuration from /etc/postfix; the test never touches the machine's
//! copy: it runs `postfix start` in a mount namespace of its own (`unshare --mount`) with a
//! temporary directory bind-mounted over /etc/postfix. The master daemon lives on in that
//! namespace; `postfix stop` (another namespace, the same bind) ends it. DNS comes from the
//! testbed (any of its MX addresses is 127.x, where Postfix listens on every address);
//! `--smtp-port` points the scan at Postfix.
//!
//! Needs root, `unshare`, `postfix` and `openssl` (CI installs postfix: .ci/run). Without
//! postfix the test says so and returns, unless `CI` is set, where it fails.

mod common;

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{Harness, mxscan, only_survey};
use mxscan_testbed::profile::Profile;

fn sh(script: &str) -> std::process::Output {
    Command::new("unshare")
        .args(["--mount", "--propagation", "private", "sh", "-c", script])
        .output()
        .expect("unshare runs")
}

/// A Postfix instance under `dir`, listening on `port` on every IPv4 address.
struct Postfix {
    dir: PathBuf,
}

impl Postfix {
    fn start(dir: &Path, port: u16, protocols: &str) -> Postfix {
        std::fs::create_dir_all(dir).unwrap();
        let etc = dir.join("etc");
        let cp = Command::new("cp")
            .args(["-a", "/etc/postfix"])
            .arg(&etc)
            .status()
            .unwrap();
        assert!(cp.success(), "copying /etc/postfix");
        for d in ["queue", "data"] {
            std::fs::create_dir_all(dir.join(d)).unwrap();
        }
        let chown = Command::new("chown")
            .arg("postfix")
            .arg(dir.join("data"))
            .status()
            .unwrap();
        assert!(chown.success());
        let key = dir.join("key.pem");
        let cert = dir.join("cert.pem");
        let req = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "30",
            ])
            .args(["-subj", "/CN=postfix.interop.test"])
            .args(["-addext", "subjectAltName=DNS:postfix.interop.test"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(req.status.success(), "{req:?}");
        let d = dir.display();
        std::fs::write(
            etc.join("main.cf"),
            format!(
                "compatibility_level = 3.6
queue_directory = {d}/queue
data_directory = {d}/data
mail_owner = postfix
myhostname = postfix.interop.test
inet_interfaces = all
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_recipient_maps =
maillog_file_prefixes = {d}
maillog_file = {d}/maillog
smtpd_tls_security_level = may
smtpd_tls_cert_file = {d}/cert.pem
smtpd_tls_key_file = {d}/key.pem
smtpd_tls_protocols = {protocols}
smtpd_tls_mandatory_protocols = {protocols}
smtpd_tls_ciphers = medium
tls_medium_cipherlist = DEFAULT:@SECLEVEL=0
smtpd_tls_loglevel = 1
"
            ),
        )
        .unwrap();
        std::fs::write(
            etc.join("master.cf"),
            format!(
                "{port} inet n - n - - smtpd
postlog unix-dgram n - n - 1 postlogd
proxymap unix - - n - - proxymap
tlsmgr unix - - n 1000? 1 tlsmgr
anvil unix - - n - 1 anvil
"
            ),
        )
        .unwrap();
        let out = sh(&format!(
            "mount --bind {d}/etc /etc/postfix && script -q -c 'postfix start' /dev/null"
        ));
        assert!(
            out.status.success(),
            "postfix start: {}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        // Up when it accepts a connection.
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return Postfix {
                    dir: dir.to_path_buf(),
                };
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        panic!(
            "postfix did not listen on {port}: {}",
            std::fs::read_to_string(dir.join("maillog")).unwrap_or_default()
        );
    }
}

impl Drop for Postfix {
    fn drop(&mut self) {
        let d = self.dir.display();
        let _ = sh(&format!(
            "mount --bind {d}/etc /etc/postfix && script -q -c 'postfix stop' /dev/null"
        ));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Does `openssl s_client -starttls smtp` with `args` complete a handshake with `port`?
fn s_client_handshakes(port: u16, args: &[&str]) -> bool {
    let out = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "(printf 'EHLO interop.test\\r\\n'; sleep 1; printf 'QUIT\\r\\n') | \
             timeout 10 openssl s_client -starttls smtp -connect 127.0.0.1:{port} {} 2>&1",
            args.join(" ")
        ))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    text.contains("Cipher is ") && !text.contains("Cipher is (NONE)")
}

/// Scans one domain of the testbed's world whose MX hosts are all served (dialled), with
/// the SMTP port pointed at Postfix; the probes rows.
fn scan_into_postfix(h: &Harness, port: u16, tag: &str) -> Vec<mxscan_store::rows::ProbeRow> {
    let world = h.testbed.world();
    let domain = h
        .domains(400)
        .into_iter()
        .find(|d| {
            let t = world.expected(d);
            !t.mx.is_empty() && t.mx.iter().all(|m| !m.blocked)
        })
        .expect("a domain with served MX hosts");
    let list = h.dir.path().join(format!("{tag}.txt"));
    std::fs::write(&list, format!("{domain}\n")).unwrap();
    let out = h.dir.path().join(format!("out-{tag}"));
    let mut flags = h.scan_flags();
    let i = flags.iter().position(|f| f == "--smtp-port").unwrap();
    flags[i + 1] = port.to_string();
    let run = mxscan()
        .arg("scan")
        .arg(&list)
        .arg("--out")
        .arg(&out)
        .args(&flags)
        .args(Harness::fast_flags())
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "mxscan scan: {}",
        String::from_utf8_lossy(&run.stderr)
    );
    let probes = mxscan_store::reader::read_probes(&only_survey(&out)).unwrap();
    assert!(!probes.is_empty(), "{domain}: no probe");
    probes
}

#[test]
fn postfix_tls10_only_is_tls_legacy_and_openssl_agrees() {
    mxscan_testkit::require_sandbox!();
    if !mxscan_testkit::tools::tool_available("openssl") {
        return;
    }
    if !Path::new("/usr/sbin/postfix").exists() {
        assert!(
            std::env::var_os("CI").is_none(),
            "CI must install postfix (.ci/run)"
        );
        eprintln!("SKIPPED: postfix not installed (apt-get install -y postfix); test not run");
        return;
    }
    let h = Harness::start(11, Profile::Stress);

    // TLS 1.0 only.
    let port = free_port();
    let pf = Postfix::start(&h.dir.path().join("pf10"), port, ">=TLSv1 <=TLSv1");
    assert!(
        s_client_handshakes(port, &["-tls1", "-cipher", "'DEFAULT:@SECLEVEL=0'"]),
        "openssl completes a TLS 1.0 handshake with this Postfix"
    );
    assert!(
        !s_client_handshakes(port, &[]),
        "a modern client (OpenSSL defaults: TLS ≥ 1.2 at SECLEVEL 2) does not"
    );
    for p in scan_into_postfix(&h, port, "tls10") {
        assert_eq!(p.status.as_str(), "tls_legacy", "{p:?}");
        assert_eq!(p.tls_max_version.as_deref(), Some("TLSv1.0"), "{p:?}");
        assert_eq!(p.tls_version.as_deref(), Some("TLSv1.0"), "{p:?}");
        assert_eq!(
            p.modern_tls_failure.map(|f| f.as_str()),
            Some("protocol_version"),
            "{p:?}"
        );
        assert!(p.legacy_ms.is_some(), "{p:?}");
        assert!(
            p.cipher_suite.as_deref().is_some_and(
                |s| s.starts_with("TLS_ECDHE_RSA_WITH_AES_") && s.ends_with("_CBC_SHA")
            ),
            "{p:?}"
        );
        assert_eq!(
            p.chain_sha256.len(),
            1,
            "Postfix's self-signed certificate: {p:?}"
        );
        assert_eq!(p.starttls_offered, Some(true));
        assert!(
            p.banner
                .as_deref()
                .is_some_and(|b| b.contains("postfix.interop.test")),
            "{p:?}"
        );
    }
    drop(pf);

    // TLS 1.2 and up: an ordinary probe, no legacy hello.
    let port = free_port();
    let _pf = Postfix::start(&h.dir.path().join("pf12"), port, ">=TLSv1.2");
    assert!(s_client_handshakes(port, &[]));
    assert!(!s_client_handshakes(
        port,
        &["-tls1", "-cipher", "'DEFAULT:@SECLEVEL=0'"]
    ));
    for p in scan_into_postfix(&h, port, "tls12") {
        assert_eq!(p.status.as_str(), "ok", "{p:?}");
        assert!(
            matches!(p.tls_max_version.as_deref(), Some("TLSv1.2" | "TLSv1.3")),
            "{p:?}"
        );
        assert_eq!(p.legacy_ms, None, "{p:?}");
        assert_eq!(p.tls_failure, None, "{p:?}");
    }
}
