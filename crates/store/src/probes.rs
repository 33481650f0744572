//! The `probes` table: one row per SMTP probe, one probe per MX address (docs/schema.md "probes").
//!
//! Added columns: `ehlo_keywords_tls`, `starttls_sample` (at most [`STARTTLS_SAMPLE_MAX`]
//! bytes), `greeting_ms`, `ehlo_ms`, `modern_tls_failure`, `legacy_ms`.

use std::sync::{Arc, LazyLock, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt16Type, UInt32Type};

use crate::arrays::{self, Cols, dict_type, list_type, ts_ms_type};
use crate::error::{Result, StoreError};
use crate::rows::{Counts, ProbeRow, Table, TableRow, bump, check_hex_sha256};
use crate::timestamp::TimestampMs;
use crate::vocab::Vocabulary;

/// Longest `starttls_sample` the writer accepts.
pub const STARTTLS_SAMPLE_MAX: usize = 256;

/// `probes.status`: how far the SMTP conversation got ([`mxscan_model::ProbeStatus`]).
pub static STATUS: LazyLock<Vocabulary> = LazyLock::new(|| *Vocabulary::get("probes", "status"));

/// `probes.tls_failure`: why the modern handshake failed ([`mxscan_model::TlsFailure`]).
pub static TLS_FAILURE: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("probes", "tls_failure"));

/// `probes.modern_tls_failure`: the same, for `tls_legacy` probes.
pub static MODERN_TLS_FAILURE: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("probes", "modern_tls_failure"));

/// The Arrow schema of `probes`.
pub fn schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("survey_id", DataType::Utf8, false),
            Field::new("address", DataType::Utf8, false),
            Field::new("port", DataType::UInt16, false),
            Field::new("sni", DataType::Utf8, true),
            Field::new("status", dict_type(), false),
            Field::new("banner", DataType::Utf8, true),
            Field::new("ehlo_keywords", list_type(), false),
            Field::new("ehlo_keywords_tls", list_type(), false),
            Field::new("starttls_offered", DataType::Boolean, true),
            Field::new("starttls_code", DataType::UInt16, true),
            Field::new("bytes_after_starttls", DataType::UInt32, true),
            Field::new("starttls_sample", DataType::Binary, true),
            Field::new("tls_version", DataType::Utf8, true),
            Field::new("cipher_suite", DataType::Utf8, true),
            Field::new("kx_group", DataType::Utf8, true),
            Field::new("chain_sha256", list_type(), false),
            Field::new("tls_error", DataType::Utf8, true),
            Field::new("tls_max_version", DataType::Utf8, true),
            Field::new("tls_failure", dict_type(), true),
            Field::new("modern_tls_failure", dict_type(), true),
            Field::new("chain_completed", DataType::Boolean, true),
            Field::new("legacy_ms", DataType::UInt32, true),
            Field::new("started_at", ts_ms_type(), false),
            Field::new("connect_ms", DataType::UInt32, true),
            Field::new("greeting_ms", DataType::UInt32, true),
            Field::new("ehlo_ms", DataType::UInt32, true),
            Field::new("tls_ms", DataType::UInt32, true),
            Field::new("total_ms", DataType::UInt32, true),
        ]))
    })
    .clone()
}

impl TableRow for ProbeRow {
    const TABLE: Table = Table::Probes;

    fn validate(&self) -> Result<()> {
        if self.address.parse::<std::net::IpAddr>().is_err() {
            return Err(StoreError::InvalidRow {
                table: "probes",
                column: "address",
                reason: format!("{:?} is not an IP address", self.address),
            });
        }
        if let Some(s) = &self.starttls_sample
            && s.len() > STARTTLS_SAMPLE_MAX
        {
            return Err(StoreError::InvalidRow {
                table: "probes",
                column: "starttls_sample",
                reason: format!("{} bytes, at most {STARTTLS_SAMPLE_MAX}", s.len()),
            });
        }
        for h in &self.chain_sha256 {
            check_hex_sha256("probes", "chain_sha256", h)?;
        }
        Ok(())
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        for r in rows {
            r.validate()?;
        }
        let s = |f: fn(&ProbeRow) -> &str| arrays::utf8(rows.iter().map(f));
        let o = |f: fn(&ProbeRow) -> Option<&str>| arrays::utf8_opt(rows.iter().map(f));
        let l = |f: fn(&ProbeRow) -> &[String]| arrays::list_utf8(rows.iter().map(f));
        let u = |f: fn(&ProbeRow) -> Option<u32>| arrays::prim::<UInt32Type>(rows.iter().map(f));
        let cols = vec![
            s(|r| &r.survey_id),
            s(|r| &r.address),
            arrays::prim::<UInt16Type>(rows.iter().map(|r| Some(r.port))),
            o(|r| r.sni.as_deref()),
            arrays::dict(&STATUS, rows.iter().map(|r| Some(r.status)))?,
            o(|r| r.banner.as_deref()),
            l(|r| &r.ehlo_keywords),
            l(|r| &r.ehlo_keywords_tls),
            arrays::bools(rows.iter().map(|r| r.starttls_offered)),
            arrays::prim::<UInt16Type>(rows.iter().map(|r| r.starttls_code)),
            u(|r| r.bytes_after_starttls),
            arrays::binary_opt(rows.iter().map(|r| r.starttls_sample.as_deref())),
            o(|r| r.tls_version.as_deref()),
            o(|r| r.cipher_suite.as_deref()),
            o(|r| r.kx_group.as_deref()),
            l(|r| &r.chain_sha256),
            o(|r| r.tls_error.as_deref()),
            o(|r| r.tls_max_version.as_deref()),
            arrays::dict(&TLS_FAILURE, rows.iter().map(|r| r.tls_failure))?,
            arrays::dict(
                &MODERN_TLS_FAILURE,
                rows.iter().map(|r| r.modern_tls_failure),
            )?,
            arrays::bools(rows.iter().map(|r| r.chain_completed)),
            u(|r| r.legacy_ms),
            arrays::ts_ms(rows.iter().map(|r| r.started_at.0)),
            u(|r| r.connect_ms),
            u(|r| r.greeting_ms),
            u(|r| r.ehlo_ms),
            u(|r| r.tls_ms),
            u(|r| r.total_ms),
        ];
        Ok(RecordBatch::try_new(schema(), cols)?)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let c = Cols {
            table: "probes",
            batch,
        };
        let mut survey_id = c.strings("survey_id")?.into_iter();
        let mut address = c.strings("address")?.into_iter();
        let mut port = c.prims::<UInt16Type>("port")?.into_iter();
        let mut sni = c.opt_strings("sni", true)?.into_iter();
        let mut status = c.status(&STATUS)?.into_iter();
        let mut banner = c.opt_strings("banner", true)?.into_iter();
        let mut ehlo_keywords = c.lists("ehlo_keywords", true)?.into_iter();
        let mut ehlo_keywords_tls = c.lists("ehlo_keywords_tls", false)?.into_iter();
        let mut starttls_offered = c.opt_bools("starttls_offered", true)?.into_iter();
        let mut starttls_code = c
            .opt_prims::<UInt16Type>("starttls_code", true)?
            .into_iter();
        let mut bytes_after = c
            .opt_prims::<UInt32Type>("bytes_after_starttls", true)?
            .into_iter();
        let mut sample = c.opt_binary("starttls_sample", false)?.into_iter();
        let mut tls_version = c.opt_strings("tls_version", true)?.into_iter();
        let mut cipher_suite = c.opt_strings("cipher_suite", true)?.into_iter();
        let mut kx_group = c.opt_strings("kx_group", true)?.into_iter();
        let mut chain = c.lists("chain_sha256", true)?.into_iter();
        let mut tls_error = c.opt_strings("tls_error", true)?.into_iter();
        let mut tls_max_version = c.opt_strings("tls_max_version", false)?.into_iter();
        let mut tls_failure = c.opt_status(&TLS_FAILURE, false)?.into_iter();
        let mut modern_tls_failure = c.opt_status(&MODERN_TLS_FAILURE, false)?.into_iter();
        let mut chain_completed = c.opt_bools("chain_completed", false)?.into_iter();
        let mut legacy_ms = c.opt_prims::<UInt32Type>("legacy_ms", false)?.into_iter();
        let mut started_at = c.ts_ms("started_at")?.into_iter();
        let mut connect_ms = c.opt_prims::<UInt32Type>("connect_ms", true)?.into_iter();
        let mut greeting_ms = c.opt_prims::<UInt32Type>("greeting_ms", false)?.into_iter();
        let mut ehlo_ms = c.opt_prims::<UInt32Type>("ehlo_ms", false)?.into_iter();
        let mut tls_ms = c.opt_prims::<UInt32Type>("tls_ms", true)?.into_iter();
        let mut total_ms = c.opt_prims::<UInt32Type>("total_ms", true)?.into_iter();
        let mut out = Vec::with_capacity(c.len());
        for _ in 0..c.len() {
            out.push(ProbeRow {
                survey_id: survey_id.next().unwrap(),
                address: address.next().unwrap(),
                port: port.next().unwrap(),
                sni: sni.next().unwrap(),
                status: status.next().unwrap(),
                banner: banner.next().unwrap(),
                ehlo_keywords: ehlo_keywords.next().unwrap(),
                ehlo_keywords_tls: ehlo_keywords_tls.next().unwrap(),
                starttls_offered: starttls_offered.next().unwrap(),
                starttls_code: starttls_code.next().unwrap(),
                bytes_after_starttls: bytes_after.next().unwrap(),
                starttls_sample: sample.next().unwrap(),
                tls_version: tls_version.next().unwrap(),
                cipher_suite: cipher_suite.next().unwrap(),
                kx_group: kx_group.next().unwrap(),
                chain_sha256: chain.next().unwrap(),
                tls_error: tls_error.next().unwrap(),
                tls_max_version: tls_max_version.next().unwrap(),
                tls_failure: tls_failure.next().unwrap(),
                modern_tls_failure: modern_tls_failure.next().unwrap(),
                chain_completed: chain_completed.next().unwrap(),
                legacy_ms: legacy_ms.next().unwrap(),
                started_at: TimestampMs(started_at.next().unwrap()),
                connect_ms: connect_ms.next().unwrap(),
                greeting_ms: greeting_ms.next().unwrap(),
                ehlo_ms: ehlo_ms.next().unwrap(),
                tls_ms: tls_ms.next().unwrap(),
                total_ms: total_ms.next().unwrap(),
            });
        }
        Ok(out)
    }

    fn count(&self, counts: &mut Counts) {
        bump(counts, &STATUS, Some(self.status));
        bump(counts, &TLS_FAILURE, self.tls_failure);
        bump(counts, &MODERN_TLS_FAILURE, self.modern_tls_failure);
    }
}
