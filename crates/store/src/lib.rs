//! mxscan-store: the survey output of mxscan.
//!
//! The contract is docs/schema.md: four tables (`domains`, `mx`, `probes`, `certs`) written as
//! zstd Parquet part files under `ROOT/survey=<id>/<table>/part-NNNNN.parquet`, plus the
//! manifest `survey.json`. Column names, types and status vocabularies are fixed; this crate
//! only adds columns (documented in each table module).
//!
//! - [`rows`]: the tables and the [`TableRow`] trait (the row structs and their status enums
//!   are `mxscan-model`'s); [`domains`], [`mx`], [`probes`], [`certs`]: Arrow schema and batch
//!   builders per table; [`vocab`]: each status column's vocabulary, from the model's enums.
//! - [`writer`]: the per-survey writer task and the commit protocol that makes resume
//!   exactly-once; [`survey`]: ids, layout, [`survey::open_for_resume`]; [`manifest`].
//! - [`reader`]: read committed parts back; [`export`]: CSV / JSON Lines; [`summary`]: the
//!   headline numbers with denominators; [`diff`]: what changed between two surveys.
#![forbid(unsafe_code)]

mod arrays;
pub mod certs;
pub mod diff;
pub mod domains;
mod error;
pub mod export;
pub mod manifest;
pub mod mx;
pub mod probes;
pub mod reader;
pub mod rows;
pub mod summary;
pub mod survey;
pub mod vocab;
pub mod writer;

pub use arrays::{dict_type, list_type, storage_schema, ts_ms_type, ts_s_type};
pub use error::{Result, StoreError};
pub use manifest::{InputInfo, Manifest, SurveyStatus};
pub use mxscan_model::timestamp;
pub use mxscan_model::{TimestampMs, TimestampS};
pub use rows::{CertRow, Counts, DomainRow, MxRow, ProbeRow, Table, TableRow};
pub use survey::{ResumeIndex, ResumeOptions, Survey, create_survey, open_for_resume};
pub use vocab::Vocabulary;
pub use writer::{ResumeSeed, SurveyWriter, WriterHandle, WriterOptions, WriterReport};

/// Version of the output schema, written to every part file (`mxscan.schema_version`) and to
/// the manifest. Bump it when a column changes meaning; adding a column does not need it.
pub const SCHEMA_VERSION: &str = "1";
