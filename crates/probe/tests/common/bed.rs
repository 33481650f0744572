//! Testbed servers with a fixed behaviour table, plus the probe-side plumbing (dialer that
//! allows loopback only, a trust store with the testbed root + intermediate).
#![allow(dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use mxscan_probe::blocklist::Blocklist;
use mxscan_probe::cert::TrustStore;
use mxscan_probe::dialer::Dialer;
use mxscan_testbed::ca::Ca;
use mxscan_testbed::connlog::ConnLog;
use mxscan_testbed::https_server::start_https_with;
use mxscan_testbed::listener::{ServerHandle, ServerOptions};
use mxscan_testbed::smtp_server::start_smtp_with;
use mxscan_testbed::table::BehaviourTable;

pub struct Bed {
    pub ca: Arc<Ca>,
    pub log: ConnLog,
    pub server: ServerHandle,
}

pub fn options() -> ServerOptions {
    ServerOptions {
        idle_timeout: Duration::from_secs(5),
        hold_cap: Duration::from_secs(20),
        handshake_timeout: Duration::from_secs(5),
        close_drain: Duration::from_millis(500),
        ..ServerOptions::default()
    }
}

fn any() -> SocketAddr {
    "0.0.0.0:0".parse().unwrap()
}

pub async fn https_bed(table: BehaviourTable) -> Bed {
    let ca = Arc::new(Ca::new().unwrap());
    let log = ConnLog::new();
    let server = start_https_with(any(), Arc::new(table), ca.clone(), log.clone(), options())
        .await
        .unwrap();
    Bed { ca, log, server }
}

pub async fn smtp_bed(table: BehaviourTable) -> Bed {
    let ca = Arc::new(Ca::new().unwrap());
    let log = ConnLog::new();
    let server = start_smtp_with(any(), Arc::new(table), ca.clone(), log.clone(), options())
        .await
        .unwrap();
    Bed { ca, log, server }
}

/// The testbed root as anchor, its intermediate as known intermediate.
pub fn trust(ca: &Ca) -> TrustStore {
    let mut t = TrustStore::empty();
    t.add_ca_der(ca.root_der()).unwrap();
    t.add_ca_der(ca.intermediate_der()).unwrap();
    t
}

/// Loopback allowed (and nothing else), ports redirected to the test servers.
pub fn dialer(smtp_port: u16, https_port: u16) -> Dialer {
    let bl = Blocklist::new().allow_str("127.0.0.0/8").unwrap();
    Dialer::new(Arc::new(bl)).with_ports(smtp_port, https_port)
}
