//! `V0104 output-unknown-view`: an output names a view that does not exist.

use viewdag_ir::suggestion::closest;
use viewdag_ir::{Code, Diagnostic, FieldPath, SpecLocation};

use super::CheckContext;

pub fn check(context: &CheckContext) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    for (output, spec) in context.outputs {
        let Some(spec) = spec else { continue };
        if context.index.views.contains_key(&spec.view) {
            continue;
        }
        let location = SpecLocation::output(output).with_field(FieldPath::from(["view"]));
        let message = if context.index.sources.contains_key(&spec.view) {
            format!("output `{output}` writes `{}`, which is a source, not a view", spec.view)
        } else {
            format!("output `{output}` writes view `{}`, which does not exist", spec.view)
        };
        let mut diagnostic = Diagnostic::new(Code::OutputUnknownView, location, message);
        if let Some(suggestion) = closest(&spec.view, &context.project_views) {
            diagnostic = diagnostic.with_suggestion(format!("did you mean `{suggestion}`?"));
        }
        diagnostics.push(diagnostic);
    }
    diagnostics
}
