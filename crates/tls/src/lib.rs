//! mxscan-tls: what a TLS server says in its first flight, read without completing a
//! handshake — pure, sans-io, capped. No sockets, no async, no cryptography.
//!
//! In TLS ≤ 1.2 the server's first flight (ServerHello, Certificate, ServerHelloDone) is
//! plaintext (RFC 5246 §7.3), so a scanner can learn the version and suite a server selects
//! and the chain it presents from one ClientHello, the way zgrab2's hello-only scans do, even
//! when its own TLS library refuses the handshake (TLS 1.0/1.1, static-RSA or CBC-only
//! servers). In TLS 1.3 (RFC 8446 §4.1.3) only the ServerHello is plaintext.
//!
//! - [`FlightReader`]: feed it the bytes the server sends, in any cut; it reassembles records
//!   (RFC 5246 §6.2.1) and handshake messages that span them, and ends with a [`Flight`]:
//!   the server's hello and chain, its alert, or why the bytes are not TLS. Every length is
//!   checked against the bytes present and against caps ([`Caps`]).
//! - [`client_hello`]: a ClientHello offering TLS 1.0–1.2 and the classic suites
//!   (static RSA, CBC, 3DES, RC4 last) that such servers pick from.
//! - [`Version`], [`AlertDescription`]: the names written to the survey (`tls_max_version`).

#![forbid(unsafe_code)]

mod flight;
mod hello;
mod version;

pub use flight::{
    Alert, Caps, Flight, FlightReader, NotTls, ServerHello, Step, content_type, handshake_type,
};
pub use hello::{LEGACY_SUITES, client_hello, suite_label, suite_name};
pub use version::{AlertDescription, Version};
