#![no_main]
//! `policy_body`: see `mxscan_fuzz::policy::policy_body` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::policy::policy_body(data));
