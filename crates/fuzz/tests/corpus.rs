//! Replays every checked-in seed (`corpus/<target>/*`) through its target's checks, on stable:
//! `cargo test --manifest-path crates/fuzz/Cargo.toml`. The fuzzers start from the same seeds,
//! so a seed that fails here would be a crash at the first execution.

use std::path::Path;

type Check = fn(&[u8]);

const TARGETS: &[(&str, Check)] = &[
    ("smtp_reply", mxscan_fuzz::smtp::smtp_reply),
    ("smtp_session", mxscan_fuzz::smtp::smtp_session),
    ("policy_body", mxscan_fuzz::policy::policy_body),
    ("policy_response", mxscan_fuzz::policy::policy_response),
    ("sts_txt", mxscan_fuzz::policy::sts_txt),
    ("tlsrpt_txt", mxscan_fuzz::policy::tlsrpt_txt),
    ("mx_pattern", mxscan_fuzz::policy::mx_pattern),
    ("cert_facts", mxscan_fuzz::cert::cert_facts),
    ("cert_names", mxscan_fuzz::cert::cert_names),
    ("ingest_line", mxscan_fuzz::ingest::ingest_line),
    ("ingest_stream", mxscan_fuzz::ingest::ingest_stream),
    ("survey_manifest", mxscan_fuzz::store::survey_manifest),
    ("http_response", mxscan_fuzz::policy::http_response),
    ("toml_config", mxscan_fuzz::config::toml_config),
    ("tlsa", mxscan_fuzz::dane::tlsa),
    ("tls_flight", mxscan_fuzz::tls::tls_flight),
    ("aia", mxscan_fuzz::aia::aia),
];

#[test]
fn every_seed_passes_its_target() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    for (target, check) in TARGETS {
        let dir = root.join("corpus").join(target);
        let mut n = 0;
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            let data = std::fs::read(&path).unwrap();
            let result = std::panic::catch_unwind(|| check(&data));
            assert!(result.is_ok(), "{target}: seed {} fails", path.display());
            n += 1;
        }
        assert!(n > 0, "{target} has no seeds");
    }
}

#[test]
fn every_target_binary_is_listed() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut bins: Vec<String> = std::fs::read_dir(root.join("fuzz_targets"))
        .unwrap()
        .map(|e| {
            e.unwrap()
                .path()
                .file_stem()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    bins.sort();
    let mut listed: Vec<String> = TARGETS.iter().map(|(t, _)| t.to_string()).collect();
    listed.sort();
    assert_eq!(bins, listed);
}
