//! Would an MTA-STS-enforcing sender deliver? (RFC 8461 §4, §5)
//!
//! RFC 8461 §5: under `enforce`, a sender delivers only to an MX host that matches a policy
//! pattern (§4.1) AND offers STARTTLS AND presents a certificate that is valid for its name
//! (§4.2: WebPKI chain, name, validity period). If no MX host qualifies, the message is not
//! delivered. mxscan evaluates this per (exchange, address) observation and then per domain.

use crate::pattern::matches_any;
use crate::policy::Mode;
use crate::vocabulary::vocabulary;

vocabulary! {
    /// What one probe of one MX address says about MTA-STS delivery to it.
    pub enum MxOutcome {
        Secure = "secure", "STARTTLS completed and the certificate is valid for the exchange \
            name (RFC 8461 §4.2): an enforcing sender would deliver here.";
        Insecure = "insecure", "The host answered but an enforcing sender would refuse it: no \
            STARTTLS, STARTTLS rejected, TLS handshake failed, or the certificate is not valid \
            for the exchange name.";
        Unknown = "unknown", "Nothing could be learned about TLS (not contacted, connection or \
            greeting failed, timeouts, protocol errors): neither secure nor insecure.";
    }
}

vocabulary! {
    /// The `sts_delivery` column: the per-domain verdict (RFC 8461 §5).
    pub enum Delivery {
        NoPolicy = "no_policy", "The policy's mode is `none` (or, set by the caller, there is \
            no valid policy): MTA-STS does not constrain delivery.";
        Ok = "ok", "At least one MX host that matches a policy pattern is `secure`.";
        WouldFail = "would_fail", "Every matching MX host is `insecure`, or no MX host matches \
            a pattern: an enforcing sender would not deliver.";
        Untested = "untested", "No matching MX host is `secure`, but at least one could not be \
            tested (`unknown`), or there were no MX observations at all.";
    }
}

/// Classifies one (exchange, address) observation (RFC 8461 §4.2, §5).
///
/// `smtp_status` is the `probes.status` vocabulary of SCHEMA.md; `cert_status` the `mx.cert_status`
/// vocabulary judged for this exchange name. `starttls` is accepted for symmetry with the `mx`
/// row but the status already implies it (`ok` means TLS completed).
///
/// * `ok` + `cert_status == "valid"` → [`MxOutcome::Secure`]
/// * `ok` + any other or missing cert status → [`MxOutcome::Insecure`]
/// * `no_starttls`, `starttls_rejected`, `tls_failed` → [`MxOutcome::Insecure`]
/// * anything else (`blocked`, `connect_*`, `greeting_*`, `ehlo_rejected`, `io_error`,
///   `protocol_error`, `timeout`, unknown strings) → [`MxOutcome::Unknown`]
#[must_use]
pub fn mx_outcome(
    smtp_status: &str,
    starttls: Option<bool>,
    cert_status: Option<&str>,
) -> MxOutcome {
    let _ = starttls;
    match smtp_status {
        "ok" if cert_status == Some("valid") => MxOutcome::Secure,
        "ok" | "no_starttls" | "starttls_rejected" | "tls_failed" => MxOutcome::Insecure,
        _ => MxOutcome::Unknown,
    }
}

/// The per-domain verdict (RFC 8461 §5) from the policy and every (exchange, outcome) pair.
///
/// * `mode` `none` → [`Delivery::NoPolicy`] (RFC 8461 §5: the domain has no active policy).
///   `testing` is evaluated exactly like `enforce`: the verdict says what an enforcing reading
///   of the published policy would do.
/// * An empty `mx` list → [`Delivery::Untested`].
/// * Only exchanges matching a pattern (RFC 8461 §4.1, [`crate::mx_matches`]) count: any of them
///   `Secure` → [`Delivery::Ok`]; else any `Unknown` → [`Delivery::Untested`]; else
///   [`Delivery::WouldFail`] — which includes "no MX host matches any pattern".
///
/// A domain without a valid policy gets `no_policy` from the caller; this function needs one.
#[must_use]
pub fn delivery<P: AsRef<str>>(mode: Mode, patterns: &[P], mx: &[(&str, MxOutcome)]) -> Delivery {
    if mode == Mode::None {
        return Delivery::NoPolicy;
    }
    if mx.is_empty() {
        return Delivery::Untested;
    }
    let mut unknown = false;
    for (exchange, outcome) in mx {
        if !matches_any(patterns, exchange) {
            continue;
        }
        match outcome {
            MxOutcome::Secure => return Delivery::Ok,
            MxOutcome::Unknown => unknown = true,
            MxOutcome::Insecure => {}
        }
    }
    if unknown {
        Delivery::Untested
    } else {
        Delivery::WouldFail
    }
}
