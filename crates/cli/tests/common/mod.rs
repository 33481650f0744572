//! What the end-to-end tests need besides `mxscan_testkit::survey`: the binary under test
//! (`CARGO_BIN_EXE_mxscan` exists only in this crate's tests) and scanning with it.
// Each test binary uses a part of this module.
#![allow(dead_code, unused_imports)]

use std::path::Path;
use std::process::{Command, Output};

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
