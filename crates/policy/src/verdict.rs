//! Would an MTA-STS-enforcing sender deliver? (RFC 8461 §4, §5)
//!
//! RFC 8461 §5: under `enforce`, a sender delivers only to an MX host that matches a policy
//! pattern (§4.1) AND offers STARTTLS AND presents a certificate that is valid for its name
//! (§4.2: WebPKI chain, name, validity period). If no MX host qualifies, the message is not
//! delivered. mxscan evaluates this per (exchange, address) observation and then per domain.

use crate::pattern::matches_any;
use crate::{Delivery, Mode, MxOutcome};

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
