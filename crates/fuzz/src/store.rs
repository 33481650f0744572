//! `survey.json`, the survey manifest, as `Manifest::load` reads it and `Manifest::store`
//! writes it (both go through the file system, fsync included; the parsing and printing
//! they do is exactly this serde_json round trip).

use crate::api::{Manifest, SurveyStatus};

/// `survey_manifest`: arbitrary bytes as `survey.json`. Whatever parses must write back
/// (pretty, with the final newline, as `store` does) to text that parses to the same
/// manifest, and print the same text again.
pub fn survey_manifest(data: &[u8]) {
    let Ok(m) = serde_json::from_slice::<Manifest>(data) else {
        return;
    };
    assert!(matches!(
        m.status.as_str(),
        "running" | "partial" | "complete"
    ));
    assert!(matches!(
        m.status,
        SurveyStatus::Running | SurveyStatus::Partial | SurveyStatus::Complete
    ));
    let mut written = serde_json::to_vec_pretty(&m).expect("a parsed manifest serialises");
    written.push(b'\n');
    let again: Manifest = serde_json::from_slice(&written).expect("a written manifest parses");
    assert_eq!(
        again,
        m,
        "survey.json does not round-trip: {}",
        String::from_utf8_lossy(&written)
    );
    let mut rewritten = serde_json::to_vec_pretty(&again).unwrap();
    rewritten.push(b'\n');
    assert_eq!(rewritten, written, "rewriting survey.json changes it");
}
