#![no_main]
//! `cert_names`: see `mxscan_fuzz::cert::cert_names` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::cert::cert_names(data));
