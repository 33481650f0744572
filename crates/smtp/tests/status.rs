//! The probe status vocabulary is exactly the schema's `probes.status` (docs/schema.md).

use mxscan_smtp::{Phase, ProbeStatus};

/// Copied from docs/schema.md (probes.status), in order.
const SCHEMA: &str = "ok, blocked, connect_refused, connect_timeout, greeting_timeout, greeting_421, \
                      greeting_rejected, ehlo_rejected, no_starttls, starttls_rejected, tls_failed, \
                      io_error, protocol_error, timeout, closed_before_greeting, tls_legacy";

#[test]
fn vocabulary_matches_schema() {
    let schema: Vec<&str> = SCHEMA.split(", ").collect();
    let ours: Vec<&str> = ProbeStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(ours, schema);
    for &s in ProbeStatus::ALL {
        assert_eq!(s.as_str().parse::<ProbeStatus>().ok(), Some(s));
        assert_eq!(s.to_string(), s.as_str());
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            format!("\"{}\"", s.as_str())
        );
    }
    assert!("greeting421".parse::<ProbeStatus>().is_err());
    assert!("OK".parse::<ProbeStatus>().is_err());
}

#[test]
fn answered_smtp() {
    assert!(ProbeStatus::Ok.answered_smtp());
    assert!(ProbeStatus::Greeting421.answered_smtp());
    assert!(ProbeStatus::NoStarttls.answered_smtp());
    assert!(!ProbeStatus::Blocked.answered_smtp());
    assert!(!ProbeStatus::ConnectRefused.answered_smtp());
    assert!(!ProbeStatus::ClosedBeforeGreeting.answered_smtp());
    assert!(ProbeStatus::TlsLegacy.answered_smtp());
    assert!(!ProbeStatus::GreetingTimeout.answered_smtp());
}

#[test]
fn phases() {
    let all = [
        Phase::Greeting,
        Phase::Ehlo,
        Phase::Starttls,
        Phase::Tls,
        Phase::EhloTls,
        Phase::Quit,
    ];
    let names: Vec<&str> = all.iter().map(|p| p.as_str()).collect();
    assert_eq!(
        names,
        ["greeting", "ehlo", "starttls", "tls", "ehlo_tls", "quit"]
    );
    for p in all {
        assert_eq!(serde_json::to_string(&p).unwrap(), format!("\"{p}\""));
    }
    assert!(all.windows(2).all(|w| w[0] < w[1]));
}
