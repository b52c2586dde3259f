//! Resource identity (Terraform 1.12+): the few stable values that name one remote object, stored by
//! Terraform beside the state. `import { to = …, identity = { … } }` and list resources use it; Terraform
//! refuses an identity that changes under an existing resource, so it is taken from attributes that never
//! change in place.
//!
//! Like terraform-plugin-framework's `resource.ResourceWithIdentity`, a resource opts in by returning an
//! [`IdentitySchema`] from `Resource::identity_schema`. Here each identity attribute names the state
//! attribute it is read from, so the server fills the identity of every read, plan, apply and import
//! itself; import by identity turns the identity into the resource's import ID and runs its own import.

use std::collections::BTreeMap;

use super::diag::{Diagnostic, Diagnostics};
use super::schema::Schema;
use super::types::Type;
use super::value::Value;

/// Builds the import ID a resource's `import_state` understands from a (wholly known) identity.
pub type ImportIdFn = fn(&Value) -> Result<String, Diagnostics>;

/// One identity attribute: a string copied from the state attribute `state_attribute`.
#[derive(Clone, Debug)]
pub struct IdentityAttribute {
    pub name: String,
    pub ty: Type,
    pub description: String,
    /// Import by identity fails without it (otherwise the provider finds it itself).
    pub required_for_import: bool,
    pub state_attribute: String,
}

impl IdentityAttribute {
    /// A string attribute, required for import, read from the state attribute of the same name.
    pub fn string(name: impl Into<String>) -> Self {
        let name = name.into();
        IdentityAttribute {
            state_attribute: name.clone(),
            name,
            ty: Type::String,
            description: String::new(),
            required_for_import: true,
        }
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    /// Reads the value from a state attribute with another name (e.g. `id`).
    pub fn from_state(mut self, state_attribute: impl Into<String>) -> Self {
        self.state_attribute = state_attribute.into();
        self
    }

    /// The user may leave it out of an import; the import finds it.
    pub fn optional_for_import(mut self) -> Self {
        self.required_for_import = false;
        self
    }
}

/// The identity of a resource type; independent of the state schema version.
#[derive(Clone, Debug)]
pub struct IdentitySchema {
    pub version: i64,
    pub attributes: Vec<IdentityAttribute>,
    import_id: Option<ImportIdFn>,
}

impl Default for IdentitySchema {
    fn default() -> Self {
        Self::new()
    }
}

impl IdentitySchema {
    pub fn new() -> Self {
        IdentitySchema {
            version: 0,
            attributes: Vec::new(),
            import_id: None,
        }
    }

    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    pub fn attribute(mut self, attribute: IdentityAttribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    /// How import by identity finds the import ID; without it, the only attribute's value is the ID.
    pub fn import_id(mut self, import_id: ImportIdFn) -> Self {
        self.import_id = Some(import_id);
        self
    }

    /// The object type identity values are encoded with.
    pub fn value_type(&self) -> Type {
        Type::object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), a.ty.clone())),
        )
    }

    /// The identity of the object `state` describes; null when the state is null (destroyed, gone).
    pub fn from_state(&self, state: &Value) -> Value {
        if state.is_null() {
            return Value::Null;
        }
        Value::object(
            self.attributes
                .iter()
                .map(|a| (a.name.clone(), state.get(&a.state_attribute).clone())),
        )
    }

    /// Whether `identity` names an object: every attribute known and not null.
    pub fn is_complete(&self, identity: &Value) -> bool {
        self.attributes.iter().all(|a| {
            let v = identity.get(&a.name);
            !v.is_null() && v.is_wholly_known()
        })
    }

    /// The import ID for `identity`, after checking the attributes import needs are there.
    pub fn to_import_id(&self, identity: &Value) -> Result<String, Diagnostics> {
        let mut diags = Diagnostics::new();
        for a in self.attributes.iter().filter(|a| a.required_for_import) {
            if identity
                .get_str(&a.name)
                .is_none_or(|v| v.trim().is_empty())
            {
                diags.push(Diagnostic::error(
                    "Missing identity attribute",
                    format!(
                        "Import by identity needs `{}` in the `identity` object of the import block.",
                        a.name
                    ),
                ));
            }
        }
        if diags.has_errors() {
            return Err(diags);
        }
        match (self.import_id, self.attributes.as_slice()) {
            (Some(import_id), _) => import_id(identity),
            (None, [only]) => Ok(identity.get_str(&only.name).unwrap_or_default().to_owned()),
            (None, _) => Err(Diagnostic::error(
                "Import by identity not supported",
                "This resource's identity has no import ID mapping. This is a bug in the provider.",
            )
            .into()),
        }
    }

    /// Identity attributes must name string attributes of the resource's state.
    pub fn check(&self, owner: &str, resource: &Schema) -> Diagnostics {
        let mut diags = Diagnostics::new();
        let state_type = resource.value_type();
        let state_attributes: BTreeMap<String, Type> = match state_type {
            Type::Object(object) => object.attributes,
            _ => BTreeMap::new(),
        };
        for a in &self.attributes {
            if state_attributes.get(&a.state_attribute) != Some(&a.ty) {
                diags.error(
                    "Invalid identity schema",
                    format!(
                        "{owner}: identity attribute {} reads state attribute {}, which the resource schema lacks or types differently. This is a bug in the provider.",
                        a.name, a.state_attribute
                    ),
                );
            }
        }
        diags
    }
}
