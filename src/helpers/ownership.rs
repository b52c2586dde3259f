//! Ownership: an object that exists already belongs to whoever made it. Taking it over silently would let two
//! states manage one object (destroying either breaks the other), so adopting is an error that says how to
//! import it, unless the configuration opts in with `adopt_existing = true`.

use crate::framework::{AttributePath, Diagnostic};

/// The name of the opt-in argument, the same on every resource that can adopt.
pub const ADOPT_EXISTING: &str = "adopt_existing";

/// The schema description of [`ADOPT_EXISTING`], for `what` (e.g. "a permission set with the same name").
pub fn adopt_existing_description(what: &str) -> String {
    format!(
        "Take over {what} that already exists instead of failing. Without it, the plan's apply stops with an \
         error that shows the `import` block to use, so that two configurations never manage one object. \
         Defaults to `false`."
    )
}

/// The error for `existing` (a sentence naming the object) found where `resource_type` would create one:
/// it shows the `import` block with `import_id` and points at `attribute`.
pub fn already_exists(
    existing: &str,
    resource_type: &str,
    import_id: &str,
    attribute: &str,
) -> Diagnostic {
    Diagnostic::error(
        "Object already exists",
        format!(
            "{existing}, probably managed by another configuration; taking it over would let two states manage \
             it. To manage it here, import it:\n\nimport {{\n  to = {resource_type}.<name>\n  id = \
             \"{import_id}\"\n}}\n\nor set `{ADOPT_EXISTING} = true` to take it over."
        ),
    )
    .at(AttributePath::new(attribute))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_shows_the_import_block_and_the_opt_in() {
        let error = already_exists(
            "Permission set Admin exists",
            "idbridge_permission_set",
            "arn:x",
            "name",
        );
        assert!(
            error
                .detail
                .contains("import {\n  to = idbridge_permission_set.<name>\n  id = \"arn:x\"\n}")
        );
        assert!(error.detail.contains("adopt_existing = true"));
        assert_eq!(error.path, Some(AttributePath::new("name")));
    }
}
