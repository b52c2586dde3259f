//! Schema builders: attributes, nested attributes, nested blocks, validators and plan modifiers, and the
//! schema walks the server performs (write-only nulling, computed-unknown marking, plan modifiers).

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use super::diag::{Diagnostic, Diagnostics};
use super::path::{AttributePath, PathStep};
use super::types::Type;
use super::value::Value;

/// Checks a known, non-null config value; returns diagnostics (usually errors at `path`).
pub type Validator = Arc<dyn Fn(&Value, &AttributePath) -> Diagnostics + Send + Sync>;

/// What a conditional requires-replace sees.
pub struct ReplaceCheck<'a> {
    pub path: &'a AttributePath,
    pub config: &'a Value,
    pub prior: &'a Value,
    pub planned: &'a Value,
}

/// Adjusts the plan of one attribute during `PlanResourceChange` on update.
#[derive(Clone)]
pub enum PlanModifier {
    /// Changing the value destroys and recreates the resource.
    RequiresReplace,
    /// Like `RequiresReplace`, but only when the closure agrees (e.g. case-only changes do not count).
    RequiresReplaceIf(Arc<dyn Fn(&ReplaceCheck<'_>) -> bool + Send + Sync>),
    /// A computed value that does not change after creation: keep the prior value instead of "known after
    /// apply" when the configuration does not set it.
    UseStateForUnknown,
}

impl fmt::Debug for PlanModifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PlanModifier::RequiresReplace => "RequiresReplace",
            PlanModifier::RequiresReplaceIf(_) => "RequiresReplaceIf",
            PlanModifier::UseStateForUnknown => "UseStateForUnknown",
        })
    }
}

/// How nested attributes or blocks repeat.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Nesting {
    Single,
    List,
    Set,
    Map,
}

/// Type of an attribute: a plain type or nested attributes.
#[derive(Clone, Debug)]
pub enum AttributeType {
    Plain(Type),
    Nested {
        nesting: Nesting,
        attributes: Vec<Attribute>,
    },
}

/// One schema attribute, built with the chained methods.
#[derive(Clone)]
pub struct Attribute {
    pub name: String,
    pub ty: AttributeType,
    pub description: String,
    pub required: bool,
    pub optional: bool,
    pub computed: bool,
    pub sensitive: bool,
    pub write_only: bool,
    pub deprecation_message: Option<String>,
    pub validators: Vec<Validator>,
    pub plan_modifiers: Vec<PlanModifier>,
}

impl fmt::Debug for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Attribute")
            .field("name", &self.name)
            .field("ty", &self.ty)
            .field("required", &self.required)
            .field("optional", &self.optional)
            .field("computed", &self.computed)
            .field("sensitive", &self.sensitive)
            .field("write_only", &self.write_only)
            .field("validators", &self.validators.len())
            .field("plan_modifiers", &self.plan_modifiers)
            .finish()
    }
}

impl Attribute {
    pub fn new(name: impl Into<String>, ty: Type) -> Self {
        Self::with_type(name, AttributeType::Plain(ty))
    }

    fn with_type(name: impl Into<String>, ty: AttributeType) -> Self {
        Attribute {
            name: name.into(),
            ty,
            description: String::new(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
            write_only: false,
            deprecation_message: None,
            validators: Vec::new(),
            plan_modifiers: Vec::new(),
        }
    }

    pub fn string(name: impl Into<String>) -> Self {
        Self::new(name, Type::String)
    }

    pub fn bool(name: impl Into<String>) -> Self {
        Self::new(name, Type::Bool)
    }

    pub fn number(name: impl Into<String>) -> Self {
        Self::new(name, Type::Number)
    }

    pub fn dynamic(name: impl Into<String>) -> Self {
        Self::new(name, Type::Dynamic)
    }

    pub fn list(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::list(element))
    }

    pub fn set(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::set(element))
    }

    pub fn map(name: impl Into<String>, element: Type) -> Self {
        Self::new(name, Type::map(element))
    }

    pub fn nested(name: impl Into<String>, nesting: Nesting, attributes: Vec<Attribute>) -> Self {
        Self::with_type(
            name,
            AttributeType::Nested {
                nesting,
                attributes,
            },
        )
    }

    pub fn single_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, Nesting::Single, attributes)
    }

    pub fn list_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, Nesting::List, attributes)
    }

    pub fn set_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, Nesting::Set, attributes)
    }

    pub fn map_nested(name: impl Into<String>, attributes: Vec<Attribute>) -> Self {
        Self::nested(name, Nesting::Map, attributes)
    }

    pub fn required(mut self) -> Self {
        self.required = true;
        self.optional = false;
        self.computed = false;
        self
    }

    pub fn optional(mut self) -> Self {
        self.optional = true;
        self.required = false;
        self
    }

    pub fn computed(mut self) -> Self {
        self.computed = true;
        self.required = false;
        self
    }

    pub fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Never persisted: the configured value reaches create/update but plan and state always hold null.
    pub fn write_only(mut self) -> Self {
        self.write_only = true;
        self
    }

    /// Markdown description shown in docs and by language servers.
    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    /// Marks the attribute deprecated; setting it produces a warning carrying `message`.
    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.deprecation_message = Some(message.into());
        self
    }

    pub fn validator(
        mut self,
        check: impl Fn(&Value, &AttributePath) -> Diagnostics + Send + Sync + 'static,
    ) -> Self {
        self.validators.push(Arc::new(check));
        self
    }

    pub fn requires_replace(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::RequiresReplace);
        self
    }

    pub fn requires_replace_if(
        mut self,
        condition: impl Fn(&ReplaceCheck<'_>) -> bool + Send + Sync + 'static,
    ) -> Self {
        self.plan_modifiers
            .push(PlanModifier::RequiresReplaceIf(Arc::new(condition)));
        self
    }

    pub fn use_state_for_unknown(mut self) -> Self {
        self.plan_modifiers.push(PlanModifier::UseStateForUnknown);
        self
    }

    /// The value type this attribute holds.
    pub fn value_type(&self) -> Type {
        match &self.ty {
            AttributeType::Plain(ty) => ty.clone(),
            AttributeType::Nested {
                nesting,
                attributes,
            } => nest(
                *nesting,
                Type::object(attributes.iter().map(|a| (a.name.clone(), a.value_type()))),
            ),
        }
    }

    fn nested_attributes(&self) -> Option<(Nesting, &[Attribute])> {
        match &self.ty {
            AttributeType::Nested {
                nesting,
                attributes,
            } => Some((*nesting, attributes)),
            AttributeType::Plain(_) => None,
        }
    }
}

fn nest(nesting: Nesting, object: Type) -> Type {
    match nesting {
        Nesting::Single => object,
        Nesting::List => Type::list(object),
        Nesting::Set => Type::set(object),
        Nesting::Map => Type::map(object),
    }
}

/// A block: attributes plus nested blocks.
#[derive(Clone, Debug, Default)]
pub struct Block {
    pub attributes: Vec<Attribute>,
    pub blocks: Vec<NestedBlock>,
    pub description: String,
    pub deprecation_message: Option<String>,
}

impl Block {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.blocks.push(block);
        self
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.description = markdown.into();
        self
    }

    pub fn value_type(&self) -> Type {
        let mut attributes: BTreeMap<String, Type> = self
            .attributes
            .iter()
            .map(|a| (a.name.clone(), a.value_type()))
            .collect();
        for b in &self.blocks {
            attributes.insert(b.type_name.clone(), nest(b.nesting, b.block.value_type()));
        }
        Type::object(attributes)
    }
}

/// A nested block (`timeouts { ... }`, repeated `member { ... }`).
#[derive(Clone, Debug)]
pub struct NestedBlock {
    pub type_name: String,
    pub block: Block,
    pub nesting: Nesting,
    pub min_items: i64,
    pub max_items: i64,
}

impl NestedBlock {
    pub fn new(type_name: impl Into<String>, nesting: Nesting, block: Block) -> Self {
        NestedBlock {
            type_name: type_name.into(),
            block,
            nesting,
            min_items: 0,
            max_items: 0,
        }
    }

    pub fn min_items(mut self, n: i64) -> Self {
        self.min_items = n;
        self
    }

    pub fn max_items(mut self, n: i64) -> Self {
        self.max_items = n;
        self
    }

    /// The conventional `timeouts { create = "30m" ... }` block for the given operations; every field is an
    /// optional Go-style duration string, validated at plan time.
    pub fn timeouts(operations: &[Operation]) -> Self {
        let mut block = Block::new().description(
            "Per-operation timeouts, as Go durations such as `30s`, `10m` or `1h30m`.",
        );
        for op in operations {
            block = block.attribute(
                Attribute::string(op.as_str())
                    .optional()
                    .description(format!("How long {} may take.", op.as_str()))
                    .validator(|value, path| match value.as_str().map(parse_duration) {
                        Some(Err(message)) => Diagnostic::error("Invalid timeout", message)
                            .at(path.clone())
                            .into(),
                        _ => Diagnostics::new(),
                    }),
            );
        }
        NestedBlock::new(TIMEOUTS_BLOCK, Nesting::Single, block)
    }
}

/// Name of the block created by [`NestedBlock::timeouts`].
pub const TIMEOUTS_BLOCK: &str = "timeouts";

/// A resource lifecycle operation, for timeouts.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Operation {
    Create,
    Read,
    Update,
    Delete,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Read => "read",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// Timeout for `op` from the `timeouts` block of `value` (a config, plan or state object), or `default`
/// when unset or unparsable (validation already reported the latter).
pub fn timeout_from(value: &Value, op: Operation, default: Duration) -> Duration {
    value
        .get(TIMEOUTS_BLOCK)
        .get_str(op.as_str())
        .and_then(|text| parse_duration(text).ok())
        .unwrap_or(default)
}

/// Parses a Go duration string (`300ms`, `1.5h`, `2h45m`); negative durations are refused.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let invalid = || {
        format!(
            "{text:?} is not a duration; use a number with a unit, such as \"30s\", \"10m\" or \"1h30m\""
        )
    };
    if text == "0" {
        return Ok(Duration::ZERO);
    }
    let mut rest = text.strip_prefix('+').unwrap_or(text);
    if rest.is_empty() || rest.starts_with('-') {
        return Err(invalid());
    }
    let mut total = 0f64;
    while !rest.is_empty() {
        let number_len = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .unwrap_or(rest.len());
        let number: f64 = rest[..number_len].parse().map_err(|_| invalid())?;
        rest = &rest[number_len..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit() || c == '.')
            .unwrap_or(rest.len());
        let seconds_per_unit = match &rest[..unit_len] {
            "ns" => 1e-9,
            "us" | "µs" | "μs" => 1e-6,
            "ms" => 1e-3,
            "s" => 1.0,
            "m" => 60.0,
            "h" => 3600.0,
            _ => return Err(invalid()),
        };
        rest = &rest[unit_len..];
        total += number * seconds_per_unit;
    }
    Duration::try_from_secs_f64(total).map_err(|_| invalid())
}

/// A resource, data source, provider or ephemeral resource schema.
#[derive(Clone, Debug, Default)]
pub struct Schema {
    pub version: i64,
    pub block: Block,
}

impl Schema {
    pub fn new() -> Self {
        Self::default()
    }

    /// State schema version; bump it together with an `upgrade_state` step.
    pub fn version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    pub fn description(mut self, markdown: impl Into<String>) -> Self {
        self.block.description = markdown.into();
        self
    }

    pub fn deprecated(mut self, message: impl Into<String>) -> Self {
        self.block.deprecation_message = Some(message.into());
        self
    }

    pub fn attribute(mut self, attribute: Attribute) -> Self {
        self.block.attributes.push(attribute);
        self
    }

    pub fn block(mut self, block: NestedBlock) -> Self {
        self.block.blocks.push(block);
        self
    }

    /// The object type of a whole config/plan/state value.
    pub fn value_type(&self) -> Type {
        self.block.value_type()
    }

    /// Duplicate names and contradictory flags, reported once when the server starts.
    pub fn check(&self, owner: &str) -> Diagnostics {
        let mut diags = Diagnostics::new();
        check_block(&self.block, owner, &AttributePath::root(), &mut diags);
        diags
    }

    pub fn has_write_only(&self) -> bool {
        fn attrs(list: &[Attribute]) -> bool {
            list.iter()
                .any(|a| a.write_only || a.nested_attributes().is_some_and(|(_, n)| attrs(n)))
        }
        fn block(b: &Block) -> bool {
            attrs(&b.attributes) || b.blocks.iter().any(|nb| block(&nb.block))
        }
        block(&self.block)
    }
}

fn check_attributes(
    attributes: &[Attribute],
    owner: &str,
    path: &AttributePath,
    diags: &mut Diagnostics,
) {
    let mut seen = std::collections::HashSet::new();
    for a in attributes {
        let here = path.child(PathStep::Attribute(a.name.clone()));
        if !seen.insert(a.name.as_str()) {
            diags.error_at(
                here.clone(),
                "Duplicate schema attribute",
                format!("{owner}: attribute {here} is defined twice."),
            );
        }
        if !(a.required || a.optional || a.computed) {
            diags.error_at(
                here.clone(),
                "Invalid schema attribute",
                format!("{owner}: attribute {here} must be required, optional or computed."),
            );
        }
        if a.write_only && a.computed {
            diags.error_at(
                here.clone(),
                "Invalid schema attribute",
                format!("{owner}: write-only attribute {here} cannot be computed."),
            );
        }
        if let Some((_, nested)) = a.nested_attributes() {
            check_attributes(nested, owner, &here, diags);
        }
    }
}

fn check_block(block: &Block, owner: &str, path: &AttributePath, diags: &mut Diagnostics) {
    check_attributes(&block.attributes, owner, path, diags);
    for b in &block.blocks {
        let here = path.child(PathStep::Attribute(b.type_name.clone()));
        if block.attributes.iter().any(|a| a.name == b.type_name) {
            diags.error_at(
                here.clone(),
                "Duplicate schema attribute",
                format!("{owner}: {here} is both an attribute and a block."),
            );
        }
        check_block(&b.block, owner, &here, diags);
    }
}

// ------------------------------------------------------------------------------------------ schema walks

static NULL: Value = Value::Null;

/// Calls `visit` for every element object of a nested attribute or block value, with its path.
fn each_nested_object<'v>(
    nesting: Nesting,
    value: &'v Value,
    path: &AttributePath,
    mut visit: impl FnMut(&'v Value, AttributePath),
) {
    match (nesting, value.inner()) {
        (_, Value::Null | Value::Unknown(_)) => {}
        (Nesting::Single, object) => visit(object, path.clone()),
        (Nesting::List, Value::List(items)) => {
            for (i, item) in items.iter().enumerate() {
                visit(item, path.child(PathStep::Index(i as i64)));
            }
        }
        (Nesting::Set, Value::Set(items) | Value::List(items)) => {
            for item in items {
                visit(item, path.child(PathStep::SetElement));
            }
        }
        (Nesting::Map, Value::Map(entries)) => {
            for (key, item) in entries {
                visit(item, path.child(PathStep::Key(key.clone())));
            }
        }
        _ => {}
    }
}

/// Whether two set elements are the same element: equal in every attribute the configuration alone
/// decides (not computed, not write-only). Sets have no keys, so this is how plan walks pair a planned
/// element with its configuration and prior counterparts.
fn same_element(attributes: &[Attribute], a: &Value, b: &Value) -> bool {
    attributes
        .iter()
        .filter(|attr| !attr.computed && !attr.write_only)
        .all(|attr| a.get(&attr.name) == b.get(&attr.name))
}

/// Pairs each element of the nested value `planned` with its counterpart in `other` (by position for
/// lists, key for maps, [`same_element`] for sets; null when there is none) and visits the pairs with
/// the element's path.
fn pair_elements<'o>(
    nesting: Nesting,
    other: &'o Value,
    planned: &mut Value,
    path: &AttributePath,
    same: impl Fn(&Value, &Value) -> bool,
    mut visit: impl FnMut(&'o Value, &mut Value, AttributePath),
) {
    let other = other.inner();
    match (nesting, planned) {
        (_, Value::Null | Value::Unknown(_)) => {}
        (Nesting::Single, object) => visit(other, object, path.clone()),
        (Nesting::List, Value::List(items)) => {
            let others = other.elements().unwrap_or(&[]);
            for (i, item) in items.iter_mut().enumerate() {
                visit(
                    others.get(i).unwrap_or(&NULL),
                    item,
                    path.child(PathStep::Index(i as i64)),
                );
            }
        }
        (Nesting::Set, Value::Set(items) | Value::List(items)) => {
            let others = other.elements().unwrap_or(&[]);
            for item in items.iter_mut() {
                let counterpart = others.iter().find(|o| same(o, item)).unwrap_or(&NULL);
                visit(counterpart, item, path.child(PathStep::SetElement));
            }
        }
        (Nesting::Map, Value::Map(entries)) => {
            for (key, item) in entries.iter_mut() {
                visit(other.get(key), item, path.child(PathStep::Key(key.clone())));
            }
        }
        _ => {}
    }
}

/// Visits every attribute of `block`, nested attributes and blocks included, with its value in `object` and
/// its path. `visit` returns whether to look inside the attribute's nested attributes.
fn walk(
    block: &Block,
    object: &Value,
    path: &AttributePath,
    visit: &mut dyn FnMut(&Attribute, &Value, &AttributePath) -> bool,
) {
    walk_attributes(&block.attributes, object, path, visit);
    for nb in &block.blocks {
        let here = path.child(PathStep::Attribute(nb.type_name.clone()));
        each_nested_object(
            nb.nesting,
            object.get(&nb.type_name),
            &here,
            |element, element_path| walk(&nb.block, element, &element_path, visit),
        );
    }
}

fn walk_attributes(
    attributes: &[Attribute],
    object: &Value,
    path: &AttributePath,
    visit: &mut dyn FnMut(&Attribute, &Value, &AttributePath) -> bool,
) {
    for a in attributes {
        let value = object.get(&a.name);
        let here = path.child(PathStep::Attribute(a.name.clone()));
        if visit(a, value, &here)
            && let Some((nesting, nested)) = a.nested_attributes()
        {
            each_nested_object(nesting, value, &here, |element, element_path| {
                walk_attributes(nested, element, &element_path, visit)
            });
        }
    }
}

/// Runs validators on known values and warns about deprecated attributes that are set. Unknown values are
/// skipped: they are checked again once known.
pub fn validate_config(schema: &Schema, config: &Value) -> Diagnostics {
    let mut diags = Diagnostics::new();
    walk(
        &schema.block,
        config,
        &AttributePath::root(),
        &mut |a, value, path| {
            if value.is_null() {
                return false;
            }
            if let Some(message) = &a.deprecation_message {
                diags.warning_at(path.clone(), "Deprecated attribute", message.clone());
            }
            if value.is_unknown() {
                return false;
            }
            for validator in &a.validators {
                diags.extend(validator(value, path));
            }
            true
        },
    );
    diags
}

/// Paths of write-only attributes set (non-null) in `config`.
pub fn write_only_paths_set(schema: &Schema, config: &Value) -> Vec<AttributePath> {
    let mut out = Vec::new();
    walk(
        &schema.block,
        config,
        &AttributePath::root(),
        &mut |a, value, path| {
            if a.write_only && !value.is_null() {
                out.push(path.clone());
                return false;
            }
            true
        },
    );
    out
}

/// Sets every write-only attribute to null: Terraform rejects plans and states that hold their values.
pub fn null_write_only(schema: &Schema, value: &mut Value) {
    fn attrs(list: &[Attribute], object: &mut Value) {
        let Value::Object(entries) = object else {
            return;
        };
        for a in list {
            let Some(v) = entries.get_mut(&a.name) else {
                continue;
            };
            if a.write_only {
                *v = Value::Null;
            } else if let Some((_, nested)) = a.nested_attributes() {
                for_each_element_mut(v, |element| attrs(nested, element));
            }
        }
    }
    fn block(b: &Block, object: &mut Value) {
        attrs(&b.attributes, object);
        let Value::Object(entries) = object else {
            return;
        };
        for nb in &b.blocks {
            if let Some(v) = entries.get_mut(&nb.type_name) {
                for_each_element_mut(v, |element| block(&nb.block, element));
            }
        }
    }
    block(&schema.block, value);
}

fn for_each_element_mut(value: &mut Value, mut visit: impl FnMut(&mut Value)) {
    match value {
        Value::Object(_) => visit(value),
        Value::List(items) | Value::Set(items) => items.iter_mut().for_each(visit),
        Value::Map(entries) => entries.values_mut().for_each(visit),
        _ => {}
    }
}

/// Marks computed attributes the configuration leaves null as unknown ("known after apply").
pub fn mark_computed_unknown(schema: &Schema, config: &Value, planned: &mut Value) {
    mark_block(&schema.block, config, planned);
}

fn mark_attributes(list: &[Attribute], config: &Value, planned: &mut Value) {
    let Value::Object(entries) = planned else {
        return;
    };
    for a in list {
        let config_value = config.get(&a.name);
        let Some(planned_value) = entries.get_mut(&a.name) else {
            continue;
        };
        if a.computed && config_value.is_null() {
            *planned_value = Value::unknown();
            continue;
        }
        if let Some((nesting, nested)) = a.nested_attributes() {
            let root = AttributePath::root();
            let same = |x: &Value, y: &Value| same_element(nested, x, y);
            pair_elements(
                nesting,
                config_value,
                planned_value,
                &root,
                same,
                |c, p, _| mark_attributes(nested, c, p),
            );
        }
    }
}

fn mark_block(b: &Block, config: &Value, planned: &mut Value) {
    mark_attributes(&b.attributes, config, planned);
    let Value::Object(entries) = planned else {
        return;
    };
    for nb in &b.blocks {
        let config_value = config.get(&nb.type_name);
        if let Some(planned_value) = entries.get_mut(&nb.type_name) {
            let root = AttributePath::root();
            let same = |x: &Value, y: &Value| same_element(&nb.block.attributes, x, y);
            pair_elements(
                nb.nesting,
                config_value,
                planned_value,
                &root,
                same,
                |c, p, _| mark_block(&nb.block, c, p),
            );
        }
    }
}

/// Applies attribute plan modifiers on update; returns the paths that force replacement (a change inside
/// a set element reports the set).
pub fn apply_plan_modifiers(
    schema: &Schema,
    config: &Value,
    prior: &Value,
    planned: &mut Value,
) -> Vec<AttributePath> {
    let mut replace = Vec::new();
    modify_block(
        &schema.block,
        config,
        prior,
        planned,
        &AttributePath::root(),
        &mut replace,
    );
    let mut resolvable: Vec<AttributePath> = Vec::new();
    for path in replace.iter().map(AttributePath::up_to_set) {
        if !resolvable.contains(&path) {
            resolvable.push(path);
        }
    }
    resolvable
}

/// The config and prior counterparts of one planned element.
struct Counterparts<'a> {
    config: &'a Value,
    prior: &'a Value,
}

/// Pairs planned elements with config and prior elements, then visits each triple.
fn pair_three<'a>(
    nesting: Nesting,
    attributes: &[Attribute],
    config: &'a Value,
    prior: &'a Value,
    planned: &mut Value,
    path: &AttributePath,
    mut visit: impl FnMut(Counterparts<'a>, &mut Value, AttributePath),
) {
    let same = |x: &Value, y: &Value| same_element(attributes, x, y);
    // Two passes would need two mutable borrows; collect the config counterparts first.
    let mut config_counterparts = Vec::new();
    pair_elements(
        nesting,
        config,
        &mut planned.clone(),
        path,
        same,
        |c, _, _| config_counterparts.push(c),
    );
    let mut next = config_counterparts.into_iter();
    pair_elements(
        nesting,
        prior,
        planned,
        path,
        same,
        |p, element, element_path| {
            let config = next.next().unwrap_or(&NULL);
            visit(Counterparts { config, prior: p }, element, element_path);
        },
    );
}

fn modify_attributes(
    list: &[Attribute],
    config: &Value,
    prior: &Value,
    planned: &mut Value,
    path: &AttributePath,
    replace: &mut Vec<AttributePath>,
) {
    let Value::Object(entries) = planned else {
        return;
    };
    for a in list {
        let here = path.child(PathStep::Attribute(a.name.clone()));
        let config_value = config.get(&a.name);
        let prior_value = prior.get(&a.name);
        let Some(planned_value) = entries.get_mut(&a.name) else {
            continue;
        };
        for modifier in &a.plan_modifiers {
            match modifier {
                PlanModifier::UseStateForUnknown => {
                    if planned_value.is_unknown()
                        && !prior_value.is_null()
                        && !config_value.is_unknown()
                    {
                        *planned_value = prior_value.clone();
                    }
                }
                PlanModifier::RequiresReplace => {
                    if *planned_value != *prior_value {
                        replace.push(here.clone());
                    }
                }
                PlanModifier::RequiresReplaceIf(condition) => {
                    let check = ReplaceCheck {
                        path: &here,
                        config: config_value,
                        prior: prior_value,
                        planned: planned_value,
                    };
                    if *planned_value != *prior_value && condition(&check) {
                        replace.push(here.clone());
                    }
                }
            }
        }
        if let Some((nesting, nested)) = a.nested_attributes() {
            pair_three(
                nesting,
                nested,
                config_value,
                prior_value,
                planned_value,
                &here,
                |c, element, element_path| {
                    modify_attributes(nested, c.config, c.prior, element, &element_path, replace)
                },
            );
        }
    }
}

fn modify_block(
    b: &Block,
    config: &Value,
    prior: &Value,
    planned: &mut Value,
    path: &AttributePath,
    replace: &mut Vec<AttributePath>,
) {
    modify_attributes(&b.attributes, config, prior, planned, path, replace);
    let Value::Object(entries) = planned else {
        return;
    };
    for nb in &b.blocks {
        let here = path.child(PathStep::Attribute(nb.type_name.clone()));
        let Some(planned_value) = entries.get_mut(&nb.type_name) else {
            continue;
        };
        let (config_value, prior_value) = (config.get(&nb.type_name), prior.get(&nb.type_name));
        pair_three(
            nb.nesting,
            &nb.block.attributes,
            config_value,
            prior_value,
            planned_value,
            &here,
            |c, element, element_path| {
                modify_block(
                    &nb.block,
                    c.config,
                    c.prior,
                    element,
                    &element_path,
                    replace,
                )
            },
        );
    }
}

/// Replaces unknown values left in `value` with null and returns where they were (Terraform rejects
/// unknowns in a new state).
pub fn take_unknowns(value: &mut Value, path: &AttributePath, out: &mut Vec<AttributePath>) {
    match value {
        Value::Unknown(_) => {
            out.push(path.clone());
            *value = Value::Null;
        }
        Value::List(items) | Value::Tuple(items) => {
            for (i, item) in items.iter_mut().enumerate() {
                take_unknowns(item, &path.child(PathStep::Index(i as i64)), out);
            }
        }
        Value::Set(items) => {
            let element = path.child(PathStep::SetElement);
            for item in items.iter_mut() {
                take_unknowns(item, &element, out);
            }
        }
        Value::Map(entries) => {
            for (k, item) in entries.iter_mut() {
                take_unknowns(item, &path.child(PathStep::Key(k.clone())), out);
            }
        }
        Value::Object(entries) => {
            for (k, item) in entries.iter_mut() {
                take_unknowns(item, &path.child(PathStep::Attribute(k.clone())), out);
            }
        }
        Value::Dynamic(typed) => take_unknowns(&mut typed.value, path, out),
        _ => {}
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Every kind of attribute and block; the wire conversion's tests use it too.
    pub(crate) fn schema() -> Schema {
        Schema::new()
            .version(2)
            .attribute(Attribute::string("id").computed().use_state_for_unknown())
            .attribute(Attribute::string("name").required().requires_replace())
            .attribute(
                Attribute::string("secret")
                    .optional()
                    .write_only()
                    .sensitive(),
            )
            .attribute(Attribute::string("etag").computed())
            .attribute(
                Attribute::string("old")
                    .optional()
                    .deprecated("Use `name` instead."),
            )
            .attribute(
                Attribute::list_nested(
                    "members",
                    vec![
                        Attribute::string("principal").required().validator(|v, p| {
                            if v.as_str().is_some_and(|s| s.is_empty()) {
                                Diagnostic::error("Empty principal", "Set a principal ID.")
                                    .at(p.clone())
                                    .into()
                            } else {
                                Diagnostics::new()
                            }
                        }),
                        Attribute::string("member_id")
                            .computed()
                            .use_state_for_unknown(),
                        Attribute::string("token").optional().write_only(),
                    ],
                )
                .optional(),
            )
            .block(NestedBlock::timeouts(&[
                Operation::Create,
                Operation::Delete,
            ]))
    }

    #[test]
    fn value_type_covers_attributes_nested_attributes_and_blocks() {
        let ty = schema().value_type();
        let Type::Object(object) = &ty else { panic!() };
        assert_eq!(object.attributes["name"], Type::String);
        assert_eq!(
            object.attributes["members"],
            Type::list(Type::object([
                ("principal", Type::String),
                ("member_id", Type::String),
                ("token", Type::String)
            ]))
        );
        assert_eq!(
            object.attributes["timeouts"],
            Type::object([("create", Type::String), ("delete", Type::String)])
        );
        assert!(schema().check("test").is_empty());
        assert!(schema().has_write_only());
    }

    #[test]
    fn check_reports_broken_schemas() {
        let bad = Schema::new()
            .attribute(Attribute::string("a").required())
            .attribute(Attribute::string("a").optional())
            .attribute(Attribute::string("flagless"))
            .attribute(Attribute::string("w").computed().write_only());
        let diags = bad.check("example_test");
        assert_eq!(diags.len(), 3, "{diags}");
    }

    #[test]
    fn validation_runs_validators_on_known_values_and_warns_on_deprecated() {
        let config = Value::object([
            ("old", Value::from("x")),
            (
                "members",
                Value::list([
                    Value::object([("principal", Value::from(""))]),
                    Value::object([("principal", Value::unknown())]),
                ]),
            ),
            (
                "timeouts",
                Value::object([("create", Value::from("10 minutes"))]),
            ),
        ]);
        let diags = validate_config(&schema(), &config);
        let rendered: Vec<String> = diags
            .iter()
            .map(|d| format!("{}@{}", d.summary, d.path.clone().unwrap()))
            .collect();
        assert_eq!(
            rendered,
            vec![
                "Deprecated attribute@old",
                "Empty principal@members[0].principal",
                "Invalid timeout@timeouts.create"
            ]
        );
    }

    #[test]
    fn write_only_values_are_found_and_nulled_at_every_depth() {
        let mut value = Value::object([
            ("secret", Value::from("s3cr3t")),
            (
                "members",
                Value::list([Value::object([
                    ("principal", Value::from("p")),
                    ("token", Value::from("t")),
                ])]),
            ),
        ]);
        let paths = write_only_paths_set(&schema(), &value);
        assert_eq!(
            paths.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec!["secret", "members[0].token"]
        );
        null_write_only(&schema(), &mut value);
        assert!(value.get("secret").is_null());
        assert!(
            value
                .get("members")
                .iter()
                .next()
                .unwrap()
                .get("token")
                .is_null()
        );
        assert_eq!(
            value
                .get("members")
                .iter()
                .next()
                .unwrap()
                .get_str("principal"),
            Some("p")
        );
    }

    #[test]
    fn computed_nulls_become_unknown_and_modifiers_restore_or_replace() {
        let s = schema();
        let prior = Value::object([
            ("id", Value::from("abc")),
            ("name", Value::from("one")),
            ("etag", Value::from("e1")),
            (
                "members",
                Value::list([Value::object([
                    ("principal", Value::from("p")),
                    ("member_id", Value::from("m1")),
                ])]),
            ),
        ]);
        let config = Value::object([
            ("name", Value::from("two")),
            (
                "members",
                Value::list([Value::object([("principal", Value::from("p"))])]),
            ),
        ]);
        let mut planned = prior.clone().with("name", "two");
        mark_computed_unknown(&s, &config, &mut planned);
        assert!(planned.get("id").is_unknown() && planned.get("etag").is_unknown());
        let replace = apply_plan_modifiers(&s, &config, &prior, &mut planned);
        assert_eq!(planned.get_str("id"), Some("abc"));
        assert!(planned.get("etag").is_unknown());
        assert_eq!(
            planned
                .get("members")
                .iter()
                .next()
                .unwrap()
                .get_str("member_id"),
            Some("m1")
        );
        assert_eq!(replace, vec![AttributePath::new("name")]);
    }

    #[test]
    fn set_elements_pair_by_configured_attributes_not_position() {
        let s = Schema::new().attribute(
            Attribute::set_nested(
                "members",
                vec![
                    Attribute::string("principal").required(),
                    Attribute::string("member_id")
                        .computed()
                        .use_state_for_unknown(),
                    Attribute::string("role").optional().requires_replace(),
                ],
            )
            .optional(),
        );
        let member = |p: &str, id: Option<&str>, role: Option<&str>| {
            Value::object([
                ("principal", Value::from(p)),
                ("member_id", Value::from(id)),
                ("role", Value::from(role)),
            ])
        };
        let prior = Value::object([(
            "members",
            Value::set([
                member("a", Some("m-a"), Some("x")),
                member("b", Some("m-b"), Some("y")),
            ]),
        )]);
        let config = Value::object([(
            "members",
            Value::set([
                member("c", None, None),
                member("b", None, Some("y")),
                member("a", None, Some("x")),
            ]),
        )]);
        let mut planned = config.clone();
        mark_computed_unknown(&s, &config, &mut planned);
        assert!(
            planned
                .get("members")
                .iter()
                .all(|m| m.get("member_id").is_unknown())
        );
        let replace = apply_plan_modifiers(&s, &config, &prior, &mut planned);
        assert!(replace.is_empty(), "{replace:?}");
        let ids: Vec<(String, Option<String>)> = planned
            .get("members")
            .iter()
            .map(|m| {
                (
                    m.get_str("principal").unwrap().to_owned(),
                    m.get_str("member_id").map(str::to_owned),
                )
            })
            .collect();
        assert_eq!(
            ids,
            vec![
                ("c".into(), None),
                ("b".into(), Some("m-b".into())),
                ("a".into(), Some("m-a".into()))
            ]
        );

        // Changing a configured attribute makes the element new; the replacement is reported on the set.
        let config = Value::object([(
            "members",
            Value::set([member("a", None, Some("z")), member("b", None, Some("y"))]),
        )]);
        let mut planned = config.clone();
        mark_computed_unknown(&s, &config, &mut planned);
        let replace = apply_plan_modifiers(&s, &config, &prior, &mut planned);
        assert_eq!(replace, vec![AttributePath::new("members")]);
    }

    #[test]
    fn requires_replace_if_consults_the_condition() {
        let s = Schema::new().attribute(Attribute::string("email").required().requires_replace_if(
            |c| {
                c.prior.as_str().map(str::to_lowercase) != c.planned.as_str().map(str::to_lowercase)
            },
        ));
        let prior = Value::object([("email", Value::from("A@x.io"))]);
        let mut planned = Value::object([("email", Value::from("a@x.io"))]);
        assert!(apply_plan_modifiers(&s, &planned.clone(), &prior, &mut planned).is_empty());
        let mut planned = Value::object([("email", Value::from("b@x.io"))]);
        assert_eq!(
            apply_plan_modifiers(&s, &planned.clone(), &prior, &mut planned).len(),
            1
        );
    }

    #[test]
    fn durations_parse_like_go() {
        assert_eq!(parse_duration("30s").unwrap(), Duration::from_secs(30));
        assert_eq!(parse_duration("1h30m").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("1.5h").unwrap(), Duration::from_secs(5400));
        assert_eq!(parse_duration("250ms").unwrap(), Duration::from_millis(250));
        assert_eq!(parse_duration("0").unwrap(), Duration::ZERO);
        for bad in ["", "10", "5 minutes", "-1m", "1d", "m"] {
            assert!(parse_duration(bad).is_err(), "{bad} accepted");
        }
        let state = Value::object([("timeouts", Value::object([("create", Value::from("2m"))]))]);
        assert_eq!(
            timeout_from(&state, Operation::Create, Duration::from_secs(1)),
            Duration::from_secs(120)
        );
        assert_eq!(
            timeout_from(&state, Operation::Delete, Duration::from_secs(1)),
            Duration::from_secs(1)
        );
    }

    #[test]
    fn unknowns_are_taken_out_with_their_paths() {
        let mut value = Value::object([
            ("a", Value::unknown()),
            ("b", Value::list([Value::from(1), Value::unknown()])),
            ("c", Value::set([Value::object([("id", Value::unknown())])])),
        ]);
        let mut out = Vec::new();
        take_unknowns(&mut value, &AttributePath::root(), &mut out);
        assert_eq!(
            out.iter().map(ToString::to_string).collect::<Vec<_>>(),
            vec!["a", "b[1]", "c[*].id"]
        );
        assert!(value.is_wholly_known());
        assert!(value.get("a").is_null() && value.get("b").elements().unwrap()[1].is_null());
    }
}
