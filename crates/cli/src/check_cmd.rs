//! `mxscan check DOMAIN…`: what a mail operator asks of a few live domains, answered by the
//! same engine and politeness as a survey. The rows stay in memory unless `--out` is given
//! (then a survey directory is written too, and read back). This file parses flags, prints
//! the report and picks the exit status; the verdicts are the engine's (`engine::check`).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use anyhow::Context;
use clap::Args;
use mxscan_engine::check::{DomainReport, delivery_reason, problems, sentence, strip_effect};
use mxscan_engine::config::ScanConfig;
use mxscan_engine::sink::Rows;
use mxscan_engine::survey::{LogEvents, Output, Plan, Source, Survey, SurveyError};
use mxscan_model::{CertRow, Deviation, DomainRow, MxRow, ProbeRow, TxtStatus};

use crate::UsageError;
use crate::config::Explicit;

/// Check a few live domains: MX hosts, STARTTLS, certificates, MTA-STS, TLS-RPT, and what an
/// enforcing sender would do. Exit status: 0 all is well, 1 a problem was found, 2 usage.
#[derive(Debug, Args)]
#[command(after_help = "\
The scan options are those of `mxscan scan` (resolver, trust anchors, --allow, ports,
timeouts, politeness); no survey directory is written unless --out is given.

Example against the testbed (see `mxscan testbed serve`):
  mxscan check --resolver 127.0.0.1:5353 --trust-anchor ca.pem --allow 127.0.0.0/8 \\
      --smtp-port 2525 --https-port 8443 example.com")]
pub struct CheckFlags {
    /// Domains to check.
    #[arg(value_name = "DOMAIN", required = true)]
    pub domains: Vec<String>,
    /// One JSON object per domain and line: the `domains` columns, `mx` (the domain's `mx`
    /// rows), `problems` and `delivery_reason`.
    #[arg(long)]
    pub json: bool,
    /// The scan options.
    #[command(flatten)]
    pub scan: ScanConfig,
}

/// [`CheckFlags`] with the ids given on the command line (`--out` writes a survey only when
/// given).
pub type CheckArgs = Explicit<CheckFlags>;

pub fn run(args: CheckArgs) -> anyhow::Result<()> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    let reports = runtime.block_on(check(&args))?;
    let mut out = String::new();
    for r in &reports {
        if args.json {
            let mut v = serde_json::to_value(r).context("encoding the report")?;
            v["delivery_reason"] = delivery_reason(&r.domain, &r.mx).into();
            out.push_str(&v.to_string());
            out.push('\n');
        } else {
            out.push_str(&render(r));
        }
    }
    print!("{out}");
    if reports.iter().any(|r| !r.problems.is_empty()) {
        std::process::exit(1);
    }
    Ok(())
}

/// Scan the domains and build one report each, in the order given.
pub async fn check(args: &CheckArgs) -> anyhow::Result<Vec<DomainReport>> {
    let config = args.scan.clone().validate().map_err(|e| UsageError(e.0))?;
    // A name that is not a host name is the caller's mistake, not a skipped line.
    let mut wanted = Vec::new();
    for d in &args.domains {
        let name = mxscan_ingest::normalize_domain(d)
            .map_err(|e| UsageError(format!("{d:?} is not a domain name: {e}")))?;
        if !wanted.contains(&name) {
            wanted.push(name);
        }
    }
    let output = if args.explicit.contains("out") {
        Output::NewSurvey
    } else {
        Output::Memory
    };
    let plan = Plan::new(Source::Domains(wanted.clone()), output);
    let survey = Survey::build(config, plan, Arc::new(LogEvents))
        .await
        .map_err(|e| match e {
            SurveyError::Usage(m) => UsageError(m).into(),
            other => anyhow::Error::new(other),
        })?;
    let report = survey.run(Arc::new(AtomicBool::new(false))).await?;
    let rows = match (report.rows, &report.survey_dir) {
        (Some(rows), _) => rows,
        (None, Some(dir)) => {
            eprintln!("survey written to {}", dir.display());
            read_back(dir)?
        }
        (None, None) => anyhow::bail!("the survey returned no rows"),
    };
    Ok(reports(rows, &wanted))
}

fn read_back(dir: &Path) -> anyhow::Result<Rows> {
    use mxscan_store::reader;
    let ctx = || format!("reading {}", dir.display());
    Ok(Rows {
        domains: reader::read_domains(dir).with_context(ctx)?,
        mx: reader::read_mx(dir).with_context(ctx)?,
        probes: reader::read_probes(dir).with_context(ctx)?,
        certs: reader::read_certs(dir).with_context(ctx)?,
    })
}

/// Group the rows by domain, in the order asked.
fn reports(rows: Rows, order: &[String]) -> Vec<DomainReport> {
    let mut mx: HashMap<String, Vec<MxRow>> = HashMap::new();
    for m in rows.mx {
        mx.entry(m.domain.clone()).or_default().push(m);
    }
    let probes: HashMap<String, ProbeRow> = rows
        .probes
        .into_iter()
        .map(|p| (p.address.clone(), p))
        .collect();
    let certs: HashMap<String, CertRow> = rows
        .certs
        .into_iter()
        .map(|c| (c.sha256.clone(), c))
        .collect();
    let mut by_name: HashMap<String, DomainRow> = rows
        .domains
        .into_iter()
        .map(|d| (d.domain.clone(), d))
        .collect();
    order
        .iter()
        .filter_map(|name| by_name.remove(name))
        .map(|domain| {
            let mx = mx.remove(&domain.domain).unwrap_or_default();
            let problems = problems(&domain, &mx);
            let probes = mx
                .iter()
                .filter_map(|m| {
                    probes
                        .get(&m.address)
                        .map(|p| (m.address.clone(), p.clone()))
                })
                .collect::<HashMap<_, _>>();
            let certs = probes
                .values()
                .filter_map(|p| p.chain_sha256.first())
                .filter_map(|h| certs.get(h).map(|c| (h.clone(), c.clone())))
                .collect();
            DomainReport {
                domain,
                mx,
                probes,
                certs,
                problems,
            }
        })
        .collect()
}

/// The report of one domain for a terminal.
fn render(r: &DomainReport) -> String {
    let d = &r.domain;
    let mut o = String::new();
    let verdict = match r.problems.len() {
        0 => "ok".to_string(),
        1 => "1 problem".to_string(),
        n => format!("{n} problems"),
    };
    let _ = writeln!(o, "{} — {verdict}", d.domain);
    let mx_line = if d.null_mx {
        "null MX (RFC 7505): the domain accepts no mail".to_string()
    } else if d.implicit_mx {
        "no MX: the domain's own address is its mail host (RFC 5321 §5.1)".to_string()
    } else {
        format!("MX {}", d.mx_hosts.join(", "))
    };
    let _ = writeln!(o, "  DNS       {}; {mx_line}", d.dns_status);
    for m in &r.mx {
        let _ = writeln!(o, "  {} (pref {}) {}", m.exchange, m.preference, m.address);
        let probe = r.probes.get(&m.address);
        let tls = probe
            .and_then(|p| p.tls_version.as_deref())
            .map(|v| {
                let suite = probe.and_then(|p| p.cipher_suite.as_deref()).unwrap_or("");
                format!(", {v} {suite}")
            })
            .unwrap_or_default();
        let starttls = match m.starttls {
            Some(true) => "STARTTLS offered",
            Some(false) => "no STARTTLS",
            None => "STARTTLS unknown",
        };
        let _ = writeln!(o, "    SMTP    {}: {starttls}{tls}", m.smtp_status);
        if let Some(c) = m.cert_status {
            let expiry = probe
                .and_then(|p| p.chain_sha256.first())
                .and_then(|h| r.certs.get(h))
                .map(|c| format!(", expires {}", c.not_after))
                .unwrap_or_default();
            let _ = writeln!(o, "    cert    {c} for {}{expiry}", m.exchange);
        }
    }
    let record = match (d.sts_record, &d.sts_id) {
        (TxtStatus::Valid, Some(id)) => format!("record valid (id {id})"),
        (s, _) => format!("record {s}"),
    };
    let policy = match (&d.sts_mode, d.sts_max_age) {
        (Some(mode), Some(age)) => format!(
            "policy {}: mode {mode}, max_age {age}, mx {}",
            d.sts_policy,
            d.sts_mx.join(" ")
        ),
        _ => format!("policy {}", d.sts_policy),
    };
    let _ = writeln!(o, "  MTA-STS   {record}; {policy}");
    if let Some(e) = d.sts_fetch_error {
        let http = d
            .sts_http_status
            .map(|s| format!(" (HTTP {s})"))
            .unwrap_or_default();
        let _ = writeln!(o, "            fetch error {e}: {}{http}", e.description());
    }
    for dev in &d.sts_deviations {
        let text = dev
            .parse::<Deviation>()
            .map(|v| sentence(strip_effect(v.description())).to_string())
            .unwrap_or_default();
        let _ = writeln!(o, "            deviation {dev}: {text}");
    }
    let rua = if d.tlsrpt_rua.is_empty() {
        String::new()
    } else {
        format!(": {}", d.tlsrpt_rua.join(", "))
    };
    let _ = writeln!(o, "  TLS-RPT   {}{rua}", d.tlsrpt_record);
    let _ = writeln!(
        o,
        "  enforcing sender: {} — {}",
        d.sts_delivery,
        delivery_reason(d, &r.mx)
    );
    for p in &r.problems {
        let _ = writeln!(o, "  problem: {p}");
    }
    o.push('\n');
    o
}
