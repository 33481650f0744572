//! What the end-to-end tests need besides `mxscan_testkit::survey`: the binary under test
//! (`CARGO_BIN_EXE_mxscan` exists only in this crate's tests) and scanning with it.
// Each test binary uses a part of this module.
#![allow(dead_code, unused_imports)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::process::{Command, Output};

use mxscan_testbed::profile::Profile;
use serde_json::Value;

pub use mxscan_testkit::sandbox::{sandboxed, serial};
pub use mxscan_testkit::survey::{
    Harness, compare, flags_with, only_survey, quick_flags, write_domains,
};

/// The binary under test.
pub fn mxscan() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mxscan"))
}

/// `mxscan scan` against a [`Harness`]'s testbed.
pub trait Scan {
    /// Run `mxscan scan` on `list` with the testbed flags plus `extra`, into `out`; panics
    /// with its stderr unless it succeeds.
    fn scan(&self, list: &Path, out: &Path, extra: &[String]) -> Output;
    /// [`Scan::scan`], returning the output whatever the status.
    fn scan_output(&self, list: &Path, out: &Path, extra: &[String]) -> Output;
}

impl Scan for Harness {
    fn scan(&self, list: &Path, out: &Path, extra: &[String]) -> Output {
        self.scan_with(mxscan(), list, out, extra)
    }

    fn scan_output(&self, list: &Path, out: &Path, extra: &[String]) -> Output {
        self.scan_output_with(mxscan(), list, out, extra)
    }
}

/// class → (items, count, denominator)
pub type Classes = BTreeMap<String, (BTreeSet<String>, u64, u64)>;

/// Run `mxscan testbed truth-diff` and collect its classes.
pub fn truth_diff(seed: u64, profile: Profile, from: u32, to: u32, list: &Path) -> Classes {
    let out = mxscan()
        .args(["testbed", "truth-diff", "--seed", &seed.to_string()])
        .args(["--profile", profile.as_str()])
        .args(["--from", &from.to_string(), "--to", &to.to_string()])
        .arg(list)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "truth-diff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut classes = Classes::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        let v: Value = serde_json::from_str(line).unwrap();
        if let Some(class) = v["class"].as_str() {
            let e = classes.entry(class.to_owned()).or_default();
            e.1 = v["count"].as_u64().unwrap();
            e.2 = v["denominator"].as_u64().unwrap();
            continue;
        }
        assert_ne!(v["ambiguous"], true, "ambiguous truth: {line}");
        let item = v["domain"]
            .as_str()
            .or(v["exchange"].as_str())
            .unwrap()
            .to_owned();
        for c in v["changes"].as_array().unwrap() {
            classes
                .entry(c.as_str().unwrap().to_owned())
                .or_default()
                .0
                .insert(item.clone());
        }
    }
    classes
}

/// The classes of `mxscan diff --json OLD NEW`.
pub fn survey_diff(old: &Path, new: &Path) -> Classes {
    let out = mxscan()
        .arg("diff")
        .arg(old)
        .arg(new)
        .arg("--json")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "diff: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    d["changes"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(class, l)| {
            let items = l["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|i| i.as_str().unwrap().to_owned())
                .collect();
            (
                class.clone(),
                (
                    items,
                    l["count"].as_u64().unwrap(),
                    l["denominator"].as_u64().unwrap(),
                ),
            )
        })
        .collect()
}

/// The items of each class of [`Classes`].
pub fn items(classes: &Classes) -> BTreeMap<String, BTreeSet<String>> {
    classes
        .iter()
        .map(|(c, (items, _, _))| (c.clone(), items.clone()))
        .collect()
}
