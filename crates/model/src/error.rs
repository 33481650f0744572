//! The crate's one error type. Observations are never errors; `Err` here means a string
//! outside a closed vocabulary, or an unusable blocklist source.

use std::path::PathBuf;

/// Errors of `mxscan-model`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A string that is not a member of a closed vocabulary (e.g. `"Enforce"` for
    /// [`Mode`](crate::Mode)).
    #[error("{value:?} is not a valid {vocabulary} value")]
    UnknownValue {
        /// Name of the vocabulary (the Rust type name).
        vocabulary: &'static str,
        /// The rejected value (truncated to 64 characters).
        value: String,
    },
    /// A line of a blocklist / allow-list source could not be parsed.
    #[error("{origin}:{line}: invalid CIDR or address {text:?}: {reason}")]
    BadCidrLine {
        /// File name (or "--allow" / "--blocklist" for command-line values).
        origin: String,
        /// 1-based line number.
        line: usize,
        /// The offending text, trimmed.
        text: String,
        /// Why it was rejected.
        reason: String,
    },
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
}

impl PartialEq for Error {
    fn eq(&self, other: &Self) -> bool {
        self.to_string() == other.to_string()
    }
}
