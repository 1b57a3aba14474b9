//! The Arrow types a Delta table stores, and how viewdag writes a column so that what it
//! writes is exactly what every Delta reader (viewdag included) reads back.
//!
//! Delta has fewer types than Arrow. deltalake's writer maps an Arrow column to a Delta type
//! by its *shape* and writes the Parquet values untouched, so a column of a type Delta lacks
//! lands as a lie: `uint32` is declared `integer` (signed 32-bit) while the file holds values
//! up to 2³²−1, which no reader can read back; `timestamp[ns]` is declared microseconds.
//! viewdag therefore writes every task's rows **cast to their stored type**
//! ([`delta_stored_type`]), and everything that reads a task's table — a materialized view's
//! readers, the `append` schema check — sees the stored types:
//!
//! | Arrow type | stored as | how |
//! |---|---|---|
//! | `uint8`, `uint16`, `uint32` | `int16`, `int32`, `int64` | widened: every value fits |
//! | `uint64` | `int64` | checked: a value above 2⁶³−1 fails the task ([`ColumnConversion::Checked`]) |
//! | `float16` | `float32` | widened |
//! | `large_utf8`, `utf8_view` | `utf8` | same values |
//! | `large_binary`, `binary_view`, `fixed_size_binary(n)` | `binary` | same values |
//! | `decimal32/64(p,s)`, `decimal256(p≤38,s)` | `decimal128(p,s)` | same values |
//! | `date64` | `date32` | whole days |
//! | `timestamp[s|ms|ns]` | `timestamp[us]` | to microseconds (nanoseconds are truncated: Delta stores microseconds) |
//! | `timestamp[_, any zone]` | `timestamp[us, UTC]` | the same instants |
//! | dictionaries | their value type | same values |
//! | lists (large, view, fixed size) | `list<element>` | elements converted |
//! | structs, maps | the same with converted children | children converted |
//!
//! Types with no Delta counterpart (`time32/64`, `duration`, `interval`, unions, run-end
//! encoded arrays, decimals with a negative scale or more than 38 digits) cannot be written
//! at all: [`NotStorable`] says why, and `check` reports it (`V0508`).
//!
//! ## Invariants
//! - [`delta_stored_type`] is idempotent: a stored type is stored as itself.
//! - The stored type of a column is the type deltalake's kernel reads the column back as
//!   (`buoyant_kernel`'s Arrow ↔ Delta conversion, without nanosecond timestamps), nested
//!   field names included (`element`; `key_value`, `key`, `value`).
//! - Pure: Arrow schema types only, no I/O.

use std::sync::Arc;

use arrow_schema::{DataType, Field, Fields, Schema, TimeUnit};

/// The most digits a Delta decimal holds.
pub const DELTA_MAX_DECIMAL_PRECISION: u8 = 38;

/// Why a type cannot be written to a Delta table.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{reason}")]
pub struct NotStorable {
    /// The offending type, as Arrow prints it (may be nested inside the column's type).
    pub data_type: String,
    /// Why Delta cannot store it, and what to cast it to instead.
    pub reason: String,
}

/// How a column's values become its stored type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ColumnConversion {
    /// The column is already of its stored type.
    None,
    /// Every value converts to the stored type (widening, re-encoding, unit changes).
    Lossless,
    /// Some values may not fit (`uint64` above 2⁶³−1): the conversion must fail on them
    /// rather than write a wrong value.
    Checked,
}

/// The type a Delta table stores a column of `data_type` as, or why it cannot.
pub fn delta_stored_type(data_type: &DataType) -> Result<DataType, NotStorable> {
    let refuse = |reason: &str| NotStorable { data_type: data_type.to_string(), reason: reason.to_string() };
    Ok(match data_type {
        DataType::Null
        | DataType::Boolean
        | DataType::Int8
        | DataType::Int16
        | DataType::Int32
        | DataType::Int64
        | DataType::Float32
        | DataType::Float64
        | DataType::Utf8
        | DataType::Binary
        | DataType::Date32 => data_type.clone(),
        DataType::UInt8 => DataType::Int16,
        DataType::UInt16 => DataType::Int32,
        DataType::UInt32 | DataType::UInt64 => DataType::Int64,
        DataType::Float16 => DataType::Float32,
        DataType::LargeUtf8 | DataType::Utf8View => DataType::Utf8,
        DataType::LargeBinary | DataType::BinaryView | DataType::FixedSizeBinary(_) => DataType::Binary,
        DataType::Date64 => DataType::Date32,
        DataType::Timestamp(_, None) => DataType::Timestamp(TimeUnit::Microsecond, None),
        DataType::Timestamp(_, Some(_)) => DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
        DataType::Decimal32(precision, scale) | DataType::Decimal64(precision, scale) | DataType::Decimal128(precision, scale)
            if *scale >= 0 =>
        {
            DataType::Decimal128(*precision, *scale)
        }
        DataType::Decimal256(precision, scale) if *scale >= 0 && *precision <= DELTA_MAX_DECIMAL_PRECISION => {
            DataType::Decimal128(*precision, *scale)
        }
        DataType::Decimal32(..) | DataType::Decimal64(..) | DataType::Decimal128(..) | DataType::Decimal256(..) => {
            return Err(refuse(&format!(
                "Delta decimals have at most {DELTA_MAX_DECIMAL_PRECISION} digits and a scale of at least 0; cast to a `decimal128(p,s)` within those bounds, or to `float64`"
            )));
        }
        DataType::List(element)
        | DataType::LargeList(element)
        | DataType::ListView(element)
        | DataType::LargeListView(element)
        | DataType::FixedSizeList(element, _) => DataType::List(Arc::new(stored_child("element", element)?)),
        DataType::Struct(fields) => {
            DataType::Struct(fields.iter().map(|field| stored_field(field)).collect::<Result<Fields, NotStorable>>()?)
        }
        DataType::Map(entries, _) => {
            let DataType::Struct(pair) = entries.data_type() else {
                return Err(refuse("a map whose entries are not a struct of key and value"));
            };
            let [key, value] = pair.iter().collect::<Vec<_>>()[..] else {
                return Err(refuse("a map whose entries are not a struct of key and value"));
            };
            let key = Field::new("key", delta_stored_type(key.data_type())?, false);
            let value = Field::new("value", delta_stored_type(value.data_type())?, value.is_nullable());
            DataType::Map(Arc::new(Field::new("key_value", DataType::Struct(vec![key, value].into()), false)), false)
        }
        DataType::Dictionary(_, value) => delta_stored_type(value)?,
        DataType::Time32(_) | DataType::Time64(_) => {
            return Err(refuse("Delta has no time-of-day type; cast to `utf8` (`CAST(t AS VARCHAR)`) or to a number of seconds"));
        }
        DataType::Duration(_) | DataType::Interval(_) => {
            return Err(refuse("Delta has no duration or interval type; cast to a number (e.g. seconds as `int64`)"));
        }
        DataType::Union(..) | DataType::RunEndEncoded(..) => {
            return Err(refuse("Delta has no union or run-end encoded type; project the values into plain columns"));
        }
    })
}

/// A nested field stored under Delta's name for it (`element` of a list).
fn stored_child(name: &str, field: &Field) -> Result<Field, NotStorable> {
    Ok(Field::new(name, delta_stored_type(field.data_type())?, field.is_nullable()))
}

/// A struct field: its name and nullability kept, its type stored.
fn stored_field(field: &Field) -> Result<Field, NotStorable> {
    stored_child(field.name(), field)
}

/// How a column of `data_type` is converted when it is written.
pub fn column_conversion(data_type: &DataType) -> Result<ColumnConversion, NotStorable> {
    let stored = delta_stored_type(data_type)?;
    if stored == *data_type {
        return Ok(ColumnConversion::None);
    }
    Ok(if contains_uint64(data_type) { ColumnConversion::Checked } else { ColumnConversion::Lossless })
}

fn contains_uint64(data_type: &DataType) -> bool {
    match data_type {
        DataType::UInt64 => true,
        DataType::List(child)
        | DataType::LargeList(child)
        | DataType::ListView(child)
        | DataType::LargeListView(child)
        | DataType::FixedSizeList(child, _)
        | DataType::Map(child, _) => contains_uint64(child.data_type()),
        DataType::Struct(fields) => fields.iter().any(|field| contains_uint64(field.data_type())),
        DataType::Dictionary(_, value) => contains_uint64(value),
        _ => false,
    }
}

/// `schema` with every column of its stored type (names, nullability and metadata kept);
/// the first column that cannot be stored is the error, with its name.
pub fn delta_stored_schema(schema: &Schema) -> Result<Schema, (String, NotStorable)> {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| {
            let stored = delta_stored_type(field.data_type()).map_err(|why| (field.name().clone(), why))?;
            Ok(field.as_ref().clone().with_data_type(stored))
        })
        .collect::<Result<_, (String, NotStorable)>>()?;
    Ok(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

/// The schema the readers of a table written from `schema` are planned against: each
/// column of its stored type, except that a column of a string or binary encoding keeps
/// its own (deltalake's provider reads strings back as `utf8_view` whatever the stored
/// plain type, and DataFusion plans over any encoding alike), and a column that cannot be
/// stored keeps its own type (it has a diagnostic already).
pub fn table_read_schema(schema: &Schema) -> Schema {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|field| match (is_string_or_binary(field.data_type()), delta_stored_type(field.data_type())) {
            (false, Ok(stored)) => field.as_ref().clone().with_data_type(stored),
            _ => field.as_ref().clone(),
        })
        .collect();
    Schema::new_with_metadata(fields, schema.metadata().clone())
}

fn is_string_or_binary(data_type: &DataType) -> bool {
    matches!(
        data_type,
        DataType::Utf8
            | DataType::LargeUtf8
            | DataType::Utf8View
            | DataType::Binary
            | DataType::LargeBinary
            | DataType::BinaryView
            | DataType::FixedSizeBinary(_)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsigned_integers_widen_and_uint64_is_checked() {
        assert_eq!(delta_stored_type(&DataType::UInt8).unwrap(), DataType::Int16);
        assert_eq!(delta_stored_type(&DataType::UInt16).unwrap(), DataType::Int32);
        assert_eq!(delta_stored_type(&DataType::UInt32).unwrap(), DataType::Int64);
        assert_eq!(column_conversion(&DataType::UInt32).unwrap(), ColumnConversion::Lossless);
        assert_eq!(column_conversion(&DataType::UInt64).unwrap(), ColumnConversion::Checked);
        let list_of_u64 = DataType::List(Arc::new(Field::new("item", DataType::UInt64, true)));
        assert_eq!(column_conversion(&list_of_u64).unwrap(), ColumnConversion::Checked);
        assert_eq!(column_conversion(&DataType::Int64).unwrap(), ColumnConversion::None);
    }

    #[test]
    fn stored_types_are_what_delta_reads_back() {
        let nanos = DataType::Timestamp(TimeUnit::Nanosecond, None);
        assert_eq!(delta_stored_type(&nanos).unwrap(), DataType::Timestamp(TimeUnit::Microsecond, None));
        let zoned = DataType::Timestamp(TimeUnit::Second, Some("+02:00".into()));
        assert_eq!(delta_stored_type(&zoned).unwrap(), DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())));
        let dictionary = DataType::Dictionary(Box::new(DataType::Int32), Box::new(DataType::Utf8View));
        assert_eq!(delta_stored_type(&dictionary).unwrap(), DataType::Utf8);
        let list = DataType::LargeList(Arc::new(Field::new("item", DataType::UInt8, false)));
        assert_eq!(delta_stored_type(&list).unwrap(), DataType::List(Arc::new(Field::new("element", DataType::Int16, false))));
        assert!(delta_stored_type(&DataType::Time64(TimeUnit::Microsecond)).is_err());
        assert!(delta_stored_type(&DataType::Decimal128(10, -2)).is_err());
        assert!(delta_stored_type(&DataType::Decimal256(40, 2)).is_err());
    }

    #[test]
    fn storing_is_idempotent() {
        let types = [
            DataType::UInt64,
            DataType::Float16,
            DataType::Date64,
            DataType::Timestamp(TimeUnit::Millisecond, Some("Europe/Paris".into())),
            DataType::FixedSizeList(Arc::new(Field::new("x", DataType::LargeUtf8, true)), 3),
            DataType::Struct(vec![Field::new("a", DataType::UInt16, true), Field::new("b", DataType::BinaryView, false)].into()),
            DataType::Map(
                Arc::new(Field::new(
                    "entries",
                    DataType::Struct(vec![Field::new("k", DataType::Utf8View, false), Field::new("v", DataType::UInt32, true)].into()),
                    false,
                )),
                false,
            ),
        ];
        for data_type in types {
            let stored = delta_stored_type(&data_type).unwrap();
            assert_eq!(delta_stored_type(&stored).unwrap(), stored, "{data_type}");
            assert_eq!(column_conversion(&stored).unwrap(), ColumnConversion::None, "{data_type}");
        }
    }
}
