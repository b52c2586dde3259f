//! What ids and ARNs look like, checked before any call so that a typo fails at plan with the attribute named.

use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

/// An Entra object id: a GUID in its 8-4-4-4-12 hexadecimal form.
pub fn is_object_id(text: &str) -> bool {
    let groups: Vec<&str> = text.split('-').collect();
    groups.iter().map(|group| group.len()).eq([8, 4, 4, 4, 12])
        && groups
            .iter()
            .all(|group| group.bytes().all(|b| b.is_ascii_hexdigit()))
}

/// Checks that `value`, when known, is an Entra object id; `what` names it in the error ("application id").
pub fn validate_object_id(value: &Value, path: &AttributePath, what: &str) -> Diagnostics {
    match value.as_str() {
        Some(text) if !is_object_id(text) => Diagnostic::error(
            format!("Invalid {what}"),
            format!("{text:?} is not an Entra object id (a GUID such as 00000000-0000-0000-0000-000000000000)."),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

pub fn is_account_id(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

fn lower_alphanumeric(text: &str, lengths: std::ops::RangeInclusive<usize>) -> bool {
    lengths.contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_digit() || b.is_ascii_lowercase())
}

/// An organization root id, `r-` and 4 to 32 lowercase letters or digits (Organizations API reference,
/// `ParentId` pattern).
pub fn is_root_id(text: &str) -> bool {
    text.strip_prefix("r-")
        .is_some_and(|rest| lower_alphanumeric(rest, 4..=32))
}

/// An organizational unit id, `ou-`, 4 to 32 lowercase letters or digits (the root's), `-`, 8 to 32 more
/// (Organizations API reference, `ParentId` pattern).
pub fn is_organizational_unit_id(text: &str) -> bool {
    text.strip_prefix("ou-")
        .and_then(|rest| rest.split_once('-'))
        .is_some_and(|(root, unit)| {
            lower_alphanumeric(root, 4..=32) && lower_alphanumeric(unit, 8..=32)
        })
}

/// `arn:aws:sso:::permissionSet/ssoins-<hex>/ps-<hex>` (other partitions: `aws-us-gov`, `aws-cn`).
pub fn is_permission_set_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(rest) = rest.strip_prefix("sso:::permissionSet/") else {
        return false;
    };
    let token = |s: &str, prefix: &str| {
        s.strip_prefix(prefix).is_some_and(|id| {
            !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        })
    };
    partition.starts_with("aws")
        && matches!(rest.split_once('/'), Some((instance, ps)) if token(instance, "ssoins-") && token(ps, "ps-"))
}

/// The instance ARN a permission set ARN belongs to:
/// `arn:aws:sso:::permissionSet/ssoins-X/ps-Y` → `arn:aws:sso:::instance/ssoins-X`.
pub fn instance_arn_of(permission_set_arn: &str) -> Option<String> {
    let (prefix, resource) = permission_set_arn.split_once(":::")?;
    let (partition, service) = prefix.strip_prefix("arn:")?.split_once(':')?;
    if service != "sso" || partition.is_empty() {
        return None;
    }
    let mut parts = resource.split('/');
    let (kind, instance, set) = (parts.next()?, parts.next()?, parts.next()?);
    let valid = (kind == "permissionSet" || kind == "instance")
        && instance.starts_with("ssoins-")
        && instance.len() > "ssoins-".len()
        && set.starts_with("ps-")
        && set.len() > "ps-".len()
        && parts.next().is_none();
    valid.then(|| format!("arn:{partition}:sso:::instance/{instance}"))
}

/// Checks that `value`, when known, is an IAM Identity Center instance ARN.
pub fn validate_instance_arn(value: &Value, path: &AttributePath) -> Diagnostics {
    match value.as_str() {
        Some(text) if !is_instance_arn(text) => Diagnostic::error(
            "Invalid instance ARN",
            format!(
                "{text:?} is not an IAM Identity Center instance ARN; expected \
                 arn:aws:sso:::instance/ssoins-<id> (the `arn` of data.idbridge_sso_instance)."
            ),
        )
        .at(path.clone())
        .into(),
        _ => Diagnostics::new(),
    }
}

/// `arn:aws:sso:::instance/ssoins-<id>` (other partitions: `aws-us-gov`, `aws-cn`).
pub fn is_instance_arn(text: &str) -> bool {
    let Some(rest) = text.strip_prefix("arn:") else {
        return false;
    };
    let Some((partition, rest)) = rest.split_once(':') else {
        return false;
    };
    let Some(id) = rest.strip_prefix("sso:::instance/ssoins-") else {
        return false;
    };
    partition.starts_with("aws") && !id.is_empty() && id.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instance_arns_are_checked_whole() {
        assert!(is_instance_arn(
            "arn:aws:sso:::instance/ssoins-1234567890abcdef"
        ));
        assert!(is_instance_arn(
            "arn:aws-us-gov:sso:::instance/ssoins-72230a8e"
        ));
        for bad in [
            "ssoins-1234567890abcdef",
            "arn:aws:sso:::instance/",
            "arn:aws:sso:::instance/ssoins-",
            "arn:aws:sso:::permissionSet/ssoins-1/ps-2",
            "arn:aws:sso::123456789012:instance/ssoins-1",
        ] {
            assert!(!is_instance_arn(bad), "{bad:?}");
        }
    }

    #[test]
    fn object_ids_are_guids_in_8_4_4_4_12_form() {
        assert!(is_object_id("00000000-0000-0000-0000-000000000000"));
        assert!(is_object_id("6F0a1b2c-3d4e-5f60-7a8b-9c0d1e2f3a4b"));
        for bad in [
            "",
            "not-a-guid",
            "00000000-0000-0000-0000-00000000000",
            "00000000-0000-0000-0000-0000000000000",
            "00000000000000000000000000000000",
            "0000000g-0000-0000-0000-000000000000",
            "00000000-0000-0000-0000-000000000000-0000",
            "0000000é-0000-0000-0000-00000000000",
        ] {
            assert!(!is_object_id(bad), "{bad:?}");
        }
    }
}
