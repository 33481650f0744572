//! Profiles: the weights with which the world picks scenarios, and latency injection.
//!
//! # `realistic`
//!
//! Shares follow published measurements of the mail ecosystem, rounded (the goal is a world
//! whose headline numbers look like a real survey, not a faithful replica):
//!
//! * Durumeric et al., "Neither Snow Nor Rain Nor MITM… An Empirical Analysis of Email
//!   Delivery Security", IMC 2015: ~82% of Alexa top-million mail servers offer STARTTLS;
//!   many certificates self-signed or for the wrong name; a few % of hosts unreachable.
//! * Holz, Amann, Mehani, Wachs, Kaafar, "TLS in the Wild: An Internet-wide Analysis of
//!   TLS-based Protocols for Electronic Communication", NDSS 2016: large shares of SMTP
//!   certificates are self-signed, expired or do not match the host name; a few large
//!   providers serve a big share of domains.
//! * Ashiq, Fiebig, Chung, "MTA-STS: Measuring the Adoption and Misconfiguration…",
//!   IMC 2025 (and the earlier Lee et al., "A Longitudinal and Comprehensive Study of the
//!   DANE Ecosystem" line of work): on the order of 1% of domains publish an `_mta-sts`
//!   record; about a third of those are misconfigured (policy host missing, bad
//!   certificate, record or policy syntax errors, patterns not covering the MX); TLS-RPT a
//!   bit less common than MTA-STS.
//!
//! Resulting targets (checked by `tests/world_truth.rs` on 20,000 synthetic names, where
//! seed 2024 gives the figures in brackets): about 80% of listed domains receive mail (dns
//! `ok` with at least one MX row) [80.4%], about 80% of those have STARTTLS on their MX
//! rows [81%], well under half present a certificate valid for the MX name on all of them
//! [42%], about 1% publish an MTA-STS record [0.94%] of which a quarter to a third cannot
//! be used (record invalid, fetch error, invalid policy) [25%] — more would fail under
//! enforce because their MX lack STARTTLS or valid certificates — TLS-RPT a bit less than
//! MTA-STS [0.8%], DNS failures a few % (NXDOMAIN 4%, SERVFAIL 1.5%, timeout 0.5%) [6%].
//! Big providers serve 21% of listed domains (≈ 26% of mail domains; with the hosters'
//! own big customers, roughly a third of mail goes to a few large operators), hosters 32%,
//! the rest run their own hosts. Hostile behaviours (tarpits, oversized replies, injected
//! bytes) are rare but present. TLS as old servers speak it, per MX host (our assumption,
//! not a figure of the papers above):
//! TLS 1.0 only 0.5%, TLS 1.1 only 0.1%, TLS 1.2 with static-RSA suites only 0.3%, with
//! CBC suites only 0.3%, TLS 1.3 only 2%, and 0.5% accept a connection and close it
//! without a greeting (connection limits); that weight came from `starttls_valid`.
//! Incomplete chains (2% of hosts, unchanged) mostly carry an AIA caIssuers URL that serves
//! the missing intermediate, as real ones do (CA-issued leaves carry AIA): 1.5% of hosts
//! `aia_incomplete_chain`, 0.4% `cert_incomplete_chain` (no AIA), and 0.05% each an AIA
//! URL that never answers (`aia_tarpit`) or leads round a loop of CAs (`aia_loop`). The hosters' classes are drawn per seed, so shares move by
//! a few points between seeds.
//!
//! # `stress`
//!
//! Every value of every dimension equally likely, so a few thousand domains cover the whole
//! catalogue (`scenario` module docs).

use crate::error::TestbedError;

/// A weight profile.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Profile {
    /// Weights from published measurements (module docs).
    #[default]
    Realistic,
    /// Every scenario equally likely.
    Stress,
}

/// Weights over [`crate::scenario::DnsScenario::ALL`] for `realistic` (per 100,000 domains).
const REALISTIC_DNS: [u32; 14] = [
    4_000,  // nxdomain
    1_500,  // servfail
    500,    // timeout
    12_000, // no_mail_host
    500,    // null_mx
    2_000,  // implicit_mx
    20_000, // mx_dedicated
    3_000,  // mx_multi_pref
    1_500,  // mx_unresolved
    500,    // mx_private
    1_500,  // mx_cname
    21_000, // mx_big_provider
    27_000, // mx_hoster_shared
    5_000,  // mx_hoster_named
];

/// Weights over [`crate::scenario::SmtpClass::ALL`] for dedicated hosts in `realistic` (per 10,000 hosts).
const REALISTIC_SMTP: [u32; 31] = [
    2_730, // starttls_valid (3,100 before the legacy-TLS and accept-close classes took 370)
    500,   // cert_expired
    40,    // cert_not_yet_valid
    800,   // cert_wrong_name
    1_100, // cert_self_signed
    250,   // cert_unknown_issuer
    40,    // cert_incomplete_chain (200 before the AIA classes took 160)
    3_100, // no_starttls
    100,   // starttls_454
    50,    // starttls_502
    30,    // tls_garbage
    30,    // tls_alert
    60,    // greeting_421
    60,    // greeting_554
    30,    // ehlo_rejected
    200,   // multiline
    100,   // greet_delay
    30,    // tarpit
    150,   // reset
    30,    // starttls_injection
    10,    // ehlo_oversized
    30,    // ehlo_drop
    50,    // tls10_only
    10,    // tls11_only
    30,    // static_rsa_only
    30,    // cbc_only
    200,   // tls13_only
    50,    // accept_close
    150,   // aia_incomplete_chain
    5,     // aia_tarpit
    5,     // aia_loop
];

/// Weights over [`crate::scenario::StsScenario::ALL`] for `realistic` (per 100,000 domains): 0.995% publish,
/// about a third of those broken.
const REALISTIC_STS: [u32; 28] = [
    99_005, // none
    150,    // enforce
    220,    // testing
    40,     // mode_none
    200,    // policy_lf
    30,     // wildcard
    30,     // mx_not_covered
    30,     // enforce_mx_insecure
    15,     // txt_bad_id
    10,     // txt_missing_id
    15,     // txt_multiple
    10,     // txt_huge
    10,     // txt_servfail
    60,     // host_nxdomain
    15,     // refused
    15,     // cert_untrusted
    15,     // cert_expired
    25,     // cert_wrong_name
    30,     // http_404
    10,     // redirect_301
    20,     // content_type_html
    5,      // too_large
    5,      // slowloris
    10,     // policy_missing_mx
    5,      // policy_bad_max_age
    5,      // policy_unknown_mode
    5,      // policy_max_age_out_of_range
    10,     // html_200
];

/// Weights over [`crate::scenario::TlsRptScenario::ALL`] for `realistic` (per 100,000 domains).
const REALISTIC_TLSRPT: [u32; 7] = [
    99_200, // none
    550,    // mailto
    80,     // https
    50,     // no_rua
    40,     // bad_scheme
    40,     // multiple
    40,     // servfail
];

/// Host classes of hosters' shared addresses (both profiles; per 100 hosters). Hosters
/// mostly run STARTTLS with a certificate for their own names only.
const HOSTER_SMTP: [u32; 31] = [
    53, // starttls_valid
    4,  // cert_expired
    0,  // cert_not_yet_valid
    0,  // cert_wrong_name
    5,  // cert_self_signed
    0,  // cert_unknown_issuer
    0,  // cert_incomplete_chain
    32, // no_starttls
    2,  // starttls_454
    0, 0, 0, 0, 0, 0, // starttls_502 … ehlo_rejected
    4, // multiline
    0, 0, 0, 0, 0, 0, // greet_delay … ehlo_drop
    0, 0, 0, 0, 0, 0, // tls10_only … accept_close
    0, 0, 0, // aia_incomplete_chain, aia_tarpit, aia_loop
];

const STRESS_DNS: [u32; 14] = [1; 14];
const STRESS_SMTP: [u32; 31] = [1; 31];
const STRESS_STS: [u32; 28] = [1; 28];
const STRESS_TLSRPT: [u32; 7] = [1; 7];

impl Profile {
    /// Every profile.
    pub const ALL: &'static [Profile] = &[Profile::Realistic, Profile::Stress];

    /// The stable name (`--profile` value).
    pub const fn as_str(self) -> &'static str {
        match self {
            Profile::Realistic => "realistic",
            Profile::Stress => "stress",
        }
    }

    /// Weights over [`crate::scenario::DnsScenario::ALL`].
    pub fn dns_weights(self) -> &'static [u32] {
        match self {
            Profile::Realistic => &REALISTIC_DNS,
            Profile::Stress => &STRESS_DNS,
        }
    }

    /// Weights over [`crate::scenario::SmtpClass::ALL`] for dedicated hosts.
    pub fn smtp_weights(self) -> &'static [u32] {
        match self {
            Profile::Realistic => &REALISTIC_SMTP,
            Profile::Stress => &STRESS_SMTP,
        }
    }

    /// Weights over [`crate::scenario::SmtpClass::ALL`] for hosters' shared addresses.
    pub fn hoster_smtp_weights(self) -> &'static [u32] {
        &HOSTER_SMTP
    }

    /// Weights over [`crate::scenario::StsScenario::ALL`].
    pub fn sts_weights(self) -> &'static [u32] {
        match self {
            Profile::Realistic => &REALISTIC_STS,
            Profile::Stress => &STRESS_STS,
        }
    }

    /// Weights over [`crate::scenario::TlsRptScenario::ALL`].
    pub fn tlsrpt_weights(self) -> &'static [u32] {
        match self {
            Profile::Realistic => &REALISTIC_TLSRPT,
            Profile::Stress => &STRESS_TLSRPT,
        }
    }
}

impl std::fmt::Display for Profile {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Profile {
    type Err = TestbedError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "realistic" => Ok(Profile::Realistic),
            "stress" => Ok(Profile::Stress),
            other => Err(TestbedError::Config(format!(
                "unknown profile {other:?} (expected realistic or stress)"
            ))),
        }
    }
}

/// Latency injection: every address gets a round-trip time drawn deterministically (from a
/// hash of the address) from a log-normal distribution (σ = 1, long right tail) with this
/// median, capped at `cap_ms`. `median_ms = 0` (the default, for tests) means no delay.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LatencyConfig {
    /// Median simulated round-trip time in milliseconds (`--latency MS`).
    pub median_ms: u32,
    /// Upper bound in milliseconds; 0 = 20 × the median.
    pub cap_ms: u32,
}

impl LatencyConfig {
    /// A config with this median and the default cap.
    pub fn with_median_ms(median_ms: u32) -> Self {
        Self {
            median_ms,
            cap_ms: 0,
        }
    }

    /// The rtt for a host whose hash is `h` (uniform 64-bit value).
    pub fn rtt_for_hash(&self, h: u64) -> std::time::Duration {
        if self.median_ms == 0 {
            return std::time::Duration::ZERO;
        }
        // Approximately standard normal: sum of four uniforms (Irwin–Hall), standardised.
        let mut z = 0.0;
        for i in 0..4u32 {
            z += crate::hash::unit(crate::hash::fmix64(
                h ^ u64::from(i).wrapping_mul(0x9e37_79b9),
            ));
        }
        let z = (z - 2.0) / (4.0f64 / 12.0).sqrt();
        let median = f64::from(self.median_ms);
        let cap = if self.cap_ms == 0 {
            median * 20.0
        } else {
            f64::from(self.cap_ms)
        };
        let ms = (median * z.exp()).min(cap).max(0.0);
        std::time::Duration::from_micros((ms * 1000.0) as u64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{DnsScenario, SmtpClass, StsScenario, TlsRptScenario};
    use std::str::FromStr;

    #[test]
    fn tables_have_one_weight_per_catalogue_entry() {
        for p in Profile::ALL {
            assert_eq!(p.dns_weights().len(), DnsScenario::ALL.len());
            assert_eq!(p.smtp_weights().len(), SmtpClass::ALL.len());
            assert_eq!(p.hoster_smtp_weights().len(), SmtpClass::ALL.len());
            assert_eq!(p.sts_weights().len(), StsScenario::ALL.len());
            assert_eq!(p.tlsrpt_weights().len(), TlsRptScenario::ALL.len());
            assert_eq!(Profile::from_str(p.as_str()).unwrap(), *p);
        }
        assert_eq!(REALISTIC_DNS.iter().sum::<u32>(), 100_000);
        assert_eq!(REALISTIC_SMTP.iter().sum::<u32>(), 10_000);
        assert_eq!(REALISTIC_STS.iter().sum::<u32>(), 100_000);
        assert_eq!(REALISTIC_TLSRPT.iter().sum::<u32>(), 100_000);
        assert_eq!(HOSTER_SMTP.iter().sum::<u32>(), 100);
        assert!(Profile::from_str("nope").is_err());
    }

    #[test]
    fn every_realistic_value_is_reachable() {
        for p in Profile::ALL {
            assert!(p.dns_weights().iter().all(|&w| w > 0));
            assert!(p.smtp_weights().iter().all(|&w| w > 0));
            assert!(p.sts_weights().iter().all(|&w| w > 0));
            assert!(p.tlsrpt_weights().iter().all(|&w| w > 0));
        }
    }

    #[test]
    fn latency_median_and_tail() {
        let cfg = LatencyConfig::with_median_ms(50);
        let mut v: Vec<u128> = (0..10_001u64)
            .map(|i| {
                cfg.rtt_for_hash(crate::hash::stable_hash_u64(7, "rtt", i))
                    .as_millis()
            })
            .collect();
        v.sort_unstable();
        let median = v[5_000];
        assert!((40..=60).contains(&median), "median {median}");
        assert!(v[9_900] > 3 * median, "tail too short: p99 {}", v[9_900]);
        assert!(*v.last().unwrap() <= 1_000);
        assert_eq!(
            LatencyConfig::default().rtt_for_hash(123),
            std::time::Duration::ZERO
        );
    }
}
