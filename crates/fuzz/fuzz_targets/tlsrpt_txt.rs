#![no_main]
//! `tlsrpt_txt`: see `mxscan_fuzz::policy::tlsrpt_txt` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::policy::tlsrpt_txt(data));
