#![no_main]
//! `ingest_line`: see `mxscan_fuzz::ingest::ingest_line` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::ingest::ingest_line(data));
