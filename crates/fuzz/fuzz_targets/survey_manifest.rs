#![no_main]
//! `survey_manifest`: see `mxscan_fuzz::store::survey_manifest` for the input layout and the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::store::survey_manifest(data));
