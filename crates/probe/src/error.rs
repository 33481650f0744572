//! The crate's one error type. Measurement outcomes are never errors: an `Err` here means
//! bad configuration (an invalid resolver address, an unreadable resolv.conf, a TLS setup
//! failure) or a bug.

use std::path::PathBuf;

/// Configuration and setup errors of the probe layer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// A nameserver specification (`IP[:PORT]`) is invalid.
    #[error("invalid nameserver {0:?}: expected IP or IP:PORT ([v6]:PORT)")]
    BadNameserver(String),
    /// The system resolver configuration has no usable nameserver.
    #[error("no nameserver found in {0}")]
    NoNameserver(String),
    /// The DNS resolver could not be built.
    #[error("cannot build DNS resolver: {0}")]
    Resolver(String),
    /// The TLS client configuration could not be built.
    #[error("TLS configuration: {0}")]
    Tls(String),
    /// A name is not usable as a TLS server name or DNS name.
    #[error("invalid name {0:?}")]
    BadName(String),
}
