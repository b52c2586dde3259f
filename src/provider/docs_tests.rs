//! The Registry docs are written by hand; these tests keep them from drifting from the schemas: every argument,
//! attribute, nested block and function parameter must be named (as `name`) on its page.

use std::path::{Path, PathBuf};

use crate::framework::Provider;
use crate::framework::schema::{AttributeType, Block};

use super::IdbridgeProvider;

fn docs_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("docs")
}

fn page(relative: &str) -> String {
    let path = docs_dir().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|error| {
        panic!(
            "{} is missing ({error}): every type needs a doc page",
            path.display()
        )
    })
}

/// Names of every attribute and block in `block`, nested ones included, as dotted paths for the message.
fn names(block: &Block, prefix: &str, out: &mut Vec<(String, String)>) {
    for attribute in &block.attributes {
        let path = format!("{prefix}{}", attribute.name);
        out.push((attribute.name.clone(), path.clone()));
        if let AttributeType::Nested { attributes, .. } = &attribute.ty {
            let nested = Block {
                attributes: attributes.clone(),
                ..Block::default()
            };
            names(&nested, &format!("{path}."), out);
        }
    }
    for nested in &block.blocks {
        let path = format!("{prefix}{}", nested.type_name);
        out.push((nested.type_name.clone(), path.clone()));
        names(&nested.block, &format!("{path}."), out);
    }
}

fn missing_from(page_text: &str, block: &Block) -> Vec<String> {
    let mut all = Vec::new();
    names(block, "", &mut all);
    all.into_iter()
        .filter(|(name, _)| !page_text.contains(&format!("`{name}`")))
        .map(|(_, path)| path)
        .collect()
}

#[test]
fn every_schema_attribute_is_documented() {
    let provider = IdbridgeProvider::new();
    let mut gaps = Vec::new();
    let index = page("index.md");
    for path in missing_from(&index, &provider.schema().block) {
        gaps.push(format!("docs/index.md: provider `{path}`"));
    }
    for resource in provider.resources() {
        let name = resource
            .type_name()
            .trim_start_matches("idbridge_")
            .to_string();
        let relative = format!("resources/{name}.md");
        for path in missing_from(&page(&relative), &resource.schema().block) {
            gaps.push(format!("docs/{relative}: `{path}`"));
        }
    }
    for data_source in provider.data_sources() {
        let name = data_source
            .type_name()
            .trim_start_matches("idbridge_")
            .to_string();
        let relative = format!("data-sources/{name}.md");
        for path in missing_from(&page(&relative), &data_source.schema().block) {
            gaps.push(format!("docs/{relative}: `{path}`"));
        }
    }
    for function in provider.functions() {
        let definition = function.definition();
        let relative = format!("functions/{}.md", definition.name);
        let text = page(&relative);
        for parameter in definition.parameters.iter().chain(&definition.variadic) {
            if !text.contains(&format!("`{}`", parameter.name)) {
                gaps.push(format!("docs/{relative}: parameter `{}`", parameter.name));
            }
        }
    }
    assert!(
        gaps.is_empty(),
        "schema names missing from the docs:\n{}",
        gaps.join("\n")
    );
}
