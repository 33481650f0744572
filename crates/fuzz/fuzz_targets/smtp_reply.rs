#![no_main]
//! `smtp_reply`: see `mxscan_fuzz::smtp::smtp_reply` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::smtp::smtp_reply(data));
