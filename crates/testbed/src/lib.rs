//! The simulated mail internet: a procedural world of mail domains served by one DNS, one
//! SMTP, one HTTPS and one plain-HTTP (AIA) server on loopback, with the ground truth of every domain.
//!
//! Module ownership (see ARCHITECTURE.md): `behaviour` is the contract between the world
//! model (`scenario`, `profile`, `world`, `names`, `dns`, `truth`) and the servers
//! (`ca`, `smtp_server`, `legacy_tls`, `https_server`, `aia_server`, `connlog`).

pub mod behaviour;
pub mod error;

// World model.
pub mod addr;
pub mod aia;
pub mod dns;
pub mod epoch;
pub mod hash;
pub mod names;
pub mod profile;
pub mod provider;
pub mod scenario;
pub mod sts;
pub mod truth;
pub mod world;

// Servers.
pub mod aia_server;
pub mod ca;
pub mod connlog;
pub mod https_server;
pub mod legacy_tls;
pub mod listener;
pub mod running;
pub mod smtp_server;
pub mod table;

pub use error::TestbedError;
pub use running::{Testbed, TestbedConfig};
