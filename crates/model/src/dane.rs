//! DANE for SMTP (RFC 7672): the DNSSEC status of an answer, TLSA records (RFC 6698 §2.1)
//! and which of them a DANE sender can use, and the vocabularies of the DANE columns
//! (docs/schema.md "DANE and DNSSEC"). Pure: matching records against a certificate chain
//! needs hashing and chain verification and lives in `mxscan-pki` (`dane`).

use std::fmt;

use crate::vocabulary;

vocabulary! {
    /// The DNSSEC status of an answer (RFC 4035 §4.3); `mx_dnssec`, `mx.dnssec`,
    /// `tlsa.dnssec`. Only `secure` answers count for DANE (RFC 7672 §2.2).
    pub enum Dnssec {
        Secure = "secure", "A chain of trust from the trust anchor validates the answer (or its \
            authenticated denial).";
        Insecure = "insecure", "The answer is provably unsigned: an authenticated delegation \
            without DS records on the way (RFC 4035 §4.3).";
        Bogus = "bogus", "The answer should be signed but does not validate: expired or missing \
            signatures, a wrong key, a broken denial of existence.";
        Indeterminate = "indeterminate", "No chain of trust could be established either way: no \
            trust anchor applies, or an algorithm the validator does not implement.";
    }
}

vocabulary! {
    /// The TLSA lookup of one MX host (`mx.dane_status`; RFC 7672 §2.2).
    pub enum DaneStatus {
        NoTlsa = "no_tlsa", "The TLSA lookup at `_25._tcp.<exchange>` securely answered that \
            there is no record (NXDOMAIN or NODATA, validated).";
        Usable = "usable", "At least one secure TLSA record of a usable kind: DANE-TA(2) or \
            DANE-EE(3), selector 0 or 1, matching type 0, 1 or 2 (RFC 7672 §3.1).";
        Unusable = "unusable", "TLSA records exist, but none is usable: only PKIX-TA(0)/PKIX-EE(1) \
            usages, unknown parameters, or digests of the wrong length (RFC 7672 §3.1). A DANE \
            sender still requires TLS (RFC 7672 §2.2).";
        Insecure = "insecure", "Not looked up: the MX answer or the exchange's address answer is \
            not secure, so a DANE sender does not use TLSA for this host (RFC 7672 §2.2).";
        Bogus = "bogus", "The TLSA answer failed DNSSEC validation; a DANE sender defers mail \
            (RFC 7672 §2.2.1).";
        LookupError = "lookup_error", "The TLSA lookup failed (SERVFAIL, timeout); a DANE sender \
            defers mail rather than treating it as absent (RFC 7672 §2.2.1).";
    }
}

vocabulary! {
    /// When `dane_status` is `usable`: does the chain the probe captured match a usable record
    /// (`mx.dane_match`; RFC 7672 §3)?
    pub enum DaneMatch {
        Match = "match", "A usable record matches the presented chain (DANE-EE: the leaf; \
            DANE-TA: a certificate of the chain the leaf verifies up to, with the name checked).";
        Mismatch = "mismatch", "No usable record matches the presented chain: a DANE sender \
            defers mail.";
        NoTls = "no_tls", "The host has usable TLSA but offered no STARTTLS or the handshake \
            failed: a DANE sender defers mail (RFC 7672 §2.2).";
        Untested = "untested", "No address of the host answered SMTP (blocked, refused, timed out).";
    }
}

vocabulary! {
    /// Would a DANE-enforcing sender (RFC 7672; Postfix `smtp_tls_security_level = dane`)
    /// deliver to the domain today (`domains.dane_delivery`)?
    pub enum DaneDelivery {
        NoDane = "no_dane", "DANE does not apply: the MX answer is not secure, or no MX host \
            has TLSA records.";
        Ok = "ok", "At least one MX host with TLSA would accept the mail: its records are usable \
            and match, or (no usable record) it completes STARTTLS.";
        WouldFail = "would_fail", "Every MX host a DANE sender would try fails: mismatch, no \
            STARTTLS, bogus or failed TLSA lookups.";
        Untested = "untested", "No MX host DANE applies to could be tested.";
    }
}

vocabulary! {
    /// What an enforcing sender applies to the domain and its outcome
    /// (`domains.transport_verdict`): DANE takes precedence over MTA-STS (RFC 8461 §2).
    pub enum TransportVerdict {
        DaneOk = "dane_ok", "DANE applies and a DANE sender would deliver.";
        DaneWouldFail = "dane_would_fail", "DANE applies and a DANE sender would not deliver.";
        StsOk = "sts_ok", "No DANE; an MTA-STS policy in mode enforce applies and an enforcing \
            sender would deliver.";
        StsWouldFail = "sts_would_fail", "No DANE; an MTA-STS policy in mode enforce applies and \
            an enforcing sender would not deliver.";
        Opportunistic = "opportunistic", "Neither DANE nor an enforced MTA-STS policy applies: \
            senders use TLS opportunistically, without authentication.";
        Untested = "untested", "What applies could not be decided (DNS failures, untested hosts).";
    }
}

/// TLSA certificate usage (RFC 6698 §2.1.1, RFC 7218 acronyms).
pub mod usage {
    /// PKIX-TA(0): unusable for SMTP (RFC 7672 §3.1.3).
    pub const PKIX_TA: u8 = 0;
    /// PKIX-EE(1): unusable for SMTP (RFC 7672 §3.1.3).
    pub const PKIX_EE: u8 = 1;
    /// DANE-TA(2): a trust anchor for the chain (RFC 7672 §3.1.2).
    pub const DANE_TA: u8 = 2;
    /// DANE-EE(3): the server's own certificate or key (RFC 7672 §3.1.1).
    pub const DANE_EE: u8 = 3;
}

/// TLSA selector (RFC 6698 §2.1.2).
pub mod selector {
    /// Cert(0): the whole certificate (DER).
    pub const CERT: u8 = 0;
    /// SPKI(1): the SubjectPublicKeyInfo (DER).
    pub const SPKI: u8 = 1;
}

/// TLSA matching type (RFC 6698 §2.1.3).
pub mod mtype {
    /// Full(0): the selected content itself.
    pub const FULL: u8 = 0;
    /// SHA2-256(1).
    pub const SHA256: u8 = 1;
    /// SHA2-512(2).
    pub const SHA512: u8 = 2;
}

/// A TLSA record's RDATA (RFC 6698 §2.1): usage, selector, matching type, association data.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Tlsa {
    /// Certificate usage ([`usage`]).
    pub usage: u8,
    /// Selector ([`selector`]).
    pub selector: u8,
    /// Matching type ([`mtype`]).
    pub mtype: u8,
    /// Certificate association data.
    pub data: Vec<u8>,
}

impl fmt::Debug for Tlsa {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "TLSA {} {} {} {}",
            self.usage,
            self.selector,
            self.mtype,
            self.data_hex()
        )
    }
}

/// Why a TLSA record is not usable for SMTP (RFC 7672 §3.1; such records are ignored).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unusable {
    /// PKIX-TA(0) or PKIX-EE(1): SMTP has no shared set of trusted CAs (RFC 7672 §3.1.3).
    PkixUsage(u8),
    /// A usage other than 0–3.
    UnknownUsage(u8),
    /// A selector other than 0–1.
    UnknownSelector(u8),
    /// A matching type other than 0–2.
    UnknownMatchingType(u8),
    /// A digest whose length is not the hash's (32 octets for SHA2-256, 64 for SHA2-512):
    /// it can never match (RFC 7671 §10.1 "malformed").
    DigestLength {
        /// The matching type.
        mtype: u8,
        /// The association data's length.
        len: usize,
    },
    /// Full(0) with no data.
    Empty,
}

impl Tlsa {
    /// Reads the RDATA of a TLSA record: three octets then the association data, which must
    /// not be empty (RFC 6698 §2.1, §2.2). `None` when too short.
    pub fn from_rdata(rdata: &[u8]) -> Option<Tlsa> {
        match rdata {
            [usage, selector, mtype, data @ ..] if !data.is_empty() => Some(Tlsa {
                usage: *usage,
                selector: *selector,
                mtype: *mtype,
                data: data.to_vec(),
            }),
            _ => None,
        }
    }

    /// The RDATA wire form ([`Tlsa::from_rdata`] reads it back).
    pub fn to_rdata(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.data.len());
        out.extend([self.usage, self.selector, self.mtype]);
        out.extend(&self.data);
        out
    }

    /// The association data as lowercase hex (the `tlsa.data` column).
    pub fn data_hex(&self) -> String {
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let mut s = String::with_capacity(self.data.len() * 2);
        for b in &self.data {
            s.push(HEX[usize::from(b >> 4)] as char);
            s.push(HEX[usize::from(b & 15)] as char);
        }
        s
    }

    /// Whether a DANE SMTP sender uses this record (RFC 7672 §3.1): DANE-TA(2) or DANE-EE(3),
    /// selector Cert(0) or SPKI(1), matching type Full(0), SHA2-256(1) or SHA2-512(2), and
    /// association data a match is possible with.
    pub fn usable(&self) -> Result<(), Unusable> {
        match self.usage {
            usage::DANE_TA | usage::DANE_EE => {}
            usage::PKIX_TA | usage::PKIX_EE => return Err(Unusable::PkixUsage(self.usage)),
            u => return Err(Unusable::UnknownUsage(u)),
        }
        if self.selector > selector::SPKI {
            return Err(Unusable::UnknownSelector(self.selector));
        }
        let want = match self.mtype {
            mtype::FULL => None,
            mtype::SHA256 => Some(32),
            mtype::SHA512 => Some(64),
            m => return Err(Unusable::UnknownMatchingType(m)),
        };
        match want {
            Some(n) if self.data.len() != n => Err(Unusable::DigestLength {
                mtype: self.mtype,
                len: self.data.len(),
            }),
            None if self.data.is_empty() => Err(Unusable::Empty),
            _ => Ok(()),
        }
    }
}

/// The `dane_status` of a host whose TLSA answer validated as secure with `records` in it:
/// `no_tlsa` when empty, `usable` when at least one record is usable, else `unusable`
/// (RFC 7672 §2.2, §3.1). The other statuses come from the lookup itself.
pub fn status_of_secure_answer(records: &[Tlsa]) -> DaneStatus {
    if records.is_empty() {
        DaneStatus::NoTlsa
    } else if records.iter().any(|r| r.usable().is_ok()) {
        DaneStatus::Usable
    } else {
        DaneStatus::Unusable
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Vocab;

    fn t(usage: u8, selector: u8, mtype: u8, len: usize) -> Tlsa {
        Tlsa {
            usage,
            selector,
            mtype,
            data: vec![0xab; len],
        }
    }

    #[test]
    fn rdata_round_trip_and_short_rdata() {
        let r = t(3, 1, 1, 32);
        assert_eq!(Tlsa::from_rdata(&r.to_rdata()), Some(r.clone()));
        assert_eq!(r.data_hex(), "ab".repeat(32));
        for short in [&[][..], &[3], &[3, 1], &[3, 1, 1]] {
            assert_eq!(Tlsa::from_rdata(short), None, "{short:?}");
        }
        assert_eq!(
            format!("{:?}", Tlsa::from_rdata(&[2, 0, 0, 0x0f, 0xa0]).unwrap()),
            "TLSA 2 0 0 0fa0"
        );
    }

    /// RFC 7672 §3.1: only DANE-TA(2)/DANE-EE(3) with known selector and matching type and a
    /// digest of the right length are used.
    #[test]
    fn usability_follows_rfc_7672_section_3_1() {
        let cases: &[(Tlsa, Result<(), Unusable>)] = &[
            (t(3, 1, 1, 32), Ok(())),
            (t(3, 0, 2, 64), Ok(())),
            (t(2, 0, 0, 700), Ok(())),
            (t(2, 1, 1, 32), Ok(())),
            (t(0, 1, 1, 32), Err(Unusable::PkixUsage(0))),
            (t(1, 1, 1, 32), Err(Unusable::PkixUsage(1))),
            (t(4, 1, 1, 32), Err(Unusable::UnknownUsage(4))),
            (t(255, 1, 1, 32), Err(Unusable::UnknownUsage(255))),
            (t(3, 2, 1, 32), Err(Unusable::UnknownSelector(2))),
            (t(3, 1, 3, 32), Err(Unusable::UnknownMatchingType(3))),
            (
                t(3, 1, 1, 31),
                Err(Unusable::DigestLength { mtype: 1, len: 31 }),
            ),
            (
                t(3, 1, 2, 32),
                Err(Unusable::DigestLength { mtype: 2, len: 32 }),
            ),
        ];
        for (r, want) in cases {
            assert_eq!(r.usable(), *want, "{r:?}");
        }
        let empty_full = Tlsa {
            data: Vec::new(),
            ..t(3, 1, 0, 0)
        };
        assert_eq!(empty_full.usable(), Err(Unusable::Empty));
    }

    #[test]
    fn status_of_a_secure_answer() {
        assert_eq!(status_of_secure_answer(&[]), DaneStatus::NoTlsa);
        assert_eq!(
            status_of_secure_answer(&[t(1, 1, 1, 32), t(3, 1, 1, 32)]),
            DaneStatus::Usable
        );
        assert_eq!(
            status_of_secure_answer(&[t(0, 0, 1, 32), t(3, 1, 1, 20)]),
            DaneStatus::Unusable
        );
    }

    /// The words of docs/schema.md "DANE and DNSSEC" (../shared/SCHEMA.md), restated.
    #[test]
    fn vocabularies_are_the_schema_words() {
        let words = |all: Vec<&str>| all.join(" ");
        assert_eq!(
            words(Dnssec::ALL.iter().map(|v| v.as_str()).collect()),
            "secure insecure bogus indeterminate"
        );
        assert_eq!(
            words(DaneStatus::ALL.iter().map(|v| v.as_str()).collect()),
            "no_tlsa usable unusable insecure bogus lookup_error"
        );
        assert_eq!(
            words(DaneMatch::ALL.iter().map(|v| v.as_str()).collect()),
            "match mismatch no_tls untested"
        );
        assert_eq!(
            words(DaneDelivery::ALL.iter().map(|v| v.as_str()).collect()),
            "no_dane ok would_fail untested"
        );
        assert_eq!(
            words(TransportVerdict::ALL.iter().map(|v| v.as_str()).collect()),
            "dane_ok dane_would_fail sts_ok sts_would_fail opportunistic untested"
        );
        assert_eq!("bogus".parse::<Dnssec>(), Ok(Dnssec::Bogus));
        let _ = Dnssec::Secure.description();
        fn vocab<V: Vocab>() {}
        vocab::<DaneStatus>();
    }
}
