//! Synthetic domain lists: realistic-looking names, stable for a seed, and safe to use as
//! ground-truth inputs.
//!
//! [`synthetic_domains`] yields `(rank, name)` pairs (rank from 1) built from two word lists
//! and a TLD mix modelled on the top-million lists (com ≈ 45%, then country codes and
//! the other big gTLDs; `co.uk`, `com.br`, `com.au` and `co.jp` as second-level
//! suffixes). Every name is unique, none starts with a label the world uses for hosts
//! (`mx`, `mail`, `mta-sts`, …), and — the property the ground truth relies on — no two
//! MX names of the list share a dedicated address (a 2 MiB bitset of used addresses; a
//! candidate whose dedicated hosts would collide is skipped). Memory: the bitset plus an
//! 8-byte-per-name dedupe set.
//!
//! Dedicated hosts change address when their class changes at a later epoch (the address
//! encodes the class), so [`synthetic_domains_through`] checks collisions at every epoch from
//! 0 to the last one a list will be served at (one bitset for all of them: an address
//! used at any epoch is taken). At last epoch 0 it is [`synthetic_domains`].

use std::collections::HashSet;

use crate::hash::{AddrBitset, pick_weighted, stable_hash, stable_hash_u64};
use crate::profile::Profile;
use crate::world::{HostTarget, World, WorldConfig, has_host_label};

const FIRST: &[&str] = &[
    "alpha", "amber", "apex", "arc", "atlas", "aurora", "azure", "bay", "beacon", "bear", "berry",
    "birch", "black", "blue", "bold", "bright", "brook", "cafe", "canyon", "cedar", "central",
    "city", "clear", "cloud", "coast", "cobalt", "coral", "core", "cosmo", "crest", "crown",
    "crystal", "cyber", "daily", "delta", "desert", "digital", "dream", "eagle", "east", "echo",
    "eco", "edge", "elm", "ember", "epic", "euro", "fair", "falcon", "fast", "fern", "field",
    "first", "flex", "flower", "forest", "fox", "fresh", "frontier", "future", "galaxy", "garden",
    "gold", "grand", "granite", "green", "grey", "harbor", "hawk", "healthy", "helio", "high",
    "hill", "home", "honey", "horizon", "hyper", "ice", "indigo", "iron", "island", "ivy", "jade",
    "jet", "joy", "key", "kind", "lake", "laser", "leaf", "light", "lime", "lion", "little",
    "local", "lotus", "lucky", "lunar", "magic", "maple", "marine", "mega", "metro", "micro",
    "mid", "milk", "mint", "modern", "moon", "mountain", "native", "nature", "neo", "net", "new",
    "next", "noble", "north", "nova", "oak", "ocean", "olive", "omega", "open", "orange", "orbit",
    "pacific", "palm", "peak", "pearl", "pine", "pixel", "planet", "polar", "prime", "pure",
    "quantum", "quick", "rapid", "red", "river", "rock", "rose", "royal", "ruby", "rural", "sage",
    "sand", "silver", "simple", "sky", "smart", "snow", "solar", "south", "spark", "spring",
    "star", "steel", "stone", "storm", "summit", "sun", "swift", "tech", "terra", "tiger", "top",
    "true", "twin", "ultra", "union", "urban", "valley", "vector", "velvet", "vista", "vital",
    "wave", "west", "white", "wild", "willow", "wind", "wise", "wolf", "wood", "zen",
];

const SECOND: &[&str] = &[
    "academy",
    "agency",
    "apps",
    "art",
    "auto",
    "bank",
    "bikes",
    "books",
    "box",
    "brands",
    "build",
    "cars",
    "care",
    "cart",
    "center",
    "clinic",
    "club",
    "coffee",
    "college",
    "consult",
    "craft",
    "data",
    "deals",
    "design",
    "dental",
    "direct",
    "docs",
    "energy",
    "farm",
    "films",
    "finance",
    "fitness",
    "foods",
    "forge",
    "fund",
    "games",
    "gear",
    "group",
    "guide",
    "health",
    "hosting",
    "hotel",
    "house",
    "hub",
    "info",
    "insure",
    "labs",
    "law",
    "learn",
    "legal",
    "life",
    "line",
    "link",
    "living",
    "logic",
    "loans",
    "market",
    "media",
    "medical",
    "mobile",
    "motors",
    "music",
    "network",
    "news",
    "office",
    "online",
    "partners",
    "pay",
    "pets",
    "photo",
    "plus",
    "point",
    "press",
    "print",
    "pro",
    "properties",
    "radio",
    "realty",
    "rent",
    "repair",
    "research",
    "resorts",
    "school",
    "science",
    "security",
    "service",
    "shop",
    "soft",
    "solutions",
    "space",
    "sport",
    "store",
    "studio",
    "supply",
    "systems",
    "team",
    "technik",
    "tours",
    "toys",
    "trade",
    "travel",
    "tv",
    "verlag",
    "view",
    "vision",
    "ware",
    "web",
    "works",
    "world",
    "zone",
];

/// TLD mix (per 1,000 names), modelled on top-million lists.
const TLDS: &[(&str, u32)] = &[
    ("com", 450),
    ("net", 50),
    ("org", 55),
    ("de", 60),
    ("co.uk", 35),
    ("ru", 45),
    ("com.br", 25),
    ("co.jp", 15),
    ("fr", 25),
    ("nl", 20),
    ("io", 15),
    ("it", 20),
    ("pl", 20),
    ("in", 15),
    ("com.au", 15),
    ("ca", 15),
    ("es", 15),
    ("info", 15),
    ("cn", 15),
    ("eu", 10),
    ("ch", 10),
    ("se", 10),
    ("cz", 10),
    ("co", 10),
    ("us", 10),
    ("app", 5),
    ("dev", 5),
];

/// The TLDs (public suffixes) the generator uses, with their weights per 1,000.
pub fn tld_mix() -> &'static [(&'static str, u32)] {
    TLDS
}

/// The public suffix of the name of rank `rank` (fixed per rank, so that rejected
/// candidates do not skew the TLD mix).
fn suffix(seed: u64, rank: u64) -> &'static str {
    let weights: Vec<u32> = TLDS.iter().map(|(_, w)| *w).collect();
    TLDS[pick_weighted(stable_hash_u64(seed, "tld", rank), &weights)].0
}

/// One candidate first label from a hash.
fn label(h: u64) -> String {
    let w1 = FIRST[(h % FIRST.len() as u64) as usize];
    let w2 = SECOND[((h >> 12) % SECOND.len() as u64) as usize];
    let digits = (h >> 24) % 100;
    let more = (h >> 32) % 1000;
    match (h >> 44) % 100 {
        0..=2 => w1.to_owned(),
        3..=37 => format!("{w1}{w2}"),
        38..=52 => format!("{w1}-{w2}"),
        53..=72 => format!("{w1}{w2}{digits}"),
        73..=79 => format!("{w1}{digits}"),
        80..=89 => format!("{w2}{w1}"),
        _ => format!("{w1}-{w2}{more}"),
    }
}

/// Iterator of synthetic domains (see module docs).
#[derive(Debug)]
pub struct SyntheticDomains {
    world: World,
    count: u64,
    produced: u64,
    counter: u64,
    seen: HashSet<u64>,
    used: AddrBitset,
    last_epoch: u32,
}

impl SyntheticDomains {
    /// The dedicated addresses a domain's MX hosts would use at any epoch from 0 to the
    /// last (empty if none), without repeats; None when two of its hosts share an address
    /// at one epoch.
    fn dedicated_addrs(&self, domain: &str) -> Option<Vec<std::net::Ipv4Addr>> {
        let mut out = Vec::new();
        for e in 0..=self.last_epoch {
            self.world.set_epoch(e);
            let now = self.dedicated_addrs_now(domain);
            for (i, a) in now.iter().enumerate() {
                if now[..i].contains(a) {
                    return None;
                }
                if !out.contains(a) {
                    out.push(*a);
                }
            }
        }
        Some(out)
    }

    /// The dedicated addresses of a domain's MX hosts at the world's current epoch.
    fn dedicated_addrs_now(&self, domain: &str) -> Vec<std::net::Ipv4Addr> {
        let sc = self.world.scenario(domain);
        if sc.dns == crate::scenario::DnsScenario::ImplicitMx {
            return vec![self.world.implicit_host(domain).1];
        }
        self.world
            .mx_plan(domain, &sc)
            .into_iter()
            .filter_map(|m| match m.target {
                HostTarget::Dedicated { addr, .. } | HostTarget::Cname { addr, .. } => Some(addr),
                _ => None,
            })
            .collect()
    }
}

impl Iterator for SyntheticDomains {
    type Item = (u64, String);

    fn next(&mut self) -> Option<(u64, String)> {
        if self.produced >= self.count {
            return None;
        }
        let seed = self.world.seed();
        let tld = suffix(seed, self.produced + 1);
        loop {
            let h = stable_hash_u64(seed, "name", self.counter);
            self.counter += 1;
            let name = format!("{}.{tld}", label(h));
            if has_host_label(&name) {
                continue;
            }
            let key = stable_hash(0, "dedupe", &name);
            if self.seen.contains(&key) {
                continue;
            }
            let Some(addrs) = self.dedicated_addrs(&name) else {
                continue; // two of its own hosts share an address
            };
            if addrs.iter().any(|a| self.used.contains(*a)) {
                continue;
            }
            for a in addrs {
                self.used.insert(a);
            }
            self.seen.insert(key);
            self.produced += 1;
            return Some((self.produced, name));
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = (self.count - self.produced) as usize;
        (left, Some(left))
    }
}

/// `count` synthetic domains for `seed` and `profile`: unique, stable, free of dedicated
/// address collisions in the world of the same seed and profile.
pub fn synthetic_domains(seed: u64, count: u64, profile: Profile) -> SyntheticDomains {
    synthetic_domains_through(seed, count, profile, 0)
}

/// [`synthetic_domains`] whose truth stays unambiguous at every epoch from 0 to
/// `last_epoch` (see module docs): the list to scan a world through time with.
pub fn synthetic_domains_through(
    seed: u64,
    count: u64,
    profile: Profile,
    last_epoch: u32,
) -> SyntheticDomains {
    SyntheticDomains {
        world: World::new(WorldConfig {
            seed,
            profile,
            ..WorldConfig::default()
        }),
        count,
        produced: 0,
        counter: 0,
        seen: HashSet::with_capacity(count.min(1 << 24) as usize),
        used: AddrBitset::new(),
        last_epoch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn candidates_look_like_domains() {
        for i in 0..1000 {
            let name = format!("{}.{}", label(stable_hash_u64(1, "name", i)), suffix(1, i));
            assert!(name.contains('.'));
            assert!(crate::sts::is_valid_pattern(&name), "{name}");
            assert_eq!(name, name.to_ascii_lowercase());
        }
    }

    #[test]
    fn ranks_are_consecutive() {
        let v: Vec<_> = synthetic_domains(3, 100, Profile::Realistic).collect();
        assert_eq!(v.len(), 100);
        for (i, (rank, _)) in v.iter().enumerate() {
            assert_eq!(*rank, i as u64 + 1);
        }
    }
}
