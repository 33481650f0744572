//! The output contract of docs/schema.md spelled out literally: a renamed or retyped column, or a
//! changed status vocabulary, fails here.

use arrow::datatypes::{DataType, TimeUnit};
use mxscan_store::{Table, domains, mx, probes, vocab};

/// (table, column, contract type) for every column of docs/schema.md.
const CONTRACT: &[(&str, &str, &str)] = &[
    ("domains", "survey_id", "string"),
    ("domains", "rank", "uint64"),
    ("domains", "domain", "string"),
    ("domains", "dns_status", "status"),
    ("domains", "null_mx", "bool"),
    ("domains", "implicit_mx", "bool"),
    ("domains", "mx_hosts", "list<string>"),
    ("domains", "starttls", "status"),
    ("domains", "cert_valid", "status"),
    ("domains", "sts_record", "status"),
    ("domains", "sts_id", "string"),
    ("domains", "sts_policy", "status"),
    ("domains", "sts_fetch_error", "status"),
    ("domains", "sts_http_status", "int32"),
    ("domains", "sts_content_type", "string"),
    ("domains", "sts_mode", "status"),
    ("domains", "sts_max_age", "int64"),
    ("domains", "sts_mx", "list<string>"),
    ("domains", "sts_deviations", "list<string>"),
    ("domains", "sts_mx_unmatched", "list<string>"),
    ("domains", "sts_delivery", "status"),
    ("domains", "tlsrpt_record", "status"),
    ("domains", "tlsrpt_rua", "list<string>"),
    ("domains", "elapsed_ms", "uint32"),
    ("mx", "survey_id", "string"),
    ("mx", "domain", "string"),
    ("mx", "exchange", "string"),
    ("mx", "preference", "uint16"),
    ("mx", "address", "string"),
    ("mx", "blocked", "bool"),
    ("mx", "smtp_status", "status"),
    ("mx", "starttls", "bool"),
    ("mx", "cert_status", "status"),
    ("mx", "sts_match", "bool"),
    ("probes", "survey_id", "string"),
    ("probes", "address", "string"),
    ("probes", "port", "uint16"),
    ("probes", "sni", "string"),
    ("probes", "status", "status"),
    ("probes", "banner", "string"),
    ("probes", "ehlo_keywords", "list<string>"),
    ("probes", "starttls_offered", "bool"),
    ("probes", "starttls_code", "uint16"),
    ("probes", "bytes_after_starttls", "uint32"),
    ("probes", "tls_version", "string"),
    ("probes", "cipher_suite", "string"),
    ("probes", "kx_group", "string"),
    ("probes", "chain_sha256", "list<string>"),
    ("probes", "tls_error", "string"),
    ("probes", "tls_max_version", "string"),
    ("probes", "tls_failure", "status"),
    ("probes", "chain_completed", "bool"),
    ("probes", "started_at", "timestamp(ms, UTC)"),
    ("probes", "connect_ms", "uint32"),
    ("probes", "tls_ms", "uint32"),
    ("probes", "total_ms", "uint32"),
    ("certs", "sha256", "string"),
    ("certs", "der", "binary"),
    ("certs", "subject", "string"),
    ("certs", "issuer", "string"),
    ("certs", "san_dns", "list<string>"),
    ("certs", "not_before", "timestamp(s, UTC)"),
    ("certs", "not_after", "timestamp(s, UTC)"),
    ("certs", "self_signed", "bool"),
    ("certs", "key_type", "string"),
    ("certs", "key_bits", "uint32"),
    ("certs", "signature_algorithm", "string"),
];

/// Columns this crate adds (documented in the table modules).
const ADDED: &[(&str, &str, &str)] = &[
    ("domains", "mx_unresolved", "list<string>"),
    ("domains", "tlsrpt_deviations", "list<string>"),
    ("mx", "cert_matches_domain", "bool"),
    ("probes", "ehlo_keywords_tls", "list<string>"),
    ("probes", "starttls_sample", "binary"),
    ("probes", "greeting_ms", "uint32"),
    ("probes", "ehlo_ms", "uint32"),
    ("probes", "modern_tls_failure", "status"),
    ("probes", "legacy_ms", "uint32"),
    ("certs", "survey_id", "string"),
];

fn expected_type(t: &str) -> DataType {
    match t {
        "string" => DataType::Utf8,
        "status" => DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8)),
        "uint64" => DataType::UInt64,
        "uint32" => DataType::UInt32,
        "uint16" => DataType::UInt16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "bool" => DataType::Boolean,
        "binary" => DataType::Binary,
        "list<string>" => mxscan_store::list_type(),
        "timestamp(ms, UTC)" => DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into())),
        "timestamp(s, UTC)" => DataType::Timestamp(TimeUnit::Second, Some("UTC".into())),
        other => panic!("unknown contract type {other}"),
    }
}

#[test]
fn every_contract_and_added_column_has_its_type() {
    for (table, column, ty) in CONTRACT.iter().chain(ADDED) {
        let schema = Table::from_name(table).unwrap().schema();
        let field = schema
            .field_with_name(column)
            .unwrap_or_else(|_| panic!("{table}.{column} missing"));
        assert_eq!(field.data_type(), &expected_type(ty), "{table}.{column}");
    }
}

#[test]
fn schemas_have_no_undocumented_columns() {
    for table in Table::ALL {
        for field in table.schema().fields() {
            let known = CONTRACT
                .iter()
                .chain(ADDED)
                .any(|(t, c, _)| *t == table.as_str() && c == field.name());
            assert!(
                known,
                "{table}.{} is neither contract nor documented addition",
                field.name()
            );
        }
    }
}

#[test]
fn every_status_column_has_a_vocabulary_and_vice_versa() {
    let statuses: Vec<(&str, &str)> = CONTRACT
        .iter()
        .chain(ADDED)
        .filter(|(_, _, t)| *t == "status")
        .map(|(t, c, _)| (*t, *c))
        .collect();
    let vocabs: Vec<(&str, &str)> = vocab::all().iter().map(|v| (v.table, v.column)).collect();
    assert_eq!(statuses, vocabs);
}

#[test]
fn vocabularies_are_exactly_the_contract() {
    let cases: &[(&mxscan_store::Vocabulary, &[&str])] = &[
        (
            &domains::DNS_STATUS,
            &[
                "ok",
                "nxdomain",
                "no_mail_host",
                "servfail",
                "refused",
                "timeout",
                "error",
            ],
        ),
        (
            &domains::STARTTLS,
            &["all", "some", "none", "untested", "no_mx"],
        ),
        (
            &domains::CERT_VALID,
            &["all", "some", "none", "untested", "no_mx"],
        ),
        (
            &domains::STS_RECORD,
            &["none", "valid", "invalid", "multiple", "dns_error"],
        ),
        (
            &domains::STS_POLICY,
            &["not_fetched", "ok", "fetch_error", "invalid"],
        ),
        (
            &domains::STS_FETCH_ERROR,
            &[
                "dns",
                "connect",
                "timeout",
                "tls_untrusted",
                "tls_expired",
                "tls_name_mismatch",
                "tls_other",
                "http_status",
                "redirect",
                "too_large",
                "io",
            ],
        ),
        (&domains::STS_MODE, &["enforce", "testing", "none"]),
        (
            &domains::STS_DELIVERY,
            &["no_policy", "ok", "would_fail", "untested"],
        ),
        (
            &domains::TLSRPT_RECORD,
            &["none", "valid", "invalid", "multiple", "dns_error"],
        ),
        (
            &mx::CERT_STATUS,
            &[
                "valid",
                "expired",
                "not_yet_valid",
                "name_mismatch",
                "untrusted_issuer",
                "self_signed",
                "incomplete_chain",
                "other",
            ],
        ),
        (
            &probes::STATUS,
            &[
                "ok",
                "blocked",
                "connect_refused",
                "connect_timeout",
                "greeting_timeout",
                "greeting_421",
                "greeting_rejected",
                "ehlo_rejected",
                "no_starttls",
                "starttls_rejected",
                "tls_failed",
                "io_error",
                "protocol_error",
                "timeout",
                "closed_before_greeting",
                "tls_legacy",
            ],
        ),
    ];
    for (voc, want) in cases {
        let got: Vec<&str> = voc.names().collect();
        assert_eq!(&got, want, "{}", voc.key());
    }
    let smtp: Vec<&str> = mx::SMTP_STATUS.names().collect();
    let probe: Vec<&str> = probes::STATUS.names().collect();
    assert_eq!(smtp, probe, "mx.smtp_status uses the probes vocabulary");
    assert!(!vocab::all().iter().any(|v| v.table == "certs"));
}
