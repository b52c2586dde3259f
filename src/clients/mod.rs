//! Cloud clients. They know nothing of Terraform: plain Rust types in, plain Rust types out.

pub mod aws;
pub mod graph;

use std::error::Error as StdError;

/// An error and its sources on one line, `outer: inner: root`, each said once. The SDK's own
/// `DisplayErrorContext` appends the `Debug` form too, a Rust dump that must never reach a user.
pub fn error_chain(error: &dyn StdError) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        // Wrappers often repeat their source's text; keep only what adds something.
        if !text.is_empty() && !parts.iter().any(|part| part.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}
