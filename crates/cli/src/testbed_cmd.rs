//! `mxscan testbed …`: the simulated mail internet from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use anyhow::Context;
use clap::{Args, Subcommand};
use mxscan_ingest::{Ingest, IngestOptions, Input};
use mxscan_model::Change;
use mxscan_store::diff::{DomainFacts, LeafMap, diff};
use mxscan_testbed::profile::{LatencyConfig, Profile};
use mxscan_testbed::truth::{DomainTruth, ScenarioNames, truth_for_list};
use mxscan_testbed::world::{World, WorldConfig};
use mxscan_testbed::{Testbed, TestbedConfig};
use serde::Serialize;

use crate::UsageError;

#[derive(Debug, Subcommand)]
pub enum TestbedCommand {
    /// Run the world's DNS, SMTP and HTTPS servers until Ctrl-C / SIGTERM. Prints one JSON
    /// line with the addresses and the CA path once ready.
    Serve(ServeArgs),
    /// Print a synthetic domain list (`rank,domain`) with realistic-looking names; no two
    /// dedicated MX names of the list share an address, so the truth is unambiguous.
    Domains(DomainsArgs),
    /// Print the expected scan result of every domain in LIST as JSON lines (the columns
    /// and vocabularies of the survey's domains table, with an `mx` array).
    Truth(TruthArgs),
    /// Print what `mxscan diff` must report between a survey of LIST at epoch FROM and one
    /// at epoch TO of the same world: per domain the change classes, then one summary line
    /// per class.
    #[command(long_about = TRUTH_DIFF_ABOUT)]
    TruthDiff(TruthDiffArgs),
}

const TRUTH_DIFF_ABOUT: &str = "\
Print what `mxscan diff OLD NEW` must report when OLD is a survey of LIST at epoch FROM and
NEW one at epoch TO of the same world (seed, profile): the expected change classes, computed
from the two ground truths with the class definitions of `mxscan diff`.

Output (JSON lines, the default):
  one line per domain with at least one change, in list order:
    {\"domain\":\"d.com\",\"changes\":[\"sts_adopted\",…],\"from\":{\"dns\":…,\"sts\":…,\"tlsrpt\":…},\"to\":{…}}
    (\"from\"/\"to\" are the world's scenarios at the two epochs; \"ambiguous\":true marks a
    domain whose certificate verdicts depend on which name the scanner probes first)
  one line per MX exchange whose leaf certificate changes:
    {\"exchange\":\"mx1.d.com\",\"changes\":[\"leaf_changed\"]}
  one summary line per class, every class of `mxscan diff`:
    {\"class\":\"sts_adopted\",\"count\":3,\"denominator\":2000,\"of\":\"common domains\"}
`--format text` prints the table of `mxscan diff` instead.

Classes (as `mxscan diff`): sts_adopted, sts_dropped, sts_mode_changed,
sts_policy_changed_same_id (same id, different mode / max_age / mx: RFC 8461 §3.1 says the id
must change), sts_id_changed, sts_now_would_fail, sts_no_longer_would_fail, starttls_gained,
starttls_lost, cert_valid_improved, cert_valid_worsened, leaf_changed (per exchange),
only_old, only_new (always empty: one list).

leaf_changed assumes ONE running testbed serves both epochs (`Testbed::set_epoch`, or SIGUSR1
to `mxscan testbed serve`): its CA issues each certificate once, so an unchanged certificate
is the same leaf. Two separate `testbed serve` processes have two CAs, and every leaf differs.";

#[derive(Debug, Args)]
pub struct WorldArgs {
    /// World seed: the same seed gives the same world, in any process.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Scenario weights: `realistic` (published measurements) or `stress` (every scenario
    /// equally likely).
    #[arg(long, default_value = "realistic")]
    pub profile: Profile,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// DNS server address (UDP and TCP). Use 127.0.0.1:53 (as root) for unmodified tools.
    #[arg(long, default_value = "127.0.0.1:5300", value_name = "ADDR:PORT")]
    pub dns: SocketAddr,
    /// SMTP port on every 127.x.y.z address (25 as root; 0 = any free port).
    #[arg(long, default_value_t = 2525)]
    pub smtp_port: u16,
    /// HTTPS port on every 127.x.y.z address (443 as root; 0 = any free port).
    #[arg(long, default_value_t = 8443)]
    pub https_port: u16,
    /// Plain-HTTP port of the AIA caIssuers hosts on 127.4.0.x (80 as root; 0 = any free
    /// port; give it to `mxscan scan --http-port`).
    #[arg(long, default_value_t = 8080)]
    pub http_port: u16,
    /// Write the CA bundle (root + intermediate, for `--trust-anchor`) here.
    #[arg(long, default_value = "testbed-ca.pem", value_name = "FILE")]
    pub ca_out: PathBuf,
    /// Also write the root alone here (a scan given only the root completes incomplete
    /// chains through AIA, or not at all).
    #[arg(long, value_name = "FILE")]
    pub root_out: Option<PathBuf>,
    /// Median simulated round-trip time per host, milliseconds (long-tailed; 0 = none).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency: u32,
    /// Greeting delay of the greet-delay hosts, seconds.
    #[arg(long, default_value_t = 6.0, value_name = "SECS")]
    pub greet_delay: f64,
    /// Log every accepted SMTP/HTTPS connection to this JSONL file.
    #[arg(long, value_name = "FILE")]
    pub conn_log: Option<PathBuf>,
    /// Serve the world at this epoch (0 = today's world; each epoch is about a month
    /// later). SIGUSR1 moves the running world one epoch on (keeping the CA, so unchanged
    /// certificates stay the same leaf) and prints `{"epoch":N}`.
    #[arg(long, default_value_t = 0, value_name = "E")]
    pub epoch: u32,
}

#[derive(Debug, Args)]
pub struct DomainsArgs {
    /// How many domains.
    #[arg(long)]
    pub count: u64,
    #[command(flatten)]
    pub world: WorldArgs,
    /// Keep the list unambiguous (no two dedicated MX names on one address) at every epoch
    /// from 0 to E: give the last epoch the list will be served at.
    #[arg(long, default_value_t = 0, value_name = "E")]
    pub epoch: u32,
}

#[derive(Debug, Args)]
pub struct TruthArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// The world's epoch (0 = today's world; each epoch is about a month later).
    #[arg(long, default_value_t = 0, value_name = "E")]
    pub epoch: u32,
    /// The domain list (any format `mxscan scan` reads; `-` for standard input).
    #[arg(value_name = "LIST")]
    pub list: String,
}

#[derive(Debug, Args)]
pub struct TruthDiffArgs {
    #[command(flatten)]
    pub world: WorldArgs,
    /// The epoch of the old survey.
    #[arg(long, value_name = "E1")]
    pub from: u32,
    /// The epoch of the new survey.
    #[arg(long, value_name = "E2")]
    pub to: u32,
    /// `json` (JSON lines: changed domains, changed exchanges, one summary per class) or
    /// `text` (the table of `mxscan diff`).
    #[arg(long, default_value = "json", value_parser = ["json", "text"])]
    pub format: String,
    /// `text`: at most this many domains listed per class.
    #[arg(long, default_value_t = 10, value_name = "N")]
    pub limit: usize,
    /// The domain list (any format `mxscan scan` reads; `-` for standard input).
    #[arg(value_name = "LIST")]
    pub list: String,
}

fn world_config(w: &WorldArgs) -> WorldConfig {
    WorldConfig {
        seed: w.seed,
        profile: w.profile,
        ..WorldConfig::default()
    }
}

pub fn run(cmd: TestbedCommand) -> anyhow::Result<()> {
    match cmd {
        TestbedCommand::Serve(args) => serve(args),
        TestbedCommand::Domains(args) => {
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            writeln!(out, "rank,domain")?;
            for (rank, name) in mxscan_testbed::names::synthetic_domains_through(
                args.world.seed,
                args.count,
                args.world.profile,
                args.epoch,
            ) {
                if writeln!(out, "{rank},{name}").is_err() {
                    return Ok(()); // reader went away (e.g. `| head`)
                }
            }
            out.flush().ok();
            Ok(())
        }
        TestbedCommand::Truth(args) => {
            let world = World::new(world_config(&args.world)).with_epoch(args.epoch);
            let domains = read_list(&args.list)?;
            let out = std::io::stdout();
            let mut out = std::io::BufWriter::new(out.lock());
            for truth in mxscan_testbed::truth::truth_for_list(&world, &domains) {
                serde_json::to_writer(&mut out, &truth)?;
                if writeln!(out).is_err() {
                    return Ok(());
                }
            }
            out.flush().ok();
            Ok(())
        }
        TestbedCommand::TruthDiff(args) => truth_diff(args),
    }
}

/// The normalised domains of a list, in order (as `mxscan scan` reads them).
fn read_list(list: &str) -> anyhow::Result<Vec<String>> {
    let mut domains = Vec::new();
    let mut ingest = Ingest::new([Input::from_arg(list)], IngestOptions::default());
    for item in ingest.by_ref() {
        match item {
            Ok(e) => domains.push(e.domain),
            Err(e) if e.stops_input() => return Err(UsageError(e.to_string()).into()),
            Err(e) => eprintln!("mxscan: skipped: {e}"),
        }
    }
    Ok(domains)
}

/// The facts `mxscan diff` compares, from a truth row.
fn facts(t: &DomainTruth) -> DomainFacts {
    let mut sts_mx = t.sts_mx.clone();
    sts_mx.sort();
    sts_mx.dedup();
    DomainFacts {
        domain: t.domain.clone(),
        starttls: t.starttls,
        cert_valid: t.cert_valid,
        sts_record: t.sts_record,
        sts_id: t.sts_id.clone(),
        sts_policy: t.sts_policy,
        sts_mode: t.sts_mode,
        sts_max_age: t.sts_max_age.map(|a| a as i64),
        sts_mx,
        sts_delivery: t.sts_delivery,
    }
}

/// One epoch of the list: the facts of every domain, the expected leaf certificates per
/// exchange, the scenario of every domain, and what cannot be predicted (domains and
/// exchanges with `ambiguous` rows).
struct EpochTruth {
    facts: Vec<DomainFacts>,
    leaves: LeafMap,
    scenarios: Vec<ScenarioNames>,
    ambiguous_domains: BTreeSet<String>,
    ambiguous_exchanges: BTreeSet<String>,
}

fn epoch_truth(world: &World, domains: &[String]) -> EpochTruth {
    let mut out = EpochTruth {
        facts: Vec::with_capacity(domains.len()),
        leaves: LeafMap::new(),
        scenarios: Vec::with_capacity(domains.len()),
        ambiguous_domains: BTreeSet::new(),
        ambiguous_exchanges: BTreeSet::new(),
    };
    for t in truth_for_list(world, domains) {
        for row in &t.mx {
            if row.ambiguous {
                out.ambiguous_domains.insert(t.domain.clone());
                out.ambiguous_exchanges.insert(row.exchange.clone());
            }
            let Ok(addr) = row.address.parse::<Ipv4Addr>() else {
                continue;
            };
            if let Some(leaf) = world.expected_leaf(addr, &row.exchange) {
                out.leaves
                    .entry(row.exchange.clone())
                    .or_default()
                    .insert(leaf);
            }
        }
        out.facts.push(facts(&t));
        out.scenarios.push(t.scenario);
    }
    out
}

/// A changed domain in `truth-diff`'s output (fields in this order).
#[derive(Serialize)]
struct DomainLine<'a> {
    domain: &'a str,
    changes: &'a [&'static str],
    from: &'a ScenarioNames,
    to: &'a ScenarioNames,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    ambiguous: bool,
}

fn truth_diff(args: TruthDiffArgs) -> anyhow::Result<()> {
    let domains = read_list(&args.list)?;
    let config = world_config(&args.world);
    let old = epoch_truth(&World::new(config.clone()).with_epoch(args.from), &domains);
    let new = epoch_truth(&World::new(config).with_epoch(args.to), &domains);
    let ambiguous: BTreeSet<&String> = old
        .ambiguous_domains
        .iter()
        .chain(&new.ambiguous_domains)
        .collect();
    let (mut old_leaves, mut new_leaves) = (old.leaves, new.leaves);
    for x in old
        .ambiguous_exchanges
        .iter()
        .chain(&new.ambiguous_exchanges)
    {
        old_leaves.remove(x);
        new_leaves.remove(x);
    }
    let mut d = diff(old.facts, new.facts, &old_leaves, &new_leaves);
    d.old_survey = format!("truth seed {} epoch {}", args.world.seed, args.from);
    d.new_survey = format!("truth seed {} epoch {}", args.world.seed, args.to);

    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    if args.format == "text" {
        if out.write_all(d.render(args.limit).as_bytes()).is_err() {
            return Ok(());
        }
        out.flush().ok();
        return Ok(());
    }
    // item → its classes, in class order.
    let mut by_item: HashMap<&str, Vec<&'static str>> = HashMap::new();
    for c in Change::ALL {
        if *c == Change::LeafChanged {
            continue;
        }
        for item in &d.get(*c).items {
            by_item.entry(item.as_str()).or_default().push(c.as_str());
        }
    }
    for (i, domain) in domains.iter().enumerate() {
        let Some(changes) = by_item.get(domain.as_str()) else {
            continue;
        };
        let line = DomainLine {
            domain,
            changes,
            from: &old.scenarios[i],
            to: &new.scenarios[i],
            ambiguous: ambiguous.contains(domain),
        };
        if writeln!(out, "{}", serde_json::to_string(&line)?).is_err() {
            return Ok(());
        }
    }
    for x in &d.get(Change::LeafChanged).items {
        let line = serde_json::json!({"exchange": x, "changes": [Change::LeafChanged.as_str()]});
        if writeln!(out, "{line}").is_err() {
            return Ok(());
        }
    }
    for c in Change::ALL {
        let l = d.get(*c);
        let line = serde_json::json!({
            "class": c.as_str(),
            "count": l.count,
            "denominator": l.denominator,
            "of": l.of,
        });
        if writeln!(out, "{line}").is_err() {
            return Ok(());
        }
    }
    out.flush().ok();
    Ok(())
}

fn serve(args: ServeArgs) -> anyhow::Result<()> {
    if !(args.greet_delay.is_finite() && args.greet_delay >= 0.0) {
        return Err(UsageError("--greet-delay must be a number of seconds".into()).into());
    }
    let config = TestbedConfig {
        world: WorldConfig {
            latency: LatencyConfig::with_median_ms(args.latency),
            greet_delay: std::time::Duration::from_secs_f64(args.greet_delay),
            ..world_config(&args.world)
        },
        dns: args.dns,
        smtp: SocketAddr::from(([0, 0, 0, 0], args.smtp_port)),
        https: SocketAddr::from(([0, 0, 0, 0], args.https_port)),
        http: SocketAddr::from(([0, 0, 0, 0], args.http_port)),
        conn_log: args.conn_log.clone(),
        epoch: args.epoch,
    };
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("starting the async runtime")?;
    runtime.block_on(async move {
        let testbed = Testbed::start(config)
            .await
            .context("starting the testbed servers")?;
        testbed
            .write_ca(&args.ca_out)
            .with_context(|| format!("writing the CA to {}", args.ca_out.display()))?;
        if let Some(root) = &args.root_out {
            testbed
                .write_root_ca(root)
                .with_context(|| format!("writing the root to {}", root.display()))?;
        }
        let ca = std::fs::canonicalize(&args.ca_out).unwrap_or(args.ca_out.clone());
        // Before the ready line: a SIGUSR1 sent as soon as it is read must find the handler.
        let mut usr1 = epoch_signal();
        println!("{}", serde_json::to_string(&testbed.ready(Some(&ca)))?);
        std::io::stdout().flush().ok();
        let shutdown = wait_for_shutdown();
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => break,
                _ = next_epoch_signal(&mut usr1) => {
                    let epoch = testbed.epoch() + 1;
                    testbed.set_epoch(epoch);
                    println!("{}", serde_json::json!({ "epoch": epoch }));
                    std::io::stdout().flush().ok();
                    eprintln!("testbed: now at epoch {epoch}");
                }
            }
        }
        eprintln!(
            "testbed: stopping ({} DNS queries, {} connections)",
            testbed.dns_queries(),
            testbed.conn_log().total()
        );
        Ok(())
    })
}

/// The SIGUSR1 stream that moves the served world one epoch on (none on other platforms).
#[cfg(unix)]
type EpochSignal = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type EpochSignal = ();

fn epoch_signal() -> EpochSignal {
    #[cfg(unix)]
    {
        tokio::signal::unix::signal(tokio::signal::unix::SignalKind::user_defined1()).ok()
    }
}

/// The next SIGUSR1 (never, where there is none).
async fn next_epoch_signal(signal: &mut EpochSignal) {
    #[cfg(unix)]
    if let Some(s) = signal
        && s.recv().await.is_some()
    {
        return;
    }
    let _ = signal;
    std::future::pending::<()>().await
}

async fn wait_for_shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending::<()>().await } } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
