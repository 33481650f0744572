//! Third-party tools the tests point at the testbed (`openssl s_client`, `curl`, `dig`) and
//! the Python modules that read surveys: present or not (a test without its tool says so and
//! returns), and running one with no stdin, no proxy settings and a deadline.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

/// Is `tool` installed (its version query succeeds)? Says which package to install if not.
pub fn tool_available(tool: &str) -> bool {
    let (version, package) = match tool {
        "openssl" => ("version", "openssl"),
        "dig" => ("-v", "bind9-dnsutils"),
        _ => ("--version", tool),
    };
    let found = Command::new(tool)
        .arg(version)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        eprintln!("SKIPPED: {tool} not installed (apt-get install -y {package}); test not run");
    }
    found
}

/// Environment a tool must not see: proxies (every address is loopback) and default trust
/// stores (each test names its CA file).
const SCRUBBED_ENV: [&str; 8] = [
    "http_proxy",
    "https_proxy",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "all_proxy",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
];

/// Run a tool with no stdin and a scrubbed environment, killed after `wait` (`None`: it
/// timed out).
pub async fn run_tool(cmd: &mut tokio::process::Command, wait: Duration) -> Option<Output> {
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true);
    for var in SCRUBBED_ENV {
        cmd.env_remove(var);
    }
    tokio::time::timeout(wait, cmd.output())
        .await
        .ok()
        .map(|r| r.expect("tool runs"))
}

/// A tool's stdout and stderr, for messages and for matching.
pub fn output_text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Run `cmd` to its end and require success; `what` names it in the failure message, with
/// the exit status and stderr. Its output.
pub fn run_ok(cmd: &mut Command, what: &str) -> Output {
    let out = cmd.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what}: {:?}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    out
}

/// Can `python3` import `module`? Says that part of the test is skipped if not.
pub fn python_has(module: &str) -> bool {
    let ok = Command::new("python3")
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("SKIPPED part of the test: python3 module {module} is missing (CI installs it)");
    }
    ok
}
