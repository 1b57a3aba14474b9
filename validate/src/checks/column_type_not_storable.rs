//! `V0508 column-type-not-storable`: a column of a table viewdag writes (an output, a
//! materialized view) has a type no Delta table can store — a time of day, a duration or
//! interval, a union, a decimal with a negative scale or more than 38 digits. deltalake
//! refuses such a column at the end of every run; `check` reports it with the cast to write
//! instead. Types Delta stores differently (unsigned integers, nanosecond timestamps,
//! dictionaries, …) are converted when written (`viewdag_ir::delta_types`), not reported.

use datafusion::arrow::datatypes::Schema;
use viewdag_ir::delta_types::delta_stored_type;
use viewdag_ir::types::type_name;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// One diagnostic per column of `schema` that cannot be stored; `table` names what is
/// written (`output \`o\``, `materialized view \`v\``).
pub fn check(table: &str, schema: &Schema, location: &SpecLocation) -> Vec<Diagnostic> {
    schema
        .fields()
        .iter()
        .filter_map(|field| {
            let why = delta_stored_type(field.data_type()).err()?;
            Some(
                Diagnostic::new(
                    Code::ColumnTypeNotStorable,
                    location.clone(),
                    format!(
                        "{table} has column `{}` of type `{}`, which a Delta table cannot store",
                        field.name(),
                        type_name(field.data_type())
                    ),
                )
                .with_note(format!("`{}`: {why}", why.data_type)),
            )
        })
        .collect()
}
