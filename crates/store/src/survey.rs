//! Survey ids, the directory layout, and resuming a partial survey.
//!
//! Layout (docs/schema.md "Layout"): `ROOT/survey=<id>/` holding `survey.json` and one directory
//! per table with `part-NNNNN.parquet` files. The id is the UTC start time
//! `YYYY-MM-DDTHHMMZ` (e.g. `2026-11-22T1000Z`); if that directory exists, the seconds are
//! added (`2026-11-22T100005Z`), then a suffix (`2026-11-22T100005Z-2`, `-3`, …). An
//! explicit id overrides this (it must be a safe directory name, and must not exist yet).
//!
//! [`open_for_resume`] prepares a partial survey for a second run and returns its
//! [`ResumeIndex`]; the writer module docs state the exactly-once contract it completes.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};

use arrow::array::{Array, AsArray};
use arrow::compute::cast;
use arrow::datatypes::DataType;
use time::OffsetDateTime;

use crate::error::{Result, StoreError};
use crate::manifest::{Manifest, SurveyStatus};
use crate::reader::{for_each_batch, parts, table_dir};
use crate::rows::{Counts, ProbeRow, Table, TableRow};
use crate::timestamp::rfc3339_seconds;
use crate::vocab;
use crate::writer::ResumeSeed;

/// Directory name prefix of a survey (a hive partition `survey=<id>`).
pub const SURVEY_DIR_PREFIX: &str = "survey=";

/// The minute-precision id of a start time: `YYYY-MM-DDTHHMMZ`.
pub fn survey_id_minutes(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// The second-precision id of a start time: `YYYY-MM-DDTHHMMSSZ`.
pub fn survey_id_seconds(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}{:02}{:02}Z",
        t.year(),
        t.month() as u8,
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// Checks that `id` can be a directory name and a hive partition value: 1–64 characters of
/// `[A-Za-z0-9._-]`, not starting with `.` or `_` (which readers treat as hidden).
pub fn validate_survey_id(id: &str) -> Result<()> {
    let ok = !id.is_empty()
        && id.len() <= 64
        && !id.starts_with('.')
        && !id.starts_with('_')
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(StoreError::SurveyId(id.to_owned()))
    }
}

/// `ROOT/survey=<id>`.
pub fn survey_dir(root: &Path, id: &str) -> PathBuf {
    root.join(format!("{SURVEY_DIR_PREFIX}{id}"))
}

/// A survey directory with its manifest.
#[derive(Debug, Clone)]
pub struct Survey {
    /// `ROOT/survey=<id>`.
    pub dir: PathBuf,
    /// The survey id.
    pub id: String,
    /// The manifest as on disk.
    pub manifest: Manifest,
}

/// Creates a new survey under `root`: picks the id (or takes `explicit_id`), creates the
/// directory (atomically claiming it: `create_dir` fails if another run took the name),
/// and writes the manifest `template` with `running`, the id, the schema version and
/// `started_at` filled in.
pub fn create_survey(
    root: &Path,
    explicit_id: Option<&str>,
    started: OffsetDateTime,
    template: Manifest,
) -> Result<Survey> {
    fs::create_dir_all(root).map_err(|e| StoreError::io("create_dir", root, e))?;
    let claim = |id: &str| -> Result<Option<PathBuf>> {
        let dir = survey_dir(root, id);
        match fs::create_dir(&dir) {
            Ok(()) => Ok(Some(dir)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
            Err(e) => Err(StoreError::io("create_dir", &dir, e)),
        }
    };
    let (id, dir) = match explicit_id {
        Some(id) => {
            validate_survey_id(id)?;
            match claim(id)? {
                Some(dir) => (id.to_owned(), dir),
                None => return Err(StoreError::SurveyExists(survey_dir(root, id))),
            }
        }
        None => {
            let minutes = survey_id_minutes(started);
            let seconds = survey_id_seconds(started);
            let candidates = [minutes, seconds.clone()]
                .into_iter()
                .chain((2..1000).map(|i| format!("{seconds}-{i}")));
            let mut found = None;
            for id in candidates {
                if let Some(dir) = claim(&id)? {
                    found = Some((id, dir));
                    break;
                }
            }
            found.ok_or_else(|| StoreError::SurveyExists(survey_dir(root, &seconds)))?
        }
    };
    let mut manifest = template;
    manifest.schema_version = crate::SCHEMA_VERSION.to_owned();
    manifest.survey_id = id.clone();
    manifest.status = SurveyStatus::Running;
    manifest.started_at = rfc3339_seconds(started);
    manifest.finished_at = None;
    manifest.store(&dir)?;
    Ok(Survey { dir, id, manifest })
}

/// Options of [`open_for_resume`].
#[derive(Debug, Clone, Copy, Default)]
pub struct ResumeOptions {
    /// Resume a survey whose manifest says `complete` (e.g. to add domains).
    pub allow_complete: bool,
}

/// Key of a probe: (address, port).
pub type ProbeKey = (String, u16);

/// What a partial survey already holds, read from its committed parts.
#[derive(Debug, Clone, Default)]
pub struct ResumeIndex {
    /// Every committed domain: the engine skips exactly these.
    pub domains: HashSet<String>,
    /// Every committed probe by (address, port): the engine reuses these instead of probing.
    pub probes: HashMap<ProbeKey, ProbeRow>,
    /// sha256 of every committed certificate.
    pub cert_hashes: HashSet<String>,
    /// Committed rows per table.
    pub rows: BTreeMap<String, u64>,
    /// Status counts of the committed rows.
    pub counts: Counts,
    /// Files deleted while cleaning up (stale `.tmp` parts, orphaned mx parts).
    pub removed: Vec<PathBuf>,
}

impl ResumeIndex {
    /// The probe committed for `address`:`port`, if any.
    pub fn probe(&self, address: &str, port: u16) -> Option<&ProbeRow> {
        self.probes.get(&(address.to_owned(), port))
    }

    /// What the writer needs ([`crate::writer::WriterOptions::resume`]).
    pub fn seed(&self) -> ResumeSeed {
        ResumeSeed {
            probe_keys: self.probes.keys().cloned().collect(),
            cert_hashes: self.cert_hashes.clone(),
            counts: self.counts.clone(),
            rows: self.rows.clone(),
        }
    }
}

/// Prepares the survey in `dir` for resuming and indexes what it holds:
/// 1. reads the manifest (a `complete` survey is refused unless `allow_complete`);
/// 2. deletes stale `.tmp` files (parts of a commit that never happened, a manifest rewrite
///    that never happened);
/// 3. deletes every `mx/part-N.parquet` whose `domains/part-N.parquet` does not exist (a
///    commit cut between its renames), so mx rows exist exactly for committed domains;
/// 4. reads the committed `domains` (names only), `probes` (whole rows) and `certs` (hashes),
///    and the status columns for the counts.
///
/// Then spawn the writer with `WriterOptions { resume: Some(index.seed()), .. }`.
pub fn open_for_resume(dir: &Path, opts: ResumeOptions) -> Result<(Survey, ResumeIndex)> {
    let manifest = Manifest::load(dir)?;
    if manifest.status == SurveyStatus::Complete && !opts.allow_complete {
        return Err(StoreError::SurveyComplete(manifest.survey_id));
    }
    let mut index = ResumeIndex::default();
    remove_stale_tmp(dir, &mut index.removed)?;
    for t in Table::ALL {
        remove_stale_tmp(&table_dir(dir, t), &mut index.removed)?;
    }
    let committed: HashSet<u32> = parts(dir, Table::Domains)?
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    for (n, path) in parts(dir, Table::Mx)? {
        if !committed.contains(&n) {
            fs::remove_file(&path).map_err(|e| StoreError::io("remove", &path, e))?;
            index.removed.push(path);
        }
    }
    if !index.removed.is_empty() {
        for t in Table::ALL {
            let d = table_dir(dir, t);
            if d.exists() {
                crate::manifest::sync_dir(&d)?;
            }
        }
    }

    for_each_batch(dir, Table::Domains, Some(&["domain"]), |b| {
        let col = string_column(&b, "domains", "domain")?;
        let s = col.as_string::<i32>();
        index.domains.extend(s.iter().flatten().map(str::to_owned));
        Ok(())
    })?;
    for_each_batch(dir, Table::Probes, None, |b| {
        for p in ProbeRow::from_batch(&b)? {
            p.count(&mut index.counts);
            index.probes.insert((p.address.clone(), p.port), p);
        }
        Ok(())
    })?;
    for_each_batch(dir, Table::Certs, Some(&["sha256"]), |b| {
        let col = string_column(&b, "certs", "sha256")?;
        let s = col.as_string::<i32>();
        index
            .cert_hashes
            .extend(s.iter().flatten().map(str::to_owned));
        Ok(())
    })?;
    count_statuses(dir, &mut index)?;
    let manifest = Manifest::load(dir)?;
    let survey = Survey {
        dir: dir.to_owned(),
        id: manifest.survey_id.clone(),
        manifest,
    };
    Ok((survey, index))
}

fn string_column(
    b: &arrow::array::RecordBatch,
    table: &'static str,
    name: &str,
) -> Result<arrow::array::ArrayRef> {
    let col = b.column_by_name(name).ok_or_else(|| StoreError::Column {
        table,
        column: name.to_owned(),
        reason: "missing".into(),
    })?;
    Ok(cast(col, &DataType::Utf8)?)
}

/// Row counts per table and status counts of `domains` and `mx` (probes are counted while
/// indexing them), reading only the status columns.
fn count_statuses(dir: &Path, index: &mut ResumeIndex) -> Result<()> {
    for t in Table::ALL {
        let vocabs: Vec<_> = vocab::all()
            .into_iter()
            .filter(|v| v.table == t.as_str())
            .collect();
        // The first contract column of every table is non-null: use it for row counts.
        let key_col = match t {
            Table::Certs => "sha256",
            Table::Probes => "address",
            Table::Mx | Table::Domains => "domain",
        };
        let mut cols: Vec<&str> = vec![key_col];
        if t != Table::Probes {
            cols.extend(vocabs.iter().map(|v| v.column));
        }
        let mut rows = 0u64;
        for_each_batch(dir, t, Some(&cols), |b| {
            rows += b.num_rows() as u64;
            if t == Table::Probes {
                return Ok(());
            }
            for voc in &vocabs {
                let Some(col) = b.column_by_name(voc.column) else {
                    continue;
                };
                let col = cast(col, &DataType::Utf8)?;
                let s = col.as_string::<i32>();
                for i in 0..s.len() {
                    if s.is_valid(i) {
                        let v = voc.check(s.value(i))?;
                        crate::rows::bump_word(&mut index.counts, voc, Some(v));
                    }
                }
            }
            Ok(())
        })?;
        index.rows.insert(t.as_str().to_owned(), rows);
    }
    Ok(())
}

/// Deletes `.*.tmp` files in `dir` (a missing directory is fine).
fn remove_stale_tmp(dir: &Path, removed: &mut Vec<PathBuf>) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(StoreError::io("read_dir", dir, e)),
    };
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("read_dir", dir, e))?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with('.') && name.ends_with(".tmp") {
            let p = entry.path();
            fs::remove_file(&p).map_err(|e| StoreError::io("remove", &p, e))?;
            removed.push(p);
        }
    }
    Ok(())
}

/// Lists the survey directories under `root` as (id, dir), oldest first: by the manifest's
/// `started_at`, then (ids of one minute or second tie there) the shorter id first —
/// `2026-11-22T1000Z`, `…T100012Z`, `…T100012Z-2` — then by id. A plain sort by id would put
/// `…T100012Z` before `…T1000Z` ('1' < 'Z'). `scripts/run-survey.sh` prunes in this order.
pub fn list_surveys(root: &Path) -> Result<Vec<(String, PathBuf)>> {
    let mut out: Vec<(String, usize, String, PathBuf)> = Vec::new();
    let entries = fs::read_dir(root).map_err(|e| StoreError::io("read_dir", root, e))?;
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("read_dir", root, e))?;
        if let Some(id) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.strip_prefix(SURVEY_DIR_PREFIX))
            && entry.path().join(crate::manifest::MANIFEST_FILE).exists()
        {
            let started = Manifest::load(&entry.path())
                .map(|m| m.started_at)
                .unwrap_or_default();
            out.push((started, id.len(), id.to_owned(), entry.path()));
        }
    }
    out.sort();
    Ok(out.into_iter().map(|(_, _, id, dir)| (id, dir)).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    #[test]
    fn id_formats() {
        let t = datetime!(2026-11-22 10:00:05 UTC);
        assert_eq!(survey_id_minutes(t), "2026-11-22T1000Z");
        assert_eq!(survey_id_seconds(t), "2026-11-22T100005Z");
        let t = datetime!(2026-11-22 11:07:09 +01:00);
        assert_eq!(survey_id_minutes(t), "2026-11-22T1007Z", "converted to UTC");
    }

    #[test]
    fn id_validation() {
        let cases: &[(&str, bool)] = &[
            ("2026-11-22T1000Z", true),
            ("2026-11-22T100005Z-2", true),
            ("weekly.v2_test", true),
            ("", false),
            (".hidden", false),
            ("_tmp", false),
            ("a/b", false),
            ("a=b", false),
            ("..", false),
            ("with space", false),
        ];
        for (id, ok) in cases {
            assert_eq!(validate_survey_id(id).is_ok(), *ok, "{id:?}");
        }
    }

    #[test]
    fn create_picks_minutes_then_seconds_then_suffix() {
        let root = tempfile::tempdir().unwrap();
        let t = datetime!(2026-11-22 10:00:05 UTC);
        let tmpl = || Manifest::new("", "");
        let ids: Vec<String> = (0..4)
            .map(|_| create_survey(root.path(), None, t, tmpl()).unwrap().id)
            .collect();
        assert_eq!(
            ids,
            [
                "2026-11-22T1000Z",
                "2026-11-22T100005Z",
                "2026-11-22T100005Z-2",
                "2026-11-22T100005Z-3"
            ]
        );
        let s = create_survey(root.path(), Some("explicit"), t, tmpl()).unwrap();
        assert_eq!(s.dir, root.path().join("survey=explicit"));
        assert_eq!(s.manifest.started_at, "2026-11-22T10:00:05Z");
        assert_eq!(Manifest::load(&s.dir).unwrap().survey_id, "explicit");
        assert!(matches!(
            create_survey(root.path(), Some("explicit"), t, tmpl()),
            Err(StoreError::SurveyExists(_))
        ));
        assert!(matches!(
            create_survey(root.path(), Some("../x"), t, tmpl()),
            Err(StoreError::SurveyId(_))
        ));
        let listed: Vec<String> = list_surveys(root.path())
            .unwrap()
            .into_iter()
            .map(|(id, _)| id)
            .collect();
        // Oldest first, as started_at and then id length say (all five started at t).
        assert_eq!(
            listed,
            [
                "explicit",
                "2026-11-22T1000Z",
                "2026-11-22T100005Z",
                "2026-11-22T100005Z-2",
                "2026-11-22T100005Z-3"
            ]
        );
    }
}
