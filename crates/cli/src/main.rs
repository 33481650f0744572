//! `mxscan`: the binary. Wiring only — every capability lives in a library crate
//! (see ARCHITECTURE.md). Exit status: 0 when the command did its job (whatever the verdicts
//! it reports), 1 on a runtime failure, 2 for unusable arguments.

mod check_cmd;
mod config;
mod demo_cmd;
mod policy_cmd;
mod scan_cmd;
mod survey_cmd;
mod testbed_cmd;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// mimalloc instead of glibc malloc: a survey allocates and frees millions of small,
/// short-lived objects on two worker threads, and glibc's per-thread arenas kept the
/// resident set at about twice the live heap (heaptrack, 300k domains: 220 MB live,
/// 507 MB resident). See docs/performance.md. Feature `mimalloc` (default).
#[cfg(feature = "mimalloc")]
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v2's `mi_option_t` (mimalloc.h); the sys crate does
/// not name it.
#[cfg(feature = "mimalloc")]
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

/// Return freed pages to the OS at once instead of after mimalloc's default 10 ms: a survey
/// frees large transient buffers (Parquet row groups, DNS cache generations) every few
/// seconds, and with the delay they overlapped the next ones in the resident set (1M-domain
/// bench: peak RSS 354 → 321 MB for ≈ 2 % more CPU). `MIMALLOC_PURGE_DELAY` still wins.
#[cfg(feature = "mimalloc")]
#[allow(unsafe_code)]
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets one integer option; called first thing in `main`, before any other
        // thread exists (mimalloc's option setters are not thread safe).
        unsafe { libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, 0) };
    }
}

#[cfg(not(feature = "mimalloc"))]
fn tune_allocator() {}

/// Measurement scanner for email transport security: STARTTLS, certificates, MTA-STS
/// (RFC 8461) and TLS-RPT (RFC 8460), per domain and per MX host, to Parquet.
#[derive(Debug, Parser)]
#[command(name = "mxscan", version, about, long_about = None, propagate_version = true)]
struct Cli {
    /// Log verbosity: -v info, -vv debug, -vvv trace (or set RUST_LOG).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a few live domains and print a report (exit 0 all well, 1 a problem found).
    Check(Box<check_cmd::CheckArgs>),
    /// Run a first survey of a simulated mail internet on loopback: no network, no setup.
    Demo(demo_cmd::DemoArgs),
    /// Check MTA-STS policy bodies and TXT records offline (RFC 8461, RFC 8460).
    #[command(subcommand)]
    Policy(policy_cmd::PolicyCommand),
    /// Scan domain lists into a survey (Parquet): MX, STARTTLS, certificates, MTA-STS, TLS-RPT.
    Scan(Box<scan_cmd::ScanArgs>),
    /// The simulated mail internet: serve it, list its domains, print its ground truth.
    #[command(subcommand)]
    Testbed(testbed_cmd::TestbedCommand),
    /// Adoption statistics of a survey, every share with its denominator (--json for machines).
    Summary(survey_cmd::SummaryArgs),
    /// What changed between two surveys: MTA-STS, STARTTLS, certificates, per domain.
    Diff(survey_cmd::DiffArgs),
    /// One table of a survey as CSV or JSON Lines.
    Export(survey_cmd::ExportArgs),
}

/// An error that is the caller's fault (bad argument, unreadable input): exit status 2.
#[derive(Debug)]
pub(crate) struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

fn init_tracing(verbose: u8) {
    use tracing_subscriber::EnvFilter;
    let default = match verbose {
        0 => "warn",
        1 => "info",
        2 => "debug",
        _ => "trace",
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}

fn main() -> ExitCode {
    tune_allocator();
    let cli = Cli::parse();
    init_tracing(cli.verbose);
    let result = match cli.command {
        Command::Check(args) => check_cmd::run(*args),
        Command::Demo(args) => demo_cmd::run(args),
        Command::Policy(cmd) => policy_cmd::run(cmd),
        Command::Scan(args) => scan_cmd::run(*args),
        Command::Testbed(cmd) => testbed_cmd::run(cmd),
        Command::Summary(args) => survey_cmd::run_summary(args),
        Command::Diff(args) => survey_cmd::run_diff(args),
        Command::Export(args) => survey_cmd::run_export(args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            let usage = err.downcast_ref::<UsageError>().is_some();
            eprintln!("mxscan: {err:#}");
            if usage {
                ExitCode::from(2)
            } else {
                ExitCode::FAILURE
            }
        }
    }
}

#[cfg(all(test, feature = "mimalloc"))]
mod allocator_tests {
    #[test]
    #[allow(unsafe_code)]
    fn purge_delay_is_zero_unless_the_environment_sets_it() {
        super::tune_allocator();
        // SAFETY: reads one integer option.
        let delay = unsafe { libmimalloc_sys::mi_option_get(super::MI_OPTION_PURGE_DELAY) };
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Ok(v) => assert_eq!(delay.to_string(), v),
            Err(_) => assert_eq!(delay, 0),
        }
    }
}
