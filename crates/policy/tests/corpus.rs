//! Real-world-shaped policy files in `testdata/`: every `NAME.txt` is parsed and compared with
//! `NAME.json`, the expected report (exact JSON equality).
//!
//! To (re)create the expected files after a deliberate change, run with
//! `MXSCAN_BLESS=1 cargo test -p mxscan-policy --test corpus` and review the diff.

use std::fs;
use std::path::{Path, PathBuf};

use mxscan_policy::parse_policy;

fn testdata() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("testdata")
}

#[test]
fn corpus_matches_expected_reports() {
    let bless = std::env::var_os("MXSCAN_BLESS").is_some();
    let mut inputs: Vec<PathBuf> = fs::read_dir(testdata())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    inputs.sort();
    assert!(inputs.len() >= 15, "corpus has {} policies", inputs.len());
    let mut failures = Vec::new();
    for input in &inputs {
        let body = fs::read(input).unwrap();
        let report = parse_policy(&body);
        let got = serde_json::to_value(&report).unwrap();
        let expected_path = input.with_extension("json");
        if bless {
            let mut text = serde_json::to_string_pretty(&report).unwrap();
            text.push('\n');
            fs::write(&expected_path, text).unwrap();
            continue;
        }
        let expected: serde_json::Value = match fs::read_to_string(&expected_path) {
            Ok(text) => serde_json::from_str(&text).unwrap(),
            Err(e) => {
                failures.push(format!("{}: {e}", expected_path.display()));
                continue;
            }
        };
        if got != expected {
            failures.push(format!(
                "{}:\n  expected {expected}\n  got      {got}",
                input.display()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn every_expected_report_has_an_input() {
    for entry in fs::read_dir(testdata()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            assert!(
                path.with_extension("txt").exists(),
                "{} has no .txt",
                path.display()
            );
        }
    }
}
