//! The instance's access control attributes (ABAC): which user attributes IAM Identity Center passes to AWS
//! accounts as session tags. sso-admin `Create/Describe/Update/DeleteInstanceAccessControlAttributeConfiguration`.

use aws_sdk_ssoadmin::types as sso;

use super::error::Error;
use super::identity_center::IdentityCenter;
use super::retry::{Conflicts, Deadline};

/// One session tag: its key and where the value comes from (e.g. `${path:enterprise.costCenter}`).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct AccessControlAttribute {
    pub key: String,
    pub sources: Vec<String>,
}

/// The configuration as AWS describes it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AccessControlConfiguration {
    pub attributes: Vec<AccessControlAttribute>,
    /// `ENABLED`, `CREATION_IN_PROGRESS` or `CREATION_FAILED`.
    pub status: Option<String>,
    pub status_reason: Option<String>,
}

fn to_sso(
    attributes: &[AccessControlAttribute],
) -> Result<sso::InstanceAccessControlAttributeConfiguration, Error> {
    let invalid = |e: aws_smithy_types::error::operation::BuildError| {
        Error::InvalidArgument(format!("access control attribute: {e}"))
    };
    let mut list = Vec::with_capacity(attributes.len());
    for attribute in attributes {
        let value = sso::AccessControlAttributeValue::builder()
            .set_source(Some(attribute.sources.clone()))
            .build()
            .map_err(invalid)?;
        list.push(
            sso::AccessControlAttribute::builder()
                .key(&attribute.key)
                .value(value)
                .build()
                .map_err(invalid)?,
        );
    }
    sso::InstanceAccessControlAttributeConfiguration::builder()
        .set_access_control_attributes(Some(list))
        .build()
        .map_err(invalid)
}

impl IdentityCenter {
    /// The configuration, `None` when the instance has none (ABAC off).
    pub async fn describe_access_control_attributes(
        &self,
        instance_arn: &str,
        deadline: Deadline,
    ) -> Result<Option<AccessControlConfiguration>, Error> {
        let out = self
            .call(
                "DescribeInstanceAccessControlAttributeConfiguration",
                Conflicts::Fail,
                deadline,
                || {
                    self.sso
                        .describe_instance_access_control_attribute_configuration()
                        .instance_arn(instance_arn)
                        .send()
                },
            )
            .await;
        let out = match out {
            Err(e) if e.is_not_found() => return Ok(None),
            other => other?,
        };
        let attributes = out
            .instance_access_control_attribute_configuration()
            .map(|c| {
                c.access_control_attributes()
                    .iter()
                    .map(|a| AccessControlAttribute {
                        key: a.key().to_owned(),
                        sources: a.value().map(|v| v.source().to_vec()).unwrap_or_default(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        Ok(Some(AccessControlConfiguration {
            attributes,
            status: out.status().map(|s| s.as_str().to_owned()),
            status_reason: out.status_reason().map(str::to_owned),
        }))
    }

    pub async fn create_access_control_attributes(
        &self,
        instance_arn: &str,
        attributes: &[AccessControlAttribute],
        deadline: Deadline,
    ) -> Result<(), Error> {
        let configuration = to_sso(attributes)?;
        self.call(
            "CreateInstanceAccessControlAttributeConfiguration",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .create_instance_access_control_attribute_configuration()
                    .instance_arn(instance_arn)
                    .instance_access_control_attribute_configuration(configuration.clone())
                    .send()
            },
        )
        .await?;
        Ok(())
    }

    pub async fn update_access_control_attributes(
        &self,
        instance_arn: &str,
        attributes: &[AccessControlAttribute],
        deadline: Deadline,
    ) -> Result<(), Error> {
        let configuration = to_sso(attributes)?;
        self.call(
            "UpdateInstanceAccessControlAttributeConfiguration",
            Conflicts::Retry,
            deadline,
            || {
                self.sso
                    .update_instance_access_control_attribute_configuration()
                    .instance_arn(instance_arn)
                    .instance_access_control_attribute_configuration(configuration.clone())
                    .send()
            },
        )
        .await?;
        Ok(())
    }

    /// Turns ABAC off; succeeds when it is off already.
    pub async fn delete_access_control_attributes(
        &self,
        instance_arn: &str,
        deadline: Deadline,
    ) -> Result<(), Error> {
        match self
            .call(
                "DeleteInstanceAccessControlAttributeConfiguration",
                Conflicts::Retry,
                deadline,
                || {
                    self.sso
                        .delete_instance_access_control_attribute_configuration()
                        .instance_arn(instance_arn)
                        .send()
                },
            )
            .await
        {
            Err(e) if e.is_not_found() => Ok(()),
            other => other.map(|_| ()),
        }
    }
}
