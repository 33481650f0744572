//! Reading a survey back: committed part files → record batches → rows.
//!
//! Only committed parts (`<table>/part-NNNNN.parquet`) are read; temporary
//! `.part-NNNNN.parquet.tmp` files of an unfinished commit are invisible, as they are to
//! DuckDB and pyarrow. Decoding is by column name, so files with extra columns (a newer
//! writer) or without an added column (an older writer) read fine.

use std::collections::HashMap;
use std::fs::{self, File};
use std::path::{Path, PathBuf};

use arrow::array::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;

use crate::error::{Result, StoreError};
use crate::rows::{CertRow, DomainRow, MxRow, ProbeRow, Table, TableRow};

/// Rows per decoded batch.
const BATCH_ROWS: usize = 8192;

/// File name of committed part `n`.
pub fn part_name(n: u32) -> String {
    format!("part-{n:05}.parquet")
}

/// File name of the temporary file of part `n` while it is being written.
pub fn tmp_part_name(n: u32) -> String {
    format!(".part-{n:05}.parquet.tmp")
}

/// Part number of a committed part file name (`part-00042.parquet` → 42).
pub fn parse_part_name(name: &str) -> Option<u32> {
    let digits = name.strip_prefix("part-")?.strip_suffix(".parquet")?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok()
}

/// Directory of `table` inside a survey directory.
pub fn table_dir(survey_dir: &Path, table: Table) -> PathBuf {
    survey_dir.join(table.as_str())
}

/// Committed parts of `table`, as (number, path), in part order. A missing table directory
/// means no parts.
pub fn parts(survey_dir: &Path, table: Table) -> Result<Vec<(u32, PathBuf)>> {
    let dir = table_dir(survey_dir, table);
    let entries = match fs::read_dir(&dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(StoreError::io("read_dir", &dir, e)),
    };
    let mut out = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| StoreError::io("read_dir", &dir, e))?;
        let name = entry.file_name();
        if let Some(n) = name.to_str().and_then(parse_part_name) {
            out.push((n, entry.path()));
        }
    }
    out.sort();
    Ok(out)
}

/// Calls `f` with every batch of every committed part of `table`, in part order. With
/// `columns`, only those columns are decoded (names that do not exist are skipped).
pub fn for_each_batch(
    survey_dir: &Path,
    table: Table,
    columns: Option<&[&str]>,
    mut f: impl FnMut(RecordBatch) -> Result<()>,
) -> Result<()> {
    for (_, path) in parts(survey_dir, table)? {
        for batch in read_part(&path, columns)? {
            f(batch)?;
        }
    }
    Ok(())
}

/// Every batch of one part file.
pub fn read_part(path: &Path, columns: Option<&[&str]>) -> Result<Vec<RecordBatch>> {
    let pq = |source| StoreError::Parquet {
        path: path.to_owned(),
        source,
    };
    let file = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
    let mut builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(pq)?
        .with_batch_size(BATCH_ROWS);
    if let Some(cols) = columns {
        let mask = ProjectionMask::columns(builder.parquet_schema(), cols.iter().copied());
        builder = builder.with_projection(mask);
    }
    let reader = builder.build().map_err(pq)?;
    reader
        .map(|b| b.map_err(StoreError::Arrow))
        .collect::<Result<Vec<_>>>()
}

/// Every batch of `table`, all columns.
pub fn read_batches(survey_dir: &Path, table: Table) -> Result<Vec<RecordBatch>> {
    let mut out = Vec::new();
    for_each_batch(survey_dir, table, None, |b| {
        out.push(b);
        Ok(())
    })?;
    Ok(out)
}

/// Every row of the table of `R`.
pub fn read_rows<R: TableRow>(survey_dir: &Path) -> Result<Vec<R>> {
    let mut out = Vec::new();
    for_each_batch(survey_dir, R::TABLE, None, |b| {
        out.extend(R::from_batch(&b)?);
        Ok(())
    })?;
    Ok(out)
}

/// Every `domains` row.
pub fn read_domains(survey_dir: &Path) -> Result<Vec<DomainRow>> {
    read_rows(survey_dir)
}

/// Every `mx` row.
pub fn read_mx(survey_dir: &Path) -> Result<Vec<MxRow>> {
    read_rows(survey_dir)
}

/// Every `probes` row.
pub fn read_probes(survey_dir: &Path) -> Result<Vec<ProbeRow>> {
    read_rows(survey_dir)
}

/// Every `certs` row.
pub fn read_certs(survey_dir: &Path) -> Result<Vec<CertRow>> {
    read_rows(survey_dir)
}

/// The key-value metadata of one part file (`mxscan.schema_version`, `mxscan.survey_id`, …).
pub fn part_metadata(path: &Path) -> Result<HashMap<String, String>> {
    let file = File::open(path).map_err(|e| StoreError::io("open", path, e))?;
    let builder =
        ParquetRecordBatchReaderBuilder::try_new(file).map_err(|source| StoreError::Parquet {
            path: path.to_owned(),
            source,
        })?;
    let kv = builder.metadata().file_metadata().key_value_metadata();
    Ok(kv
        .into_iter()
        .flatten()
        .filter_map(|kv| kv.value.clone().map(|v| (kv.key.clone(), v)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names() {
        let cases: &[(&str, Option<u32>)] = &[
            ("part-00000.parquet", Some(0)),
            ("part-00042.parquet", Some(42)),
            ("part-123456.parquet", Some(123_456)),
            (".part-00001.parquet.tmp", None),
            ("part-.parquet", None),
            ("part-0x1.parquet", None),
            ("part-00001.parquet.tmp", None),
            ("other.parquet", None),
        ];
        for (name, want) in cases {
            assert_eq!(parse_part_name(name), *want, "{name}");
        }
        assert_eq!(part_name(7), "part-00007.parquet");
        assert_eq!(tmp_part_name(7), ".part-00007.parquet.tmp");
        assert_eq!(parse_part_name(&part_name(99_999)), Some(99_999));
    }
}
