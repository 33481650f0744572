//! The `domains` table: one row per input domain (docs/schema.md "domains").
//!
//! Added columns (beyond the contract): `mx_unresolved`, `tlsrpt_deviations`.

use std::sync::{Arc, LazyLock, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{
    DataType, Field, Int32Type, Int64Type, Schema, SchemaRef, UInt32Type, UInt64Type,
};

use crate::arrays::{self, Cols, dict_type, list_type};
use crate::error::Result;
use crate::rows::{Counts, DomainRow, Table, TableRow, bump, check_domain};
use crate::vocab::Vocabulary;

/// `domains.dns_status`: [`mxscan_model::DnsStatus`].
pub static DNS_STATUS: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "dns_status"));
/// `domains.starttls`: [`mxscan_model::Coverage`] over MX hosts that answered SMTP.
pub static STARTTLS: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "starttls"));
/// `domains.cert_valid`: [`mxscan_model::Coverage`] over MX hosts that completed TLS.
pub static CERT_VALID: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "cert_valid"));
/// `domains.sts_record`: [`mxscan_model::TxtStatus`].
pub static STS_RECORD: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "sts_record"));
/// `domains.sts_policy`: [`mxscan_model::PolicyStatus`].
pub static STS_POLICY: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "sts_policy"));
/// `domains.sts_fetch_error`: [`mxscan_model::FetchError`].
pub static STS_FETCH_ERROR: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "sts_fetch_error"));
/// `domains.sts_mode`: [`mxscan_model::Mode`].
pub static STS_MODE: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "sts_mode"));
/// `domains.sts_delivery`: [`mxscan_model::Delivery`].
pub static STS_DELIVERY: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "sts_delivery"));
/// `domains.tlsrpt_record`: [`mxscan_model::TxtStatus`].
pub static TLSRPT_RECORD: LazyLock<Vocabulary> =
    LazyLock::new(|| *Vocabulary::get("domains", "tlsrpt_record"));

/// The Arrow schema of `domains`.
pub fn schema() -> SchemaRef {
    static S: OnceLock<SchemaRef> = OnceLock::new();
    S.get_or_init(|| {
        Arc::new(Schema::new(vec![
            Field::new("survey_id", DataType::Utf8, false),
            Field::new("rank", DataType::UInt64, true),
            Field::new("domain", DataType::Utf8, false),
            Field::new("dns_status", dict_type(), false),
            Field::new("null_mx", DataType::Boolean, false),
            Field::new("implicit_mx", DataType::Boolean, false),
            Field::new("mx_hosts", list_type(), false),
            Field::new("mx_unresolved", list_type(), false),
            Field::new("starttls", dict_type(), false),
            Field::new("cert_valid", dict_type(), false),
            Field::new("sts_record", dict_type(), false),
            Field::new("sts_id", DataType::Utf8, true),
            Field::new("sts_policy", dict_type(), false),
            Field::new("sts_fetch_error", dict_type(), true),
            Field::new("sts_http_status", DataType::Int32, true),
            Field::new("sts_content_type", DataType::Utf8, true),
            Field::new("sts_mode", dict_type(), true),
            Field::new("sts_max_age", DataType::Int64, true),
            Field::new("sts_mx", list_type(), false),
            Field::new("sts_deviations", list_type(), false),
            Field::new("sts_mx_unmatched", list_type(), false),
            Field::new("sts_delivery", dict_type(), false),
            Field::new("tlsrpt_record", dict_type(), false),
            Field::new("tlsrpt_rua", list_type(), false),
            Field::new("tlsrpt_deviations", list_type(), false),
            Field::new("elapsed_ms", DataType::UInt32, false),
        ]))
    })
    .clone()
}

impl TableRow for DomainRow {
    const TABLE: Table = Table::Domains;

    fn validate(&self) -> Result<()> {
        // Status columns are enums: only the names need checking.
        check_domain("domains", "domain", &self.domain)
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        for r in rows {
            r.validate()?;
        }
        let s = |f: fn(&DomainRow) -> &str| arrays::utf8(rows.iter().map(f));
        let l = |f: fn(&DomainRow) -> &[String]| arrays::list_utf8(rows.iter().map(f));
        let cols = vec![
            s(|r| &r.survey_id),
            arrays::prim::<UInt64Type>(rows.iter().map(|r| r.rank)),
            s(|r| &r.domain),
            arrays::dict(&DNS_STATUS, rows.iter().map(|r| Some(r.dns_status)))?,
            arrays::bools(rows.iter().map(|r| Some(r.null_mx))),
            arrays::bools(rows.iter().map(|r| Some(r.implicit_mx))),
            l(|r| &r.mx_hosts),
            l(|r| &r.mx_unresolved),
            arrays::dict(&STARTTLS, rows.iter().map(|r| Some(r.starttls)))?,
            arrays::dict(&CERT_VALID, rows.iter().map(|r| Some(r.cert_valid)))?,
            arrays::dict(&STS_RECORD, rows.iter().map(|r| Some(r.sts_record)))?,
            arrays::utf8_opt(rows.iter().map(|r| r.sts_id.as_deref())),
            arrays::dict(&STS_POLICY, rows.iter().map(|r| Some(r.sts_policy)))?,
            arrays::dict(&STS_FETCH_ERROR, rows.iter().map(|r| r.sts_fetch_error))?,
            arrays::prim::<Int32Type>(rows.iter().map(|r| r.sts_http_status)),
            arrays::utf8_opt(rows.iter().map(|r| r.sts_content_type.as_deref())),
            arrays::dict(&STS_MODE, rows.iter().map(|r| r.sts_mode))?,
            arrays::prim::<Int64Type>(rows.iter().map(|r| r.sts_max_age)),
            l(|r| &r.sts_mx),
            l(|r| &r.sts_deviations),
            l(|r| &r.sts_mx_unmatched),
            arrays::dict(&STS_DELIVERY, rows.iter().map(|r| Some(r.sts_delivery)))?,
            arrays::dict(&TLSRPT_RECORD, rows.iter().map(|r| Some(r.tlsrpt_record)))?,
            l(|r| &r.tlsrpt_rua),
            l(|r| &r.tlsrpt_deviations),
            arrays::prim::<UInt32Type>(rows.iter().map(|r| Some(r.elapsed_ms))),
        ];
        Ok(RecordBatch::try_new(schema(), cols)?)
    }

    fn from_batch(batch: &RecordBatch) -> Result<Vec<Self>> {
        let c = Cols {
            table: "domains",
            batch,
        };
        let mut survey_id = c.strings("survey_id")?.into_iter();
        let mut rank = c.opt_prims::<UInt64Type>("rank", true)?.into_iter();
        let mut domain = c.strings("domain")?.into_iter();
        let mut dns_status = c.status(&DNS_STATUS)?.into_iter();
        let mut null_mx = c.bools("null_mx")?.into_iter();
        let mut implicit_mx = c.bools("implicit_mx")?.into_iter();
        let mut mx_hosts = c.lists("mx_hosts", true)?.into_iter();
        let mut mx_unresolved = c.lists("mx_unresolved", false)?.into_iter();
        let mut starttls = c.status(&STARTTLS)?.into_iter();
        let mut cert_valid = c.status(&CERT_VALID)?.into_iter();
        let mut sts_record = c.status(&STS_RECORD)?.into_iter();
        let mut sts_id = c.opt_strings("sts_id", true)?.into_iter();
        let mut sts_policy = c.status(&STS_POLICY)?.into_iter();
        let mut sts_fetch_error = c.opt_status(&STS_FETCH_ERROR, true)?.into_iter();
        let mut sts_http_status = c
            .opt_prims::<Int32Type>("sts_http_status", true)?
            .into_iter();
        let mut sts_content_type = c.opt_strings("sts_content_type", true)?.into_iter();
        let mut sts_mode = c.opt_status(&STS_MODE, true)?.into_iter();
        let mut sts_max_age = c.opt_prims::<Int64Type>("sts_max_age", true)?.into_iter();
        let mut sts_mx = c.lists("sts_mx", true)?.into_iter();
        let mut sts_deviations = c.lists("sts_deviations", true)?.into_iter();
        let mut sts_mx_unmatched = c.lists("sts_mx_unmatched", true)?.into_iter();
        let mut sts_delivery = c.status(&STS_DELIVERY)?.into_iter();
        let mut tlsrpt_record = c.status(&TLSRPT_RECORD)?.into_iter();
        let mut tlsrpt_rua = c.lists("tlsrpt_rua", true)?.into_iter();
        let mut tlsrpt_deviations = c.lists("tlsrpt_deviations", false)?.into_iter();
        let mut elapsed_ms = c.prims::<UInt32Type>("elapsed_ms")?.into_iter();
        let mut out = Vec::with_capacity(c.len());
        for _ in 0..c.len() {
            out.push(DomainRow {
                survey_id: survey_id.next().unwrap(),
                rank: rank.next().unwrap(),
                domain: domain.next().unwrap(),
                dns_status: dns_status.next().unwrap(),
                null_mx: null_mx.next().unwrap(),
                implicit_mx: implicit_mx.next().unwrap(),
                mx_hosts: mx_hosts.next().unwrap(),
                mx_unresolved: mx_unresolved.next().unwrap(),
                starttls: starttls.next().unwrap(),
                cert_valid: cert_valid.next().unwrap(),
                sts_record: sts_record.next().unwrap(),
                sts_id: sts_id.next().unwrap(),
                sts_policy: sts_policy.next().unwrap(),
                sts_fetch_error: sts_fetch_error.next().unwrap(),
                sts_http_status: sts_http_status.next().unwrap(),
                sts_content_type: sts_content_type.next().unwrap(),
                sts_mode: sts_mode.next().unwrap(),
                sts_max_age: sts_max_age.next().unwrap(),
                sts_mx: sts_mx.next().unwrap(),
                sts_deviations: sts_deviations.next().unwrap(),
                sts_mx_unmatched: sts_mx_unmatched.next().unwrap(),
                sts_delivery: sts_delivery.next().unwrap(),
                tlsrpt_record: tlsrpt_record.next().unwrap(),
                tlsrpt_rua: tlsrpt_rua.next().unwrap(),
                tlsrpt_deviations: tlsrpt_deviations.next().unwrap(),
                elapsed_ms: elapsed_ms.next().unwrap(),
            });
        }
        Ok(out)
    }

    fn count(&self, counts: &mut Counts) {
        bump(counts, &DNS_STATUS, Some(self.dns_status));
        bump(counts, &STARTTLS, Some(self.starttls));
        bump(counts, &CERT_VALID, Some(self.cert_valid));
        bump(counts, &STS_RECORD, Some(self.sts_record));
        bump(counts, &STS_POLICY, Some(self.sts_policy));
        bump(counts, &STS_FETCH_ERROR, self.sts_fetch_error);
        bump(counts, &STS_MODE, self.sts_mode);
        bump(counts, &STS_DELIVERY, Some(self.sts_delivery));
        bump(counts, &TLSRPT_RECORD, Some(self.tlsrpt_record));
    }
}
