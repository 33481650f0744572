//! Unit tests of the testbed CA: parse what it issues, and verify it the way a strict
//! WebPKI client does (rustls `WebPkiServerVerifier` against the testbed root).

use std::sync::Arc;

use rustls::client::WebPkiServerVerifier;
use rustls::client::danger::ServerCertVerifier;
use rustls::{CertificateError, Error as TlsError};
use rustls_pki_types::{ServerName, UnixTime};
use x509_parser::prelude::*;

use super::*;

fn spec(names: &[&str], defect: CertDefect) -> CertSpec {
    CertSpec {
        names: CertNames::Fixed(names.iter().map(|s| s.to_string()).collect()),
        defect,
    }
}

fn verify(ca: &Ca, chain: &[CertificateDer<'static>], name: &str) -> Result<(), TlsError> {
    let verifier =
        WebPkiServerVerifier::builder_with_provider(Arc::new(ca.root_store()), ca.provider())
            .build()
            .unwrap();
    let server_name = ServerName::try_from(name.to_string()).unwrap();
    verifier
        .verify_server_cert(&chain[0], &chain[1..], &server_name, &[], UnixTime::now())
        .map(|_| ())
}

fn dns_sans(cert: &X509Certificate<'_>) -> Vec<String> {
    let san = cert.subject_alternative_name().unwrap().unwrap();
    san.value
        .general_names
        .iter()
        .filter_map(|g| match g {
            GeneralName::DNSName(n) => Some(n.to_string()),
            _ => None,
        })
        .collect()
}

fn cn(name: &X509Name<'_>) -> String {
    name.iter_common_name()
        .next()
        .unwrap()
        .as_str()
        .unwrap()
        .to_string()
}

#[test]
fn leaf_carries_names_cn_eku_and_validity() {
    let ca = Ca::new().unwrap();
    let ck = ca
        .chain(
            &spec(&["mx1.example.com", "mx2.example.com"], CertDefect::None),
            None,
        )
        .unwrap();
    assert_eq!(ck.cert.len(), 2, "leaf + intermediate");
    let (_, leaf) = parse_x509_certificate(&ck.cert[0]).unwrap();
    assert_eq!(dns_sans(&leaf), ["mx1.example.com", "mx2.example.com"]);
    assert_eq!(cn(leaf.subject()), "mx1.example.com");
    assert_eq!(cn(leaf.issuer()), INTERMEDIATE_CN);
    assert!(
        leaf.extended_key_usage()
            .unwrap()
            .unwrap()
            .value
            .server_auth
    );
    assert!(!leaf.is_ca());
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let nb = leaf.validity().not_before.timestamp();
    let na = leaf.validity().not_after.timestamp();
    assert!(nb < now && now < na);
    let days = (na - nb) / 86_400;
    assert!((80..=100).contains(&days), "about 90 days, got {days}");

    let (_, inter) = parse_x509_certificate(&ck.cert[1]).unwrap();
    assert_eq!(cn(inter.subject()), INTERMEDIATE_CN);
    assert_eq!(cn(inter.issuer()), ROOT_CN);
    assert!(inter.is_ca());

    let root_der = ca.root_der();
    let (_, root) = parse_x509_certificate(root_der.as_ref()).unwrap();
    assert_eq!(cn(root.subject()), ROOT_CN);
    assert_eq!(cn(root.issuer()), ROOT_CN);
    assert!(ca.root_pem().starts_with("-----BEGIN CERTIFICATE-----"));
}

#[test]
fn defect_dates_and_issuers() {
    let ca = Ca::new().unwrap();
    let now = OffsetDateTime::now_utc().unix_timestamp();
    let day = 86_400;
    // (defect, chain length, leaf issuer CN, not_before - now in days, not_after - now in days)
    let cases: &[(CertDefect, usize, &str, i64, i64)] = &[
        (CertDefect::None, 2, INTERMEDIATE_CN, -30, 60),
        (CertDefect::Expired, 2, INTERMEDIATE_CN, -400, -30),
        (CertDefect::NotYetValid, 2, INTERMEDIATE_CN, 30, 120),
        (CertDefect::SelfSigned, 1, "mx.example.com", -30, 60),
        (CertDefect::UnknownIssuer, 3, ROGUE_INTERMEDIATE_CN, -30, 60),
        (CertDefect::IncompleteChain, 1, INTERMEDIATE_CN, -30, 60),
    ];
    for &(defect, len, issuer, nb_days, na_days) in cases {
        let ck = ca.chain(&spec(&["mx.example.com"], defect), None).unwrap();
        assert_eq!(ck.cert.len(), len, "{defect:?}");
        let (_, leaf) = parse_x509_certificate(&ck.cert[0]).unwrap();
        assert_eq!(cn(leaf.issuer()), issuer, "{defect:?}");
        let nb = (leaf.validity().not_before.timestamp() - now) as f64 / day as f64;
        let na = (leaf.validity().not_after.timestamp() - now) as f64 / day as f64;
        assert!(
            (nb - nb_days as f64).abs() < 0.1,
            "{defect:?} not_before {nb}"
        );
        assert!(
            (na - na_days as f64).abs() < 0.1,
            "{defect:?} not_after {na}"
        );
    }
    let ck = ca
        .chain(&spec(&["mx.example.com"], CertDefect::UnknownIssuer), None)
        .unwrap();
    let (_, top) = parse_x509_certificate(&ck.cert[2]).unwrap();
    assert_eq!(cn(top.subject()), ROGUE_ROOT_CN);
    assert_eq!(cn(top.issuer()), ROGUE_ROOT_CN);
}

/// What rustls's WebPKI verifier says about each defect: the error a scanner sees.
#[test]
fn webpki_verdicts_per_defect() {
    let ca = Ca::new().unwrap();
    type Check = fn(&TlsError) -> bool;
    let cases: &[(CertDefect, &str, Check)] = &[
        (CertDefect::None, "mx.example.com", |_| false),
        (CertDefect::Expired, "mx.example.com", |e| {
            matches!(
                e,
                TlsError::InvalidCertificate(
                    CertificateError::Expired | CertificateError::ExpiredContext { .. }
                )
            )
        }),
        (CertDefect::NotYetValid, "mx.example.com", |e| {
            matches!(
                e,
                TlsError::InvalidCertificate(
                    CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. }
                )
            )
        }),
        (CertDefect::SelfSigned, "mx.example.com", |e| {
            matches!(
                e,
                TlsError::InvalidCertificate(CertificateError::UnknownIssuer)
            )
        }),
        (CertDefect::UnknownIssuer, "mx.example.com", |e| {
            matches!(
                e,
                TlsError::InvalidCertificate(CertificateError::UnknownIssuer)
            )
        }),
        (CertDefect::IncompleteChain, "mx.example.com", |e| {
            matches!(
                e,
                TlsError::InvalidCertificate(CertificateError::UnknownIssuer)
            )
        }),
        // A valid chain presented for another name.
        (CertDefect::None, "other.example.net", |e| {
            matches!(
                e,
                TlsError::InvalidCertificate(
                    CertificateError::NotValidForName
                        | CertificateError::NotValidForNameContext { .. }
                )
            )
        }),
    ];
    for (defect, name, expected) in cases {
        let ck = ca.chain(&spec(&["mx.example.com"], *defect), None).unwrap();
        let result = verify(&ca, &ck.cert, name);
        match (
            result,
            *defect == CertDefect::None && *name == "mx.example.com",
        ) {
            (Ok(()), true) => {}
            (Err(e), false) => assert!(expected(&e), "{defect:?} for {name}: unexpected {e:?}"),
            (r, _) => panic!("{defect:?} for {name}: {r:?}"),
        }
    }
    // The IncompleteChain leaf is good once the missing intermediate is supplied.
    let ck = ca
        .chain(
            &spec(&["mx.example.com"], CertDefect::IncompleteChain),
            None,
        )
        .unwrap();
    verify(
        &ca,
        &[ck.cert[0].clone(), ca.intermediate_der()],
        "mx.example.com",
    )
    .unwrap();
}

#[test]
fn sni_names_and_cache() {
    let ca = Ca::with_cache_capacity(4).unwrap();
    let sni_spec = CertSpec {
        names: CertNames::Sni {
            fallback: "fallback.example.org".into(),
        },
        defect: CertDefect::None,
    };
    let a = ca.chain(&sni_spec, Some("MTA-STS.Example.COM")).unwrap();
    let (_, leaf) = parse_x509_certificate(&a.cert[0]).unwrap();
    assert_eq!(dns_sans(&leaf), ["mta-sts.example.com"]);
    let b = ca.chain(&sni_spec, None).unwrap();
    let (_, leaf) = parse_x509_certificate(&b.cert[0]).unwrap();
    assert_eq!(dns_sans(&leaf), ["fallback.example.org"]);
    assert_eq!(ca.issued(), 2);

    // Cached: same Arc, no new signature.
    let again = ca.chain(&sni_spec, Some("mta-sts.example.com")).unwrap();
    assert!(Arc::ptr_eq(&a, &again));
    assert_eq!(ca.issued(), 2);

    // Bounded: many distinct names never grow the cache beyond its capacity.
    for i in 0..50 {
        ca.chain(
            &spec(&[&format!("h{i}.example.com")], CertDefect::None),
            None,
        )
        .unwrap();
        assert!(ca.cached() <= 4, "cache holds {}", ca.cached());
    }
    assert_eq!(ca.issued(), 52);
    // Distinct serials for re-issued leaves.
    let x = ca
        .chain(&spec(&["s.example.com"], CertDefect::None), None)
        .unwrap();
    let y = ca
        .chain(&spec(&["s.example.com"], CertDefect::Expired), None)
        .unwrap();
    let (_, x) = parse_x509_certificate(&x.cert[0]).unwrap();
    let (_, y) = parse_x509_certificate(&y.cert[0]).unwrap();
    assert_ne!(x.raw_serial(), y.raw_serial());
}

#[test]
fn writes_root_pem() {
    let ca = Ca::new().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("root.pem");
    ca.write_root_pem(&path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), ca.root_pem());
}

#[test]
fn server_config_builds_for_every_defect() {
    let ca = Ca::new().unwrap();
    for defect in [
        CertDefect::None,
        CertDefect::Expired,
        CertDefect::NotYetValid,
        CertDefect::SelfSigned,
        CertDefect::UnknownIssuer,
        CertDefect::IncompleteChain,
    ] {
        ca.server_config(&spec(&["mx.example.com"], defect), None)
            .unwrap();
    }
    let empty = CertSpec {
        names: CertNames::Fixed(vec![]),
        defect: CertDefect::None,
    };
    assert!(ca.chain(&empty, None).is_err());
}

/// The caIssuers URIs of a certificate, as x509-parser reads its AIA extension.
fn ca_issuers(der: &[u8]) -> Vec<String> {
    let (_, cert) = X509Certificate::from_der(der).unwrap();
    let mut out = Vec::new();
    for ext in cert.extensions() {
        if let ParsedExtension::AuthorityInfoAccess(aia) = ext.parsed_extension() {
            for d in &aia.accessdescs {
                assert_eq!(d.access_method.to_id_string(), "1.3.6.1.5.5.7.48.2");
                if let GeneralName::URI(u) = d.access_location {
                    out.push(u.to_string());
                }
            }
        }
    }
    out
}

#[test]
fn aia_leaves_carry_their_ca_issuers_url_and_are_sent_alone() {
    let ca = Ca::new().unwrap();
    let cases = [
        (CertDefect::AiaIncompleteChain, AiaHost::Intermediate),
        (CertDefect::AiaTarpit, AiaHost::Tarpit),
        (CertDefect::AiaLoop, AiaHost::LoopA),
    ];
    for (defect, host) in cases {
        let chain = ca.chain(&spec(&["mx.a.test"], defect), None).unwrap();
        assert_eq!(chain.cert.len(), 1, "{defect:?}: leaf only");
        assert_eq!(ca_issuers(&chain.cert[0]), vec![host.url()], "{defect:?}");
        // The leaf alone never verifies against the root.
        assert!(verify(&ca, &chain.cert, "mx.a.test").is_err());
    }
    // Plain incomplete chains carry no AIA; good chains neither.
    for defect in [CertDefect::IncompleteChain, CertDefect::None] {
        let chain = ca.chain(&spec(&["mx.a.test"], defect), None).unwrap();
        assert!(ca_issuers(&chain.cert[0]).is_empty(), "{defect:?}");
    }
}

#[test]
fn what_the_aia_hosts_serve_completes_or_loops() {
    let ca = Ca::new().unwrap();
    // The intermediate served at aia.testbed.test completes the AIA leaf.
    let leaf = ca
        .chain(&spec(&["mx.a.test"], CertDefect::AiaIncompleteChain), None)
        .unwrap()
        .cert[0]
        .clone();
    let inter = ca.aia_der(AiaHost::Intermediate).unwrap();
    assert_eq!(inter, ca.intermediate_der());
    verify(&ca, &[leaf, inter], "mx.a.test").unwrap();
    assert_eq!(ca.aia_der(AiaHost::Tarpit), None);
    // Loop CA A points at B, B at A; A signed the loop leaf, B signed A, A signed B.
    let a = ca.aia_der(AiaHost::LoopA).unwrap();
    let b = ca.aia_der(AiaHost::LoopB).unwrap();
    assert_eq!(ca_issuers(&a), vec![AiaHost::LoopB.url()]);
    assert_eq!(ca_issuers(&b), vec![AiaHost::LoopA.url()]);
    let (_, ac) = X509Certificate::from_der(&a).unwrap();
    let (_, bc) = X509Certificate::from_der(&b).unwrap();
    assert_eq!(ac.issuer(), bc.subject());
    assert_eq!(bc.issuer(), ac.subject());
    assert!(ac.is_ca() && bc.is_ca());
    let leaf = ca
        .chain(&spec(&["mx.a.test"], CertDefect::AiaLoop), None)
        .unwrap()
        .cert[0]
        .clone();
    let (_, lc) = X509Certificate::from_der(&leaf).unwrap();
    assert_eq!(lc.issuer(), ac.subject());
    assert!(verify(&ca, &[leaf, a, b], "mx.a.test").is_err());
}
