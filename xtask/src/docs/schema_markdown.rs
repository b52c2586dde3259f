//! The generated part of a page: the schema section in tfplugindocs' layout ("Required", "Optional",
//! "Read-Only", then one "Nested Schema for `x`" section per nested block, nested attribute or object, each with
//! an anchor the parent's entry links to), and a function's signature and arguments.

use std::collections::VecDeque;

use idbridge::framework::schema::AttributeType;
use idbridge::framework::{
    Attribute, Block, FunctionDefinition, NestedBlock, Nesting, PlanModifier, Type,
};

/// Where Terraform documents write-only arguments; tfplugindocs links the flag there too.
const WRITE_ONLY_DOCS: &str =
    "https://developer.hashicorp.com/terraform/language/resources/ephemeral#write-only-arguments";

/// The rendered markdown plus the dotted paths of attributes, blocks and parameters without a description.
pub struct Rendered {
    pub markdown: String,
    pub undescribed: Vec<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Group {
    Required,
    Optional,
    ReadOnly,
}

impl Group {
    const ALL: [Group; 3] = [Group::Required, Group::Optional, Group::ReadOnly];

    fn label(self) -> &'static str {
        match self {
            Group::Required => "Required",
            Group::Optional => "Optional",
            Group::ReadOnly => "Read-Only",
        }
    }

    fn of(attribute: &Attribute) -> Group {
        if attribute.required {
            Group::Required
        } else if attribute.optional {
            Group::Optional
        } else {
            Group::ReadOnly
        }
    }
}

/// What a "Nested Schema for" section lists.
enum Children<'a> {
    Block(&'a Block),
    Attributes(&'a [Attribute]),
    /// An object-typed attribute's fields: they have types but no descriptions or flags of their own.
    Object(Vec<(&'a str, &'a Type)>),
}

struct Nested<'a> {
    /// `nestedblock` or `nestedatt`, as tfplugindocs names its anchors.
    anchor_kind: &'static str,
    path: Vec<String>,
    children: Children<'a>,
    /// Everything below a read-only attribute is read-only, whatever its own flags say.
    inherited: Option<Group>,
}

impl Nested<'_> {
    fn anchor(&self) -> String {
        format!("{}--{}", self.anchor_kind, self.path.join("--"))
    }
}

struct Entry<'a> {
    name: &'a str,
    group: Group,
    line: String,
    nested: Option<Nested<'a>>,
}

#[derive(Default)]
struct Renderer<'a> {
    out: String,
    queue: VecDeque<Nested<'a>>,
    undescribed: Vec<String>,
}

/// The `## Schema` section of a provider, resource or data source block.
pub fn block(root: &Block) -> Rendered {
    let mut renderer = Renderer::default();
    renderer.out.push_str("## Schema\n");
    let entries = renderer.block_entries(root, &[], None);
    renderer.groups(entries, |group| format!("### {}", group.label()));
    while let Some(nested) = renderer.queue.pop_front() {
        renderer.out.push_str(&format!(
            "\n<a id=\"{}\"></a>\n### Nested Schema for `{}`\n",
            nested.anchor(),
            nested.path.join(".")
        ));
        let entries = match nested.children {
            Children::Block(block) => renderer.block_entries(block, &nested.path, nested.inherited),
            Children::Attributes(attributes) => {
                renderer.attribute_entries(attributes, &nested.path, nested.inherited)
            }
            Children::Object(fields) => {
                let group = nested.inherited.unwrap_or(Group::ReadOnly);
                renderer.object_entries(fields, &nested.path, group)
            }
        };
        renderer.groups(entries, |group| format!("{}:", group.label()));
    }
    Rendered {
        markdown: renderer.out,
        undescribed: renderer.undescribed,
    }
}

impl<'a> Renderer<'a> {
    fn groups(&mut self, mut entries: Vec<Entry<'a>>, heading: impl Fn(Group) -> String) {
        entries.sort_by(|a, b| a.name.cmp(b.name));
        for group in Group::ALL {
            let (in_group, rest): (Vec<_>, Vec<_>) =
                entries.into_iter().partition(|entry| entry.group == group);
            entries = rest;
            if in_group.is_empty() {
                continue;
            }
            let mut lines = Vec::new();
            // Nested sections follow in the order their entries are listed.
            for entry in in_group {
                lines.push(entry.line);
                self.queue.extend(entry.nested);
            }
            self.out
                .push_str(&format!("\n{}\n\n{}\n", heading(group), lines.join("\n")));
        }
    }

    fn block_entries(
        &mut self,
        block: &'a Block,
        path: &[String],
        inherited: Option<Group>,
    ) -> Vec<Entry<'a>> {
        let mut entries = self.attribute_entries(&block.attributes, path, inherited);
        for nested in &block.blocks {
            entries.push(self.block_entry(nested, path, inherited));
        }
        entries
    }

    fn attribute_entries(
        &mut self,
        attributes: &'a [Attribute],
        path: &[String],
        inherited: Option<Group>,
    ) -> Vec<Entry<'a>> {
        attributes
            .iter()
            .map(|attribute| self.attribute_entry(attribute, path, inherited))
            .collect()
    }

    fn attribute_entry(
        &mut self,
        attribute: &'a Attribute,
        path: &[String],
        inherited: Option<Group>,
    ) -> Entry<'a> {
        let group = inherited.unwrap_or_else(|| Group::of(attribute));
        let below = (group == Group::ReadOnly).then_some(Group::ReadOnly);
        let path = child_path(path, &attribute.name);
        let (kind, nested) = match &attribute.ty {
            AttributeType::Plain(ty) => (
                type_name(ty),
                object_fields(ty).map(|fields| Nested {
                    anchor_kind: "nestedatt",
                    path: path.clone(),
                    children: Children::Object(fields),
                    inherited: Some(group),
                }),
            ),
            AttributeType::Nested {
                nesting,
                attributes,
            } => (
                format!("Attributes{}", nesting_suffix(*nesting)),
                Some(Nested {
                    anchor_kind: "nestedatt",
                    path: path.clone(),
                    children: Children::Attributes(attributes),
                    inherited: below,
                }),
            ),
        };
        let mut flags = vec![kind];
        if attribute.sensitive {
            flags.push("Sensitive".to_string());
        }
        if attribute.write_only {
            flags.push(format!("[Write-only]({WRITE_ONLY_DOCS})"));
        }
        if attribute.deprecation_message.is_some() {
            flags.push("Deprecated".to_string());
        }
        // Conditional replacement (`RequiresReplaceIf`) is left to the description, which can say when.
        if attribute
            .plan_modifiers
            .iter()
            .any(|modifier| matches!(modifier, PlanModifier::RequiresReplace))
        {
            flags.push("Forces replacement".to_string());
        }
        let line = self.line(
            &attribute.name,
            &flags,
            &attribute.description,
            attribute.deprecation_message.as_deref(),
            &path,
            nested.as_ref(),
        );
        Entry {
            name: &attribute.name,
            group,
            line,
            nested,
        }
    }

    fn block_entry(
        &mut self,
        nested: &'a NestedBlock,
        path: &[String],
        inherited: Option<Group>,
    ) -> Entry<'a> {
        let group = inherited.unwrap_or(if nested.min_items > 0 {
            Group::Required
        } else {
            Group::Optional
        });
        let mut flags = vec![format!("Block{}", nesting_suffix(nested.nesting))];
        if nested.min_items == 0 && nested.max_items == 0 {
            flags.push(group.label().to_string());
        }
        if nested.min_items > 0 {
            flags.push(format!("Min: {}", nested.min_items));
        }
        if nested.max_items > 0 {
            flags.push(format!("Max: {}", nested.max_items));
        }
        if nested.block.deprecation_message.is_some() {
            flags.push("Deprecated".to_string());
        }
        let path = child_path(path, &nested.type_name);
        let child = Nested {
            anchor_kind: "nestedblock",
            path: path.clone(),
            children: Children::Block(&nested.block),
            inherited: inherited.filter(|group| *group == Group::ReadOnly),
        };
        let line = self.line(
            &nested.type_name,
            &flags,
            &nested.block.description,
            nested.block.deprecation_message.as_deref(),
            &path,
            Some(&child),
        );
        Entry {
            name: &nested.type_name,
            group,
            line,
            nested: Some(child),
        }
    }

    fn object_entries(
        &self,
        fields: Vec<(&'a str, &'a Type)>,
        path: &[String],
        group: Group,
    ) -> Vec<Entry<'a>> {
        fields
            .into_iter()
            .map(|(name, ty)| {
                let path = child_path(path, name);
                let nested = object_fields(ty).map(|fields| Nested {
                    anchor_kind: "nestedatt",
                    path: path.clone(),
                    children: Children::Object(fields),
                    inherited: Some(group),
                });
                let mut line = format!("- `{name}` ({})", type_name(ty));
                if let Some(nested) = &nested {
                    line.push_str(&see_below(nested));
                }
                Entry {
                    name,
                    group,
                    line,
                    nested,
                }
            })
            .collect()
    }

    /// One list item, linking to its nested section if it has one.
    fn line(
        &mut self,
        name: &str,
        flags: &[String],
        description: &str,
        deprecation: Option<&str>,
        path: &[String],
        nested: Option<&Nested<'a>>,
    ) -> String {
        let description = description.trim();
        if description.is_empty() {
            self.undescribed.push(path.join("."));
        }
        let mut line = format!("- `{name}` ({})", flags.join(", "));
        if !description.is_empty() {
            line.push(' ');
            line.push_str(description);
        }
        if let Some(message) = deprecation {
            line.push_str(&format!(" Deprecated: {}", message.trim()));
        }
        if let Some(nested) = nested {
            line.push_str(&see_below(nested));
        }
        line
    }
}

fn see_below(nested: &Nested<'_>) -> String {
    format!(" (see [below for nested schema](#{}))", nested.anchor())
}

fn child_path(parent: &[String], name: &str) -> Vec<String> {
    let mut path = parent.to_vec();
    path.push(name.to_string());
    path
}

fn nesting_suffix(nesting: Nesting) -> &'static str {
    match nesting {
        Nesting::Single => "",
        Nesting::List => " List",
        Nesting::Set => " Set",
        Nesting::Map => " Map",
    }
}

/// The fields of an object type, or of the objects a collection holds, to document below the attribute.
fn object_fields(ty: &Type) -> Option<Vec<(&str, &Type)>> {
    match ty {
        Type::Object(object) => Some(
            object
                .attributes
                .iter()
                .map(|(name, ty)| (name.as_str(), ty))
                .collect(),
        ),
        Type::List(element) | Type::Set(element) | Type::Map(element) => object_fields(element),
        _ => None,
    }
}

/// tfplugindocs' type names: `String`, `Boolean`, `List of String`, `Map of Object`, ...
fn type_name(ty: &Type) -> String {
    match ty {
        Type::Bool => "Boolean".to_string(),
        Type::Number => "Number".to_string(),
        Type::String => "String".to_string(),
        Type::Dynamic => "Dynamic".to_string(),
        Type::List(element) => format!("List of {}", type_name(element)),
        Type::Set(element) => format!("Set of {}", type_name(element)),
        Type::Map(element) => format!("Map of {}", type_name(element)),
        Type::Object(_) => "Object".to_string(),
        Type::Tuple(_) => "Tuple".to_string(),
    }
}

/// The type as written in a type constraint: `string`, `list(string)`, `object`.
fn constraint(ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".to_string(),
        Type::Number => "number".to_string(),
        Type::String => "string".to_string(),
        Type::Dynamic => "dynamic".to_string(),
        Type::List(element) => format!("list({})", constraint(element)),
        Type::Set(element) => format!("set({})", constraint(element)),
        Type::Map(element) => format!("map({})", constraint(element)),
        Type::Object(_) => "object".to_string(),
        Type::Tuple(_) => "tuple".to_string(),
    }
}

/// A function's `## Signature` and `## Arguments` sections.
pub fn function(definition: &FunctionDefinition) -> Rendered {
    let mut undescribed = Vec::new();
    let mut signature: Vec<String> = definition
        .parameters
        .iter()
        .map(|parameter| format!("{} {}", parameter.name, constraint(&parameter.ty)))
        .collect();
    if let Some(variadic) = &definition.variadic {
        signature.push(format!("{}... {}", variadic.name, constraint(&variadic.ty)));
    }
    let mut arguments = Vec::new();
    let numbered = definition
        .parameters
        .iter()
        .map(|parameter| (parameter, false))
        .chain(
            definition
                .variadic
                .iter()
                .map(|parameter| (parameter, true)),
        );
    for (position, (parameter, variadic)) in numbered.enumerate() {
        let mut flags = Vec::new();
        if variadic {
            flags.push("Variadic".to_string());
        }
        flags.push(type_name(&parameter.ty));
        if parameter.allow_null {
            flags.push("Nullable".to_string());
        }
        let description = parameter.description.trim();
        if description.is_empty() {
            undescribed.push(format!("{}({})", definition.name, parameter.name));
        }
        arguments.push(
            format!(
                "{}. `{}` ({}) {description}",
                position + 1,
                parameter.name,
                flags.join(", ")
            )
            .trim_end()
            .to_string(),
        );
    }
    let mut markdown = format!(
        "## Signature\n\n```text\n{}({}) {}\n```\n",
        definition.name,
        signature.join(", "),
        constraint(&definition.return_type)
    );
    if !arguments.is_empty() {
        markdown.push_str(&format!("\n## Arguments\n\n{}\n", arguments.join("\n")));
    }
    Rendered {
        markdown,
        undescribed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idbridge::framework::Parameter;
    use idbridge::framework::schema::Operation;

    #[test]
    fn attributes_are_grouped_sorted_and_flagged() {
        let block = Block::new()
            .attribute(
                Attribute::string("name")
                    .required()
                    .requires_replace()
                    .description("The name."),
            )
            .attribute(Attribute::string("id").computed().description("The ID."))
            .attribute(
                Attribute::string("token")
                    .optional()
                    .sensitive()
                    .write_only()
                    .description("The token."),
            )
            .attribute(
                Attribute::bool("enabled")
                    .optional()
                    .computed()
                    .description("On or off."),
            );
        let rendered = block_of(block);
        assert_eq!(
            rendered.markdown,
            format!(
                "## Schema\n\n### Required\n\n- `name` (String, Forces replacement) The name.\n\n### Optional\n\n\
                 - `enabled` (Boolean) On or off.\n- `token` (String, Sensitive, [Write-only]({WRITE_ONLY_DOCS})) \
                 The token.\n\n### Read-Only\n\n- `id` (String) The ID.\n"
            )
        );
        assert!(rendered.undescribed.is_empty());
    }

    fn block_of(block: Block) -> Rendered {
        super::block(&block)
    }

    #[test]
    fn nested_blocks_and_attributes_get_anchored_sections_in_order() {
        let block = Block::new()
            .block(NestedBlock::new(
                "aws",
                Nesting::Single,
                Block::new().description("AWS access.").block(
                    NestedBlock::new(
                        "assume_role",
                        Nesting::List,
                        Block::new().description("Role to assume.").attribute(
                            Attribute::string("role_arn")
                                .required()
                                .description("The role."),
                        ),
                    )
                    .max_items(1),
                ),
            ))
            .attribute(
                Attribute::set_nested(
                    "members",
                    vec![Attribute::string("id").required().description("Member ID.")],
                )
                .computed()
                .description("The members."),
            )
            .block(NestedBlock::timeouts(&[Operation::Create]));
        let markdown = block_of(block).markdown;
        let expected = "## Schema\n\n### Optional\n\n\
            - `aws` (Block, Optional) AWS access. (see [below for nested schema](#nestedblock--aws))\n\
            - `timeouts` (Block, Optional) Per-operation timeouts, as Go durations such as `30s`, `10m` or `1h30m`. \
            (see [below for nested schema](#nestedblock--timeouts))\n\n\
            ### Read-Only\n\n\
            - `members` (Attributes Set) The members. (see [below for nested schema](#nestedatt--members))\n\n\
            <a id=\"nestedblock--aws\"></a>\n### Nested Schema for `aws`\n\nOptional:\n\n\
            - `assume_role` (Block List, Max: 1) Role to assume. (see [below for nested schema](#nestedblock--aws--assume_role))\n\n\
            <a id=\"nestedblock--timeouts\"></a>\n### Nested Schema for `timeouts`\n\nOptional:\n\n\
            - `create` (String) How long create may take.\n\n\
            <a id=\"nestedatt--members\"></a>\n### Nested Schema for `members`\n\nRead-Only:\n\n\
            - `id` (String) Member ID.\n\n\
            <a id=\"nestedblock--aws--assume_role\"></a>\n### Nested Schema for `aws.assume_role`\n\nRequired:\n\n\
            - `role_arn` (String) The role.\n";
        assert_eq!(markdown, expected);
    }

    #[test]
    fn object_typed_attributes_list_their_fields() {
        let acs = Type::object([("url", Type::String), ("index", Type::Number)]);
        let block = Block::new().attribute(
            Attribute::list("acs_urls", acs)
                .computed()
                .description("Endpoints."),
        );
        let markdown = block_of(block).markdown;
        assert!(
            markdown.contains(
                "- `acs_urls` (List of Object) Endpoints. (see [below for nested schema](#nestedatt--acs_urls))"
            ),
            "{markdown}"
        );
        assert!(
            markdown.contains("Read-Only:\n\n- `index` (Number)\n- `url` (String)\n"),
            "{markdown}"
        );
    }

    #[test]
    fn missing_descriptions_are_reported_by_path() {
        let block = Block::new().block(NestedBlock::new(
            "aws",
            Nesting::Single,
            Block::new()
                .description("AWS.")
                .attribute(Attribute::string("region").optional()),
        ));
        assert_eq!(block_of(block).undescribed, ["aws.region"]);
    }

    #[test]
    fn functions_show_signature_and_numbered_arguments() {
        let definition = FunctionDefinition::new("join_all", Type::String)
            .parameter(Parameter::new("separator", Type::String).description("Between the parts."))
            .variadic(Parameter::new("parts", Type::list(Type::String)).allow_null());
        let rendered = function(&definition);
        assert_eq!(
            rendered.markdown,
            "## Signature\n\n```text\njoin_all(separator string, parts... list(string)) string\n```\n\n\
             ## Arguments\n\n1. `separator` (String) Between the parts.\n\
             2. `parts` (Variadic, List of String, Nullable)\n"
        );
        assert_eq!(rendered.undescribed, ["join_all(parts)"]);
    }
}
