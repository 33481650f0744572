#![no_main]
//! `http_response`: see `mxscan_fuzz::policy::http_response` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::policy::http_response(data));
