//! `idbridge_sso_instance`: the IAM Identity Center instance the provider's AWS credentials see, with its
//! identity store. Also home of the instance discovery and AWS error wording every Identity Center resource
//! and data source shares, so they all fail the same way.

use async_trait::async_trait;

use crate::clients::aws::{Deadline, Error as AwsClientError, IdentityCenter, Instance};
use crate::framework::{
    Attribute, AttributePath, Context, DataSource, Diagnostic, Diagnostics, NestedBlock, Operation,
    Schema, Value,
};
use crate::provider::IdbridgeClients;

pub const TYPE_NAME: &str = "idbridge_sso_instance";

/// A diagnostic for a failed Identity Center call: what was being done, then AWS's own words (code and
/// message), then what usually fixes it.
pub(crate) fn aws_error(summary: &str, error: &AwsClientError) -> Diagnostic {
    let hint = match error {
        AwsClientError::Api(e) if e.kind == crate::clients::aws::ErrorKind::AccessDenied => {
            " Check that the provider's AWS credentials may call IAM Identity Center (sso:* and identitystore:* \
             actions) in the management or delegated administrator account."
        }
        AwsClientError::DeadlineExceeded { .. } => {
            " AWS kept failing or throttling until the operation's timeout; retry, or raise the `timeouts` \
             value."
        }
        _ => "",
    };
    Diagnostic::error(summary, format!("{}.{hint}", sentence(&error.to_string())))
}

fn sentence(text: &str) -> String {
    let mut chars = text.chars();
    let first: String = chars
        .next()
        .map(|c| c.to_uppercase().collect())
        .unwrap_or_default();
    format!("{first}{}", chars.as_str().trim_end_matches('.'))
}

/// The instance to work in: the one whose ARN is `wanted`, or the only one visible. Errors name every
/// instance that is visible so the user can pick one.
pub(crate) async fn find_instance(
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
        format!("{}.", sentence(&AwsClientError::NoInstance.to_string())),
    )
}

pub struct SsoInstanceDataSource;

#[async_trait]
impl DataSource for SsoInstanceDataSource {
    fn type_name(&self) -> &str {
        TYPE_NAME
    }

    fn schema(&self) -> Schema {
        Schema::new()
            .description(
                "The AWS IAM Identity Center instance visible to the provider's AWS credentials in the configured \
                 region, and its identity store. Fails when there is none, or when there are several and `arn` \
                 does not choose one.",
            )
            .attribute(Attribute::string("arn").optional().computed().description(
                "The instance ARN (`arn:aws:sso:::instance/ssoins-...`). Set it to choose among several \
                 instances; otherwise the only visible instance is used.",
            ))
            .attribute(
                Attribute::string("identity_store_id")
                    .computed()
                    .description("The ID of the instance's identity store (`d-...`)."),
            )
            .attribute(
                Attribute::string("region")
                    .computed()
                    .description("The AWS region the instance was found in."),
            )
            .block(NestedBlock::timeouts(&[Operation::Read]))
    }

    async fn read(&self, ctx: &Context, config: Value) -> Result<Value, Diagnostics> {
        let clients = IdbridgeClients::from_context(ctx)?;
        let identity_center = clients.identity_center().await?;
        let deadline = Deadline::after(ctx.remaining());
        let instance = ctx
            .guard(find_instance(
                &identity_center,
                config.get_str("arn"),
                deadline,
                AttributePath::new("arn"),
            ))
            .await?;
        Ok(config
            .with("arn", instance.instance_arn)
            .with("identity_store_id", instance.identity_store_id)
            .with("region", identity_center.region()))
    }
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

    #[test]
    fn aws_errors_quote_aws_and_add_a_hint() {
        let error = AwsClientError::Api(crate::clients::aws::AwsError::new(
            "ListInstances",
            "AccessDeniedException",
            "not allowed",
            Some(400),
        ));
        let diagnostic = aws_error("Cannot list", &error);
        assert!(
            diagnostic.detail.starts_with(
                "ListInstances failed (AccessDeniedException, HTTP 400): not allowed."
            ),
            "{}",
            diagnostic.detail
        );
        assert!(diagnostic.detail.contains("credentials"));
    }
}
