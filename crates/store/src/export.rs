//! Export of one table of a survey as CSV or JSON Lines.
//!
//! Every column of the part files is exported (extra columns too), in file order. Cell
//! rendering: strings as is; numbers and booleans in their usual text form; timestamps in
//! RFC 3339 UTC (`2026-11-22T10:00:00.123Z` for ms, `2026-11-22T10:00:00Z` for s); binary
//! as lowercase hex; lists as JSON arrays (in CSV, the JSON text in the cell). Nulls are an
//! empty CSV cell and JSON `null`. The header is the column list of the first part; later
//! parts are aligned by name (a column they lack is null).

use std::io::Write;
use std::path::Path;

use arrow::array::{Array, ArrayRef, AsArray, RecordBatch};
use arrow::compute::cast;
use arrow::datatypes::{
    DataType, Int8Type, Int16Type, Int32Type, Int64Type, TimeUnit, TimestampMillisecondType,
    TimestampSecondType, UInt8Type, UInt16Type, UInt32Type, UInt64Type,
};
use serde_json::Value;

use crate::error::{Result, StoreError};
use crate::reader::for_each_batch;
use crate::rows::Table;
use crate::timestamp::{TimestampMs, TimestampS};

/// Output format of [`export`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// RFC 4180 CSV with a header row.
    Csv,
    /// One JSON object per line.
    Jsonl,
}

impl ExportFormat {
    /// `csv` or `jsonl`.
    pub fn as_str(self) -> &'static str {
        match self {
            ExportFormat::Csv => "csv",
            ExportFormat::Jsonl => "jsonl",
        }
    }

    /// Parses `csv` / `jsonl` (also `json`, `ndjson`).
    pub fn from_name(s: &str) -> Option<Self> {
        match s {
            "csv" => Some(ExportFormat::Csv),
            "jsonl" | "json" | "ndjson" => Some(ExportFormat::Jsonl),
            _ => None,
        }
    }
}

/// Writes every row of `table` of the survey in `survey_dir` to `out`; returns the rows.
pub fn export(
    survey_dir: &Path,
    table: Table,
    format: ExportFormat,
    out: impl Write,
) -> Result<u64> {
    let mut header: Option<Vec<String>> = None;
    let mut rows = 0u64;
    let io = |e: std::io::Error| StoreError::io("write", "<export output>", e);
    match format {
        ExportFormat::Csv => {
            let mut w = csv::Writer::from_writer(out);
            for_each_batch(survey_dir, table, None, |b| {
                let names = header.get_or_insert_with(|| column_names(&b));
                if rows == 0 {
                    w.write_record(names.iter()).map_err(csv_err)?;
                }
                let cols = align(&b, names, table);
                for i in 0..b.num_rows() {
                    let rec: Vec<String> = cols
                        .iter()
                        .map(|c| c.as_ref().map(|c| csv_cell(c, i)).unwrap_or_default())
                        .collect();
                    w.write_record(&rec).map_err(csv_err)?;
                    rows += 1;
                }
                Ok(())
            })?;
            if rows == 0 {
                // No parts: still write the header of the contract schema.
                let names: Vec<String> = table
                    .schema()
                    .fields()
                    .iter()
                    .map(|f| f.name().clone())
                    .collect();
                w.write_record(&names).map_err(csv_err)?;
            }
            w.flush().map_err(io)?;
        }
        ExportFormat::Jsonl => {
            let mut out = std::io::BufWriter::new(out);
            for_each_batch(survey_dir, table, None, |b| {
                let names = header.get_or_insert_with(|| column_names(&b));
                let cols = align(&b, names, table);
                for i in 0..b.num_rows() {
                    let mut obj = serde_json::Map::with_capacity(names.len());
                    for (name, c) in names.iter().zip(&cols) {
                        let v = c.as_ref().map(|c| json_value(c, i)).unwrap_or(Value::Null);
                        obj.insert(name.clone(), v);
                    }
                    serde_json::to_writer(&mut out, &Value::Object(obj)).map_err(|e| {
                        StoreError::io("write", "<export output>", std::io::Error::other(e))
                    })?;
                    out.write_all(b"\n").map_err(io)?;
                    rows += 1;
                }
                Ok(())
            })?;
            out.flush().map_err(io)?;
        }
    }
    Ok(rows)
}

fn csv_err(e: csv::Error) -> StoreError {
    StoreError::io("write", "<export output>", std::io::Error::other(e))
}

fn column_names(b: &RecordBatch) -> Vec<String> {
    b.schema()
        .fields()
        .iter()
        .map(|f| f.name().clone())
        .collect()
}

/// The batch's columns in header order, with contract columns cast back to their contract
/// type (second timestamps are stored as milliseconds, see `storage_schema`).
fn align(b: &RecordBatch, names: &[String], table: Table) -> Vec<Option<ArrayRef>> {
    let contract = table.schema();
    names
        .iter()
        .map(|n| {
            let c = b.column_by_name(n)?;
            let c = match contract.field_with_name(n) {
                Ok(f)
                    if matches!(f.data_type(), DataType::Timestamp(..))
                        && f.data_type() != c.data_type() =>
                {
                    cast(c, f.data_type()).unwrap_or_else(|_| c.clone())
                }
                _ => c.clone(),
            };
            Some(normalise(&c))
        })
        .collect()
}

/// Dictionaries and string views become plain Utf8 so rendering has fewer cases.
fn normalise(a: &ArrayRef) -> ArrayRef {
    match a.data_type() {
        DataType::Dictionary(_, _) | DataType::LargeUtf8 | DataType::Utf8View => {
            cast(a, &DataType::Utf8).unwrap_or_else(|_| a.clone())
        }
        _ => a.clone(),
    }
}

/// One cell as CSV text.
pub fn csv_cell(a: &ArrayRef, i: usize) -> String {
    match json_value(a, i) {
        Value::Null => String::new(),
        Value::String(s) => s,
        v => v.to_string(),
    }
}

/// One cell as a JSON value (see the module docs for the rendering).
pub fn json_value(a: &ArrayRef, i: usize) -> Value {
    if a.is_null(i) {
        return Value::Null;
    }
    macro_rules! num {
        ($t:ty) => {
            Value::from(a.as_primitive::<$t>().value(i))
        };
    }
    match a.data_type() {
        DataType::Utf8 => Value::String(a.as_string::<i32>().value(i).to_owned()),
        DataType::LargeUtf8 => Value::String(a.as_string::<i64>().value(i).to_owned()),
        DataType::Boolean => Value::Bool(a.as_boolean().value(i)),
        DataType::Int8 => num!(Int8Type),
        DataType::Int16 => num!(Int16Type),
        DataType::Int32 => num!(Int32Type),
        DataType::Int64 => num!(Int64Type),
        DataType::UInt8 => num!(UInt8Type),
        DataType::UInt16 => num!(UInt16Type),
        DataType::UInt32 => num!(UInt32Type),
        DataType::UInt64 => num!(UInt64Type),
        DataType::Timestamp(TimeUnit::Millisecond, _) => Value::String(
            TimestampMs(a.as_primitive::<TimestampMillisecondType>().value(i)).to_rfc3339(),
        ),
        DataType::Timestamp(TimeUnit::Second, _) => {
            Value::String(TimestampS(a.as_primitive::<TimestampSecondType>().value(i)).to_rfc3339())
        }
        DataType::Binary => Value::String(hex::encode(a.as_binary::<i32>().value(i))),
        DataType::LargeBinary => Value::String(hex::encode(a.as_binary::<i64>().value(i))),
        DataType::List(_) => {
            let v = normalise(&a.as_list::<i32>().value(i));
            Value::Array((0..v.len()).map(|j| json_value(&v, j)).collect())
        }
        DataType::LargeList(_) => {
            let v = normalise(&a.as_list::<i64>().value(i));
            Value::Array((0..v.len()).map(|j| json_value(&v, j)).collect())
        }
        DataType::Dictionary(_, _) | DataType::Utf8View => json_value(&normalise(a), i),
        _ => match cast(a, &DataType::Utf8) {
            Ok(s) => Value::String(s.as_string::<i32>().value(i).to_owned()),
            Err(_) => Value::Null,
        },
    }
}
