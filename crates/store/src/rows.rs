//! The tables of a survey and what every row type (defined in `mxscan-model`) offers the
//! writer and reader. Status columns are enums of the model; the store encodes each as a
//! dictionary of its vocabulary's strings (docs/schema.md). [`TableRow::validate`] checks
//! the remaining contracts (normalised names, hex digests) on every row the writer takes.

use std::collections::BTreeMap;

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;

use crate::error::Result;
pub use mxscan_model::rows::{CertRow, DomainRow, MxRow, ProbeRow};

/// The four tables of a survey, in commit order (see `writer`): certs, probes, mx, domains.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Table {
    /// One row per distinct certificate.
    Certs,
    /// One row per SMTP probe (one per MX address).
    Probes,
    /// One row per (domain, MX exchange, address).
    Mx,
    /// One row per input domain.
    Domains,
}

impl Table {
    /// All tables in commit order.
    pub const ALL: [Table; 4] = [Table::Certs, Table::Probes, Table::Mx, Table::Domains];

    /// The table's name: its directory in the survey and its name in docs/schema.md.
    pub fn as_str(self) -> &'static str {
        match self {
            Table::Certs => "certs",
            Table::Probes => "probes",
            Table::Mx => "mx",
            Table::Domains => "domains",
        }
    }

    /// Parses a table name.
    pub fn from_name(name: &str) -> Option<Table> {
        Table::ALL.into_iter().find(|t| t.as_str() == name)
    }

    /// The table's Arrow schema.
    pub fn schema(self) -> SchemaRef {
        match self {
            Table::Certs => crate::certs::schema(),
            Table::Probes => crate::probes::schema(),
            Table::Mx => crate::mx::schema(),
            Table::Domains => crate::domains::schema(),
        }
    }
}

impl std::fmt::Display for Table {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Value counts per status column: `"table.column"` → value → rows (nulls not counted).
pub type Counts = BTreeMap<String, BTreeMap<String, u64>>;

/// What every row type offers the writer and reader.
pub trait TableRow: Sized + Clone + std::fmt::Debug + Send + Sync + 'static {
    /// The table the row belongs to.
    const TABLE: Table;
    /// Checks every contract the writer enforces (vocabularies, formats).
    fn validate(&self) -> Result<()>;
    /// Builds one record batch (validating every row).
    fn to_batch(rows: &[Self]) -> Result<RecordBatch>;
    /// Decodes a batch (by column name; extra columns ignored, added columns optional).
    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>>;
    /// Adds this row's status values to `counts`.
    fn count(&self, counts: &mut Counts);
}

pub(crate) fn bump<V: mxscan_model::Vocab>(
    counts: &mut Counts,
    voc: &crate::vocab::Vocabulary,
    value: Option<V>,
) {
    bump_word(counts, voc, value.map(V::as_str));
}

/// [`bump`] for a value already checked against `voc`.
pub(crate) fn bump_word(counts: &mut Counts, voc: &crate::vocab::Vocabulary, value: Option<&str>) {
    if let Some(v) = value {
        *counts
            .entry(voc.key())
            .or_default()
            .entry(v.to_owned())
            .or_default() += 1;
    }
}

pub(crate) fn check_hex_sha256(table: &'static str, column: &'static str, v: &str) -> Result<()> {
    if v.len() == 64
        && v.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
    {
        Ok(())
    } else {
        Err(crate::error::StoreError::InvalidRow {
            table,
            column,
            reason: format!("{v:?} is not 64 lowercase hex digits"),
        })
    }
}

pub(crate) fn check_domain(table: &'static str, column: &'static str, v: &str) -> Result<()> {
    let ok = !v.is_empty()
        && !v.ends_with('.')
        && v.bytes()
            .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase());
    if ok {
        Ok(())
    } else {
        Err(crate::error::StoreError::InvalidRow {
            table,
            column,
            reason: format!("{v:?} is not a normalised name (lowercase ASCII, no trailing dot)"),
        })
    }
}
