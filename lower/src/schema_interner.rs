//! Views' output schemas shared by value.
//!
//! Every view's signature keeps its output schema as a `DFSchema`, whose per-column
//! qualifier list (one `Option<TableReference>` of 56 bytes per column, all `None` for an
//! unqualified schema) is allocated per schema object: at 100,000 views that list alone was
//! 77 MB of a cold check's 705 MB heap. Views that keep their input's columns (a filter,
//! a chain of projections naming the same columns, the same aggregate over similar inputs)
//! have equal schemas; [`SchemaInterner::intern`] hands every equal schema the same object.
//!
//! ## Invariants
//! - Interning returns a schema equal (`==`, which compares fields, qualifiers, metadata and
//!   functional dependencies) to the one given: no query result changes, only which object
//!   holds it. Nothing reads a schema's address into a result (the signature memo keys its
//!   per-process digest cache by address, and equal schemas have equal digests).
//! - The interner keeps schemas alive only while something else holds them too: when it has
//!   grown to twice its size after the last sweep, schemas only it holds are dropped, so an
//!   editor's long-lived process does not keep every schema it has ever seen.

use std::borrow::Borrow;
use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use datafusion::common::{DFSchema, DFSchemaRef};

/// Below this many schemas the interner never sweeps.
const MIN_SWEEP: usize = 1 << 12;

/// Equal schemas as one object each (see the module docs).
#[derive(Debug, Default)]
pub struct SchemaInterner {
    state: Mutex<Interned>,
}

#[derive(Debug, Default)]
struct Interned {
    schemas: HashSet<ByValue>,
    /// How many schemas the last sweep kept.
    kept: usize,
}

/// A schema hashed and compared by value (`DFSchema`'s own `Hash` and `Eq`), looked up by
/// the `DFSchema` it holds so that a schema already held allocates nothing.
#[derive(Debug, PartialEq, Eq, Hash)]
struct ByValue(DFSchemaRef);

impl Borrow<DFSchema> for ByValue {
    fn borrow(&self) -> &DFSchema {
        &self.0
    }
}

impl SchemaInterner {
    /// The interned schema equal to `schema` (`schema` itself the first time).
    pub fn intern(&self, schema: DFSchema) -> DFSchemaRef {
        let mut state = self.state.lock().expect("schema interner lock");
        if let Some(known) = state.schemas.get(&schema) {
            return Arc::clone(&known.0);
        }
        if state.schemas.len() >= MIN_SWEEP.max(2 * state.kept) {
            state.schemas.retain(|held| Arc::strong_count(&held.0) > 1);
            state.kept = state.schemas.len();
        }
        let interned = Arc::new(schema);
        state.schemas.insert(ByValue(Arc::clone(&interned)));
        interned
    }

    /// How many distinct schemas are held.
    pub fn len(&self) -> usize {
        self.state.lock().expect("schema interner lock").schemas.len()
    }

    /// Whether no schema is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use datafusion::arrow::datatypes::{DataType, Field, Schema};

    use super::*;

    fn schema(columns: &[&str]) -> DFSchema {
        let fields: Vec<Field> = columns.iter().map(|name| Field::new(*name, DataType::Int64, true)).collect();
        DFSchema::try_from(Schema::new(fields)).unwrap()
    }

    #[test]
    fn equal_schemas_share_one_object_and_different_ones_do_not() {
        let interner = SchemaInterner::default();
        let first = interner.intern(schema(&["a", "b"]));
        let again = interner.intern(schema(&["a", "b"]));
        let other = interner.intern(schema(&["a", "c"]));
        assert!(Arc::ptr_eq(&first, &again));
        assert!(!Arc::ptr_eq(&first, &other));
        assert_eq!(*other, schema(&["a", "c"]));
        assert_eq!(interner.len(), 2);
    }

    #[test]
    fn a_qualified_schema_is_not_its_unqualified_twin() {
        let interner = SchemaInterner::default();
        let plain = interner.intern(schema(&["a"]));
        let qualified = DFSchema::try_from_qualified_schema("t", &Schema::new(vec![Field::new("a", DataType::Int64, true)])).unwrap();
        let qualified = interner.intern(qualified);
        assert!(!Arc::ptr_eq(&plain, &qualified));
        assert_eq!(qualified.field_with_qualified_name(&"t".into(), "a").map(|field| field.name().clone()).unwrap(), "a");
    }

    #[test]
    fn schemas_only_the_interner_holds_are_swept_as_it_grows() {
        let interner = SchemaInterner::default();
        let held = interner.intern(schema(&["kept"]));
        for index in 0..2 * MIN_SWEEP {
            interner.intern(schema(&[&format!("c{index}")]));
        }
        assert!(interner.len() < 2 * MIN_SWEEP, "{} schemas held", interner.len());
        assert!(Arc::ptr_eq(&held, &interner.intern(schema(&["kept"]))));
    }
}
