//! TLSA records (RFC 6698 §2.1) as a DNS answer carries them, and DANE matching against the
//! chain a server presented (RFC 7672 §3): `mxscan_model::dane` and `mxscan_pki::dane`.

use rustls_pki_types::{CertificateDer, UnixTime};

use crate::api::{
    DaneStatus, Tlsa, dane_match, dane_status_of_secure_answer, matches_cert, record_for,
};
use crate::cert::{AT, der_split};

/// `tlsa`: byte 0 = flags (bits 0–2: how many records; bit 3: also publish a DANE-EE record
/// made from the presented leaf, bits 4–5 its selector, bits 6–7 its matching type); then
/// each record as one length octet and that many RDATA octets; the rest is the presented
/// chain (concatenated DER). Invariants:
/// - RDATA of at least four octets reads, and writes back to the same octets; shorter does
///   not read;
/// - a usable record is DANE-TA(2)/DANE-EE(3), selector 0/1, matching type 0/1/2 with a
///   digest of the hash's length; `dane_status` of a secure answer is `no_tlsa` exactly when
///   empty, `usable` exactly when a record is usable;
/// - a match names a usable record and a certificate of the chain that the record's data is
///   the association of: the leaf for DANE-EE, a certificate above it for DANE-TA;
/// - matching is deterministic, and adding records never loses a match (the first match
///   stays first);
/// - a usable DANE-EE record made from the presented leaf always matches it, whatever its
///   names and dates.
pub fn tlsa(data: &[u8]) {
    let Some((&flags, mut rest)) = data.split_first() else {
        return;
    };
    let mut records = Vec::new();
    for _ in 0..(flags & 7) {
        let Some((&len, tail)) = rest.split_first() else {
            break;
        };
        let len = usize::from(len).min(tail.len());
        let (rdata, tail) = tail.split_at(len);
        rest = tail;
        match Tlsa::from_rdata(rdata) {
            Some(r) => {
                assert!(rdata.len() >= 4);
                assert_eq!(r.to_rdata(), rdata, "RDATA does not round-trip");
                assert_eq!(r.data_hex().len(), 2 * r.data.len());
                records.push(r);
            }
            None => assert!(
                rdata.len() < 4,
                "{} octets of RDATA did not read",
                rdata.len()
            ),
        }
    }
    for r in &records {
        if r.usable().is_ok() {
            assert!(
                matches!(r.usage, 2 | 3) && r.selector <= 1 && r.mtype <= 2,
                "{r:?}"
            );
            match r.mtype {
                1 => assert_eq!(r.data.len(), 32),
                2 => assert_eq!(r.data.len(), 64),
                _ => assert!(!r.data.is_empty()),
            }
        }
    }
    let status = dane_status_of_secure_answer(&records);
    let any_usable = records.iter().any(|r| r.usable().is_ok());
    assert_eq!(status == DaneStatus::NoTlsa, records.is_empty());
    assert_eq!(status == DaneStatus::Usable, any_usable);

    let chain: Vec<CertificateDer<'static>> = der_split(rest, 4)
        .into_iter()
        .map(|d| CertificateDer::from(d.to_vec()))
        .collect();
    let at = UnixTime::since_unix_epoch(std::time::Duration::from_secs(AT));
    let names = ["mx.example.com", "example.com"];
    let got = dane_match(&records, &chain, &names, at);
    assert_eq!(
        got,
        dane_match(&records, &chain, &names, at),
        "not deterministic"
    );
    if let Some(m) = got {
        let r = &records[m.record];
        assert!(r.usable().is_ok(), "matched an unusable record {r:?}");
        assert!(m.depth < chain.len());
        assert!(
            matches_cert(r, &chain[m.depth]),
            "{r:?} is not the certificate's"
        );
        match r.usage {
            3 => assert_eq!(m.depth, 0, "DANE-EE matched above the leaf"),
            2 => assert!(m.depth >= 1, "DANE-TA matched the leaf"),
            u => panic!("usage {u} matched"),
        }
    }
    if flags & 8 != 0
        && let Some(leaf) = chain.first()
        && let Some(ee) = record_for(leaf, 3, (flags >> 4) & 3, flags >> 6)
        && ee.usable().is_ok()
    {
        let mut more = records.clone();
        more.push(ee);
        let with = dane_match(&more, &chain, &names, at);
        assert!(with.is_some(), "a DANE-EE record of the leaf did not match");
        if got.is_some() {
            assert_eq!(with, got, "an added record changed the first match");
        }
    }
}
