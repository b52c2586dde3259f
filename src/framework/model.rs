//! Typed models: a resource's configuration, plan or state as a Rust struct instead of string-keyed look-ups.
//!
//! [`model!`](crate::model) declares a struct whose field names are the schema's attribute names and implements
//! [`Model`] for it: `decode` reads an object value into the struct (every problem reported with its attribute
//! path), `encode` writes it back. Field types say what a value may be:
//!
//! | field type | null | unknown | use for |
//! |---|---|---|---|
//! | `Attr<T>` | `Attr::Null` | `Attr::Unknown` (also for partly known collections) | anything that may be unknown at plan (computed, or set from other resources) |
//! | `Option<T>` | `None` | decode error | optional arguments read where values are known (apply, read) |
//! | `T` (`String`, `bool`, `i64`, …) | decode error | decode error | always-known values |
//! | `Vec<T>`, `BTreeSet<T>`, `BTreeMap<String, T>` | empty | decode error | lists, sets, maps |
//! | another model | decode error | decode error | a nested object or single block (wrap in `Option`/`Attr`) |
//! | `Value` | as is | as is | what the resource passes through untouched (e.g. `timeouts`) |
//!
//! A `Vec<T>` field encodes as a list; sets are `BTreeSet<T>` or [`Set<T>`].

use std::collections::{BTreeMap, BTreeSet};

use super::diag::{Diagnostic, Diagnostics};
use super::path::{AttributePath, PathStep};
use super::value::{Number, Value};

/// A struct that mirrors an object of the schema (a resource, a nested block, a nested object).
pub trait Model: Sized {
    /// The attribute names, in declaration order; a test compares them with the schema.
    const ATTRIBUTES: &'static [&'static str];

    /// Reads `value` (an object) found at `path`.
    fn decode_at(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics>;

    /// The object value of this model.
    fn encode(&self) -> Value;

    /// Reads a whole resource object (config, plan or state).
    fn decode(value: &Value) -> Result<Self, Diagnostics> {
        Self::decode_at(value, &AttributePath::root())
    }
}

/// A value of one attribute: how it decodes from and encodes to [`Value`].
pub trait Field: Sized {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics>;
    fn encode_field(&self) -> Value;
}

/// A value that may be null or not yet known, as Terraform has it at plan time.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Attr<T> {
    #[default]
    Null,
    /// Not wholly known until apply: unknown, or a collection with unknown elements.
    Unknown(Pending),
    Known(T),
}

/// What Terraform sent for a value that is not wholly known, kept as it was so that encoding gives it back
/// exactly (refinements, the known elements of a partly known set).
#[derive(Clone, Debug, PartialEq)]
pub struct Pending(Value);

impl Pending {
    /// The value as Terraform sent it.
    pub fn value(&self) -> &Value {
        &self.0
    }
}

impl<T> Attr<T> {
    pub fn unknown() -> Self {
        Attr::Unknown(Pending(Value::unknown()))
    }

    pub fn known(&self) -> Option<&T> {
        match self {
            Attr::Known(value) => Some(value),
            _ => None,
        }
    }

    pub fn into_known(self) -> Option<T> {
        match self {
            Attr::Known(value) => Some(value),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self, Attr::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Attr::Unknown(_))
    }

    pub fn is_known(&self) -> bool {
        matches!(self, Attr::Known(_))
    }

    pub fn as_ref(&self) -> Attr<&T> {
        match self {
            Attr::Null => Attr::Null,
            Attr::Unknown(pending) => Attr::Unknown(pending.clone()),
            Attr::Known(value) => Attr::Known(value),
        }
    }

    pub fn map<U>(self, f: impl FnOnce(T) -> U) -> Attr<U> {
        match self {
            Attr::Null => Attr::Null,
            Attr::Unknown(pending) => Attr::Unknown(pending),
            Attr::Known(value) => Attr::Known(f(value)),
        }
    }
}

impl Attr<String> {
    /// The text when known; `None` for null and unknown.
    pub fn as_str(&self) -> Option<&str> {
        self.known().map(String::as_str)
    }
}

impl<T> From<T> for Attr<T> {
    fn from(value: T) -> Self {
        Attr::Known(value)
    }
}

impl From<&str> for Attr<String> {
    fn from(value: &str) -> Self {
        Attr::Known(value.to_string())
    }
}

impl<T> From<Option<T>> for Attr<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Attr::Null, Attr::Known)
    }
}

fn not_known(path: &AttributePath, what: &str) -> Diagnostics {
    Diagnostic::error(
        "Value not known",
        format!(
            "The provider needs {what} here, but Terraform sent {}. This is a bug in the provider; please report it.",
            if path.is_root() {
                "no known value".to_string()
            } else {
                format!("no known value for {path}")
            }
        ),
    )
    .at(path.clone())
    .into()
}

fn wrong_type(path: &AttributePath, expected: &str) -> Diagnostics {
    Diagnostic::error(
        "Unexpected value type",
        format!(
            "Expected {expected} at {path}. This is a bug in the provider (its model and schema disagree); please report it."
        ),
    )
    .at(path.clone())
    .into()
}

impl<T: Field> Field for Attr<T> {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match value.inner() {
            Value::Null => Ok(Attr::Null),
            Value::Unknown(_) => Ok(Attr::Unknown(Pending(value.clone()))),
            // A partly known value is known when `T` can hold its unknown parts (a model whose fields are
            // `Attr`), and pending otherwise (a `BTreeSet<String>` with an unknown element).
            _ => match T::decode_field(value, path) {
                Ok(known) => Ok(Attr::Known(known)),
                Err(_) if !value.is_wholly_known() => Ok(Attr::Unknown(Pending(value.clone()))),
                Err(errors) => Err(errors),
            },
        }
    }

    fn encode_field(&self) -> Value {
        match self {
            Attr::Null => Value::Null,
            Attr::Unknown(pending) => pending.0.clone(),
            Attr::Known(value) => value.encode_field(),
        }
    }
}

impl<T: Field> Field for Option<T> {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match value.inner() {
            Value::Null => Ok(None),
            Value::Unknown(_) => Err(not_known(path, "a value")),
            _ => T::decode_field(value, path).map(Some),
        }
    }

    fn encode_field(&self) -> Value {
        self.as_ref().map_or(Value::Null, Field::encode_field)
    }
}

impl Field for String {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match value.inner() {
            Value::String(text) => Ok(text.clone()),
            Value::Null | Value::Unknown(_) => Err(not_known(path, "a string")),
            _ => Err(wrong_type(path, "a string")),
        }
    }

    fn encode_field(&self) -> Value {
        Value::String(self.clone())
    }
}

impl Field for bool {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match value.inner() {
            Value::Bool(flag) => Ok(*flag),
            Value::Null | Value::Unknown(_) => Err(not_known(path, "a bool")),
            _ => Err(wrong_type(path, "a bool")),
        }
    }

    fn encode_field(&self) -> Value {
        Value::Bool(*self)
    }
}

impl Field for i64 {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match value.inner() {
            Value::Number(number) => number
                .as_i64()
                .ok_or_else(|| wrong_type(path, "a whole number")),
            Value::Null | Value::Unknown(_) => Err(not_known(path, "a number")),
            _ => Err(wrong_type(path, "a number")),
        }
    }

    fn encode_field(&self) -> Value {
        Value::from(*self)
    }
}

impl Field for Value {
    fn decode_field(value: &Value, _path: &AttributePath) -> Result<Self, Diagnostics> {
        Ok(value.clone())
    }

    fn encode_field(&self) -> Value {
        self.clone()
    }
}

impl Field for Number {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        match value.inner() {
            Value::Number(number) => Ok(number.clone()),
            Value::Null | Value::Unknown(_) => Err(not_known(path, "a number")),
            _ => Err(wrong_type(path, "a number")),
        }
    }

    fn encode_field(&self) -> Value {
        Value::Number(self.clone())
    }
}

/// A sensitive string (a token, a password): `Debug` never shows it, so a model holding one can still be logged.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Self {
        Secret(text.into())
    }

    /// The secret itself, for the one call that sends it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl Field for Secret {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        String::decode_field(value, path).map(Secret)
    }

    fn encode_field(&self) -> Value {
        Value::String(self.0.clone())
    }
}

/// Elements of a list, set or tuple, each decoded at its own path; null is empty.
fn decode_elements<T: Field>(
    value: &Value,
    path: &AttributePath,
) -> Result<(Vec<T>, bool), Diagnostics> {
    let (items, is_set) = match value.inner() {
        Value::Null => return Ok((Vec::new(), false)),
        Value::Unknown(_) => return Err(not_known(path, "a collection")),
        Value::List(items) | Value::Tuple(items) => (items, false),
        Value::Set(items) => (items, true),
        _ => return Err(wrong_type(path, "a list or set")),
    };
    let mut decoded = Vec::with_capacity(items.len());
    let mut diagnostics = Diagnostics::new();
    for (index, item) in items.iter().enumerate() {
        let step = if is_set {
            PathStep::SetElement
        } else {
            PathStep::Index(index as i64)
        };
        match T::decode_field(item, &path.child(step)) {
            Ok(element) => decoded.push(element),
            Err(errors) => diagnostics.extend(errors),
        }
    }
    if diagnostics.has_errors() {
        Err(diagnostics)
    } else {
        Ok((decoded, is_set))
    }
}

/// A list: `Vec` fields encode as lists; declare sets with [`Set`] or `BTreeSet`.
impl<T: Field> Field for Vec<T> {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        decode_elements(value, path).map(|(items, _)| items)
    }

    fn encode_field(&self) -> Value {
        Value::list(self.iter().map(Field::encode_field))
    }
}

impl<T: Field + Ord> Field for BTreeSet<T> {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        decode_elements(value, path).map(|(items, _)| items.into_iter().collect())
    }

    fn encode_field(&self) -> Value {
        Value::Set(self.iter().map(Field::encode_field).collect())
    }
}

/// A set whose elements keep the order they were given in (e.g. nested blocks as Terraform sent them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set<T>(pub Vec<T>);

impl<T: Field> Field for Set<T> {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        decode_elements(value, path).map(|(items, _)| Set(items))
    }

    /// What Terraform sent is unique already; `Value::set` would fold two unknown elements into one.
    fn encode_field(&self) -> Value {
        Value::Set(self.0.iter().map(Field::encode_field).collect())
    }
}

impl<T: Field> Field for BTreeMap<String, T> {
    fn decode_field(value: &Value, path: &AttributePath) -> Result<Self, Diagnostics> {
        let entries = match value.inner() {
            Value::Null => return Ok(BTreeMap::new()),
            Value::Unknown(_) => return Err(not_known(path, "a map")),
            Value::Map(entries) | Value::Object(entries) => entries,
            _ => return Err(wrong_type(path, "a map")),
        };
        let mut decoded = BTreeMap::new();
        let mut diagnostics = Diagnostics::new();
        for (key, item) in entries {
            match T::decode_field(item, &path.clone().key(key.clone())) {
                Ok(element) => {
                    decoded.insert(key.clone(), element);
                }
                Err(errors) => diagnostics.extend(errors),
            }
        }
        if diagnostics.has_errors() {
            Err(diagnostics)
        } else {
            Ok(decoded)
        }
    }

    fn encode_field(&self) -> Value {
        Value::map(
            self.iter()
                .map(|(key, item)| (key.clone(), item.encode_field())),
        )
    }
}

/// Declares a model struct and implements [`Model`] and [`Field`] for it. Field names are the attribute names;
/// `#[attr = "type"]` names an attribute whose name is not a Rust identifier.
///
/// ```
/// use idbridge::framework::model::{Attr, Model};
/// use idbridge::framework::Value;
///
/// idbridge::model! {
///     #[derive(Clone, Debug, Default, PartialEq)]
///     pub struct Group {
///         pub id: Attr<String>,
///         pub name: String,
///         pub members: Vec<String>,
///     }
/// }
///
/// let value = Value::object([("id", Value::unknown()), ("name", "ops".into()), ("members", Value::Null)]);
/// let group = Group::decode(&value).unwrap();
/// assert!(group.id.is_unknown());
/// assert_eq!(group.encode(), Value::object([("id", Value::unknown()), ("name", "ops".into()), ("members", Value::list([]))]));
/// ```
#[macro_export]
macro_rules! model {
    (
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $( $(#[doc = $doc:literal])* $(#[attr = $attr:literal])? $fvis:vis $field:ident : $ty:ty ),* $(,)?
        }
    ) => {
        $(#[$meta])*
        $vis struct $name {
            $( $(#[doc = $doc])* $fvis $field : $ty, )*
        }

        impl $crate::framework::model::Model for $name {
            const ATTRIBUTES: &'static [&'static str] = &[$( $crate::model!(@name $field $($attr)?) ),*];

            fn decode_at(
                value: &$crate::framework::Value,
                path: &$crate::framework::AttributePath,
            ) -> ::std::result::Result<Self, $crate::framework::Diagnostics> {
                match value.inner() {
                    $crate::framework::Value::Object(_) => {}
                    $crate::framework::Value::Null | $crate::framework::Value::Unknown(_) => {
                        return Err($crate::framework::Diagnostic::error(
                            "Value not known",
                            format!(
                                "The provider needs the object at {} here; this is a bug in the provider.",
                                if path.is_root() { "the resource".to_string() } else { path.to_string() }
                            ),
                        )
                        .at(path.clone())
                        .into());
                    }
                    _ => {
                        return Err($crate::framework::Diagnostic::error(
                            "Unexpected value type",
                            format!("Expected an object at {path}; this is a bug in the provider."),
                        )
                        .at(path.clone())
                        .into());
                    }
                }
                let mut diagnostics = $crate::framework::Diagnostics::new();
                $(
                    let $field = {
                        let name = $crate::model!(@name $field $($attr)?);
                        <$ty as $crate::framework::model::Field>::decode_field(
                            value.get(name),
                            &path.clone().attribute(name),
                        )
                    };
                    let $field = match $field {
                        Ok(field) => Some(field),
                        Err(errors) => {
                            diagnostics.extend(errors);
                            None
                        }
                    };
                )*
                if diagnostics.has_errors() {
                    return Err(diagnostics);
                }
                Ok($name { $( $field: $field.expect("decoded without errors"), )* })
            }

            fn encode(&self) -> $crate::framework::Value {
                $crate::framework::Value::object([
                    $( (
                        $crate::model!(@name $field $($attr)?),
                        $crate::framework::model::Field::encode_field(&self.$field),
                    ), )*
                ])
            }
        }

        impl $crate::framework::model::Field for $name {
            fn decode_field(
                value: &$crate::framework::Value,
                path: &$crate::framework::AttributePath,
            ) -> ::std::result::Result<Self, $crate::framework::Diagnostics> {
                <$name as $crate::framework::model::Model>::decode_at(value, path)
            }

            fn encode_field(&self) -> $crate::framework::Value {
                <$name as $crate::framework::model::Model>::encode(self)
            }
        }
    };
    (@name $field:ident $attr:literal) => { $attr };
    (@name $field:ident) => { stringify!($field) };
}

/// The names of the schema's top-level attributes and blocks, to compare with [`Model::ATTRIBUTES`].
pub fn schema_names(schema: &super::schema::Schema) -> BTreeSet<String> {
    let ty = schema.value_type();
    match ty {
        super::types::Type::Object(object) => object.attributes.keys().cloned().collect(),
        _ => BTreeSet::new(),
    }
}

/// Panics unless the model declares exactly the schema's attributes: for each resource's unit tests.
pub fn assert_model_matches_schema<M: Model>(schema: &super::schema::Schema) {
    let declared: BTreeSet<String> = M::ATTRIBUTES.iter().map(|s| s.to_string()).collect();
    let expected = schema_names(schema);
    assert_eq!(
        declared, expected,
        "the model's fields must be exactly the schema's attributes and blocks"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    crate::model! {
        #[derive(Clone, Debug, Default, PartialEq)]
        struct Timeouts {
            create: Option<String>,
        }
    }

    crate::model! {
        #[derive(Clone, Debug, Default, PartialEq)]
        struct Sample {
            id: Attr<String>,
            name: String,
            count: Option<i64>,
            tags: BTreeMap<String, String>,
            members: BTreeSet<String>,
            #[attr = "type"]
            kind: Attr<String>,
            timeouts: Option<Timeouts>,
        }
    }

    fn sample_value() -> Value {
        Value::object([
            ("id", Value::unknown()),
            ("name", "ops".into()),
            ("count", Value::from(3)),
            ("tags", Value::map([("team", Value::from("a"))])),
            ("members", Value::set(["u1".into(), "u2".into()])),
            ("type", Value::Null),
            ("timeouts", Value::object([("create", Value::from("5m"))])),
        ])
    }

    #[test]
    fn round_trips_unknown_null_and_nested_values() {
        let decoded = Sample::decode(&sample_value()).unwrap();
        assert!(decoded.id.is_unknown());
        assert!(decoded.kind.is_null());
        assert_eq!(decoded.count, Some(3));
        assert_eq!(
            decoded.timeouts.as_ref().unwrap().create.as_deref(),
            Some("5m")
        );
        assert_eq!(decoded.encode(), sample_value());
    }

    #[test]
    fn unknown_where_a_known_value_is_needed_points_at_the_attribute() {
        let value = sample_value().with("name", Value::unknown());
        let errors = Sample::decode(&value).unwrap_err();
        let error = errors.iter().next().unwrap();
        assert_eq!(error.path, Some(AttributePath::new("name")));
        assert_eq!(error.summary, "Value not known");
    }

    #[test]
    fn every_field_error_is_reported_with_its_own_path() {
        let value = sample_value()
            .with("name", Value::from(true))
            .with("tags", Value::map([("team", Value::from(1))]));
        let errors = Sample::decode(&value).unwrap_err();
        let paths: Vec<_> = errors.iter().filter_map(|d| d.path.clone()).collect();
        assert_eq!(
            paths,
            vec![
                AttributePath::new("name"),
                AttributePath::new("tags").key("team")
            ]
        );
    }

    #[test]
    fn set_elements_report_the_set_element_step() {
        let value = sample_value().with("members", Value::set([Value::from(1)]));
        let errors = Sample::decode(&value).unwrap_err();
        let path = errors.iter().next().unwrap().path.clone().unwrap();
        assert_eq!(path.up_to_set(), AttributePath::new("members"));
    }

    #[test]
    fn partly_known_collections_are_pending_and_encode_back_unchanged() {
        crate::model! {
            struct Owners {
                owners: Attr<BTreeSet<String>>,
            }
        }
        let partly = Value::set([Value::from("a"), Value::unknown()]);
        let value = Value::object([("owners", partly.clone())]);
        let decoded = Owners::decode(&value).unwrap();
        assert!(decoded.owners.is_unknown());
        assert_eq!(decoded.encode(), value);
    }

    #[test]
    fn sets_keep_every_unknown_element_terraform_sent() {
        let both = Set(vec![Attr::<String>::unknown(), Attr::unknown()]);
        assert_eq!(both.encode_field().elements().map(<[Value]>::len), Some(2));
    }

    #[test]
    fn secrets_never_show_in_debug_output() {
        let secret = Secret::decode_field(&Value::from("tok-123"), &AttributePath::root()).unwrap();
        assert_eq!(secret.expose(), "tok-123");
        assert!(!format!("{:?}", Attr::Known(secret)).contains("tok-123"));
    }

    #[test]
    fn a_partly_known_object_stays_known_when_its_fields_can_be_unknown() {
        crate::model! {
            #[derive(Debug)]
            struct Policy {
                name: Attr<String>,
                path: Attr<String>,
            }
        }
        crate::model! {
            struct Policies {
                policies: Set<Attr<Policy>>,
            }
        }
        let element = Value::object([("name", Value::from("p")), ("path", Value::unknown())]);
        let value = Value::object([("policies", Value::set([element]))]);
        let decoded = Policies::decode(&value).unwrap();
        let policy = decoded.policies.0[0].known().expect("the element is known");
        assert!(policy.path.is_unknown());
        assert_eq!(decoded.encode(), value);
    }

    #[test]
    fn attribute_names_include_renamed_fields() {
        assert_eq!(
            Sample::ATTRIBUTES,
            &["id", "name", "count", "tags", "members", "type", "timeouts"]
        );
    }
}

/// A collection whose elements may be unknown at plan (one element references a resource not created yet):
/// `Attr<Set<Attr<T>>>` round-trips such a value exactly, and these read it.
impl<T> Attr<Set<Attr<T>>> {
    /// Every element, when the collection and all its elements are known; `None` otherwise (also for null).
    pub fn wholly_known(&self) -> Option<Vec<&T>> {
        self.known()?.0.iter().map(Attr::known).collect()
    }

    /// The elements known so far; none while the collection itself is null or unknown.
    pub fn known_elements(&self) -> impl Iterator<Item = &T> {
        self.known()
            .into_iter()
            .flat_map(|set| set.0.iter().filter_map(Attr::known))
    }

    /// A known collection of known elements.
    pub fn from_known(items: impl IntoIterator<Item = T>) -> Self {
        Attr::Known(Set(items.into_iter().map(Attr::Known).collect()))
    }
}

#[cfg(test)]
mod partly_known_tests {
    use super::*;

    crate::model! {
        #[derive(Clone, Debug, Default, PartialEq)]
        struct Arns {
            arns: Attr<Set<Attr<String>>>,
        }
    }

    #[test]
    fn a_set_with_an_unknown_element_round_trips_and_is_not_wholly_known() {
        let value = Value::object([("arns", Value::set(["a".into(), Value::unknown()]))]);
        let decoded = Arns::decode(&value).unwrap();
        assert_eq!(decoded.encode(), value);
        assert_eq!(decoded.arns.wholly_known(), None);
        assert_eq!(decoded.arns.known_elements().collect::<Vec<_>>(), ["a"]);

        let known = Attr::<Set<Attr<String>>>::from_known(["a".to_string(), "b".to_string()]);
        assert_eq!(
            known.wholly_known(),
            Some(vec![&"a".to_string(), &"b".to_string()])
        );
        let null = Arns::decode(&Value::object([("arns", Value::Null)])).unwrap();
        assert_eq!(null.arns.wholly_known(), None);
        assert_eq!(null.arns.known_elements().count(), 0);
    }
}
