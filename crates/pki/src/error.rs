//! The crate's one error type: unusable trust-anchor configuration. Verdicts are never
//! errors.

use std::path::PathBuf;

/// Configuration errors of the trust store.
#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A trust-anchor PEM file is unusable.
    #[error("trust anchors from {path}: {reason}")]
    TrustAnchor {
        /// The PEM file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },
}
