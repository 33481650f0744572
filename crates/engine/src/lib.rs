//! The survey engine: streams domains through DNS, SMTP probes (one per address, shared by
//! every domain that points there), MTA-STS policy fetches and evaluation, under the
//! politeness limits of ARCHITECTURE.md ("Politeness"), and hands rows to the store.

pub mod check;
pub mod evaluate;
pub mod plan;
pub mod politeness;
pub mod probe_cache;
pub mod rows;
pub mod scan;
