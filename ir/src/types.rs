//! Logical type names, as written in contracts and declared source schemas.
//!
//! Names are lowercase Arrow type names: `int8` … `int64`, `uint8` … `uint64`, `float32`,
//! `float64`, `utf8` (accepts any string encoding), `bool`, `date32`, `date64`,
//! `timestamp[s|ms|us|ns]` with an optional `, tz` (`timestamp[us, UTC]`),
//! `decimal128(p,s)`, `binary`. A trailing `not null` marks a non-nullable column.

use arrow_schema::{DataType, TimeUnit};

/// A parsed type name: the Arrow type and whether nulls are allowed.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct LogicalType {
    pub data_type: DataType,
    pub nullable: bool,
}

/// A type name that names no type viewdag accepts; its message lists those it does.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown type `{0}`; expected one of int8..int64, uint8..uint64, float32, float64, utf8, bool, date32, date64, binary, timestamp[s|ms|us|ns], decimal128(p,s), optionally followed by `not null`"
)]
pub struct UnknownTypeName(pub String);

/// Parses a logical type name; the error explains what is accepted.
pub fn parse_type_name(text: &str) -> Result<LogicalType, UnknownTypeName> {
    let lowered = text.trim().to_ascii_lowercase();
    let (base, nullable) = match lowered.strip_suffix("not null") {
        Some(base) => (base.trim().to_string(), false),
        None => (lowered.clone(), true),
    };
    let data_type = match base.as_str() {
        "int8" => DataType::Int8,
        "int16" => DataType::Int16,
        "int32" => DataType::Int32,
        "int64" => DataType::Int64,
        "uint8" => DataType::UInt8,
        "uint16" => DataType::UInt16,
        "uint32" => DataType::UInt32,
        "uint64" => DataType::UInt64,
        "float32" => DataType::Float32,
        "float64" => DataType::Float64,
        "utf8" | "string" => DataType::Utf8,
        "large_utf8" => DataType::LargeUtf8,
        "utf8_view" => DataType::Utf8View,
        "bool" | "boolean" => DataType::Boolean,
        "date32" => DataType::Date32,
        "date64" => DataType::Date64,
        "binary" => DataType::Binary,
        other => parse_parameterized(other).ok_or_else(|| UnknownTypeName(text.to_string()))?,
    };
    Ok(LogicalType { data_type, nullable })
}

fn parse_parameterized(text: &str) -> Option<DataType> {
    if let Some(inner) = text.strip_prefix("timestamp[").and_then(|rest| rest.strip_suffix(']')) {
        let mut parts = inner.splitn(2, ',');
        let unit = match parts.next()?.trim() {
            "s" => TimeUnit::Second,
            "ms" => TimeUnit::Millisecond,
            "us" => TimeUnit::Microsecond,
            "ns" => TimeUnit::Nanosecond,
            _ => return None,
        };
        let zone = parts.next().map(|zone| zone.trim().to_string()).filter(|zone| !zone.is_empty());
        // Arrow spells UTC as given; keep the user's spelling of the zone but not its case.
        let zone = zone.map(|zone| if zone.eq_ignore_ascii_case("utc") { "UTC".to_string() } else { zone });
        return Some(DataType::Timestamp(unit, zone.map(Into::into)));
    }
    if let Some(inner) = text.strip_prefix("decimal128(").and_then(|rest| rest.strip_suffix(')')) {
        let (precision, scale) = inner.split_once(',')?;
        let precision: u8 = precision.trim().parse().ok()?;
        let scale: i8 = scale.trim().parse().ok()?;
        if precision == 0 || precision > 38 || scale as i16 > precision as i16 {
            return None;
        }
        return Some(DataType::Decimal128(precision, scale));
    }
    None
}

/// The logical name of an Arrow type (the inverse of [`parse_type_name`] where one exists).
pub fn type_name(data_type: &DataType) -> String {
    match data_type {
        DataType::Int8 => "int8".into(),
        DataType::Int16 => "int16".into(),
        DataType::Int32 => "int32".into(),
        DataType::Int64 => "int64".into(),
        DataType::UInt8 => "uint8".into(),
        DataType::UInt16 => "uint16".into(),
        DataType::UInt32 => "uint32".into(),
        DataType::UInt64 => "uint64".into(),
        DataType::Float32 => "float32".into(),
        DataType::Float64 => "float64".into(),
        DataType::Utf8 => "utf8".into(),
        DataType::LargeUtf8 => "large_utf8".into(),
        DataType::Utf8View => "utf8_view".into(),
        DataType::Boolean => "bool".into(),
        DataType::Date32 => "date32".into(),
        DataType::Date64 => "date64".into(),
        DataType::Binary => "binary".into(),
        DataType::Timestamp(unit, zone) => {
            let unit = match unit {
                TimeUnit::Second => "s",
                TimeUnit::Millisecond => "ms",
                TimeUnit::Microsecond => "us",
                TimeUnit::Nanosecond => "ns",
            };
            match zone {
                Some(zone) => format!("timestamp[{unit}, {zone}]"),
                None => format!("timestamp[{unit}]"),
            }
        }
        DataType::Decimal128(precision, scale) => format!("decimal128({precision},{scale})"),
        other => format!("{other}").to_ascii_lowercase(),
    }
}

/// Whether a value of `actual` satisfies a contract column of type `expected`. Exact match,
/// except that `utf8` accepts every string encoding.
pub fn type_satisfies(actual: &DataType, expected: &DataType) -> bool {
    let is_string = |data_type: &DataType| matches!(data_type, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    if *expected == DataType::Utf8 {
        return is_string(actual);
    }
    actual == expected
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for name in ["int64", "utf8", "bool", "timestamp[us]", "timestamp[ms, UTC]", "decimal128(10,2)", "date32"] {
            let parsed = parse_type_name(name).unwrap();
            assert_eq!(type_name(&parsed.data_type), name);
            assert!(parsed.nullable);
        }
        assert!(!parse_type_name("int64 NOT NULL").unwrap().nullable);
        assert!(parse_type_name("integer").is_err());
        assert!(parse_type_name("decimal128(40,2)").is_err());
    }
}
