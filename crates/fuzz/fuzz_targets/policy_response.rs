#![no_main]
//! `policy_response`: see `mxscan_fuzz::policy::policy_response` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::policy::policy_response(data));
