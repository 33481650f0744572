//! Matching TLSA records against the chain a probe captured — no extra connection
//! (RFC 7672 §3; RFC 6698 §2.1; RFC 7671 §5).
//!
//! - DANE-EE(3) (RFC 7672 §3.1.1): the leaf's certificate or public key matches; the name,
//!   the validity dates and the rest of the chain are not checked.
//! - DANE-TA(2) (RFC 7672 §3.1.2, §3.2.2): a certificate the server presented *above the
//!   leaf* matches; the leaf must verify up to it (signatures, validity at the survey time,
//!   webpki's path rules) and carry a name of the reference identifiers — the TLSA base
//!   domain or the MX exchange name. A trust anchor the server does not send (even a key
//!   published with selector SPKI(1)) is not found here: RFC 7671 §5.2.2 asks servers to
//!   include it, and senders such as Postfix require it.
//! - Records a DANE sender ignores ([`Tlsa::usable`]) never match.
//!
//! Which records are usable, the vocabularies and the wire form live in
//! `mxscan_model::dane`; whether a host has no TLS at all is the probe's to say.

use mxscan_model::dane::{Tlsa, mtype, selector, usage};
use rustls_pki_types::{CertificateDer, ServerName, UnixTime};
use sha2::{Digest, Sha256, Sha512};
use webpki::{EndEntityCert, KeyUsage};
use x509_parser::prelude::{FromDer, X509Certificate};

/// What matched: the record (its index in the answer) and the certificate (its depth in the
/// presented chain: 0 is the leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DaneMatched {
    /// Index of the matching record in the records given.
    pub record: usize,
    /// Depth of the matching certificate in the presented chain.
    pub depth: usize,
}

/// The content a selector picks from a certificate (RFC 6698 §2.1.2): the whole DER for
/// Cert(0), the SubjectPublicKeyInfo DER for SPKI(1). `None` for another selector or a
/// certificate that does not parse.
pub fn selected(cert: &[u8], sel: u8) -> Option<Vec<u8>> {
    match sel {
        selector::CERT => Some(cert.to_vec()),
        selector::SPKI => {
            let (_, x509) = X509Certificate::from_der(cert).ok()?;
            Some(x509.tbs_certificate.subject_pki.raw.to_vec())
        }
        _ => None,
    }
}

/// The association data of `content` for a matching type (RFC 6698 §2.1.3): the content
/// itself, its SHA2-256 or its SHA2-512. `None` for another matching type.
pub fn association(content: &[u8], mt: u8) -> Option<Vec<u8>> {
    match mt {
        mtype::FULL => Some(content.to_vec()),
        mtype::SHA256 => Some(Sha256::digest(content).to_vec()),
        mtype::SHA512 => Some(Sha512::digest(content).to_vec()),
        _ => None,
    }
}

/// A record for `cert` with the given parameters: what an operator publishes (`tlsa` data).
pub fn record_for(cert: &[u8], u: u8, sel: u8, mt: u8) -> Option<Tlsa> {
    let data = association(&selected(cert, sel)?, mt)?;
    Some(Tlsa {
        usage: u,
        selector: sel,
        mtype: mt,
        data,
    })
}

/// Whether `record`'s association data is that of `cert` (parameters only; not usability).
pub fn matches_cert(record: &Tlsa, cert: &[u8]) -> bool {
    selected(cert, record.selector)
        .and_then(|c| association(&c, record.mtype))
        .is_some_and(|a| a == record.data)
}

/// The first usable record that the presented `chain` satisfies (see the module docs), with
/// `names` the reference identifiers for DANE-TA (the TLSA base domain, then the exchange,
/// RFC 7672 §3.2.2) and `at` the survey time. `None`: a DANE sender would not accept this
/// chain (`dane_match = mismatch`). An empty chain matches nothing.
pub fn dane_match(
    records: &[Tlsa],
    chain: &[CertificateDer<'_>],
    names: &[&str],
    at: UnixTime,
) -> Option<DaneMatched> {
    let leaf = chain.first()?;
    for (i, r) in records.iter().enumerate() {
        if r.usable().is_err() {
            continue;
        }
        match r.usage {
            usage::DANE_EE if matches_cert(r, leaf) => {
                return Some(DaneMatched {
                    record: i,
                    depth: 0,
                });
            }
            usage::DANE_TA => {
                for (depth, ta) in chain.iter().enumerate().skip(1) {
                    if matches_cert(r, ta) && verifies_up_to(chain, depth, names, at) {
                        return Some(DaneMatched { record: i, depth });
                    }
                }
            }
            _ => {}
        }
    }
    None
}

/// The leaf verifies up to `chain[depth]` taken as the trust anchor (the certificates in
/// between as intermediates), at `at`, for server authentication, and is valid for one of
/// `names`.
fn verifies_up_to(
    chain: &[CertificateDer<'_>],
    depth: usize,
    names: &[&str],
    at: UnixTime,
) -> bool {
    let Ok(anchor) = webpki::anchor_from_trusted_cert(&chain[depth]) else {
        return false;
    };
    let anchors = [anchor];
    let Ok(ee) = EndEntityCert::try_from(&chain[0]) else {
        return false;
    };
    let verified = ee.verify_for_usage(
        webpki::ALL_VERIFICATION_ALGS,
        &anchors,
        &chain[1..depth],
        at,
        KeyUsage::server_auth(),
        None,
        None,
    );
    if verified.map(|_| ()).is_err() {
        return false;
    }
    names.iter().any(|n| {
        ServerName::try_from(n.trim_end_matches('.').to_string())
            .is_ok_and(|sn| ee.verify_is_valid_for_subject_name(&sn).is_ok())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use mxscan_testbed::behaviour::{CertDefect, CertNames, CertSpec};
    use mxscan_testbed::ca::Ca;

    fn chain(ca: &Ca, name: &str, defect: CertDefect) -> Vec<CertificateDer<'static>> {
        let spec = CertSpec {
            names: CertNames::Fixed(vec![name.into()]),
            defect,
        };
        ca.chain(&spec, None).unwrap().cert.clone()
    }

    const MX: &str = "mx.example.com";

    /// DANE-EE(3): every selector and matching type; names and dates do not matter.
    #[test]
    fn dane_ee_matches_the_leaf_whatever_its_name_and_dates() {
        let ca = Ca::new().unwrap();
        let at = UnixTime::now();
        for defect in [
            CertDefect::None,
            CertDefect::Expired,
            CertDefect::NotYetValid,
            CertDefect::SelfSigned,
            CertDefect::UnknownIssuer,
        ] {
            let c = chain(&ca, MX, defect);
            for sel in [0, 1] {
                for mt in [0, 1, 2] {
                    let r = record_for(&c[0], 3, sel, mt).unwrap();
                    assert_eq!(r.usable(), Ok(()));
                    let got = dane_match(&[r], &c, &["other.example"], at);
                    assert_eq!(
                        got,
                        Some(DaneMatched {
                            record: 0,
                            depth: 0
                        }),
                        "{defect:?} 3 {sel} {mt}"
                    );
                }
            }
        }
    }

    #[test]
    fn dane_ee_of_another_key_or_an_unusable_record_does_not_match() {
        let ca = Ca::new().unwrap();
        let at = UnixTime::now();
        let c = chain(&ca, MX, CertDefect::None);
        let other = chain(&ca, "mx.other.example", CertDefect::None);
        // The testbed signs every leaf with one key: the other leaf's SPKI would match, its
        // whole certificate must not.
        let r = record_for(&other[0], 3, 0, 1).unwrap();
        assert_eq!(dane_match(&[r], &c, &[MX], at), None);
        let mut wrong = record_for(&c[0], 3, 1, 1).unwrap();
        wrong.data[0] ^= 1;
        assert_eq!(dane_match(&[wrong], &c, &[MX], at), None);
        // PKIX-EE(1) with the right digest: ignored by DANE senders (RFC 7672 §3.1.3).
        let pkix = record_for(&c[0], 1, 1, 1).unwrap();
        assert_eq!(dane_match(&[pkix], &c, &[MX], at), None);
        // No chain (no TLS): nothing matches.
        let r = record_for(&c[0], 3, 1, 1).unwrap();
        assert_eq!(dane_match(&[r], &[], &[MX], at), None);
    }

    /// DANE-TA(2): a CA certificate of the presented chain, the leaf verifying up to it,
    /// valid now, with a reference name.
    #[test]
    fn dane_ta_needs_the_anchor_in_the_chain_a_valid_path_and_a_name() {
        let ca = Ca::new().unwrap();
        let at = UnixTime::now();
        let c = chain(&ca, MX, CertDefect::None);
        assert_eq!(c.len(), 2, "leaf and intermediate");
        let inter = ca.intermediate_der();
        assert_eq!(c[1], inter);
        for sel in [0, 1] {
            let r = record_for(&inter, 2, sel, 1).unwrap();
            assert_eq!(
                dane_match(std::slice::from_ref(&r), &c, &["example.com", MX], at),
                Some(DaneMatched {
                    record: 0,
                    depth: 1
                }),
                "2 {sel} 1"
            );
            // No reference identifier on the leaf.
            assert_eq!(
                dane_match(std::slice::from_ref(&r), &c, &["other.example"], at),
                None
            );
        }
        // The root is not in the presented chain: not found (RFC 7671 §5.2.2).
        let root = record_for(&ca.root_der(), 2, 0, 1).unwrap();
        assert_eq!(dane_match(std::slice::from_ref(&root), &c, &[MX], at), None);
        // … and is when the server sends it, the path going through the intermediate.
        let mut full = c.clone();
        full.push(ca.root_der());
        assert_eq!(
            dane_match(std::slice::from_ref(&root), &full, &[MX], at),
            Some(DaneMatched {
                record: 0,
                depth: 2
            })
        );
        // An expired leaf fails DANE-TA (dates are checked), though DANE-EE would pass.
        let expired = chain(&ca, MX, CertDefect::Expired);
        let ta = record_for(&expired[1], 2, 0, 1).unwrap();
        assert_eq!(dane_match(&[ta], &expired, &[MX], at), None);
        // A leaf-only chain has no anchor above the leaf.
        let leaf_only = chain(&ca, MX, CertDefect::IncompleteChain);
        let ta = record_for(&inter, 2, 0, 1).unwrap();
        assert_eq!(dane_match(&[ta], &leaf_only, &[MX], at), None);
    }

    /// A rollover publishes two records: the stale one is skipped, the current one matches.
    #[test]
    fn any_usable_record_is_enough() {
        let ca = Ca::new().unwrap();
        let at = UnixTime::now();
        let c = chain(&ca, MX, CertDefect::None);
        let stale = Tlsa {
            usage: 2,
            selector: 1,
            mtype: 1,
            data: vec![7; 32],
        };
        let current = record_for(&c[0], 3, 1, 1).unwrap();
        assert_eq!(
            dane_match(&[stale, current], &c, &[MX], at),
            Some(DaneMatched {
                record: 1,
                depth: 0
            })
        );
    }

    #[test]
    fn garbage_chains_match_nothing_and_do_not_panic() {
        let at = UnixTime::now();
        let junk = vec![
            CertificateDer::from(vec![0x30, 0x03, 0x01, 0x01, 0xff]),
            CertificateDer::from(Vec::new()),
        ];
        let ee_full = Tlsa {
            usage: 3,
            selector: 0,
            mtype: 0,
            data: junk[0].to_vec(),
        };
        // Cert(0) Full(0) compares bytes: even a certificate that does not parse matches.
        assert!(dane_match(std::slice::from_ref(&ee_full), &junk, &[MX], at).is_some());
        for r in [
            Tlsa {
                selector: 1,
                ..ee_full.clone()
            },
            Tlsa {
                usage: 2,
                ..ee_full.clone()
            },
        ] {
            assert_eq!(dane_match(&[r], &junk, &[MX], at), None);
        }
    }
}
