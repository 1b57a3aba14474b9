//! An arrow schema's fields by name, hashed once: what the checks that compare a declared
//! list of columns with a schema (a source's declared schema, an output's contract, an
//! existing table) look columns up in, so a wide declaration against a wide schema costs
//! O(columns), not O(columns²) (`Schema::field_with_name` scans the fields).
//!
//! Invariant: [`FieldsByName::get`] answers what `Schema::field_with_name` answers: the
//! first field with the name.

use std::collections::HashMap;

use datafusion::arrow::datatypes::{Field, Schema};

pub struct FieldsByName<'schema> {
    first_with_name: HashMap<&'schema str, &'schema Field>,
}

impl<'schema> FieldsByName<'schema> {
    pub fn new(schema: &'schema Schema) -> Self {
        let mut first_with_name = HashMap::with_capacity(schema.fields().len());
        for field in schema.fields() {
            first_with_name.entry(field.name().as_str()).or_insert(field.as_ref());
        }
        FieldsByName { first_with_name }
    }

    pub fn get(&self, name: &str) -> Option<&'schema Field> {
        self.first_with_name.get(name).copied()
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::DataType;

    use super::*;

    #[test]
    fn finds_the_first_field_with_a_name_as_arrow_does() {
        let schema = Schema::new(vec![
            Field::new("a", DataType::Int64, false),
            Field::new("b", DataType::Utf8, true),
            Field::new("a", DataType::Utf8, true),
        ]);
        let fields = FieldsByName::new(&schema);
        for name in ["a", "b", "missing"] {
            assert_eq!(fields.get(name), schema.field_with_name(name).ok());
        }
    }
}
