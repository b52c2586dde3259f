//! The committed docs/ against what the schema and templates/ render, and every page against the Registry's
//! conventions.

use std::path::Path;

use xtask::docs::{self, front_matter};
use xtask::workspace_root;

#[test]
fn committed_docs_match_the_generated_ones() {
    if let Err(problems) = docs::check(&workspace_root()) {
        panic!("{problems}");
    }
}

#[test]
fn every_registry_page_has_front_matter_in_the_conventions() {
    let docs_dir = workspace_root().join("docs");
    let mut pages = 0;
    let mut problems = Vec::new();
    for relative in markdown_pages(&docs_dir, "") {
        if relative.starts_with("development/") {
            continue;
        }
        pages += 1;
        let text = std::fs::read_to_string(docs_dir.join(&relative)).unwrap();
        problems.extend(front_matter::problems(&relative, &text));
    }
    assert!(pages >= 10, "only {pages} pages found in docs/");
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

fn markdown_pages(dir: &Path, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            out.extend(markdown_pages(&entry.path(), &format!("{name}/")));
        } else if name.ends_with(".md") {
            out.push(name);
        }
    }
    out
}

/// A copy of what the generator reads, to change without touching the checkout.
fn copy_of_the_sources() -> tempfile::TempDir {
    let copy = tempfile::tempdir().unwrap();
    for dir in ["docs", "templates", "examples"] {
        copy_dir(&workspace_root().join(dir), &copy.path().join(dir));
    }
    copy
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_dir(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), target).unwrap();
        }
    }
}

#[test]
fn a_hand_edited_page_is_named_with_the_line_that_differs() {
    let copy = copy_of_the_sources();
    let page = copy.path().join("docs/resources/saml_trust.md");
    let edited =
        std::fs::read_to_string(&page)
            .unwrap()
            .replacen("## Schema", "## Argument Reference", 1);
    std::fs::write(&page, edited).unwrap();
    let problems = docs::check(copy.path()).unwrap_err();
    assert!(
        problems.contains("docs/resources/saml_trust.md differs from the generated page: line "),
        "{problems}"
    );
    assert!(
        problems.contains("committed: \"## Argument Reference\""),
        "{problems}"
    );
    assert!(problems.contains("generated: \"## Schema\""), "{problems}");
}

#[test]
fn missing_stale_and_orphaned_pages_fail_the_check_and_writing_repairs_the_pages() {
    let copy = copy_of_the_sources();
    let root = copy.path();
    std::fs::remove_file(root.join("docs/data-sources/sso_instance.md")).unwrap();
    std::fs::write(root.join("docs/resources/retired.md"), "---\n---\n").unwrap();
    let problems = docs::check(root).unwrap_err();
    assert!(
        problems.contains("docs/data-sources/sso_instance.md is missing"),
        "{problems}"
    );
    assert!(
        problems.contains("docs/resources/retired.md is not generated from any schema"),
        "{problems}"
    );

    docs::write(root).unwrap();
    docs::check(root).unwrap();
    assert!(!root.join("docs/resources/retired.md").exists());

    std::fs::write(
        root.join("templates/resources/retired.md.tmpl"),
        "---\nsubcategory: \"Integration\"\n---\n{{ schema }}\n",
    )
    .unwrap();
    let problems = docs::check(root).unwrap_err();
    assert!(
        problems.contains("templates/resources/retired.md.tmpl documents nothing"),
        "{problems}"
    );
}

#[test]
fn a_guide_without_front_matter_fails_the_check() {
    let copy = copy_of_the_sources();
    let guide = copy.path().join("docs/guides/entra-aws-identity-center.md");
    let text = std::fs::read_to_string(&guide).unwrap();
    let (_, body) = text.split_once("\n---\n").unwrap();
    std::fs::write(&guide, body).unwrap();
    let problems = docs::check(copy.path()).unwrap_err();
    assert!(
        problems.contains(
            "docs/guides/entra-aws-identity-center.md: does not start with a `---` front matter line"
        ),
        "{problems}"
    );
}

/// The examples are embedded in the pages as they are: `terraform fmt` parses them, so a syntax error or an
/// unformatted block fails here rather than on the Registry.
#[test]
fn the_examples_shown_in_the_docs_are_terraform_fmt_clean() {
    if !idbridge_acceptance::acceptance_enabled() {
        println!("skipped: set TF_ACC=1 (needs the pinned Terraform)");
        return;
    }
    let terraform =
        idbridge_acceptance::paths::terraform_binary().unwrap_or_else(|error| panic!("{error}"));
    let output = std::process::Command::new(terraform)
        .args(["fmt", "-check", "-recursive", "-diff", "examples"])
        .current_dir(workspace_root())
        .output()
        .expect("terraform runs");
    assert!(
        output.status.success(),
        "terraform fmt -check examples/ failed:\n{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
