#![no_main]
// filled in by the owning crate
libfuzzer_sys::fuzz_target!(|_data: &[u8]| {});
