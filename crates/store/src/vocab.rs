//! The closed vocabularies of the status columns, as the store sees them: one
//! [`Vocabulary`] per status column, generated from the model's enums
//! ([`mxscan_model::STATUS_COLUMNS`]), so the Parquet dictionaries, the manifest's counts and
//! the schema reference (docs/schema.md) cannot drift from the code that produces the
//! values. Adding a value is a schema change: add it to the enum together with its
//! documentation.

use std::sync::LazyLock;

use mxscan_model::{STATUS_COLUMNS, StatusColumn, Vocab};

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
    fn of(c: &StatusColumn) -> Vocabulary {
        Vocabulary {
            table: c.table,
            column: c.column,
            values: Box::leak((c.values)().into_boxed_slice()),
        }
    }

    /// The vocabulary of `table.column`; panics for a column that has none (a bug).
    pub fn get(table: &str, column: &str) -> &'static Vocabulary {
        all()
            .into_iter()
            .find(|v| v.table == table && v.column == column)
            .unwrap_or_else(|| panic!("{table}.{column} has no vocabulary"))
    }

    /// Position of `value` in the vocabulary (its dictionary key).
    pub fn index(&self, value: &str) -> Option<usize> {
        self.values.iter().position(|(v, _)| *v == value)
    }

    /// Whether `value` belongs to the vocabulary.
    pub fn contains(&self, value: &str) -> bool {
        self.index(value).is_some()
    }

    /// The values alone, in order.
    pub fn names(&self) -> impl Iterator<Item = &'static str> + '_ {
        self.values.iter().map(|(v, _)| *v)
    }

    /// `"table.column"`, the key used for this column in the manifest's `counts`.
    pub fn key(&self) -> String {
        format!("{}.{}", self.table, self.column)
    }

    /// `Ok(value)` when it belongs to the vocabulary, else a [`StoreError::Vocabulary`].
    pub fn check(&self, value: &str) -> Result<&'static str> {
        self.names()
            .find(|v| *v == value)
            .ok_or_else(|| StoreError::Vocabulary {
                table: self.table,
                column: self.column,
                value: value.to_owned(),
            })
    }

    /// `value` as the enum `V`, or a [`StoreError::Vocabulary`] naming this column.
    pub fn parse<V: Vocab>(&self, value: &str) -> Result<V> {
        V::parse(value).ok_or_else(|| StoreError::Vocabulary {
            table: self.table,
            column: self.column,
            value: value.to_owned(),
        })
    }
}

static ALL: LazyLock<Vec<Vocabulary>> =
    LazyLock::new(|| STATUS_COLUMNS.iter().map(Vocabulary::of).collect());

/// Every vocabulary of every table, in table order.
pub fn all() -> Vec<&'static Vocabulary> {
    ALL.iter().collect()
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

    #[test]
    fn markdown_lists_every_value() {
        let md = markdown();
        assert!(md.contains("### `domains.dns_status`"));
        assert!(md.contains("| `greeting_421` |"));
        assert!(md.contains("### `mx.cert_status`"));
    }

    #[test]
    fn parse_rejects_outside_values() {
        let voc = Vocabulary::get("domains", "dns_status");
        assert_eq!(
            voc.parse::<mxscan_model::DnsStatus>("ok").unwrap(),
            mxscan_model::DnsStatus::Ok
        );
        let err = voc.parse::<mxscan_model::DnsStatus>("OK").unwrap_err();
        assert!(err.to_string().contains("domains.dns_status"), "{err}");
    }
}
