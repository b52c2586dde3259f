//! The botocore service models of sso-admin, identitystore and organizations, loaded at start-up from the botocore that the
//! pinned moto ships (nothing of them is copied into this repository), and what they drive: request
//! validation (required members, lengths, patterns, ranges, enums, unions, nested shapes), the paginators of
//! the List operations the proxy answers itself, and the required output members moto leaves out.

use std::collections::HashMap;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::json::AwsError;
use crate::moto::{find_tool, moto_server_path};

/// Loads the models through botocore's own loader (it knows the layout and the gzip compression of its data
/// directory) and reads, from the same moto, the paths of the AWS managed policies it bundles.
const LOADER: &str = r#"
import json, sys
import botocore, botocore.loaders
from moto.iam.aws_managed_policies import aws_managed_policies_data
loader = botocore.loaders.Loader()
services = {}
for name in ("sso-admin", "identitystore", "organizations"):
    services[name] = {
        "service": loader.load_service_model(name, "service-2"),
        "paginators": loader.load_service_model(name, "paginators-1")["pagination"],
    }
policies = json.loads(aws_managed_policies_data)
json.dump({
    "botocore_version": botocore.__version__,
    "services": services,
    "aws_managed_policy_paths": {name: policy.get("Path", "/") for name, policy in policies.items()},
}, sys.stdout)
"#;

#[derive(Debug, Deserialize)]
struct Loaded {
    botocore_version: String,
    services: HashMap<String, LoadedService>,
    aws_managed_policy_paths: HashMap<String, String>,
}

#[derive(Debug, Deserialize)]
struct LoadedService {
    service: Value,
    paginators: HashMap<String, Paginator>,
}

/// One entry of `paginators-1.json`.
#[derive(Debug, Clone, Deserialize)]
pub struct Paginator {
    pub input_token: String,
    pub output_token: String,
    pub limit_key: Option<String>,
    pub result_key: String,
}

/// Both services' models and moto's AWS managed policy paths.
#[derive(Debug)]
pub struct Models {
    pub botocore_version: String,
    pub sso_admin: ServiceModel,
    pub identitystore: ServiceModel,
    pub organizations: ServiceModel,
    /// AWS managed policy name → its IAM path (`/`, `/job-function/`, `/service-role/`, …).
    pub aws_managed_policy_paths: HashMap<String, String>,
}

static MODELS: OnceLock<Arc<Models>> = OnceLock::new();

impl Models {
    /// The models of this process, loaded once (about half a second of Python).
    pub fn get() -> io::Result<Arc<Models>> {
        if let Some(models) = MODELS.get() {
            return Ok(models.clone());
        }
        let loaded = Arc::new(Models::load()?);
        Ok(MODELS.get_or_init(|| loaded).clone())
    }

    fn load() -> io::Result<Models> {
        let python = moto_python()?;
        let output = std::process::Command::new(&python)
            .args(["-c", LOADER])
            .stdin(std::process::Stdio::null())
            .output()
            .map_err(|err| io::Error::other(format!("cannot run {}: {err}", python.display())))?;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "loading the botocore service models with {} failed ({}): {}",
                python.display(),
                output.status,
                String::from_utf8_lossy(&output.stderr)
            )));
        }
        let mut loaded: Loaded = serde_json::from_slice(&output.stdout)
            .map_err(|err| io::Error::other(format!("botocore models unreadable: {err}")))?;
        let mut service = |name: &str| {
            loaded
                .services
                .remove(name)
                .ok_or_else(|| io::Error::other(format!("botocore has no {name} model")))
                .and_then(ServiceModel::new)
        };
        Ok(Models {
            sso_admin: service("sso-admin")?,
            identitystore: service("identitystore")?,
            organizations: service("organizations")?,
            botocore_version: loaded.botocore_version,
            aws_managed_policy_paths: loaded.aws_managed_policy_paths,
        })
    }
}

/// The Python that runs moto_server (from its `#!` line), so the models are the pinned moto's botocore.
fn moto_python() -> io::Result<PathBuf> {
    let server = moto_server_path()?;
    let shebang = std::fs::read_to_string(&server)
        .ok()
        .and_then(|text| text.lines().next().map(str::to_owned))
        .and_then(|line| line.strip_prefix("#!").map(|rest| rest.trim().to_owned()));
    match shebang {
        Some(interpreter) if Path::new(&interpreter).is_file() => Ok(PathBuf::from(interpreter)),
        _ => find_tool("venv/bin/python"),
    }
}

/// One service's shapes and operations.
#[derive(Debug)]
pub struct ServiceModel {
    shapes: Map<String, Value>,
    /// Operation name → its input shape (operations without input map to `None`).
    inputs: HashMap<String, Option<String>>,
    outputs: HashMap<String, Option<String>>,
    /// Operation name → the first error it lists whose shape is a server `fault` (sso-admin and identitystore:
    /// `InternalServerException`, organizations: `ServiceException`), for fault injection.
    faults: HashMap<String, String>,
    paginators: HashMap<String, Paginator>,
    /// Compiled `pattern`s, by pattern text.
    patterns: Mutex<HashMap<String, Arc<fancy_regex::Regex>>>,
}

impl ServiceModel {
    fn new(loaded: LoadedService) -> io::Result<ServiceModel> {
        let shapes = loaded
            .service
            .get("shapes")
            .and_then(Value::as_object)
            .cloned()
            .ok_or_else(|| io::Error::other("service model without shapes"))?;
        let operations = loaded
            .service
            .get("operations")
            .and_then(Value::as_object)
            .ok_or_else(|| io::Error::other("service model without operations"))?;
        let shape_of = |operation: &Value, member: &str| {
            operation
                .pointer(&format!("/{member}/shape"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Ok(ServiceModel {
            inputs: operations
                .iter()
                .map(|(name, operation)| (name.clone(), shape_of(operation, "input")))
                .collect(),
            outputs: operations
                .iter()
                .map(|(name, operation)| (name.clone(), shape_of(operation, "output")))
                .collect(),
            faults: operations
                .iter()
                .filter_map(|(name, operation)| {
                    let errors = operation.get("errors")?.as_array()?;
                    let fault = errors.iter().find_map(|error| {
                        let shape = error.get("shape")?.as_str()?;
                        let is_fault = shapes
                            .get(shape)
                            .and_then(|s| s.get("fault"))
                            .and_then(Value::as_bool)
                            == Some(true);
                        is_fault.then(|| shape.to_owned())
                    })?;
                    Some((name.clone(), fault))
                })
                .collect(),
            shapes,
            paginators: loaded.paginators,
            patterns: Mutex::new(HashMap::new()),
        })
    }

    /// The server fault `operation` lists in the model (answered with HTTP 500), if it lists one.
    pub fn server_fault(&self, operation: &str) -> Option<&str> {
        self.faults.get(operation).map(String::as_str)
    }

    pub fn has_operation(&self, operation: &str) -> bool {
        self.inputs.contains_key(operation)
    }

    pub fn paginator(&self, operation: &str) -> Option<&Paginator> {
        self.paginators.get(operation)
    }

    pub fn shape(&self, name: &str) -> Option<&Value> {
        self.shapes.get(name)
    }

    /// Checks `input` against the operation's input shape: a `ValidationException` listing every violation
    /// (AWS's "N validation errors detected: …" form), or a `SerializationException` for a member of the wrong
    /// JSON type.
    pub fn validate(&self, operation: &str, input: &Value) -> Result<(), AwsError> {
        let Some(Some(shape)) = self.inputs.get(operation) else {
            return Ok(());
        };
        let mut violations = Violations::default();
        self.check(shape, input, "", &mut violations);
        if let Some(message) = violations.wrong_type.first() {
            return Err(AwsError::new(
                axum::http::StatusCode::BAD_REQUEST,
                "SerializationException",
                message.clone(),
            ));
        }
        match violations.constraints.len() {
            0 => Ok(()),
            count => Err(AwsError::validation(format!(
                "{count} validation error{} detected: {}",
                if count == 1 { "" } else { "s" },
                violations.constraints.join("; ")
            ))),
        }
    }

    fn check(&self, shape_name: &str, value: &Value, path: &str, violations: &mut Violations) {
        let Some(shape) = self.shapes.get(shape_name) else {
            return;
        };
        let kind = shape
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let sensitive = shape.get("sensitive").and_then(Value::as_bool) == Some(true);
        let shown = |value: &Value| {
            if sensitive {
                "Value".to_owned()
            } else {
                match value {
                    Value::String(text) => format!("Value '{text}'"),
                    other => format!("Value '{other}'"),
                }
            }
        };
        let bound = |name: &str| shape.get(name).and_then(Value::as_f64);
        match kind {
            "structure" if shape.get("document").and_then(Value::as_bool) == Some(true) => {}
            "structure" => {
                let Some(object) = value.as_object() else {
                    return violations.wrong(path, "a structure");
                };
                let members = shape.get("members").and_then(Value::as_object);
                for required in required_members(shape) {
                    if object.get(required).is_none_or(Value::is_null) {
                        violations.constraint(
                            &member_path(path, required),
                            "Value null",
                            "Member must not be null",
                        );
                    }
                }
                let mut set_members = 0;
                for (name, member_value) in object {
                    let Some(member_shape) = members
                        .and_then(|members| members.get(name))
                        .and_then(|member| member.get("shape"))
                        .and_then(Value::as_str)
                    else {
                        // AWS ignores members its model does not have.
                        continue;
                    };
                    if member_value.is_null() {
                        continue;
                    }
                    set_members += 1;
                    self.check(
                        member_shape,
                        member_value,
                        &member_path(path, name),
                        violations,
                    );
                }
                if shape.get("union").and_then(Value::as_bool) == Some(true) && set_members != 1 {
                    violations.constraint(
                        if path.is_empty() { "input" } else { path },
                        "Value",
                        "Member must have exactly one of its members set",
                    );
                }
            }
            "list" => {
                let Some(items) = value.as_array() else {
                    return violations.wrong(path, "a list");
                };
                violations.length(path, &shown(value), items.len(), bound("min"), bound("max"));
                if let Some(member) = shape.pointer("/member/shape").and_then(Value::as_str) {
                    for (index, item) in items.iter().enumerate() {
                        self.check(
                            member,
                            item,
                            &format!("{path}.{}.member", index + 1),
                            violations,
                        );
                    }
                }
            }
            "map" => {
                let Some(entries) = value.as_object() else {
                    return violations.wrong(path, "a map");
                };
                violations.length(
                    path,
                    &shown(value),
                    entries.len(),
                    bound("min"),
                    bound("max"),
                );
                let key_shape = shape.pointer("/key/shape").and_then(Value::as_str);
                let value_shape = shape.pointer("/value/shape").and_then(Value::as_str);
                for (key, entry) in entries {
                    if let Some(key_shape) = key_shape {
                        self.check(key_shape, &json!(key), &format!("{path}.key"), violations);
                    }
                    if let Some(value_shape) = value_shape {
                        self.check(value_shape, entry, &format!("{path}.{key}"), violations);
                    }
                }
            }
            "string" => {
                let Some(text) = value.as_str() else {
                    return violations.wrong(path, "a string");
                };
                let shown = shown(value);
                if let Some(allowed) = shape.get("enum").and_then(Value::as_array)
                    && !allowed.iter().any(|option| option == value)
                {
                    let options: Vec<&str> = allowed.iter().filter_map(Value::as_str).collect();
                    violations.constraint(
                        path,
                        &shown,
                        &format!(
                            "Member must satisfy enum value set: [{}]",
                            options.join(", ")
                        ),
                    );
                }
                violations.length(
                    path,
                    &shown,
                    text.chars().count(),
                    bound("min"),
                    bound("max"),
                );
                if let Some(pattern) = shape.get("pattern").and_then(Value::as_str)
                    && !self.matches(pattern, text)
                {
                    violations.constraint(
                        path,
                        &shown,
                        &format!("Member must satisfy regular expression pattern: {pattern}"),
                    );
                }
            }
            "integer" | "long" => {
                let Some(number) = value.as_f64().filter(|_| value.is_i64() || value.is_u64())
                else {
                    return violations.wrong(path, "an integer");
                };
                let shown = shown(value);
                if let Some(min) = bound("min")
                    && number < min
                {
                    violations.constraint(
                        path,
                        &shown,
                        &format!("Member must have value greater than or equal to {min}"),
                    );
                }
                if let Some(max) = bound("max")
                    && number > max
                {
                    violations.constraint(
                        path,
                        &shown,
                        &format!("Member must have value less than or equal to {max}"),
                    );
                }
            }
            "boolean" if !value.is_boolean() => violations.wrong(path, "a boolean"),
            "timestamp" if !(value.is_number() || value.is_string()) => {
                violations.wrong(path, "a timestamp")
            }
            _ => {}
        }
    }

    /// Whole-string match, as AWS applies model patterns.
    fn matches(&self, pattern: &str, text: &str) -> bool {
        let compiled = {
            let mut cache = self
                .patterns
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if let Some(compiled) = cache.get(pattern) {
                compiled.clone()
            } else {
                match fancy_regex::Regex::new(&format!("^(?:{})$", java_classes(pattern))) {
                    Ok(compiled) => {
                        let compiled = Arc::new(compiled);
                        cache.insert(pattern.to_owned(), compiled.clone());
                        compiled
                    }
                    // A pattern this engine cannot read is not enforced rather than refusing everything.
                    Err(_) => return true,
                }
            }
        };
        compiled.is_match(text).unwrap_or(true)
    }

    /// Fills the members the output shape requires that moto leaves out and that follow from the answer
    /// itself (`GroupArn` from `GroupId`, …), as `derive` gives them.
    pub fn complete_output(&self, operation: &str, output: &mut Value, derive: &DeriveMember<'_>) {
        if let Some(Some(shape)) = self.outputs.get(operation) {
            self.complete(shape, output, derive);
        }
    }

    fn complete(&self, shape_name: &str, value: &mut Value, derive: &DeriveMember<'_>) {
        let Some(shape) = self.shapes.get(shape_name) else {
            return;
        };
        match (shape.get("type").and_then(Value::as_str), value) {
            (Some("structure"), Value::Object(object)) => {
                for required in required_members(shape) {
                    if !object.contains_key(required)
                        && let Some(derived) = derive(required, object)
                    {
                        object.insert(required.to_owned(), derived);
                    }
                }
                let members = shape.get("members").and_then(Value::as_object);
                for (name, member) in object.iter_mut() {
                    if let Some(member_shape) = members
                        .and_then(|members| members.get(name))
                        .and_then(|member| member.pointer("/shape"))
                        .and_then(Value::as_str)
                    {
                        self.complete(member_shape, member, derive);
                    }
                }
            }
            (Some("list"), Value::Array(items)) => {
                if let Some(member) = shape.pointer("/member/shape").and_then(Value::as_str) {
                    for item in items {
                        self.complete(member, item, derive);
                    }
                }
            }
            _ => {}
        }
    }

    /// One page of a list the proxy holds in full, per the operation's paginator: at most `limit_key` items
    /// (100 when absent) from the position the `input_token` names, and an `output_token` when more follow.
    pub fn paginate(
        &self,
        operation: &str,
        input: &Value,
        mut output: Value,
    ) -> Result<Value, AwsError> {
        let Some(paginator) = self.paginators.get(operation) else {
            return Ok(output);
        };
        let start = match input.get(&paginator.input_token).and_then(Value::as_str) {
            None | Some("") => 0,
            Some(token) => decode_token(operation, token)
                .ok_or_else(|| AwsError::validation("The NextToken is invalid or expired"))?,
        };
        let limit = paginator
            .limit_key
            .as_ref()
            .and_then(|key| input.get(key))
            .and_then(Value::as_u64)
            .unwrap_or(DEFAULT_PAGE_SIZE) as usize;
        let Some(items) = output
            .get_mut(&paginator.result_key)
            .and_then(Value::as_array_mut)
        else {
            return Ok(output);
        };
        let total = items.len();
        let page: Vec<Value> = items.drain(..).skip(start).take(limit).collect();
        *items = page;
        if start + limit < total {
            output[&paginator.output_token] = json!(encode_token(operation, start + limit));
        }
        Ok(output)
    }
}

fn required_members(shape: &Value) -> impl Iterator<Item = &str> {
    shape
        .get("required")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
}

/// Gives the value of a required output member (by name) from the structure that lacks it, if it can.
pub type DeriveMember<'a> = dyn Fn(&str, &Map<String, Value>) -> Option<Value> + 'a;

/// Page size of the proxy's own lists when the request gives no `MaxResults`.
const DEFAULT_PAGE_SIZE: u64 = 100;

/// Opaque to clients, like AWS's tokens (base64 stays inside the model's `Token` pattern).
fn encode_token(operation: &str, offset: usize) -> String {
    BASE64.encode(format!("{operation}:{offset}"))
}

fn decode_token(operation: &str, token: &str) -> Option<usize> {
    let text = String::from_utf8(BASE64.decode(token).ok()?).ok()?;
    let (for_operation, offset) = text.rsplit_once(':')?;
    (for_operation == operation)
        .then(|| offset.parse().ok())
        .flatten()
}

/// AWS's member paths in messages start lower case (`permissionSet.name`).
fn member_path(parent: &str, member: &str) -> String {
    let mut chars = member.chars();
    let lowered: String = chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default();
    if parent.is_empty() {
        lowered
    } else {
        format!("{parent}.{lowered}")
    }
}

/// The models' patterns are Java regular expressions, where `\d` and `\w` are ASCII only; in Rust's engines
/// they are Unicode, so they are spelled out.
fn java_classes(pattern: &str) -> String {
    let mut translated = String::with_capacity(pattern.len());
    let mut in_class = false;
    let mut chars = pattern.chars();
    while let Some(current) = chars.next() {
        match current {
            '\\' => match chars.next() {
                Some('d') if in_class => translated.push_str("0-9"),
                Some('d') => translated.push_str("[0-9]"),
                Some('w') if in_class => translated.push_str("a-zA-Z0-9_"),
                Some('w') => translated.push_str("[a-zA-Z0-9_]"),
                Some(escaped) => {
                    translated.push('\\');
                    translated.push(escaped);
                }
                None => translated.push('\\'),
            },
            '[' if !in_class => {
                in_class = true;
                translated.push('[');
            }
            ']' if in_class => {
                in_class = false;
                translated.push(']');
            }
            other => translated.push(other),
        }
    }
    translated
}

#[derive(Default)]
struct Violations {
    constraints: Vec<String>,
    wrong_type: Vec<String>,
}

impl Violations {
    fn constraint(&mut self, path: &str, shown: &str, rule: &str) {
        self.constraints.push(format!(
            "{shown} at '{path}' failed to satisfy constraint: {rule}"
        ));
    }

    fn wrong(&mut self, path: &str, expected: &str) {
        self.wrong_type
            .push(format!("the value at '{path}' must be {expected}"));
    }

    fn length(
        &mut self,
        path: &str,
        shown: &str,
        length: usize,
        min: Option<f64>,
        max: Option<f64>,
    ) {
        let length = length as f64;
        if let Some(min) = min
            && length < min
        {
            self.constraint(
                path,
                shown,
                &format!("Member must have length greater than or equal to {min}"),
            );
        }
        if let Some(max) = max
            && length > max
        {
            self.constraint(
                path,
                shown,
                &format!("Member must have length less than or equal to {max}"),
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn java_digit_and_word_classes_stay_ascii() {
        assert_eq!(java_classes(r"\d{12}"), "[0-9]{12}");
        assert_eq!(java_classes(r"[\w+=,.@-]+"), "[a-zA-Z0-9_+=,.@-]+");
        assert_eq!(java_classes(r"[\S\s]*"), r"[\S\s]*");
    }

    #[test]
    fn tokens_name_their_operation() {
        let token = encode_token("ListTagsForResource", 50);
        assert_eq!(decode_token("ListTagsForResource", &token), Some(50));
        assert_eq!(decode_token("ListPermissionSets", &token), None);
        assert_eq!(decode_token("ListTagsForResource", "garbage!"), None);
    }
}
