//! [`DeviationSet`]: collects deviations in any order while parsing, yields the canonical list.

use crate::Deviation;

/// A set of deviations that collects in any order and yields a canonical list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct DeviationSet {
    bits: u64,
}

impl DeviationSet {
    pub(crate) fn insert(&mut self, d: Deviation) {
        self.bits |= 1 << (d as u32);
    }

    pub(crate) fn contains(&self, d: Deviation) -> bool {
        self.bits & (1 << (d as u32)) != 0
    }

    pub(crate) fn to_vec(&self) -> Vec<Deviation> {
        Deviation::ALL
            .iter()
            .copied()
            .filter(|d| self.contains(*d))
            .collect()
    }
}

// The bit set above needs every discriminant below 64.
const _: () = assert!(Deviation::ALL.len() <= 64);
