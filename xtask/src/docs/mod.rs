//! Renders the Registry documentation (docs/) from the provider's schema and the page templates
//! (templates/), the way tfplugindocs does for providers written in Go.
//!
//! One page per provider, resource, data source, ephemeral resource, list resource, action and function: front matter and heading
//! from the schema, prose and examples from `templates/<kind>/<name>.md.tmpl`, the schema section generated.
//! Guides (docs/guides/) are written by hand; they are only checked against the conventions, like every page.

pub mod front_matter;
pub mod schema_markdown;
pub mod template;

use std::collections::BTreeSet;
use std::path::Path;

use idbridge::framework::Provider;
use idbridge::provider::IdbridgeProvider;

const PROVIDER_NAME: &str = "idbridge";

/// Directories of docs/ whose pages are all generated; a page there without a schema is stale.
const GENERATED_DIRS: [&str; 6] = [
    "resources",
    "data-sources",
    "ephemeral-resources",
    "list-resources",
    "actions",
    "functions",
];

/// docs/ subdirectories that are not Registry pages.
const NOT_REGISTRY: [&str; 1] = ["development"];

#[derive(Clone, Copy)]
enum Kind {
    Provider,
    Resource,
    DataSource,
    EphemeralResource,
    ListResource,
    Action,
    Function,
}

impl Kind {
    /// Page path relative to docs/ (and, with `.tmpl`, to templates/).
    fn page(self, name: &str) -> String {
        let short = name
            .strip_prefix(PROVIDER_NAME)
            .and_then(|rest| rest.strip_prefix('_'))
            .unwrap_or(name);
        match self {
            Kind::Provider => "index.md".to_string(),
            Kind::Resource => format!("resources/{short}.md"),
            Kind::DataSource => format!("data-sources/{short}.md"),
            Kind::EphemeralResource => format!("ephemeral-resources/{short}.md"),
            Kind::ListResource => format!("list-resources/{short}.md"),
            Kind::Action => format!("actions/{short}.md"),
            Kind::Function => format!("functions/{name}.md"),
        }
    }

    fn page_title(self, name: &str) -> String {
        match self {
            Kind::Provider => format!("Provider: {name}"),
            Kind::Resource => format!("{name} Resource - {PROVIDER_NAME}"),
            Kind::DataSource => format!("{name} Data Source - {PROVIDER_NAME}"),
            Kind::EphemeralResource => format!("{name} Ephemeral Resource - {PROVIDER_NAME}"),
            Kind::ListResource => format!("{name} List Resource - {PROVIDER_NAME}"),
            Kind::Action => format!("{name} Action - {PROVIDER_NAME}"),
            Kind::Function => format!("{name} function - {PROVIDER_NAME}"),
        }
    }

    fn heading(self, name: &str) -> String {
        match self {
            Kind::Provider => format!("{name} Provider"),
            Kind::Resource => format!("{name} (Resource)"),
            Kind::DataSource => format!("{name} (Data Source)"),
            Kind::EphemeralResource => format!("{name} (Ephemeral Resource)"),
            Kind::ListResource => format!("{name} (List Resource)"),
            Kind::Action => format!("{name} (Action)"),
            Kind::Function => format!("function: {name}"),
        }
    }
}

/// Something that gets a page, with what the schema says about it.
struct Subject {
    kind: Kind,
    name: String,
    /// For the front matter; a function's summary, else the description.
    summary: String,
    description: String,
    schema: schema_markdown::Rendered,
}

fn subjects() -> Vec<Subject> {
    let provider = IdbridgeProvider::new();
    let block_subject = |kind, name: &str, schema: idbridge::framework::Schema| Subject {
        kind,
        name: name.to_string(),
        summary: schema.block.description.clone(),
        description: schema.block.description.clone(),
        schema: schema_markdown::block(&schema.block),
    };
    let mut subjects = vec![block_subject(
        Kind::Provider,
        PROVIDER_NAME,
        provider.schema(),
    )];
    for resource in provider.resources() {
        subjects.push(block_subject(
            Kind::Resource,
            resource.type_name(),
            resource.schema(),
        ));
    }
    for data_source in provider.data_sources() {
        subjects.push(block_subject(
            Kind::DataSource,
            data_source.type_name(),
            data_source.schema(),
        ));
    }
    for ephemeral in provider.ephemeral_resources() {
        subjects.push(block_subject(
            Kind::EphemeralResource,
            ephemeral.type_name(),
            ephemeral.schema(),
        ));
    }
    for list in provider.list_resources() {
        subjects.push(block_subject(
            Kind::ListResource,
            list.type_name(),
            list.config_schema(),
        ));
    }
    for action in provider.actions() {
        subjects.push(block_subject(
            Kind::Action,
            action.type_name(),
            action.schema(),
        ));
    }
    for function in provider.functions() {
        let definition = function.definition();
        let either = |first: &str, second: &str| {
            if first.trim().is_empty() {
                second
            } else {
                first
            }
            .to_string()
        };
        subjects.push(Subject {
            kind: Kind::Function,
            name: definition.name.clone(),
            summary: either(&definition.summary, &definition.description),
            description: either(&definition.description, &definition.summary),
            schema: schema_markdown::function(&definition),
        });
    }
    subjects
}

/// A rendered page: its path relative to docs/ and its text.
pub struct Page {
    pub path: String,
    pub text: String,
}

/// Every generated page, in a stable order. Fails on a missing or broken template, a template without a
/// schema to document, a schema element without a description, or a page that breaks the conventions.
pub fn render(root: &Path) -> Result<Vec<Page>, String> {
    let mut pages = Vec::new();
    let mut problems = Vec::new();
    for subject in subjects() {
        match render_page(root, &subject) {
            Ok(page) => {
                problems.extend(front_matter::problems(&page.path, &page.text));
                pages.push(page);
            }
            Err(error) => problems.push(error),
        }
        for path in &subject.schema.undescribed {
            problems.push(format!(
                "{} has no description for `{path}`: add one to its schema",
                subject.name
            ));
        }
    }
    let expected: BTreeSet<String> = pages
        .iter()
        .map(|page| format!("{}.tmpl", page.path))
        .collect();
    for template in files_under(&root.join("templates"))? {
        if !expected.contains(&template) {
            problems.push(format!(
                "templates/{template} documents nothing the provider serves (renamed or removed?)"
            ));
        }
    }
    if problems.is_empty() {
        Ok(pages)
    } else {
        Err(problems.join("\n"))
    }
}

fn render_page(root: &Path, subject: &Subject) -> Result<Page, String> {
    let path = subject.kind.page(&subject.name);
    let relative = format!("templates/{path}.tmpl");
    let text = std::fs::read_to_string(root.join(&relative)).map_err(|error| {
        format!(
            "{relative} is missing ({error}): every {} needs a page template",
            subject.name
        )
    })?;
    let template = template::parse(&relative, &text)?;
    let values = template::Values {
        name: &subject.name,
        description: &subject.description,
        schema: &subject.schema.markdown,
    };
    let body = template::expand(&relative, &template.body, &values, root)?;
    let description = template
        .description
        .clone()
        .unwrap_or_else(|| plain(&subject.summary));
    let front = front_matter::render(
        &subject.kind.page_title(&subject.name),
        &template.subcategory,
        &description,
    );
    Ok(Page {
        text: format!(
            "{front}\n# {}\n\n{body}\n",
            subject.kind.heading(&subject.name)
        ),
        path,
    })
}

/// Markdown description as plain text for the front matter (the Registry shows it unformatted).
fn plain(markdown: &str) -> String {
    markdown
        .replace('`', "")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Writes every page whose text changed and removes stale generated pages; returns what it did.
pub fn write(root: &Path) -> Result<Vec<String>, String> {
    let pages = render(root)?;
    let docs = root.join("docs");
    let mut report = Vec::new();
    for page in &pages {
        let path = docs.join(&page.path);
        if std::fs::read_to_string(&path).ok().as_deref() == Some(page.text.as_str()) {
            continue;
        }
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|error| format!("{}: {error}", parent.display()))?;
        }
        std::fs::write(&path, &page.text)
            .map_err(|error| format!("{}: {error}", path.display()))?;
        report.push(format!("wrote docs/{}", page.path));
    }
    for stale in stale_pages(&docs, &pages)? {
        std::fs::remove_file(docs.join(&stale))
            .map_err(|error| format!("docs/{stale}: {error}"))?;
        report.push(format!("removed docs/{stale} (no schema documents it)"));
    }
    let hand_written = hand_written_problems(&docs)?;
    if !hand_written.is_empty() {
        return Err(hand_written.join("\n"));
    }
    report.push(format!("{} pages up to date in docs/", pages.len()));
    Ok(report)
}

/// Fails when docs/ differs from what [`write`] would produce, naming each page with a hint where.
pub fn check(root: &Path) -> Result<(), String> {
    let pages = render(root)?;
    let docs = root.join("docs");
    let mut problems = Vec::new();
    for page in &pages {
        match std::fs::read_to_string(docs.join(&page.path)) {
            Ok(committed) if committed == page.text => {}
            Ok(committed) => problems.push(format!(
                "docs/{} differs from the generated page: {}",
                page.path,
                first_difference(&committed, &page.text)
            )),
            Err(_) => problems.push(format!("docs/{} is missing", page.path)),
        }
    }
    for stale in stale_pages(&docs, &pages)? {
        problems.push(format!(
            "docs/{stale} is not generated from any schema (stale page?)"
        ));
    }
    problems.extend(hand_written_problems(&docs)?);
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "{}\nRun `cargo run -p xtask -- docs` and commit docs/ (edit templates/ or the schema descriptions, \
             never the generated pages).",
            problems.join("\n")
        ))
    }
}

/// Where two texts first part, as `line N: committed … / generated …`.
fn first_difference(committed: &str, generated: &str) -> String {
    let mut committed_lines = committed.lines();
    let mut generated_lines = generated.lines();
    let mut number = 1;
    loop {
        match (committed_lines.next(), generated_lines.next()) {
            (Some(a), Some(b)) if a == b => number += 1,
            (None, None) => return "only in line endings or the final newline".to_string(),
            (a, b) => {
                let show = |line: Option<&str>| {
                    line.map_or("(end of page)".to_string(), |l| format!("{l:?}"))
                };
                return format!(
                    "line {number}:\n    committed: {}\n    generated: {}",
                    show(a),
                    show(b)
                );
            }
        }
    }
}

/// Pages in the generated directories of docs/ that no schema produced.
fn stale_pages(docs: &Path, pages: &[Page]) -> Result<Vec<String>, String> {
    let generated: BTreeSet<&str> = pages.iter().map(|page| page.path.as_str()).collect();
    Ok(files_under(docs)?
        .into_iter()
        .filter(|path| {
            GENERATED_DIRS
                .iter()
                .any(|dir| path.starts_with(&format!("{dir}/")))
        })
        .filter(|path| !generated.contains(path.as_str()))
        .collect())
}

/// Convention problems of the pages written by hand (guides and anything else outside the generated ones).
fn hand_written_problems(docs: &Path) -> Result<Vec<String>, String> {
    let mut problems = Vec::new();
    for path in files_under(docs)? {
        let generated = path == "index.md"
            || GENERATED_DIRS
                .iter()
                .any(|dir| path.starts_with(&format!("{dir}/")));
        let registry = !NOT_REGISTRY
            .iter()
            .any(|dir| path.starts_with(&format!("{dir}/")));
        if generated || !registry || !path.ends_with(".md") {
            continue;
        }
        let text = std::fs::read_to_string(docs.join(&path))
            .map_err(|error| format!("docs/{path}: {error}"))?;
        problems.extend(front_matter::problems(&path, &text));
    }
    Ok(problems)
}

/// Every file below `dir`, as `/`-separated paths relative to it, sorted; none when `dir` does not exist.
fn files_under(dir: &Path) -> Result<Vec<String>, String> {
    fn walk(dir: &Path, prefix: &str, out: &mut Vec<String>) -> Result<(), String> {
        let entries = match std::fs::read_dir(dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(()),
            Err(error) => return Err(format!("{}: {error}", dir.display())),
        };
        for entry in entries {
            let entry = entry.map_err(|error| format!("{}: {error}", dir.display()))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let relative = format!("{prefix}{name}");
            if entry.path().is_dir() {
                walk(&entry.path(), &format!("{relative}/"), out)?;
            } else {
                out.push(relative);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, "", &mut out)?;
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_difference_names_the_line_and_both_versions() {
        assert_eq!(
            first_difference("a\nb\nc\n", "a\nB\nc\n"),
            "line 2:\n    committed: \"b\"\n    generated: \"B\""
        );
        assert_eq!(
            first_difference("a\n", "a\nmore\n"),
            "line 2:\n    committed: (end of page)\n    generated: \"more\""
        );
    }

    #[test]
    fn pages_are_named_like_the_registry_expects() {
        assert_eq!(
            Kind::Resource.page("idbridge_saml_trust"),
            "resources/saml_trust.md"
        );
        assert_eq!(
            Kind::DataSource.page("idbridge_sso_instance"),
            "data-sources/sso_instance.md"
        );
        assert_eq!(
            Kind::Function.page("parse_aws_saml_metadata"),
            "functions/parse_aws_saml_metadata.md"
        );
        assert_eq!(Kind::Provider.page(PROVIDER_NAME), "index.md");
    }
}
