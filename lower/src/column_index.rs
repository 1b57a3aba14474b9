//! A relation's schema with its column names hashed once ([`ColumnIndex`]), so naming a
//! column costs O(1) instead of DataFusion's scan over the schema's fields: a transform that
//! names every column of a wide input (a projection of 40,000 columns) stays linear in the
//! width.
//!
//! ## Invariants
//! - Every answer equals DataFusion's over the same `DFSchema`: a column the index does not
//!   resolve unambiguously (several fields with the name, a qualifier that is not a plain
//!   relation name) is looked up by the `DFSchema` itself, so the rare cases keep
//!   DataFusion's semantics and error messages.
//! - [`ColumnIndex::plain_column`] builds the `Expr::Column` the SQL expression planner builds
//!   for the same text (its relation, its name) or declines, and the caller plans the text
//!   as SQL.
//! - Built in O(number of fields); no lookup scans the fields.

use std::collections::HashMap;

use datafusion::arrow::datatypes::FieldRef;
use datafusion::common::{Column, DFSchema, ExprSchema, TableReference};
use datafusion::logical_expr::{Expr, UNNAMED_TABLE};

use crate::column_reference::plain_column_reference;

/// A schema and its column names, hashed.
#[derive(Debug)]
pub struct ColumnIndex<'schema> {
    schema: &'schema DFSchema,
    /// Unqualified name → the index of the only field with it (`None`: several fields).
    by_name: HashMap<&'schema str, Option<usize>>,
    /// (relation, name) → the index of the first such field. `None` unless every field is
    /// qualified by a plain relation name (a bare table reference without a `.`), as every
    /// input of a view is: then DataFusion's qualifier matching is name equality.
    by_qualified_name: Option<HashMap<(&'schema str, &'schema str), usize>>,
}

impl<'schema> ColumnIndex<'schema> {
    pub fn new(schema: &'schema DFSchema) -> Self {
        let mut by_name: HashMap<&str, Option<usize>> = HashMap::with_capacity(schema.fields().len());
        let mut by_qualified_name = Some(HashMap::with_capacity(schema.fields().len()));
        for (index, (qualifier, field)) in schema.iter().enumerate() {
            by_name.entry(field.name().as_str()).and_modify(|only| *only = None).or_insert(Some(index));
            let plain_relation = match qualifier {
                Some(TableReference::Bare { table }) if !table.contains('.') && table.as_ref() != UNNAMED_TABLE => Some(table.as_ref()),
                _ => None,
            };
            match (plain_relation, by_qualified_name.as_mut()) {
                (Some(relation), Some(map)) => {
                    map.entry((relation, field.name().as_str())).or_insert(index);
                }
                _ => by_qualified_name = None,
            }
        }
        Self { schema, by_name, by_qualified_name }
    }

    pub fn schema(&self) -> &'schema DFSchema {
        self.schema
    }

    /// The index of the field `column` names, when the index alone decides it.
    fn index_of(&self, column: &Column) -> Option<usize> {
        match &column.relation {
            None => self.by_name.get(column.name.as_str()).copied().flatten(),
            Some(relation) => self.by_qualified_name.as_ref()?.get(&(relation.table(), column.name.as_str())).copied(),
        }
    }

    /// `text` resolved as a plain column reference (`amount`, `"Order Id"`, `orders.amount`),
    /// with its field; `None` when `text` is anything else or names no single column, and
    /// the SQL expression planner decides.
    pub fn plain_column(&self, text: &str) -> Option<(Expr, &'schema FieldRef)> {
        self.by_qualified_name.as_ref()?;
        let reference = plain_column_reference(text)?;
        let relation = reference.qualifier.map(|qualifier| TableReference::bare(qualifier.into_owned()));
        let index = self.index_of(&Column::new(relation, reference.name))?;
        let (qualifier, field) = self.schema.qualified_field(index);
        Some((Expr::Column(Column::new(qualifier.cloned(), field.name())), field))
    }
}

impl ExprSchema for ColumnIndex<'_> {
    fn field_from_column(&self, column: &Column) -> datafusion::common::Result<&FieldRef> {
        match self.index_of(column) {
            Some(index) => Ok(self.schema.field(index)),
            None => <DFSchema as ExprSchema>::field_from_column(self.schema, column),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema(qualifier: &str, names: &[&str]) -> DFSchema {
        let fields: Vec<Field> = names.iter().map(|name| Field::new(*name, DataType::Int64, true)).collect();
        DFSchema::try_from_qualified_schema(qualifier, &Schema::new(fields)).expect("a schema")
    }

    #[test]
    fn resolves_plain_columns_as_the_sql_planner_does() {
        let schema = schema("orders", &["order_id", "Amount", "a.b", "id"]);
        let index = ColumnIndex::new(&schema);
        let qualified = |name: &str| Expr::Column(Column::new(Some(TableReference::bare("orders")), name));
        assert_eq!(index.plain_column("Amount").map(|(expression, _)| expression), Some(qualified("Amount")));
        assert_eq!(index.plain_column("orders.order_id").map(|(expression, _)| expression), Some(qualified("order_id")));
        assert_eq!(index.plain_column(r#""a.b""#).map(|(expression, _)| expression), Some(qualified("a.b")));
        assert_eq!(index.plain_column(r#""id""#).map(|(expression, _)| expression), Some(qualified("id")));
        assert_eq!(index.plain_column("id"), None, "a keyword (`ID`) is left to the SQL planner");
        assert_eq!(index.plain_column("amount"), None, "names are case-sensitive");
        assert_eq!(index.plain_column("other.order_id"), None);
        assert_eq!(index.plain_column("order_id + 1"), None);
    }

    #[test]
    fn leaves_ambiguous_names_to_the_schema() {
        let left = schema("l", &["order_id", "x"]);
        let right = schema("r", &["order_id"]);
        let joined = left.join(&right).expect("a join schema");
        let index = ColumnIndex::new(&joined);
        assert_eq!(index.plain_column("order_id"), None);
        assert!(index.plain_column("r.order_id").is_some());
        let ambiguous = Column::new_unqualified("order_id");
        assert_eq!(
            index.field_from_column(&ambiguous).map_err(|error| error.strip_backtrace()),
            joined.field_from_column(&ambiguous).map_err(|error| error.strip_backtrace())
        );
        let unqualified = DFSchema::try_from(Arc::new(Schema::new(vec![Field::new("order_id", DataType::Int64, true)]))).expect("a schema");
        assert_eq!(ColumnIndex::new(&unqualified).plain_column("order_id"), None, "unqualified fields are left to the planner");
    }
}
