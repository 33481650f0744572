//! The enforcement verdict (RFC 8461 §4, §5).

use mxscan_policy::{Delivery, Mode, MxOutcome, delivery, mx_outcome};

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
        ("blocked", None, None, Unknown),
        ("connect_refused", None, None, Unknown),
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
        assert_eq!(
            mx_outcome(status, *starttls, *cert),
            *want,
            "{status} {cert:?}"
        );
    }
}

#[test]
fn delivery_table() {
    use MxOutcome::*;
    let p: Vec<String> = vec!["*.example.com".into(), "backup.example.net".into()];
    type Case = (Mode, &'static [(&'static str, MxOutcome)], Delivery);
    let cases: &[Case] = &[
        (
            Mode::None,
            &[("mx1.example.com", Insecure)],
            Delivery::NoPolicy,
        ),
        (Mode::None, &[], Delivery::NoPolicy),
        (Mode::Enforce, &[], Delivery::Untested),
        (Mode::Enforce, &[("mx1.example.com", Secure)], Delivery::Ok),
        (Mode::Testing, &[("mx1.example.com", Secure)], Delivery::Ok),
        (Mode::Enforce, &[("mx1.example.com.", Secure)], Delivery::Ok),
        (Mode::Enforce, &[("MX1.EXAMPLE.COM", Secure)], Delivery::Ok),
        (
            Mode::Enforce,
            &[
                ("mx1.example.com", Insecure),
                ("backup.example.net", Secure),
            ],
            Delivery::Ok,
        ),
        (
            Mode::Enforce,
            &[("mx1.example.com", Unknown), ("mx2.example.com", Secure)],
            Delivery::Ok,
        ),
        (
            Mode::Enforce,
            &[("mx1.example.com", Insecure)],
            Delivery::WouldFail,
        ),
        (
            Mode::Testing,
            &[("mx1.example.com", Insecure)],
            Delivery::WouldFail,
        ),
        (
            Mode::Enforce,
            &[("mx1.example.com", Insecure), ("mx2.example.com", Unknown)],
            Delivery::Untested,
        ),
        (
            Mode::Enforce,
            &[("mx1.example.com", Unknown)],
            Delivery::Untested,
        ),
        // a secure MX that no pattern covers does not count
        (
            Mode::Enforce,
            &[("mx.other.org", Secure)],
            Delivery::WouldFail,
        ),
        (
            Mode::Enforce,
            &[("mx.other.org", Secure), ("mx1.example.com", Insecure)],
            Delivery::WouldFail,
        ),
        (
            Mode::Enforce,
            &[("mx.other.org", Unknown)],
            Delivery::WouldFail,
        ),
        (
            Mode::Enforce,
            &[("a.b.example.com", Secure)],
            Delivery::WouldFail,
        ),
        (
            Mode::Enforce,
            &[("example.com", Secure)],
            Delivery::WouldFail,
        ),
        (
            Mode::Enforce,
            &[("mx.other.org", Secure), ("mx1.example.com", Unknown)],
            Delivery::Untested,
        ),
    ];
    for (mode, mx, want) in cases {
        assert_eq!(delivery(*mode, &p, mx), *want, "{mode} {mx:?}");
    }
    let none: &[String] = &[];
    assert_eq!(
        delivery(Mode::Enforce, none, &[("mx.example.com", Secure)]),
        Delivery::WouldFail
    );
}
