#![no_main]
//! `cert_facts`: see `mxscan_fuzz::cert::cert_facts` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::cert::cert_facts(data));
