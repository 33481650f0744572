//! `_smtp._tls` TXT records (RFC 8460 §3): table of edge cases with exact expectations.

use mxscan_policy::{RecordStatus, TlsRptRecord, parse_tlsrpt_records, parse_tlsrpt_txt};

fn names(r: &TlsRptRecord) -> Vec<&'static str> {
    r.deviations.iter().map(|d| d.as_str()).collect()
}

/// (records, status, rua, deviations)
type Case = (
    &'static [&'static str],
    &'static str,
    &'static [&'static str],
    &'static [&'static str],
);

#[test]
fn tlsrpt_table() {
    let cases: &[Case] = &[
        (&[], "none", &[], &[]),
        (
            &["v=TLSRPTv1; rua=mailto:tlsrpt@example.com"],
            "valid",
            &["mailto:tlsrpt@example.com"],
            &[],
        ),
        (
            &["v=TLSRPTv1;rua=https://reports.example.com/v1/tlsrpt"],
            "valid",
            &["https://reports.example.com/v1/tlsrpt"],
            &[],
        ),
        (
            &["v=TLSRPTv1; rua=mailto:a@example.com,https://r.example.com/tlsrpt"],
            "valid",
            &["mailto:a@example.com", "https://r.example.com/tlsrpt"],
            &[],
        ),
        (
            &["v=TLSRPTv1; rua=mailto:a@example.com , \tmailto:b@example.com ;"],
            "valid",
            &["mailto:a@example.com", "mailto:b@example.com"],
            &[],
        ),
        (
            &["v=TLSRPTv1; rua=MAILTO:a@example.com"],
            "valid",
            &["MAILTO:a@example.com"],
            &[],
        ),
        (
            &["v=TLSRPTv1; rua=Https://r.example.com"],
            "valid",
            &["Https://r.example.com"],
            &[],
        ),
        // rua problems
        (&["v=TLSRPTv1;"], "invalid", &[], &["tlsrpt_missing_rua"]),
        (&["v=TLSRPTv1"], "invalid", &[], &["tlsrpt_missing_rua"]),
        (
            &["v=TLSRPTv1; rua="],
            "invalid",
            &[],
            &["tlsrpt_invalid_rua"],
        ),
        (
            &["v=TLSRPTv1; rua=http://r.example.com"],
            "invalid",
            &[],
            &["tlsrpt_invalid_rua"],
        ),
        (
            &["v=TLSRPTv1; rua=tlsrpt@example.com"],
            "invalid",
            &[],
            &["tlsrpt_invalid_rua"],
        ),
        (
            &["v=TLSRPTv1; rua=mailto:"],
            "invalid",
            &[],
            &["tlsrpt_invalid_rua"],
        ),
        (
            &["v=TLSRPTv1; rua=,"],
            "invalid",
            &[],
            &["tlsrpt_invalid_rua"],
        ),
        (
            &["v=TLSRPTv1; rua=ftp://r.example.com,mailto:a@example.com"],
            "valid",
            &["mailto:a@example.com"],
            &["tlsrpt_unsupported_uri"],
        ),
        (
            &["v=TLSRPTv1; rua=mailto:a@example.com,"],
            "valid",
            &["mailto:a@example.com"],
            &["tlsrpt_unsupported_uri"],
        ),
        (
            &["v=TLSRPTv1; RUA=mailto:a@example.com"],
            "invalid",
            &[],
            &["tlsrpt_missing_rua", "tlsrpt_unknown_field"],
        ),
        // several / stray / case
        (
            &[
                "v=TLSRPTv1; rua=mailto:a@example.com",
                "v=TLSRPTv1; rua=mailto:b@example.com",
            ],
            "multiple",
            &[],
            &["tlsrpt_multiple_records"],
        ),
        (
            &["v=spf1 -all", "v=TLSRPTv1; rua=mailto:a@example.com"],
            "valid",
            &["mailto:a@example.com"],
            &["tlsrpt_stray_records"],
        ),
        (&["v=STSv1; id=1"], "none", &[], &["tlsrpt_stray_records"]),
        (
            &["v=TLSRPTv10; rua=mailto:a@example.com"],
            "none",
            &[],
            &["tlsrpt_stray_records"],
        ),
        (
            &["V=TLSRPTV1; rua=mailto:a@example.com"],
            "none",
            &[],
            &["tlsrpt_stray_records", "tlsrpt_version_case"],
        ),
        // fields
        (
            &["v=TLSRPTv1; rua=mailto:a@example.com; rua=mailto:b@example.com"],
            "valid",
            &["mailto:a@example.com"],
            &["tlsrpt_duplicate_field"],
        ),
        (
            &["v=TLSRPTv1; ext=1; rua=mailto:a@example.com"],
            "valid",
            &["mailto:a@example.com"],
            &["tlsrpt_unknown_field"],
        ),
        (
            &["v=TLSRPTv1;; rua=mailto:a@example.com"],
            "valid",
            &["mailto:a@example.com"],
            &["tlsrpt_syntax"],
        ),
    ];
    for (records, status, rua, devs) in cases {
        let r = parse_tlsrpt_txt(records);
        assert_eq!(r.status.as_str(), *status, "{records:?}");
        assert_eq!(r.rua, *rua, "{records:?}");
        assert_eq!(names(&r), *devs, "{records:?}");
    }
}

#[test]
fn multi_string_records_and_json() {
    let records: Vec<Vec<&[u8]>> = vec![vec![b"v=TLSRPTv1; rua=mailto:tls", b"rpt@example.com"]];
    let r = parse_tlsrpt_records(&records);
    assert_eq!(r.status, RecordStatus::Valid);
    assert_eq!(r.rua, ["mailto:tlsrpt@example.com"]);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"status": "valid", "rua": ["mailto:tlsrpt@example.com"], "deviations": []})
    );
    let r = parse_tlsrpt_txt(&["v=TLSRPTv1;"]);
    assert_eq!(
        serde_json::to_value(&r).unwrap(),
        serde_json::json!({"status": "invalid", "rua": [], "deviations": ["tlsrpt_missing_rua"]})
    );
}
