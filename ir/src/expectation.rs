//! Expectations: what a view's or an output's rows must satisfy, checked by `run` before
//! the task's commit (and by `viewdag test` against the tables as they are).
//!
//! ```yaml
//! expect:
//!   not_null: [order_id]
//!   unique: [order_id]
//!   accepted_values: { status: [paid, refunded, pending] }
//!   relationships: { customer_id: { to: customers, column: customer_id } }
//!   row_count: { min: 1 }
//!   valid_amount: { predicate: "amount >= 0", on_fail: drop }   # warn | drop | fail
//! ```
//!
//! ## Invariants
//! - Every kind keeps declaration order, and [`ExpectationsSpec::expectations`] lists them in
//!   one fixed order (the kinds above, then the named predicates as declared), so counts
//!   and reports are deterministic.
//! - A key that is not one of the built-in kinds names a predicate expectation; a typo of a
//!   built-in kind therefore fails to parse as a predicate (`predicate` is required).
//! - Built-in kinds always `fail`; only predicate expectations choose `warn` or `drop`.

use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// The `expect:` block of a view or an output.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
pub struct ExpectationsSpec {
    /// Columns that hold no null.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_null: Vec<String>,
    /// Columns whose non-null values are unique together (one key).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unique: Vec<String>,
    /// Column → the only values it may hold (nulls pass).
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub accepted_values: IndexMap<String, Vec<AcceptedValue>>,
    /// Column → the relation and column every non-null value must appear in.
    #[serde(default, skip_serializing_if = "IndexMap::is_empty")]
    pub relationships: IndexMap<String, RelationshipSpec>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub row_count: Option<RowCountSpec>,
    /// Named predicates over a row.
    #[serde(flatten)]
    pub predicates: IndexMap<String, PredicateExpectation>,
}

/// One literal of `accepted_values`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(untagged)]
pub enum AcceptedValue {
    Bool(bool),
    Integer(i64),
    Float(f64),
    Text(String),
}

impl Eq for AcceptedValue {}

impl AcceptedValue {
    /// The value as a SQL literal.
    pub fn sql_literal(&self) -> String {
        match self {
            AcceptedValue::Bool(value) => value.to_string(),
            AcceptedValue::Integer(value) => value.to_string(),
            AcceptedValue::Float(value) => format!("{value:?}"),
            AcceptedValue::Text(value) => format!("'{}'", value.replace('\'', "''")),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RelationshipSpec {
    /// A source or view.
    pub to: String,
    pub column: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RowCountSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max: Option<u64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
#[schemars(deny_unknown_fields)]
pub struct PredicateExpectation {
    /// A SQL boolean expression over the row; a row fails when it is not true.
    pub predicate: String,
    /// What a failing row does (default `fail`).
    #[serde(default)]
    pub on_fail: OnFail,
}

/// Only a mapping is a predicate expectation: serde would otherwise read a list
/// (`not_nul: [order_id]`, a misspelt kind) as a predicate named by its first item.
impl<'de> Deserialize<'de> for PredicateExpectation {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Fields {
            predicate: String,
            #[serde(default)]
            on_fail: OnFail,
        }
        struct MappingOnly;
        impl<'de> serde::de::Visitor<'de> for MappingOnly {
            type Value = Fields;
            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str(
                    "a predicate expectation `{ predicate: \"…\", on_fail: warn|drop|fail }` \
                     (the built-in kinds are not_null, unique, accepted_values, relationships, row_count)",
                )
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<Fields, A::Error> {
                Fields::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        let Fields { predicate, on_fail } = deserializer.deserialize_map(MappingOnly)?;
        Ok(PredicateExpectation { predicate, on_fail })
    }
}

/// What a failing expectation does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum OnFail {
    /// Count the failing rows; write everything.
    Warn,
    /// Remove the failing rows before the write and count them.
    Drop,
    /// Commit nothing for the task.
    #[default]
    Fail,
}

impl OnFail {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFail::Warn => "warn",
            OnFail::Drop => "drop",
            OnFail::Fail => "fail",
        }
    }
}

/// One expectation, flattened out of an [`ExpectationsSpec`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// Stable within the block: `not_null(order_id)`, `unique(order_id)`,
    /// `accepted_values(status)`, `relationships(customer_id)`, `row_count`, or the
    /// predicate's own name.
    pub name: String,
    pub kind: ExpectationKind,
    pub on_fail: OnFail,
    /// Where it is written, below the `expect` key (`["not_null", "0"]`).
    pub field: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ExpectationKind {
    NotNull { column: String },
    Unique { columns: Vec<String> },
    AcceptedValues { column: String, values: Vec<AcceptedValue> },
    Relationship { column: String, to: String, to_column: String },
    RowCount { min: Option<u64>, max: Option<u64> },
    Predicate { predicate: String },
}

impl ExpectationsSpec {
    pub fn is_empty(&self) -> bool {
        self.expectations().is_empty()
    }

    /// Every expectation, in the fixed order of the module docs.
    pub fn expectations(&self) -> Vec<Expectation> {
        let mut found = Vec::new();
        let field = |keys: &[&str]| keys.iter().map(|key| key.to_string()).collect::<Vec<_>>();
        for (index, column) in self.not_null.iter().enumerate() {
            found.push(Expectation {
                name: format!("not_null({column})"),
                kind: ExpectationKind::NotNull { column: column.clone() },
                on_fail: OnFail::Fail,
                field: field(&["not_null", &index.to_string()]),
            });
        }
        if !self.unique.is_empty() {
            found.push(Expectation {
                name: format!("unique({})", self.unique.join(", ")),
                kind: ExpectationKind::Unique { columns: self.unique.clone() },
                on_fail: OnFail::Fail,
                field: field(&["unique"]),
            });
        }
        for (column, values) in &self.accepted_values {
            found.push(Expectation {
                name: format!("accepted_values({column})"),
                kind: ExpectationKind::AcceptedValues { column: column.clone(), values: values.clone() },
                on_fail: OnFail::Fail,
                field: field(&["accepted_values", column]),
            });
        }
        for (column, relationship) in &self.relationships {
            found.push(Expectation {
                name: format!("relationships({column})"),
                kind: ExpectationKind::Relationship {
                    column: column.clone(),
                    to: relationship.to.clone(),
                    to_column: relationship.column.clone(),
                },
                on_fail: OnFail::Fail,
                field: field(&["relationships", column]),
            });
        }
        if let Some(RowCountSpec { min, max }) = self.row_count {
            found.push(Expectation {
                name: "row_count".to_string(),
                kind: ExpectationKind::RowCount { min, max },
                on_fail: OnFail::Fail,
                field: field(&["row_count"]),
            });
        }
        for (name, expectation) in &self.predicates {
            found.push(Expectation {
                name: name.clone(),
                kind: ExpectationKind::Predicate { predicate: expectation.predicate.clone() },
                on_fail: expectation.on_fail,
                field: field(&[name, "predicate"]),
            });
        }
        found
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_kind_in_a_fixed_order() {
        let text = r#"
not_null: [order_id]
unique: [order_id]
accepted_values: { status: [paid, refunded, 3] }
relationships: { customer_id: { to: customers, column: customer_id } }
row_count: { min: 1 }
valid_amount: { predicate: "amount >= 0", on_fail: drop }
"#;
        let spec: ExpectationsSpec = serde_yaml_ng::from_str(text).unwrap();
        let names: Vec<String> = spec.expectations().into_iter().map(|expectation| expectation.name).collect();
        assert_eq!(
            names,
            [
                "not_null(order_id)",
                "unique(order_id)",
                "accepted_values(status)",
                "relationships(customer_id)",
                "row_count",
                "valid_amount"
            ]
        );
        assert_eq!(spec.predicates["valid_amount"].on_fail, OnFail::Drop);
        assert_eq!(spec.accepted_values["status"][2].sql_literal(), "3");
        assert_eq!(spec.accepted_values["status"][0].sql_literal(), "'paid'");
    }

    #[test]
    fn a_misspelled_kind_is_a_predicate_without_one() {
        let error = serde_yaml_ng::from_str::<ExpectationsSpec>("not_nul: [order_id]").unwrap_err();
        assert!(error.to_string().contains("built-in kinds"), "{error}");
        let error = serde_yaml_ng::from_str::<ExpectationsSpec>("positive: { predicat: \"a > 0\" }").unwrap_err();
        assert!(error.to_string().contains("predicat"), "{error}");
    }
}
