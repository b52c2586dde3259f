//! The inputs every principal-assignment resource shares: permission set ARNs and account ids, checked offline,
//! and that newly referenced permission sets belong to the named instance.

use std::collections::BTreeSet;

use crate::framework::model::{Attr, Set};
use crate::framework::{AttributePath, Diagnostic, Diagnostics, Value};

use super::ids::{instance_arn_of, is_account_id, is_permission_set_arn};

fn validate_set_elements(
    value: &Value,
    path: &AttributePath,
    valid: fn(&str) -> bool,
    summary: &str,
    explain: &str,
) -> Diagnostics {
    let mut diags = Diagnostics::new();
    for element in value.iter() {
        if let Some(text) = element.as_str()
            && !valid(text)
        {
            diags.push(Diagnostic::error(summary, format!("{text:?} {explain}")).at(path.clone()));
        }
    }
    diags
}

pub fn validate_account_ids(value: &Value, path: &AttributePath) -> Diagnostics {
    validate_set_elements(
        value,
        path,
        is_account_id,
        "Invalid AWS account id",
        "is not an AWS account id: account ids are exactly 12 digits (keep leading zeros; quote them).",
    )
}

pub fn validate_permission_set_arns(value: &Value, path: &AttributePath) -> Diagnostics {
    validate_set_elements(
        value,
        path,
        is_permission_set_arn,
        "Invalid permission set ARN",
        "is not a permission set ARN; expected arn:aws:sso:::permissionSet/ssoins-…/ps-… \
         (idbridge_permission_set.arn).",
    )
}

/// Permission set ARNs in the configuration that the prior state does not hold yet: the only ones worth
/// checking, so a steady-state plan makes no calls.
pub fn added_permission_set_arns(
    config: &Attr<Set<Attr<String>>>,
    prior: Option<&Attr<Set<Attr<String>>>>,
) -> Vec<String> {
    let held: BTreeSet<&String> = prior
        .into_iter()
        .flat_map(|prior| prior.known_elements())
        .collect();
    config
        .known_elements()
        .filter(|arn| is_permission_set_arn(arn) && !held.contains(arn))
        .cloned()
        .collect()
}

/// A permission set of another instance can never be assigned through `instance_arn`: say so offline.
pub fn check_instance_matches(
    instance_arn: &Attr<String>,
    arns: &[String],
) -> Result<(), Diagnostics> {
    let Some(instance_arn) = instance_arn.as_str() else {
        return Ok(());
    };
    let mut diags = Diagnostics::new();
    for arn in arns {
        if instance_arn_of(arn).as_deref() != Some(instance_arn) {
            diags.push(
                Diagnostic::error(
                    "Permission set of another instance",
                    format!("{arn:?} does not belong to the IAM Identity Center instance {instance_arn}."),
                )
                .at(AttributePath::new("permission_set_arns")),
            );
        }
    }
    if diags.has_errors() {
        Err(diags)
    } else {
        Ok(())
    }
}
