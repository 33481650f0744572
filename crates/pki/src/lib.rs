//! Offline certificate judgement for mxscan — pure, no sockets, no async runtime.
//!
//! Probes capture the chain a server presents without judging it; this crate decides, per
//! name and at the survey's timestamp, what a WebPKI-validating sender would conclude
//! (RFC 8461 §4.1, RFC 7817, RFC 6125), and extracts the facts of the `certs` table.
//!
//! - [`TrustStore`]: Mozilla's roots (webpki-roots) plus operator anchors and known
//!   intermediates; [`TrustStore::judge`] gives a [`CertStatus`] for (chain, name, time),
//!   [`TrustStore::facts`] reduces a chain to [`ChainFacts`] once per probe.
//! - [`parse_cert`]: subject, issuer, SANs, validity, key and signature algorithm.
//! - [`dane`]: TLSA records matched against a captured chain (RFC 7672 §3).

#![forbid(unsafe_code)]

pub mod cert;
pub mod dane;
mod error;

pub use cert::{
    CertInfo, TrustStore, ca_issuers_urls, certs_from_aia_body, matches_name, parse_cert,
    sha256_hex,
};
pub use error::PkiError;
pub use mxscan_model::{CertStatus, ChainFacts};

#[cfg(test)]
mod tests {
    use super::*;
    use rustls_pki_types::UnixTime;

    /// `status_for` must give exactly what webpki says when the whole chain is judged for
    /// that name, for every defect the testbed CA can mint and names that do and do not
    /// match a multi-SAN leaf (exact, wildcard, case, trailing dot, too deep, apex).
    #[test]
    fn facts_agree_with_webpki_for_every_name() {
        use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec};
        let ca = mxscan_testbed::ca::Ca::new().unwrap();
        let mut trust = TrustStore::empty();
        trust.add_ca_der(ca.root_der()).unwrap();
        let at = UnixTime::now();
        let names = [
            "mx.example.com",
            "MX.Example.com.",
            "mx2.example.com",
            "a.mail.example.net",
            "mail.example.net",
            "b.a.mail.example.net",
            "other.example",
            "*.mail.example.net",
            "mx..example.com",
        ];
        for defect in [
            CertDefect::None,
            CertDefect::Expired,
            CertDefect::NotYetValid,
            CertDefect::IncompleteChain,
            CertDefect::SelfSigned,
            CertDefect::UnknownIssuer,
        ] {
            let spec = CertSpec {
                names: CertNames::Fixed(vec!["mx.example.com".into(), "*.mail.example.net".into()]),
                defect,
            };
            let chain = ca.chain(&spec, None).unwrap().cert.clone();
            let facts = trust.facts(&chain, at);
            assert_eq!(
                facts.sans().collect::<Vec<_>>(),
                ["mx.example.com", "*.mail.example.net"]
            );
            for name in names {
                assert_eq!(
                    facts.status_for(name),
                    trust.judge(&chain, name, at),
                    "{defect:?} for {name}"
                );
            }
        }
    }

    /// iPAddress SANs: a reference name webpki takes as an address matches exactly the SANs of
    /// that address (found by the `cert_names` fuzz target), whatever the text form.
    #[test]
    fn ip_address_names_agree_with_webpki() {
        use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec};
        let ca = mxscan_testbed::ca::Ca::new().unwrap();
        let mut trust = TrustStore::empty();
        trust.add_ca_der(ca.root_der()).unwrap();
        let at = UnixTime::now();
        for sans in [
            vec!["mx.example.com", "192.0.2.1", "2001:db8::1"],
            vec!["192.0.2.1"],
        ] {
            let spec = CertSpec {
                names: CertNames::Fixed(sans.iter().map(|s| s.to_string()).collect()),
                defect: CertDefect::None,
            };
            let chain = ca.chain(&spec, None).unwrap().cert.clone();
            let facts = trust.facts(&chain, at);
            let ips: Vec<String> = facts.ip_sans().map(|ip| ip.to_string()).collect();
            assert_eq!(
                ips.len(),
                sans.len() - usize::from(sans.len() == 3),
                "{sans:?}"
            );
            assert!(facts.sans().all(|s| s == "mx.example.com"));
            for name in [
                "192.0.2.1",
                "192.0.2.1.",
                "192.0.2.2",
                "2001:db8::1",
                "2001:0db8:0:0::1",
                "2001:db8::2",
                "::ffff:192.0.2.1",
                "mx.example.com",
                "1.2.3",
            ] {
                assert_eq!(
                    facts.status_for(name),
                    trust.judge(&chain, name, at),
                    "{sans:?} for {name}"
                );
            }
            assert_eq!(facts.status_for("192.0.2.1"), CertStatus::Valid);
        }
    }
}
