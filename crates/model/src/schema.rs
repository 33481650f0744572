//! Which column of which table holds which vocabulary: the one list the store's dictionary
//! encoding, the manifest's counts, `summary` and the schema reference (docs/schema.md) are
//! generated from.

use crate::vocabulary::Vocab;
use crate::{
    CertStatus, Coverage, Delivery, DnsStatus, FetchError, Mode, PolicyStatus, ProbeStatus,
    TlsFailure, TxtStatus,
};

/// One status column of the survey schema.
#[derive(Debug, Clone, Copy)]
pub struct StatusColumn {
    /// Table (`domains`, `mx`, `probes`).
    pub table: &'static str,
    /// Column name.
    pub column: &'static str,
    /// The Rust type of its vocabulary.
    pub vocabulary: &'static str,
    /// `(value, meaning)` in canonical order: the position is the Parquet dictionary key.
    pub values: fn() -> Vec<(&'static str, &'static str)>,
}

impl StatusColumn {
    /// `"table.column"`, the key of this column in the manifest's `counts`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

fn values<V: Vocab>() -> Vec<(&'static str, &'static str)> {
    V::all()
        .iter()
        .map(|v| (v.as_str(), v.description()))
        .collect()
}

const fn col<V: Vocab>(table: &'static str, column: &'static str) -> StatusColumn {
    StatusColumn {
        table,
        column,
        vocabulary: V::NAME,
        values: values::<V>,
    }
}

/// Every status column, in table order (domains, mx, probes) and column order.
pub const STATUS_COLUMNS: &[StatusColumn] = &[
    col::<DnsStatus>("domains", "dns_status"),
    col::<Coverage>("domains", "starttls"),
    col::<Coverage>("domains", "cert_valid"),
    col::<TxtStatus>("domains", "sts_record"),
    col::<PolicyStatus>("domains", "sts_policy"),
    col::<FetchError>("domains", "sts_fetch_error"),
    col::<Mode>("domains", "sts_mode"),
    col::<Delivery>("domains", "sts_delivery"),
    col::<TxtStatus>("domains", "tlsrpt_record"),
    col::<ProbeStatus>("mx", "smtp_status"),
    col::<CertStatus>("mx", "cert_status"),
    col::<ProbeStatus>("probes", "status"),
    col::<TlsFailure>("probes", "tls_failure"),
    col::<TlsFailure>("probes", "modern_tls_failure"),
];

/// The status column `table.column`.
pub fn status_column(table: &str, column: &str) -> Option<&'static StatusColumn> {
    STATUS_COLUMNS
        .iter()
        .find(|c| c.table == table && c.column == column)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn vocabularies_are_snake_case_unique_documented_and_fit_int8_keys() {
        for c in STATUS_COLUMNS {
            let values = (c.values)();
            let mut seen = HashSet::new();
            assert!(values.len() <= i8::MAX as usize, "{}", c.key());
            for (v, doc) in values {
                assert!(seen.insert(v), "{}: duplicate {v}", c.key());
                assert!(!doc.trim().is_empty(), "{}: {v} undocumented", c.key());
                assert!(
                    v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{}: {v} is not snake_case",
                    c.key()
                );
            }
        }
    }
}
