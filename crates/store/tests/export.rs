//! CSV and JSON Lines export.

mod common;

use common::*;
use mxscan_store::export::{ExportFormat, export};
use mxscan_store::{SurveyStatus, Table};
use serde_json::Value;

const SURVEY: &str = "2026-11-22T1000Z";

async fn survey(n: usize) -> (tempfile::TempDir, std::path::PathBuf) {
    finished_survey(
        SURVEY,
        &format!("survey={SURVEY}"),
        0..n,
        SurveyStatus::Complete,
    )
    .await
}

fn csv_rows(bytes: &[u8]) -> (Vec<String>, Vec<Vec<String>>) {
    let mut r = csv::Reader::from_reader(bytes);
    let header = r.headers().unwrap().iter().map(str::to_owned).collect();
    let rows = r
        .records()
        .map(|rec| rec.unwrap().iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

#[tokio::test]
async fn csv_export_of_every_table() {
    let (_root, dir) = survey(40).await;
    let want = expected(SURVEY, 0..40);
    for (table, n) in [
        (Table::Domains, want.domains.len()),
        (Table::Mx, want.mx.len()),
        (Table::Probes, want.probes.len()),
        (Table::Certs, want.certs.len()),
    ] {
        let mut out = Vec::new();
        let rows = export(&dir, table, ExportFormat::Csv, &mut out).unwrap();
        assert_eq!(rows as usize, n, "{table}");
        let (header, records) = csv_rows(&out);
        let names: Vec<String> = table
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        assert_eq!(header, names, "{table}: header is the schema");
        assert_eq!(records.len(), n);
    }

    let mut out = Vec::new();
    export(&dir, Table::Domains, ExportFormat::Csv, &mut out).unwrap();
    let (header, records) = csv_rows(&out);
    let col = |name: &str| header.iter().position(|h| h == name).unwrap();
    let d2 = want
        .domains
        .iter()
        .find(|d| d.domain == domain_name(2))
        .unwrap();
    let rec = records
        .iter()
        .find(|r| r[col("domain")] == d2.domain)
        .unwrap();
    let hosts: Vec<String> = serde_json::from_str(&rec[col("mx_hosts")]).unwrap();
    assert_eq!(hosts, d2.mx_hosts, "lists are JSON arrays");
    assert_eq!(rec[col("dns_status")], d2.dns_status.as_str());
    assert_eq!(rec[col("null_mx")], d2.null_mx.to_string());
    let d0 = records
        .iter()
        .find(|r| r[col("domain")] == domain_name(0))
        .unwrap();
    assert_eq!(d0[col("rank")], "", "null is an empty cell");
    assert_eq!(d0[col("mx_hosts")], "[]", "an empty list is []");

    let mut out = Vec::new();
    export(&dir, Table::Certs, ExportFormat::Csv, &mut out).unwrap();
    let (header, records) = csv_rows(&out);
    let c = &want.certs[0];
    let rec = records.iter().find(|r| r[1] == c.sha256).unwrap();
    let nb = header.iter().position(|h| h == "not_before").unwrap();
    assert_eq!(
        rec[nb],
        c.not_before.to_rfc3339(),
        "timestamp(s) as RFC 3339"
    );
    assert!(rec[nb].ends_with('Z') && !rec[nb].contains('.'));
    let der = header.iter().position(|h| h == "der").unwrap();
    assert_eq!(rec[der], hex::encode(&c.der), "binary as hex");
}

#[tokio::test]
async fn jsonl_export_types_values() {
    let (_root, dir) = survey(30).await;
    let want = expected(SURVEY, 0..30);
    let mut out = Vec::new();
    let n = export(&dir, Table::Probes, ExportFormat::Jsonl, &mut out).unwrap();
    let lines: Vec<Value> = String::from_utf8(out)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len() as u64, n);
    assert_eq!(lines.len(), want.probes.len());
    for p in &want.probes {
        let v = lines
            .iter()
            .find(|v| v["address"] == p.address.as_str())
            .unwrap();
        assert_eq!(v["port"], 25);
        assert_eq!(v["status"], p.status.as_str());
        assert_eq!(
            v["started_at"],
            p.started_at.to_rfc3339(),
            "timestamp(ms) as RFC 3339"
        );
        assert_eq!(v["chain_sha256"], serde_json::json!(p.chain_sha256));
        match &p.starttls_sample {
            Some(s) => assert_eq!(v["starttls_sample"], hex::encode(s)),
            None => assert!(v["starttls_sample"].is_null()),
        }
        match p.connect_ms {
            Some(ms) => assert_eq!(v["connect_ms"], ms),
            None => assert!(v["connect_ms"].is_null()),
        }
    }
}

#[test]
fn export_of_an_empty_survey_writes_the_header_only() {
    let root = tempfile::tempdir().unwrap();
    let mut out = Vec::new();
    assert_eq!(
        export(root.path(), Table::Mx, ExportFormat::Csv, &mut out).unwrap(),
        0
    );
    let (header, rows) = csv_rows(&out);
    assert_eq!(header[0], "survey_id");
    assert!(rows.is_empty());
    assert_eq!(ExportFormat::from_name("jsonl"), Some(ExportFormat::Jsonl));
    assert_eq!(ExportFormat::from_name("xml"), None);
}
