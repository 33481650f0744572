//! What the engine remembers about a certificate chain after its probe: enough to judge it
//! for any further MX name that points at the same address, without keeping the DER.
//!
//! "Probe once, judge many times" (ARCHITECTURE.md): an address is probed once per survey, but
//! every exchange name that resolves to it — possibly millions of domains for a provider —
//! needs its own `cert_status`. Keeping every chain's DER until the survey ends would cost
//! hundreds of megabytes at a million domains, so at probe time the chain is reduced to
//! [`ChainFacts`]: the name-independent verdict (self-signed, untrusted, incomplete, expired,
//! not yet valid — judged once by `mxscan-pki`) and the leaf's dNSName and iPAddress SANs.
//! Judging a name is then the RFC 6125 §6.4 match of the reference name against those SANs,
//! implemented to give exactly webpki's answer (tested against it below).

use std::net::IpAddr;

use rustls_pki_types::ServerName;

use crate::CertStatus;

/// The name-independent verdict and the names of one presented chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChainFacts {
    /// `Some(status)` when the chain fails for every name (anything but `name_mismatch`).
    base: Option<CertStatus>,
    /// The leaf's dNSName SANs, lowercase, as presented (a presented name with a trailing
    /// dot matches nothing, as in webpki), then its iPAddress SANs written `[address]`,
    /// joined by `\n` into one allocation: a survey keeps one of these per TLS address for
    /// its whole run. Dropped at extraction: dNSNames containing `\n` or beginning with `[`,
    /// which no reference name can match (webpki takes neither as a DNS name).
    sans: Box<str>,
}

impl ChainFacts {
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

    /// The `cert_status` of this chain for `name` (`mx.cert_status`, docs/schema.md).
    pub fn status_for(&self, name: &str) -> CertStatus {
        match self.base {
            Some(status) => status,
            None if san_matches_iter(self.sans.split('\n'), name) => CertStatus::Valid,
            None => CertStatus::NameMismatch,
        }
    }

    /// The leaf's dNSName SANs (lowercase).
    pub fn sans(&self) -> impl Iterator<Item = &str> {
        self.sans
            .split('\n')
            .filter(|s| !s.is_empty() && !s.starts_with('['))
    }

    /// The leaf's iPAddress SANs.
    pub fn ip_sans(&self) -> impl Iterator<Item = IpAddr> + '_ {
        self.sans.split('\n').filter_map(ip_entry)
    }

    /// Whether the chain is valid for `name` (e.g. the recipient domain itself).
    pub fn valid_for(&self, name: &str) -> bool {
        self.status_for(name) == CertStatus::Valid
    }
}

/// The `[address]` entry of an iPAddress SAN (see [`ChainFacts`]).
pub fn ip_san_entry(ip: IpAddr) -> String {
    format!("[{ip}]")
}

fn ip_entry(entry: &str) -> Option<IpAddr> {
    entry.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// RFC 6125 §6.4.3 as webpki applies it: a reference DNS name matches a presented dNSName if
/// they are equal (ASCII case-insensitively), or if the presented name is `*.` + a suffix of
/// at least two labels and the reference name is one label (not empty) + `.` + that suffix.
/// Partial-label wildcards (`f*.example.com`) and presented names with a trailing dot never
/// match; the reference name's own trailing dot is ignored. A reference name that webpki
/// takes as an IP address literal (`192.0.2.1`, `2001:db8::1`) matches exactly the iPAddress
/// SANs of that address (entries `[address]`, RFC 6125 §1.7.2 leaves them to RFC 5280; found
/// by the `cert_names` fuzz target: an MX name of numeric labels against a leaf with an IP
/// SAN). Any other reference name (`*.example.com`, `a..b`) matches nothing, as webpki's name
/// check fails for it.
pub fn san_matches<S: AsRef<str>>(sans: &[S], name: &str) -> bool {
    san_matches_iter(sans.iter().map(AsRef::as_ref), name)
}

/// [`san_matches`] over any sequence of presented names.
fn san_matches_iter<'a>(mut sans: impl Iterator<Item = &'a str>, name: &str) -> bool {
    let name = name.trim_end_matches('.').to_ascii_lowercase();
    // What `TrustStore::judge` asks webpki: `ServerName::try_from(name)`. Only a DNS name can
    // match a dNSName SAN (found by the `cert_facts` fuzz target: `*.mail.example.net` as a
    // reference name "matched" the SAN `*.mail.example.net`; webpki rejects such a name).
    match ServerName::try_from(name.as_str()) {
        Ok(ServerName::DnsName(_)) => {}
        Ok(ServerName::IpAddress(ip)) => {
            let ip = IpAddr::from(ip);
            return sans.any(|san| ip_entry(san) == Some(ip));
        }
        _ => return false,
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

    /// `[address]` entries are iPAddress SANs: matched by address literals only, never by
    /// DNS names, and not listed among the dNSName SANs.
    #[test]
    fn ip_entries_match_address_literals_only() {
        let f = ChainFacts::from_parts(None, "mx.example.com\n[192.0.2.1]\n[2001:db8::1]".into());
        assert_eq!(f.sans().collect::<Vec<_>>(), ["mx.example.com"]);
        assert_eq!(f.ip_sans().count(), 2);
        for (name, ok) in [
            ("192.0.2.1", true),
            ("192.0.2.1.", true),
            ("2001:DB8:0::1", true),
            ("192.0.2.2", false),
            ("[192.0.2.1]", false),
            ("mx.example.com", true),
            ("example.com", false),
        ] {
            assert_eq!(f.valid_for(name), ok, "{name}");
        }
        assert_eq!(
            ip_san_entry("2001:db8::1".parse().unwrap()),
            "[2001:db8::1]"
        );
    }
}
