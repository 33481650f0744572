//! Offline certificate judgement with rcgen-made PKIs: every status, wildcards, precedence.

use std::path::Path;
use std::time::Duration;

use mxscan_probe::cert::{CertStatus, TrustStore, matches_name, parse_cert};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType, IsCa, KeyPair,
    date_time_ymd,
};
use rustls_pki_types::{CertificateDer, UnixTime};

struct Ca {
    issuer: CertifiedIssuer<'static, KeyPair>,
}

fn dn(cn: &str) -> DistinguishedName {
    let mut d = DistinguishedName::new();
    d.push(DnType::OrganizationName, "mxscan test");
    d.push(DnType::CommonName, cn);
    d
}

fn root(cn: &str) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    Ca {
        issuer: CertifiedIssuer::self_signed(p, KeyPair::generate().unwrap()).unwrap(),
    }
}

fn intermediate(cn: &str, parent: &Ca) -> Ca {
    let mut p = CertificateParams::new(Vec::<String>::new()).unwrap();
    p.distinguished_name = dn(cn);
    p.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    Ca {
        issuer: CertifiedIssuer::signed_by(p, KeyPair::generate().unwrap(), &parent.issuer)
            .unwrap(),
    }
}

fn leaf_params(names: &[&str]) -> CertificateParams {
    let mut p =
        CertificateParams::new(names.iter().map(|s| s.to_string()).collect::<Vec<_>>()).unwrap();
    p.distinguished_name = dn(names.first().copied().unwrap_or("leaf"));
    p.not_before = date_time_ymd(2024, 1, 1);
    p.not_after = date_time_ymd(2025, 1, 1);
    p
}

fn leaf(names: &[&str], ca: &Ca) -> CertificateDer<'static> {
    leaf_params(names)
        .signed_by(&KeyPair::generate().unwrap(), &ca.issuer)
        .unwrap()
        .der()
        .clone()
}

fn self_signed(names: &[&str]) -> CertificateDer<'static> {
    leaf_params(names)
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap()
        .der()
        .clone()
}

fn t(y: i32, m: u8, d: u8) -> UnixTime {
    UnixTime::since_unix_epoch(Duration::from_secs(
        date_time_ymd(y, m, d).unix_timestamp() as u64
    ))
}

struct Pki {
    store: TrustStore,
    root_only: TrustStore,
    inter: Ca,
    rogue_inter: Ca,
}

fn pki() -> Pki {
    let r = root("Test Root");
    let inter = intermediate("Test Intermediate", &r);
    let rogue = root("Rogue Root");
    let rogue_inter = intermediate("Rogue Intermediate", &rogue);
    let mut store = TrustStore::empty();
    let pem = format!("{}{}", r.issuer.pem(), inter.issuer.pem());
    store
        .add_pem(pem.as_bytes(), Path::new("test.pem"))
        .unwrap();
    assert_eq!(store.anchor_count(), 1);
    assert_eq!(store.intermediate_count(), 1);
    let mut root_only = TrustStore::empty();
    root_only
        .add_pem(r.issuer.pem().as_bytes(), Path::new("root.pem"))
        .unwrap();
    Pki {
        store,
        root_only,
        inter,
        rogue_inter,
    }
}

#[test]
fn every_status_and_precedence() {
    let p = pki();
    let good = leaf(&["mx.example.com"], &p.inter);
    let wild = leaf(&["*.example.com"], &p.inter);
    let rogue = leaf(&["mx.example.com"], &p.rogue_inter);
    let selfs = self_signed(&["mx.example.com"]);
    let inter_der = p.inter.issuer.der().clone();
    let rogue_inter_der = p.rogue_inter.issuer.der().clone();
    let now = t(2024, 6, 1);
    let late = t(2025, 6, 1);
    let early = t(2023, 6, 1);

    let full = vec![good.clone(), inter_der.clone()];
    let cases: Vec<(
        &str,
        Vec<CertificateDer<'static>>,
        &str,
        UnixTime,
        CertStatus,
    )> = vec![
        (
            "valid",
            full.clone(),
            "mx.example.com",
            now,
            CertStatus::Valid,
        ),
        (
            "valid, name case and dot",
            full.clone(),
            "MX.Example.COM.",
            now,
            CertStatus::Valid,
        ),
        (
            "expired",
            full.clone(),
            "mx.example.com",
            late,
            CertStatus::Expired,
        ),
        (
            "not yet valid",
            full.clone(),
            "mx.example.com",
            early,
            CertStatus::NotYetValid,
        ),
        (
            "name mismatch",
            full.clone(),
            "mail.example.org",
            now,
            CertStatus::NameMismatch,
        ),
        (
            "expired beats mismatch",
            full.clone(),
            "mail.example.org",
            late,
            CertStatus::Expired,
        ),
        (
            "wildcard one label",
            vec![wild.clone(), inter_der.clone()],
            "mx.example.com",
            now,
            CertStatus::Valid,
        ),
        (
            "wildcard not two labels",
            vec![wild.clone(), inter_der.clone()],
            "a.mx.example.com",
            now,
            CertStatus::NameMismatch,
        ),
        (
            "wildcard not apex",
            vec![wild.clone(), inter_der.clone()],
            "example.com",
            now,
            CertStatus::NameMismatch,
        ),
        (
            "incomplete chain",
            vec![good.clone()],
            "mx.example.com",
            now,
            CertStatus::IncompleteChain,
        ),
        (
            "incomplete beats expired",
            vec![good.clone()],
            "mx.example.com",
            late,
            CertStatus::IncompleteChain,
        ),
        (
            "incomplete beats mismatch",
            vec![good.clone()],
            "other.test",
            now,
            CertStatus::IncompleteChain,
        ),
        (
            "untrusted issuer",
            vec![rogue.clone(), rogue_inter_der.clone()],
            "mx.example.com",
            now,
            CertStatus::UntrustedIssuer,
        ),
        (
            "untrusted, leaf only",
            vec![rogue.clone()],
            "mx.example.com",
            now,
            CertStatus::UntrustedIssuer,
        ),
        (
            "untrusted beats expired",
            vec![rogue.clone(), rogue_inter_der.clone()],
            "mx.example.com",
            late,
            CertStatus::UntrustedIssuer,
        ),
        (
            "self signed",
            vec![selfs.clone()],
            "mx.example.com",
            now,
            CertStatus::SelfSigned,
        ),
        (
            "self signed beats all",
            vec![selfs.clone()],
            "other.test",
            late,
            CertStatus::SelfSigned,
        ),
        (
            "empty chain",
            vec![],
            "mx.example.com",
            now,
            CertStatus::Other,
        ),
        (
            "garbage",
            vec![CertificateDer::from(vec![0x30, 0x03, 1, 2, 3])],
            "mx.example.com",
            now,
            CertStatus::Other,
        ),
        (
            "extra unrelated cert",
            vec![good.clone(), rogue_inter_der.clone(), inter_der.clone()],
            "mx.example.com",
            now,
            CertStatus::Valid,
        ),
    ];
    for (what, chain, name, at, want) in cases {
        assert_eq!(p.store.judge(&chain, name, at), want, "{what}");
        // Cached verdicts are the same.
        assert_eq!(p.store.judge(&chain, name, at), want, "{what} (cached)");
    }
    // Without the intermediate in the pool, a missing intermediate is indistinguishable
    // from an unknown issuer.
    assert_eq!(
        p.root_only
            .judge(std::slice::from_ref(&good), "mx.example.com", now),
        CertStatus::UntrustedIssuer
    );
    assert_eq!(
        p.root_only.judge(&full, "mx.example.com", now),
        CertStatus::Valid
    );
    let words: Vec<&str> = CertStatus::ALL.iter().map(|s| s.as_str()).collect();
    assert_eq!(
        words,
        [
            "valid",
            "expired",
            "not_yet_valid",
            "name_mismatch",
            "untrusted_issuer",
            "self_signed",
            "incomplete_chain",
            "other"
        ]
    );
}

#[test]
fn webpki_roots_do_not_trust_test_pki() {
    let p = pki();
    let store = TrustStore::new(&[]).unwrap();
    assert!(store.anchor_count() > 100);
    let good = leaf(&["mx.example.com"], &p.inter);
    let chain = [good, p.inter.issuer.der().clone()];
    assert_eq!(
        store.judge(&chain, "mx.example.com", t(2024, 6, 1)),
        CertStatus::UntrustedIssuer
    );
}

#[test]
fn trust_anchor_files() {
    let dir = tempfile::tempdir().unwrap();
    let r = root("File Root");
    let inter = intermediate("File Intermediate", &r);
    let ok = dir.path().join("ok.pem");
    std::fs::write(&ok, format!("{}{}", r.issuer.pem(), inter.issuer.pem())).unwrap();
    let store = TrustStore::new(&[ok]).unwrap();
    let good = leaf(&["mx.example.com"], &inter);
    assert_eq!(
        store.judge(&[good], "mx.example.com", t(2024, 6, 1)),
        CertStatus::IncompleteChain
    );

    let empty = dir.path().join("empty.pem");
    std::fs::write(&empty, "nothing here\n").unwrap();
    let e = TrustStore::new(&[empty]).unwrap_err().to_string();
    assert!(e.contains("no certificates"), "{e}");

    let leafy = dir.path().join("leaf.pem");
    let l = leaf_params(&["x.test"])
        .self_signed(&KeyPair::generate().unwrap())
        .unwrap();
    std::fs::write(&leafy, l.pem()).unwrap();
    let e = TrustStore::new(&[leafy]).unwrap_err().to_string();
    assert!(e.contains("not a CA"), "{e}");

    let missing = TrustStore::new(&[dir.path().join("missing.pem")]);
    assert!(missing.is_err());
}

#[test]
fn name_matching() {
    let p = pki();
    let c = leaf(
        &["mx.example.com", "*.mail.example.net", "example.org"],
        &p.inter,
    );
    let cases = [
        ("mx.example.com", true),
        ("MX.EXAMPLE.COM", true),
        ("mx.example.com.", true),
        ("example.com", false),
        ("a.mail.example.net", true),
        ("mail.example.net", false),
        ("a.b.mail.example.net", false),
        ("example.org", true),
        ("www.example.org", false),
        ("", false),
    ];
    for (name, want) in cases {
        assert_eq!(matches_name(&c, name), want, "{name}");
    }
}

#[test]
fn certificate_facts() {
    let p = pki();
    let der = leaf(&["mx.example.com", "mail.example.com"], &p.inter);
    let info = parse_cert(&der).unwrap();
    assert_eq!(info.sha256.len(), 64);
    assert_eq!(info.subject, "CN=mx.example.com,O=mxscan test");
    assert_eq!(info.issuer, "CN=Test Intermediate,O=mxscan test");
    assert_eq!(info.san_dns, ["mx.example.com", "mail.example.com"]);
    assert_eq!(info.not_before, date_time_ymd(2024, 1, 1).unix_timestamp());
    assert_eq!(info.not_after, date_time_ymd(2025, 1, 1).unix_timestamp());
    assert!(!info.self_signed);
    assert!(!info.is_ca);
    assert_eq!(info.key_type, "ecdsa-p256");
    assert_eq!(info.key_bits, 256);
    assert_eq!(info.signature_algorithm, "ecdsa-with-SHA256");

    let ss = parse_cert(&self_signed(&["x.test"])).unwrap();
    assert!(ss.self_signed);

    let key_cases = [
        (
            &rcgen::PKCS_ECDSA_P384_SHA384,
            "ecdsa-p384",
            384,
            "ecdsa-with-SHA384",
        ),
        (&rcgen::PKCS_ED25519, "ed25519", 256, "ed25519"),
    ];
    for (alg, kt, bits, sig) in key_cases {
        let kp = KeyPair::generate_for(alg).unwrap();
        let der = leaf_params(&["k.test"])
            .self_signed(&kp)
            .unwrap()
            .der()
            .clone();
        let info = parse_cert(&der).unwrap();
        assert_eq!(
            (
                info.key_type.as_str(),
                info.key_bits,
                info.signature_algorithm.as_str()
            ),
            (kt, bits, sig)
        );
    }
    assert!(parse_cert(b"not a cert").is_none());

    let mut params = leaf_params(&["e.test"]);
    let mut d = DistinguishedName::new();
    d.push(DnType::CommonName, "a,b+c \"q\" ");
    params.distinguished_name = d;
    let c = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
    let info = parse_cert(c.der()).unwrap();
    assert_eq!(info.subject, r#"CN=a\,b\+c \"q\"\ "#);
}

/// The DER of an Authority Information Access extension (RFC 5280 §4.2.2.1) listing
/// `(method OID content bytes, URI)` pairs.
fn aia_extension(entries: &[(&[u8], &str)]) -> rcgen::CustomExtension {
    fn tlv(tag: u8, body: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        if body.len() < 128 {
            v.push(body.len() as u8);
        } else {
            v.extend([0x82, (body.len() >> 8) as u8, body.len() as u8]);
        }
        v.extend(body);
        v
    }
    let mut seq = Vec::new();
    for (oid, uri) in entries {
        let mut desc = tlv(0x06, oid);
        desc.extend(tlv(0x86, uri.as_bytes())); // [6] IMPLICIT IA5String
        seq.extend(tlv(0x30, &desc));
    }
    rcgen::CustomExtension::from_oid_content(&[1, 3, 6, 1, 5, 5, 7, 1, 1], tlv(0x30, &seq))
}

/// id-ad-caIssuers 1.3.6.1.5.5.7.48.2 and id-ad-ocsp 1.3.6.1.5.5.7.48.1 (content octets).
const CA_ISSUERS: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 48, 2];
const OCSP: &[u8] = &[0x2b, 6, 1, 5, 5, 7, 48, 1];

#[test]
fn aia_ca_issuers_urls_are_read_http_only_in_order_deduplicated_and_capped() {
    let p = pki();
    let mut params = leaf_params(&["mx.example.com"]);
    params.custom_extensions.push(aia_extension(&[
        (OCSP, "http://ocsp.example.net/"),
        (CA_ISSUERS, "http://aia.example.net/inter.der"),
        (CA_ISSUERS, "https://aia.example.net/inter.der"),
        (CA_ISSUERS, "ldap://ldap.example.net/cn=inter"),
        (CA_ISSUERS, "http://aia.example.net/inter.der"),
        (CA_ISSUERS, "HTTP://second.example.net/i.crt"),
        (CA_ISSUERS, "http://third.example.net/i.crt"),
    ]));
    let der = params
        .signed_by(&KeyPair::generate().unwrap(), &p.inter.issuer)
        .unwrap()
        .der()
        .clone();
    assert_eq!(
        mxscan_probe::cert::ca_issuers_urls(der.as_ref(), 2),
        [
            "http://aia.example.net/inter.der",
            "HTTP://second.example.net/i.crt"
        ]
    );
    assert_eq!(
        mxscan_probe::cert::ca_issuers_urls(der.as_ref(), 8).len(),
        3
    );
    let plain = leaf(&["mx.example.com"], &p.inter);
    assert!(mxscan_probe::cert::ca_issuers_urls(plain.as_ref(), 8).is_empty());
    assert!(mxscan_probe::cert::ca_issuers_urls(b"not a certificate", 8).is_empty());
}

#[test]
fn an_issuer_fetched_through_aia_turns_untrusted_issuer_into_incomplete_chain() {
    let p = pki();
    let at = t(2024, 6, 1);
    let leaf = leaf(&["mx.example.com"], &p.inter);
    let chain = std::slice::from_ref(&leaf);
    let inter_der = p.inter.issuer.der().clone();
    // Without the pool, a leaf-only chain has no path.
    assert_eq!(
        p.root_only.judge(chain, "mx.example.com", at),
        CertStatus::UntrustedIssuer
    );
    // With the issuer fetched (DER body), it has one — through a certificate the server did
    // not send.
    let fetched = mxscan_probe::cert::certs_from_aia_body(inter_der.as_ref(), 4).unwrap();
    assert_eq!(
        p.root_only
            .judge_with(chain, &fetched, "mx.example.com", at),
        CertStatus::IncompleteChain
    );
    let facts = p.root_only.facts_with(chain, &fetched, at);
    assert_eq!(
        facts.status_for("mx.example.com"),
        CertStatus::IncompleteChain
    );
    assert_eq!(
        facts.status_for("other.example"),
        CertStatus::IncompleteChain
    );
    // The verdict cache keeps the two apart.
    assert_eq!(
        p.root_only.judge(chain, "mx.example.com", at),
        CertStatus::UntrustedIssuer
    );
    // PEM bodies are read too; a rogue issuer does not help; garbage is no certificate.
    let pem = p.inter.issuer.pem();
    assert_eq!(
        mxscan_probe::cert::certs_from_aia_body(pem.as_bytes(), 4).unwrap(),
        fetched
    );
    let rogue = vec![p.rogue_inter.issuer.der().clone()];
    assert_eq!(
        p.root_only.judge_with(chain, &rogue, "mx.example.com", at),
        CertStatus::UntrustedIssuer
    );
    assert!(mxscan_probe::cert::certs_from_aia_body(b"<html>404</html>", 4).is_none());
    assert!(mxscan_probe::cert::certs_from_aia_body(&[0x30, 0x03, 1, 2, 3], 4).is_none());
    assert!(mxscan_probe::cert::certs_from_aia_body(&[], 4).is_none());
}
