#![no_main]
//! Fuzz `mxscan_policy::parse_policy` (RFC 8461 §3.2) on arbitrary bytes: it must never panic,
//! its report must be internally consistent, and valid reports must re-render to a body that
//! parses to the same policy.

use mxscan_policy::{LineEnding, parse_policy};

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let report = parse_policy(data);
    assert_eq!(report.valid, report.errors.is_empty());
    assert_eq!(report.valid, !report.deviations.iter().any(|d| d.invalidates()));
    if let Some(policy) = report.policy() {
        let again = parse_policy(policy.render(LineEnding::CrLf).as_bytes());
        assert_eq!(again.policy(), Some(policy));
    }
});
