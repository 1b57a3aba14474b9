//! The optimizer configuration a view is optimized with: the session's options and
//! function registry, a fresh alias generator, and no query start time.

use std::sync::Arc;

use datafusion::common::alias::AliasGenerator;
use datafusion::common::config::ConfigOptions;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::registry::FunctionRegistry;
use datafusion::optimizer::OptimizerConfig;

pub struct ViewOptimizerConfig<'a> {
    state: &'a SessionState,
    alias_generator: Arc<AliasGenerator>,
}

impl<'a> ViewOptimizerConfig<'a> {
    pub fn new(state: &'a SessionState) -> Self {
        ViewOptimizerConfig { state, alias_generator: Arc::new(AliasGenerator::new()) }
    }
}

impl OptimizerConfig for ViewOptimizerConfig<'_> {
    fn query_execution_start_time(&self) -> Option<chrono::DateTime<chrono::Utc>> {
        None
    }

    fn alias_generator(&self) -> &Arc<AliasGenerator> {
        &self.alias_generator
    }

    fn options(&self) -> Arc<ConfigOptions> {
        Arc::clone(self.state.config_options())
    }

    fn function_registry(&self) -> Option<&dyn FunctionRegistry> {
        Some(self.state)
    }
}
