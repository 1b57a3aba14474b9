//! A session whose catalog holds exactly the given tables, by relation name: how a SQL
//! view is planned (its inputs as view tables) and how replay binds a decoded plan's scans.
//!
//! ## Invariants
//! - The catalog is the default `datafusion.public` and holds nothing but `tables`, so a
//!   plan built in it can name no other relation.
//! - Everything else (configuration, functions, rules) is the base session's.

use std::sync::Arc;

use datafusion::catalog::{
    CatalogProvider, CatalogProviderList, MemoryCatalogProvider, MemoryCatalogProviderList, MemorySchemaProvider, SchemaProvider,
    TableProvider,
};
use datafusion::error::Result;
use datafusion::execution::SessionStateBuilder;
use datafusion::execution::session_state::SessionState;

/// `base` with a catalog of exactly `tables` (name → provider).
pub fn session_with_tables(
    base: &SessionState,
    tables: impl IntoIterator<Item = (String, Arc<dyn TableProvider>)>,
) -> Result<SessionState> {
    let schema = Arc::new(MemorySchemaProvider::new());
    for (name, table) in tables {
        schema.register_table(name, table)?;
    }
    let catalog = Arc::new(MemoryCatalogProvider::new());
    catalog.register_schema("public", schema)?;
    let catalogs = Arc::new(MemoryCatalogProviderList::new());
    catalogs.register_catalog("datafusion".to_string(), catalog);
    Ok(SessionStateBuilder::new_from_existing(base.clone()).with_catalog_list(catalogs).build())
}
