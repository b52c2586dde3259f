//! Managed resource RPCs: validation, state upgrade, read, plan, apply, import and move.

use super::{
    DEFAULT_TIMEOUT, EncodedValue, Registered, Server, encode_into, finish_state, unknown_type,
};
use crate::framework::diag::{Diagnostic, Diagnostics};
use crate::framework::json::{self, JsonDecodeOptions};
use crate::framework::path::AttributePath;
use crate::framework::provider::Provider;
use crate::framework::resource::{
    ApplyError, CreateRequest, MoveSource, PlanChange, RawState, Resource, UpdateRequest,
};
use crate::framework::schema::{self, Operation};
use crate::framework::value::Value;

#[derive(Debug)]
pub(crate) struct UpgradeResourceStateRequest {
    pub type_name: String,
    pub version: i64,
    pub raw_json: Vec<u8>,
    /// Whether the state came in the legacy flatmap format (which this framework never writes).
    pub legacy_flatmap: bool,
}

#[derive(Debug, Default)]
pub(crate) struct UpgradeResourceStateResponse {
    pub upgraded_state: Option<EncodedValue>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub(crate) struct ReadResourceRequest {
    pub type_name: String,
    pub current_state: EncodedValue,
    pub private: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct ReadResourceResponse {
    pub new_state: Option<EncodedValue>,
    pub new_identity: Option<EncodedValue>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub(crate) struct PlanResourceChangeRequest {
    pub type_name: String,
    pub prior_state: EncodedValue,
    pub proposed_new_state: EncodedValue,
    pub config: EncodedValue,
    pub prior_private: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct PlanResourceChangeResponse {
    pub planned_state: Option<EncodedValue>,
    /// Paths into set elements already end at the set, as Terraform compares them.
    pub requires_replace: Vec<AttributePath>,
    pub planned_private: Vec<u8>,
    /// The prior identity for an update; none for a create (apply makes it) or a destroy.
    pub planned_identity: Option<EncodedValue>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub(crate) struct ApplyResourceChangeRequest {
    pub type_name: String,
    pub prior_state: EncodedValue,
    pub planned_state: EncodedValue,
    pub config: EncodedValue,
    pub planned_private: Vec<u8>,
}

#[derive(Debug, Default)]
pub(crate) struct ApplyResourceChangeResponse {
    pub new_state: Option<EncodedValue>,
    pub new_identity: Option<EncodedValue>,
    pub private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub(crate) struct ImportedResource {
    pub type_name: String,
    pub state: EncodedValue,
    pub private: Vec<u8>,
    pub identity: Option<EncodedValue>,
}

/// An import by ID (`terraform import`, `import { id = … }`) or by identity (`import { identity = … }`).
#[derive(Debug)]
pub(crate) struct ImportResourceStateRequest {
    pub type_name: String,
    pub id: String,
    pub identity: Option<EncodedValue>,
}

#[derive(Debug, Default)]
pub(crate) struct ImportResourceStateResponse {
    pub imported: Option<ImportedResource>,
    pub diagnostics: Diagnostics,
}

#[derive(Debug)]
pub(crate) struct MoveResourceStateRequest {
    pub source: MoveSource,
    pub source_private: Vec<u8>,
    pub target_type_name: String,
}

#[derive(Debug, Default)]
pub(crate) struct MoveResourceStateResponse {
    pub target_state: Option<EncodedValue>,
    pub target_identity: Option<EncodedValue>,
    pub target_private: Vec<u8>,
    pub diagnostics: Diagnostics,
}

impl<P: Provider> Server<P> {
    pub(super) fn resource(
        &self,
        type_name: &str,
    ) -> Result<&Registered<dyn Resource>, Diagnostics> {
        self.resources
            .get(type_name)
            .ok_or_else(|| unknown_type("resource", type_name))
    }

    pub(crate) async fn validate_resource_config(
        &self,
        type_name: &str,
        config: &EncodedValue,
        write_only_allowed: bool,
    ) -> Diagnostics {
        self.validate(
            &self.resources,
            "resource",
            type_name,
            config,
            write_only_allowed,
        )
        .await
    }

    pub(crate) async fn upgrade_resource_state(
        &self,
        request: UpgradeResourceStateRequest,
    ) -> UpgradeResourceStateResponse {
        let mut diags = Diagnostics::new();
        let upgraded = async {
            let r = self.resource(&request.type_name)?;
            if request.raw_json.is_empty() {
                if !request.legacy_flatmap {
                    return EncodedValue::encode(&Value::Null, &r.ty);
                }
                return Err(Diagnostic::error(
                    "Unsupported state format",
                    "This state was written in the legacy flatmap format, which this provider never produced. Remove the resource from state and import it again.",
                )
                .into());
            }
            let current = r.schema.version;
            let mut state = if request.version == current {
                json::decode_with(&request.raw_json, &r.ty, JsonDecodeOptions { ignore_undefined_attributes: true }).map_err(|e| {
                    Diagnostics::from(Diagnostic::error(
                        "Unreadable resource state",
                        format!("The stored state does not match the schema: {e}. Remove the resource from state and import it again."),
                    ))
                })?
            } else if request.version > current {
                return Err(Diagnostic::error(
                    "Resource state is from a newer provider",
                    format!(
                        "The state of this {} was written with schema version {}, but this provider knows versions up to {current}. Upgrade the provider.",
                        request.type_name, request.version
                    ),
                )
                .into());
            } else {
                let ctx = self.context(&request.type_name, DEFAULT_TIMEOUT, Vec::new());
                let raw = RawState { json: request.raw_json.clone() };
                let result = self
                    .supervise(&ctx, r.handler.upgrade_state(&ctx, request.version, raw), Diagnostics::from)
                    .await;
                diags.extend(ctx.take_diagnostics());
                result?
            };
            schema::null_write_only(&r.schema, &mut state);
            EncodedValue::encode(&state, &r.ty)
        }
        .await
        .map_err(|e| diags.extend(e))
        .ok();
        UpgradeResourceStateResponse {
            upgraded_state: upgraded,
            diagnostics: diags,
        }
    }

    pub(crate) async fn read_resource(&self, request: ReadResourceRequest) -> ReadResourceResponse {
        let mut diags = Diagnostics::new();
        let mut private = request.private.clone();
        let mut new_identity = None;
        let new_state = async {
            let r = self.resource(&request.type_name)?;
            let current = request.current_state.decode(&r.ty)?;
            if current.is_null() {
                return EncodedValue::encode(&Value::Null, &r.ty);
            }
            let timeout = schema::timeout_from(&current, Operation::Read, r.handler.default_timeout(Operation::Read));
            let ctx = self.context(&request.type_name, timeout, request.private.clone());
            let result = self.supervise(&ctx, r.handler.read(&ctx, current.clone()), Diagnostics::from).await;
            diags.extend(ctx.take_diagnostics());
            private = ctx.private_out();
            let state = match result {
                Ok(Some(mut state)) => {
                    finish_state(&r.schema, &mut state, &mut diags);
                    state
                }
                Ok(None) => {
                    tracing::debug!(type_name = %request.type_name, "remote object is gone; removing from state");
                    Value::Null
                }
                Err(e) => {
                    diags.extend(e);
                    current
                }
            };
            new_identity = self.identity_of(&request.type_name, &state);
            EncodedValue::encode(&state, &r.ty)
        }
        .await;
        let new_state = new_state.map_err(|e| diags.extend(e)).ok();
        ReadResourceResponse {
            new_state,
            new_identity,
            private,
            diagnostics: diags,
        }
    }

    pub(crate) async fn plan_resource_change(
        &self,
        request: PlanResourceChangeRequest,
    ) -> PlanResourceChangeResponse {
        let mut diags = Diagnostics::new();
        let mut planned_private = request.prior_private.clone();
        let mut requires_replace = Vec::new();
        let mut planned_identity = None;
        let planned_state = async {
            let r = self.resource(&request.type_name)?;
            let prior = request.prior_state.decode(&r.ty)?;
            let proposed = request.proposed_new_state.decode(&r.ty)?;
            let config = request.config.decode(&r.ty)?;

            let mut change = if proposed.is_null() {
                PlanChange {
                    config,
                    prior,
                    planned: Value::Null,
                    requires_replace: Vec::new(),
                }
            } else {
                let mut planned = proposed;
                schema::null_write_only(&r.schema, &mut planned);
                // Like the framework: computed attributes left out of the configuration become "known after
                // apply" whenever something is changing, then plan modifiers may restore prior values.
                if prior.is_null() || planned != prior {
                    schema::mark_computed_unknown(&r.schema, &config, &mut planned);
                }
                let replace = if prior.is_null() {
                    Vec::new()
                } else {
                    schema::apply_plan_modifiers(&r.schema, &config, &prior, &mut planned)
                };
                PlanChange {
                    config,
                    prior,
                    planned,
                    requires_replace: replace,
                }
            };

            let timeout = r.handler.default_timeout(Operation::Read);
            let ctx = self.context(&request.type_name, timeout, request.prior_private.clone());
            let result = self
                .supervise(
                    &ctx,
                    r.handler.modify_plan(&ctx, &mut change),
                    Diagnostics::from,
                )
                .await;
            diags.extend(ctx.take_diagnostics());
            planned_private = ctx.private_out();
            result?;

            if !change.planned.is_null() {
                schema::null_write_only(&r.schema, &mut change.planned);
            }
            if !change.prior.is_null() && !change.planned.is_null() {
                // Compared as Terraform will see them: paths into set elements end at the set.
                for path in change.requires_replace.iter().map(AttributePath::up_to_set) {
                    if !requires_replace.contains(&path) {
                        requires_replace.push(path);
                    }
                }
                // Identities never change in place: an update keeps the prior one.
                planned_identity = self.identity_of(&request.type_name, &change.prior);
            }
            EncodedValue::encode(&change.planned, &r.ty)
        }
        .await;
        let planned_state = planned_state.map_err(|e| diags.extend(e)).ok();
        PlanResourceChangeResponse {
            planned_state,
            requires_replace,
            planned_private,
            planned_identity,
            diagnostics: diags,
        }
    }

    pub(crate) async fn apply_resource_change(
        &self,
        request: ApplyResourceChangeRequest,
    ) -> ApplyResourceChangeResponse {
        let mut diags = Diagnostics::new();
        let mut private = request.planned_private.clone();
        let mut new_state = None;
        let mut new_identity = None;
        let outcome = async {
            let r = self.resource(&request.type_name)?;
            let prior = request.prior_state.decode(&r.ty)?;
            let planned = request.planned_state.decode(&r.ty)?;
            let config = request.config.decode(&r.ty)?;
            let default_timeout = |op| r.handler.default_timeout(op);

            let state = if planned.is_null() {
                tracing::debug!(type_name = %request.type_name, "deleting");
                let timeout = schema::timeout_from(&prior, Operation::Delete, default_timeout(Operation::Delete));
                let ctx = self.context(&request.type_name, timeout, request.planned_private.clone());
                let result = self.supervise(&ctx, r.handler.delete(&ctx, prior.clone()), Diagnostics::from).await;
                diags.extend(ctx.take_diagnostics());
                match result {
                    Ok(()) => Value::Null,
                    Err(e) => {
                        diags.extend(e);
                        prior
                    }
                }
            } else {
                let creating = prior.is_null();
                let op = if creating { Operation::Create } else { Operation::Update };
                tracing::debug!(type_name = %request.type_name, operation = op.as_str(), "applying");
                let timeout = schema::timeout_from(&planned, op, default_timeout(op));
                let ctx = self.context(&request.type_name, timeout, request.planned_private.clone());
                let work = async {
                    if creating {
                        r.handler.create(&ctx, CreateRequest { config, planned }).await
                    } else {
                        r.handler.update(&ctx, UpdateRequest { config, planned, prior: prior.clone() }).await
                    }
                };
                let result = self.supervise(&ctx, work, ApplyError::from).await;
                diags.extend(ctx.take_diagnostics());
                private = ctx.private_out();
                match result {
                    Ok(mut state) => {
                        finish_state(&r.schema, &mut state, &mut diags);
                        state
                    }
                    Err(e) => {
                        diags.extend(e.diagnostics);
                        // Keep what exists: partial state if the resource reported one, else what was there.
                        let mut state = e.partial_state.unwrap_or(prior);
                        let mut ignored = Diagnostics::new();
                        finish_state(&r.schema, &mut state, &mut ignored);
                        state
                    }
                }
            };
            new_identity = self.identity_of(&request.type_name, &state);
            new_state = encode_into(&state, &r.ty, &mut diags);
            Ok::<_, Diagnostics>(())
        }
        .await;
        if let Err(e) = outcome {
            diags.extend(e);
        }
        ApplyResourceChangeResponse {
            new_state,
            new_identity,
            private,
            diagnostics: diags,
        }
    }

    pub(crate) async fn import_resource_state(
        &self,
        request: ImportResourceStateRequest,
    ) -> ImportResourceStateResponse {
        let mut diags = Diagnostics::new();
        let type_name = request.type_name.as_str();
        let imported = async {
            let r = self.resource(type_name)?;
            // By identity: the identity names the object, the resource's own import does the rest.
            let (id, given_identity) = match &request.identity {
                Some(identity) if request.id.is_empty() => {
                    let (schema, identity) = self.decode_identity(type_name, identity)?;
                    (schema.to_import_id(&identity)?, Some(identity))
                }
                _ => (request.id.clone(), None),
            };
            if id.is_empty() {
                return Err(Diagnostic::error(
                    "Import ID or identity required",
                    "Import this resource by ID (`terraform import` or an `import` block with `id`) or, where the resource has an identity, with `identity` in the import block.",
                )
                .into());
            }
            let ctx = self.context(type_name, r.handler.default_timeout(Operation::Read), Vec::new());
            let result = self.supervise(&ctx, r.handler.import_state(&ctx, &id), Diagnostics::from).await;
            diags.extend(ctx.take_diagnostics());
            let mut state = result?;
            finish_state(&r.schema, &mut state, &mut diags);
            let identity = self.identity_of(type_name, &state).or_else(|| {
                let (_, ty) = self.identities.get(type_name)?;
                EncodedValue::encode(given_identity.as_ref()?, ty).ok()
            });
            Ok::<_, Diagnostics>(ImportedResource {
                type_name: type_name.to_owned(),
                state: EncodedValue::encode(&state, &r.ty)?,
                private: ctx.private_out(),
                identity,
            })
        }
        .await;
        let imported = imported.map_err(|e| diags.extend(e)).ok();
        ImportResourceStateResponse {
            imported,
            diagnostics: diags,
        }
    }

    pub(crate) async fn move_resource_state(
        &self,
        request: MoveResourceStateRequest,
    ) -> MoveResourceStateResponse {
        let mut diags = Diagnostics::new();
        let mut target_private = Vec::new();
        let mut target_identity = None;
        let target_state = async {
            let r = self.resource(&request.target_type_name)?;
            let source = &request.source;
            let ctx = self.context(&request.target_type_name, DEFAULT_TIMEOUT, request.source_private.clone());
            let work = async { Ok::<_, Diagnostics>(r.handler.move_state(&ctx, source).await) };
            let result = self.supervise(&ctx, work, Diagnostics::from).await;
            diags.extend(ctx.take_diagnostics());
            target_private = ctx.private_out();
            let Some(moved) = result? else {
                return Err(Diagnostic::error(
                    "Unable to move resource state",
                    format!(
                        "{} does not accept state moved from {} ({}). Remove the `moved` block and import the object instead.",
                        request.target_type_name, source.type_name, source.provider_address
                    ),
                )
                .into());
            };
            let mut state = moved?;
            finish_state(&r.schema, &mut state, &mut diags);
            target_identity = self.identity_of(&request.target_type_name, &state);
            EncodedValue::encode(&state, &r.ty)
        }
        .await;
        let target_state = target_state.map_err(|e| diags.extend(e)).ok();
        MoveResourceStateResponse {
            target_state,
            target_identity,
            target_private,
            diagnostics: diags,
        }
    }
}
