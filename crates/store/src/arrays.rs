//! Column encoders and decoders shared by the table modules.
//!
//! Encoding turns row fields into Arrow arrays of the contract types. Decoding is tolerant:
//! columns are found by name (extra columns are ignored, added columns may be missing in
//! older files) and cast to the contract type first, so a file whose status columns were
//! re-encoded as plain strings, or whose lists became large lists, still reads.

use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BinaryArray, BooleanArray, Int8Array, ListBuilder, PrimitiveArray,
    RecordBatch, StringArray, StringBuilder,
};
use arrow::compute::cast;
use arrow::datatypes::{
    ArrowPrimitiveType, DataType, Field, Int8Type, TimeUnit, TimestampMillisecondType,
    TimestampSecondType,
};

use crate::error::{Result, StoreError};
use mxscan_model::Vocab;

use crate::vocab::Vocabulary;

/// `Dictionary(Int8, Utf8)`: the type of every status column.
pub fn dict_type() -> DataType {
    DataType::Dictionary(Box::new(DataType::Int8), Box::new(DataType::Utf8))
}

/// `List(Utf8)` with the conventional item field (`item`, nullable; never null in practice).
pub fn list_type() -> DataType {
    DataType::List(Arc::new(Field::new_list_field(DataType::Utf8, true)))
}

/// `Timestamp(Millisecond, "UTC")`.
pub fn ts_ms_type() -> DataType {
    DataType::Timestamp(TimeUnit::Millisecond, Some("UTC".into()))
}

/// `Timestamp(Second, "UTC")`.
pub fn ts_s_type() -> DataType {
    DataType::Timestamp(TimeUnit::Second, Some("UTC".into()))
}

pub(crate) fn utf8<'a>(it: impl Iterator<Item = &'a str>) -> ArrayRef {
    Arc::new(StringArray::from_iter_values(it))
}

pub(crate) fn utf8_opt<'a>(it: impl Iterator<Item = Option<&'a str>>) -> ArrayRef {
    Arc::new(it.collect::<StringArray>())
}

/// A status column: keys are positions in the vocabulary, the dictionary is the whole
/// vocabulary (stable across parts).
pub(crate) fn dict<V: Vocab>(
    voc: &Vocabulary,
    it: impl Iterator<Item = Option<V>>,
) -> Result<ArrayRef> {
    let keys: Int8Array = it.map(|v| v.map(|v| v.index() as i8)).collect();
    let values: ArrayRef = Arc::new(StringArray::from_iter_values(voc.names()));
    Ok(Arc::new(
        arrow::array::DictionaryArray::<Int8Type>::try_new(keys, values)?,
    ))
}

pub(crate) fn list_utf8<'a>(it: impl Iterator<Item = &'a [String]>) -> ArrayRef {
    let mut b = ListBuilder::new(StringBuilder::new());
    for items in it {
        for s in items {
            b.values().append_value(s);
        }
        b.append(true);
    }
    Arc::new(b.finish())
}

pub(crate) fn binary_opt<'a>(it: impl Iterator<Item = Option<&'a [u8]>>) -> ArrayRef {
    Arc::new(it.collect::<BinaryArray>())
}

pub(crate) fn binary<'a>(it: impl Iterator<Item = &'a [u8]>) -> ArrayRef {
    Arc::new(it.map(Some).collect::<BinaryArray>())
}

pub(crate) fn bools(it: impl Iterator<Item = Option<bool>>) -> ArrayRef {
    Arc::new(it.collect::<BooleanArray>())
}

pub(crate) fn prim<T: ArrowPrimitiveType>(it: impl Iterator<Item = Option<T::Native>>) -> ArrayRef {
    Arc::new(it.collect::<PrimitiveArray<T>>())
}

pub(crate) fn ts_ms(it: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(
        it.map(Some)
            .collect::<PrimitiveArray<TimestampMillisecondType>>()
            .with_timezone("UTC"),
    )
}

pub(crate) fn ts_s(it: impl Iterator<Item = i64>) -> ArrayRef {
    Arc::new(
        it.map(Some)
            .collect::<PrimitiveArray<TimestampSecondType>>()
            .with_timezone("UTC"),
    )
}

/// Name-based, type-tolerant access to the columns of one batch.
pub(crate) struct Cols<'a> {
    pub table: &'static str,
    pub batch: &'a RecordBatch,
}

impl Cols<'_> {
    pub fn len(&self) -> usize {
        self.batch.num_rows()
    }

    fn err(&self, column: &str, reason: impl Into<String>) -> StoreError {
        StoreError::Column {
            table: self.table,
            column: column.to_owned(),
            reason: reason.into(),
        }
    }

    /// The column cast to `to`; `None` if absent and not required.
    fn get(&self, name: &str, to: &DataType, required: bool) -> Result<Option<ArrayRef>> {
        match self.batch.column_by_name(name) {
            None if required => Err(self.err(name, "missing")),
            None => Ok(None),
            Some(a) if a.data_type() == to => Ok(Some(a.clone())),
            Some(a) => cast(a, to)
                .map(Some)
                .map_err(|e| self.err(name, format!("cannot read as {to}: {e}"))),
        }
    }

    pub fn opt_strings(&self, name: &str, required: bool) -> Result<Vec<Option<String>>> {
        Ok(match self.get(name, &DataType::Utf8, required)? {
            None => vec![None; self.len()],
            Some(a) => a
                .as_string::<i32>()
                .iter()
                .map(|v| v.map(str::to_owned))
                .collect(),
        })
    }

    pub fn strings(&self, name: &str) -> Result<Vec<String>> {
        self.non_null(name, self.opt_strings(name, true)?)
    }

    pub fn opt_status<V: Vocab>(&self, voc: &Vocabulary, required: bool) -> Result<Vec<Option<V>>> {
        self.opt_strings(voc.column, required)?
            .into_iter()
            .map(|v| v.map(|v| voc.parse::<V>(&v)).transpose())
            .collect()
    }

    pub fn status<V: Vocab>(&self, voc: &Vocabulary) -> Result<Vec<V>> {
        self.non_null(voc.column, self.opt_status(voc, true)?)
    }

    pub fn opt_prims<T: ArrowPrimitiveType>(
        &self,
        name: &str,
        required: bool,
    ) -> Result<Vec<Option<T::Native>>> {
        Ok(match self.get(name, &T::DATA_TYPE, required)? {
            None => vec![None; self.len()],
            Some(a) => a.as_primitive::<T>().iter().collect(),
        })
    }

    pub fn prims<T: ArrowPrimitiveType>(&self, name: &str) -> Result<Vec<T::Native>> {
        self.non_null(name, self.opt_prims::<T>(name, true)?)
    }

    pub fn ts_ms(&self, name: &str) -> Result<Vec<i64>> {
        let a = self.get(name, &ts_ms_type(), true)?.expect("required");
        let v = a
            .as_primitive::<TimestampMillisecondType>()
            .iter()
            .collect();
        self.non_null(name, v)
    }

    pub fn ts_s(&self, name: &str) -> Result<Vec<i64>> {
        let a = self.get(name, &ts_s_type(), true)?.expect("required");
        let v = a.as_primitive::<TimestampSecondType>().iter().collect();
        self.non_null(name, v)
    }

    pub fn opt_bools(&self, name: &str, required: bool) -> Result<Vec<Option<bool>>> {
        Ok(match self.get(name, &DataType::Boolean, required)? {
            None => vec![None; self.len()],
            Some(a) => a.as_boolean().iter().collect(),
        })
    }

    pub fn bools(&self, name: &str) -> Result<Vec<bool>> {
        self.non_null(name, self.opt_bools(name, true)?)
    }

    /// A `list<string>` column; a null list (or a missing added column) reads as empty.
    pub fn lists(&self, name: &str, required: bool) -> Result<Vec<Vec<String>>> {
        let Some(a) = self.get(name, &list_type(), required)? else {
            return Ok(vec![Vec::new(); self.len()]);
        };
        let list = a.as_list::<i32>();
        let mut out = Vec::with_capacity(list.len());
        for i in 0..list.len() {
            if list.is_null(i) {
                out.push(Vec::new());
                continue;
            }
            let v = list.value(i);
            let s = v.as_string::<i32>();
            out.push(s.iter().map(|x| x.unwrap_or("").to_owned()).collect());
        }
        Ok(out)
    }

    pub fn opt_binary(&self, name: &str, required: bool) -> Result<Vec<Option<Vec<u8>>>> {
        Ok(match self.get(name, &DataType::Binary, required)? {
            None => vec![None; self.len()],
            Some(a) => a
                .as_binary::<i32>()
                .iter()
                .map(|v| v.map(<[u8]>::to_vec))
                .collect(),
        })
    }

    pub fn binary(&self, name: &str) -> Result<Vec<Vec<u8>>> {
        self.non_null(name, self.opt_binary(name, true)?)
    }

    fn non_null<T>(&self, name: &str, v: Vec<Option<T>>) -> Result<Vec<T>> {
        v.into_iter()
            .map(|x| x.ok_or_else(|| self.err(name, "null in a non-null column")))
            .collect()
    }
}

/// The schema as stored in Parquet. Parquet's TIMESTAMP logical type has no second unit
/// (MILLIS, MICROS, NANOS only) and arrow-rs writes `Timestamp(Second)` as a bare INT64 that
/// pyarrow and DuckDB read as integers; so second-precision columns are stored as
/// `TIMESTAMP(MILLIS, UTC)` holding whole seconds. Readers here cast them back.
pub fn storage_schema(schema: &arrow::datatypes::Schema) -> arrow::datatypes::SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| match f.data_type() {
            DataType::Timestamp(TimeUnit::Second, tz) => f
                .as_ref()
                .clone()
                .with_data_type(DataType::Timestamp(TimeUnit::Millisecond, tz.clone())),
            _ => f.as_ref().clone(),
        })
        .collect();
    Arc::new(arrow::datatypes::Schema::new_with_metadata(
        fields,
        schema.metadata().clone(),
    ))
}

/// `batch` converted to [`storage_schema`].
pub(crate) fn to_storage(batch: RecordBatch) -> Result<RecordBatch> {
    let schema = storage_schema(batch.schema().as_ref());
    if schema.as_ref() == batch.schema().as_ref() {
        return Ok(batch);
    }
    let cols = batch
        .columns()
        .iter()
        .zip(schema.fields())
        .map(|(c, f)| {
            if c.data_type() == f.data_type() {
                Ok(c.clone())
            } else {
                cast(c, f.data_type())
            }
        })
        .collect::<std::result::Result<Vec<_>, _>>()?;
    Ok(RecordBatch::try_new(schema, cols)?)
}
