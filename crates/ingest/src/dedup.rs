//! The duplicate filter: the one part of ingest whose memory grows with the list.
//!
//! It stores a 64-bit hash per distinct name, not the name: a table of `u64` at most 7/8 full
//! plus one control byte per slot, i.e. about 9–18 bytes per name depending on where the
//! table is in its growth cycle (≈ 16 MB for 1M names, ≈ 1.6 GB for a 100M-name zone file —
//! shard such lists with `--shard`, which divides this by N because only the shard's names
//! are stored).
//!
//! Trade-off: two distinct names with the same hash make the second one a false
//! "duplicate", dropped from the survey. With n names the chance that this happens at all is
//! about n²/2⁶⁵: 3·10⁻⁸ for 1M names, 3·10⁻⁴ for 100M. The hash is SipHash-1-3 with keys
//! drawn at random for each run (std's `RandomState`), so a collision is neither reproducible
//! nor something a crafted list can aim for.

use std::collections::HashSet;
use std::hash::{BuildHasher, BuildHasherDefault, Hasher, RandomState};

/// The set of names seen so far, as 64-bit keyed hashes.
#[derive(Debug, Default)]
pub struct SeenSet {
    keys: RandomState,
    seen: HashSet<u64, BuildHasherDefault<PassThrough>>,
}

impl SeenSet {
    /// An empty set with fresh random keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Record `name`; true if it was not seen before (keep it), false for a duplicate.
    pub fn insert(&mut self, name: &str) -> bool {
        let h = self.keys.hash_one(name);
        self.seen.insert(h)
    }

    /// Number of distinct names recorded.
    pub fn len(&self) -> usize {
        self.seen.len()
    }

    /// True if nothing was recorded yet.
    pub fn is_empty(&self) -> bool {
        self.seen.is_empty()
    }

    /// Approximate heap bytes used by the table (capacity × 9 bytes).
    pub fn approx_heap_bytes(&self) -> usize {
        self.seen.capacity() * (std::mem::size_of::<u64>() + 1)
    }
}

/// The set's keys are already well-mixed hashes: use them as the table hash unchanged.
#[derive(Debug, Default, Clone, Copy)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only `write_u64` is used by `HashSet<u64>`; fold anything else in FNV-style.
        for &b in bytes {
            self.0 = (self.0 ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_insert_wins() {
        let mut s = SeenSet::new();
        assert!(s.is_empty());
        assert!(s.insert("a.example"));
        assert!(!s.insert("a.example"));
        assert!(s.insert("b.example"));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn memory_is_about_16_bytes_per_name() {
        let mut s = SeenSet::new();
        for i in 0..100_000 {
            assert!(s.insert(&format!("d{i}.example")));
        }
        let per_name = s.approx_heap_bytes() / s.len();
        assert!((9..=24).contains(&per_name), "{per_name} bytes/name");
    }
}
