//! `mxscan scan --config FILE`: a file value is used, a flag overrides it, an unknown key is
//! an error naming the key and the file. survey.json records the effective configuration.

mod common;

use std::path::Path;

use mxscan_testbed::profile::Profile;
use mxscan_testkit::tools::run_ok;

fn write(path: &Path, text: &str) {
    std::fs::write(path, text).unwrap();
}

#[test]
fn file_values_are_used_and_flags_override_them() {
    mxscan_testkit::require_sandbox!();
    let h = common::Harness::start(7, Profile::Realistic);
    let list = h.write_list("list.csv", 60);
    // Everything the testbed needs comes from the file; paths are relative to the file.
    let cfg = h.dir.path().join("mxscan.toml");
    write(
        &cfg,
        &format!(
            r#"
inputs = ["list.csv"]
out = "from-file"
ehlo_name = "scanner.from-file.example"
trust_anchors = ["ca.pem"]
smtp_port = {smtp}
https_port = {https}
progress = "none"

[dns]
resolvers = ["{dns}"]
rate = 4321
timeout = 2
attempts = 2

[politeness]
allow = ["127.0.0.0/8"]
rate = 100000
per_ip_interval = 0.02
per_prefix_interval = 0

[timeouts]
greeting = 5
command = 10
tls = 10
probe = 30
fetch = 30
"#,
            smtp = h.testbed.smtp_port(),
            https = h.testbed.https_port(),
            dns = h.testbed.dns_addr(),
        ),
    );
    assert!(list.starts_with(h.dir.path()));
    // A flag overrides the file (--dns-rate) and no INPUT is given: the file's is used.
    run_ok(
        common::mxscan()
            .current_dir("/")
            .args(["scan", "--config"])
            .arg(&cfg)
            .args(["--dns-rate", "999", "--greeting-timeout", "6"]),
        "mxscan scan --config",
    );
    let survey = common::only_survey(&h.dir.path().join("from-file"));
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(survey.join("survey.json")).unwrap())
            .unwrap();
    let c = &manifest["config"];
    // (key path, expected): file values, flag overrides, defaults.
    let cases: &[(&[&str], serde_json::Value)] = &[
        (&["ehlo_name"], "scanner.from-file.example".into()),
        (&["per_ip_interval_s"], 0.02.into()),
        (&["dns_timeout_s"], 2.0.into()),
        (&["dns_rate"], 999.0.into()),             // flag over file
        (&["timeouts_s", "greeting"], 6.0.into()), // flag over file
        (&["timeouts_s", "probe"], 30.0.into()),   // file
        (&["timeouts_s", "connect"], 10.0.into()), // default
        (&["max_mx"], 10.into()),                  // default
        (&["allow"], serde_json::json!(["127.0.0.0/8"])),
        (&["allow_private"], false.into()),
        (&["config_file"], cfg.display().to_string().into()),
    ];
    for (path, want) in cases {
        let mut v = c;
        for k in *path {
            v = &v[*k];
        }
        assert_eq!(v, want, "config.{}", path.join("."));
    }
    assert_eq!(
        manifest["input"]["domains"],
        serde_json::json!(60),
        "the file's inputs were scanned"
    );
    assert_eq!(
        c["trust_anchors"],
        serde_json::json!([h.dir.path().join("ca.pem").display().to_string()])
    );
}

#[test]
fn unknown_key_is_an_error_naming_key_and_file() {
    // Fails while reading the file, before any socket: safe outside the sandbox.
    let tmp = tempfile::tempdir().unwrap();
    let cases = [
        ("per_ip_interval = 1\n", "per_ip_interval"), // belongs in [politeness]
        ("[politeness]\nrat = 5\n", "rat"),
        ("[scanner]\nrate = 5\n", "scanner"),
    ];
    for (text, key) in cases {
        let cfg = tmp.path().join("bad.toml");
        write(&cfg, text);
        let output = common::mxscan()
            .args(["scan", "--config"])
            .arg(&cfg)
            .arg("list.csv")
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{text:?}: {stderr}");
        assert!(stderr.contains(key), "{text:?}: {stderr}");
        assert!(stderr.contains(&cfg.display().to_string()), "{stderr}");
        assert!(stderr.contains("unknown field"), "{stderr}");
    }
}

#[test]
fn missing_config_file_is_a_usage_error() {
    let output = common::mxscan()
        .args(["scan", "--config", "/nonexistent/mxscan.toml", "list.csv"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("/nonexistent/mxscan.toml"));
}
