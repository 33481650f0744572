//! Which addresses the scanner may contact: CIDR sets for IPv4 and IPv6.
//!
//! Three sources, with this precedence (first rule that applies wins):
//!
//! 1. **User blocklist** (`--blocklist FILE`, [`Blocklist::block`]): always blocked. No
//!    allow-list entry and no `--allow-private` lifts a user entry — an operator's opt-out
//!    list is absolute.
//! 2. **Allow-list** (`--allow CIDR`, [`Blocklist::allow`]) and `--allow-private`
//!    ([`Blocklist::allow_private`]): lift the *default* ranges for the addresses they cover,
//!    and only those. `--allow 127.0.0.0/8` makes loopback dialable while 10.1.2.3 stays
//!    blocked; `--allow-private` lifts every default range. An allow entry that covers a
//!    public address changes nothing (public addresses are allowed anyway).
//! 3. **Default ranges**: every reserved / special-purpose range of the IANA IPv4 and IPv6
//!    Special-Purpose Address Registries (RFC 6890 and successors): "this network", RFC 1918,
//!    CGNAT, loopback, link-local, documentation, benchmarking, multicast, reserved, ULA, …
//!    ([`DEFAULT_V4`], [`DEFAULT_V6`]).
//! 4. Everything else is allowed.
//!
//! Addresses that embed an IPv4 address are judged by that IPv4 address as well:
//! IPv4-mapped `::ffff:a.b.c.d` (RFC 4291 §2.5.5.2) and the NAT64 well-known prefix
//! `64:ff9b::a.b.c.d` (RFC 6052 §2.1) are judged *only* by the embedded address (a mapped
//! address is an IPv4 destination on the wire); 6to4 `2002:aabb:ccdd::/48` (RFC 3056 §2) is
//! blocked when its embedded address is. A user entry for an IPv4 range therefore also blocks
//! the mapped and NAT64 forms of those addresses.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::Path;

use ipnet::{IpNet, Ipv4Net, Ipv6Net};

use crate::error::Error;

/// Default blocked IPv4 ranges with their registry names (IANA IPv4 Special-Purpose Address
/// Registry, RFC 6890 §2.2.2, plus multicast RFC 5771 and reserved RFC 1112 §4).
pub const DEFAULT_V4: &[(&str, &str)] = &[
    ("0.0.0.0/8", "this_network"),
    ("10.0.0.0/8", "private_use"),
    ("100.64.0.0/10", "shared_address_space"),
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link_local"),
    ("172.16.0.0/12", "private_use"),
    ("192.0.0.0/24", "ietf_protocol_assignments"),
    ("192.0.2.0/24", "documentation"),
    ("192.88.99.0/24", "6to4_relay_anycast"),
    ("192.168.0.0/16", "private_use"),
    ("198.18.0.0/15", "benchmarking"),
    ("198.51.100.0/24", "documentation"),
    ("203.0.113.0/24", "documentation"),
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),
    ("255.255.255.255/32", "limited_broadcast"),
];

/// Default blocked IPv6 ranges with their registry names (IANA IPv6 Special-Purpose Address
/// Registry, RFC 6890 §2.2.3 and successors). `::ffff:0:0/96` and `64:ff9b::/96` are not
/// listed: they are judged by their embedded IPv4 address (see the module docs).
/// More specific entries come first so that the reported label is the most precise one.
pub const DEFAULT_V6: &[(&str, &str)] = &[
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/96", "ipv4_compatible_deprecated"),
    ("64:ff9b:1::/48", "nat64_local_use"),
    ("100::/64", "discard_only"),
    ("100:0:0:1::/64", "dummy_prefix"),
    ("2001:db8::/32", "documentation"),
    ("2001::/23", "ietf_protocol_assignments"),
    ("3fff::/20", "documentation"),
    ("5f00::/16", "srv6_sids"),
    ("fc00::/7", "unique_local"),
    ("fe80::/10", "link_local"),
    ("fec0::/10", "site_local_deprecated"),
    ("ff00::/8", "multicast"),
];

/// Why an address is blocked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockReason {
    /// In a default reserved / special-purpose range, not lifted by the allow-list.
    Reserved {
        /// The range, e.g. `10.0.0.0/8`.
        range: IpNet,
        /// Its registry name, e.g. `private_use`.
        label: &'static str,
    },
    /// In a range of the user blocklist.
    User {
        /// The (normalised) entry.
        range: IpNet,
    },
}

impl BlockReason {
    /// Short snake_case description: the default range's label, or `user_blocklist`.
    pub fn as_str(&self) -> &'static str {
        match self {
            BlockReason::Reserved { label, .. } => label,
            BlockReason::User { .. } => "user_blocklist",
        }
    }
}

/// The verdict for one address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BlockVerdict {
    /// May be contacted.
    Allowed,
    /// Must never be contacted.
    Blocked(BlockReason),
}

impl BlockVerdict {
    /// True for [`BlockVerdict::Blocked`].
    pub fn is_blocked(&self) -> bool {
        matches!(self, BlockVerdict::Blocked(_))
    }
}

/// A compiled blocklist: default ranges + user entries − allow-list. Cheap to query; build
/// it once and share it (`Arc`).
#[derive(Debug, Clone)]
pub struct Blocklist {
    default_v4: Vec<(Ipv4Net, &'static str)>,
    default_v6: Vec<(Ipv6Net, &'static str)>,
    user: Vec<IpNet>,
    allow: Vec<IpNet>,
    allow_private: bool,
}

impl Default for Blocklist {
    fn default() -> Self {
        Self::new()
    }
}

impl Blocklist {
    /// The default ranges only: every reserved / special-purpose range blocked.
    pub fn new() -> Self {
        let default_v4 = DEFAULT_V4
            .iter()
            .map(|(cidr, label)| (cidr.parse().expect("static CIDR"), *label))
            .collect();
        let default_v6 = DEFAULT_V6
            .iter()
            .map(|(cidr, label)| (cidr.parse().expect("static CIDR"), *label))
            .collect();
        Self {
            default_v4,
            default_v6,
            user: Vec::new(),
            allow: Vec::new(),
            allow_private: false,
        }
    }

    /// An empty blocklist that allows everything, including loopback and private ranges.
    /// Only for tests of components other than the blocklist.
    pub fn allow_all() -> Self {
        Self::new().allow_private(true)
    }

    /// Adds a user blocklist entry (always blocked; see the precedence in the module docs).
    pub fn block(mut self, net: IpNet) -> Self {
        self.user.push(net.trunc());
        self
    }

    /// Adds an allow-list entry: lifts the default ranges for the addresses it covers.
    pub fn allow(mut self, net: IpNet) -> Self {
        self.allow.push(net.trunc());
        self
    }

    /// `--allow-private`: lift every default range (user entries stay blocked).
    pub fn allow_private(mut self, yes: bool) -> Self {
        self.allow_private = yes;
        self
    }

    /// Adds the user entries of a blocklist text (see [`parse_cidr_list`]).
    pub fn block_text(mut self, text: &str, origin: &str) -> Result<Self, Error> {
        self.user.extend(parse_cidr_list(text, origin)?);
        Ok(self)
    }

    /// Reads a `--blocklist FILE`: one CIDR or address per line, `#` comments.
    pub fn block_file(self, path: &Path) -> Result<Self, Error> {
        let text = std::fs::read_to_string(path).map_err(|source| Error::Io {
            path: path.to_path_buf(),
            source,
        })?;
        self.block_text(&text, &path.display().to_string())
    }

    /// Adds an `--allow` value (CIDR or single address).
    pub fn allow_str(self, value: &str) -> Result<Self, Error> {
        let net = parse_cidr(value).map_err(|reason| Error::BadCidrLine {
            origin: "--allow".into(),
            line: 1,
            text: value.trim().into(),
            reason,
        })?;
        Ok(self.allow(net))
    }

    /// The verdict for `ip` under the precedence of the module docs.
    pub fn check(&self, ip: IpAddr) -> BlockVerdict {
        match ip {
            IpAddr::V4(v4) => self.check_v4(v4),
            IpAddr::V6(v6) => self.check_v6(v6),
        }
    }

    /// Shorthand for `check(ip).is_blocked()`.
    pub fn is_blocked(&self, ip: IpAddr) -> bool {
        self.check(ip).is_blocked()
    }

    fn user_hit(&self, ip: IpAddr) -> Option<BlockVerdict> {
        self.user
            .iter()
            .find(|net| net.contains(&ip))
            .map(|net| BlockVerdict::Blocked(BlockReason::User { range: *net }))
    }

    fn allowed_by_list(&self, ip: IpAddr) -> bool {
        self.allow_private || self.allow.iter().any(|net| net.contains(&ip))
    }

    fn check_v4(&self, ip: Ipv4Addr) -> BlockVerdict {
        if let Some(v) = self.user_hit(IpAddr::V4(ip)) {
            return v;
        }
        if self.allowed_by_list(IpAddr::V4(ip)) {
            return BlockVerdict::Allowed;
        }
        match self.default_v4.iter().find(|(net, _)| net.contains(&ip)) {
            Some((net, label)) => BlockVerdict::Blocked(BlockReason::Reserved {
                range: IpNet::V4(*net),
                label,
            }),
            None => BlockVerdict::Allowed,
        }
    }

    fn check_v6(&self, ip: Ipv6Addr) -> BlockVerdict {
        // IPv4-mapped and NAT64 well-known prefix: judged by the embedded IPv4 address only.
        if let Some(v4) = embedded_v4_exclusive(ip) {
            // A user entry written for the IPv6 form still applies.
            if let Some(v) = self.user_hit(IpAddr::V6(ip)) {
                return v;
            }
            return self.check_v4(v4);
        }
        if let Some(v) = self.user_hit(IpAddr::V6(ip)) {
            return v;
        }
        // 6to4: blocked when the embedded IPv4 address is (RFC 3056 §2).
        if let Some(v4) = sixtofour_v4(ip)
            && let BlockVerdict::Blocked(reason) = self.check_v4(v4)
        {
            return BlockVerdict::Blocked(reason);
        }
        if self.allowed_by_list(IpAddr::V6(ip)) {
            return BlockVerdict::Allowed;
        }
        match self.default_v6.iter().find(|(net, _)| net.contains(&ip)) {
            Some((net, label)) => BlockVerdict::Blocked(BlockReason::Reserved {
                range: IpNet::V6(*net),
                label,
            }),
            None => BlockVerdict::Allowed,
        }
    }
}

/// The IPv4 address embedded in an IPv4-mapped (`::ffff:0:0/96`) or NAT64 well-known-prefix
/// (`64:ff9b::/96`) address.
fn embedded_v4_exclusive(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    let tail = Ipv4Addr::new(
        (s[6] >> 8) as u8,
        (s[6] & 0xff) as u8,
        (s[7] >> 8) as u8,
        (s[7] & 0xff) as u8,
    );
    if s[..5] == [0, 0, 0, 0, 0] && s[5] == 0xffff {
        return Some(tail);
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return Some(tail);
    }
    None
}

/// The IPv4 address embedded in a 6to4 address (`2002:V4ADDR::/48`).
fn sixtofour_v4(ip: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = ip.segments();
    (s[0] == 0x2002).then(|| {
        Ipv4Addr::new(
            (s[1] >> 8) as u8,
            (s[1] & 0xff) as u8,
            (s[2] >> 8) as u8,
            (s[2] & 0xff) as u8,
        )
    })
}

/// Parses a CIDR (`10.0.0.0/8`, `2001:db8::/32`) or a single address (a /32 or /128).
/// Host bits are cleared (`10.1.2.3/8` is `10.0.0.0/8`).
pub fn parse_cidr(text: &str) -> Result<IpNet, String> {
    let text = text.trim();
    if text.is_empty() {
        return Err("empty".into());
    }
    if text.contains('/') {
        text.parse::<IpNet>()
            .map(|n| n.trunc())
            .map_err(|e| e.to_string())
    } else {
        text.parse::<IpAddr>()
            .map(IpNet::from)
            .map_err(|e| e.to_string())
    }
}

/// Parses a blocklist text: one CIDR or address per line; `#` starts a comment (whole line
/// or trailing); blank lines are ignored. The first bad line is an error naming `origin`
/// and its 1-based line number.
pub fn parse_cidr_list(text: &str, origin: &str) -> Result<Vec<IpNet>, Error> {
    let mut out = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or("").trim();
        if line.is_empty() {
            continue;
        }
        let net = parse_cidr(line).map_err(|reason| Error::BadCidrLine {
            origin: origin.to_string(),
            line: i + 1,
            text: line.to_string(),
            reason,
        })?;
        out.push(net);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn default_ranges_table() {
        let bl = Blocklist::new();
        let cases: &[(&str, Option<&str>)] = &[
            ("0.1.2.3", Some("this_network")),
            ("10.1.2.3", Some("private_use")),
            ("100.64.0.1", Some("shared_address_space")),
            ("100.128.0.1", None),
            ("127.0.0.1", Some("loopback")),
            ("127.255.255.254", Some("loopback")),
            ("169.254.169.254", Some("link_local")),
            ("172.16.0.1", Some("private_use")),
            ("172.31.255.255", Some("private_use")),
            ("172.32.0.1", None),
            ("192.0.0.8", Some("ietf_protocol_assignments")),
            ("192.0.2.1", Some("documentation")),
            ("192.88.99.1", Some("6to4_relay_anycast")),
            ("192.168.1.1", Some("private_use")),
            ("198.18.0.1", Some("benchmarking")),
            ("198.19.255.255", Some("benchmarking")),
            ("198.51.100.7", Some("documentation")),
            ("203.0.113.9", Some("documentation")),
            ("224.0.0.1", Some("multicast")),
            ("239.255.255.255", Some("multicast")),
            ("240.0.0.1", Some("reserved")),
            ("255.255.255.255", Some("reserved")),
            ("8.8.8.8", None),
            ("1.1.1.1", None),
            ("193.0.0.1", None),
            ("::", Some("unspecified")),
            ("::1", Some("loopback")),
            ("::8.8.8.8", Some("ipv4_compatible_deprecated")),
            ("::ffff:10.0.0.1", Some("private_use")),
            ("::ffff:127.0.0.1", Some("loopback")),
            ("::ffff:8.8.8.8", None),
            ("64:ff9b::10.0.0.1", Some("private_use")),
            ("64:ff9b::8.8.8.8", None),
            ("64:ff9b:1::1", Some("nat64_local_use")),
            ("100::1", Some("discard_only")),
            ("2001::1", Some("ietf_protocol_assignments")),
            ("2001:db8::25", Some("documentation")),
            ("2002:0a00:0001::1", Some("private_use")),
            ("2002:0808:0808::1", None),
            ("3fff::1", Some("documentation")),
            ("fc00::1", Some("unique_local")),
            ("fd12:3456::1", Some("unique_local")),
            ("fe80::1", Some("link_local")),
            ("fec0::1", Some("site_local_deprecated")),
            ("ff02::1", Some("multicast")),
            ("2a00:1450:4001::1", None),
            ("2606:4700::1111", None),
        ];
        for (addr, want) in cases {
            let got = match bl.check(ip(addr)) {
                BlockVerdict::Allowed => None,
                BlockVerdict::Blocked(r) => Some(r.as_str()),
            };
            // 255.255.255.255 lies in 240/4 too; the first (less specific) match is fine.
            assert_eq!(got, *want, "{addr}");
        }
    }

    #[test]
    fn allow_loopback_lifts_only_loopback() {
        let bl = Blocklist::new().allow_str("127.0.0.0/8").unwrap();
        let cases = [
            ("127.0.0.1", false),
            ("127.3.4.5", false),
            ("::ffff:127.0.0.1", false),
            ("10.1.2.3", true),
            ("192.168.0.1", true),
            ("172.16.0.1", true),
            ("::1", true),
            ("8.8.8.8", false),
        ];
        for (addr, blocked) in cases {
            assert_eq!(bl.is_blocked(ip(addr)), blocked, "{addr}");
        }
    }

    #[test]
    fn allow_never_lifts_user_entries() {
        let bl = Blocklist::new()
            .block_text("127.0.0.5\n8.8.8.0/24\n", "f")
            .unwrap()
            .allow_str("127.0.0.0/8")
            .unwrap()
            .allow_str("8.8.8.8")
            .unwrap();
        let cases = [
            ("127.0.0.1", false),
            ("127.0.0.5", true),
            ("8.8.8.8", true),
            ("8.8.4.4", false),
            ("::ffff:8.8.8.8", true),
            ("64:ff9b::808:808", true),
        ];
        for (addr, blocked) in cases {
            assert_eq!(bl.is_blocked(ip(addr)), blocked, "{addr}");
        }
        let all = Blocklist::new()
            .block_text("10.9.0.0/16", "f")
            .unwrap()
            .allow_private(true);
        assert!(!all.is_blocked(ip("10.1.2.3")));
        assert!(!all.is_blocked(ip("fd00::1")));
        assert!(all.is_blocked(ip("10.9.9.9")));
        assert_eq!(
            all.check(ip("10.9.9.9")),
            BlockVerdict::Blocked(BlockReason::User {
                range: "10.9.0.0/16".parse().unwrap()
            })
        );
    }

    #[test]
    fn blocklist_file_syntax() {
        let text = "# operator opt-outs\n\n 192.0.2.0/24 \n8.8.8.8 # one host\n2001:4860::/32\n1.2.3.4/16\n";
        let nets = parse_cidr_list(text, "opt-out.txt").unwrap();
        let want: Vec<IpNet> = ["192.0.2.0/24", "8.8.8.8/32", "2001:4860::/32", "1.2.0.0/16"]
            .iter()
            .map(|s| s.parse().unwrap())
            .collect();
        assert_eq!(nets, want);
    }

    #[test]
    fn bad_lines_name_the_line() {
        let cases = [
            ("1.2.3.4\nnot-an-ip\n", 2),
            ("10.0.0.0/33", 1),
            ("# c\n\n::1/129", 3),
            ("1.2.3.4 5.6.7.8", 1),
        ];
        for (text, line) in cases {
            match parse_cidr_list(text, "bl.txt") {
                Err(Error::BadCidrLine {
                    line: got, origin, ..
                }) => {
                    assert_eq!(got, line, "{text:?}");
                    assert_eq!(origin, "bl.txt");
                }
                other => panic!("{text:?}: {other:?}"),
            }
        }
        let err = Blocklist::new().allow_str("banana").unwrap_err();
        assert!(err.to_string().contains("--allow"), "{err}");
    }

    #[test]
    fn block_file_reads_from_disk() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bl.txt");
        std::fs::write(&path, "93.184.216.0/24\n").unwrap();
        let bl = Blocklist::new().block_file(&path).unwrap();
        assert!(bl.is_blocked(ip("93.184.216.34")));
        assert!(!bl.is_blocked(ip("93.184.217.34")));
        let missing = Blocklist::new().block_file(&dir.path().join("nope"));
        assert!(matches!(missing, Err(Error::Io { .. })));
    }
}
