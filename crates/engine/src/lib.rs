//! The survey engine: streams domains through DNS, SMTP probes (one per address, shared by
//! every domain that points there), MTA-STS policy fetches and evaluation, under the
//! politeness limits of ARCHITECTURE.md ("Politeness"), and hands rows to a sink.
//!
//! As a library: [`config::ScanConfig`] (the options: clap flags, the TOML file and
//! survey.json's `config` in one struct) is validated into a [`config::ValidConfig`], which
//! with a [`survey::Plan`] builds a [`survey::Survey`]; [`survey::Survey::run`] scans and
//! returns a [`survey::Report`]. Rows go to a [`sink::RowSink`]: a survey directory's writer,
//! or memory. Per domain, [`plan`] decides what to look up and fetch, [`evaluate`] and
//! [`rows`] build the rows (pure), and [`check`] judges them for `mxscan check`.

pub mod aia;
pub mod check;
pub mod config;
pub mod evaluate;
pub mod plan;
pub mod politeness;
pub mod probe_cache;
pub mod rows;
pub mod scan;
pub mod sink;
pub mod survey;
