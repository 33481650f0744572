#![no_main]
//! `tls_flight`: see `mxscan_fuzz::tls::tls_flight` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::tls::tls_flight(data));
