//! The crate's one error type.
//!
//! `StoreError` is for bugs and environment failures (I/O, a corrupt file, a value outside a
//! closed vocabulary handed to the writer). Measurement outcomes never end up here: they are
//! column values.

use std::path::PathBuf;

/// Everything that can go wrong while writing or reading a survey.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file-system operation failed.
    #[error("{op} {path}: {source}")]
    Io {
        /// What was being done ("create", "rename", …).
        op: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: std::io::Error,
    },
    /// Parquet encoding or decoding failed.
    #[error("parquet {path}: {source}")]
    Parquet {
        /// The part file.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: parquet::errors::ParquetError,
    },
    /// Building or decoding an Arrow array failed.
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A status column was given a value outside its closed vocabulary (a bug in the caller).
    #[error("{table}.{column}: {value:?} is not in the vocabulary")]
    Vocabulary {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// The offending value.
        value: String,
    },
    /// A row violates a column contract other than a vocabulary (a bug in the caller).
    #[error("{table}.{column}: {reason}")]
    InvalidRow {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// A part file lacks a contract column or has it with an unusable type.
    #[error("{table}: column {column}: {reason}")]
    Column {
        /// Table name.
        table: &'static str,
        /// Column name.
        column: String,
        /// What is wrong.
        reason: String,
    },
    /// `survey.json` could not be parsed or serialised.
    #[error("manifest {path}: {source}")]
    Manifest {
        /// The manifest path.
        path: PathBuf,
        /// The underlying error.
        #[source]
        source: serde_json::Error,
    },
    /// A survey id that cannot be a directory name / hive partition value.
    #[error("invalid survey id {0:?}")]
    SurveyId(String),
    /// The survey directory exists already (pass it to `open_for_resume` instead).
    #[error("survey directory {0} exists already")]
    SurveyExists(PathBuf),
    /// The survey is complete; resuming it needs `allow_complete`.
    #[error("survey {0} is complete; resume it only with allow_complete")]
    SurveyComplete(String),
    /// The directory holds committed parts but the writer was not given a resume index.
    #[error("{0} holds committed parts; open it with open_for_resume and pass the index")]
    NotEmpty(PathBuf),
    /// The writer task is gone (it failed or finished); join its handle for the cause.
    #[error("survey writer is closed")]
    WriterClosed,
    /// The writer task panicked or was cancelled.
    #[error("survey writer task: {0}")]
    Join(String),
}

impl StoreError {
    pub(crate) fn io(op: &'static str, path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        StoreError::Io {
            op,
            path: path.into(),
            source,
        }
    }
}

/// Result alias for this crate.
pub type Result<T, E = StoreError> = std::result::Result<T, E>;
