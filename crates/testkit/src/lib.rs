//! Test support for mxscan's crates, dev-only (never a dependency of a library or the binary).
//!
//! One copy of every harness that more than one test file needs:
//!
//! | module | what | feature |
//! |---|---|---|
//! | [`sandbox`] | inside the network sandbox or not, skipping a test outside it, serialising scans | — |
//! | [`tools`] | third-party tools (`openssl`, `curl`, `dig`, `python3` modules): present or not, run them | — |
//! | [`hostile`] | hand-written TCP servers and byte pumps for hostile behaviours | — |
//! | [`bed`] | testbed servers with a fixed behaviour table, hosts and certificates, worlds | `testbed` |
//! | [`client`] | raw SMTP and TLS clients for those servers | `testbed` |
//! | [`dns`] | a scripted authoritative DNS server answering from a table | `dns` |
//! | [`survey`] | a whole world in its own runtime, lists, scan flags, survey vs truth | `survey` |
//!
//! Nothing here depends on `mxscan-probe` or `mxscan-smtp`: a crate's tests keep the
//! helpers typed on that crate (a dev-dependency that depends on the crate under test gives
//! its unit tests a second, different copy of its types). Everything that opens sockets runs
//! inside `scripts/sandbox.sh` (DESIGN.md, "The network sandbox").

pub mod hostile;
pub mod sandbox;
pub mod tools;

#[cfg(feature = "testbed")]
pub mod bed;
#[cfg(feature = "testbed")]
pub mod client;
#[cfg(feature = "dns")]
pub mod dns;
#[cfg(feature = "survey")]
pub mod survey;
