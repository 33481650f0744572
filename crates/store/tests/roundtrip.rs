//! rows → writer → Parquet → reader gives identical rows.

mod common;

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use arrow::array::{ArrayRef, RecordBatch, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use common::*;
use mxscan_store::{
    DomainRow, Manifest, MxRow, ProbeRow, StoreError, SurveyStatus, SurveyWriter, TableRow, reader,
};

const SURVEY: &str = "2026-11-22T1000Z";

#[test]
fn batches_round_trip_in_memory() {
    let rows: Vec<DomainRow> = (0..200).map(|i| domain(SURVEY, i).0).collect();
    let back = DomainRow::from_batch(&DomainRow::to_batch(&rows).unwrap()).unwrap();
    assert_eq!(back, rows);
    let rows: Vec<ProbeRow> = (0..50)
        .map(|i| probe(SURVEY, &format!("127.0.0.{i}")).0)
        .collect();
    let back = ProbeRow::from_batch(&ProbeRow::to_batch(&rows).unwrap()).unwrap();
    assert_eq!(back, rows);
}

#[tokio::test]
async fn writer_round_trip_is_identical() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path().join(format!("survey={SURVEY}"));
    let (w, h) = SurveyWriter::spawn(&dir, SURVEY, small_opts()).unwrap();
    let mut probed = HashSet::new();
    drive(&w, SURVEY, 0..300, None, &mut probed).await;
    // A duplicate certificate and probe are dropped, not written twice.
    let (p, chain) = probe(SURVEY, &addresses(1)[0]);
    w.cert(chain.first().cloned().unwrap_or_else(|| cert(SURVEY, 100)))
        .await
        .unwrap();
    w.probe(p).await.unwrap();
    let report = h.finish(SurveyStatus::Complete).await.unwrap();
    assert!(report.duplicates_dropped >= 1);
    assert!(report.commits > 1, "small parts: several commits");

    let want = expected(SURVEY, 0..300);
    let got = read_all(&dir);
    assert_eq!(got.domains.len(), 300);
    assert!(
        got.domains.iter().any(|d| d.rank.is_none())
            && got.domains.iter().any(|d| d.sts_mode.is_none())
    );
    assert!(
        got.mx.iter().any(|m| m.cert_status.is_none())
            && got.mx.iter().any(|m| m.cert_status.is_some())
    );
    assert!(got.probes.iter().any(|p| p.starttls_sample.is_some()));
    assert!(
        got.probes.iter().any(|p| p.chain_sha256.is_empty())
            && got.probes.iter().any(|p| !p.chain_sha256.is_empty())
    );
    assert_eq!(got, want);

    // Layout: same part numbers across tables, no temporary files, metadata in every part.
    for t in ["domains", "mx", "probes", "certs"] {
        let names = files(&dir, t);
        assert!(!names.is_empty(), "{t}");
        assert!(
            names.iter().all(|n| reader::parse_part_name(n).is_some()),
            "{t}: {names:?}"
        );
        for (_, p) in reader::parts(&dir, mxscan_store::Table::from_name(t).unwrap()).unwrap() {
            let md = reader::part_metadata(&p).unwrap();
            assert_eq!(md["mxscan.schema_version"], mxscan_store::SCHEMA_VERSION);
            assert_eq!(md["mxscan.survey_id"], SURVEY);
            assert_eq!(md["mxscan.table"], t);
        }
    }
    assert_eq!(
        files(&dir, "domains"),
        files(&dir, "mx"),
        "a domain and its mx rows share a part"
    );

    // Manifest: complete, counts match the rows.
    let m = Manifest::load(&dir).unwrap();
    assert_eq!(m.status, SurveyStatus::Complete);
    assert!(m.finished_at.is_some());
    assert_eq!(m.rows["domains"], 300);
    assert_eq!(m.rows["certs"], want.certs.len() as u64);
    let mut counts = BTreeMap::new();
    want.domains.iter().for_each(|d| d.count(&mut counts));
    want.mx.iter().for_each(|d| d.count(&mut counts));
    want.probes.iter().for_each(|d| d.count(&mut counts));
    assert_eq!(m.counts, counts);
    assert_eq!(m.counts["domains.dns_status"].values().sum::<u64>(), 300);
}

/// A status value outside its vocabulary cannot be built (the columns are enums); one that
/// arrives in a file — written by another tool, or damaged — is an error naming the column.
fn with_column(batch: &RecordBatch, name: &str, value: &str) -> RecordBatch {
    let schema = batch.schema();
    let cols: Vec<ArrayRef> = schema
        .fields()
        .iter()
        .zip(batch.columns())
        .map(|(f, c)| {
            if f.name() == name {
                Arc::new(StringArray::from(vec![value; batch.num_rows()])) as ArrayRef
            } else {
                c.clone()
            }
        })
        .collect();
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if f.name() == name {
                Field::new(name, DataType::Utf8, f.is_nullable())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap()
}

#[tokio::test]
async fn values_outside_the_vocabulary_are_errors() {
    let root = tempfile::tempdir().unwrap();
    let (w, h) = SurveyWriter::spawn(root.path().join("s"), SURVEY, small_opts()).unwrap();
    let (d, m) = domain(SURVEY, 1);
    let batch = with_column(
        &DomainRow::to_batch(&[d]).unwrap(),
        "dns_status",
        "NXDOMAIN",
    );
    let err = DomainRow::from_batch(&batch).unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::Vocabulary {
                column: "dns_status",
                ..
            }
        ),
        "{err}"
    );

    let batch = with_column(&MxRow::to_batch(&m[..1]).unwrap(), "cert_status", "fine");
    assert!(matches!(
        MxRow::from_batch(&batch),
        Err(StoreError::Vocabulary {
            column: "cert_status",
            ..
        })
    ));

    let (p, _) = probe(SURVEY, "127.0.0.1");
    let batch = with_column(&ProbeRow::to_batch(&[p]).unwrap(), "status", "refused");
    assert!(ProbeRow::from_batch(&batch).is_err());
    let (mut p, _) = probe(SURVEY, "127.0.0.1");
    p.starttls_sample = Some(vec![0; 257]);
    assert!(w.probe(p).await.is_err());
    let (mut p, _) = probe(SURVEY, "127.0.0.1");
    p.survey_id = "other".into();
    assert!(w.probe(p).await.is_err());
    let (d, mut m3) = domain(SURVEY, 3);
    m3[0].domain = "elsewhere.example".into();
    assert!(w.domain(d, m3).await.is_err());
    let (mut d, _) = domain(SURVEY, 4);
    d.domain = "Upper.Example.".into();
    assert!(w.domain(d, vec![]).await.is_err());
    let mut c = cert(SURVEY, 1);
    c.sha256 = "ABC".into();
    assert!(w.cert(c).await.is_err());

    // Nothing invalid was queued: the survey is empty.
    let report = h.finish(SurveyStatus::Complete).await.unwrap();
    assert_eq!(report.commits, 0);
    assert!(
        reader::read_domains(&root.path().join("s"))
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn spawning_on_a_survey_with_parts_needs_the_resume_index() {
    let (_root, dir) = finished_survey(SURVEY, "s", 0..5, SurveyStatus::Partial).await;
    assert!(matches!(
        SurveyWriter::spawn(&dir, SURVEY, small_opts()),
        Err(StoreError::NotEmpty(_))
    ));
    assert!(matches!(
        SurveyWriter::spawn(&dir, "another-id", small_opts()),
        Err(StoreError::NotEmpty(_)) | Err(StoreError::SurveyId(_))
    ));
}

/// A part written by another tool (or a future mxscan): an extra column, an added column
/// missing, statuses as plain strings instead of dictionaries. The reader still decodes it.
#[test]
fn reader_tolerates_extra_missing_added_and_plain_string_columns() {
    use arrow::array::{ArrayRef, Int64Array, RecordBatch};
    use arrow::compute::cast;
    use arrow::datatypes::{DataType, Field, Schema};
    use std::sync::Arc;

    let rows: Vec<DomainRow> = (0..20).map(|i| domain(SURVEY, i).0).collect();
    let batch = DomainRow::to_batch(&rows).unwrap();
    let mut fields = Vec::new();
    let mut cols: Vec<ArrayRef> = Vec::new();
    for (f, c) in batch.schema().fields().iter().zip(batch.columns()) {
        if f.name() == "mx_unresolved" {
            continue; // an older writer did not have this added column
        }
        if matches!(f.data_type(), DataType::Dictionary(..)) {
            fields.push(Field::new(f.name(), DataType::Utf8, f.is_nullable()));
            cols.push(cast(c, &DataType::Utf8).unwrap());
        } else {
            fields.push(f.as_ref().clone());
            cols.push(c.clone());
        }
    }
    fields.push(Field::new("future_column", DataType::Int64, false));
    cols.push(Arc::new(Int64Array::from_iter_values(0..20)));
    let other = RecordBatch::try_new(Arc::new(Schema::new(fields)), cols).unwrap();

    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("domains")).unwrap();
    let f = std::fs::File::create(dir.path().join("domains").join(reader::part_name(0))).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, other.schema(), None).unwrap();
    w.write(&other).unwrap();
    w.close().unwrap();

    let back = reader::read_domains(dir.path()).unwrap();
    let want: Vec<DomainRow> = rows
        .into_iter()
        .map(|mut r| {
            r.mx_unresolved.clear();
            r
        })
        .collect();
    assert_eq!(back, want);

    // A contract column missing is an error that names it.
    let mut w2 = Vec::new();
    let cut = other.project(&[0, 1]).unwrap();
    let mut pw = parquet::arrow::ArrowWriter::try_new(&mut w2, cut.schema(), None).unwrap();
    pw.write(&cut).unwrap();
    pw.close().unwrap();
    std::fs::write(dir.path().join("domains").join(reader::part_name(1)), w2).unwrap();
    let err = reader::read_domains(dir.path()).unwrap_err();
    assert!(err.to_string().contains("domain"), "{err}");
}
