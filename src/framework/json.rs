//! JSON codec for values (`DynamicValue.json`, `RawState.json`), following cty's JSON rules: objects keyed
//! by attribute name (missing attributes read as null), dynamic values as `{"value":..,"type":..}`, numbers
//! as exact decimal literals. Parsed with our own reader so big numbers never pass through `f64`.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use super::path::{AttributePath, PathStep};
use super::types::Type;
use super::value::{Number, Value, WireNumber};

/// A parsed JSON document; numbers keep their source text.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Json {
    Null,
    Bool(bool),
    Number(String),
    String(String),
    Array(Vec<Json>),
    /// Members in document order.
    Object(Vec<(String, Json)>),
}

/// A JSON value could not be read or does not fit its type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonError {
    #[error("invalid JSON at byte {offset}: {message}")]
    Syntax { offset: usize, message: String },
    #[error("{path}: {message}")]
    Value { path: String, message: String },
}

/// Nesting deeper than this is refused rather than risking stack exhaustion on hostile input.
const MAX_DEPTH: usize = 512;

pub(crate) fn parse(bytes: &[u8]) -> Result<Json, JsonError> {
    let text = std::str::from_utf8(bytes).map_err(|e| JsonError::Syntax {
        offset: e.valid_up_to(),
        message: "not UTF-8".into(),
    })?;
    let mut reader = Reader { text, pos: 0 };
    let doc = reader.value(0)?;
    reader.skip_whitespace();
    if reader.pos != text.len() {
        return Err(reader.error("trailing data"));
    }
    Ok(doc)
}

struct Reader<'a> {
    text: &'a str,
    pos: usize,
}

impl Reader<'_> {
    fn error(&self, message: &str) -> JsonError {
        JsonError::Syntax {
            offset: self.pos,
            message: message.to_owned(),
        }
    }

    fn skip_whitespace(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    fn expect_literal(&mut self, literal: &str, value: Json) -> Result<Json, JsonError> {
        if self.text[self.pos..].starts_with(literal) {
            self.pos += literal.len();
            Ok(value)
        } else {
            Err(self.error("unexpected token"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Json, JsonError> {
        if depth > MAX_DEPTH {
            return Err(self.error("nested too deeply"));
        }
        self.skip_whitespace();
        match self.peek() {
            Some(b'n') => self.expect_literal("null", Json::Null),
            Some(b't') => self.expect_literal("true", Json::Bool(true)),
            Some(b'f') => self.expect_literal("false", Json::Bool(false)),
            Some(b'"') => Ok(Json::String(self.string()?)),
            Some(b'[') => {
                self.pos += 1;
                let mut items = Vec::new();
                self.skip_whitespace();
                if self.peek() == Some(b']') {
                    self.pos += 1;
                    return Ok(Json::Array(items));
                }
                loop {
                    items.push(self.value(depth + 1)?);
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b']') => {
                            self.pos += 1;
                            return Ok(Json::Array(items));
                        }
                        _ => return Err(self.error("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                self.pos += 1;
                let mut members = Vec::new();
                self.skip_whitespace();
                if self.peek() == Some(b'}') {
                    self.pos += 1;
                    return Ok(Json::Object(members));
                }
                loop {
                    self.skip_whitespace();
                    if self.peek() != Some(b'"') {
                        return Err(self.error("expected object key"));
                    }
                    let key = self.string()?;
                    self.skip_whitespace();
                    if self.peek() != Some(b':') {
                        return Err(self.error("expected :"));
                    }
                    self.pos += 1;
                    members.push((key, self.value(depth + 1)?));
                    self.skip_whitespace();
                    match self.peek() {
                        Some(b',') => self.pos += 1,
                        Some(b'}') => {
                            self.pos += 1;
                            return Ok(Json::Object(members));
                        }
                        _ => return Err(self.error("expected , or }")),
                    }
                }
            }
            Some(b'-' | b'0'..=b'9') => {
                let start = self.pos;
                while let Some(b'-' | b'+' | b'.' | b'e' | b'E' | b'0'..=b'9') = self.peek() {
                    self.pos += 1;
                }
                Ok(Json::Number(self.text[start..self.pos].to_owned()))
            }
            _ => Err(self.error("unexpected character")),
        }
    }

    fn string(&mut self) -> Result<String, JsonError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let rest = &self.text[self.pos..];
            let Some(at) = rest.find(['"', '\\']) else {
                return Err(self.error("unterminated string"));
            };
            if rest[..at].chars().any(|c| (c as u32) < 0x20) {
                return Err(self.error("control character in string"));
            }
            out.push_str(&rest[..at]);
            self.pos += at;
            if self.peek() == Some(b'"') {
                self.pos += 1;
                return Ok(out);
            }
            self.pos += 1; // backslash
            let escape = self
                .peek()
                .ok_or_else(|| self.error("unterminated escape"))?;
            self.pos += 1;
            match escape {
                b'"' => out.push('"'),
                b'\\' => out.push('\\'),
                b'/' => out.push('/'),
                b'b' => out.push('\u{8}'),
                b'f' => out.push('\u{c}'),
                b'n' => out.push('\n'),
                b'r' => out.push('\r'),
                b't' => out.push('\t'),
                b'u' => {
                    let first = self.hex4()?;
                    let code = if (0xD800..0xDC00).contains(&first)
                        && self.text[self.pos..].starts_with("\\u")
                    {
                        self.pos += 2;
                        let second = self.hex4()?;
                        if !(0xDC00..0xE000).contains(&second) {
                            return Err(self.error("invalid surrogate pair"));
                        }
                        0x10000 + ((first - 0xD800) << 10) + (second - 0xDC00)
                    } else {
                        first
                    };
                    out.push(char::from_u32(code).ok_or_else(|| self.error("invalid \\u escape"))?);
                }
                _ => return Err(self.error("invalid escape")),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let digits = self
            .text
            .get(self.pos..self.pos + 4)
            .ok_or_else(|| self.error("short \\u escape"))?;
        let code = u32::from_str_radix(digits, 16).map_err(|_| self.error("invalid \\u escape"))?;
        self.pos += 4;
        Ok(code)
    }
}

/// Appends `s` as a JSON string literal.
pub(crate) fn write_string(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

fn value_error(path: &AttributePath, message: impl Into<String>) -> JsonError {
    JsonError::Value {
        path: path.to_string(),
        message: message.into(),
    }
}

/// Options for reading JSON state.
#[derive(Clone, Copy, Debug, Default)]
pub struct JsonDecodeOptions {
    /// Drop object attributes the type does not know (state written by an older schema of the same
    /// version) instead of failing.
    pub ignore_undefined_attributes: bool,
}

/// Decodes a JSON value of type `ty`.
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, JsonError> {
    decode_with(bytes, ty, JsonDecodeOptions::default())
}

pub fn decode_with(
    bytes: &[u8],
    ty: &Type,
    options: JsonDecodeOptions,
) -> Result<Value, JsonError> {
    let doc = parse(bytes)?;
    from_tree(&doc, ty, &AttributePath::root(), options)
}

fn from_tree(
    doc: &Json,
    ty: &Type,
    path: &AttributePath,
    options: JsonDecodeOptions,
) -> Result<Value, JsonError> {
    if *doc == Json::Null {
        return Ok(Value::Null);
    }
    match ty {
        Type::Dynamic => {
            let Json::Object(members) = doc else {
                return Err(value_error(
                    path,
                    "dynamic value must be an object with \"type\" and \"value\"",
                ));
            };
            let mut inner_type = None;
            let mut inner_value = None;
            for (key, member) in members {
                match key.as_str() {
                    "type" => {
                        inner_type = Some(
                            Type::from_json_tree(member)
                                .map_err(|e| value_error(path, e.to_string()))?,
                        )
                    }
                    "value" => inner_value = Some(member),
                    other => {
                        return Err(value_error(
                            path,
                            format!("invalid key {other:?} in dynamic value"),
                        ));
                    }
                }
            }
            let (Some(inner_type), Some(inner_value)) = (inner_type, inner_value) else {
                return Err(value_error(
                    path,
                    "dynamic value needs both \"type\" and \"value\"",
                ));
            };
            let value = from_tree(inner_value, &inner_type, path, options)?;
            Ok(Value::dynamic(inner_type, value))
        }
        Type::Bool => match doc {
            Json::Bool(b) => Ok(Value::Bool(*b)),
            Json::String(s) if s == "true" => Ok(Value::Bool(true)),
            Json::String(s) if s == "false" => Ok(Value::Bool(false)),
            _ => Err(value_error(path, "bool is required")),
        },
        Type::Number => match doc {
            Json::Number(text) | Json::String(text) => Number::parse(text)
                .map(Value::Number)
                .map_err(|e| value_error(path, e.to_string())),
            _ => Err(value_error(path, "number is required")),
        },
        Type::String => match doc {
            Json::String(s) | Json::Number(s) => Ok(Value::String(s.clone())),
            Json::Bool(b) => Ok(Value::String(b.to_string())),
            _ => Err(value_error(path, "string is required")),
        },
        Type::List(element) | Type::Set(element) => {
            let Json::Array(items) = doc else {
                return Err(value_error(path, format!("{ty} is required")));
            };
            let values = items
                .iter()
                .enumerate()
                .map(|(i, item)| {
                    from_tree(
                        item,
                        element,
                        &path.child(PathStep::Index(i as i64)),
                        options,
                    )
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(if matches!(ty, Type::Set(_)) {
                Value::set(values)
            } else {
                Value::List(values)
            })
        }
        Type::Tuple(elements) => {
            let Json::Array(items) = doc else {
                return Err(value_error(path, "tuple is required"));
            };
            if items.len() != elements.len() {
                return Err(value_error(
                    path,
                    format!("tuple of length {} is required", elements.len()),
                ));
            }
            let values = items
                .iter()
                .zip(elements)
                .enumerate()
                .map(|(i, (item, ety))| {
                    from_tree(item, ety, &path.child(PathStep::Index(i as i64)), options)
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Value::Tuple(values))
        }
        Type::Map(element) => {
            let Json::Object(members) = doc else {
                return Err(value_error(path, format!("{ty} is required")));
            };
            let mut entries = BTreeMap::new();
            for (key, member) in members {
                entries.insert(
                    key.clone(),
                    from_tree(
                        member,
                        element,
                        &path.child(PathStep::Key(key.clone())),
                        options,
                    )?,
                );
            }
            Ok(Value::Map(entries))
        }
        Type::Object(object) => {
            let Json::Object(members) = doc else {
                return Err(value_error(path, "object is required"));
            };
            let mut entries = BTreeMap::new();
            for (key, member) in members {
                let Some(aty) = object.attributes.get(key) else {
                    if options.ignore_undefined_attributes {
                        continue;
                    }
                    return Err(value_error(path, format!("unsupported attribute {key:?}")));
                };
                entries.insert(
                    key.clone(),
                    from_tree(
                        member,
                        aty,
                        &path.child(PathStep::Attribute(key.clone())),
                        options,
                    )?,
                );
            }
            for name in object.attributes.keys() {
                entries.entry(name.clone()).or_insert(Value::Null);
            }
            Ok(Value::Object(entries))
        }
    }
}

/// Encodes a wholly known value of type `ty` as JSON.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, JsonError> {
    let mut out = String::new();
    write_value(&mut out, value, ty, &AttributePath::root())?;
    Ok(out.into_bytes())
}

fn write_value(
    out: &mut String,
    value: &Value,
    ty: &Type,
    path: &AttributePath,
) -> Result<(), JsonError> {
    if let Value::Unknown(_) = value.inner() {
        return Err(value_error(
            path,
            "unknown values cannot be written as JSON",
        ));
    }
    if *ty == Type::Dynamic {
        let (inner_ty, inner) = match value {
            Value::Dynamic(typed) => (typed.ty.clone(), &typed.value),
            Value::Null => {
                out.push_str("null");
                return Ok(());
            }
            other => (other.implied_type(), other),
        };
        if inner_ty == Type::Dynamic {
            return write_value(out, inner, &Type::Dynamic, path);
        }
        out.push_str("{\"value\":");
        write_value(out, inner, &inner_ty, path)?;
        out.push_str(",\"type\":");
        out.push_str(std::str::from_utf8(&inner_ty.to_json()).unwrap_or("\"dynamic\""));
        out.push('}');
        return Ok(());
    }
    let value = value.inner();
    if value.is_null() {
        out.push_str("null");
        return Ok(());
    }
    let mismatch = || value_error(path, format!("{ty} is required"));
    match (ty, value) {
        (Type::Bool, Value::Bool(b)) => out.push_str(if *b { "true" } else { "false" }),
        (Type::Number, Value::Number(n)) => match n.wire() {
            WireNumber::Float(f) if f.is_infinite() => {
                return Err(value_error(path, "infinity cannot be written as JSON"));
            }
            _ => out.push_str(&n.to_decimal_string()),
        },
        (Type::String, Value::String(s)) => write_string(out, s),
        (Type::List(element), Value::List(items))
        | (Type::Set(element), Value::Set(items) | Value::List(items)) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, element, &path.child(PathStep::Index(i as i64)))?;
            }
            out.push(']');
        }
        (Type::Tuple(elements), Value::Tuple(items) | Value::List(items)) => {
            if elements.len() != items.len() {
                return Err(mismatch());
            }
            out.push('[');
            for (i, (item, ety)) in items.iter().zip(elements).enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, item, ety, &path.child(PathStep::Index(i as i64)))?;
            }
            out.push(']');
        }
        (Type::Map(element), Value::Map(entries) | Value::Object(entries)) => {
            out.push('{');
            for (i, (key, item)) in entries.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, key);
                out.push(':');
                write_value(out, item, element, &path.child(PathStep::Key(key.clone())))?;
            }
            out.push('}');
        }
        (Type::Object(object), Value::Object(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !object.attributes.contains_key(*k)) {
                return Err(value_error(
                    path,
                    format!("unsupported attribute {extra:?}"),
                ));
            }
            out.push('{');
            for (i, (name, aty)) in object.attributes.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(out, name);
                out.push(':');
                let item = entries.get(name).unwrap_or(&Value::Null);
                write_value(
                    out,
                    item,
                    aty,
                    &path.child(PathStep::Attribute(name.clone())),
                )?;
            }
            out.push('}');
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: &Value, ty: &Type) -> Value {
        let bytes = encode(value, ty).unwrap();
        decode(&bytes, ty).unwrap()
    }

    #[test]
    fn object_with_all_kinds_round_trips() {
        let ty = Type::object([
            ("s", Type::String),
            ("n", Type::Number),
            ("b", Type::Bool),
            ("l", Type::list(Type::String)),
            ("m", Type::map(Type::Number)),
            ("t", Type::tuple(vec![Type::String, Type::Bool])),
            (
                "members",
                Type::set(Type::object([
                    ("id", Type::String),
                    ("weight", Type::Number),
                ])),
            ),
        ]);
        let value = Value::object([
            ("s", Value::from("quote \" and \\ and \u{1} and é")),
            (
                "n",
                Value::Number(Number::parse("123456789012345678901234567890.125").unwrap()),
            ),
            ("b", Value::from(true)),
            ("l", Value::list([Value::from("a"), Value::Null])),
            (
                "m",
                Value::map([("x", Value::from(1.5)), ("y", Value::from(-7))]),
            ),
            (
                "t",
                Value::Tuple(vec![Value::from("z"), Value::from(false)]),
            ),
            (
                "members",
                Value::set([
                    Value::object([("id", Value::from("m1")), ("weight", Value::from(1))]),
                    Value::object([("id", Value::from("m2")), ("weight", Value::Null)]),
                ]),
            ),
        ]);
        assert_eq!(round_trip(&value, &ty), value);
        let text = String::from_utf8(encode(&value, &ty).unwrap()).unwrap();
        assert!(
            text.contains("\"n\":123456789012345678901234567890.125"),
            "{text}"
        );
    }

    #[test]
    fn missing_attributes_read_as_null_and_unknown_ones_fail_unless_ignored() {
        let ty = Type::object([("a", Type::String), ("b", Type::Number)]);
        let value = decode(br#"{"a":"x"}"#, &ty).unwrap();
        assert!(value.get("b").is_null());
        assert!(matches!(
            value.as_map().unwrap().get("b"),
            Some(Value::Null)
        ));
        let err = decode(br#"{"a":"x","gone":1}"#, &ty).unwrap_err();
        assert!(err.to_string().contains("gone"), "{err}");
        let lenient = decode_with(
            br#"{"a":"x","gone":1}"#,
            &ty,
            JsonDecodeOptions {
                ignore_undefined_attributes: true,
            },
        )
        .unwrap();
        assert_eq!(lenient.get_str("a"), Some("x"));
    }

    #[test]
    fn dynamic_values_use_type_and_value_wrapper() {
        let ty = Type::object([("d", Type::Dynamic)]);
        let inner_ty = Type::object([("k", Type::list(Type::Dynamic))]);
        let nested = Value::dynamic(Type::Number, Value::from(5));
        let value = Value::object([(
            "d",
            Value::dynamic(
                inner_ty.clone(),
                Value::object([("k", Value::list([nested]))]),
            ),
        )]);
        let bytes = encode(&value, &ty).unwrap();
        let text = String::from_utf8(bytes.clone()).unwrap();
        assert_eq!(
            text,
            r#"{"d":{"value":{"k":[{"value":5,"type":"number"}]},"type":["object",{"k":["list","dynamic"]}]}}"#
        );
        let back = decode(&bytes, &ty).unwrap();
        assert_eq!(back, value);
        let Value::Dynamic(typed) = back.get("d") else {
            panic!("not dynamic")
        };
        assert_eq!(typed.ty, inner_ty);
        assert!(decode(br#"{"d":{"value":1}}"#, &ty).is_err());
    }

    #[test]
    fn lenient_primitive_conversions_match_cty() {
        assert_eq!(
            decode(br#""true""#, &Type::Bool).unwrap(),
            Value::from(true)
        );
        assert_eq!(decode(br#""12""#, &Type::Number).unwrap(), Value::from(12));
        assert_eq!(
            decode(br#"12.50"#, &Type::String).unwrap(),
            Value::from("12.50")
        );
        assert!(decode(br#"[1]"#, &Type::String).is_err());
    }

    #[test]
    fn unknown_values_and_infinity_cannot_be_json() {
        assert!(encode(&Value::unknown(), &Type::String).is_err());
        assert!(encode(&Value::from(f64::INFINITY), &Type::Number).is_err());
    }

    #[test]
    fn parser_handles_escapes_and_rejects_garbage() {
        let doc = parse(br#"{"a":"\u00e9\ud83d\ude00\n","b":[true,null,-1.5e3]}"#).unwrap();
        let Json::Object(members) = doc else { panic!() };
        assert_eq!(members[0].1, Json::String("é😀\n".into()));
        for bad in [&b"{"[..], b"[1,]", b"\"abc", b"nul", b"{\"a\" 1}", b"[1] 2"] {
            assert!(
                parse(bad).is_err(),
                "{:?} accepted",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = "[".repeat(MAX_DEPTH + 2);
        assert!(parse(deep.as_bytes()).is_err());
    }
}
