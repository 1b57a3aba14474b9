//! `V0210 wrong-arity`: a function is called with the wrong number of arguments
//! (`abs(amount, 1)`, `sum()`). Found by [`crate::typing::expression_type`], which asks
//! DataFusion for the call's type; this file recognizes the arity errors among its answers.

use viewdag_ir::{Code, Diagnostic, SpecLocation};

use crate::expression::candidate_signatures;

/// The arity diagnostic if `message` (a DataFusion signature error) is about the number of
/// arguments.
pub fn classify(message: &str, location: SpecLocation) -> Option<Diagnostic> {
    let function = message.split("Function '").nth(1).or_else(|| message.split('\'').nth(1)).and_then(|rest| rest.split('\'').next())?;
    let text = if let Some(rest) = message.split(" expects ").nth(1).filter(|rest| rest.contains("arguments but received")) {
        let expected: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let received: String = rest.split("but received ").nth(1).unwrap_or("").chars().take_while(char::is_ascii_digit).collect();
        format!("function `{function}` takes {expected} argument(s) but is called with {received}")
    } else if message.contains("does not support zero arguments") {
        format!("function `{function}` needs at least one argument")
    } else if message.contains("arguments but received") || message.contains("Expect ") && message.contains(" arguments") {
        format!("function `{function}` is called with the wrong number of arguments")
    } else {
        return None;
    };
    let mut diagnostic = Diagnostic::new(Code::WrongArity, location, text);
    let candidates = candidate_signatures(message);
    if !candidates.is_empty() {
        diagnostic = diagnostic.with_note(format!("accepted signatures: {}", candidates.join(", ")));
    }
    Some(diagnostic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognizes_arity_messages() {
        let message = "Error during planning: Function 'abs' expects 1 arguments but received 2. No function matches\n\tCandidate functions:\n\tabs(Numeric(1))";
        let diagnostic = classify(message, SpecLocation::view("v")).unwrap();
        assert_eq!(diagnostic.message, "function `abs` takes 1 argument(s) but is called with 2");
        assert_eq!(diagnostic.notes, vec!["accepted signatures: abs(Numeric(1))"]);
        assert!(classify("Error during planning: 'sum' does not support zero arguments.", SpecLocation::view("v")).is_some());
        assert!(classify("Cannot coerce arithmetic expression Float64 + Utf8 to valid types", SpecLocation::view("v")).is_none());
    }
}
