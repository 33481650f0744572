#![no_main]
//! `toml_config`: see `mxscan_fuzz::config::toml_config` for the invariants.

libfuzzer_sys::fuzz_target!(|data: &[u8]| mxscan_fuzz::config::toml_config(data));
