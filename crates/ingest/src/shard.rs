//! Sharding: split one domain list across N scanner runs (`--shard K/N`).
//!
//! A name's shard depends only on its normalised bytes and N, through a hash that is fixed by
//! this crate (not `std`'s `DefaultHasher`, whose algorithm may change between Rust releases):
//!
//! 1. FNV-1a 64 over the bytes (offset basis `0xcbf29ce484222325`, prime `0x100000001b3`);
//! 2. the MurmurHash3 `fmix64` finaliser, so that every output bit depends on every input bit
//!    (plain FNV-1a's lowest bit is just the parity of the bytes' lowest bits);
//! 3. Lemire's multiply-shift range reduction: `(h as u128 * n as u128) >> 64`.
//!
//! The result is the same on every platform and in every version of mxscan (a golden test
//! pins it). Since every name has exactly one value of `shard_of(name, n)` in `0..n`, the
//! shards `1/N`, …, `N/N` partition any list exactly: each name is in exactly one shard, and
//! duplicates of a name land in the same shard, so per-shard de-duplication is global too.

use std::fmt;
use std::str::FromStr;

use crate::error::{IngestError, cap_text};

/// The shard (0-based, in `0..n`) that `domain` belongs to when the list is split `n` ways.
///
/// Hashes the bytes as given: pass the normalised name ([`crate::Entry::domain`]). `n == 0`
/// is treated as `n == 1` (everything in shard 0).
pub fn shard_of(domain: &str, n: u32) -> u32 {
    let n = u64::from(n.max(1));
    let h = fmix64(fnv1a64(domain.as_bytes()));
    ((u128::from(h) * u128::from(n)) >> 64) as u32
}

fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn fmix64(mut k: u64) -> u64 {
    k ^= k >> 33;
    k = k.wrapping_mul(0xff51_afd7_ed55_8ccd);
    k ^= k >> 33;
    k = k.wrapping_mul(0xc4ce_b9fe_1a85_ec53);
    k ^= k >> 33;
    k
}

/// One shard of a list split N ways, as given on the command line: `K/N`, 1-based,
/// `1 <= K <= N`. `Display` gives `K/N` back.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// Shard `index` (1-based) of `count`.
    pub fn new(index: u32, count: u32) -> Result<Self, IngestError> {
        let spec = || format!("{index}/{count}");
        if count == 0 {
            return Err(IngestError::InvalidShard {
                spec: spec(),
                why: "N must be at least 1",
            });
        }
        if index == 0 || index > count {
            return Err(IngestError::InvalidShard {
                spec: spec(),
                why: "K must be between 1 and N",
            });
        }
        Ok(Self { index, count })
    }

    /// K, the 1-based shard number.
    pub fn index(&self) -> u32 {
        self.index
    }

    /// N, the number of shards.
    pub fn count(&self) -> u32 {
        self.count
    }

    /// True if the normalised `domain` belongs to this shard:
    /// `shard_of(domain, N) == K - 1`.
    pub fn contains(&self, domain: &str) -> bool {
        shard_of(domain, self.count) == self.index - 1
    }
}

impl FromStr for Shard {
    type Err = IngestError;

    /// Parse `K/N` (surrounding whitespace allowed), e.g. `2/8`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = |why| IngestError::InvalidShard {
            spec: cap_text(s),
            why,
        };
        let (k, n) = s.trim().split_once('/').ok_or_else(|| bad("missing '/'"))?;
        let parse = |t: &str, what| -> Result<u32, IngestError> {
            let t = t.trim();
            if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
                return Err(bad(what));
            }
            t.parse().map_err(|_| bad("number too large"))
        };
        let k = parse(k, "K is not a positive integer")?;
        let n = parse(n, "N is not a positive integer")?;
        Self::new(k, n).map_err(|e| match e {
            IngestError::InvalidShard { why, .. } => bad(why),
            other => other,
        })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn golden_values_never_change() {
        // If this test fails, shard assignment changed: old and new runs of a sharded survey
        // would no longer partition the list. Do not update the values; fix the hash.
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let got: Vec<u32> = ["example.com", "google.com", "xn--bcher-kva.example", "a.b"]
            .iter()
            .map(|d| shard_of(d, 1000))
            .collect();
        assert_eq!(got, GOLDEN);
    }
    /// Computed independently (Python) from the documented algorithm.
    const GOLDEN: [u32; 4] = [584, 998, 184, 595];

    #[test]
    fn shards_are_in_range_and_balanced() {
        for n in [1u32, 2, 3, 7, 16, 1000] {
            let mut counts = vec![0u32; n as usize];
            for i in 0..20_000 {
                let s = shard_of(&format!("d{i}.example"), n);
                assert!(s < n);
                counts[s as usize] += 1;
            }
            if n <= 16 {
                let mean = 20_000 / n;
                for c in &counts {
                    assert!(c.abs_diff(mean) < mean / 5 + 50, "n={n} counts={counts:?}");
                }
            }
        }
        assert_eq!(shard_of("example.com", 0), 0);
    }

    #[test]
    fn parse_valid_specs() {
        for (s, k, n) in [
            ("1/1", 1, 1),
            ("2/8", 2, 8),
            (" 8/8 ", 8, 8),
            ("03/10", 3, 10),
        ] {
            let sh: Shard = s.parse().unwrap();
            assert_eq!((sh.index(), sh.count()), (k, n), "{s}");
        }
        assert_eq!("2/8".parse::<Shard>().unwrap().to_string(), "2/8");
    }

    #[test]
    fn parse_invalid_specs_with_clear_reasons() {
        let cases = [
            ("", "missing '/'"),
            ("3", "missing '/'"),
            ("a/4", "K is not a positive integer"),
            ("-1/4", "K is not a positive integer"),
            ("1/", "N is not a positive integer"),
            ("1/4/5", "N is not a positive integer"),
            ("0/4", "K must be between 1 and N"),
            ("5/4", "K must be between 1 and N"),
            ("1/0", "N must be at least 1"),
            ("1/99999999999", "number too large"),
        ];
        for (s, want) in cases {
            match s.parse::<Shard>() {
                Err(IngestError::InvalidShard { why, spec }) => {
                    assert_eq!(why, want, "{s:?}");
                    assert_eq!(spec, s);
                }
                other => panic!("{s:?}: {other:?}"),
            }
        }
        let msg = "0/4".parse::<Shard>().unwrap_err().to_string();
        assert!(msg.contains("\"0/4\"") && msg.contains("K must be between 1 and N"));
    }

    #[test]
    fn shards_partition_names() {
        for i in 0..2_000 {
            let d = format!("n{i}.example");
            let n = 1 + (i % 9) as u32;
            let hits = (1..=n)
                .filter(|k| Shard::new(*k, n).unwrap().contains(&d))
                .count();
            assert_eq!(hits, 1, "{d} n={n}");
        }
    }
}
