//! The network sandbox (`scripts/sandbox.sh` sets `MXSCAN_IN_SANDBOX=1`): tests that scan the
//! testbed, or change `lo`, run only inside it and say so when they skip.

use std::sync::{Mutex, MutexGuard};

/// True inside `scripts/sandbox.sh`.
pub fn in_sandbox() -> bool {
    std::env::var("MXSCAN_IN_SANDBOX").is_ok_and(|v| v == "1")
}

/// True inside `scripts/sandbox.sh`; outside it, says that `test` is skipped.
pub fn sandboxed(test: &str) -> bool {
    let inside = in_sandbox();
    if !inside {
        eprintln!(
            "SKIPPED {test}: scans the testbed; run it through scripts/test.sh (network sandbox)"
        );
    }
    inside
}

/// The name of the function this is expanded in (its last path segment).
#[macro_export]
macro_rules! function_name {
    () => {{
        fn here() {}
        let path = ::std::any::type_name_of_val(&here);
        let path = path.strip_suffix("::here").unwrap_or(path);
        path.rsplit("::").next().unwrap_or(path)
    }};
}

/// Return from the calling test, saying it is skipped, unless it runs inside the network
/// sandbox: the first line of every test that scans the testbed.
#[macro_export]
macro_rules! require_sandbox {
    () => {
        if !$crate::sandbox::sandboxed($crate::function_name!()) {
            return;
        }
    };
}

/// Serialise the scans of one test binary: hold the guard for the duration of a scan. Two
/// cores; timing scenarios (greeting delays, tarpits, politeness intervals) must not be
/// judged while another scan starves the machine. A poisoned lock (a failed test) is taken
/// over, not propagated.
pub fn serial() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}
