#![no_main]
//! `ingest_stream`: see `mxscan_fuzz::ingest::ingest_stream` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::ingest::ingest_stream(data));
