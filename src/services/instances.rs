//! Which IAM Identity Center instance to work in: the one named, or the only one visible.

use crate::clients::aws::{Deadline, Error as AwsClientError, IdentityCenter, Instance};
use crate::framework::{AttributePath, Diagnostic, Diagnostics};
use crate::helpers::{aws_error, sentence};

/// The instance to work in: the one whose ARN is `wanted`, or the only one visible. Errors name every
/// instance that is visible so the user can pick one.
pub async fn find_instance(
    identity_center: &IdentityCenter,
    wanted: Option<&str>,
    deadline: Deadline,
    path: AttributePath,
) -> Result<Instance, Diagnostics> {
    let instances = identity_center
        .list_instances(deadline)
        .await
        .map_err(|e| aws_error("Cannot list IAM Identity Center instances", &e))?;
    choose_instance(instances, wanted).map_err(|d| d.at(path).into())
}

fn choose_instance(
    mut instances: Vec<Instance>,
    wanted: Option<&str>,
) -> Result<Instance, Diagnostic> {
    let listed = || {
        instances
            .iter()
            .map(|i| {
                format!(
                    "{} (identity store {})",
                    i.instance_arn, i.identity_store_id
                )
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    if let Some(arn) = wanted {
        return match instances.iter().position(|i| i.instance_arn == arn) {
            Some(at) => Ok(instances.swap_remove(at)),
            None if instances.is_empty() => Err(no_instance()),
            None => Err(Diagnostic::error(
                "IAM Identity Center instance not found",
                format!(
                    "No instance with ARN {arn:?} is visible to the provider's AWS credentials in this region. \
                     Visible: {}.",
                    listed()
                ),
            )),
        };
    }
    match instances.len() {
        0 => Err(no_instance()),
        1 => Ok(instances.remove(0)),
        n => Err(Diagnostic::error(
            "Several IAM Identity Center instances",
            format!(
                "{n} instances are visible to the provider's AWS credentials: {}. Set `instance_arn` (or `arn` \
                 on this data source) to choose one.",
                listed()
            ),
        )),
    }
}

fn no_instance() -> Diagnostic {
    Diagnostic::error(
        "No IAM Identity Center instance",
        sentence(&AwsClientError::NoInstance.to_string()),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn instance(n: u8) -> Instance {
        Instance {
            instance_arn: format!("arn:aws:sso:::instance/ssoins-{n}"),
            identity_store_id: format!("d-{n}"),
            name: None,
            owner_account_id: None,
            status: None,
        }
    }

    #[test]
    fn the_only_instance_is_chosen_and_none_is_an_error() {
        assert_eq!(
            choose_instance(vec![instance(1)], None).unwrap(),
            instance(1)
        );
        let error = choose_instance(Vec::new(), None).unwrap_err();
        assert_eq!(error.summary, "No IAM Identity Center instance");
        assert!(error.detail.contains("region"), "{}", error.detail);
    }

    #[test]
    fn several_instances_are_listed_unless_one_is_chosen() {
        let error = choose_instance(vec![instance(1), instance(2)], None).unwrap_err();
        assert_eq!(error.summary, "Several IAM Identity Center instances");
        assert!(
            error.detail.contains("ssoins-1 (identity store d-1)")
                && error.detail.contains("ssoins-2 (identity store d-2)"),
            "{}",
            error.detail
        );
        let chosen = choose_instance(
            vec![instance(1), instance(2)],
            Some("arn:aws:sso:::instance/ssoins-2"),
        )
        .unwrap();
        assert_eq!(chosen, instance(2));
        let error = choose_instance(vec![instance(1)], Some("arn:aws:sso:::instance/ssoins-9"))
            .unwrap_err();
        assert!(error.detail.contains("ssoins-9") && error.detail.contains("ssoins-1"));
    }
}
