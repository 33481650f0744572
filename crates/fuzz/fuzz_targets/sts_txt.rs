#![no_main]
//! Fuzz the `_mta-sts` TXT parser (RFC 8461 §3.1). The input is split into records at `\n` and
//! each record into character-strings at `\0`, so the fuzzer explores multi-record and
//! multi-string answers. It must never panic; a valid record always has a well-formed id.

use mxscan_policy::{RecordStatus, parse_sts_records};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let records: Vec<Vec<&[u8]>> = data
        .split(|&b| b == b'\n')
        .map(|record| record.split(|&b| b == 0).collect())
        .collect();
    let result = parse_sts_records(&records);
    if result.status == RecordStatus::Valid {
        let id = result.id.expect("a valid record has an id");
        assert!((1..=32).contains(&id.len()));
        assert!(id.bytes().all(|b| b.is_ascii_alphanumeric()));
    }
});
