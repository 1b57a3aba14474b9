//! Functions of the clock: `now()`, `current_date()`, `current_time()` — the functions
//! DataFusion evaluates only by folding them into a query's start time.
//!
//! ## Invariants
//! - A function is one of them when its own simplification folds it given a start time and
//!   keeps it without one: the registry decides, no list of names is kept here.
//! - [`clock_function_names`] holds every name the session resolves to such a function
//!   (aliases included, lowercase), so a definition that may call one can be found without
//!   planning it.

use std::collections::BTreeSet;
use std::sync::Arc;

use chrono::DateTime;
use datafusion::config::ConfigOptions;
use datafusion::execution::session_state::SessionState;
use datafusion::logical_expr::simplify::{ExprSimplifyResult, SimplifyContext};
use datafusion::logical_expr::{Expr, ScalarUDF, Volatility};

/// Whether a call of `function` with `args` is evaluated only by folding it into a start time.
pub fn folds_start_time(function: &ScalarUDF, args: &[Expr], config: &Arc<ConfigOptions>) -> bool {
    if function.signature().volatility != Volatility::Stable {
        return false;
    }
    let unbound = SimplifyContext::builder().with_config_options(Arc::clone(config)).build();
    let bound = SimplifyContext::builder()
        .with_config_options(Arc::clone(config))
        .with_query_execution_start_time(DateTime::from_timestamp(0, 0))
        .build();
    matches!(function.simplify(args.to_vec(), &unbound), Ok(ExprSimplifyResult::Original(_)))
        && matches!(function.simplify(args.to_vec(), &bound), Ok(ExprSimplifyResult::Simplified(_)))
}

/// Every name (and alias) under which `state` resolves a function of the clock called
/// without arguments, lowercase.
pub fn clock_function_names(state: &SessionState) -> BTreeSet<String> {
    let config = state.config_options();
    let mut names = BTreeSet::new();
    for function in state.scalar_functions().values() {
        if folds_start_time(function, &[], config) {
            names.insert(function.name().to_ascii_lowercase());
            names.extend(function.aliases().iter().map(|alias| alias.to_ascii_lowercase()));
        }
    }
    names
}

#[cfg(test)]
mod tests {
    use datafusion::execution::session_state::SessionStateBuilder;

    use super::clock_function_names;

    #[test]
    fn the_clock_functions_are_the_ones_folded_into_a_start_time_with_their_aliases() {
        let state = SessionStateBuilder::new().with_default_features().build();
        let names = clock_function_names(&state);
        for name in ["now", "current_timestamp", "current_date", "today", "current_time"] {
            assert!(names.contains(name), "{name} is not in {names:?}");
        }
        // Volatile functions change per row, not with the start time; immutable ones never.
        for name in ["random", "uuid", "abs", "to_timestamp", "date_trunc"] {
            assert!(!names.contains(name), "{name} is in {names:?}");
        }
    }
}
