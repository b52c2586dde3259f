//! Plan-time checks of `idbridge_access_control_attributes`, from the sso-admin API reference:
//! `AccessControlAttribute.Key` (1..128, letters, digits, spaces, `_.:/=+-@`), `AccessControlAttributeValue.Source`
//! (exactly one element of at most 256 characters), at most 50 attributes, keys unique.

use std::collections::BTreeSet;

use super::model::AttributeModel;
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};
use crate::helpers::aws_inputs::session_tag_key_problem;

const MAX_SOURCE_LENGTH: usize = 256;

pub(super) fn validate_key(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(key) = value.as_str() else {
        return Diagnostics::new();
    };
    match session_tag_key_problem(key) {
        Some(problem) => Diagnostic::error(
            "Invalid access control attribute key",
            format!("The key {key:?} {problem}."),
        )
        .at(path.clone())
        .into(),
        None => Diagnostics::new(),
    }
}

pub(super) fn validate_source(value: &Value, path: &AttributePath) -> Diagnostics {
    let Some(elements) = value.elements() else {
        return Diagnostics::new();
    };
    if elements.len() != 1 {
        return Diagnostic::error(
            "Invalid access control attribute source",
            format!(
                "`source` takes exactly one attribute path (AWS allows one per key), e.g. \
                 [\"${{path:enterprise.costCenter}}\"]; {} given.",
                elements.len()
            ),
        )
        .at(path.clone())
        .into();
    }
    match elements[0].as_str() {
        Some(source) if source.is_empty() || source.chars().count() > MAX_SOURCE_LENGTH => {
            Diagnostic::error(
                "Invalid access control attribute source",
                format!("The source {source:?} must have 1 to {MAX_SOURCE_LENGTH} characters."),
            )
            .at(path.clone())
            .into()
        }
        _ => Diagnostics::new(),
    }
}

/// Keys must be unique: AWS refuses a configuration that names one twice.
pub(super) fn unique_keys(attributes: &[AttributeModel]) -> Diagnostics {
    let mut seen = BTreeSet::new();
    let mut diagnostics = Diagnostics::new();
    for key in attributes.iter().filter_map(|a| a.key.as_str()) {
        if !seen.insert(key) {
            diagnostics.push(
                Diagnostic::error(
                    "Duplicate access control attribute key",
                    format!("The key {key:?} is configured more than once; each key can have one source."),
                )
                .at(AttributePath::new("attribute")),
            );
        }
    }
    diagnostics
}
