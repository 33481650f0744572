//! A whole testbed in one call: the world, its CA, and the DNS, SMTP, HTTPS and AIA (plain
//! HTTP) servers on loopback — what `mxscan testbed serve`, `mxscan demo` and the integration tests start.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use serde::Serialize;

use crate::TestbedError;
use crate::aia_server::start_aia;
use crate::ca::Ca;
use crate::connlog::ConnLog;
use crate::dns::{DnsHandle, start_dns};
use crate::https_server::start_https;
use crate::listener::ServerHandle;
use crate::smtp_server::start_smtp;
use crate::truth::DomainTruth;
use crate::world::{World, WorldConfig};

/// Where the servers listen. SMTP and HTTPS must listen on `0.0.0.0` to answer for every
/// 127.x.y.z address of the world; port 0 picks an ephemeral port.
#[derive(Debug, Clone)]
pub struct TestbedConfig {
    /// The world.
    pub world: WorldConfig,
    /// DNS (UDP and TCP) bind address.
    pub dns: SocketAddr,
    /// SMTP bind address.
    pub smtp: SocketAddr,
    /// HTTPS bind address.
    pub https: SocketAddr,
    /// AIA (plain HTTP) bind address: the caIssuers URLs of the world's leaves.
    pub http: SocketAddr,
    /// Also write every accepted connection to this JSONL file.
    pub conn_log: Option<std::path::PathBuf>,
    /// The world's epoch (0 = today's world; module `epoch`). [`Testbed::set_epoch`] moves
    /// a running testbed later.
    pub epoch: u32,
}

impl Default for TestbedConfig {
    fn default() -> Self {
        TestbedConfig {
            world: WorldConfig::default(),
            dns: SocketAddr::from(([127, 0, 0, 1], 0)),
            smtp: SocketAddr::from(([0, 0, 0, 0], 0)),
            https: SocketAddr::from(([0, 0, 0, 0], 0)),
            http: SocketAddr::from(([0, 0, 0, 0], 0)),
            conn_log: None,
            epoch: 0,
        }
    }
}

/// A running testbed. Dropping it stops every server.
#[derive(Debug)]
pub struct Testbed {
    world: Arc<World>,
    ca: Arc<Ca>,
    log: ConnLog,
    dns: DnsHandle,
    smtp: ServerHandle,
    https: ServerHandle,
    aia: ServerHandle,
}

/// The one-line JSON `mxscan testbed serve` prints once it is ready.
#[derive(Debug, Clone, Serialize)]
pub struct Ready {
    /// DNS server, `IP:PORT` (give it to `--resolver`).
    pub dns: String,
    /// SMTP port (every 127.x.y.z address of the world; give it to `--smtp-port`).
    pub smtp_port: u16,
    /// HTTPS port (give it to `--https-port`).
    pub https_port: u16,
    /// AIA (plain HTTP) port of the caIssuers hosts (give it to `--http-port`).
    pub http_port: u16,
    /// The CA bundle (root + intermediate) to give to `--trust-anchor`.
    pub ca: Option<String>,
    /// World seed.
    pub seed: u64,
    /// World profile.
    pub profile: String,
    /// World epoch.
    pub epoch: u32,
}

impl Testbed {
    /// Start the world's servers. Must be called inside a tokio runtime.
    pub async fn start(config: TestbedConfig) -> Result<Testbed, TestbedError> {
        let world = Arc::new(World::new(config.world.clone()).with_epoch(config.epoch));
        let ca = Arc::new(Ca::new()?);
        // The RSA leaf key of the legacy TLS hosts (static-RSA and CBC suites) is generated
        // now, off the runtime's threads, not on the first such connection: a keygen inside
        // the accept path stalls an executor thread for tens of milliseconds, and the
        // connection log's accept stamps (which the politeness tests read) with it.
        {
            let ca = Arc::clone(&ca);
            tokio::task::spawn_blocking(move || ca.leaf_key_pkcs8(crate::behaviour::KeyType::Rsa))
                .await
                .map_err(|e| TestbedError::Tls(e.to_string()))??;
        }
        let log = match &config.conn_log {
            Some(path) => ConnLog::to_file(path)?,
            None => ConnLog::new(),
        };
        let behaviours: Arc<dyn crate::behaviour::Behaviours> = world.clone();
        let dns = start_dns(Arc::clone(&world), config.dns).await?;
        let smtp = start_smtp(
            config.smtp,
            Arc::clone(&behaviours),
            Arc::clone(&ca),
            log.clone(),
        )
        .await?;
        let https = start_https(config.https, behaviours, Arc::clone(&ca), log.clone()).await?;
        let aia = start_aia(config.http, Arc::clone(&ca), log.clone()).await?;
        Ok(Testbed {
            world,
            ca,
            log,
            dns,
            smtp,
            https,
            aia,
        })
    }

    /// The world (scenarios and ground truth).
    pub fn world(&self) -> &Arc<World> {
        &self.world
    }

    /// The world's current epoch.
    pub fn epoch(&self) -> u32 {
        self.world.epoch()
    }

    /// Move the running world to `epoch`: from the next query and connection on, the DNS,
    /// SMTP and HTTPS servers and [`Testbed::expected`] answer for that epoch. The CA and
    /// its leaf cache stay, so a certificate that did not change between the two epochs is
    /// the same leaf (what `mxscan diff`'s `leaf_changed` compares). Call it between scans.
    pub fn set_epoch(&self, epoch: u32) {
        self.world.set_epoch(epoch);
    }

    /// The ground truth for `domain`.
    pub fn expected(&self, domain: &str) -> DomainTruth {
        self.world.expected(domain)
    }

    /// The DNS server's address.
    pub fn dns_addr(&self) -> SocketAddr {
        self.dns.local_addr()
    }

    /// DNS queries answered or dropped so far.
    pub fn dns_queries(&self) -> u64 {
        self.dns.queries()
    }

    /// The SMTP port.
    pub fn smtp_port(&self) -> u16 {
        self.smtp.port()
    }

    /// The HTTPS port.
    pub fn https_port(&self) -> u16 {
        self.https.port()
    }

    /// The AIA (plain HTTP) port.
    pub fn http_port(&self) -> u16 {
        self.aia.port()
    }

    /// The CA.
    pub fn ca(&self) -> &Arc<Ca> {
        &self.ca
    }

    /// Write the CA bundle (root + intermediate) for `--trust-anchor`.
    pub fn write_ca(&self, path: &Path) -> Result<(), TestbedError> {
        std::fs::write(path, self.ca.trust_bundle_pem())?;
        Ok(())
    }

    /// Write the root alone for `--trust-anchor`: a scan given only this finds the
    /// intermediate through AIA or not at all (`truth::ScanTrust::ROOT_ONLY`).
    pub fn write_root_ca(&self, path: &Path) -> Result<(), TestbedError> {
        self.ca.write_root_pem(path)
    }

    /// Every connection the SMTP, HTTPS and AIA servers accepted (politeness evidence).
    pub fn conn_log(&self) -> &ConnLog {
        &self.log
    }

    /// The ready line.
    pub fn ready(&self, ca: Option<&Path>) -> Ready {
        Ready {
            dns: self.dns_addr().to_string(),
            smtp_port: self.smtp_port(),
            https_port: self.https_port(),
            http_port: self.http_port(),
            ca: ca.map(|p| p.display().to_string()),
            seed: self.world.seed(),
            profile: self.world.config().profile.to_string(),
            epoch: self.world.epoch(),
        }
    }
}
