//! The `domains` table: one row per input domain (SCHEMA.md "domains").
//!
//! Added columns (beyond SCHEMA.md): `mx_unresolved`, `tlsrpt_deviations`.

use std::sync::{Arc, OnceLock};

use arrow::array::RecordBatch;
use arrow::datatypes::{
    DataType, Field, Int32Type, Int64Type, Schema, SchemaRef, UInt32Type, UInt64Type,
};

use crate::arrays::{self, Cols, dict_type, list_type};
use crate::error::Result;
use crate::rows::{Counts, DomainRow, Table, TableRow, bump, check_domain};
use crate::vocab::Vocabulary;

/// `domains.dns_status`: the outcome of the MX (then A/AAAA) lookup (RFC 5321 §5.1).
pub const DNS_STATUS: Vocabulary = Vocabulary {
    table: "domains",
    column: "dns_status",
    values: &[
        (
            "ok",
            "MX records (or, failing those, an address for an implicit MX) were found",
        ),
        ("nxdomain", "the domain does not exist (NXDOMAIN)"),
        (
            "no_mail_host",
            "the domain exists but has neither MX nor A/AAAA records",
        ),
        ("servfail", "the resolver answered SERVFAIL"),
        ("refused", "the resolver answered REFUSED"),
        ("timeout", "no answer within the DNS deadline"),
        (
            "error",
            "any other DNS failure (malformed answer, resolver error)",
        ),
    ],
};

/// `domains.starttls`: STARTTLS over the MX hosts that answered SMTP.
pub const STARTTLS: Vocabulary = Vocabulary {
    table: "domains",
    column: "starttls",
    values: &[
        ("all", "every MX host that answered SMTP offered STARTTLS"),
        (
            "some",
            "some but not all MX hosts that answered SMTP offered STARTTLS",
        ),
        ("none", "no MX host that answered SMTP offered STARTTLS"),
        (
            "untested",
            "MX hosts exist but none answered SMTP (blocked, refused, timed out, 421…)",
        ),
        (
            "no_mx",
            "no MX host to test (DNS failure, null MX, no mail host)",
        ),
    ],
};

/// `domains.cert_valid`: WebPKI validity for the MX name, over MX hosts that completed TLS.
pub const CERT_VALID: Vocabulary = Vocabulary {
    table: "domains",
    column: "cert_valid",
    values: &[
        (
            "all",
            "every MX host that completed TLS presented a valid certificate for its name",
        ),
        (
            "some",
            "some but not all MX hosts that completed TLS presented a valid certificate",
        ),
        (
            "none",
            "no MX host that completed TLS presented a valid certificate for its name",
        ),
        (
            "untested",
            "MX hosts exist but none completed a TLS handshake",
        ),
        (
            "no_mx",
            "no MX host to test (DNS failure, null MX, no mail host)",
        ),
    ],
};

/// `domains.sts_record`: the `_mta-sts` TXT record (RFC 8461 §3.1).
pub const STS_RECORD: Vocabulary = Vocabulary {
    table: "domains",
    column: "sts_record",
    values: &[
        ("none", "no TXT record beginning with v=STSv1"),
        ("valid", "exactly one v=STSv1 record, syntactically valid"),
        (
            "invalid",
            "exactly one v=STSv1 record, but invalid (e.g. a bad id)",
        ),
        (
            "multiple",
            "more than one v=STSv1 record: the domain has no policy (RFC 8461 §3.1)",
        ),
        ("dns_error", "the TXT lookup failed (SERVFAIL, timeout, …)"),
    ],
};

/// `domains.sts_policy`: the policy fetched from `mta-sts.<domain>` (RFC 8461 §3.3, §3.2).
pub const STS_POLICY: Vocabulary = Vocabulary {
    table: "domains",
    column: "sts_policy",
    values: &[
        (
            "not_fetched",
            "no fetch attempted (no valid v=STSv1 record)",
        ),
        ("ok", "fetched with HTTP 200 and parsed as a valid policy"),
        ("fetch_error", "the fetch failed; see sts_fetch_error"),
        (
            "invalid",
            "fetched, but the body is not a valid policy (RFC 8461 §3.2)",
        ),
    ],
};

/// `domains.sts_fetch_error`: why the policy fetch failed (RFC 8461 §3.3).
pub const STS_FETCH_ERROR: Vocabulary = Vocabulary {
    table: "domains",
    column: "sts_fetch_error",
    values: &[
        ("dns", "mta-sts.<domain> did not resolve"),
        ("connect", "the TCP connection was refused or failed"),
        (
            "timeout",
            "connect, handshake or body exceeded the deadline",
        ),
        (
            "tls_untrusted",
            "the HTTPS certificate does not chain to a trusted root",
        ),
        (
            "tls_expired",
            "the HTTPS certificate is expired or not yet valid",
        ),
        (
            "tls_name_mismatch",
            "the HTTPS certificate is not valid for mta-sts.<domain>",
        ),
        ("tls_other", "any other TLS failure"),
        (
            "http_status",
            "an HTTP status other than 200 (and not a redirect)",
        ),
        ("redirect", "a 3xx redirect, which MUST NOT be followed"),
        ("too_large", "the body exceeded the size cap"),
        (
            "io",
            "the connection broke or the HTTP response was malformed",
        ),
    ],
};

/// `domains.sts_mode`: the policy's `mode` (RFC 8461 §3.2).
pub const STS_MODE: Vocabulary = Vocabulary {
    table: "domains",
    column: "sts_mode",
    values: &[
        (
            "enforce",
            "senders must not deliver to MX hosts that fail validation",
        ),
        (
            "testing",
            "senders deliver anyway and report failures (TLS-RPT)",
        ),
        ("none", "the domain withdraws its policy"),
    ],
};

/// `domains.sts_delivery`: would an MTA-STS-enforcing sender deliver (RFC 8461 §5)?
pub const STS_DELIVERY: Vocabulary = Vocabulary {
    table: "domains",
    column: "sts_delivery",
    values: &[
        (
            "no_policy",
            "no valid policy in enforce or testing mode applies",
        ),
        (
            "ok",
            "at least one MX matches a pattern, offers STARTTLS and has a valid certificate",
        ),
        (
            "would_fail",
            "no MX qualifies: an enforcing sender would not deliver",
        ),
        (
            "untested",
            "a policy exists but the MX hosts could not be tested",
        ),
    ],
};

/// `domains.tlsrpt_record`: the `_smtp._tls` TXT record (RFC 8460 §3).
pub const TLSRPT_RECORD: Vocabulary = Vocabulary {
    table: "domains",
    column: "tlsrpt_record",
    values: &[
        ("none", "no TXT record beginning with v=TLSRPTv1"),
        (
            "valid",
            "exactly one v=TLSRPTv1 record, syntactically valid",
        ),
        (
            "invalid",
            "exactly one v=TLSRPTv1 record, but invalid (e.g. no usable rua)",
        ),
        ("multiple", "more than one v=TLSRPTv1 record"),
        ("dns_error", "the TXT lookup failed (SERVFAIL, timeout, …)"),
    ],
};

/// The status columns of this table.
pub const VOCABULARIES: &[&Vocabulary] = &[
    &DNS_STATUS,
    &STARTTLS,
    &CERT_VALID,
    &STS_RECORD,
    &STS_POLICY,
    &STS_FETCH_ERROR,
    &STS_MODE,
    &STS_DELIVERY,
    &TLSRPT_RECORD,
];

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
        check_domain("domains", "domain", &self.domain)?;
        DNS_STATUS.check(self.dns_status)?;
        STARTTLS.check(self.starttls)?;
        CERT_VALID.check(self.cert_valid)?;
        STS_RECORD.check(self.sts_record)?;
        STS_POLICY.check(self.sts_policy)?;
        if let Some(v) = self.sts_fetch_error {
            STS_FETCH_ERROR.check(v)?;
        }
        if let Some(v) = self.sts_mode {
            STS_MODE.check(v)?;
        }
        STS_DELIVERY.check(self.sts_delivery)?;
        TLSRPT_RECORD.check(self.tlsrpt_record)?;
        Ok(())
    }

    fn to_batch(rows: &[Self]) -> Result<RecordBatch> {
        for r in rows {
            r.validate()?;
        }
        let s = |f: fn(&DomainRow) -> &str| arrays::utf8(rows.iter().map(f));
        let l = |f: fn(&DomainRow) -> &[String]| arrays::list_utf8(rows.iter().map(f));
        let d = |voc: &Vocabulary, f: fn(&DomainRow) -> Option<&str>| {
            arrays::dict(voc, rows.iter().map(f))
        };
        let cols = vec![
            s(|r| &r.survey_id),
            arrays::prim::<UInt64Type>(rows.iter().map(|r| r.rank)),
            s(|r| &r.domain),
            d(&DNS_STATUS, |r| Some(r.dns_status))?,
            arrays::bools(rows.iter().map(|r| Some(r.null_mx))),
            arrays::bools(rows.iter().map(|r| Some(r.implicit_mx))),
            l(|r| &r.mx_hosts),
            l(|r| &r.mx_unresolved),
            d(&STARTTLS, |r| Some(r.starttls))?,
            d(&CERT_VALID, |r| Some(r.cert_valid))?,
            d(&STS_RECORD, |r| Some(r.sts_record))?,
            arrays::utf8_opt(rows.iter().map(|r| r.sts_id.as_deref())),
            d(&STS_POLICY, |r| Some(r.sts_policy))?,
            d(&STS_FETCH_ERROR, |r| r.sts_fetch_error)?,
            arrays::prim::<Int32Type>(rows.iter().map(|r| r.sts_http_status)),
            arrays::utf8_opt(rows.iter().map(|r| r.sts_content_type.as_deref())),
            d(&STS_MODE, |r| r.sts_mode)?,
            arrays::prim::<Int64Type>(rows.iter().map(|r| r.sts_max_age)),
            l(|r| &r.sts_mx),
            l(|r| &r.sts_deviations),
            l(|r| &r.sts_mx_unmatched),
            d(&STS_DELIVERY, |r| Some(r.sts_delivery))?,
            d(&TLSRPT_RECORD, |r| Some(r.tlsrpt_record))?,
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
