//! The enforcement verdict (RFC 8461 §4, §5).

use mxscan_policy::{Delivery, Mode, MxOutcome, delivery};

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
