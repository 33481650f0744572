//! The AIA caIssuers hosts of the world (RFC 5280 §4.2.2.1): where the leaves of the
//! `aia_*` SMTP host classes say their issuer can be fetched, and what the plain-HTTP AIA
//! server (`aia_server`) answers there.
//!
//! Four names in the testbed's own zone, each on an address of its own in `127.4.0.0/24`
//! (so the connection log counts fetches per URL by address):
//!
//! | name | address | path | what is served |
//! |---|---|---|---|
//! | `aia.testbed.test` | 127.4.0.1 | `/intermediate.der` | the testbed intermediate (DER, `application/pkix-cert`) |
//! | `aia-tarpit.testbed.test` | 127.4.0.2 | `/intermediate.der` | nothing: the connection is accepted and never answered |
//! | `aia-loop-a.testbed.test` | 127.4.0.3 | `/loop-a.der` | loop CA A (issued by B; its AIA points at B) |
//! | `aia-loop-b.testbed.test` | 127.4.0.4 | `/loop-b.der` | loop CA B (issued by A; its AIA points at A) |
//!
//! The URLs name no port: a scanner fetches them on its HTTP port (`mxscan scan
//! --http-port`, the testbed's AIA port in tests; 80 otherwise). Any other path on an AIA
//! address is a 404; any other address is reset.

use std::net::Ipv4Addr;

/// Second octet of the AIA hosts.
pub const AIA_OCTET: u8 = 4;
/// The zone the AIA names live in.
pub const AIA_ZONE: &str = "testbed.test";

/// One AIA host of the world.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AiaHost {
    /// Serves the testbed intermediate.
    Intermediate,
    /// Accepts and never answers.
    Tarpit,
    /// Serves loop CA A.
    LoopA,
    /// Serves loop CA B.
    LoopB,
}

impl AiaHost {
    /// Every AIA host.
    pub const ALL: &'static [AiaHost] = &[
        AiaHost::Intermediate,
        AiaHost::Tarpit,
        AiaHost::LoopA,
        AiaHost::LoopB,
    ];

    /// The host name in the world's DNS.
    pub const fn name(self) -> &'static str {
        match self {
            AiaHost::Intermediate => "aia.testbed.test",
            AiaHost::Tarpit => "aia-tarpit.testbed.test",
            AiaHost::LoopA => "aia-loop-a.testbed.test",
            AiaHost::LoopB => "aia-loop-b.testbed.test",
        }
    }

    /// Its address.
    pub const fn addr(self) -> Ipv4Addr {
        let d = match self {
            AiaHost::Intermediate => 1,
            AiaHost::Tarpit => 2,
            AiaHost::LoopA => 3,
            AiaHost::LoopB => 4,
        };
        Ipv4Addr::new(127, AIA_OCTET, 0, d)
    }

    /// The path of the certificate it serves.
    pub const fn path(self) -> &'static str {
        match self {
            AiaHost::Intermediate | AiaHost::Tarpit => "/intermediate.der",
            AiaHost::LoopA => "/loop-a.der",
            AiaHost::LoopB => "/loop-b.der",
        }
    }

    /// The caIssuers URL that points here (no port: the scanner's HTTP port).
    pub fn url(self) -> String {
        format!("http://{}{}", self.name(), self.path())
    }

    /// The AIA host named `name` (lowercase, no trailing dot).
    pub fn by_name(name: &str) -> Option<AiaHost> {
        AiaHost::ALL.iter().copied().find(|h| h.name() == name)
    }

    /// The AIA host at `addr`.
    pub fn by_addr(addr: Ipv4Addr) -> Option<AiaHost> {
        AiaHost::ALL.iter().copied().find(|h| h.addr() == addr)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_addresses_are_distinct_and_round_trip() {
        for h in AiaHost::ALL {
            assert_eq!(AiaHost::by_name(h.name()), Some(*h));
            assert_eq!(AiaHost::by_addr(h.addr()), Some(*h));
            assert!(h.name().ends_with(AIA_ZONE));
            assert!(h.url().starts_with("http://"));
        }
        assert_eq!(AiaHost::by_name("testbed.test"), None);
        assert_eq!(AiaHost::by_addr(Ipv4Addr::new(127, AIA_OCTET, 0, 9)), None);
    }

    #[test]
    fn the_world_dns_answers_the_aia_names() {
        use crate::world::{QType, World, WorldConfig};
        let w = World::new(WorldConfig::default());
        for h in AiaHost::ALL {
            assert_eq!(w.query(h.name(), QType::A).addresses(), vec![h.addr()]);
            assert_eq!(crate::addr::classify(h.addr()), crate::addr::AddrKind::Aia);
        }
    }
}
