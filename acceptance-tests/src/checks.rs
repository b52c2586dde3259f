//! Ready-made state checks for [`crate::Step::check`]; any `Fn(&State) -> CheckResult` works as well.

use regex::Regex;

use crate::error::CheckResult;
use crate::state::State;

/// The resource exists and its flattened attribute `path` equals `expected`.
pub fn attr_equals(
    address: &str,
    path: &str,
    expected: &str,
) -> impl Fn(&State) -> CheckResult + use<> {
    let (address, path, expected) = (address.to_string(), path.to_string(), expected.to_string());
    move |state: &State| {
        let resource = state.require(&address)?;
        match resource.attr(&path) {
            Some(actual) if actual == expected => Ok(()),
            _ if resource.is_sensitive(&path) => {
                Err(format!("{address}.{path}: sensitive value differs").into())
            }
            _ => Err(format!(
                "{address}.{path}: expected {expected:?}, got {}",
                resource.display_attr(&path)
            )
            .into()),
        }
    }
}

/// The resource exists and attribute `path` is set to a non-empty value.
pub fn attr_set(address: &str, path: &str) -> impl Fn(&State) -> CheckResult + use<> {
    let (address, path) = (address.to_string(), path.to_string());
    move |state: &State| match state.require(&address)?.attr(&path) {
        Some(value) if !value.is_empty() => Ok(()),
        _ => Err(format!("{address}.{path}: expected a value, got none").into()),
    }
}

/// The resource exists and attribute `path` is null/absent.
pub fn attr_absent(address: &str, path: &str) -> impl Fn(&State) -> CheckResult + use<> {
    let (address, path) = (address.to_string(), path.to_string());
    move |state: &State| {
        let resource = state.require(&address)?;
        match resource.attr(&path) {
            None => Ok(()),
            Some(_) => Err(format!(
                "{address}.{path}: expected no value, got {}",
                resource.display_attr(&path)
            )
            .into()),
        }
    }
}

/// The resource exists and attribute `path` matches `pattern`.
///
/// # Panics
/// When `pattern` is not a valid regex (a bug in the test).
pub fn attr_matches(
    address: &str,
    path: &str,
    pattern: &str,
) -> impl Fn(&State) -> CheckResult + use<> {
    let regex =
        Regex::new(pattern).unwrap_or_else(|error| panic!("invalid regex {pattern:?}: {error}"));
    let (address, path) = (address.to_string(), path.to_string());
    move |state: &State| {
        let resource = state.require(&address)?;
        match resource.attr(&path) {
            Some(value) if regex.is_match(value) => Ok(()),
            _ => Err(format!(
                "{address}.{path}: expected a match for /{regex}/, got {}",
                resource.display_attr(&path)
            )
            .into()),
        }
    }
}

/// Two attributes (possibly of different resources) hold the same value, e.g. an ID wired from one to the other.
pub fn attr_pair(
    address: &str,
    path: &str,
    other_address: &str,
    other_path: &str,
) -> impl Fn(&State) -> CheckResult + use<> {
    let (address, path) = (address.to_string(), path.to_string());
    let (other_address, other_path) = (other_address.to_string(), other_path.to_string());
    move |state: &State| {
        let left = state.require(&address)?.attr(&path);
        let right = state.require(&other_address)?.attr(&other_path);
        if left.is_some() && left == right {
            Ok(())
        } else {
            Err(
                format!("{address}.{path} and {other_address}.{other_path} differ (or are unset)")
                    .into(),
            )
        }
    }
}

/// The resource is in the state.
pub fn resource_exists(address: &str) -> impl Fn(&State) -> CheckResult + use<> {
    let address = address.to_string();
    move |state: &State| state.require(&address).map(|_| ())
}

/// The resource is not in the state (e.g. after a step that had to fail before creating anything).
pub fn resource_absent(address: &str) -> impl Fn(&State) -> CheckResult + use<> {
    let address = address.to_string();
    move |state: &State| match state.resource(&address) {
        None => Ok(()),
        Some(_) => Err(format!("{address} is in the state but should not be").into()),
    }
}

/// The state holds no resources at all.
pub fn no_resources(state: &State) -> CheckResult {
    if state.is_empty() {
        Ok(())
    } else {
        let present: Vec<&str> = state
            .resources()
            .iter()
            .map(|r| r.address.as_str())
            .collect();
        Err(format!("expected an empty state, found {present:?}").into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn state() -> State {
        State::from_show_json(
            &json!({"values": {"root_module": {"resources": [
                {"address": "t.a", "values": {"id": "1", "name": "alpha", "ref": "2", "secret": "hunter2"},
                 "sensitive_values": {"secret": true}},
                {"address": "t.b", "values": {"id": "2"}}
            ]}}})
            .to_string(),
        )
        .unwrap()
    }

    #[test]
    fn attribute_checks_pass_and_fail() {
        let state = state();
        assert!(attr_equals("t.a", "name", "alpha")(&state).is_ok());
        let error = attr_equals("t.a", "name", "beta")(&state)
            .unwrap_err()
            .to_string();
        assert_eq!(error, "t.a.name: expected \"beta\", got \"alpha\"");
        assert!(attr_equals("t.zz", "name", "alpha")(&state).is_err());
        assert!(attr_set("t.a", "id")(&state).is_ok());
        assert!(attr_set("t.a", "missing")(&state).is_err());
        assert!(attr_absent("t.a", "missing")(&state).is_ok());
        assert!(attr_absent("t.a", "id")(&state).is_err());
        assert!(attr_matches("t.a", "name", "^al")(&state).is_ok());
        assert!(attr_matches("t.a", "name", "^be")(&state).is_err());
        assert!(attr_pair("t.a", "ref", "t.b", "id")(&state).is_ok());
        assert!(attr_pair("t.a", "id", "t.b", "id")(&state).is_err());
        assert!(resource_exists("t.b")(&state).is_ok());
        assert!(resource_absent("t.b")(&state).is_err());
        assert!(no_resources(&state).is_err());
    }

    #[test]
    fn failures_never_print_sensitive_values() {
        let state = state();
        let error = attr_equals("t.a", "secret", "guess")(&state)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
        let error = attr_matches("t.a", "secret", "^x")(&state)
            .unwrap_err()
            .to_string();
        assert!(!error.contains("hunter2"), "{error}");
    }
}
