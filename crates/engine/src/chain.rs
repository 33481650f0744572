//! What the engine remembers about a certificate chain after its probe: enough to judge it
//! for any further MX name that points at the same address, without keeping the DER.
//!
//! "Probe once, judge many times" (DESIGN.md): an address is probed once per survey, but
//! every exchange name that resolves to it — possibly millions of domains for a provider —
//! needs its own `cert_status`. Keeping every chain's DER until the survey ends would cost
//! hundreds of megabytes at a million domains, so at probe time the chain is reduced to
//! [`ChainFacts`]: the name-independent verdict (self-signed, untrusted, incomplete, expired,
//! not yet valid — judged once by [`TrustStore::judge`]) and the leaf's dNSName SANs.
//! Judging a name is then the RFC 6125 §6.4 match of the reference name against those SANs,
//! implemented to give exactly webpki's answer (tested against it below).

use mxscan_probe::cert::{CertStatus, TrustStore, parse_cert};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};

/// The name-independent verdict and the names of one presented chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFacts {
    /// `Some(status)` when the chain fails for every name (anything but `name_mismatch`).
    base: Option<CertStatus>,
    /// The leaf's dNSName SANs, lowercase, as presented (a presented name with a trailing
    /// dot matches nothing, as in webpki), joined by `\n` into one allocation: a survey keeps
    /// one of these per TLS address for its whole run. A dNSName cannot contain `\n` (it is
    /// an IA5String hostname; x509-parser would not hand us one that does, and such a SAN
    /// could match no reference name anyway).
    sans: Box<str>,
}

impl ChainFacts {
    /// Judge `chain` (leaf first, as presented) at `at` once, and keep what later names need.
    pub fn judge(trust: &TrustStore, chain: &[CertificateDer<'_>], at: UnixTime) -> ChainFacts {
        let Some(leaf) = chain.first() else {
            return ChainFacts {
                base: Some(CertStatus::Other),
                sans: Box::default(),
            };
        };
        let names: Vec<String> = parse_cert(leaf.as_ref())
            .map(|info| {
                info.san_dns
                    .iter()
                    .filter(|s| !s.contains('\n'))
                    .map(|s| s.to_ascii_lowercase())
                    .collect()
            })
            .unwrap_or_default();
        let sans: Box<str> = names.join("\n").into_boxed_str();
        // A reference name the leaf certainly covers (if it covers anything), so that the
        // verdict below can only be a name-independent failure or `valid`.
        let probe_name = names
            .iter()
            .find_map(|s| {
                let name = match s.strip_prefix("*.") {
                    Some(rest) => format!("wildcard-probe.{rest}"),
                    None => s.to_string(),
                };
                san_matches(&names, &name).then_some(name)
            })
            .unwrap_or_else(|| "no-san.invalid".to_string());
        let base = match trust.judge(chain, &probe_name, at) {
            CertStatus::Valid | CertStatus::NameMismatch => None,
            other => Some(other),
        };
        ChainFacts { base, sans }
    }

    /// Rebuild facts from [`ChainFacts::base`] and [`ChainFacts::joined_sans`].
    pub fn from_parts(base: Option<CertStatus>, joined_sans: Box<str>) -> ChainFacts {
        ChainFacts {
            base,
            sans: joined_sans,
        }
    }

    /// The verdict that holds for every name (`None`: valid or name_mismatch, by name).
    pub fn base(&self) -> Option<CertStatus> {
        self.base
    }

    /// The leaf's SANs joined by `\n`.
    pub fn joined_sans(&self) -> &str {
        &self.sans
    }

    /// The `cert_status` of this chain for `name` (SCHEMA.md mx.cert_status).
    pub fn status_for(&self, name: &str) -> CertStatus {
        match self.base {
            Some(status) => status,
            None if san_matches_iter(self.sans(), name) => CertStatus::Valid,
            None => CertStatus::NameMismatch,
        }
    }

    /// The leaf's dNSName SANs (lowercase).
    pub fn sans(&self) -> impl Iterator<Item = &str> {
        self.sans.split('\n').filter(|s| !s.is_empty())
    }

    /// Whether the chain is valid for `name` (e.g. the recipient domain itself).
    pub fn valid_for(&self, name: &str) -> bool {
        self.status_for(name) == CertStatus::Valid
    }
}

/// RFC 6125 §6.4.3 as webpki applies it: a reference DNS name matches a presented dNSName if
/// they are equal (ASCII case-insensitively), or if the presented name is `*.` + a suffix of
/// at least two labels and the reference name is one label (not empty) + `.` + that suffix.
/// Partial-label wildcards (`f*.example.com`) and presented names with a trailing dot never
/// match; the reference name's own trailing dot is ignored. A reference name that is not a
/// DNS name for webpki (`*.example.com`, `a..b`, an IP address literal, which webpki checks
/// against iPAddress SANs, not kept here) matches nothing, as webpki's name check fails for it.
pub fn san_matches<S: AsRef<str>>(sans: &[S], name: &str) -> bool {
    san_matches_iter(sans.iter().map(AsRef::as_ref), name)
}

/// [`san_matches`] over any sequence of presented names.
fn san_matches_iter<'a>(mut sans: impl Iterator<Item = &'a str>, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    // What `TrustStore::judge` asks webpki: `ServerName::try_from(name)`. Only a DNS name can
    // match a dNSName SAN (found by the `cert_facts` fuzz target: `*.mail.example.net` as a
    // reference name "matched" the SAN `*.mail.example.net`; webpki rejects such a name).
    if !matches!(
        ServerName::try_from(name.as_str()),
        Ok(ServerName::DnsName(_))
    ) {
        return false;
    }
    sans.any(|san| {
        if let Some(suffix) = san.strip_prefix("*.") {
            if suffix.contains('*') || !suffix.contains('.') {
                return false;
            }
            match name.split_once('.') {
                Some((first, rest)) => !first.is_empty() && rest == suffix,
                None => false,
            }
        } else {
            !san.contains('*') && !san.ends_with('.') && san == name
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn san_matching_table() {
        let cases: &[(&[&str], &str, bool)] = &[
            (&["mx.example.com"], "mx.example.com", true),
            (&["mx.example.com"], "MX.Example.COM.", true),
            (&["mx.example.com"], "mx2.example.com", false),
            (&["*.example.com"], "mx.example.com", true),
            (&["*.example.com"], "a.b.example.com", false),
            (&["*.example.com"], "example.com", false),
            (&["*.com"], "example.com", false),
            (&["f*.example.com"], "foo.example.com", false),
            (&["*.example.com"], "xn--bcher-kva.example.com", true),
            (&["mx.example.com."], "mx.example.com", false),
            (&["*.example.com"], "mx.example.com.", true),
            (&[], "mx.example.com", false),
            (&["a.example", "b.example"], "b.example", true),
            // Reference names webpki does not accept as DNS names match nothing.
            (&["*.example.com"], "*.example.com", false),
            (&["a..b"], "a..b", false),
            (&["192.0.2.1"], "192.0.2.1", false),
            (&[""], "", false),
        ];
        for (sans, name, want) in cases {
            assert_eq!(san_matches(sans, name), *want, "{sans:?} vs {name}");
        }
    }

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
            let facts = ChainFacts::judge(&trust, &chain, at);
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

    /// Found by fuzzing (`crates/fuzz`, target `cert_facts`): a reference name that is a
    /// wildcard itself (an MX record pointing at `*.mail.example.net`, which a wildcard A record
    /// answers) "matched" the SAN `*.mail.example.net`, so the chain read `valid` where webpki,
    /// which does not accept `*.mail.example.net` as a DNS name, says `name_mismatch`.
    #[test]
    fn wildcard_reference_name_does_not_match_a_wildcard_san() {
        use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec};
        let ca = mxscan_testbed::ca::Ca::new().unwrap();
        let mut trust = TrustStore::empty();
        trust.add_ca_der(ca.root_der()).unwrap();
        let at = UnixTime::now();
        let spec = CertSpec {
            names: CertNames::Fixed(vec!["*.mail.example.net".into()]),
            defect: CertDefect::None,
        };
        let chain = ca.chain(&spec, None).unwrap().cert.clone();
        let facts = ChainFacts::judge(&trust, &chain, at);
        assert_eq!(facts.status_for("mx.mail.example.net"), CertStatus::Valid);
        for name in ["*.mail.example.net", "*.MAIL.example.net."] {
            assert_eq!(trust.judge(&chain, name, at), CertStatus::NameMismatch);
            assert_eq!(facts.status_for(name), CertStatus::NameMismatch, "{name}");
        }
    }
}
