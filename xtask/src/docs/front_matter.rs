//! The YAML front matter the Registry reads (`page_title`, `subcategory`, `description`), and the Registry
//! conventions every page in docs/ is checked against.
//!
//! Only the subset of YAML these pages use is read: `key: "quoted"`, `key: bare` and `key: |-` followed by
//! indented lines.

/// The Registry groups the navigation by these; every page but the index names one.
pub const SUBCATEGORIES: [&str; 3] = ["Entra ID", "IAM Identity Center", "Integration"];

const REQUIRED_KEYS: [&str; 3] = ["page_title", "subcategory", "description"];

/// The keys and values of a page's front matter, in order, and the text after it.
pub struct FrontMatter<'a> {
    pub entries: Vec<(String, String)>,
    pub body: &'a str,
}

impl FrontMatter<'_> {
    pub fn get(&self, key: &str) -> Option<&str> {
        self.entries
            .iter()
            .find(|(name, _)| name == key)
            .map(|(_, value)| value.as_str())
    }
}

pub fn parse(text: &str) -> Result<FrontMatter<'_>, String> {
    let rest = text
        .strip_prefix("---\n")
        .ok_or("does not start with a `---` front matter line")?;
    let end = rest
        .find("\n---\n")
        .map(|at| (at, at + "\n---\n".len()))
        .or_else(|| {
            rest.strip_suffix("\n---")
                .map(|head| (head.len(), rest.len()))
        })
        .ok_or("the front matter has no closing `---` line")?;
    let (yaml, body) = (&rest[..end.0], &rest[end.1..]);
    let mut entries: Vec<(String, String)> = Vec::new();
    let mut block_scalar: Option<Vec<String>> = None;
    for line in yaml.lines() {
        if let Some(lines) = block_scalar.as_mut() {
            if let Some(content) = line.strip_prefix("  ") {
                lines.push(content.to_string());
                continue;
            }
            if line.trim().is_empty() {
                lines.push(String::new());
                continue;
            }
            let value = lines.join("\n").trim_end().to_string();
            entries
                .last_mut()
                .expect("a block scalar follows its key")
                .1 = value;
            block_scalar = None;
        }
        let (key, value) = line
            .split_once(':')
            .ok_or_else(|| format!("front matter line {line:?} is not `key: value`"))?;
        let value = value.trim();
        if value == "|-" || value == "|" {
            block_scalar = Some(Vec::new());
        }
        entries.push((key.trim().to_string(), unquote(value)?));
    }
    if let Some(lines) = block_scalar {
        entries
            .last_mut()
            .expect("a block scalar follows its key")
            .1 = lines.join("\n").trim_end().to_string();
    }
    Ok(FrontMatter { entries, body })
}

fn unquote(value: &str) -> Result<String, String> {
    match value.strip_prefix('"') {
        Some(rest) => rest
            .strip_suffix('"')
            .map(|inner| inner.replace("\\\"", "\""))
            .ok_or_else(|| format!("unterminated quoted value {value:?}")),
        None => Ok(value.to_string()),
    }
}

/// The front matter of a generated page.
pub fn render(page_title: &str, subcategory: &str, description: &str) -> String {
    let description: Vec<String> = description
        .lines()
        .map(|line| format!("  {line}").trim_end().to_string())
        .collect();
    format!(
        "---\npage_title: {}\nsubcategory: {}\ndescription: |-\n{}\n---\n",
        quote(page_title),
        quote(subcategory),
        description.join("\n")
    )
}

fn quote(value: &str) -> String {
    format!("\"{}\"", value.replace('"', "\\\""))
}

/// What is wrong with a page (`relative` to docs/) against the Registry conventions; empty when nothing.
pub fn problems(relative: &str, text: &str) -> Vec<String> {
    let front = match parse(text) {
        Ok(front) => front,
        Err(error) => return vec![format!("docs/{relative}: {error}")],
    };
    let mut problems = Vec::new();
    for key in REQUIRED_KEYS {
        match front.get(key) {
            None => problems.push(format!("docs/{relative}: front matter has no `{key}`")),
            Some("") if key != "subcategory" => {
                problems.push(format!("docs/{relative}: front matter `{key}` is empty"))
            }
            Some(_) => {}
        }
    }
    let is_index = relative == "index.md";
    match front.get("subcategory") {
        Some("") if is_index => {}
        Some(subcategory) if !SUBCATEGORIES.contains(&subcategory) => problems.push(format!(
            "docs/{relative}: subcategory {subcategory:?} is not one of {SUBCATEGORIES:?}"
        )),
        _ => {}
    }
    if relative.starts_with("resources/") {
        problems.extend(import_problems(relative, front.body));
    }
    if is_index {
        problems.extend(index_problems(front.body));
    }
    problems
}

/// The Registry's order: the `import` block (Terraform 1.5+) first, then the `terraform import` command.
fn import_problems(relative: &str, body: &str) -> Vec<String> {
    let Some(section) = section(body, "## Import") else {
        return vec![format!("docs/{relative}: no `## Import` section")];
    };
    let block = section.find("import {");
    let command = section.find("terraform import ");
    match (block, command) {
        (Some(block), Some(command)) if block < command => Vec::new(),
        (Some(_), Some(_)) => vec![format!(
            "docs/{relative}: the Import section shows `terraform import` before the `import` block"
        )],
        _ => vec![format!(
            "docs/{relative}: the Import section needs an `import {{ to = … id = … }}` block and then the \
             `terraform import` command"
        )],
    }
}

/// What a new user needs on the index before the first `terraform init`.
fn index_problems(body: &str) -> Vec<String> {
    let mut problems = Vec::new();
    match section(body, "## Installation") {
        None => problems.push("docs/index.md: no `## Installation` section".to_string()),
        Some(installation) => {
            for (needle, what) in [
                (
                    "source  = \"idbridge/idbridge\"",
                    "the Registry source `idbridge/idbridge`",
                ),
                ("version = \"", "a version constraint"),
                (
                    "filesystem_mirror",
                    "a `filesystem_mirror` for air-gapped use",
                ),
                ("Terraform 1.11", "the minimum engine (Terraform 1.11)"),
            ] {
                if !installation.contains(needle) {
                    problems.push(format!(
                        "docs/index.md: the Installation section does not show {what}"
                    ));
                }
            }
        }
    }
    problems
}

/// The text of the `heading` section, up to the next heading of the same or a higher level.
fn section<'a>(body: &'a str, heading: &str) -> Option<&'a str> {
    let level = heading.split(' ').next().unwrap_or("#");
    let start = body
        .match_indices(heading)
        .find(|(at, _)| {
            (*at == 0 || body[..*at].ends_with('\n'))
                && body[at + heading.len()..].starts_with('\n')
        })?
        .0
        + heading.len();
    let rest = &body[start..];
    let mut end = rest.len();
    let mut in_fence = false;
    let mut offset = 0;
    for line in rest.split_inclusive('\n') {
        if line.starts_with("```") {
            in_fence = !in_fence;
        }
        let hashes = line.chars().take_while(|c| *c == '#').count();
        if !in_fence && hashes > 0 && hashes <= level.len() && line[hashes..].starts_with(' ') {
            end = offset;
            break;
        }
        offset += line.len();
    }
    Some(&rest[..end])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rendered_front_matter_parses_back() {
        let text = format!(
            "{}\n# Title\n",
            render(
                "idbridge_x Resource - idbridge",
                "Entra ID",
                "Line one.\nLine \"two\"."
            )
        );
        let front = parse(&text).unwrap();
        assert_eq!(
            front.get("page_title"),
            Some("idbridge_x Resource - idbridge")
        );
        assert_eq!(front.get("subcategory"), Some("Entra ID"));
        assert_eq!(front.get("description"), Some("Line one.\nLine \"two\"."));
        assert_eq!(front.body, "\n# Title\n");
    }

    fn resource_page(subcategory: &str, import: &str) -> String {
        format!(
            "{}\n# idbridge_x (Resource)\n\n## Import\n\n{import}\n## Deletion\n\nimport {{ after }}\n",
            render("idbridge_x Resource - idbridge", subcategory, "X.")
        )
    }

    const BLOCK: &str = "```terraform\nimport {\n  to = idbridge_x.a\n  id = \"1\"\n}\n```\n";
    const COMMAND: &str = "```shell\nterraform import idbridge_x.a 1\n```\n";

    #[test]
    fn a_conventional_resource_page_has_no_problems() {
        let page = resource_page("Entra ID", &format!("{BLOCK}{COMMAND}"));
        assert_eq!(problems("resources/x.md", &page), Vec::<String>::new());
    }

    #[test]
    fn missing_keys_and_unknown_subcategories_are_reported() {
        let problems = problems(
            "resources/x.md",
            "---\npage_title: \"x\"\nsubcategory: \"Other\"\n---\n## Import\n",
        );
        assert!(
            problems.iter().any(|p| p.contains("has no `description`")),
            "{problems:?}"
        );
        assert!(
            problems
                .iter()
                .any(|p| p.contains("\"Other\" is not one of")),
            "{problems:?}"
        );
        assert_eq!(
            super::problems("guides/g.md", "# no front matter\n"),
            ["docs/guides/g.md: does not start with a `---` front matter line"]
        );
    }

    #[test]
    fn an_empty_subcategory_is_only_allowed_on_the_index() {
        let page = resource_page("", &format!("{BLOCK}{COMMAND}"));
        assert_eq!(problems("resources/x.md", &page).len(), 1);
    }

    #[test]
    fn the_import_block_must_come_before_the_command_within_the_section() {
        let reversed = resource_page("Entra ID", &format!("{COMMAND}{BLOCK}"));
        assert_eq!(
            problems("resources/x.md", &reversed),
            [
                "docs/resources/x.md: the Import section shows `terraform import` before the `import` block"
            ]
        );
        // The block in the next section does not count.
        let command_only = resource_page("Entra ID", COMMAND);
        assert_eq!(problems("resources/x.md", &command_only).len(), 1);
    }

    #[test]
    fn the_index_needs_the_installation_facts() {
        let page = format!(
            "{}\n## Installation\n\nTerraform 1.11 or later.\n\n## Example Usage\n\nsource  = \"idbridge/idbridge\"\n",
            render("Provider: idbridge", "", "The provider.")
        );
        let problems = problems("index.md", &page);
        assert_eq!(problems.len(), 3, "{problems:?}");
        assert!(problems[0].contains("Registry source"), "{problems:?}");
    }
}
