//! End-to-end tests of `mxscan policy …`: the real binary, its JSON on stdout and its exit status.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

fn mxscan(args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_mxscan"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run mxscan");
    {
        let mut pipe = child.stdin.take().unwrap();
        if let Some(bytes) = stdin {
            pipe.write_all(bytes).unwrap();
        }
    }
    child.wait_with_output().unwrap()
}

fn json(out: &Output) -> serde_json::Value {
    assert!(
        out.status.success(),
        "exit {:?}, stderr: {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout.clone()).unwrap();
    assert_eq!(text.lines().count(), 1, "exactly one JSON line: {text}");
    serde_json::from_str(&text).unwrap()
}

/// Every policy of the policy crate's corpus, through the binary, gives the expected JSON.
#[test]
fn policy_parse_matches_the_corpus() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../policy/testdata");
    let mut seen = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "txt") {
            let expected: serde_json::Value =
                serde_json::from_slice(&std::fs::read(path.with_extension("json")).unwrap())
                    .unwrap();
            let from_file = json(&mxscan(&["policy", "parse", path.to_str().unwrap()], None));
            assert_eq!(from_file, expected, "{}", path.display());
            let from_stdin = json(&mxscan(
                &["policy", "parse", "-"],
                Some(&std::fs::read(&path).unwrap()),
            ));
            assert_eq!(from_stdin, expected, "{} via stdin", path.display());
            seen += 1;
        }
    }
    assert!(seen >= 15, "corpus has {seen} policies");
}

#[test]
fn policy_parse_reports_nulls_and_errors() {
    let v = json(&mxscan(
        &["policy", "parse"],
        Some(b"<html><body>404</body></html>\n"),
    ));
    assert_eq!(v["valid"], false);
    assert!(v["version"].is_null() && v["mode"].is_null() && v["max_age"].is_null());
    assert_eq!(v["mx"], serde_json::json!([]));
    let devs: Vec<&str> = v["deviations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d.as_str().unwrap())
        .collect();
    assert!(
        devs.contains(&"html_body") && devs.contains(&"missing_version"),
        "{devs:?}"
    );
    assert!(!v["errors"].as_array().unwrap().is_empty());
}

#[test]
fn policy_txt_statuses() {
    let v = json(&mxscan(&["policy", "txt", "v=STSv1; id=abc123;"], None));
    assert_eq!(
        v,
        serde_json::json!({"status": "valid", "id": "abc123", "deviations": []})
    );
    let v = json(&mxscan(
        &["policy", "txt", "v=STSv1; id=a;", "v=STSv1; id=b;"],
        None,
    ));
    assert_eq!(v["status"], "multiple");
    assert!(v["id"].is_null());
    let v = json(&mxscan(&["policy", "txt", "v=spf1 -all"], None));
    assert_eq!(v["status"], "none");
    let v = json(&mxscan(&["policy", "txt", "v=STSv1; id=not-alnum!;"], None));
    assert_eq!(v["status"], "invalid");
    assert!(
        v["deviations"]
            .as_array()
            .unwrap()
            .iter()
            .any(|d| d == "txt_invalid_id")
    );
}

#[test]
fn policy_tlsrpt_statuses() {
    let v = json(&mxscan(
        &["policy", "tlsrpt", "v=TLSRPTv1; rua=mailto:r@example.net"],
        None,
    ));
    assert_eq!(v["status"], "valid");
    assert_eq!(v["rua"], serde_json::json!(["mailto:r@example.net"]));
    let v = json(&mxscan(&["policy", "tlsrpt", "v=TLSRPTv1;"], None));
    assert_eq!(v["status"], "invalid");
    let v = json(&mxscan(
        &[
            "policy",
            "tlsrpt",
            "v=TLSRPTv1; rua=mailto:a@x.net",
            "v=TLSRPTv1; rua=mailto:b@x.net",
        ],
        None,
    ));
    assert_eq!(v["status"], "multiple");
}

#[test]
fn unusable_arguments_exit_2_with_a_message() {
    let out = mxscan(&["policy", "parse", "/nonexistent/policy.txt"], None);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("/nonexistent/policy.txt"));
    let out = mxscan(&["policy", "txt"], None);
    assert_eq!(out.status.code(), Some(2));
    let out = mxscan(&["policy", "frobnicate"], None);
    assert_eq!(out.status.code(), Some(2));
}
