//! Testbed servers with a fixed behaviour table ([`BehaviourTable`]): one SMTP or HTTPS
//! listener on `0.0.0.0:0` with its own CA and connection log, reached on any 127.x.y.z
//! address (inside `unshare --net` only loopback exists). Also the hosts, certificates and
//! worlds that tests build again and again.

use std::future::Future;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use mxscan_testbed::behaviour::{
    Behaviours, CertDefect, CertNames, CertSpec, Conversation, SmtpScript,
};
use mxscan_testbed::ca::Ca;
use mxscan_testbed::connlog::ConnLog;
use mxscan_testbed::https_server::start_https_with;
use mxscan_testbed::listener::{ServerHandle, ServerOptions};
use mxscan_testbed::profile::Profile;
use mxscan_testbed::smtp_server::start_smtp_with;
use mxscan_testbed::table::BehaviourTable;
use mxscan_testbed::world::{World, WorldConfig};
use mxscan_testbed::{Testbed, TestbedConfig, TestbedError};

/// Upper bound for any single wait in these tests.
pub const WAIT: Duration = Duration::from_secs(10);

/// A running testbed fragment: one server, its CA, its connection log.
#[derive(Debug)]
pub struct Bed {
    pub ca: Arc<Ca>,
    pub log: ConnLog,
    pub server: ServerHandle,
}

impl Bed {
    /// The server as reached on `ip`.
    pub fn addr(&self, ip: Ipv4Addr) -> SocketAddr {
        SocketAddr::from((ip, self.server.port()))
    }
}

/// Short limits so that misbehaving paths end quickly in tests.
pub fn test_options() -> ServerOptions {
    ServerOptions {
        idle_timeout: Duration::from_secs(5),
        hold_cap: Duration::from_secs(20),
        handshake_timeout: Duration::from_secs(5),
        close_drain: Duration::from_millis(500),
        ..ServerOptions::default()
    }
}

/// Where the test servers listen: every 127/8 address, an ephemeral port.
pub fn any_addr() -> SocketAddr {
    SocketAddr::from(([0, 0, 0, 0], 0))
}

/// An SMTP server answering from `table`, with a fresh CA and log.
pub async fn smtp_bed(table: BehaviourTable) -> Bed {
    bed(table, start_smtp_with).await
}

/// An HTTPS (MTA-STS policy) server answering from `table`, with a fresh CA and log.
pub async fn https_bed(table: BehaviourTable) -> Bed {
    bed(table, start_https_with).await
}

/// The server `start` makes, answering from `table`, with a fresh CA and log.
async fn bed<F, Fut>(table: BehaviourTable, start: F) -> Bed
where
    F: FnOnce(SocketAddr, Arc<dyn Behaviours>, Arc<Ca>, ConnLog, ServerOptions) -> Fut,
    Fut: Future<Output = Result<ServerHandle, TestbedError>>,
{
    let (ca, log) = (Arc::new(Ca::new().unwrap()), ConnLog::new());
    let server = start(
        any_addr(),
        Arc::new(table),
        ca.clone(),
        log.clone(),
        test_options(),
    )
    .await
    .unwrap();
    Bed { ca, log, server }
}

/// 127.a.b.c
pub fn ip(a: u8, b: u8, c: u8) -> Ipv4Addr {
    Ipv4Addr::new(127, a, b, c)
}

/// A certificate for exactly `names`, with `defect`.
pub fn fixed(names: &[&str], defect: CertDefect) -> CertSpec {
    CertSpec {
        names: CertNames::Fixed(names.iter().map(|s| s.to_string()).collect()),
        defect,
    }
}

/// A plain, well-behaved conversation host presenting `cert` after STARTTLS.
pub fn conversation(hostname: &str, cert: CertSpec) -> Conversation {
    Conversation::well_behaved(hostname, cert)
}

/// The configuration of a world with this seed and profile (the rest default).
pub fn world_config(seed: u64, profile: Profile) -> WorldConfig {
    WorldConfig {
        seed,
        profile,
        ..WorldConfig::default()
    }
}

/// A world with this seed and profile (the rest default).
pub fn world(seed: u64, profile: Profile) -> World {
    World::new(world_config(seed, profile))
}

/// The first `count` names of the synthetic list of this seed and profile.
pub fn domains(seed: u64, count: u64, profile: Profile) -> Vec<String> {
    mxscan_testbed::names::synthetic_domains(seed, count, profile)
        .map(|(_, d)| d)
        .collect()
}

/// The whole simulated internet (DNS, SMTP, HTTPS) for `world`, on ephemeral ports.
pub async fn start_world(world: WorldConfig) -> Testbed {
    Testbed::start(TestbedConfig {
        world,
        ..TestbedConfig::default()
    })
    .await
    .expect("testbed starts")
}

/// Poll `cond` every `every` until it holds or [`WAIT`] has passed; whether it holds.
pub async fn wait_until(every: Duration, cond: impl Fn() -> bool) -> bool {
    let start = std::time::Instant::now();
    while !cond() && start.elapsed() < WAIT {
        tokio::time::sleep(every).await;
    }
    cond()
}

/// Wait (up to [`WAIT`]) until `bed`'s server holds no connection, and require it; `why`
/// says what that shows.
pub async fn assert_idle(bed: &Bed, why: &str) {
    wait_until(Duration::from_millis(20), || bed.server.active() == 0).await;
    assert_eq!(bed.server.active(), 0, "{why}");
}

/// A well-behaved host named `name`, with a valid certificate for exactly that name.
pub fn plain(name: &str) -> Conversation {
    conversation(name, fixed(&[name], CertDefect::None))
}

/// An SMTP server with one host, holding `conv` at `ip`.
pub async fn conversation_bed(ip: Ipv4Addr, conv: Conversation) -> Bed {
    smtp_bed(BehaviourTable::new().smtp_script(ip, SmtpScript::Conversation(conv))).await
}
