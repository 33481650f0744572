//! The `certs` table: one row per distinct certificate (docs/schema.md "certs"), keyed by the
//! hex SHA-256 of its DER that `probes.chain_sha256` refers to.
//!
//! Added column: `survey_id` (first), so certificate tables of several surveys can be stacked
//! without relying on the hive partition. There is no status column.

use std::sync::{Arc, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt32Type};

use crate::arrays::{self, Cols, list_type, ts_s_type};
use crate::error::Result;
use crate::rows::{CertRow, Counts, Table, TableRow, check_hex_sha256};
use crate::timestamp::TimestampS;

/// The Arrow schema of `certs`.
pub fn schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("survey_id", DataType::Utf8, false),
            Field::new("sha256", DataType::Utf8, false),
            Field::new("der", DataType::Binary, false),
            Field::new("subject", DataType::Utf8, false),
            Field::new("issuer", DataType::Utf8, false),
            Field::new("san_dns", list_type(), false),
            Field::new("not_before", ts_s_type(), false),
            Field::new("not_after", ts_s_type(), false),
            Field::new("self_signed", DataType::Boolean, false),
            Field::new("key_type", DataType::Utf8, false),
            Field::new("key_bits", DataType::UInt32, false),
            Field::new("signature_algorithm", DataType::Utf8, false),
        ]))
    })
    .clone()
}

impl TableRow for CertRow {
    const TABLE: Table = Table::Certs;

    fn validate(&self) -> Result<()> {
        check_hex_sha256("certs", "sha256", &self.sha256)
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        for r in rows {
            r.validate()?;
        }
        let s = |f: fn(&CertRow) -> &str| arrays::utf8(rows.iter().map(f));
        let cols = vec![
            s(|r| &r.survey_id),
            s(|r| &r.sha256),
            arrays::binary(rows.iter().map(|r| r.der.as_slice())),
            s(|r| &r.subject),
            s(|r| &r.issuer),
            arrays::list_utf8(rows.iter().map(|r| r.san_dns.as_slice())),
            arrays::ts_s(rows.iter().map(|r| r.not_before.0)),
            arrays::ts_s(rows.iter().map(|r| r.not_after.0)),
            arrays::bools(rows.iter().map(|r| Some(r.self_signed))),
            s(|r| &r.key_type),
            arrays::prim::<UInt32Type>(rows.iter().map(|r| Some(r.key_bits))),
            s(|r| &r.signature_algorithm),
        ];
        Ok(RecordBatch::try_new(schema(), cols)?)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let c = Cols {
            table: "certs",
            batch,
        };
        let n = c.len();
        let mut survey_id = c
            .opt_strings("survey_id", false)?
            .into_iter()
            .map(Option::unwrap_or_default);
        let mut sha256 = c.strings("sha256")?.into_iter();
        let mut der = c.binary("der")?.into_iter();
        let mut subject = c.strings("subject")?.into_iter();
        let mut issuer = c.strings("issuer")?.into_iter();
        let mut san_dns = c.lists("san_dns", true)?.into_iter();
        let mut not_before = c.ts_s("not_before")?.into_iter();
        let mut not_after = c.ts_s("not_after")?.into_iter();
        let mut self_signed = c.bools("self_signed")?.into_iter();
        let mut key_type = c.strings("key_type")?.into_iter();
        let mut key_bits = c.prims::<UInt32Type>("key_bits")?.into_iter();
        let mut sig = c.strings("signature_algorithm")?.into_iter();
        let mut out = Vec::with_capacity(n);
        for _ in 0..n {
            out.push(CertRow {
                survey_id: survey_id.next().unwrap(),
                sha256: sha256.next().unwrap(),
                der: der.next().unwrap(),
                subject: subject.next().unwrap(),
                issuer: issuer.next().unwrap(),
                san_dns: san_dns.next().unwrap(),
                not_before: TimestampS(not_before.next().unwrap()),
                not_after: TimestampS(not_after.next().unwrap()),
                self_signed: self_signed.next().unwrap(),
                key_type: key_type.next().unwrap(),
                key_bits: key_bits.next().unwrap(),
                signature_algorithm: sig.next().unwrap(),
            });
        }
        Ok(out)
    }

    fn count(&self, _counts: &mut Counts) {}
}
