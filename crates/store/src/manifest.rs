//! `survey.json`, the survey manifest (docs/schema.md "survey.json").
//!
//! Fields of the contract: `schema_version`, `survey_id`, `status` (running | partial |
//! complete), `started_at`, `finished_at`, `mxscan_version`, `input` {`path`, `sha256`,
//! `domains`}, `config` (free JSON: resolvers, rates, timeouts, ehlo_name, shard), `counts`
//! (`"table.column"` → value → rows, nulls not counted).
//!
//! Added fields: `input.paths` (all input files when there are several; `path` is the first),
//! `rows` (table → committed rows), `parts` (committed part commits), `updated_at`,
//! `resumed_at` (one RFC 3339 time per resume), and `labels` (free `key → value` strings the
//! run was given: `scan --label`, and the demo's `testbed.seed`/`testbed.epoch`). Unknown
//! fields are ignored when reading.
//!
//! The manifest is rewritten atomically: a temporary file in the same directory is written,
//! fsynced, renamed over `survey.json`, and the directory is fsynced. A reader sees the old or
//! the new manifest, never a mix. The writer task rewrites it at start, at every part commit
//! and at the end.

use std::collections::BTreeMap;
use std::fs::{self, File};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::SCHEMA_VERSION;
use crate::error::{Result, StoreError};
use crate::rows::Counts;

/// File name of the manifest inside a survey directory.
pub const MANIFEST_FILE: &str = "survey.json";

/// The survey's lifecycle state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SurveyStatus {
    /// Being written (or the writer was killed: a "running" survey nobody runs is partial).
    Running,
    /// Stopped before the whole input was scanned; `--resume` continues it.
    Partial,
    /// The whole input was scanned.
    Complete,
}

impl SurveyStatus {
    /// `running`, `partial` or `complete`.
    pub fn as_str(self) -> &'static str {
        match self {
            SurveyStatus::Running => "running",
            SurveyStatus::Partial => "partial",
            SurveyStatus::Complete => "complete",
        }
    }
}

/// The `input` object: where the domain list came from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputInfo {
    /// The input file (the first one when there are several; `-` for stdin).
    #[serde(default)]
    pub path: Option<String>,
    /// Added: every input file, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paths: Vec<String>,
    /// Hex SHA-256 of the input bytes.
    #[serde(default)]
    pub sha256: Option<String>,
    /// Domains in the input (after normalisation and deduplication).
    #[serde(default)]
    pub domains: Option<u64>,
}

/// The manifest.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`SCHEMA_VERSION`] of the writer.
    pub schema_version: String,
    /// The survey id (also the `survey=<id>` directory name).
    pub survey_id: String,
    /// Lifecycle state.
    pub status: SurveyStatus,
    /// RFC 3339 UTC start time.
    pub started_at: String,
    /// RFC 3339 UTC end time (set when the writer finishes).
    #[serde(default)]
    pub finished_at: Option<String>,
    /// Version of the mxscan binary.
    #[serde(default)]
    pub mxscan_version: String,
    /// The input list.
    #[serde(default)]
    pub input: InputInfo,
    /// The run's configuration (free JSON).
    #[serde(default)]
    pub config: serde_json::Value,
    /// `"table.column"` → value → committed rows.
    #[serde(default)]
    pub counts: Counts,
    /// Added: table → committed rows.
    #[serde(default)]
    pub rows: BTreeMap<String, u64>,
    /// Added: number of part commits so far.
    #[serde(default)]
    pub parts: u64,
    /// Added: RFC 3339 time of the last rewrite.
    #[serde(default)]
    pub updated_at: Option<String>,
    /// Added: RFC 3339 time of every resume.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resumed_at: Vec<String>,
    /// Added: labels the run was given (`key → value`), e.g. a vantage point, or the demo's
    /// `testbed.seed` and `testbed.epoch`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl Manifest {
    /// A fresh `running` manifest.
    pub fn new(survey_id: impl Into<String>, started_at: impl Into<String>) -> Self {
        Manifest {
            schema_version: SCHEMA_VERSION.to_owned(),
            survey_id: survey_id.into(),
            status: SurveyStatus::Running,
            started_at: started_at.into(),
            finished_at: None,
            mxscan_version: String::new(),
            input: InputInfo::default(),
            config: serde_json::Value::Object(Default::default()),
            counts: Counts::new(),
            rows: BTreeMap::new(),
            parts: 0,
            updated_at: None,
            resumed_at: Vec::new(),
            labels: BTreeMap::new(),
        }
    }

    /// The manifest path of a survey directory.
    pub fn path(survey_dir: &Path) -> PathBuf {
        survey_dir.join(MANIFEST_FILE)
    }

    /// Reads `survey.json` from a survey directory.
    pub fn load(survey_dir: &Path) -> Result<Manifest> {
        let path = Self::path(survey_dir);
        let bytes = fs::read(&path).map_err(|e| StoreError::io("read", &path, e))?;
        serde_json::from_slice(&bytes).map_err(|source| StoreError::Manifest { path, source })
    }

    /// Reads `survey.json` if it exists.
    pub fn load_if_exists(survey_dir: &Path) -> Result<Option<Manifest>> {
        if Self::path(survey_dir).exists() {
            Self::load(survey_dir).map(Some)
        } else {
            Ok(None)
        }
    }

    /// Writes `survey.json` atomically (temporary file, fsync, rename, directory fsync).
    pub fn store(&self, survey_dir: &Path) -> Result<()> {
        let path = Self::path(survey_dir);
        let mut json = serde_json::to_vec_pretty(self).map_err(|source| StoreError::Manifest {
            path: path.clone(),
            source,
        })?;
        json.push(b'\n');
        write_atomic(&path, &json)
    }
}

/// Writes `bytes` to `path` atomically: `.<name>.tmp` beside it, fsync, rename, fsync dir.
pub(crate) fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{name}.tmp"));
    let mut f = File::create(&tmp).map_err(|e| StoreError::io("create", &tmp, e))?;
    f.write_all(bytes)
        .map_err(|e| StoreError::io("write", &tmp, e))?;
    f.sync_all().map_err(|e| StoreError::io("fsync", &tmp, e))?;
    drop(f);
    fs::rename(&tmp, path).map_err(|e| StoreError::io("rename", &tmp, e))?;
    sync_dir(dir)
}

/// fsyncs a directory so that a rename in it is durable.
pub(crate) fn sync_dir(dir: &Path) -> Result<()> {
    let d = File::open(dir).map_err(|e| StoreError::io("open", dir, e))?;
    d.sync_all().map_err(|e| StoreError::io("fsync", dir, e))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn contract_fields_are_serialised_with_their_names() {
        let mut m = Manifest::new("2026-11-22T1000Z", "2026-11-22T10:00:00Z");
        m.mxscan_version = "0.1.0".into();
        m.input = InputInfo {
            path: Some("top.csv".into()),
            paths: vec![],
            sha256: Some("ab".repeat(32)),
            domains: Some(3),
        };
        m.counts
            .entry("domains.dns_status".into())
            .or_default()
            .insert("ok".into(), 3);
        let v: serde_json::Value = serde_json::to_value(&m).unwrap();
        for key in [
            "schema_version",
            "survey_id",
            "status",
            "started_at",
            "finished_at",
            "mxscan_version",
            "input",
            "config",
            "counts",
        ] {
            assert!(v.get(key).is_some(), "missing {key}");
        }
        assert_eq!(v["status"], "running");
        assert_eq!(v["schema_version"], SCHEMA_VERSION);
        assert_eq!(v["input"]["path"], "top.csv");
        assert_eq!(v["input"]["domains"], 3);
        assert_eq!(v["counts"]["domains.dns_status"]["ok"], 3);
    }

    #[test]
    fn store_is_atomic_and_round_trips() {
        let dir = tempfile::tempdir().unwrap();
        let mut m = Manifest::new("x", "2026-11-22T10:00:00Z");
        m.store(dir.path()).unwrap();
        m.status = SurveyStatus::Complete;
        m.finished_at = Some("2026-11-22T11:00:00Z".into());
        m.store(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), m);
        // Only the manifest remains: the temporary file was renamed away.
        let names: Vec<_> = fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        assert_eq!(names, vec![MANIFEST_FILE.to_owned()]);
    }

    /// Found by fuzzing (`crates/fuzz`, target `survey_manifest`): serde_json's default float
    /// parser is not always correctly rounded, so a `config` number such as a 106-digit
    /// `per_ip_interval` came back one ULP off after store → load, and every rewrite of
    /// `survey.json` (each part commit, each resume) could drift it further.
    #[test]
    fn config_floats_survive_a_rewrite() {
        let dir = tempfile::tempdir().unwrap();
        let text = format!(
            r#"{{"schema_version":"1","survey_id":"x","status":"partial","started_at":"t",
                "config":{{"per_ip_interval":{}1.5,"rate":0.1,"tiny":5e-324}}}}"#,
            "7".repeat(105)
        );
        fs::write(dir.path().join(MANIFEST_FILE), text).unwrap();
        let m = Manifest::load(dir.path()).unwrap();
        m.store(dir.path()).unwrap();
        assert_eq!(Manifest::load(dir.path()).unwrap(), m);
        assert_eq!(
            m.config["per_ip_interval"].as_f64(),
            Some(7.777777777777777e105)
        );
    }

    #[test]
    fn unknown_fields_are_tolerated() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"schema_version":"1","survey_id":"x","status":"partial",
                "started_at":"2026-11-22T10:00:00Z","future_field":42}"#,
        )
        .unwrap();
        let m = Manifest::load(dir.path()).unwrap();
        assert_eq!(m.status, SurveyStatus::Partial);
        assert!(m.counts.is_empty());
    }
}
