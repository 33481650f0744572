#![no_main]
//! `mx_pattern`: see `mxscan_fuzz::policy::mx_pattern` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::policy::mx_pattern(data));
