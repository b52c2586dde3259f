//! Resource identity: the schemas Terraform asks for, identity upgrades, and the identity of a state,
//! which every resource RPC answers with when the resource has an identity schema.

use super::{EncodedValue, Server};
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::identity::IdentitySchema;
use crate::framework::json::{self, JsonDecodeOptions};
use crate::framework::provider::Provider;
use crate::framework::value::Value;

#[derive(Debug)]
pub(crate) struct UpgradeResourceIdentityRequest {
    pub type_name: String,
    pub version: i64,
    pub raw_json: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct UpgradeResourceIdentityResponse {
    pub upgraded_identity: Option<EncodedValue>,
    pub diagnostics: Diagnostics,
}

impl<P: Provider> Server<P> {
    /// Identity schemas by resource type name.
    pub(crate) fn identity_schemas(&self) -> Vec<(&str, &IdentitySchema)> {
        self.identities
            .iter()
            .map(|(name, (schema, _))| (name.as_str(), schema))
            .collect()
    }

    /// The identity of `state` for a response, `None` when the resource has no identity or the state
    /// does not (yet) name an object.
    pub(crate) fn identity_of(&self, type_name: &str, state: &Value) -> Option<EncodedValue> {
        let (schema, ty) = self.identities.get(type_name)?;
        let identity = schema.from_state(state);
        if identity.is_null() || !schema.is_complete(&identity) {
            return None;
        }
        EncodedValue::encode(&identity, ty).ok()
    }

    /// Decodes an identity Terraform sent (an `import` block's `identity`, a stored identity).
    pub(crate) fn decode_identity(
        &self,
        type_name: &str,
        identity: &EncodedValue,
    ) -> Result<(&IdentitySchema, Value), Diagnostics> {
        let (schema, ty) = self.identities.get(type_name).ok_or_else(|| {
            Diagnostics::from(Diagnostic::error(
                "Import by identity not supported",
                format!("{type_name} has no resource identity; import it by ID (`id` in the import block)."),
            ))
        })?;
        Ok((schema, identity.decode(ty)?))
    }

    /// Identities are at version 0 everywhere so far: a stored identity of the current version is
    /// re-encoded (dropping attributes no longer there), anything else is refused.
    pub(crate) fn upgrade_resource_identity(
        &self,
        request: UpgradeResourceIdentityRequest,
    ) -> UpgradeResourceIdentityResponse {
        let outcome = (|| {
            let (schema, ty) = self.identities.get(&request.type_name).ok_or_else(|| {
                Diagnostics::from(Diagnostic::error(
                    "Resource identity not supported",
                    format!("{} has no resource identity.", request.type_name),
                ))
            })?;
            if request.version != schema.version {
                return Err(Diagnostic::error(
                    "Unable to upgrade resource identity",
                    format!(
                        "The identity of this {} was stored with identity version {}, but this provider has version {}. Remove the resource from state and import it again.",
                        request.type_name, request.version, schema.version
                    ),
                )
                .into());
            }
            let identity = json::decode_with(&request.raw_json, ty, JsonDecodeOptions { ignore_undefined_attributes: true })
                .map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Unreadable resource identity",
                        format!("The stored identity does not match the identity schema: {e}. Remove the resource from state and import it again."),
                    ))
                })?;
            EncodedValue::encode(&identity, ty)
        })();
        match outcome {
            Ok(identity) => UpgradeResourceIdentityResponse {
                upgraded_identity: Some(identity),
                diagnostics: Diagnostics::new(),
            },
            Err(diagnostics) => UpgradeResourceIdentityResponse {
                upgraded_identity: None,
                diagnostics,
            },
        }
    }
}
