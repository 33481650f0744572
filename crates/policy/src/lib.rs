//! Pure RFC 8461 (MTA-STS) and RFC 8460 (TLS-RPT) logic for mxscan: no I/O, no async.
//!
//! | Input | Function | Output |
//! |---|---|---|
//! | TXT records at `_mta-sts.<domain>` (RFC 8461 §3.1) | [`parse_sts_records`], [`parse_sts_txt`] | [`StsRecord`] |
//! | policy body from `mta-sts.<domain>` (RFC 8461 §3.2) | [`parse_policy`] | [`PolicyReport`] |
//! | the policy's HTTP `Content-Type` (RFC 8461 §3.3) | [`content_type_deviation`] | `Option<Deviation>` |
//! | a pattern and an MX hostname (RFC 8461 §4.1) | [`mx_matches`], [`unmatched`] | `bool`, unmatched hosts |
//! | TXT records at `_smtp._tls.<domain>` (RFC 8460 §3) | [`parse_tlsrpt_records`], [`parse_tlsrpt_txt`] | [`TlsRptRecord`] |
//! | mode, patterns and MX outcomes (RFC 8461 §5) | [`delivery`] | [`Delivery`] |
//!
//! Parsers never fail: every problem is a value. Records get a [`RecordStatus`]; every oddity is
//! a [`Deviation`] (MTA-STS) or [`TlsRptDeviation`] (TLS-RPT), closed vocabularies with
//! `as_str()` / `FromStr` / `ALL` / `invalidates()`, serialized as their snake_case strings.
//! Deviation lists are always in canonical order (declaration order) and free of duplicates.
//!
//! # Example
//!
//! ```
//! use mxscan_policy::*;
//!
//! let record = parse_sts_txt(&["v=STSv1; id=20240101T000000", "v=spf1 -all"]);
//! assert_eq!(record.status, RecordStatus::Valid);
//! assert_eq!(record.deviations, [Deviation::TxtStrayRecords]);
//!
//! let report = parse_policy(b"version: STSv1\nmode: enforce\nmx: *.mail.example.net\nmax_age: 604800\n");
//! assert!(report.valid);
//! assert_eq!(report.deviations, [Deviation::LfLineEndings]);
//!
//! let hosts = ["mx1.mail.example.net.", "old.example.org"];
//! assert_eq!(unmatched(&report.mx, &hosts), ["old.example.org"]);
//!
//! // What a probe of the first host showed (`mxscan_model::mx_outcome` derives it).
//! let verdict = delivery(Mode::Enforce, &report.mx, &[(hosts[0], MxOutcome::Secure)]);
//! assert_eq!(verdict, Delivery::Ok);
//! ```
//!
//! # Positions taken (fixed — the testbed's ground truth depends on them)
//!
//! "Note" means recorded and the record/policy stays usable; "invalid" means a sender would
//! behave as if the domain had no record/policy ([`Deviation::invalidates`]).
//!
//! ## `_mta-sts` TXT record (RFC 8461 §3.1)
//!
//! | deviation | effect | when |
//! |---|---|---|
//! | `txt_stray_records` | note | a record not beginning with `v=STSv1` was discarded (SPF, hostname, prose, empty, wrong case) |
//! | `txt_multiple_records` | invalid (`multiple`) | more than one record begins with `v=STSv1` |
//! | `txt_version_case` | note | a record begins with `v=STSv1` in another case; NOT accepted (`%s"v=STSv1"` is case-sensitive): discarded as stray |
//! | `txt_missing_id` | invalid | no `id=` field (`ID=` is an unknown field) |
//! | `txt_invalid_id` | invalid | `id` not 1–32 ALPHA/DIGIT |
//! | `txt_duplicate_field` | note | a field name repeats; first wins |
//! | `txt_unknown_field` | note | extension field, ignored |
//! | `txt_syntax` | note | empty field between `;`, field without `=`, bad extension name/value, non-ASCII or control bytes, version tag not followed by `;` |
//!
//! The version tag must be a whole token (`v=STSv10` is stray) at the very start (a leading
//! space makes a stray record). Whitespace around `;` and one trailing `;` are fine (ABNF).
//!
//! ## Policy body (RFC 8461 §3.2) and its HTTP response (§3.3)
//!
//! | deviation | effect | when |
//! |---|---|---|
//! | `not_utf8` | invalid | body is not UTF-8 (fields still read from a lossy decoding) |
//! | `empty_body` | invalid | empty or whitespace-only body (no other field deviations then) |
//! | `bom` | note | leading UTF-8 BOM, stripped |
//! | `lf_line_endings` | note | every line ends in bare LF (valid, erratum 6253) |
//! | `mixed_line_endings` | note | both CRLF and bare LF (instead of `lf_line_endings`) |
//! | `missing_final_newline` | note | last line has no line ending |
//! | `blank_line` | note | an empty or whitespace-only line (e.g. body ending in two newlines) |
//! | `leading_whitespace` | note | indented `key: value` line; accepted |
//! | `space_before_colon` | note | `mode : enforce`; accepted |
//! | `key_case` | note | `Mode:`, `MX:` …: the line is ignored like an unknown key (only `key_case` is recorded), so the key usually ends up missing |
//! | `unknown_key` | note | well-formed `name: value` with another name; ignored |
//! | `duplicate_key` | note | repeated `version`/`mode`/`max_age`; the first occurrence wins |
//! | `trailing_garbage` | note | a line that is not `key: value` (HTML, prose, `#` comment) |
//! | `html_body` | note | body contains `<html`, `<!doctype`, `<head` or `<body` (any case) |
//! | `missing_version` | invalid | no `version` line |
//! | `invalid_version` | invalid | first `version` value is not exactly `STSv1` |
//! | `version_not_first` | note | the first `version` line is not line 1 |
//! | `missing_mode` | invalid | no `mode` line |
//! | `unknown_mode` | invalid | first `mode` value not `enforce`/`testing`/`none` (case-sensitive; `enforce # x` too) |
//! | `missing_max_age` | invalid | no `max_age` line |
//! | `invalid_max_age` | invalid | first `max_age` value not 1–10 digits |
//! | `max_age_out_of_range` | invalid | `max_age` > 31557600 (value still reported) |
//! | `missing_mx` | invalid | no valid `mx` pattern and mode is not `none` (also when mode is missing/unknown) |
//! | `invalid_mx_pattern` | note | `mx` value not a hostname or `*.` + hostname; dropped |
//! | `mx_trailing_dot` | note | `mx` pattern with a trailing dot; accepted, dot stripped |
//! | `duplicate_mx` | note | the same normalized pattern twice; kept once |
//! | `content_type_not_text_plain` | note | media type not `text/plain` or missing ([`content_type_deviation`]) |
//!
//! Values are trimmed of surrounding whitespace silently; `mx` patterns are lowercased. The
//! report's `version` is the first value as written, `mode` only one of the three modes,
//! `max_age` any 1–10 digit value (even out of range).
//!
//! ## TLS-RPT record (RFC 8460 §3)
//!
//! Same discovery rules (prefix `v=TLSRPTv1`, case-sensitive). `rua=` required; URIs are
//! comma-separated with optional whitespace; `mailto:` (with an `@`) and `https://` (with a host)
//! are kept, schemes case-insensitive. Vocabulary: [`TlsRptDeviation`]
//! (`tlsrpt_stray_records`, `tlsrpt_multiple_records`, `tlsrpt_version_case`,
//! `tlsrpt_missing_rua`, `tlsrpt_invalid_rua`, `tlsrpt_unsupported_uri`,
//! `tlsrpt_duplicate_field`, `tlsrpt_unknown_field`, `tlsrpt_syntax`).
//!
//! ## Delivery verdict (RFC 8461 §4, §5)
//!
//! See [`delivery`] (and `mxscan_model::mx_outcome`, which classifies one probe): mode `none` → `no_policy`; only MX hosts matching a
//! pattern count; any `secure` → `ok`; else any `unknown` → `untested`; else `would_fail`
//! (including "no MX matches"); no MX observations → `untested`. `testing` is judged like
//! `enforce`.

#![forbid(unsafe_code)]

mod deviation_set;
mod pattern;
mod policy;
mod sts_record;
mod tlsrpt;
mod txt;
mod verdict;

/// The vocabularies this crate produces are defined in `mxscan-model` (with every other
/// status vocabulary of the survey schema) and re-exported here under their old names.
pub use mxscan_model::{
    Delivery, Deviation, Error, Mode, MxOutcome, RecordStatus, TlsRptDeviation,
};
pub use pattern::{
    MAX_LABEL_LEN, MAX_NAME_LEN, PatternCheck, check_pattern, is_hostname, matches_any, mx_matches,
    unmatched,
};
pub use policy::{
    LineEnding, MAX_AGE_LIMIT, MAX_POLICY_BYTES, POLICY_VERSION, Policy, PolicyReport,
    content_type_deviation, parse_policy,
};
pub use sts_record::{STS_VERSION_TAG, StsRecord, parse_sts_records, parse_sts_txt};
pub use tlsrpt::{TLSRPT_VERSION_TAG, TlsRptRecord, parse_tlsrpt_records, parse_tlsrpt_txt};
pub use verdict::delivery;
