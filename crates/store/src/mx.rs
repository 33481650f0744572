//! The `mx` table: one row per (domain, MX exchange, address) (docs/schema.md "mx").
//!
//! Added column: `cert_matches_domain`.

use std::sync::{Arc, LazyLock, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef, UInt16Type};

use crate::arrays::{self, Cols, dict_type};
use crate::error::Result;
use crate::rows::{Counts, MxRow, Table, TableRow, bump, check_domain};
use crate::vocab::Vocabulary;

/// `mx.smtp_status`: the probe status of this address ([`mxscan_model::ProbeStatus`], as
/// `probes.status`).
pub static SMTP_STATUS: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("mx", "smtp_status"));
/// `mx.cert_status`: the certificate judged for THIS exchange name
/// ([`mxscan_model::CertStatus`]); null when no TLS handshake completed.
pub static CERT_STATUS: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("mx", "cert_status"));

/// The Arrow schema of `mx`.
pub fn schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("survey_id", DataType::Utf8, false),
            Field::new("domain", DataType::Utf8, false),
            Field::new("exchange", DataType::Utf8, false),
            Field::new("preference", DataType::UInt16, false),
            Field::new("address", DataType::Utf8, false),
            Field::new("blocked", DataType::Boolean, false),
            Field::new("smtp_status", dict_type(), false),
            Field::new("starttls", DataType::Boolean, true),
            Field::new("cert_status", dict_type(), true),
            Field::new("sts_match", DataType::Boolean, true),
            Field::new("cert_matches_domain", DataType::Boolean, true),
        ]))
    })
    .clone()
}

impl TableRow for MxRow {
    const TABLE: Table = Table::Mx;

    fn validate(&self) -> Result<()> {
        check_domain("mx", "domain", &self.domain)
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        for r in rows {
            r.validate()?;
        }
        let s = |f: fn(&MxRow) -> &str| arrays::utf8(rows.iter().map(f));
        let cols = vec![
            s(|r| &r.survey_id),
            s(|r| &r.domain),
            s(|r| &r.exchange),
            arrays::prim::<UInt16Type>(rows.iter().map(|r| Some(r.preference))),
            s(|r| &r.address),
            arrays::bools(rows.iter().map(|r| Some(r.blocked))),
            arrays::dict(&SMTP_STATUS, rows.iter().map(|r| Some(r.smtp_status)))?,
            arrays::bools(rows.iter().map(|r| r.starttls)),
            arrays::dict(&CERT_STATUS, rows.iter().map(|r| r.cert_status))?,
            arrays::bools(rows.iter().map(|r| r.sts_match)),
            arrays::bools(rows.iter().map(|r| r.cert_matches_domain)),
        ];
        Ok(RecordBatch::try_new(schema(), cols)?)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let c = Cols { table: "mx", batch };
        let mut survey_id = c.strings("survey_id")?.into_iter();
        let mut domain = c.strings("domain")?.into_iter();
        let mut exchange = c.strings("exchange")?.into_iter();
        let mut preference = c.prims::<UInt16Type>("preference")?.into_iter();
        let mut address = c.strings("address")?.into_iter();
        let mut blocked = c.bools("blocked")?.into_iter();
        let mut smtp_status = c.status(&SMTP_STATUS)?.into_iter();
        let mut starttls = c.opt_bools("starttls", true)?.into_iter();
        let mut cert_status = c.opt_status(&CERT_STATUS, true)?.into_iter();
        let mut sts_match = c.opt_bools("sts_match", true)?.into_iter();
        let mut cert_matches_domain = c.opt_bools("cert_matches_domain", false)?.into_iter();
        let mut out = Vec::with_capacity(c.len());
        for _ in 0..c.len() {
            out.push(MxRow {
                survey_id: survey_id.next().unwrap(),
                domain: domain.next().unwrap(),
                exchange: exchange.next().unwrap(),
                preference: preference.next().unwrap(),
                address: address.next().unwrap(),
                blocked: blocked.next().unwrap(),
                smtp_status: smtp_status.next().unwrap(),
                starttls: starttls.next().unwrap(),
                cert_status: cert_status.next().unwrap(),
                sts_match: sts_match.next().unwrap(),
                cert_matches_domain: cert_matches_domain.next().unwrap(),
            });
        }
        Ok(out)
    }

    fn count(&self, counts: &mut Counts) {
        bump(counts, &SMTP_STATUS, Some(self.smtp_status));
        bump(counts, &CERT_STATUS, self.cert_status);
    }
}
