#![no_main]
//! `tlsa`: see `mxscan_fuzz::dane::tlsa` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::dane::tlsa(data));
