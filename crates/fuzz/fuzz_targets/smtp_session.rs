#![no_main]
//! `smtp_session`: see `mxscan_fuzz::smtp::smtp_session` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::smtp::smtp_session(data));
