//! The per-MX classification of RFC 8461 §4.2, §5 (moved here from mxscan-policy with the
//! probe and certificate vocabularies it reads).

use mxscan_model::{CertStatus, MxOutcome, ProbeStatus, mx_outcome};

#[test]
fn mx_outcome_table() {
    use MxOutcome::*;
    type Case = (&'static str, Option<bool>, Option<&'static str>, MxOutcome);
    let cases: &[Case] = &[
        ("ok", Some(true), Some("valid"), Secure),
        ("ok", Some(true), Some("expired"), Insecure),
        ("ok", Some(true), Some("not_yet_valid"), Insecure),
        ("ok", Some(true), Some("name_mismatch"), Insecure),
        ("ok", Some(true), Some("untrusted_issuer"), Insecure),
        ("ok", Some(true), Some("self_signed"), Insecure),
        ("ok", Some(true), Some("incomplete_chain"), Insecure),
        ("ok", Some(true), Some("other"), Insecure),
        ("ok", Some(true), None, Insecure),
        ("no_starttls", Some(false), None, Insecure),
        ("starttls_rejected", Some(true), None, Insecure),
        ("tls_failed", Some(true), None, Insecure),
        ("tls_legacy", Some(true), Some("valid"), Secure),
        ("tls_legacy", Some(true), Some("expired"), Insecure),
        ("tls_legacy", Some(true), Some("incomplete_chain"), Insecure),
        ("blocked", None, None, Unknown),
        ("connect_refused", None, None, Unknown),
        ("closed_before_greeting", None, None, Unknown),
        ("connect_timeout", None, None, Unknown),
        ("greeting_timeout", None, None, Unknown),
        ("greeting_421", None, None, Unknown),
        ("greeting_rejected", None, None, Unknown),
        ("ehlo_rejected", None, None, Unknown),
        ("io_error", None, None, Unknown),
        ("protocol_error", None, None, Unknown),
        ("timeout", None, None, Unknown),
        ("something_new", None, Some("valid"), Unknown),
        ("OK", Some(true), Some("valid"), Unknown),
        ("", None, None, Unknown),
    ];
    for (status, starttls, cert, want) in cases {
        // A word outside the vocabulary cannot reach the verdict any more: it does not parse.
        let Ok(parsed) = status.parse::<ProbeStatus>() else {
            assert_eq!(*want, Unknown, "{status}");
            continue;
        };
        let cert = cert.map(|c| c.parse::<CertStatus>().unwrap());
        // STARTTLS is implied by the status (`ok` means TLS completed).
        let _ = starttls;
        assert_eq!(mx_outcome(parsed, cert), *want, "{status} {cert:?}");
    }
}
