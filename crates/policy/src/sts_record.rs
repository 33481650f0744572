//! `_mta-sts.<domain>` TXT record discovery (RFC 8461 §3.1).
//!
//! Input is the full answer for the name: every TXT record, each a list of character-strings.
//! The rules, in order:
//!
//! 1. Each record's strings are concatenated without separators.
//! 2. Records that do not begin with `v=STSv1` (case-sensitive, a whole token followed by `;`,
//!    whitespace or the end) are discarded → [`Deviation::TxtStrayRecords`]; a record that would
//!    match in another letter case also gets [`Deviation::TxtVersionCase`].
//! 3. No record left → [`RecordStatus::None`]; more than one → [`RecordStatus::Multiple`]
//!    ([`Deviation::TxtMultipleRecords`]).
//! 4. Exactly one: its fields are parsed. A missing or malformed `id` makes it
//!    [`RecordStatus::Invalid`]; everything else odd is a note (see [`Deviation`]).

use std::collections::HashSet;

use serde::{Deserialize, Serialize};

use crate::deviation_set::DeviationSet;
use crate::txt::{self, Prefix};
use crate::{Deviation, RecordStatus};

/// The version tag of an MTA-STS TXT record (RFC 8461 §3.1, `%s"v=STSv1"`).
pub const STS_VERSION_TAG: &str = "v=STSv1";

/// The parsed `_mta-sts` TXT answer. JSON: `{"status": "...", "id": ..., "deviations": [...]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StsRecord {
    /// `none`, `valid`, `invalid` or `multiple`.
    pub status: RecordStatus,
    /// The first `id=` value as published when exactly one STSv1 record exists (even if it is
    /// malformed: then `status` is `invalid`); `None` otherwise. Meaningful only when `status`
    /// is `valid`.
    pub id: Option<String>,
    /// Canonically ordered, duplicate-free record deviations (all `txt_*`).
    pub deviations: Vec<Deviation>,
}

impl StsRecord {
    /// Whether a sender would go on to fetch the policy (RFC 8461 §3.1, §3.3).
    #[must_use]
    pub fn is_valid(&self) -> bool {
        self.status == RecordStatus::Valid
    }
}

/// `sts-id = %s"id=" 1*32(ALPHA / DIGIT)` (RFC 8461 §3.1).
fn is_valid_id(id: &str) -> bool {
    (1..=32).contains(&id.len()) && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Parses every TXT record found at `_mta-sts.<domain>` (RFC 8461 §3.1). Each record is given
/// as its list of character-strings (raw bytes), which are concatenated.
///
/// Accepts `&[Vec<Vec<u8>>]`, `&[Vec<&str>]`, `&[Box<[Box<[u8]>]>]` (hickory's `TXT::txt_data`)
/// and the like.
pub fn parse_sts_records<Rec, S>(records: &[Rec]) -> StsRecord
where
    Rec: AsRef<[S]>,
    S: AsRef<[u8]>,
{
    let joined: Vec<Vec<u8>> = records.iter().map(|r| txt::concat(r.as_ref())).collect();
    parse_joined(&joined)
}

/// Like [`parse_sts_records`], for callers that already hold one (concatenated) string per
/// record, such as the CLI.
pub fn parse_sts_txt<S: AsRef<str>>(records: &[S]) -> StsRecord {
    let joined: Vec<&[u8]> = records.iter().map(|r| r.as_ref().as_bytes()).collect();
    parse_joined(&joined)
}

fn parse_joined<R: AsRef<[u8]>>(records: &[R]) -> StsRecord {
    let mut devs = DeviationSet::default();
    let mut kept: Vec<&[u8]> = Vec::new();
    for record in records {
        let record = record.as_ref();
        match txt::prefix(record, STS_VERSION_TAG) {
            Prefix::Exact => kept.push(record),
            Prefix::OtherCase => {
                devs.insert(Deviation::TxtStrayRecords);
                devs.insert(Deviation::TxtVersionCase);
            }
            Prefix::Stray => devs.insert(Deviation::TxtStrayRecords),
        }
    }
    let (status, id) = match kept.as_slice() {
        [] => (RecordStatus::None, None),
        [record] => parse_one(record, &mut devs),
        _ => {
            devs.insert(Deviation::TxtMultipleRecords);
            (RecordStatus::Multiple, None)
        }
    };
    StsRecord {
        status,
        id,
        deviations: devs.to_vec(),
    }
}

fn parse_one(record: &[u8], devs: &mut DeviationSet) -> (RecordStatus, Option<String>) {
    let text = String::from_utf8_lossy(record);
    let fields = txt::split(&text, record, STS_VERSION_TAG);
    if fields.syntax {
        devs.insert(Deviation::TxtSyntax);
    }
    let mut seen: HashSet<&str> = HashSet::from(["v"]);
    let mut id: Option<&str> = None;
    for field in &fields.fields {
        if !seen.insert(field.name) {
            devs.insert(Deviation::TxtDuplicateField);
            continue;
        }
        if field.name == "id" {
            id = Some(field.value);
        } else {
            devs.insert(Deviation::TxtUnknownField);
            if !txt::is_ext_value(field.value) {
                devs.insert(Deviation::TxtSyntax);
            }
        }
    }
    match id {
        None => {
            devs.insert(Deviation::TxtMissingId);
            (RecordStatus::Invalid, None)
        }
        Some(id) if is_valid_id(id) => (RecordStatus::Valid, Some(id.to_owned())),
        Some(id) => {
            devs.insert(Deviation::TxtInvalidId);
            (RecordStatus::Invalid, Some(id.to_owned()))
        }
    }
}
