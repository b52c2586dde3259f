//! Terraform values: null, unknown (optionally refined) or known, with exact numbers.

use std::collections::hash_map::DefaultHasher;
use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::hash::{Hash, Hasher};

use super::path::{AttributePath, PathStep};
use super::types::Type;

/// A Terraform number without precision loss: small integers and floats stay native, anything else is kept
/// as a normalised decimal string (the msgpack and JSON codecs carry it as such).
#[derive(Clone, Debug)]
pub struct Number(NumberRepr);

#[derive(Clone, Debug)]
enum NumberRepr {
    Int(i64),
    /// Only for values above `i64::MAX`.
    UInt(u64),
    /// Finite, or one of the infinities (which msgpack can carry, JSON cannot).
    Float(f64),
    /// Normalised decimal text: optional `-`, no leading zeros, no exponent, no trailing fractional zeros.
    Decimal(String),
}

/// Why a text is not a number.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a valid number")]
pub struct NumberParseError(pub String);

/// Exponents beyond this are refused: expanding them would let a tiny input allocate huge strings.
const MAX_DECIMAL_EXPONENT: i64 = 4096;

impl Number {
    pub fn from_i64(v: i64) -> Self {
        Number(NumberRepr::Int(v))
    }

    pub fn from_u64(v: u64) -> Self {
        match i64::try_from(v) {
            Ok(i) => Number(NumberRepr::Int(i)),
            Err(_) => Number(NumberRepr::UInt(v)),
        }
    }

    /// `None` for NaN, which Terraform has no representation for.
    pub fn from_f64(v: f64) -> Option<Self> {
        if v.is_nan() {
            return None;
        }
        if v.fract() == 0.0 && v.abs() < 9.2e18 {
            return Some(Number(NumberRepr::Int(v as i64)));
        }
        Some(Number(NumberRepr::Float(v)))
    }

    /// Parses decimal text (`-12`, `3.25`, `1e40`, `123456789012345678901234567890.5`) exactly.
    pub fn parse(text: &str) -> Result<Self, NumberParseError> {
        let err = || NumberParseError(text.to_owned());
        match text {
            "Inf" | "+Inf" | "inf" | "+inf" => return Ok(Number(NumberRepr::Float(f64::INFINITY))),
            "-Inf" | "-inf" => return Ok(Number(NumberRepr::Float(f64::NEG_INFINITY))),
            _ => {}
        }
        let (negative, rest) = match text.as_bytes().first() {
            Some(b'-') => (true, &text[1..]),
            Some(b'+') => (false, &text[1..]),
            _ => (false, text),
        };
        let (mantissa, exponent) = match rest.find(['e', 'E']) {
            Some(at) => (
                &rest[..at],
                rest[at + 1..].parse::<i64>().map_err(|_| err())?,
            ),
            None => (rest, 0),
        };
        if exponent.abs() > MAX_DECIMAL_EXPONENT {
            return Err(err());
        }
        let (int_part, frac_part) = match mantissa.split_once('.') {
            Some((i, f)) => (i, f),
            None => (mantissa, ""),
        };
        if (int_part.is_empty() && frac_part.is_empty())
            || !int_part.bytes().all(|b| b.is_ascii_digit())
            || !frac_part.bytes().all(|b| b.is_ascii_digit())
        {
            return Err(err());
        }
        // Shift the decimal point by the exponent over the concatenated digits.
        let digits: String = format!("{int_part}{frac_part}");
        let point = int_part.len() as i64 + exponent;
        let (int_digits, frac_digits) = if point <= 0 {
            (
                String::new(),
                format!("{}{}", "0".repeat((-point) as usize), digits),
            )
        } else if point as usize >= digits.len() {
            (
                format!("{digits}{}", "0".repeat(point as usize - digits.len())),
                String::new(),
            )
        } else {
            (
                digits[..point as usize].to_owned(),
                digits[point as usize..].to_owned(),
            )
        };
        let int_digits = int_digits.trim_start_matches('0');
        let frac_digits = frac_digits.trim_end_matches('0');
        let int_digits = if int_digits.is_empty() {
            "0"
        } else {
            int_digits
        };
        let is_zero = int_digits == "0" && frac_digits.is_empty();
        if frac_digits.is_empty() {
            let signed = if negative && !is_zero {
                format!("-{int_digits}")
            } else {
                int_digits.to_owned()
            };
            if let Ok(i) = signed.parse::<i64>() {
                return Ok(Number(NumberRepr::Int(i)));
            }
            if let Ok(u) = signed.parse::<u64>() {
                return Ok(Number(NumberRepr::UInt(u)));
            }
            return Ok(Number(NumberRepr::Decimal(signed)));
        }
        let sign = if negative { "-" } else { "" };
        Ok(Number(NumberRepr::Decimal(format!(
            "{sign}{int_digits}.{frac_digits}"
        ))))
    }

    pub fn as_i64(&self) -> Option<i64> {
        match self.0 {
            NumberRepr::Int(i) => Some(i),
            _ => None,
        }
    }

    pub fn as_u64(&self) -> Option<u64> {
        match self.0 {
            NumberRepr::Int(i) => u64::try_from(i).ok(),
            NumberRepr::UInt(u) => Some(u),
            _ => None,
        }
    }

    /// Nearest `f64` (may round for long decimals).
    pub fn as_f64(&self) -> f64 {
        match &self.0 {
            NumberRepr::Int(i) => *i as f64,
            NumberRepr::UInt(u) => *u as f64,
            NumberRepr::Float(f) => *f,
            NumberRepr::Decimal(d) => d.parse().unwrap_or(f64::NAN),
        }
    }

    pub fn is_integer(&self) -> bool {
        match &self.0 {
            NumberRepr::Int(_) | NumberRepr::UInt(_) => true,
            NumberRepr::Float(f) => f.fract() == 0.0,
            NumberRepr::Decimal(d) => !d.contains('.'),
        }
    }

    pub fn is_infinite(&self) -> bool {
        matches!(self.0, NumberRepr::Float(f) if f.is_infinite())
    }

    /// Exact decimal text (for infinities `+Inf`/`-Inf`); equal numbers give equal text.
    pub fn to_decimal_string(&self) -> String {
        match &self.0 {
            NumberRepr::Int(i) => i.to_string(),
            NumberRepr::UInt(u) => u.to_string(),
            NumberRepr::Float(f) if f.is_infinite() => {
                (if *f > 0.0 { "+Inf" } else { "-Inf" }).to_owned()
            }
            // Rust prints the shortest text that reads back as the same f64; reparse to normalise it.
            NumberRepr::Float(f) => match Number::parse(&format!("{f}")) {
                Ok(n) if !matches!(n.0, NumberRepr::Float(_)) => n.to_decimal_string(),
                _ => format!("{f}"),
            },
            NumberRepr::Decimal(d) => d.clone(),
        }
    }

    pub(crate) fn wire(&self) -> WireNumber<'_> {
        match &self.0 {
            NumberRepr::Int(i) => WireNumber::Int(*i),
            NumberRepr::UInt(u) => WireNumber::UInt(*u),
            NumberRepr::Float(f) => WireNumber::Float(*f),
            NumberRepr::Decimal(d) => WireNumber::Decimal(d),
        }
    }
}

/// How a codec should write a number.
pub(crate) enum WireNumber<'a> {
    Int(i64),
    UInt(u64),
    Float(f64),
    Decimal(&'a str),
}

impl PartialEq for Number {
    fn eq(&self, other: &Self) -> bool {
        match (&self.0, &other.0) {
            (NumberRepr::Int(a), NumberRepr::Int(b)) => a == b,
            _ => self.to_decimal_string() == other.to_decimal_string(),
        }
    }
}

impl fmt::Display for Number {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string())
    }
}

/// What is known about a value that is not yet known (cty "refinements"), so Terraform can e.g. decide
/// `x != null` before apply.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Refinements {
    /// `Some(false)`: definitely not null. `Some(true)` is representable on the wire but means "null".
    pub is_null: Option<bool>,
    /// Known prefix of an unknown string.
    pub string_prefix: Option<String>,
    /// Lower bound of an unknown number and whether it is inclusive.
    pub number_lower: Option<(Number, bool)>,
    /// Upper bound of an unknown number and whether it is inclusive.
    pub number_upper: Option<(Number, bool)>,
    /// Minimum length of an unknown collection.
    pub length_lower: Option<u64>,
    /// Maximum length of an unknown collection.
    pub length_upper: Option<u64>,
}

impl Refinements {
    pub fn not_null() -> Self {
        Refinements {
            is_null: Some(false),
            ..Default::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        *self == Refinements::default()
    }
}

/// A concretely-typed value in a `DynamicPseudoType` position.
#[derive(Clone, Debug, PartialEq)]
pub struct Typed {
    pub ty: Type,
    pub value: Value,
}

/// A Terraform value. Types come from the schema when decoding; values under a dynamic type carry theirs in
/// [`Value::Dynamic`].
#[derive(Clone, Debug, Default)]
pub enum Value {
    #[default]
    Null,
    /// Not known until apply. `None` means nothing more is known.
    Unknown(Option<Box<Refinements>>),
    Bool(bool),
    Number(Number),
    String(String),
    List(Vec<Value>),
    /// Elements are unique; order carries no meaning.
    Set(Vec<Value>),
    Map(BTreeMap<String, Value>),
    Object(BTreeMap<String, Value>),
    Tuple(Vec<Value>),
    Dynamic(Box<Typed>),
}

static NULL: Value = Value::Null;

impl Value {
    pub fn unknown() -> Value {
        Value::Unknown(None)
    }

    pub fn unknown_refined(refinements: Refinements) -> Value {
        if refinements.is_empty() {
            Value::Unknown(None)
        } else {
            Value::Unknown(Some(Box::new(refinements)))
        }
    }

    /// A set from possibly repeated elements (duplicates are dropped, first occurrence kept).
    pub fn set<I: IntoIterator<Item = Value>>(elements: I) -> Value {
        let mut unique: Vec<Value> = Vec::new();
        let mut seen: HashMap<u64, Vec<usize>> = HashMap::new();
        for element in elements {
            let bucket = seen.entry(hash_of(&element)).or_default();
            if !bucket.iter().any(|&i| unique[i] == element) {
                bucket.push(unique.len());
                unique.push(element);
            }
        }
        Value::Set(unique)
    }

    pub fn list<I: IntoIterator<Item = Value>>(elements: I) -> Value {
        Value::List(elements.into_iter().collect())
    }

    pub fn map<I, K>(entries: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Map(entries.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// An object from `(name, value)` pairs; attributes the schema has but the pairs omit are filled with null
    /// when the value is returned to Terraform.
    pub fn object<I, K>(attributes: I) -> Value
    where
        I: IntoIterator<Item = (K, Value)>,
        K: Into<String>,
    {
        Value::Object(attributes.into_iter().map(|(k, v)| (k.into(), v)).collect())
    }

    /// A value for a dynamic position with an explicit type.
    pub fn dynamic(ty: Type, value: Value) -> Value {
        Value::Dynamic(Box::new(Typed { ty, value }))
    }

    /// Looks through [`Value::Dynamic`] wrappers.
    pub fn inner(&self) -> &Value {
        match self {
            Value::Dynamic(typed) => typed.value.inner(),
            other => other,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.inner(), Value::Null)
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self.inner(), Value::Unknown(_))
    }

    /// Known and not null.
    pub fn is_present(&self) -> bool {
        !self.is_null() && !self.is_unknown()
    }

    /// No unknown anywhere inside.
    pub fn is_wholly_known(&self) -> bool {
        match self.inner() {
            Value::Unknown(_) => false,
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => {
                items.iter().all(Value::is_wholly_known)
            }
            Value::Map(entries) | Value::Object(entries) => {
                entries.values().all(Value::is_wholly_known)
            }
            _ => true,
        }
    }

    pub fn refinements(&self) -> Option<&Refinements> {
        match self.inner() {
            Value::Unknown(Some(r)) => Some(r),
            _ => None,
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match self.inner() {
            Value::String(s) => Some(s),
            _ => None,
        }
    }

    pub fn as_bool(&self) -> Option<bool> {
        match self.inner() {
            Value::Bool(b) => Some(*b),
            _ => None,
        }
    }

    pub fn as_number(&self) -> Option<&Number> {
        match self.inner() {
            Value::Number(n) => Some(n),
            _ => None,
        }
    }

    pub fn as_i64(&self) -> Option<i64> {
        self.as_number().and_then(Number::as_i64)
    }

    pub fn as_f64(&self) -> Option<f64> {
        self.as_number().map(Number::as_f64)
    }

    /// Elements of a list, set or tuple.
    pub fn elements(&self) -> Option<&[Value]> {
        match self.inner() {
            Value::List(items) | Value::Set(items) | Value::Tuple(items) => Some(items),
            _ => None,
        }
    }

    /// Elements of a list, set or tuple; empty for null, unknown or other kinds.
    pub fn iter(&self) -> std::slice::Iter<'_, Value> {
        self.elements().unwrap_or(&[]).iter()
    }

    /// Strings of a list or set of strings (non-strings skipped).
    pub fn string_elements(&self) -> Vec<&str> {
        self.iter().filter_map(Value::as_str).collect()
    }

    /// Entries of a map or attributes of an object.
    pub fn as_map(&self) -> Option<&BTreeMap<String, Value>> {
        match self.inner() {
            Value::Map(entries) | Value::Object(entries) => Some(entries),
            _ => None,
        }
    }

    /// Attribute of an object (or map entry); null when absent, so chains like
    /// `state.get("timeouts").get("create").as_str()` never panic.
    pub fn get(&self, name: &str) -> &Value {
        self.as_map().and_then(|m| m.get(name)).unwrap_or(&NULL)
    }

    /// Attribute as a string, `None` when null, unknown or not a string.
    pub fn get_str(&self, name: &str) -> Option<&str> {
        self.get(name).as_str()
    }

    /// Attribute as a bool, `None` when null, unknown or not a bool.
    pub fn get_bool(&self, name: &str) -> Option<bool> {
        self.get(name).as_bool()
    }

    /// Attribute as an `i64`, `None` when null, unknown, fractional or out of range.
    pub fn get_i64(&self, name: &str) -> Option<i64> {
        self.get(name).as_i64()
    }

    /// Sets an attribute of an object or entry of a map; turns null into an empty object first.
    pub fn set_attr(&mut self, name: impl Into<String>, value: impl Into<Value>) {
        if matches!(self, Value::Null) {
            *self = Value::Object(BTreeMap::new());
        }
        match self {
            Value::Object(entries) | Value::Map(entries) => {
                entries.insert(name.into(), value.into());
            }
            Value::Dynamic(typed) => typed.value.set_attr(name, value),
            _ => {}
        }
    }

    /// Builder form of [`Value::set_attr`].
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set_attr(name, value);
        self
    }

    /// Value at `path` (`None` if the path leaves the value or passes a null/unknown).
    pub fn at_path(&self, path: &AttributePath) -> Option<&Value> {
        let mut current = self;
        for step in path.steps() {
            current = match (step, current.inner()) {
                (PathStep::Attribute(name), Value::Object(entries)) => entries.get(name)?,
                (PathStep::Key(key), Value::Map(entries)) => entries.get(key)?,
                (PathStep::Index(i), Value::List(items) | Value::Tuple(items)) => {
                    items.get(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(current)
    }

    /// Mutable value at `path`.
    pub fn at_path_mut(&mut self, path: &AttributePath) -> Option<&mut Value> {
        let mut current = self;
        for step in path.steps() {
            while let Value::Dynamic(typed) = current {
                current = &mut typed.value;
            }
            current = match (step, current) {
                (PathStep::Attribute(name), Value::Object(entries)) => entries.get_mut(name)?,
                (PathStep::Key(key), Value::Map(entries)) => entries.get_mut(key)?,
                (PathStep::Index(i), Value::List(items) | Value::Tuple(items)) => {
                    items.get_mut(usize::try_from(*i).ok()?)?
                }
                _ => return None,
            };
        }
        Some(current)
    }

    /// Best-effort type of a value built by resource code, used when it lands in a dynamic position
    /// without an explicit [`Value::Dynamic`] wrapper.
    pub fn implied_type(&self) -> Type {
        let element_type =
            |items: &[Value]| items.first().map_or(Type::Dynamic, Value::implied_type);
        match self {
            Value::Null | Value::Unknown(_) => Type::Dynamic,
            Value::Bool(_) => Type::Bool,
            Value::Number(_) => Type::Number,
            Value::String(_) => Type::String,
            Value::List(items) => Type::list(element_type(items)),
            Value::Set(items) => Type::set(element_type(items)),
            Value::Tuple(items) => Type::Tuple(items.iter().map(Value::implied_type).collect()),
            Value::Map(entries) => Type::map(
                entries
                    .values()
                    .next()
                    .map_or(Type::Dynamic, Value::implied_type),
            ),
            Value::Object(entries) => {
                Type::object(entries.iter().map(|(k, v)| (k.clone(), v.implied_type())))
            }
            Value::Dynamic(typed) => typed.ty.clone(),
        }
    }
}

impl PartialEq for Value {
    /// Semantic equality: numbers by value, sets ignoring order, dynamic wrappers by their content.
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Value::Dynamic(a), Value::Dynamic(b)) => a.ty == b.ty && a.value == b.value,
            (Value::Dynamic(a), b) => a.value == *b,
            (a, Value::Dynamic(b)) => *a == b.value,
            (Value::Null, Value::Null) => true,
            (Value::Unknown(a), Value::Unknown(b)) => {
                a.as_deref().unwrap_or(&Refinements::default())
                    == b.as_deref().unwrap_or(&Refinements::default())
            }
            (Value::Bool(a), Value::Bool(b)) => a == b,
            (Value::Number(a), Value::Number(b)) => a == b,
            (Value::String(a), Value::String(b)) => a == b,
            (Value::List(a), Value::List(b)) | (Value::Tuple(a), Value::Tuple(b)) => a == b,
            (Value::Set(a), Value::Set(b)) => same_elements(a, b),
            (Value::Map(a), Value::Map(b)) | (Value::Object(a), Value::Object(b)) => a == b,
            _ => false,
        }
    }
}

/// Hash consistent with the semantic equality above: numbers by value, sets order-independent, dynamic
/// wrappers by content, unknowns all alike (equality still tells refinements apart).
impl Hash for Value {
    fn hash<H: Hasher>(&self, state: &mut H) {
        match self.inner() {
            Value::Null => state.write_u8(0),
            Value::Unknown(_) => state.write_u8(1),
            Value::Bool(b) => {
                state.write_u8(2);
                b.hash(state);
            }
            Value::Number(n) => {
                state.write_u8(3);
                n.to_decimal_string().hash(state);
            }
            Value::String(s) => {
                state.write_u8(4);
                s.hash(state);
            }
            Value::List(items) | Value::Tuple(items) => {
                state.write_u8(5);
                items.hash(state);
            }
            Value::Set(items) => {
                state.write_u8(6);
                state.write_u64(items.iter().map(hash_of).fold(0u64, u64::wrapping_add));
            }
            Value::Map(entries) | Value::Object(entries) => {
                state.write_u8(7);
                entries.hash(state);
            }
            Value::Dynamic(_) => unreachable!("inner() looks through dynamic wrappers"),
        }
    }
}

fn hash_of(value: &Value) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Multiset equality in linear time (plus hash collisions): large sets such as group memberships are
/// compared on every plan.
fn same_elements(a: &[Value], b: &[Value]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    if a.iter().zip(b).all(|(x, y)| x == y) {
        return true;
    }
    let mut unmatched: HashMap<u64, Vec<&Value>> = HashMap::new();
    for x in a {
        unmatched.entry(hash_of(x)).or_default().push(x);
    }
    b.iter().all(|y| {
        let Some(bucket) = unmatched.get_mut(&hash_of(y)) else {
            return false;
        };
        match bucket.iter().position(|x| *x == y) {
            Some(i) => {
                bucket.swap_remove(i);
                true
            }
            None => false,
        }
    })
}

impl From<bool> for Value {
    fn from(v: bool) -> Self {
        Value::Bool(v)
    }
}

impl From<&str> for Value {
    fn from(v: &str) -> Self {
        Value::String(v.to_owned())
    }
}

impl From<String> for Value {
    fn from(v: String) -> Self {
        Value::String(v)
    }
}

impl From<&String> for Value {
    fn from(v: &String) -> Self {
        Value::String(v.clone())
    }
}

impl From<i64> for Value {
    fn from(v: i64) -> Self {
        Value::Number(Number::from_i64(v))
    }
}

impl From<i32> for Value {
    fn from(v: i32) -> Self {
        Value::Number(Number::from_i64(v.into()))
    }
}

impl From<u32> for Value {
    fn from(v: u32) -> Self {
        Value::Number(Number::from_i64(v.into()))
    }
}

impl From<u64> for Value {
    fn from(v: u64) -> Self {
        Value::Number(Number::from_u64(v))
    }
}

impl From<f64> for Value {
    /// NaN becomes null: Terraform has no NaN.
    fn from(v: f64) -> Self {
        Number::from_f64(v).map_or(Value::Null, Value::Number)
    }
}

impl From<Number> for Value {
    fn from(v: Number) -> Self {
        Value::Number(v)
    }
}

impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(v: Option<T>) -> Self {
        v.map_or(Value::Null, Into::into)
    }
}

impl<T: Into<Value>> From<Vec<T>> for Value {
    /// A list; use [`Value::set`] for sets.
    fn from(v: Vec<T>) -> Self {
        Value::List(v.into_iter().map(Into::into).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_parse_exactly_and_normalise() {
        assert_eq!(Number::parse("42").unwrap().as_i64(), Some(42));
        assert_eq!(Number::parse("-0").unwrap().as_i64(), Some(0));
        assert_eq!(Number::parse("1e3").unwrap().as_i64(), Some(1000));
        assert_eq!(
            Number::parse("18446744073709551615").unwrap().as_u64(),
            Some(u64::MAX)
        );
        let big = Number::parse("123456789012345678901234567890.000").unwrap();
        assert_eq!(big.to_decimal_string(), "123456789012345678901234567890");
        assert!(big.is_integer());
        assert_eq!(
            Number::parse("0.00012500").unwrap().to_decimal_string(),
            "0.000125"
        );
        assert_eq!(
            Number::parse("1.25e-2").unwrap().to_decimal_string(),
            "0.0125"
        );
        assert_eq!(Number::parse("-3.5E1").unwrap().to_decimal_string(), "-35");
        for bad in ["", "abc", "1.2.3", "--1", "1e", "1e99999", "."] {
            assert!(Number::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn numbers_compare_by_value() {
        assert_eq!(Number::from_f64(2.0).unwrap(), Number::from_i64(2));
        assert_eq!(
            Number::from_f64(0.1).unwrap(),
            Number::parse("0.1").unwrap()
        );
        assert_ne!(
            Number::parse("0.1000000000000000000001").unwrap(),
            Number::from_f64(0.1).unwrap()
        );
        assert!(Number::from_f64(f64::NAN).is_none());
    }

    #[test]
    fn accessors_and_paths() {
        let mut v = Value::object([
            ("name", Value::from("alice")),
            ("count", Value::from(3)),
            ("tags", Value::map([("env", Value::from("prod"))])),
            (
                "members",
                Value::list([Value::object([("id", Value::from("m1"))])]),
            ),
        ]);
        assert_eq!(v.get_str("name"), Some("alice"));
        assert_eq!(v.get("count").as_i64(), Some(3));
        assert_eq!(v.get_i64("count"), Some(3));
        assert_eq!(v.get_bool("count"), None);
        assert!(v.get("missing").get("deeper").is_null());
        let path = AttributePath::new("members").index(0).attribute("id");
        assert_eq!(v.at_path(&path).and_then(Value::as_str), Some("m1"));
        *v.at_path_mut(&AttributePath::new("tags").key("env"))
            .unwrap() = Value::from("dev");
        assert_eq!(v.get("tags").get_str("env"), Some("dev"));
        assert_eq!(v.get("members").iter().count(), 1);
    }

    #[test]
    fn sets_compare_without_order_and_deduplicate() {
        let a = Value::set([Value::from("x"), Value::from("y"), Value::from("x")]);
        assert_eq!(a.elements().unwrap().len(), 2);
        assert_eq!(a, Value::set([Value::from("y"), Value::from("x")]));
        assert_ne!(a, Value::list([Value::from("x"), Value::from("y")]));
    }

    #[test]
    fn large_sets_deduplicate_and_compare_quickly() {
        let members: Vec<Value> = (0..20_000)
            .map(|i| Value::from(format!("user-{i}")))
            .collect();
        let forward = Value::set(members.iter().cloned().chain(members.iter().cloned()));
        assert_eq!(forward.elements().unwrap().len(), 20_000);
        let backward = Value::set(members.iter().rev().cloned());
        assert_eq!(forward, backward);
        let mut changed: Vec<Value> = members.clone();
        changed[123] = Value::from("someone-else");
        assert_ne!(forward, Value::set(changed));
        // Equal numbers in different representations hash alike.
        assert_eq!(
            Value::set([Value::from(1), Value::from(1.0)])
                .elements()
                .unwrap()
                .len(),
            1
        );
        // Duplicates on one side are not matched twice.
        assert_ne!(
            Value::Set(vec![Value::from("a"), Value::from("a")]),
            Value::Set(vec![Value::from("a"), Value::from("b")])
        );
    }

    #[test]
    fn wholly_known_and_dynamic_transparency() {
        let v = Value::list([Value::from(1), Value::unknown()]);
        assert!(!v.is_wholly_known());
        let d = Value::dynamic(Type::String, Value::from("s"));
        assert_eq!(d.as_str(), Some("s"));
        assert_eq!(d, Value::from("s"));
        assert_eq!(Value::from(Some(5)).as_i64(), Some(5));
        assert!(Value::from(None::<i64>).is_null());
    }
}
