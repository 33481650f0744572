//! The servers against real third-party clients: `openssl s_client -starttls smtp` and
//! `curl`. Each test prints why and returns when its tool is not installed.

use std::net::Ipv4Addr;
use std::path::Path;
use std::process::Output;
use std::time::Duration;

use mxscan_testbed::behaviour::{CertDefect, HttpResponse, HttpsSite, SmtpScript};
use mxscan_testbed::table::BehaviourTable;
use mxscan_testkit::bed::*;
use mxscan_testkit::tools::{output_text, run_tool, tool_available};
use tokio::process::Command;

/// Run a tool (no stdin, no proxies), failing the test after 20 s.
async fn run(cmd: &mut Command) -> Output {
    run_tool(cmd, Duration::from_secs(20))
        .await
        .expect("tool timed out")
}

async fn s_client(port: u16, ip: Ipv4Addr, name: &str, root: &Path, extra: &[&str]) -> Output {
    run(Command::new("openssl")
        .args([
            "s_client",
            "-starttls",
            "smtp",
            "-connect",
            &format!("{ip}:{port}"),
        ])
        .args([
            "-servername",
            name,
            "-verify_hostname",
            name,
            "-verify_return_error",
        ])
        .arg("-CAfile")
        .arg(root)
        .args(extra))
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openssl_s_client_starttls_verdicts() {
    if !tool_available("openssl") {
        return;
    }
    let name = "mx.openssl.test";
    // (last octet, leaf names, defect, expected openssl verify error; None = success)
    let cases: [(u8, &str, CertDefect, Option<&str>); 7] = [
        (1, name, CertDefect::None, None),
        (
            2,
            name,
            CertDefect::Expired,
            Some("num=10:certificate has expired"),
        ),
        (
            3,
            name,
            CertDefect::NotYetValid,
            Some("num=9:certificate is not yet valid"),
        ),
        (
            4,
            name,
            CertDefect::SelfSigned,
            Some("num=18:self-signed certificate"),
        ),
        (
            5,
            name,
            CertDefect::UnknownIssuer,
            Some("num=19:self-signed certificate in certificate chain"),
        ),
        (
            6,
            name,
            CertDefect::IncompleteChain,
            Some("num=20:unable to get local issuer certificate"),
        ),
        (
            7,
            "mx.other.test",
            CertDefect::None,
            Some("num=62:hostname mismatch"),
        ),
    ];
    let mut table = BehaviourTable::new();
    for (last, leaf, defect, _) in &cases {
        let conv = conversation(name, fixed(&[leaf], *defect));
        table = table.smtp_script(ip(30, 0, *last), SmtpScript::Conversation(conv));
    }
    let bed = smtp_bed(table).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    bed.ca.write_root_pem(&root).unwrap();

    for (last, _, defect, expected) in cases {
        let out = s_client(bed.server.port(), ip(30, 0, last), name, &root, &[]).await;
        let all = output_text(&out);
        match expected {
            None => {
                assert!(out.status.success(), "{defect:?}: {all}");
                assert!(
                    all.contains("Verify return code: 0 (ok)"),
                    "{defect:?}: {all}"
                );
            }
            Some(err) => {
                assert!(!out.status.success(), "{defect:?} accepted: {all}");
                assert!(
                    all.contains(&format!("verify error:{err}")),
                    "{defect:?}: {all}"
                );
            }
        }
    }
    // Both protocol versions are offered.
    for (flag, proto) in [("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")] {
        let out = s_client(bed.server.port(), ip(30, 0, 1), name, &root, &[flag]).await;
        let all = output_text(&out);
        assert!(out.status.success(), "{flag}: {all}");
        assert!(
            all.contains(&format!("Protocol  : {proto}")) || all.contains(&format!(", {proto},")),
            "{flag}: {all}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn curl_fetches_the_policy_and_rejects_bad_certificates() {
    if !tool_available("curl") {
        return;
    }
    let host = "mta-sts.example.com";
    let policy = "version: STSv1\nmode: testing\nmx: *.example.com\nmax_age: 604800\n";
    // (last octet, leaf name, defect, expected curl error text; None = body served)
    let cases: [(u8, &str, CertDefect, Option<&str>); 7] = [
        (1, host, CertDefect::None, None),
        (
            2,
            host,
            CertDefect::Expired,
            Some("certificate has expired"),
        ),
        (
            3,
            host,
            CertDefect::NotYetValid,
            Some("certificate is not yet valid"),
        ),
        (
            4,
            host,
            CertDefect::SelfSigned,
            Some("self-signed certificate"),
        ),
        (
            5,
            host,
            CertDefect::UnknownIssuer,
            Some("self-signed certificate in certificate chain"),
        ),
        (
            6,
            host,
            CertDefect::IncompleteChain,
            Some("unable to get local issuer certificate"),
        ),
        (
            7,
            "mta-sts.other.test",
            CertDefect::None,
            Some("no alternative certificate subject name matches"),
        ),
    ];
    let mut table = BehaviourTable::new();
    for (last, leaf, defect, _) in &cases {
        let site = HttpsSite::Serve {
            rtt: Duration::ZERO,
            cert: fixed(&[leaf], *defect),
            response: HttpResponse::Body {
                content_type: Some("text/plain".into()),
                body: policy.as_bytes().to_vec(),
            },
        };
        table = table.https(ip(31, 0, *last), site);
    }
    let bed = https_bed(table).await;
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("root.pem");
    bed.ca.write_root_pem(&root).unwrap();
    let port = bed.server.port();

    for (last, _, defect, expected) in cases {
        let out = run(Command::new("curl")
            .args(["-sS", "--max-time", "10", "--noproxy", "*", "--cacert"])
            .arg(&root)
            .args(["--resolve", &format!("{host}:{port}:{}", ip(31, 0, last))])
            .arg(format!("https://{host}:{port}/.well-known/mta-sts.txt")))
        .await;
        let all = output_text(&out);
        match expected {
            None => {
                assert!(out.status.success(), "{defect:?}: {all}");
                assert_eq!(String::from_utf8_lossy(&out.stdout), policy);
            }
            Some(err) => {
                // curl exit 60: peer certificate cannot be authenticated.
                assert_eq!(out.status.code(), Some(60), "{defect:?}: {all}");
                assert!(all.contains(err), "{defect:?}: {all}");
            }
        }
    }
    // curl against a missing path and a redirect it is not told to follow.
    let out = run(Command::new("curl")
        .args([
            "-sS",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--noproxy",
            "*",
            "--cacert",
        ])
        .arg(&root)
        .args(["--resolve", &format!("{host}:{port}:{}", ip(31, 0, 1))])
        .arg(format!("https://{host}:{port}/nothing-here")))
    .await;
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "404",
        "{}",
        output_text(&out)
    );
}
