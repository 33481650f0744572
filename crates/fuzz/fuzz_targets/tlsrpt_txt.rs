#![no_main]
//! Fuzz the `_smtp._tls` TXT parser (RFC 8460 §3). Records are split at `\n` and
//! character-strings at `\0`, as in `sts_txt`. It must never panic; a valid record always has at
//! least one `mailto:` or `https:` report URI.

use mxscan_policy::{RecordStatus, parse_tlsrpt_records};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let records: Vec<Vec<&[u8]>> = data
        .split(|&b| b == b'\n')
        .map(|record| record.split(|&b| b == 0).collect())
        .collect();
    let result = parse_tlsrpt_records(&records);
    assert_eq!(result.status == RecordStatus::Valid, !result.rua.is_empty());
    for uri in &result.rua {
        let lower = uri.to_ascii_lowercase();
        assert!(lower.starts_with("mailto:") || lower.starts_with("https:"));
    }
});
