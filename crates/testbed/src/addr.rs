//! The address plan: which 127.0.0.0/8 address means what.
//!
//! The SMTP and HTTPS servers listen on `0.0.0.0` and learn only the address the client
//! dialled, so the address itself must say how the host behaves. Everything lives in
//! 127.0.0.0/8 but outside 127.0.0.0/16 (left to ordinary local services):
//!
//! | second octet | meaning |
//! |---|---|
//! | 1 | shared hosts: `127.1.P.H`, P 0–3 big providers, P 16–55 hosters 1–40, H 1–8 the host |
//! | 2 | HTTPS policy hosts that reset every connection (`refused`) |
//! | 3 | HTTPS policy hosts (the site is chosen by the SNI name `mta-sts.<domain>`) |
//! | 4 | plain-HTTP AIA caIssuers hosts (`127.4.0.1`–`127.4.0.4`, see [`crate::aia`]) |
//! | 5–7 | unused |
//! | 8–254 | dedicated SMTP hosts: the octet selects the [`SmtpClass`] (popular classes own several octets; the `aia_*` classes, added last, one each: 252–254), the last two octets are a hash of the host name |
//!
//! Private addresses (10/8, 172.16/12, 192.168/16) are published for the `mx_private`
//! scenario and are never served.

use std::net::Ipv4Addr;

use crate::scenario::SmtpClass;

/// Second octet of shared (provider / hoster) hosts.
pub const SHARED_OCTET: u8 = 1;
/// Second octet of HTTPS hosts that reset connections.
pub const HTTPS_RESET_OCTET: u8 = 2;
/// Second octet of HTTPS policy hosts.
pub const HTTPS_OCTET: u8 = 3;
/// First second-octet value of dedicated SMTP hosts.
pub const DEDICATED_FIRST_OCTET: u8 = 8;

/// How many second-octet values each class owns, in [`SmtpClass::ALL`] order (sum 247, so
/// dedicated hosts use octets 8–254; 255 is left alone, 127.255.255.255 being loopback's
/// broadcast address). Each value gives room for 65,536 hosts.
const OCTETS_PER_CLASS: [u8; 31] = [
    65, // starttls_valid
    12, // cert_expired
    5,  // cert_not_yet_valid
    12, // cert_wrong_name
    12, // cert_self_signed
    8,  // cert_unknown_issuer
    5,  // cert_incomplete_chain
    20, // no_starttls
    5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, // the rarer classes
    5, 5, 5, 5,  // tls10_only, tls11_only, static_rsa_only, cbc_only
    10, // tls13_only
    5,  // accept_close
    1,  // aia_incomplete_chain
    1,  // aia_tarpit
    1,  // aia_loop
];

/// First octet and number of octets of a class.
fn class_range(class: SmtpClass) -> (u8, u8) {
    let i = class.index();
    let base: u32 = OCTETS_PER_CLASS[..i].iter().map(|&n| u32::from(n)).sum();
    (DEDICATED_FIRST_OCTET + base as u8, OCTETS_PER_CLASS[i])
}

/// The address of a dedicated host of `class` whose name hashes to `h`.
pub fn dedicated_addr(class: SmtpClass, h: u64) -> Ipv4Addr {
    let (base, count) = class_range(class);
    let octet = base + (h % u64::from(count)) as u8;
    let low = (h >> 32) as u16;
    Ipv4Addr::new(127, octet, (low >> 8) as u8, low as u8)
}

/// What an address is, by the plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AddrKind {
    /// A shared host `127.1.P.H`.
    Shared { provider: u8, host: u8 },
    /// An HTTPS policy host that resets.
    HttpsReset,
    /// An HTTPS policy host.
    Https,
    /// An AIA caIssuers host (`127.4.0.0/16`; [`crate::aia::AiaHost::by_addr`] says which).
    Aia,
    /// A dedicated SMTP host of this class.
    Dedicated(SmtpClass),
    /// Anything else (127.0/16, unused octets, non-loopback).
    Unassigned,
}

/// Classify an address.
pub fn classify(addr: Ipv4Addr) -> AddrKind {
    let [a, b, c, d] = addr.octets();
    if a != 127 {
        return AddrKind::Unassigned;
    }
    match b {
        SHARED_OCTET => AddrKind::Shared {
            provider: c,
            host: d,
        },
        HTTPS_RESET_OCTET => AddrKind::HttpsReset,
        HTTPS_OCTET => AddrKind::Https,
        crate::aia::AIA_OCTET => AddrKind::Aia,
        _ if b >= DEDICATED_FIRST_OCTET => {
            let mut first = DEDICATED_FIRST_OCTET;
            for (class, &n) in SmtpClass::ALL.iter().zip(OCTETS_PER_CLASS.iter()) {
                if b < first + n {
                    return AddrKind::Dedicated(*class);
                }
                first += n;
            }
            AddrKind::Unassigned
        }
        _ => AddrKind::Unassigned,
    }
}

/// Whether `addr` is a dedicated host address (one name per address expected).
pub fn is_dedicated(addr: Ipv4Addr) -> bool {
    matches!(classify(addr), AddrKind::Dedicated(_))
}

/// An HTTPS policy-host address for a name hashing to `h`.
pub fn https_addr(reset: bool, h: u64) -> Ipv4Addr {
    let octet = if reset {
        HTTPS_RESET_OCTET
    } else {
        HTTPS_OCTET
    };
    let low = (h >> 16) as u16;
    // Avoid x.y = 0.0 for tidiness.
    let low = low.max(1);
    Ipv4Addr::new(127, octet, (low >> 8) as u8, low as u8)
}

/// A private (RFC 1918) address for a name hashing to `h`.
pub fn private_addr(h: u64) -> Ipv4Addr {
    let b = (h >> 8) as u8;
    let c = (h >> 16) as u8;
    let d = ((h >> 24) as u8).clamp(1, 254);
    match h % 3 {
        0 => Ipv4Addr::new(10, b, c, d),
        1 => Ipv4Addr::new(172, 16 + (b & 0x0f), c, d),
        _ => Ipv4Addr::new(192, 168, c, d),
    }
}

/// Whether an address is loopback (the only range the testbed serves; the scanner runs with
/// `--allow 127.0.0.0/8`, so everything else it is given is `blocked`).
pub fn is_served(addr: Ipv4Addr) -> bool {
    addr.octets()[0] == 127
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_fit_in_the_octet() {
        let total: u32 = OCTETS_PER_CLASS.iter().map(|&n| u32::from(n)).sum();
        assert!(u32::from(DEDICATED_FIRST_OCTET) + total <= 255);
        assert_eq!(
            u32::from(DEDICATED_FIRST_OCTET) + total,
            255,
            "octet 255 stays unused"
        );
        assert_eq!(OCTETS_PER_CLASS.len(), SmtpClass::ALL.len());
    }

    #[test]
    fn dedicated_addresses_decode_to_their_class() {
        for class in SmtpClass::ALL {
            for i in 0..500u64 {
                let h = crate::hash::stable_hash_u64(1, class.as_str(), i);
                let a = dedicated_addr(*class, h);
                assert_eq!(classify(a), AddrKind::Dedicated(*class), "{a}");
                assert!(a.octets()[1] >= DEDICATED_FIRST_OCTET);
            }
        }
    }

    #[test]
    fn plan_table() {
        let cases = [
            (Ipv4Addr::new(127, 0, 0, 1), AddrKind::Unassigned),
            (
                Ipv4Addr::new(127, 1, 0, 1),
                AddrKind::Shared {
                    provider: 0,
                    host: 1,
                },
            ),
            (Ipv4Addr::new(127, 2, 9, 9), AddrKind::HttpsReset),
            (Ipv4Addr::new(127, 3, 9, 9), AddrKind::Https),
            (Ipv4Addr::new(127, 4, 0, 1), AddrKind::Aia),
            (Ipv4Addr::new(127, 5, 9, 9), AddrKind::Unassigned),
            (
                Ipv4Addr::new(127, 8, 1, 1),
                AddrKind::Dedicated(SmtpClass::StarttlsValid),
            ),
            (
                Ipv4Addr::new(127, 252, 1, 1),
                AddrKind::Dedicated(SmtpClass::AiaIncompleteChain),
            ),
            (
                Ipv4Addr::new(127, 254, 1, 1),
                AddrKind::Dedicated(SmtpClass::AiaLoop),
            ),
            (Ipv4Addr::new(127, 255, 1, 1), AddrKind::Unassigned),
            (Ipv4Addr::new(10, 8, 1, 1), AddrKind::Unassigned),
        ];
        for (addr, kind) in cases {
            assert_eq!(classify(addr), kind, "{addr}");
        }
    }

    #[test]
    fn private_addresses_are_private() {
        for i in 0..1000u64 {
            let a = private_addr(crate::hash::stable_hash_u64(3, "p", i));
            assert!(a.is_private(), "{a}");
            assert!(!is_served(a));
        }
    }
}
