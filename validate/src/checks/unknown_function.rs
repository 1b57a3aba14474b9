//! `V0209 unknown-function`: an expression calls a function the planning surface does not
//! register. Suggests the closest registered scalar, aggregate or window function.

use datafusion::execution::session_state::SessionState;
use viewdag_ir::suggestion::closest;
use viewdag_ir::{Code, Diagnostic, SpecLocation};

/// The function name in DataFusion's "Invalid function 'name'" planning error.
pub fn function_name_from_error(message: &str) -> Option<String> {
    let rest = message.split("Invalid function '").nth(1)?;
    let name = rest.split('\'').next()?;
    (!name.is_empty()).then(|| name.to_string())
}

/// Every function name the session knows, sorted.
pub fn registered_functions(state: &SessionState) -> Vec<String> {
    let mut names: Vec<String> =
        state.scalar_functions().keys().chain(state.aggregate_functions().keys()).chain(state.window_functions().keys()).cloned().collect();
    names.sort();
    names.dedup();
    names
}

pub fn diagnostic(state: &SessionState, name: &str, location: SpecLocation) -> Diagnostic {
    let known = registered_functions(state);
    let candidates: Vec<&str> = known.iter().map(String::as_str).collect();
    let mut diagnostic = Diagnostic::new(Code::UnknownFunction, location, format!("unknown function `{name}`"));
    match closest(&name.to_ascii_lowercase(), &candidates) {
        Some(suggestion) => diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?")),
        None => diagnostic = diagnostic.with_note("functions are DataFusion's built-in scalar, aggregate and window functions"),
    }
    diagnostic
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_name() {
        assert_eq!(
            function_name_from_error("Error during planning: Invalid function 'summ'.\nDid you mean 'sum'?").as_deref(),
            Some("summ")
        );
        assert_eq!(function_name_from_error("other"), None);
    }
}
