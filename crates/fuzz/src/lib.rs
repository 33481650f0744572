//! The checks behind mxscan's `cargo fuzz` targets (`fuzz_targets/*.rs` are one line each).
//!
//! Every function here takes the fuzzer's bytes, feeds them to one of mxscan's parsers of
//! untrusted input, and asserts *invariants* (not just "no panic"): caps respected, closed
//! vocabularies, canonical deviation lists, round trips where a writer exists, agreement
//! between two implementations of one rule, independence from how a byte stream is cut.
//! A failed assertion is a crash for libFuzzer. docs/fuzzing.md lists what each target
//! asserts and how to run them (`scripts/fuzz.sh`).
//!
//! All imports of the code under test are in [`api`]: when a function moves between crates
//! (pure code is leaving `mxscan-probe` for a model crate), only that module changes.

#![forbid(unsafe_code)]

pub mod aia;
pub mod cert;
pub mod config;
pub mod dane;
pub mod ingest;
pub mod policy;
pub mod smtp;
pub mod store;
pub mod tls;

/// The code under test, by its current path. Repoint here when it moves.
pub mod api {
    pub use mxscan_engine::config::{ConfigError, ConfigFile, ScanConfig};
    pub use mxscan_ingest::{
        Entry, Ingest, IngestError, IngestOptions, Input, InputStatus, MAX_ECHO_CHARS,
        RejectReason, Shard, check_host_name, normalize_domain, shard_of,
    };
    pub use mxscan_model::chain::{ChainFacts, san_matches};
    pub use mxscan_model::dane::{
        DaneStatus, Tlsa, status_of_secure_answer as dane_status_of_secure_answer,
    };
    pub use mxscan_model::policy_response::{Progress, ResponseReader};
    pub use mxscan_pki::dane::{dane_match, matches_cert, record_for};
    pub use mxscan_pki::{
        CertInfo, CertStatus, TrustStore, ca_issuers_urls, certs_from_aia_body, matches_name,
        parse_cert, sha256_hex,
    };
    pub use mxscan_probe::aia::HttpUrl;
    pub use mxscan_policy::{
        Deviation, LineEnding, MAX_AGE_LIMIT, MAX_NAME_LEN, Mode, MxOutcome, PatternCheck,
        PolicyReport, RecordStatus, StsRecord, TlsRptDeviation, TlsRptRecord, check_pattern,
        content_type_deviation, delivery, is_hostname, matches_any, mx_matches, parse_policy,
        parse_sts_records, parse_sts_txt, parse_tlsrpt_records, parse_tlsrpt_txt, unmatched,
    };
    pub use mxscan_smtp::{
        AFTER_STARTTLS_SAMPLE_BYTES, Action, Command, Ehlo, Event, MAX_LINE_BYTES, MAX_REPLY_BYTES,
        Outcome, Parse, Phase, ProbeStatus, Reply, ReplyError, ReplyParser, Session, parse_reply,
    };
    pub use mxscan_store::manifest::{Manifest, SurveyStatus};
    pub use mxscan_tls::{Caps, Flight, FlightReader, Step};
}

/// Splits `data` at `sep` into at most `max` pieces (the last one keeps the rest).
pub fn split_n(data: &[u8], sep: u8, max: usize) -> Vec<&[u8]> {
    data.splitn(max.max(1), |&b| b == sep).collect()
}

/// TXT answers for the record parsers: records are split at `\n`, each record's
/// character-strings at `\0` (so the fuzzer explores multi-record, multi-string answers).
pub fn txt_records(data: &[u8]) -> Vec<Vec<&[u8]>> {
    data.split(|&b| b == b'\n')
        .map(|record| record.split(|&b| b == 0).collect())
        .collect()
}

/// Asserts that `list` is strictly increasing: sorted in canonical order, no duplicates.
pub fn assert_canonical<T: Ord + std::fmt::Debug>(list: &[T]) {
    assert!(
        list.windows(2).all(|w| w[0] < w[1]),
        "not canonical (sorted, duplicate-free): {list:?}"
    );
}
