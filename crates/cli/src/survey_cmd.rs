//! `mxscan summary`, `mxscan diff`, `mxscan export`: reading finished (or partial) surveys.
//! The numbers are computed in mxscan-store (`summary`, `diff`, `export`); this file only
//! checks the paths and prints.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;
use mxscan_store::Table;
use mxscan_store::diff::SurveyDiff;
use mxscan_store::export::{ExportFormat, export};
use mxscan_store::summary::Summary;

use crate::UsageError;

/// `mxscan summary SURVEY [--json]`.
#[derive(Debug, Args)]
#[command(after_help = "\
Every share is printed with its count and its denominator (\"of N\"). MX providers are
grouped by the registrable domain of the exchange (public suffix list).")]
pub struct SummaryArgs {
    /// The survey directory (ROOT/survey=<id>).
    #[arg(value_name = "SURVEY")]
    pub survey: PathBuf,
    /// Print JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// `mxscan diff OLD NEW [--json]`.
#[derive(Debug, Args)]
#[command(after_help = "\
Classes: only_old, only_new, sts_adopted, sts_dropped, sts_mode_changed,
sts_policy_changed_same_id (RFC 8461 §3.1: the id must change with the policy),
sts_id_changed, sts_now_would_fail, sts_no_longer_would_fail, starttls_gained,
starttls_lost, cert_valid_improved, cert_valid_worsened, leaf_changed (per exchange).")]
pub struct DiffArgs {
    /// The older survey directory.
    #[arg(value_name = "OLD")]
    pub old: PathBuf,
    /// The newer survey directory.
    #[arg(value_name = "NEW")]
    pub new: PathBuf,
    /// Print JSON (every domain of every class) instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Domains listed per class in the table view.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub limit: usize,
}

/// `mxscan export SURVEY --format csv|jsonl TABLE`.
#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The survey directory (ROOT/survey=<id>).
    #[arg(value_name = "SURVEY")]
    pub survey: PathBuf,
    /// The table: domains, mx, probes or certs.
    #[arg(value_name = "TABLE")]
    pub table: String,
    /// csv (RFC 4180 with a header) or jsonl (one JSON object per line).
    #[arg(long, default_value = "csv", value_name = "FORMAT")]
    pub format: String,
    /// Write here instead of standard output.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
}

/// A survey directory must exist and hold a manifest or at least one table directory.
fn check_survey(path: &Path, what: &str) -> anyhow::Result<()> {
    if !path.is_dir() {
        return Err(UsageError(format!(
            "{what} {}: not a directory (give ROOT/survey=<id>)",
            path.display()
        ))
        .into());
    }
    let has_manifest = path.join(mxscan_store::manifest::MANIFEST_FILE).is_file();
    let has_table = Table::ALL.iter().any(|t| path.join(t.as_str()).is_dir());
    if !has_manifest && !has_table {
        let hint = std::fs::read_dir(path)
            .ok()
            .into_iter()
            .flatten()
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().to_str().map(str::to_owned))
            .find(|n| n.starts_with(mxscan_store::survey::SURVEY_DIR_PREFIX))
            .map(|n| format!(" (a root of surveys? e.g. {})", path.join(n).display()))
            .unwrap_or_default();
        return Err(UsageError(format!(
            "{what} {}: not a survey: no survey.json and no table directories{hint}",
            path.display()
        ))
        .into());
    }
    Ok(())
}

/// `mxscan summary`.
pub fn run_summary(args: SummaryArgs) -> anyhow::Result<()> {
    check_survey(&args.survey, "SURVEY")?;
    let s = Summary::compute(&args.survey)
        .with_context(|| format!("summarising {}", args.survey.display()))?;
    let text = if args.json {
        serde_json::to_string_pretty(&s)? + "\n"
    } else {
        s.render()
    };
    print_out(&text)
}

/// `mxscan diff`.
pub fn run_diff(args: DiffArgs) -> anyhow::Result<()> {
    check_survey(&args.old, "OLD")?;
    check_survey(&args.new, "NEW")?;
    let d = SurveyDiff::between(&args.old, &args.new).with_context(|| {
        format!(
            "comparing {} with {}",
            args.old.display(),
            args.new.display()
        )
    })?;
    let text = if args.json {
        serde_json::to_string_pretty(&d)? + "\n"
    } else {
        d.render(args.limit)
    };
    print_out(&text)
}

/// `mxscan export`.
pub fn run_export(args: ExportArgs) -> anyhow::Result<()> {
    let format = ExportFormat::from_name(&args.format)
        .ok_or_else(|| UsageError(format!("--format {}: expected csv or jsonl", args.format)))?;
    let table = Table::from_name(&args.table).ok_or_else(|| {
        UsageError(format!(
            "TABLE {}: expected domains, mx, probes or certs",
            args.table
        ))
    })?;
    check_survey(&args.survey, "SURVEY")?;
    let rows = match &args.output {
        Some(path) => {
            let file = std::fs::File::create(path)
                .map_err(|e| UsageError(format!("--output {}: {e}", path.display())))?;
            let mut w = std::io::BufWriter::new(file);
            let rows = export(&args.survey, table, format, &mut w)
                .with_context(|| format!("exporting {} of {}", table, args.survey.display()))?;
            w.flush()
                .with_context(|| format!("writing {}", path.display()))?;
            rows
        }
        None => {
            let stdout = std::io::stdout();
            let lock = stdout.lock();
            match export(&args.survey, table, format, lock) {
                Ok(rows) => rows,
                Err(e) if is_broken_pipe(&e) => return Ok(()),
                Err(e) => {
                    return Err(e).with_context(|| {
                        format!("exporting {} of {}", table, args.survey.display())
                    });
                }
            }
        }
    };
    eprintln!("{rows} {table} rows exported as {}", format.as_str());
    Ok(())
}

fn is_broken_pipe(e: &mxscan_store::StoreError) -> bool {
    let mut src: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(s) = src {
        if let Some(io) = s.downcast_ref::<std::io::Error>()
            && io.kind() == std::io::ErrorKind::BrokenPipe
        {
            return true;
        }
        src = s.source();
    }
    false
}

/// Print to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        Err(e) => Err(e).context("writing to standard output"),
    }
}
