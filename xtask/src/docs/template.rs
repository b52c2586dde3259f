//! Page templates in templates/: the hand-written prose of a page, with placeholders in the manner of
//! tfplugindocs.
//!
//! A template starts with front matter naming its `subcategory` (and, where the schema has no description to
//! use, a `description`). Placeholders:
//! - `{{ schema }}`: the generated schema section (a function's signature and arguments); exactly once.
//! - `{{ description }}`: the schema's description.
//! - `{{ name }}`: the type or function name.
//! - `{{ tffile "examples/…" }}`: that file in a `terraform` code block.
//! - `{{ codefile "shell" "examples/…" }}`: that file in a code block of the given language.

use std::path::Path;

use super::front_matter;

pub struct Template {
    pub subcategory: String,
    pub description: Option<String>,
    pub body: String,
}

/// What the placeholders of one page stand for.
pub struct Values<'a> {
    pub name: &'a str,
    pub description: &'a str,
    pub schema: &'a str,
}

pub fn parse(relative: &str, text: &str) -> Result<Template, String> {
    let front = front_matter::parse(text).map_err(|error| format!("{relative}: {error}"))?;
    let subcategory = front
        .get("subcategory")
        .ok_or_else(|| format!("{relative}: the front matter names no `subcategory`"))?
        .to_string();
    for (key, _) in &front.entries {
        if key != "subcategory" && key != "description" {
            return Err(format!(
                "{relative}: `{key}` in the front matter is generated; only `subcategory` and `description` \
                 belong in a template"
            ));
        }
    }
    Ok(Template {
        subcategory,
        description: front.get("description").map(str::to_string),
        body: front.body.trim_matches('\n').to_string(),
    })
}

/// The template's body with every placeholder replaced; files are read relative to `root`.
pub fn expand(
    relative: &str,
    body: &str,
    values: &Values<'_>,
    root: &Path,
) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = body;
    let mut schemas = 0;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let end = rest[start..]
            .find("}}")
            .ok_or_else(|| format!("{relative}: a `{{{{` is never closed"))?
            + start;
        let placeholder = rest[start + 2..end].trim();
        let words = words(placeholder).map_err(|error| format!("{relative}: {error}"))?;
        let words: Vec<&str> = words.iter().map(String::as_str).collect();
        match words.as_slice() {
            ["schema"] => {
                schemas += 1;
                out.push_str(values.schema.trim_end());
            }
            ["description"] => out.push_str(values.description.trim()),
            ["name"] => out.push_str(values.name),
            ["tffile", path] => out.push_str(&fenced("terraform", root, path, relative)?),
            ["codefile", language, path] => out.push_str(&fenced(language, root, path, relative)?),
            _ => {
                return Err(format!(
                    "{relative}: unknown placeholder `{{{{ {placeholder} }}}}` (known: schema, description, name, \
                     tffile \"path\", codefile \"language\" \"path\")"
                ));
            }
        }
        rest = &rest[end + 2..];
    }
    out.push_str(rest);
    if schemas != 1 {
        return Err(format!(
            "{relative}: needs `{{{{ schema }}}}` exactly once, found it {schemas} times"
        ));
    }
    Ok(out)
}

/// A placeholder's words; quoted words may hold spaces.
fn words(placeholder: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut rest = placeholder.trim();
    while !rest.is_empty() {
        if let Some(quoted) = rest.strip_prefix('"') {
            let close = quoted
                .find('"')
                .ok_or_else(|| format!("unterminated quote in `{{{{ {placeholder} }}}}`"))?;
            words.push(quoted[..close].to_string());
            rest = quoted[close + 1..].trim_start();
        } else {
            let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
            words.push(rest[..end].to_string());
            rest = rest[end..].trim_start();
        }
    }
    Ok(words)
}

fn fenced(language: &str, root: &Path, path: &str, relative: &str) -> Result<String, String> {
    let text = std::fs::read_to_string(root.join(path))
        .map_err(|error| format!("{relative}: cannot read {path}: {error}"))?;
    Ok(format!("```{language}\n{}\n```", text.trim_end()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const VALUES: Values<'static> = Values {
        name: "idbridge_x",
        description: "Does X.\n",
        schema: "## Schema\n\n- `a` (String)\n",
    };

    #[test]
    fn placeholders_are_replaced_and_files_fenced() {
        let root = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(root.path().join("examples")).unwrap();
        std::fs::write(
            root.path().join("examples/import.sh"),
            "terraform import idbridge_x.a 1\n",
        )
        .unwrap();
        std::fs::write(
            root.path().join("examples/x.tf"),
            "resource \"idbridge_x\" \"a\" {}\n\n",
        )
        .unwrap();
        let body = "{{ description }} ({{name}})\n\n{{ tffile \"examples/x.tf\" }}\n\n{{ schema }}\n\n\
                    {{ codefile \"shell\" \"examples/import.sh\" }}";
        let page = expand("t", body, &VALUES, root.path()).unwrap();
        assert_eq!(
            page,
            "Does X. (idbridge_x)\n\n```terraform\nresource \"idbridge_x\" \"a\" {}\n```\n\n## Schema\n\n- `a` \
             (String)\n\n```shell\nterraform import idbridge_x.a 1\n```"
        );
    }

    #[test]
    fn unknown_placeholders_missing_files_and_a_missing_schema_fail() {
        let root = tempfile::tempdir().unwrap();
        let unknown =
            expand("t", "{{ schema }} {{ Description }}", &VALUES, root.path()).unwrap_err();
        assert!(
            unknown.contains("unknown placeholder `{{ Description }}`"),
            "{unknown}"
        );
        let missing = expand(
            "t",
            "{{ schema }}{{ tffile \"nope.tf\" }}",
            &VALUES,
            root.path(),
        )
        .unwrap_err();
        assert!(missing.contains("cannot read nope.tf"), "{missing}");
        let no_schema = expand("t", "prose only", &VALUES, root.path()).unwrap_err();
        assert!(
            no_schema.contains("exactly once, found it 0 times"),
            "{no_schema}"
        );
    }

    #[test]
    fn template_front_matter_holds_only_what_is_not_generated() {
        let template = parse("t", "---\nsubcategory: \"Entra ID\"\n---\n\nBody\n").unwrap();
        assert_eq!(template.subcategory, "Entra ID");
        assert_eq!(template.body, "Body");
        let error = parse(
            "t",
            "---\nsubcategory: \"Entra ID\"\npage_title: \"x\"\n---\n",
        )
        .err()
        .unwrap();
        assert!(
            error.contains("`page_title` in the front matter is generated"),
            "{error}"
        );
    }
}
