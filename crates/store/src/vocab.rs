//! Closed vocabularies of the status columns (SCHEMA.md "status vocabularies are fixed").
//!
//! Each status column's vocabulary is a `pub const` [`Vocabulary`] in its table module
//! (`domains::DNS_STATUS`, `probes::STATUS`, …), value by value with a one-line meaning, so
//! user documentation can be generated from the code ([`all`] lists them). Adding a value is a
//! schema change: add it here together with its documentation.

use crate::error::{Result, StoreError};

/// One closed vocabulary: the values a status column may hold, each with its meaning.
#[derive(Debug, Clone, Copy)]
pub struct Vocabulary {
    /// Table the column belongs to (`domains`, `mx`, `probes`, `certs`).
    pub table: &'static str,
    /// Column name.
    pub column: &'static str,
    /// `(value, meaning)` pairs in documentation order; the position is the dictionary key.
    pub values: &'static [(&'static str, &'static str)],
}

impl Vocabulary {
    /// The value as the `'static` string of the vocabulary, or `None` when it is not part of it.
    pub fn get(&self, value: &str) -> Option<&'static str> {
        self.values
            .iter()
            .find(|(v, _)| *v == value)
            .map(|(v, _)| *v)
    }

    /// Position of `value` in the vocabulary (its dictionary key).
    pub fn index(&self, value: &str) -> Option<usize> {
        self.values.iter().position(|(v, _)| *v == value)
    }

    /// Whether `value` belongs to the vocabulary.
    pub fn contains(&self, value: &str) -> bool {
        self.index(value).is_some()
    }

    /// `Ok(value)` when it belongs to the vocabulary, else a [`StoreError::Vocabulary`].
    pub fn check(&self, value: &str) -> Result<&'static str> {
        self.get(value).ok_or_else(|| StoreError::Vocabulary {
            table: self.table,
            column: self.column,
            value: value.to_owned(),
        })
    }

    /// The values alone, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(v, _)| *v)
    }

    /// `"table.column"`, the key used for this column in the manifest's `counts`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }
}

/// Every vocabulary of every table, in table order.
pub fn all() -> Vec<&'static Vocabulary> {
    let mut v: Vec<&'static Vocabulary> = Vec::new();
    v.extend(crate::domains::VOCABULARIES.iter().copied());
    v.extend(crate::mx::VOCABULARIES.iter().copied());
    v.extend(crate::probes::VOCABULARIES.iter().copied());
    v
}

/// Markdown reference of every vocabulary (one table per status column), for user docs.
pub fn markdown() -> String {
    let mut out = String::new();
    for voc in all() {
        out.push_str(&format!(
            "### `{}`\n\n| value | meaning |\n|---|---|\n",
            voc.key()
        ));
        for (v, doc) in voc.values {
            out.push_str(&format!("| `{v}` | {doc} |\n"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn vocabularies_are_snake_case_unique_documented_and_fit_int8_keys() {
        for voc in all() {
            let mut seen = HashSet::new();
            assert!(voc.values.len() <= i8::MAX as usize, "{}", voc.key());
            for (v, doc) in voc.values {
                assert!(seen.insert(*v), "{}: duplicate {v}", voc.key());
                assert!(!doc.trim().is_empty(), "{}: {v} undocumented", voc.key());
                assert!(
                    v.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'),
                    "{}: {v} is not snake_case",
                    voc.key()
                );
            }
        }
    }

    #[test]
    fn markdown_lists_every_value() {
        let md = markdown();
        assert!(md.contains("### `domains.dns_status`"));
        assert!(md.contains("| `greeting_421` |"));
        assert!(md.contains("### `mx.cert_status`"));
    }

    #[test]
    fn check_rejects_outside_values() {
        let voc = crate::domains::DNS_STATUS;
        assert_eq!(voc.check("ok").unwrap(), "ok");
        let err = voc.check("OK").unwrap_err();
        assert!(err.to_string().contains("domains.dns_status"), "{err}");
    }
}
