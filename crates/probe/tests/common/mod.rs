//! The probe-typed plumbing of the tests that run the probe against testbed servers
//! (`mxscan_testkit::bed`): a dialer that allows loopback only, a trust store with the
//! testbed's root and intermediate. (The testkit does not depend on this crate: its types
//! here must be the crate's own.)
#![allow(dead_code)]

use std::sync::Arc;

use mxscan_probe::blocklist::Blocklist;
use mxscan_probe::cert::TrustStore;
use mxscan_probe::dialer::Dialer;
use mxscan_testbed::ca::Ca;

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
