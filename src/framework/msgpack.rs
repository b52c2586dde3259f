//! MessagePack codec for `DynamicValue.msgpack`, byte-compatible with cty's: unknown values are extension
//! type 0 (`d4 00 00`), refined unknowns extension type 12 carrying a map of small integer keys, numbers are
//! ints, float64 or decimal strings, and values in a dynamic position are `[type JSON bytes, value]`.

use std::collections::BTreeMap;

use super::path::{AttributePath, PathStep};
use super::types::Type;
use super::value::{Number, Refinements, Value, WireNumber};

/// A msgpack payload could not be read or a value does not fit its type.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{path}: {message}")]
pub struct MsgpackError {
    pub path: String,
    pub message: String,
}

fn error(path: &AttributePath, message: impl Into<String>) -> MsgpackError {
    let path = if path.is_root() {
        "value".to_owned()
    } else {
        path.to_string()
    };
    MsgpackError {
        path,
        message: message.into(),
    }
}

const EXT_UNKNOWN: i8 = 0;
const EXT_REFINED_UNKNOWN: i8 = 12;
const REFINE_NULLNESS: i64 = 1;
const REFINE_STRING_PREFIX: i64 = 2;
const REFINE_NUMBER_MIN: i64 = 3;
const REFINE_NUMBER_MAX: i64 = 4;
const REFINE_LENGTH_MIN: i64 = 5;
const REFINE_LENGTH_MAX: i64 = 6;
/// cty refuses refinement payloads above 1 KiB; so do we, and we keep prefixes short enough to stay under.
const MAX_REFINEMENT_PAYLOAD: usize = 1024;
const MAX_STRING_PREFIX: usize = 255;
const MAX_DEPTH: usize = 512;

// ---------------------------------------------------------------------------------------------- encoding

/// Encodes `value` as type `ty`.
pub fn encode(value: &Value, ty: &Type) -> Result<Vec<u8>, MsgpackError> {
    let mut out = Vec::new();
    write_value(&mut out, value, ty, &AttributePath::root())?;
    Ok(out)
}

fn write_value(
    out: &mut Vec<u8>,
    value: &Value,
    ty: &Type,
    path: &AttributePath,
) -> Result<(), MsgpackError> {
    if *ty == Type::Dynamic {
        return write_dynamic(out, value, path);
    }
    let value = value.inner();
    match value {
        Value::Unknown(refinements) => {
            write_unknown(out, refinements.as_deref(), ty);
            return Ok(());
        }
        Value::Null => {
            out.push(0xc0);
            return Ok(());
        }
        _ => {}
    }
    let mismatch = || error(path, format!("{ty} is required"));
    match (ty, value) {
        (Type::Bool, Value::Bool(b)) => out.push(if *b { 0xc3 } else { 0xc2 }),
        (Type::Number, Value::Number(n)) => write_number(out, n),
        (Type::String, Value::String(s)) => write_str(out, s),
        (Type::List(element), Value::List(items))
        | (Type::Set(element), Value::Set(items) | Value::List(items)) => {
            write_array_header(out, items.len());
            for (i, item) in items.iter().enumerate() {
                write_value(out, item, element, &path.child(PathStep::Index(i as i64)))?;
            }
        }
        (Type::Tuple(elements), Value::Tuple(items) | Value::List(items)) => {
            if elements.len() != items.len() {
                return Err(mismatch());
            }
            write_array_header(out, items.len());
            for (i, (item, ety)) in items.iter().zip(elements).enumerate() {
                write_value(out, item, ety, &path.child(PathStep::Index(i as i64)))?;
            }
        }
        (Type::Map(element), Value::Map(entries) | Value::Object(entries)) => {
            write_map_header(out, entries.len());
            for (key, item) in entries {
                write_str(out, key);
                write_value(out, item, element, &path.child(PathStep::Key(key.clone())))?;
            }
        }
        (Type::Object(object), Value::Object(entries)) => {
            if let Some(extra) = entries.keys().find(|k| !object.attributes.contains_key(*k)) {
                return Err(error(path, format!("unsupported attribute {extra:?}")));
            }
            write_map_header(out, object.attributes.len());
            for (name, aty) in &object.attributes {
                write_str(out, name);
                let item = entries.get(name).unwrap_or(&Value::Null);
                write_value(
                    out,
                    item,
                    aty,
                    &path.child(PathStep::Attribute(name.clone())),
                )?;
            }
        }
        _ => return Err(mismatch()),
    }
    Ok(())
}

fn write_dynamic(
    out: &mut Vec<u8>,
    value: &Value,
    path: &AttributePath,
) -> Result<(), MsgpackError> {
    let (ty, inner) = match value {
        Value::Dynamic(typed) => (typed.ty.clone(), &typed.value),
        Value::Null => {
            out.push(0xc0);
            return Ok(());
        }
        // A wholly unknown value of unknown type; cty never refines these.
        Value::Unknown(_) => {
            write_unknown(out, None, &Type::Dynamic);
            return Ok(());
        }
        other => (other.implied_type(), other),
    };
    if ty == Type::Dynamic {
        return write_dynamic(out, inner, path);
    }
    write_array_header(out, 2);
    write_bin(out, &ty.to_json());
    write_value(out, inner, &ty, path)
}

fn write_unknown(out: &mut Vec<u8>, refinements: Option<&Refinements>, ty: &Type) {
    let mut body = Vec::new();
    let mut entries = 0;
    if let (Some(r), false) = (refinements, *ty == Type::Dynamic) {
        if let Some(is_null) = r.is_null {
            entries += 1;
            write_int(&mut body, REFINE_NULLNESS);
            body.push(if is_null { 0xc3 } else { 0xc2 });
        }
        match ty {
            Type::Number => {
                for (key, bound, skip_infinity) in [
                    (REFINE_NUMBER_MIN, &r.number_lower, f64::NEG_INFINITY),
                    (REFINE_NUMBER_MAX, &r.number_upper, f64::INFINITY),
                ] {
                    if let Some((n, inclusive)) = bound {
                        if matches!(n.wire(), WireNumber::Float(f) if f == skip_infinity) {
                            continue;
                        }
                        entries += 1;
                        write_int(&mut body, key);
                        write_array_header(&mut body, 2);
                        write_number(&mut body, n);
                        body.push(if *inclusive { 0xc3 } else { 0xc2 });
                    }
                }
            }
            Type::String => {
                if let Some(prefix) = r.string_prefix.as_deref().filter(|p| !p.is_empty()) {
                    entries += 1;
                    write_int(&mut body, REFINE_STRING_PREFIX);
                    write_str(&mut body, truncate_at_char(prefix, MAX_STRING_PREFIX));
                }
            }
            Type::List(_) | Type::Set(_) | Type::Map(_) => {
                if let Some(lower) = r.length_lower.filter(|l| *l != 0) {
                    entries += 1;
                    write_int(&mut body, REFINE_LENGTH_MIN);
                    write_int(&mut body, lower.min(i64::MAX as u64) as i64);
                }
                if let Some(upper) = r.length_upper {
                    entries += 1;
                    write_int(&mut body, REFINE_LENGTH_MAX);
                    write_int(&mut body, upper.min(i64::MAX as u64) as i64);
                }
            }
            _ => {}
        }
    }
    if entries == 0 {
        out.extend_from_slice(&[0xd4, EXT_UNKNOWN as u8, 0]);
        return;
    }
    let mut payload = Vec::with_capacity(body.len() + 1);
    write_map_header(&mut payload, entries);
    payload.extend_from_slice(&body);
    write_ext_header(out, EXT_REFINED_UNKNOWN, payload.len());
    out.extend_from_slice(&payload);
}

fn truncate_at_char(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

fn write_number(out: &mut Vec<u8>, n: &Number) {
    match n.wire() {
        WireNumber::Int(i) => write_int(out, i),
        WireNumber::UInt(u) => {
            out.push(0xcf);
            out.extend_from_slice(&u.to_be_bytes());
        }
        WireNumber::Float(f) => {
            out.push(0xcb);
            out.extend_from_slice(&f.to_be_bytes());
        }
        WireNumber::Decimal(d) => write_str(out, d),
    }
}

/// Smallest encoding, like cty's encoder with compact ints.
fn write_int(out: &mut Vec<u8>, i: i64) {
    if (0..=0x7f).contains(&i) {
        out.push(i as u8);
    } else if (-32..0).contains(&i) {
        out.push(i as i8 as u8);
    } else if i >= 0 {
        if i <= u8::MAX as i64 {
            out.extend_from_slice(&[0xcc, i as u8]);
        } else if i <= u16::MAX as i64 {
            out.push(0xcd);
            out.extend_from_slice(&(i as u16).to_be_bytes());
        } else if i <= u32::MAX as i64 {
            out.push(0xce);
            out.extend_from_slice(&(i as u32).to_be_bytes());
        } else {
            out.push(0xcf);
            out.extend_from_slice(&(i as u64).to_be_bytes());
        }
    } else if i >= i8::MIN as i64 {
        out.extend_from_slice(&[0xd0, i as i8 as u8]);
    } else if i >= i16::MIN as i64 {
        out.push(0xd1);
        out.extend_from_slice(&(i as i16).to_be_bytes());
    } else if i >= i32::MIN as i64 {
        out.push(0xd2);
        out.extend_from_slice(&(i as i32).to_be_bytes());
    } else {
        out.push(0xd3);
        out.extend_from_slice(&i.to_be_bytes());
    }
}

fn write_str(out: &mut Vec<u8>, s: &str) {
    let len = s.len();
    if len < 32 {
        out.push(0xa0 | len as u8);
    } else if len <= u8::MAX as usize {
        out.extend_from_slice(&[0xd9, len as u8]);
    } else if len <= u16::MAX as usize {
        out.push(0xda);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdb);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(s.as_bytes());
}

fn write_bin(out: &mut Vec<u8>, b: &[u8]) {
    let len = b.len();
    if len <= u8::MAX as usize {
        out.extend_from_slice(&[0xc4, len as u8]);
    } else if len <= u16::MAX as usize {
        out.push(0xc5);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xc6);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
    out.extend_from_slice(b);
}

fn write_array_header(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x90 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0xdc);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdd);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn write_map_header(out: &mut Vec<u8>, len: usize) {
    if len < 16 {
        out.push(0x80 | len as u8);
    } else if len <= u16::MAX as usize {
        out.push(0xde);
        out.extend_from_slice(&(len as u16).to_be_bytes());
    } else {
        out.push(0xdf);
        out.extend_from_slice(&(len as u32).to_be_bytes());
    }
}

fn write_ext_header(out: &mut Vec<u8>, ext_type: i8, len: usize) {
    match len {
        1 => out.push(0xd4),
        2 => out.push(0xd5),
        4 => out.push(0xd6),
        8 => out.push(0xd7),
        16 => out.push(0xd8),
        l if l <= u8::MAX as usize => out.extend_from_slice(&[0xc7, l as u8]),
        l if l <= u16::MAX as usize => {
            out.push(0xc8);
            out.extend_from_slice(&(l as u16).to_be_bytes());
        }
        l => {
            out.push(0xc9);
            out.extend_from_slice(&(l as u32).to_be_bytes());
        }
    }
    out.push(ext_type as u8);
}

// ---------------------------------------------------------------------------------------------- decoding

/// Decodes a msgpack value of type `ty`. Values in dynamic positions come back as [`Value::Dynamic`].
pub fn decode(bytes: &[u8], ty: &Type) -> Result<Value, MsgpackError> {
    let mut reader = Reader { bytes, pos: 0 };
    let value = reader.value(ty, &AttributePath::root(), 0)?;
    if reader.pos != bytes.len() {
        return Err(error(&AttributePath::root(), "trailing bytes after value"));
    }
    Ok(value)
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

/// A msgpack item header.
enum Item<'a> {
    Nil,
    Bool(bool),
    Int(i64),
    UInt(u64),
    Float(f64),
    Str(&'a [u8]),
    Bin(&'a [u8]),
    Array(usize),
    Map(usize),
    Ext(i8, &'a [u8]),
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize, path: &AttributePath) -> Result<&'a [u8], MsgpackError> {
        let end = self.pos.checked_add(n).filter(|e| *e <= self.bytes.len());
        let Some(end) = end else {
            return Err(error(path, "unexpected end of msgpack data"));
        };
        let slice = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(slice)
    }

    fn be(&mut self, n: usize, path: &AttributePath) -> Result<u64, MsgpackError> {
        Ok(self
            .take(n, path)?
            .iter()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn item(&mut self, path: &AttributePath) -> Result<Item<'a>, MsgpackError> {
        let marker = self.take(1, path)?[0];
        Ok(match marker {
            0x00..=0x7f => Item::Int(i64::from(marker)),
            0x80..=0x8f => Item::Map(usize::from(marker & 0x0f)),
            0x90..=0x9f => Item::Array(usize::from(marker & 0x0f)),
            0xa0..=0xbf => Item::Str(self.take(usize::from(marker & 0x1f), path)?),
            0xc0 => Item::Nil,
            0xc2 => Item::Bool(false),
            0xc3 => Item::Bool(true),
            0xc4..=0xc6 => {
                let len = self.be(1 << (marker - 0xc4), path)? as usize;
                Item::Bin(self.take(len, path)?)
            }
            0xc7..=0xc9 => {
                let len = self.be(1 << (marker - 0xc7), path)? as usize;
                let ext_type = self.take(1, path)?[0] as i8;
                Item::Ext(ext_type, self.take(len, path)?)
            }
            0xca => Item::Float(f64::from(f32::from_bits(self.be(4, path)? as u32))),
            0xcb => Item::Float(f64::from_bits(self.be(8, path)?)),
            0xcc..=0xcf => {
                let v = self.be(1 << (marker - 0xcc), path)?;
                match i64::try_from(v) {
                    Ok(i) => Item::Int(i),
                    Err(_) => Item::UInt(v),
                }
            }
            0xd0 => Item::Int(i64::from(self.be(1, path)? as u8 as i8)),
            0xd1 => Item::Int(i64::from(self.be(2, path)? as u16 as i16)),
            0xd2 => Item::Int(i64::from(self.be(4, path)? as u32 as i32)),
            0xd3 => Item::Int(self.be(8, path)? as i64),
            0xd4..=0xd8 => {
                let ext_type = self.take(1, path)?[0] as i8;
                Item::Ext(ext_type, self.take(1 << (marker - 0xd4), path)?)
            }
            0xd9..=0xdb => {
                let len = self.be(1 << (marker - 0xd9), path)? as usize;
                Item::Str(self.take(len, path)?)
            }
            0xdc | 0xdd => Item::Array(self.be(if marker == 0xdc { 2 } else { 4 }, path)? as usize),
            0xde | 0xdf => Item::Map(self.be(if marker == 0xde { 2 } else { 4 }, path)? as usize),
            0xe0..=0xff => Item::Int(i64::from(marker as i8)),
            0xc1 => return Err(error(path, "invalid msgpack marker 0xc1")),
        })
    }

    fn value(
        &mut self,
        ty: &Type,
        path: &AttributePath,
        depth: usize,
    ) -> Result<Value, MsgpackError> {
        if depth > MAX_DEPTH {
            return Err(error(path, "value nested too deeply"));
        }
        let item = self.item(path)?;
        if let Item::Ext(ext_type, payload) = item {
            return decode_unknown(ext_type, payload, ty, path);
        }
        if let Item::Nil = item {
            return Ok(Value::Null);
        }
        let mismatch = || error(path, format!("{ty} is required"));
        match ty {
            Type::Dynamic => {
                let Item::Array(2) = item else {
                    return Err(error(path, "dynamic value must be a two-element array"));
                };
                let type_json = match self.item(path)? {
                    Item::Bin(b) | Item::Str(b) => b,
                    _ => return Err(error(path, "dynamic value type must be JSON bytes")),
                };
                let inner_ty =
                    Type::from_json(type_json).map_err(|e| error(path, e.to_string()))?;
                let inner = self.value(&inner_ty, path, depth + 1)?;
                Ok(Value::dynamic(inner_ty, inner))
            }
            Type::Bool => match item {
                Item::Bool(b) => Ok(Value::Bool(b)),
                _ => Err(mismatch()),
            },
            Type::Number => match item {
                Item::Int(i) => Ok(Value::Number(Number::from_i64(i))),
                Item::UInt(u) => Ok(Value::Number(Number::from_u64(u))),
                Item::Float(f) => Number::from_f64(f)
                    .map(Value::Number)
                    .ok_or_else(|| error(path, "NaN is not a number")),
                Item::Str(s) => {
                    let text = std::str::from_utf8(s).map_err(|_| mismatch())?;
                    Number::parse(text)
                        .map(Value::Number)
                        .map_err(|e| error(path, e.to_string()))
                }
                _ => Err(mismatch()),
            },
            Type::String => match item {
                Item::Str(s) => Ok(Value::String(
                    std::str::from_utf8(s)
                        .map_err(|_| error(path, "string is not UTF-8"))?
                        .to_owned(),
                )),
                _ => Err(mismatch()),
            },
            Type::List(element) | Type::Set(element) => {
                let Item::Array(len) = item else {
                    return Err(mismatch());
                };
                let mut items = Vec::with_capacity(len.min(1024));
                for i in 0..len {
                    items.push(self.value(
                        element,
                        &path.child(PathStep::Index(i as i64)),
                        depth + 1,
                    )?);
                }
                Ok(if matches!(ty, Type::Set(_)) {
                    Value::Set(items)
                } else {
                    Value::List(items)
                })
            }
            Type::Tuple(elements) => {
                let Item::Array(len) = item else {
                    return Err(mismatch());
                };
                if len != elements.len() {
                    return Err(error(
                        path,
                        format!("tuple of length {} is required", elements.len()),
                    ));
                }
                let mut items = Vec::with_capacity(len);
                for (i, ety) in elements.iter().enumerate() {
                    items.push(self.value(
                        ety,
                        &path.child(PathStep::Index(i as i64)),
                        depth + 1,
                    )?);
                }
                Ok(Value::Tuple(items))
            }
            Type::Map(element) => {
                let Item::Map(len) = item else {
                    return Err(mismatch());
                };
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let key = self.key(path)?;
                    let child = path.child(PathStep::Key(key.clone()));
                    entries.insert(key, self.value(element, &child, depth + 1)?);
                }
                Ok(Value::Map(entries))
            }
            Type::Object(object) => {
                let Item::Map(len) = item else {
                    return Err(mismatch());
                };
                let mut entries = BTreeMap::new();
                for _ in 0..len {
                    let key = self.key(path)?;
                    let Some(aty) = object.attributes.get(&key) else {
                        return Err(error(path, format!("unsupported attribute {key:?}")));
                    };
                    let child = path.child(PathStep::Attribute(key.clone()));
                    entries.insert(key, self.value(aty, &child, depth + 1)?);
                }
                for name in object.attributes.keys() {
                    entries.entry(name.clone()).or_insert(Value::Null);
                }
                Ok(Value::Object(entries))
            }
        }
    }

    fn key(&mut self, path: &AttributePath) -> Result<String, MsgpackError> {
        match self.item(path)? {
            Item::Str(s) => Ok(std::str::from_utf8(s)
                .map_err(|_| error(path, "key is not UTF-8"))?
                .to_owned()),
            _ => Err(error(path, "map keys must be strings")),
        }
    }

    /// Skips one complete item (used for refinement keys this version does not know).
    fn skip(&mut self, path: &AttributePath, depth: usize) -> Result<(), MsgpackError> {
        if depth > MAX_DEPTH {
            return Err(error(path, "value nested too deeply"));
        }
        match self.item(path)? {
            Item::Array(n) => (0..n).try_for_each(|_| self.skip(path, depth + 1)),
            Item::Map(n) => (0..n * 2).try_for_each(|_| self.skip(path, depth + 1)),
            _ => Ok(()),
        }
    }
}

fn decode_unknown(
    ext_type: i8,
    payload: &[u8],
    ty: &Type,
    path: &AttributePath,
) -> Result<Value, MsgpackError> {
    // Zero- or one-byte payloads are the plain unknown whatever the extension type (cty's own rule).
    if payload.len() <= 1 {
        return Ok(Value::unknown());
    }
    if ext_type != EXT_REFINED_UNKNOWN {
        return Err(error(
            path,
            format!(
                "unsupported extension type {ext_type} with length {}",
                payload.len()
            ),
        ));
    }
    if payload.len() > MAX_REFINEMENT_PAYLOAD {
        return Err(error(path, "oversize unknown value refinement"));
    }
    let mut reader = Reader {
        bytes: payload,
        pos: 0,
    };
    let Item::Map(entries) = reader.item(path)? else {
        return Err(error(path, "refinement payload must be a map"));
    };
    if *ty == Type::Dynamic {
        // cty ignores refinements on values of unknown type, reserving them for future use.
        return Ok(Value::unknown());
    }
    let mut refinements = Refinements::default();
    for _ in 0..entries {
        let key = match reader.item(path)? {
            Item::Int(k) => k,
            _ => return Err(error(path, "refinement keys must be integers")),
        };
        match key {
            REFINE_NULLNESS => match reader.item(path)? {
                Item::Bool(is_null) => refinements.is_null = Some(is_null),
                _ => return Err(error(path, "nullness refinement must be a bool")),
            },
            REFINE_STRING_PREFIX => {
                if *ty != Type::String {
                    return Err(error(path, "string prefix refinement on a non-string"));
                }
                match reader.item(path)? {
                    Item::Str(s) => {
                        let prefix = std::str::from_utf8(s)
                            .map_err(|_| error(path, "string prefix is not UTF-8"))?;
                        refinements.string_prefix = Some(prefix.to_owned());
                    }
                    _ => return Err(error(path, "string prefix refinement must be a string")),
                }
            }
            REFINE_NUMBER_MIN | REFINE_NUMBER_MAX => {
                if *ty != Type::Number {
                    return Err(error(path, "number bound refinement on a non-number"));
                }
                let bound_type = Type::tuple(vec![Type::Number, Type::Bool]);
                let bound = reader.value(&bound_type, path, 0)?;
                let (Some(n), Some(inclusive)) = (
                    bound.iter().next().and_then(Value::as_number),
                    bound.iter().nth(1).and_then(Value::as_bool),
                ) else {
                    return Err(error(
                        path,
                        "number bound refinement must be [number, bool]",
                    ));
                };
                let slot = if key == REFINE_NUMBER_MIN {
                    &mut refinements.number_lower
                } else {
                    &mut refinements.number_upper
                };
                *slot = Some((n.clone(), inclusive));
            }
            REFINE_LENGTH_MIN | REFINE_LENGTH_MAX => {
                if !ty.is_collection() {
                    return Err(error(path, "length refinement on a non-collection"));
                }
                let length = match reader.item(path)? {
                    Item::Int(i) if i >= 0 => i as u64,
                    Item::UInt(u) => u,
                    _ => {
                        return Err(error(
                            path,
                            "length refinement must be a non-negative integer",
                        ));
                    }
                };
                if key == REFINE_LENGTH_MIN {
                    refinements.length_lower = Some(length);
                } else {
                    refinements.length_upper = Some(length);
                }
            }
            // Unknown keys are reserved for future refinements: skip their value.
            _ => reader.skip(path, 0)?,
        }
    }
    Ok(Value::unknown_refined(refinements))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn round_trip(value: &Value, ty: &Type) -> Value {
        let bytes = encode(value, ty).unwrap();
        decode(&bytes, ty).unwrap()
    }

    #[test]
    fn plain_unknown_is_fixext1_type_zero() {
        assert_eq!(
            encode(&Value::unknown(), &Type::String).unwrap(),
            vec![0xd4, 0, 0]
        );
        assert_eq!(
            encode(&Value::unknown(), &Type::Dynamic).unwrap(),
            vec![0xd4, 0, 0]
        );
        // Any short extension means unknown, including the zero-length ext8 form.
        assert!(decode(&[0xc7, 0, 0], &Type::Number).unwrap().is_unknown());
        assert_eq!(
            encode(&Value::Null, &Type::list(Type::String)).unwrap(),
            vec![0xc0]
        );
    }

    #[test]
    fn refined_unknown_string_matches_cty_bytes() {
        let value = Value::unknown_refined(Refinements {
            is_null: Some(false),
            string_prefix: Some("arn:".into()),
            ..Default::default()
        });
        let bytes = encode(&value, &Type::String).unwrap();
        // ext8 len 9 type 12: map{1: false, 2: "arn:"}
        assert_eq!(
            bytes,
            vec![0xc7, 9, 12, 0x82, 1, 0xc2, 2, 0xa4, b'a', b'r', b'n', b':']
        );
        assert_eq!(decode(&bytes, &Type::String).unwrap(), value);
    }

    #[test]
    fn refined_unknown_number_and_collection_round_trip() {
        let number = Value::unknown_refined(Refinements {
            is_null: Some(false),
            number_lower: Some((Number::from_i64(1), true)),
            number_upper: Some((Number::parse("1e30").unwrap(), false)),
            ..Default::default()
        });
        assert_eq!(round_trip(&number, &Type::Number), number);
        let list = Value::unknown_refined(Refinements {
            length_lower: Some(2),
            length_upper: Some(5),
            ..Default::default()
        });
        assert_eq!(round_trip(&list, &Type::list(Type::String)), list);
        // Refinements that do not apply to the type are not written (cty does the same).
        let misplaced = Value::unknown_refined(Refinements {
            string_prefix: Some("x".into()),
            ..Default::default()
        });
        assert_eq!(encode(&misplaced, &Type::Number).unwrap(), vec![0xd4, 0, 0]);
        // ...and are rejected when read.
        let bytes = encode(
            &Value::unknown_refined(Refinements {
                string_prefix: Some("x".into()),
                ..Default::default()
            }),
            &Type::String,
        )
        .unwrap();
        assert!(decode(&bytes, &Type::Number).is_err());
    }

    #[test]
    fn refined_unknown_ignores_future_keys_and_dynamic_refinements() {
        // map{1: false, 9: [1, 2]}
        let payload = [0x82, 1, 0xc2, 9, 0x92, 1, 2];
        let mut bytes = vec![0xc7, payload.len() as u8, 12];
        bytes.extend_from_slice(&payload);
        let value = decode(&bytes, &Type::String).unwrap();
        assert_eq!(value.refinements().unwrap().is_null, Some(false));
        assert!(
            decode(&bytes, &Type::Dynamic)
                .unwrap()
                .refinements()
                .is_none()
        );
        let mut wrong_type = bytes.clone();
        wrong_type[2] = 5;
        assert!(decode(&wrong_type, &Type::String).is_err());
    }

    #[test]
    fn long_string_prefixes_are_truncated_on_a_char_boundary() {
        let prefix = "é".repeat(200);
        let value = Value::unknown_refined(Refinements {
            string_prefix: Some(prefix.clone()),
            ..Default::default()
        });
        let back = round_trip(&value, &Type::String);
        let got = back.refinements().unwrap().string_prefix.clone().unwrap();
        assert!(got.len() <= MAX_STRING_PREFIX && prefix.starts_with(&got) && !got.is_empty());
    }

    #[test]
    fn numbers_use_int_float_or_string() {
        assert_eq!(encode(&Value::from(5), &Type::Number).unwrap(), vec![5]);
        assert_eq!(encode(&Value::from(-1), &Type::Number).unwrap(), vec![0xff]);
        assert_eq!(
            encode(&Value::from(300), &Type::Number).unwrap(),
            vec![0xcd, 1, 44]
        );
        assert_eq!(encode(&Value::from(1.5), &Type::Number).unwrap()[0], 0xcb);
        let big = Value::Number(Number::parse("-98765432109876543210987654321.5").unwrap());
        let bytes = encode(&big, &Type::Number).unwrap();
        assert_eq!(bytes[0], 0xd9);
        assert_eq!(decode(&bytes, &Type::Number).unwrap(), big);
        for v in [i64::MIN, i64::MAX, -33, -129, 70000, -70000, 5_000_000_000] {
            assert_eq!(round_trip(&Value::from(v), &Type::Number).as_i64(), Some(v));
        }
        assert_eq!(
            round_trip(&Value::from(u64::MAX), &Type::Number)
                .as_number()
                .unwrap()
                .as_u64(),
            Some(u64::MAX)
        );
        assert_eq!(
            round_trip(&Value::from(f64::INFINITY), &Type::Number),
            Value::from(f64::INFINITY)
        );
        // float32 input is accepted too.
        assert_eq!(
            decode(&[0xca, 0x3f, 0xc0, 0, 0], &Type::Number).unwrap(),
            Value::from(1.5)
        );
    }

    #[test]
    fn dynamic_values_carry_their_type_json() {
        let value = Value::dynamic(Type::String, Value::from("hi"));
        let bytes = encode(&value, &Type::Dynamic).unwrap();
        let mut expected = vec![0x92, 0xc4, 8];
        expected.extend_from_slice(b"\"string\"");
        expected.extend_from_slice(&[0xa2, b'h', b'i']);
        assert_eq!(bytes, expected);
        assert_eq!(decode(&bytes, &Type::Dynamic).unwrap(), value);
        // Type JSON sent as a str is read too.
        let mut as_str = vec![0x92, 0xa8];
        as_str.extend_from_slice(b"\"number\"");
        as_str.push(7);
        assert_eq!(decode(&as_str, &Type::Dynamic).unwrap().as_i64(), Some(7));
    }

    #[test]
    fn nested_dynamic_sets_of_objects_and_unknown_inside_dynamic() {
        let member = Type::object([("id", Type::String), ("extra", Type::Dynamic)]);
        let ty = Type::object([
            ("members", Type::set(member.clone())),
            ("any", Type::Dynamic),
        ]);
        let inner_ty = Type::map(Type::list(Type::Dynamic));
        let value = Value::object([
            (
                "members",
                Value::set([
                    Value::object([
                        ("id", Value::from("a")),
                        ("extra", Value::dynamic(Type::Bool, Value::from(true))),
                    ]),
                    Value::object([("id", Value::unknown()), ("extra", Value::Null)]),
                    Value::object([
                        ("id", Value::from("c")),
                        ("extra", Value::dynamic(Type::Number, Value::unknown())),
                    ]),
                ]),
            ),
            (
                "any",
                Value::dynamic(
                    inner_ty,
                    Value::map([(
                        "k",
                        Value::list([
                            Value::dynamic(Type::String, Value::from("deep")),
                            Value::unknown(),
                        ]),
                    )]),
                ),
            ),
        ]);
        let back = round_trip(&value, &ty);
        assert_eq!(back, value);
        let unknown_typed = &back.get("members").elements().unwrap()[2].get("extra");
        let Value::Dynamic(typed) = unknown_typed else {
            panic!("lost dynamic type")
        };
        assert_eq!(typed.ty, Type::Number);
        assert!(typed.value.is_unknown());
    }

    #[test]
    fn objects_fill_missing_attributes_and_reject_extras() {
        let ty = Type::object_with_optional([("a", Type::String), ("b", Type::Number)], ["b"]);
        let value = Value::object([("a", Value::from("x"))]);
        let back = round_trip(&value, &ty);
        assert!(matches!(back.as_map().unwrap().get("b"), Some(Value::Null)));
        let extra = Value::object([("zzz", Value::from(1))]);
        assert!(encode(&extra, &ty).is_err());
        // {"q": 1} against an object without q
        assert!(decode(&[0x81, 0xa1, b'q', 1], &ty).is_err());
    }

    #[test]
    fn long_collections_and_strings_use_wide_headers() {
        let long = "x".repeat(70_000);
        let list = Value::list((0..20).map(|i| Value::from(format!("{i}{long}"))));
        assert_eq!(round_trip(&list, &Type::list(Type::String)), list);
        let map = Value::map((0..40).map(|i| (format!("k{i}"), Value::from(i))));
        assert_eq!(round_trip(&map, &Type::map(Type::Number)), map);
    }

    #[test]
    fn rejects_truncated_and_mistyped_input() {
        assert!(decode(&[0x92, 1], &Type::list(Type::Number)).is_err());
        assert!(decode(&[0xa1], &Type::String).is_err());
        assert!(decode(&[1], &Type::String).is_err());
        assert!(decode(&[1, 2], &Type::Number).is_err());
        assert!(decode(&[0xc1], &Type::Number).is_err());
        assert!(decode(&[0xcb, 0x7f, 0xf8, 0, 0, 0, 0, 0, 1], &Type::Number).is_err()); // NaN
    }
}
