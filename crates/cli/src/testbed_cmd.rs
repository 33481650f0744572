//! `mxscan testbed …`: the simulated mail internet from the command line.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};
use mxscan_ingest::{Ingest, IngestOptions, Input};
use mxscan_testbed::profile::{LatencyConfig, Profile};
use mxscan_testbed::world::{World, WorldConfig};
use mxscan_testbed::{Testbed, TestbedConfig};

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
}

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
    /// Write the CA bundle (root + intermediate, for `--trust-anchor`) here.
    #[arg(long, default_value = "testbed-ca.pem", value_name = "FILE")]
    pub ca_out: PathBuf,
    /// Median simulated round-trip time per host, milliseconds (long-tailed; 0 = none).
    #[arg(long, default_value_t = 0, value_name = "MS")]
    pub latency: u32,
    /// Greeting delay of the greet-delay hosts, seconds.
    #[arg(long, default_value_t = 6.0, value_name = "SECS")]
    pub greet_delay: f64,
    /// Log every accepted SMTP/HTTPS connection to this JSONL file.
    #[arg(long, value_name = "FILE")]
    pub conn_log: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct DomainsArgs {
    /// How many domains.
    #[arg(long)]
    pub count: u64,
    #[command(flatten)]
    pub world: WorldArgs,
}

#[derive(Debug, Args)]
pub struct TruthArgs {
    #[command(flatten)]
    pub world: WorldArgs,
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
            for (rank, name) in mxscan_testbed::names::synthetic_domains(
                args.world.seed,
                args.count,
                args.world.profile,
            ) {
                if writeln!(out, "{rank},{name}").is_err() {
                    return Ok(()); // reader went away (e.g. `| head`)
                }
            }
            out.flush().ok();
            Ok(())
        }
        TestbedCommand::Truth(args) => {
            let world = World::new(world_config(&args.world));
            let mut domains = Vec::new();
            let mut ingest = Ingest::new([Input::from_arg(&args.list)], IngestOptions::default());
            for item in ingest.by_ref() {
                match item {
                    Ok(e) => domains.push(e.domain),
                    Err(e) if e.stops_input() => return Err(UsageError(e.to_string()).into()),
                    Err(e) => eprintln!("mxscan: skipped: {e}"),
                }
            }
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
    }
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
        conn_log: args.conn_log.clone(),
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
        let ca = std::fs::canonicalize(&args.ca_out).unwrap_or(args.ca_out.clone());
        println!("{}", serde_json::to_string(&testbed.ready(Some(&ca)))?);
        std::io::stdout().flush().ok();
        wait_for_shutdown().await;
        eprintln!(
            "testbed: stopping ({} DNS queries, {} connections)",
            testbed.dns_queries(),
            testbed.conn_log().total()
        );
        Ok(())
    })
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
