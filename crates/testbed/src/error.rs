//! The testbed's error enum.

/// Errors of the testbed (configuration and I/O at start-up; per-connection failures are
/// logged, never returned).
#[derive(Debug, thiserror::Error)]
pub enum TestbedError {
    /// A socket could not be bound or used.
    #[error("i/o error: {0}")]
    Io(#[from] std::io::Error),
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Cert(String),
    /// TLS configuration failed.
    #[error("TLS configuration failed: {0}")]
    Tls(String),
    /// The caller asked for something that does not exist (unknown profile, bad argument).
    #[error("invalid testbed configuration: {0}")]
    Config(String),
}
