//! Streaming ingest of domain lists for `mxscan scan INPUT...`.
//!
//! Inputs (files, `-` for stdin, or any reader) are read one after the other as one stream
//! of [`Entry`] values: normalised host names with an optional rank and the line they came
//! from. Nothing is read up front; memory does not grow with the list except for the
//! duplicate filter (about 16 bytes per distinct name, see [`dedup`]).
//!
//! # Input formats (detected per input — rule in [`mod@format`])
//!
//! - plain: one domain per line;
//! - CSV with a header row that has a `domain` column (any position, any case) and maybe a
//!   `rank` (or Majestic's `GlobalRank`) column; `,` or tab separated; RFC 4180 quotes;
//! - header-less `rank,domain` (Tranco, Cisco Umbrella, Alexa), extra columns ignored;
//! - everywhere: blank lines and lines starting with `#` are skipped, CRLF and a UTF-8 BOM are
//!   tolerated, gzip is detected by its magic bytes (not the file name) and decoded.
//!
//! # Normalisation ([`normalize_domain`])
//!
//! Trim, UTS #46 ToASCII (non-transitional, browser settings: `Bücher.example` →
//! `xn--bcher-kva.example`), strip one trailing dot, then the host-name rules (LDH labels of
//! 1–63 octets not starting or ending with `-`, ≤ 253 octets, no `_`), at least two labels,
//! no numeric last label. A bad line is yielded as a [`LineError`] and skipped; the rest of
//! the list is read. See [`RejectReason`] for the closed vocabulary of reasons.
//!
//! # Duplicates and shards
//!
//! The first occurrence of a name wins (with its rank); later ones, in any input, are counted
//! in [`IngestStats`] and not yielded. [`shard_of`] and [`Shard`] split a list N ways with a
//! stable hash: the N shards partition the list exactly.
//!
//! ```no_run
//! use mxscan_ingest::{Ingest, IngestOptions, IngestError};
//! let options = IngestOptions { shard: Some("2/8".parse()?), ..Default::default() };
//! let mut ingest = Ingest::from_args(["top-1m.csv.gz", "-"], options);
//! for item in ingest.by_ref() {
//!     match item {
//!         Ok(entry) => println!("{} {:?}", entry.domain, entry.rank),
//!         Err(IngestError::Rejected(line)) => eprintln!("skipped: {line}"),
//!         Err(e) => eprintln!("error: {e}"),
//!     }
//! }
//! eprintln!("{:?}", ingest.stats().total);
//! # Ok::<(), IngestError>(())
//! ```

#![forbid(unsafe_code)]

pub mod dedup;
mod error;
pub mod format;
mod normalize;
mod shard;
mod source;
mod stream;

pub use error::{IngestError, LineError, MAX_ECHO_CHARS, RejectReason};
pub use format::{Format, FormatChoice};
pub use normalize::{MAX_LABEL_LEN, MAX_NAME_LEN, check_host_name, normalize_domain};
pub use shard::{Shard, shard_of};
pub use source::{Input, MAX_LINE_BYTES};
pub use stream::{
    Counts, Entry, Ingest, IngestOptions, IngestStats, InputStats, InputStatus, SourceRef,
};
