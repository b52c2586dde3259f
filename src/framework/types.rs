//! Terraform's type system (the cty types) and their JSON encoding, which is what the protocol carries in
//! `Schema.Attribute.type`, function signatures and the type half of dynamically-typed values.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use super::json::{self, Json};

/// A Terraform value type.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Type {
    Bool,
    Number,
    String,
    /// `DynamicPseudoType`: the concrete type travels with each value.
    Dynamic,
    List(Box<Type>),
    Set(Box<Type>),
    Map(Box<Type>),
    Object(ObjectType),
    Tuple(Vec<Type>),
}

/// Attribute types of an object type; `optional` only matters for type constraints (function parameters,
/// `Schema.Attribute.type` of user-supplied objects) and is carried in the JSON encoding.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ObjectType {
    pub attributes: BTreeMap<String, Type>,
    pub optional: BTreeSet<String>,
}

/// Why a JSON type description could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("invalid type description: {0}")]
pub struct TypeParseError(pub String);

impl Type {
    pub fn list(element: Type) -> Type {
        Type::List(Box::new(element))
    }

    pub fn set(element: Type) -> Type {
        Type::Set(Box::new(element))
    }

    pub fn map(element: Type) -> Type {
        Type::Map(Box::new(element))
    }

    /// An object type with every attribute required.
    pub fn object<I, K>(attributes: I) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
    {
        Type::Object(ObjectType {
            attributes: attributes.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: BTreeSet::new(),
        })
    }

    /// An object type whose `optional` attributes may be omitted by the caller (type constraints only).
    pub fn object_with_optional<I, K, O, S>(attributes: I, optional: O) -> Type
    where
        I: IntoIterator<Item = (K, Type)>,
        K: Into<String>,
        O: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Type::Object(ObjectType {
            attributes: attributes.into_iter().map(|(k, t)| (k.into(), t)).collect(),
            optional: optional.into_iter().map(Into::into).collect(),
        })
    }

    pub fn tuple(elements: Vec<Type>) -> Type {
        Type::Tuple(elements)
    }

    /// Element type of a list, set or map.
    pub fn element_type(&self) -> Option<&Type> {
        match self {
            Type::List(e) | Type::Set(e) | Type::Map(e) => Some(e),
            _ => None,
        }
    }

    pub fn is_collection(&self) -> bool {
        matches!(self, Type::List(_) | Type::Set(_) | Type::Map(_))
    }

    /// The JSON encoding used on the wire, e.g. `["list","string"]`, `["object",{"a":"number"},["a"]]`.
    pub fn to_json(&self) -> Vec<u8> {
        let mut out = String::new();
        self.write_json(&mut out);
        out.into_bytes()
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Type::Bool => out.push_str("\"bool\""),
            Type::Number => out.push_str("\"number\""),
            Type::String => out.push_str("\"string\""),
            Type::Dynamic => out.push_str("\"dynamic\""),
            Type::List(e) | Type::Set(e) | Type::Map(e) => {
                let kind = match self {
                    Type::List(_) => "list",
                    Type::Set(_) => "set",
                    _ => "map",
                };
                out.push_str("[\"");
                out.push_str(kind);
                out.push_str("\",");
                e.write_json(out);
                out.push(']');
            }
            Type::Object(obj) => {
                out.push_str("[\"object\",{");
                for (i, (name, ty)) in obj.attributes.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    json::write_string(out, name);
                    out.push(':');
                    ty.write_json(out);
                }
                out.push('}');
                if !obj.optional.is_empty() {
                    out.push_str(",[");
                    for (i, name) in obj.optional.iter().enumerate() {
                        if i > 0 {
                            out.push(',');
                        }
                        json::write_string(out, name);
                    }
                    out.push(']');
                }
                out.push(']');
            }
            Type::Tuple(elements) => {
                out.push_str("[\"tuple\",[");
                for (i, ty) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    ty.write_json(out);
                }
                out.push_str("]]");
            }
        }
    }

    /// Parses the wire JSON encoding of a type.
    pub fn from_json(bytes: &[u8]) -> Result<Type, TypeParseError> {
        let doc = json::parse(bytes).map_err(|e| TypeParseError(e.to_string()))?;
        Type::from_json_tree(&doc)
    }

    pub(crate) fn from_json_tree(doc: &Json) -> Result<Type, TypeParseError> {
        match doc {
            Json::String(name) => match name.as_str() {
                "bool" => Ok(Type::Bool),
                "number" => Ok(Type::Number),
                "string" => Ok(Type::String),
                "dynamic" => Ok(Type::Dynamic),
                other => Err(TypeParseError(format!("unknown primitive type {other:?}"))),
            },
            Json::Array(items) => {
                let kind = match items.first() {
                    Some(Json::String(kind)) => kind.as_str(),
                    _ => {
                        return Err(TypeParseError(
                            "complex type must start with its kind name".into(),
                        ));
                    }
                };
                let expect_len = |n: usize| {
                    if items.len() == n {
                        Ok(())
                    } else {
                        Err(TypeParseError(format!(
                            "{kind} type description has {} items",
                            items.len()
                        )))
                    }
                };
                match kind {
                    "list" | "set" | "map" => {
                        expect_len(2)?;
                        let element = Box::new(Type::from_json_tree(&items[1])?);
                        Ok(match kind {
                            "list" => Type::List(element),
                            "set" => Type::Set(element),
                            _ => Type::Map(element),
                        })
                    }
                    "object" => {
                        if items.len() != 2 && items.len() != 3 {
                            expect_len(2)?;
                        }
                        let Json::Object(members) = &items[1] else {
                            return Err(TypeParseError(
                                "object attribute types must be a JSON object".into(),
                            ));
                        };
                        let mut attributes = BTreeMap::new();
                        for (name, ty) in members {
                            attributes.insert(name.clone(), Type::from_json_tree(ty)?);
                        }
                        let mut optional = BTreeSet::new();
                        if let Some(names) = items.get(2) {
                            let Json::Array(names) = names else {
                                return Err(TypeParseError(
                                    "optional attribute names must be an array".into(),
                                ));
                            };
                            for name in names {
                                match name {
                                    Json::String(n) if attributes.contains_key(n) => {
                                        optional.insert(n.clone());
                                    }
                                    _ => {
                                        return Err(TypeParseError(format!(
                                            "invalid optional attribute {name:?}"
                                        )));
                                    }
                                }
                            }
                        }
                        Ok(Type::Object(ObjectType {
                            attributes,
                            optional,
                        }))
                    }
                    "tuple" => {
                        expect_len(2)?;
                        let Json::Array(elements) = &items[1] else {
                            return Err(TypeParseError(
                                "tuple element types must be an array".into(),
                            ));
                        };
                        Ok(Type::Tuple(
                            elements
                                .iter()
                                .map(Type::from_json_tree)
                                .collect::<Result<_, _>>()?,
                        ))
                    }
                    other => Err(TypeParseError(format!(
                        "unknown complex type kind {other:?}"
                    ))),
                }
            }
            other => Err(TypeParseError(format!("unexpected JSON {other:?}"))),
        }
    }
}

impl fmt::Display for Type {
    /// Human-facing name used in diagnostics, e.g. `list of string`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Type::Bool => f.write_str("bool"),
            Type::Number => f.write_str("number"),
            Type::String => f.write_str("string"),
            Type::Dynamic => f.write_str("dynamic"),
            Type::List(e) => write!(f, "list of {e}"),
            Type::Set(e) => write!(f, "set of {e}"),
            Type::Map(e) => write!(f, "map of {e}"),
            Type::Object(_) => f.write_str("object"),
            Type::Tuple(_) => f.write_str("tuple"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn primitive_and_collection_json_round_trip() {
        for (ty, text) in [
            (Type::Bool, r#""bool""#),
            (Type::Number, r#""number""#),
            (Type::String, r#""string""#),
            (Type::Dynamic, r#""dynamic""#),
            (Type::list(Type::String), r#"["list","string"]"#),
            (Type::set(Type::Number), r#"["set","number"]"#),
            (
                Type::map(Type::list(Type::Bool)),
                r#"["map",["list","bool"]]"#,
            ),
            (
                Type::tuple(vec![Type::String, Type::Dynamic]),
                r#"["tuple",["string","dynamic"]]"#,
            ),
        ] {
            assert_eq!(String::from_utf8(ty.to_json()).unwrap(), text);
            assert_eq!(Type::from_json(text.as_bytes()).unwrap(), ty);
        }
    }

    #[test]
    fn object_with_optional_attributes_json_round_trip() {
        let ty = Type::object_with_optional([("b", Type::Number), ("a", Type::String)], ["b"]);
        let text = String::from_utf8(ty.to_json()).unwrap();
        assert_eq!(text, r#"["object",{"a":"string","b":"number"},["b"]]"#);
        assert_eq!(Type::from_json(text.as_bytes()).unwrap(), ty);
        let plain = Type::object([("a", Type::String)]);
        assert_eq!(
            String::from_utf8(plain.to_json()).unwrap(),
            r#"["object",{"a":"string"}]"#
        );
    }

    #[test]
    fn rejects_malformed_type_descriptions() {
        for bad in [
            r#""text""#,
            r#"["list"]"#,
            r#"["object",{"a":"string"},["missing"]]"#,
            r#"["frob","string"]"#,
            r#"42"#,
            r#"["list","string"] x"#,
        ] {
            assert!(Type::from_json(bad.as_bytes()).is_err(), "{bad} accepted");
        }
    }
}
