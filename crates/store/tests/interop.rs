//! The output reads in the researchers' tools: pyarrow and DuckDB (including the hive read of
//! a whole history). Skipped, with a message, when the Python packages are missing
//! (`pip install pyarrow duckdb`; CI installs them).

mod common;

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

use common::*;
use mxscan_store::{Manifest, SurveyStatus, SurveyWriter, create_survey};
use mxscan_testkit::tools::python_has;
use serde_json::json;

const SCRIPT: &str = include_str!("../testdata/check_survey.py");

async fn write_survey(root: &Path, id: &str, n: usize) -> serde_json::Value {
    let t = time::OffsetDateTime::now_utc();
    let s = create_survey(root, Some(id), t, Manifest::new("", "")).unwrap();
    let (w, h) = SurveyWriter::spawn(&s.dir, id, small_opts()).unwrap();
    drive(&w, id, 0..n, None, &mut HashSet::new()).await;
    w.flush().await.unwrap();
    h.finish(SurveyStatus::Complete).await.unwrap();
    // A stale temporary part, as a crash leaves it: readers must not see it.
    std::fs::write(
        s.dir.join("domains").join(".part-09999.parquet.tmp"),
        b"PAR1",
    )
    .unwrap();
    let want = expected(id, 0..n);
    let mut values = serde_json::Map::new();
    for i in [1usize, 2, 6] {
        let d = &want
            .domains
            .iter()
            .find(|d| d.domain == domain_name(i))
            .unwrap();
        values.insert(
            d.domain.clone(),
            json!({"rank": d.rank, "dns_status": d.dns_status, "mx_hosts": d.mx_hosts,
                   "sts_mode": d.sts_mode, "sts_mx": d.sts_mx}),
        );
    }
    let p = &want.probes[0];
    let c = &want.certs[0];
    json!({
        "domains": want.domains.len(), "mx": want.mx.len(), "probes": want.probes.len(),
        "certs": want.certs.len(), "domain_values": values,
        "probe_address": p.address, "probe_started_ms": p.started_at.0,
        "cert_sha256": c.sha256, "cert_der_hex": hex::encode(&c.der),
        "cert_not_before_s": c.not_before.0,
    })
}

#[tokio::test]
async fn pyarrow_and_duckdb_read_the_surveys() {
    let have_pyarrow = python_has("pyarrow");
    let have_duckdb = python_has("duckdb");
    if !have_pyarrow && !have_duckdb {
        println!("SKIPPED: python3 with pyarrow/duckdb not available (pip install pyarrow duckdb)");
        return;
    }
    let root = tempfile::tempdir().unwrap();
    let a = write_survey(root.path(), "2026-11-22T1000Z", 120).await;
    let b = write_survey(root.path(), "2026-11-29T1000Z", 90).await;
    let exp = json!({
        "schema_version": mxscan_store::SCHEMA_VERSION,
        "surveys": {"2026-11-22T1000Z": a, "2026-11-29T1000Z": b},
    });
    for (tool, have) in [("pyarrow", have_pyarrow), ("duckdb", have_duckdb)] {
        if !have {
            println!("SKIPPED {tool}: python module not installed (pip install {tool})");
            continue;
        }
        let out = Command::new("python3")
            .args(["-c", SCRIPT])
            .arg(root.path())
            .arg(exp.to_string())
            .arg(tool)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{tool}: {}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
}
