#![no_main]
//! `aia`: see `mxscan_fuzz::aia::aia` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::aia::aia(data));
