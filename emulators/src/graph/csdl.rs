//! A small reader for Microsoft's Graph v1.0 CSDL (`v1.0-cleanMetadata.xml`) and the checks built on it.
//!
//! The emulator uses it twice: to reject request bodies that name properties or action parameters Graph does not
//! declare (Graph answers 400 for those, so a client that sends them is broken), and, from the fidelity test, to
//! prove that every response body the emulator produces only uses declared properties with compatible JSON types.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use serde_json::Value;

/// Environment variable that points at the CSDL file explicitly.
pub const CSDL_ENV: &str = "IDBRIDGE_GRAPH_CSDL";
const CSDL_RELATIVE: &str = "shared/graph/v1.0-cleanMetadata.xml";

#[derive(Debug, Clone)]
pub struct Property {
    /// Type name as written in the CSDL with the alias resolved, e.g. `microsoft.graph.keyCredential`,
    /// `Edm.String`; `collection` says whether it was wrapped in `Collection(...)`.
    pub type_name: String,
    pub collection: bool,
}

#[derive(Debug, Default)]
pub struct StructuredType {
    pub base: Option<String>,
    pub properties: HashMap<String, Property>,
    pub open: bool,
}

/// The parts of the CSDL the emulator needs: entity and complex types with their properties (navigation
/// properties included), enum members, and bound actions keyed by `(name, binding type)`.
#[derive(Debug, Default)]
pub struct Model {
    types: HashMap<String, StructuredType>,
    enums: HashMap<String, Vec<String>>,
    actions: HashMap<(String, String), Vec<(String, Property)>>,
}

fn parse_type(raw: &str, aliases: &HashMap<String, String>) -> Property {
    let (inner, collection) = match raw
        .strip_prefix("Collection(")
        .and_then(|r| r.strip_suffix(')'))
    {
        Some(inner) => (inner, true),
        None => (raw, false),
    };
    Property {
        type_name: qualify(inner, aliases),
        collection,
    }
}

fn qualify(name: &str, aliases: &HashMap<String, String>) -> String {
    match name.split_once('.') {
        Some((prefix, rest)) if aliases.contains_key(prefix) => {
            format!("{}.{rest}", aliases[prefix])
        }
        _ => name.to_string(),
    }
}

impl Model {
    /// Parses CSDL text (a leading byte-order mark is tolerated).
    pub fn parse(text: &str) -> Result<Model, String> {
        let text = text.trim_start_matches('\u{feff}');
        let doc = roxmltree::Document::parse_with_options(
            text,
            roxmltree::ParsingOptions {
                allow_dtd: true,
                ..Default::default()
            },
        )
        .map_err(|e| format!("CSDL is not well-formed XML: {e}"))?;
        let mut model = Model::default();
        let schemas: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("Schema"))
            .collect();
        let mut aliases = HashMap::new();
        for schema in &schemas {
            if let (Some(alias), Some(ns)) =
                (schema.attribute("Alias"), schema.attribute("Namespace"))
            {
                aliases.insert(alias.to_string(), ns.to_string());
            }
        }
        for schema in &schemas {
            let ns = schema.attribute("Namespace").unwrap_or_default();
            for node in schema.children().filter(|n| n.is_element()) {
                let Some(name) = node.attribute("Name") else {
                    continue;
                };
                let full = format!("{ns}.{name}");
                match node.tag_name().name() {
                    "EntityType" | "ComplexType" => {
                        let mut ty = StructuredType {
                            base: node.attribute("BaseType").map(|b| qualify(b, &aliases)),
                            open: node.attribute("OpenType") == Some("true"),
                            ..Default::default()
                        };
                        for prop in node.children().filter(|c| {
                            c.has_tag_name("Property") || c.has_tag_name("NavigationProperty")
                        }) {
                            if let (Some(pname), Some(ptype)) =
                                (prop.attribute("Name"), prop.attribute("Type"))
                            {
                                ty.properties
                                    .insert(pname.to_string(), parse_type(ptype, &aliases));
                            }
                        }
                        model.types.insert(full, ty);
                    }
                    "EnumType" => {
                        let members = node
                            .children()
                            .filter(|c| c.has_tag_name("Member"))
                            .filter_map(|c| c.attribute("Name").map(str::to_string))
                            .collect();
                        model.enums.insert(full, members);
                    }
                    "Action" if node.attribute("IsBound") == Some("true") => {
                        let mut params = node
                            .children()
                            .filter(|c| c.has_tag_name("Parameter"))
                            .filter_map(|c| {
                                Some((
                                    c.attribute("Name")?.to_string(),
                                    parse_type(c.attribute("Type")?, &aliases),
                                ))
                            });
                        let Some((_, binding)) = params.next() else {
                            continue;
                        };
                        model
                            .actions
                            .insert((name.to_string(), binding.type_name), params.collect());
                    }
                    _ => {}
                }
            }
        }
        if model.types.is_empty() {
            return Err("CSDL declares no entity or complex types".into());
        }
        Ok(model)
    }

    /// Finds a property on `type_name` or any of its base types.
    pub fn property(&self, type_name: &str, property: &str) -> Option<&Property> {
        let mut current = Some(type_name);
        while let Some(name) = current {
            let ty = self.types.get(name)?;
            if let Some(p) = ty.properties.get(property) {
                return Some(p);
            }
            current = ty.base.as_deref();
        }
        None
    }

    pub fn has_type(&self, type_name: &str) -> bool {
        self.types.contains_key(type_name)
    }

    fn is_open(&self, type_name: &str) -> bool {
        let mut current = Some(type_name);
        while let Some(name) = current {
            let Some(ty) = self.types.get(name) else {
                return false;
            };
            if ty.open {
                return true;
            }
            current = ty.base.as_deref();
        }
        false
    }

    fn derives_from(&self, derived: &str, base: &str) -> bool {
        let mut current = Some(derived);
        while let Some(name) = current {
            if name == base {
                return true;
            }
            current = self.types.get(name).and_then(|t| t.base.as_deref());
        }
        false
    }

    /// Parameters (other than the binding parameter) of the action `name` bound to `binding_type`.
    pub fn action_parameters(
        &self,
        name: &str,
        binding_type: &str,
    ) -> Option<&[(String, Property)]> {
        self.actions
            .get(&(name.to_string(), binding_type.to_string()))
            .map(Vec::as_slice)
    }

    /// Checks that a JSON object only uses properties declared on `type_name` (or its bases) with JSON values of a
    /// compatible kind, recursing into complex and entity values. Returns every problem found, each with a JSON path.
    pub fn check_object(&self, type_name: &str, value: &Value) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check_object_at("$", type_name, value, &mut problems);
        problems
    }

    /// Checks one value (e.g. an action parameter) against a declared property type.
    pub fn check_value_of(&self, name: &str, prop: &Property, value: &Value) -> Vec<Problem> {
        let mut problems = Vec::new();
        self.check_value(&format!("$.{name}"), prop, value, &mut problems);
        problems
    }

    fn check_object_at(
        &self,
        path: &str,
        type_name: &str,
        value: &Value,
        problems: &mut Vec<Problem>,
    ) {
        let Some(object) = value.as_object() else {
            problems.push(Problem::invalid(
                path,
                format!("expected an object of type {type_name}, found {value}"),
            ));
            return;
        };
        let mut effective = type_name.to_string();
        if let Some(declared) = object.get("@odata.type").and_then(Value::as_str) {
            let declared = declared.trim_start_matches('#');
            if self.has_type(declared) && self.derives_from(declared, type_name) {
                effective = declared.to_string();
            } else if self.has_type(declared) {
                problems.push(Problem::invalid(
                    path,
                    format!("@odata.type {declared} does not derive from {type_name}"),
                ));
            }
        }
        // Open types (every directoryObject) accept dynamic properties, but Graph only lets directory extension
        // properties (`extension_<appId>_<name>`) through; anything else is an unknown property.
        let open = self.is_open(&effective);
        let dynamic_ok = |name: &str| open && name.starts_with("extension_");
        for (key, item) in object {
            if key.starts_with('@') {
                continue;
            }
            // Property annotations such as `owners@odata.bind` or `value@odata.nextLink`.
            if let Some((prop, _)) = key.split_once('@') {
                if self.property(&effective, prop).is_none() && !dynamic_ok(prop) {
                    problems.push(Problem::unknown(path, prop, &effective, open));
                }
                continue;
            }
            match self.property(&effective, key) {
                Some(prop) => self.check_value(&format!("{path}.{key}"), prop, item, problems),
                None if dynamic_ok(key) => {}
                None => problems.push(Problem::unknown(path, key, &effective, open)),
            }
        }
    }

    fn check_value(&self, path: &str, prop: &Property, value: &Value, problems: &mut Vec<Problem>) {
        if value.is_null() {
            return;
        }
        if prop.collection {
            let Some(items) = value.as_array() else {
                problems.push(Problem::invalid(
                    path,
                    format!(
                        "expected a JSON array (Collection({})), found {value}",
                        prop.type_name
                    ),
                ));
                return;
            };
            let single = Property {
                type_name: prop.type_name.clone(),
                collection: false,
            };
            for (i, item) in items.iter().enumerate() {
                self.check_value(&format!("{path}[{i}]"), &single, item, problems);
            }
            return;
        }
        let t = prop.type_name.as_str();
        let ok = match t {
            "Edm.String" | "Edm.Guid" | "Edm.DateTimeOffset" | "Edm.Date" | "Edm.TimeOfDay"
            | "Edm.Duration" | "Edm.Binary" => value.is_string(),
            "Edm.Boolean" => value.is_boolean(),
            "Edm.Int16" | "Edm.Int32" | "Edm.Int64" | "Edm.Byte" | "Edm.SByte" => {
                value.is_i64() || value.is_u64()
            }
            // IEEE754Compatible clients get Double/Decimal as strings ("NaN", "INF").
            "Edm.Double" | "Edm.Single" | "Edm.Decimal" => value.is_number() || value.is_string(),
            "Edm.Stream" | "Edm.Untyped" => true,
            _ if self.enums.contains_key(t) => match value.as_str() {
                // Flag enums serialise as comma-separated member names.
                Some(s) => s
                    .split(',')
                    .all(|m| self.enums[t].iter().any(|member| member == m.trim())),
                None => false,
            },
            _ if self.types.contains_key(t) => {
                self.check_object_at(path, t, value, problems);
                true
            }
            _ => {
                problems.push(Problem::invalid(
                    path,
                    format!("type {t} is not declared in the CSDL"),
                ));
                true
            }
        };
        if !ok {
            problems.push(Problem::invalid(
                path,
                format!("value {value} is not compatible with {t}"),
            ));
        }
    }
}

/// One way a JSON body disagrees with the CSDL.
#[derive(Debug, Clone, PartialEq)]
pub enum Problem {
    UnknownProperty {
        path: String,
        property: String,
        type_name: String,
        /// The type is open (directory objects): only extension properties could have been added.
        open: bool,
    },
    Invalid {
        path: String,
        message: String,
    },
}

impl Problem {
    fn unknown(path: &str, property: &str, type_name: &str, open: bool) -> Problem {
        Problem::UnknownProperty {
            path: path.to_string(),
            property: property.to_string(),
            type_name: type_name.to_string(),
            open,
        }
    }

    fn invalid(path: &str, message: String) -> Problem {
        Problem::Invalid {
            path: path.to_string(),
            message,
        }
    }

    /// The message Graph puts in a 400 answer for this problem.
    pub fn graph_message(&self) -> String {
        match self {
            // Directory objects are open types, so Graph words it as "declared or extension property".
            Problem::UnknownProperty {
                property,
                type_name,
                open: true,
                ..
            } => format!(
                "Property '{property}' does not exist on type '{type_name}' as a declared property or extension property."
            ),
            Problem::UnknownProperty {
                property,
                type_name,
                open: false,
                ..
            } => format!(
                "Property '{property}' does not exist on type '{type_name}'. Make sure to only use property names that are defined by the type."
            ),
            Problem::Invalid { path, message } => format!(
                "Invalid value for '{}': {message}",
                path.trim_start_matches("$.")
            ),
        }
    }
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::UnknownProperty {
                path,
                property,
                type_name,
                ..
            } => {
                write!(
                    f,
                    "{path}.{property}: property does not exist on type {type_name}"
                )
            }
            Problem::Invalid { path, message } => write!(f, "{path}: {message}"),
        }
    }
}

/// Where the CSDL is looked for: `$IDBRIDGE_GRAPH_CSDL`, then `shared/graph/v1.0-cleanMetadata.xml` in this crate's
/// directory or any directory above it (CI clones the repository with `shared/` beside it).
pub fn locate() -> Result<PathBuf, String> {
    locate_from(
        std::env::var(CSDL_ENV).ok(),
        Path::new(env!("CARGO_MANIFEST_DIR")),
        Path::new("/"),
    )
}

/// Searches `start` and the directories above it, up to and including `top`.
fn locate_from(explicit: Option<String>, start: &Path, top: &Path) -> Result<PathBuf, String> {
    if let Some(explicit) = explicit {
        let path = PathBuf::from(explicit);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{CSDL_ENV}={} does not name a readable file",
                path.display()
            ))
        };
    }
    let mut searched = Vec::new();
    for dir in start.ancestors().take_while(|dir| dir.starts_with(top)) {
        let candidate = dir.join(CSDL_RELATIVE);
        if candidate.is_file() {
            return Ok(candidate);
        }
        searched.push(dir.display().to_string());
    }
    Err(format!(
        "Microsoft Graph CSDL not found: set {CSDL_ENV} to the path of v1.0-cleanMetadata.xml, or place it at \
         {CSDL_RELATIVE} beside the repository (searched under {})",
        searched.join(", ")
    ))
}

/// The process-wide model, parsed once on first use.
pub fn model() -> Result<Arc<Model>, String> {
    static MODEL: OnceLock<Result<Arc<Model>, String>> = OnceLock::new();
    MODEL
        .get_or_init(|| {
            let path = locate()?;
            let text = std::fs::read_to_string(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            Model::parse(&text)
                .map(Arc::new)
                .map_err(|e| format!("{}: {e}", path.display()))
        })
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SAMPLE: &str = "\u{feff}<edmx:Edmx Version=\"4.0\" xmlns:edmx=\"http://docs.oasis-open.org/odata/ns/edmx\"><edmx:DataServices>\
        <Schema Namespace=\"microsoft.graph\" Alias=\"graph\" xmlns=\"http://docs.oasis-open.org/odata/ns/edm\">\
        <EnumType Name=\"color\"><Member Name=\"red\" Value=\"0\"/><Member Name=\"blue\" Value=\"1\"/></EnumType>\
        <EntityType Name=\"entity\" Abstract=\"true\"><Key><PropertyRef Name=\"id\"/></Key><Property Name=\"id\" Type=\"Edm.String\" Nullable=\"false\"/></EntityType>\
        <ComplexType Name=\"web\"><Property Name=\"redirectUris\" Type=\"Collection(Edm.String)\"/></ComplexType>\
        <EntityType Name=\"application\" BaseType=\"graph.entity\"><Property Name=\"web\" Type=\"graph.web\"/>\
        <Property Name=\"color\" Type=\"graph.color\"/><Property Name=\"count\" Type=\"Edm.Int32\" Nullable=\"false\"/></EntityType>\
        <Action Name=\"instantiate\" IsBound=\"true\"><Parameter Name=\"bindingParameter\" Type=\"graph.application\"/>\
        <Parameter Name=\"displayName\" Type=\"Edm.String\"/></Action>\
        </Schema></edmx:DataServices></edmx:Edmx>";

    #[test]
    fn a_missing_csdl_is_reported_with_what_to_do() {
        let empty = std::env::temp_dir().join(format!("csdl-missing-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&empty).unwrap();
        // Bounded to the test's own directory: a `shared/` above the temporary directory (a checkout in /tmp
        // with the shared material beside it) must not be found.
        let error = locate_from(None, &empty, &empty).unwrap_err();
        assert!(
            error.contains(CSDL_ENV) && error.contains(CSDL_RELATIVE),
            "{error}"
        );
        let error = locate_from(Some("/nonexistent/csdl.xml".into()), &empty, &empty).unwrap_err();
        assert!(error.contains("/nonexistent/csdl.xml"), "{error}");
        let nested = empty.join("repo/emulators");
        std::fs::create_dir_all(&nested).unwrap();
        std::fs::create_dir_all(empty.join("shared/graph")).unwrap();
        std::fs::write(empty.join(CSDL_RELATIVE), SAMPLE).unwrap();
        assert_eq!(
            locate_from(None, &nested, &empty).unwrap(),
            empty.join(CSDL_RELATIVE)
        );
        std::fs::remove_dir_all(&empty).unwrap();
    }

    #[test]
    fn resolves_base_types_aliases_and_actions() {
        let model = Model::parse(SAMPLE).unwrap();
        assert!(
            model
                .property("microsoft.graph.application", "id")
                .is_some()
        );
        assert!(
            model
                .property("microsoft.graph.application", "nope")
                .is_none()
        );
        let params = model
            .action_parameters("instantiate", "microsoft.graph.application")
            .unwrap();
        assert_eq!(params.len(), 1);
        assert_eq!(params[0].0, "displayName");
    }

    #[test]
    fn reports_unknown_properties_and_type_mismatches() {
        let model = Model::parse(SAMPLE).unwrap();
        let good = json!({"@odata.context": "x", "id": "1", "web": {"redirectUris": ["a"]}, "color": "blue", "count": 3});
        assert!(
            model
                .check_object("microsoft.graph.application", &good)
                .is_empty()
        );
        let bad = json!({"id": 1, "web": {"redirectUris": "a", "extra": true}, "color": "green", "bogus": 1});
        let problems = model.check_object("microsoft.graph.application", &bad);
        assert_eq!(problems.len(), 5, "{problems:#?}");
    }
}
