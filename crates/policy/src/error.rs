//! The crate's one error type.
//!
//! Parsing a record or a policy never fails: every problem is an outcome (a
//! [`Deviation`](crate::Deviation), a [`RecordStatus`](crate::RecordStatus), `valid: false`).
//! `Error` is only for converting strings back into the closed vocabularies.

/// Errors of `mxscan-policy`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A string that is not a member of a closed vocabulary (e.g. `"Enforce"` for [`Mode`](crate::Mode)).
    #[error("{value:?} is not a valid {vocabulary} value")]
    UnknownValue {
        /// Name of the vocabulary (the Rust type name).
        vocabulary: &'static str,
        /// The rejected value (truncated to 64 characters).
        value: String,
    },
}
