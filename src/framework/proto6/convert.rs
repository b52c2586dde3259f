//! The one place where protocol 6 wire messages turn into framework types and back (in the manner of
//! terraform-plugin-framework's `fromproto6`/`toproto6`). Values stay encoded here: decoding needs the
//! schema type, which the server looks up by type name.

use std::time::SystemTime;

use crate::framework::diag::{Diagnostic, Diagnostics, Severity};
use crate::framework::function::{FunctionDefinition, FunctionError, Parameter};
use crate::framework::identity::IdentitySchema;
use crate::framework::path::{AttributePath, PathStep};
use crate::framework::resource::{MoveSource, RawState};
use crate::framework::schema::{Attribute, AttributeType, Block, Nesting, Schema};
use crate::framework::server::{
    ApplyResourceChangeRequest, ApplyResourceChangeResponse, ConfigureProviderRequest,
    EncodedValue, ImportResourceStateRequest, ImportResourceStateResponse, InvokeActionEvent,
    ListResourceEvent, ListResourceRequest, Metadata, MoveResourceStateRequest,
    MoveResourceStateResponse, OpenEphemeralResourceResponse, PlanResourceChangeRequest,
    PlanResourceChangeResponse, ProviderSchemas, ReadDataSourceResponse, ReadResourceRequest,
    ReadResourceResponse, RenewEphemeralResourceResponse, ServerCapabilities,
    UpgradeResourceIdentityRequest, UpgradeResourceIdentityResponse, UpgradeResourceStateRequest,
    UpgradeResourceStateResponse,
};
use crate::protocol::tfplugin6::{self as pb, schema as proto_schema};

/// Framework → wire.
pub(crate) trait ToProto6 {
    type Proto;
    fn to_proto6(&self) -> Self::Proto;
}

/// Wire → framework, for parts that need no schema.
pub(crate) trait FromProto6<Proto> {
    fn from_proto6(proto: &Proto) -> Self;
}

// ------------------------------------------------------------------------------------------ diagnostics

impl ToProto6 for AttributePath {
    type Proto = pb::AttributePath;

    /// Attribute name / element key string / element key int steps; the protocol cannot address a set
    /// element, so paths into sets end at the set.
    fn to_proto6(&self) -> pb::AttributePath {
        use pb::attribute_path::{Step, step::Selector};
        let steps = self
            .up_to_set()
            .steps()
            .iter()
            .filter_map(|step| {
                Some(Step {
                    selector: Some(match step {
                        PathStep::Attribute(name) => Selector::AttributeName(name.clone()),
                        PathStep::Key(key) => Selector::ElementKeyString(key.clone()),
                        PathStep::Index(index) => Selector::ElementKeyInt(*index),
                        PathStep::SetElement => return None,
                    }),
                })
            })
            .collect();
        pb::AttributePath { steps }
    }
}

impl FromProto6<pb::AttributePath> for AttributePath {
    /// Steps without a selector are dropped.
    fn from_proto6(path: &pb::AttributePath) -> Self {
        use pb::attribute_path::step::Selector;
        AttributePath::from_steps(
            path.steps
                .iter()
                .filter_map(|step| {
                    Some(match step.selector.as_ref()? {
                        Selector::AttributeName(name) => PathStep::Attribute(name.clone()),
                        Selector::ElementKeyString(key) => PathStep::Key(key.clone()),
                        Selector::ElementKeyInt(index) => PathStep::Index(*index),
                    })
                })
                .collect(),
        )
    }
}

impl ToProto6 for Diagnostic {
    type Proto = pb::Diagnostic;

    fn to_proto6(&self) -> pb::Diagnostic {
        let severity = match self.severity {
            Severity::Error => pb::diagnostic::Severity::Error,
            Severity::Warning => pb::diagnostic::Severity::Warning,
        };
        pb::Diagnostic {
            severity: severity as i32,
            summary: self.summary.clone(),
            detail: self.detail.clone(),
            attribute: self
                .path
                .as_ref()
                .filter(|p| !p.is_root())
                .map(AttributePath::to_proto6),
        }
    }
}

impl ToProto6 for Diagnostics {
    type Proto = Vec<pb::Diagnostic>;

    fn to_proto6(&self) -> Vec<pb::Diagnostic> {
        self.iter().map(Diagnostic::to_proto6).collect()
    }
}

// -------------------------------------------------------------------------------------- schemas, functions

fn markdown() -> i32 {
    pb::StringKind::Markdown as i32
}

impl ToProto6 for Attribute {
    type Proto = proto_schema::Attribute;

    fn to_proto6(&self) -> proto_schema::Attribute {
        let (ty, nested_type) = match &self.ty {
            AttributeType::Plain(ty) => (ty.to_json(), None),
            AttributeType::Nested {
                nesting,
                attributes,
            } => {
                let nesting = match nesting {
                    Nesting::Single => proto_schema::object::NestingMode::Single,
                    Nesting::List => proto_schema::object::NestingMode::List,
                    Nesting::Set => proto_schema::object::NestingMode::Set,
                    Nesting::Map => proto_schema::object::NestingMode::Map,
                };
                let object = proto_schema::Object {
                    attributes: attributes.iter().map(Attribute::to_proto6).collect(),
                    nesting: nesting as i32,
                    ..Default::default()
                };
                (Vec::new(), Some(object))
            }
        };
        proto_schema::Attribute {
            name: self.name.clone(),
            r#type: ty,
            nested_type,
            description: self.description.clone(),
            required: self.required,
            optional: self.optional,
            computed: self.computed,
            sensitive: self.sensitive,
            description_kind: markdown(),
            deprecated: self.deprecation_message.is_some(),
            write_only: self.write_only,
            deprecation_message: self.deprecation_message.clone().unwrap_or_default(),
        }
    }
}

/// Only the top-level block carries the schema version; nested blocks say 0.
fn block_to_proto6(block: &Block, version: i64) -> proto_schema::Block {
    proto_schema::Block {
        version,
        attributes: block.attributes.iter().map(Attribute::to_proto6).collect(),
        block_types: block
            .blocks
            .iter()
            .map(|b| {
                let nesting = match b.nesting {
                    Nesting::Single => proto_schema::nested_block::NestingMode::Single,
                    Nesting::List => proto_schema::nested_block::NestingMode::List,
                    Nesting::Set => proto_schema::nested_block::NestingMode::Set,
                    Nesting::Map => proto_schema::nested_block::NestingMode::Map,
                };
                proto_schema::NestedBlock {
                    type_name: b.type_name.clone(),
                    block: Some(block_to_proto6(&b.block, 0)),
                    nesting: nesting as i32,
                    min_items: b.min_items,
                    max_items: b.max_items,
                }
            })
            .collect(),
        description: block.description.clone(),
        description_kind: markdown(),
        deprecated: block.deprecation_message.is_some(),
        deprecation_message: block.deprecation_message.clone().unwrap_or_default(),
    }
}

impl ToProto6 for Schema {
    type Proto = pb::Schema;

    fn to_proto6(&self) -> pb::Schema {
        pb::Schema {
            version: self.version,
            block: Some(block_to_proto6(&self.block, self.version)),
        }
    }
}

impl ToProto6 for Parameter {
    type Proto = pb::function::Parameter;

    fn to_proto6(&self) -> pb::function::Parameter {
        pb::function::Parameter {
            name: self.name.clone(),
            r#type: self.ty.to_json(),
            allow_null_value: self.allow_null,
            allow_unknown_values: self.allow_unknown,
            description: self.description.clone(),
            description_kind: markdown(),
        }
    }
}

impl ToProto6 for FunctionDefinition {
    type Proto = pb::Function;

    fn to_proto6(&self) -> pb::Function {
        pb::Function {
            parameters: self.parameters.iter().map(Parameter::to_proto6).collect(),
            variadic_parameter: self.variadic.as_ref().map(Parameter::to_proto6),
            r#return: Some(pb::function::Return {
                r#type: self.return_type.to_json(),
            }),
            summary: self.summary.clone(),
            description: self.description.clone(),
            description_kind: markdown(),
            deprecation_message: self.deprecation_message.clone().unwrap_or_default(),
        }
    }
}

impl ToProto6 for ServerCapabilities {
    type Proto = pb::ServerCapabilities;

    fn to_proto6(&self) -> pb::ServerCapabilities {
        pb::ServerCapabilities {
            plan_destroy: self.plan_destroy,
            get_provider_schema_optional: self.get_provider_schema_optional,
            move_resource_state: self.move_resource_state,
            generate_resource_config: self.generate_resource_config,
        }
    }
}

fn functions_to_proto6(
    functions: &[&FunctionDefinition],
) -> std::collections::HashMap<String, pb::Function> {
    functions
        .iter()
        .map(|def| (def.name.clone(), def.to_proto6()))
        .collect()
}

impl From<ProviderSchemas<'_>> for pb::get_provider_schema::Response {
    fn from(schemas: ProviderSchemas<'_>) -> Self {
        let by_name = |schemas: &[(&str, &Schema)]| {
            schemas
                .iter()
                .map(|(name, schema)| (name.to_string(), schema.to_proto6()))
                .collect()
        };
        pb::get_provider_schema::Response {
            provider: Some(schemas.provider.to_proto6()),
            resource_schemas: by_name(&schemas.resources),
            data_source_schemas: by_name(&schemas.data_sources),
            ephemeral_resource_schemas: by_name(&schemas.ephemeral_resources),
            list_resource_schemas: by_name(&schemas.list_resources),
            action_schemas: schemas
                .actions
                .iter()
                .map(|(name, schema)| {
                    let schema = Some(schema.to_proto6());
                    (name.to_string(), pb::ActionSchema { schema })
                })
                .collect(),
            functions: functions_to_proto6(&schemas.functions),
            diagnostics: schemas.diagnostics.to_proto6(),
            server_capabilities: Some(schemas.capabilities.to_proto6()),
            ..Default::default()
        }
    }
}

impl From<ProviderSchemas<'_>> for pb::get_functions::Response {
    fn from(schemas: ProviderSchemas<'_>) -> Self {
        pb::get_functions::Response {
            functions: functions_to_proto6(&schemas.functions),
            diagnostics: schemas.diagnostics.to_proto6(),
        }
    }
}

impl From<Metadata<'_>> for pb::get_metadata::Response {
    fn from(metadata: Metadata<'_>) -> Self {
        use pb::get_metadata::{
            ActionMetadata, DataSourceMetadata, EphemeralMetadata, FunctionMetadata,
            ListResourceMetadata, ResourceMetadata,
        };
        let names = |names: &[&str]| {
            names
                .iter()
                .map(|name| name.to_string())
                .collect::<Vec<_>>()
        };
        pb::get_metadata::Response {
            server_capabilities: Some(metadata.capabilities.to_proto6()),
            diagnostics: metadata.diagnostics.to_proto6(),
            resources: names(&metadata.resources)
                .into_iter()
                .map(|type_name| ResourceMetadata { type_name })
                .collect(),
            data_sources: names(&metadata.data_sources)
                .into_iter()
                .map(|type_name| DataSourceMetadata { type_name })
                .collect(),
            ephemeral_resources: names(&metadata.ephemeral_resources)
                .into_iter()
                .map(|type_name| EphemeralMetadata { type_name })
                .collect(),
            functions: names(&metadata.functions)
                .into_iter()
                .map(|name| FunctionMetadata { name })
                .collect(),
            list_resources: names(&metadata.list_resources)
                .into_iter()
                .map(|type_name| ListResourceMetadata { type_name })
                .collect(),
            actions: names(&metadata.actions)
                .into_iter()
                .map(|type_name| ActionMetadata { type_name })
                .collect(),
            ..Default::default()
        }
    }
}

impl ToProto6 for IdentitySchema {
    type Proto = pb::ResourceIdentitySchema;

    fn to_proto6(&self) -> pb::ResourceIdentitySchema {
        pb::ResourceIdentitySchema {
            version: self.version,
            identity_attributes: self
                .attributes
                .iter()
                .map(|a| pb::resource_identity_schema::IdentityAttribute {
                    name: a.name.clone(),
                    r#type: a.ty.to_json(),
                    required_for_import: a.required_for_import,
                    optional_for_import: !a.required_for_import,
                    description: a.description.clone(),
                })
                .collect(),
        }
    }
}

pub(crate) fn identity_schemas_response(
    schemas: &[(&str, &IdentitySchema)],
) -> pb::get_resource_identity_schemas::Response {
    pb::get_resource_identity_schemas::Response {
        identity_schemas: schemas
            .iter()
            .map(|(name, schema)| (name.to_string(), schema.to_proto6()))
            .collect(),
        diagnostics: Vec::new(),
    }
}

// ------------------------------------------------------------------------------------------------ values

impl FromProto6<pb::DynamicValue> for EncodedValue {
    /// MessagePack wins when Terraform sent both; neither means null.
    fn from_proto6(value: &pb::DynamicValue) -> Self {
        if !value.msgpack.is_empty() {
            EncodedValue::MsgPack(value.msgpack.clone())
        } else if !value.json.is_empty() {
            EncodedValue::Json(value.json.clone())
        } else {
            EncodedValue::Absent
        }
    }
}

impl FromProto6<Option<pb::DynamicValue>> for EncodedValue {
    fn from_proto6(value: &Option<pb::DynamicValue>) -> Self {
        value
            .as_ref()
            .map_or(EncodedValue::Absent, EncodedValue::from_proto6)
    }
}

impl ToProto6 for EncodedValue {
    type Proto = pb::DynamicValue;

    fn to_proto6(&self) -> pb::DynamicValue {
        let (msgpack, json) = match self {
            EncodedValue::Absent => (Vec::new(), Vec::new()),
            EncodedValue::MsgPack(bytes) => (bytes.clone(), Vec::new()),
            EncodedValue::Json(bytes) => (Vec::new(), bytes.clone()),
        };
        pb::DynamicValue { msgpack, json }
    }
}

pub(crate) fn arguments(values: &[pb::DynamicValue]) -> Vec<EncodedValue> {
    values.iter().map(EncodedValue::from_proto6).collect()
}

fn encoded(value: Option<EncodedValue>) -> Option<pb::DynamicValue> {
    value.as_ref().map(EncodedValue::to_proto6)
}

fn identity_data(identity: Option<EncodedValue>) -> Option<pb::ResourceIdentityData> {
    identity.map(|identity| pb::ResourceIdentityData {
        identity_data: Some(identity.to_proto6()),
    })
}

fn identity_in(identity: &Option<pb::ResourceIdentityData>) -> Option<EncodedValue> {
    identity
        .as_ref()
        .map(|data| EncodedValue::from_proto6(&data.identity_data))
        .filter(|value| *value != EncodedValue::Absent)
}

pub(crate) fn timestamp(time: SystemTime) -> prost_types::Timestamp {
    let since_epoch = time
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    prost_types::Timestamp {
        seconds: since_epoch.as_secs() as i64,
        nanos: since_epoch.subsec_nanos() as i32,
    }
}

// ------------------------------------------------------------------------------------- provider requests

impl From<pb::configure_provider::Request> for ConfigureProviderRequest {
    fn from(request: pb::configure_provider::Request) -> Self {
        ConfigureProviderRequest {
            config: EncodedValue::from_proto6(&request.config),
            terraform_version: request.terraform_version,
        }
    }
}

// ------------------------------------------------------------------------------------- resource requests

impl From<pb::upgrade_resource_state::Request> for UpgradeResourceStateRequest {
    fn from(request: pb::upgrade_resource_state::Request) -> Self {
        let raw = request.raw_state.unwrap_or_default();
        UpgradeResourceStateRequest {
            type_name: request.type_name,
            version: request.version,
            legacy_flatmap: !raw.flatmap.is_empty(),
            raw_json: raw.json,
        }
    }
}

impl From<UpgradeResourceStateResponse> for pb::upgrade_resource_state::Response {
    fn from(response: UpgradeResourceStateResponse) -> Self {
        pb::upgrade_resource_state::Response {
            upgraded_state: encoded(response.upgraded_state),
            diagnostics: response.diagnostics.to_proto6(),
        }
    }
}

impl From<pb::read_resource::Request> for ReadResourceRequest {
    fn from(request: pb::read_resource::Request) -> Self {
        ReadResourceRequest {
            current_state: EncodedValue::from_proto6(&request.current_state),
            type_name: request.type_name,
            private: request.private,
        }
    }
}

impl From<ReadResourceResponse> for pb::read_resource::Response {
    fn from(response: ReadResourceResponse) -> Self {
        pb::read_resource::Response {
            new_state: encoded(response.new_state),
            diagnostics: response.diagnostics.to_proto6(),
            private: response.private,
            new_identity: identity_data(response.new_identity),
            ..Default::default()
        }
    }
}

impl From<pb::plan_resource_change::Request> for PlanResourceChangeRequest {
    fn from(request: pb::plan_resource_change::Request) -> Self {
        PlanResourceChangeRequest {
            prior_state: EncodedValue::from_proto6(&request.prior_state),
            proposed_new_state: EncodedValue::from_proto6(&request.proposed_new_state),
            config: EncodedValue::from_proto6(&request.config),
            type_name: request.type_name,
            prior_private: request.prior_private,
        }
    }
}

impl From<PlanResourceChangeResponse> for pb::plan_resource_change::Response {
    fn from(response: PlanResourceChangeResponse) -> Self {
        pb::plan_resource_change::Response {
            planned_state: encoded(response.planned_state),
            requires_replace: response
                .requires_replace
                .iter()
                .map(AttributePath::to_proto6)
                .collect(),
            planned_private: response.planned_private,
            diagnostics: response.diagnostics.to_proto6(),
            planned_identity: identity_data(response.planned_identity),
            ..Default::default()
        }
    }
}

impl From<pb::apply_resource_change::Request> for ApplyResourceChangeRequest {
    fn from(request: pb::apply_resource_change::Request) -> Self {
        ApplyResourceChangeRequest {
            prior_state: EncodedValue::from_proto6(&request.prior_state),
            planned_state: EncodedValue::from_proto6(&request.planned_state),
            config: EncodedValue::from_proto6(&request.config),
            type_name: request.type_name,
            planned_private: request.planned_private,
        }
    }
}

impl From<ApplyResourceChangeResponse> for pb::apply_resource_change::Response {
    fn from(response: ApplyResourceChangeResponse) -> Self {
        pb::apply_resource_change::Response {
            new_state: encoded(response.new_state),
            private: response.private,
            diagnostics: response.diagnostics.to_proto6(),
            new_identity: identity_data(response.new_identity),
            ..Default::default()
        }
    }
}

impl From<pb::import_resource_state::Request> for ImportResourceStateRequest {
    fn from(request: pb::import_resource_state::Request) -> Self {
        ImportResourceStateRequest {
            identity: identity_in(&request.identity),
            type_name: request.type_name,
            id: request.id,
        }
    }
}

impl From<pb::upgrade_resource_identity::Request> for UpgradeResourceIdentityRequest {
    fn from(request: pb::upgrade_resource_identity::Request) -> Self {
        UpgradeResourceIdentityRequest {
            type_name: request.type_name,
            version: request.version,
            raw_json: request.raw_identity.unwrap_or_default().json,
        }
    }
}

impl From<UpgradeResourceIdentityResponse> for pb::upgrade_resource_identity::Response {
    fn from(response: UpgradeResourceIdentityResponse) -> Self {
        pb::upgrade_resource_identity::Response {
            upgraded_identity: identity_data(response.upgraded_identity),
            diagnostics: response.diagnostics.to_proto6(),
        }
    }
}

impl From<ImportResourceStateResponse> for pb::import_resource_state::Response {
    fn from(response: ImportResourceStateResponse) -> Self {
        let imported_resources = response
            .imported
            .into_iter()
            .map(|imported| pb::import_resource_state::ImportedResource {
                type_name: imported.type_name,
                state: Some(imported.state.to_proto6()),
                private: imported.private,
                identity: identity_data(imported.identity),
            })
            .collect();
        pb::import_resource_state::Response {
            imported_resources,
            diagnostics: response.diagnostics.to_proto6(),
            deferred: None,
        }
    }
}

impl From<pb::move_resource_state::Request> for MoveResourceStateRequest {
    fn from(request: pb::move_resource_state::Request) -> Self {
        MoveResourceStateRequest {
            source: MoveSource {
                provider_address: request.source_provider_address,
                type_name: request.source_type_name,
                schema_version: request.source_schema_version,
                state: RawState {
                    json: request.source_state.unwrap_or_default().json,
                },
            },
            source_private: request.source_private,
            target_type_name: request.target_type_name,
        }
    }
}

impl From<MoveResourceStateResponse> for pb::move_resource_state::Response {
    fn from(response: MoveResourceStateResponse) -> Self {
        pb::move_resource_state::Response {
            target_state: encoded(response.target_state),
            diagnostics: response.diagnostics.to_proto6(),
            target_private: response.target_private,
            target_identity: identity_data(response.target_identity),
        }
    }
}

// ------------------------------------------------------------------------ data sources, ephemerals, functions

impl From<ReadDataSourceResponse> for pb::read_data_source::Response {
    fn from(response: ReadDataSourceResponse) -> Self {
        pb::read_data_source::Response {
            state: encoded(response.state),
            diagnostics: response.diagnostics.to_proto6(),
            deferred: None,
        }
    }
}

impl From<OpenEphemeralResourceResponse> for pb::open_ephemeral_resource::Response {
    fn from(response: OpenEphemeralResourceResponse) -> Self {
        pb::open_ephemeral_resource::Response {
            result: encoded(response.result),
            private: response.private,
            renew_at: response.renew_at.map(timestamp),
            diagnostics: response.diagnostics.to_proto6(),
            ..Default::default()
        }
    }
}

impl From<RenewEphemeralResourceResponse> for pb::renew_ephemeral_resource::Response {
    fn from(response: RenewEphemeralResourceResponse) -> Self {
        pb::renew_ephemeral_resource::Response {
            private: response.private,
            renew_at: response.renew_at.map(timestamp),
            diagnostics: response.diagnostics.to_proto6(),
        }
    }
}

// ------------------------------------------------------------------------------ list resources, actions

impl From<pb::list_resource::Request> for ListResourceRequest {
    fn from(request: pb::list_resource::Request) -> Self {
        ListResourceRequest {
            config: EncodedValue::from_proto6(&request.config),
            type_name: request.type_name,
            include_resource: request.include_resource_object,
            limit: request.limit,
        }
    }
}

impl From<ListResourceEvent> for pb::list_resource::Event {
    fn from(event: ListResourceEvent) -> Self {
        pb::list_resource::Event {
            identity: identity_data(event.identity),
            display_name: event.display_name,
            resource_object: encoded(event.resource_object),
            diagnostic: event.diagnostics.to_proto6(),
        }
    }
}

impl From<InvokeActionEvent> for pb::invoke_action::Event {
    fn from(event: InvokeActionEvent) -> Self {
        use pb::invoke_action::event::{Completed, Progress, Type};
        let r#type = match event {
            InvokeActionEvent::Progress(message) => Type::Progress(Progress { message }),
            InvokeActionEvent::Completed(diagnostics) => Type::Completed(Completed {
                diagnostics: diagnostics.to_proto6(),
            }),
        };
        pb::invoke_action::Event {
            r#type: Some(r#type),
        }
    }
}

/// A function's result or its error, never both.
pub(crate) fn call_function_response(
    outcome: Result<EncodedValue, FunctionError>,
) -> pb::call_function::Response {
    match outcome {
        Ok(result) => pb::call_function::Response {
            result: Some(result.to_proto6()),
            error: None,
        },
        Err(e) => pb::call_function::Response {
            result: None,
            error: Some(pb::FunctionError {
                text: e.text,
                function_argument: e.argument,
            }),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::framework::schema::tests::schema;

    #[test]
    fn converts_to_proto_with_attribute_path_steps() {
        use pb::attribute_path::step::Selector;
        let path = AttributePath::new("members")
            .index(3)
            .attribute("tags")
            .key("env");
        let proto = Diagnostic::error("Bad tag", "Use lowercase.")
            .at(path.clone())
            .to_proto6();
        assert_eq!(proto.severity, pb::diagnostic::Severity::Error as i32);
        assert_eq!(
            (proto.summary.as_str(), proto.detail.as_str()),
            ("Bad tag", "Use lowercase.")
        );
        let steps: Vec<_> = proto
            .attribute
            .as_ref()
            .unwrap()
            .steps
            .iter()
            .map(|s| s.selector.clone().unwrap())
            .collect();
        assert_eq!(
            steps,
            vec![
                Selector::AttributeName("members".into()),
                Selector::ElementKeyInt(3),
                Selector::AttributeName("tags".into()),
                Selector::ElementKeyString("env".into()),
            ]
        );
        assert_eq!(
            AttributePath::from_proto6(proto.attribute.as_ref().unwrap()),
            path
        );
        let in_set = AttributePath::new("members")
            .child(PathStep::SetElement)
            .attribute("id");
        assert_eq!(
            AttributePath::from_proto6(&in_set.to_proto6()),
            AttributePath::new("members")
        );
        let warning = Diagnostic::warning("w", "").to_proto6();
        assert_eq!(warning.severity, pb::diagnostic::Severity::Warning as i32);
        assert!(warning.attribute.is_none());
    }

    #[test]
    fn dynamic_values_prefer_msgpack_and_empty_means_null() {
        let both = pb::DynamicValue {
            msgpack: vec![0xc0],
            json: b"null".to_vec(),
        };
        assert_eq!(
            EncodedValue::from_proto6(&both),
            EncodedValue::MsgPack(vec![0xc0])
        );
        let json_only = pb::DynamicValue {
            msgpack: Vec::new(),
            json: b"null".to_vec(),
        };
        assert_eq!(
            EncodedValue::from_proto6(&json_only),
            EncodedValue::Json(b"null".to_vec())
        );
        assert_eq!(
            EncodedValue::from_proto6(&Some(pb::DynamicValue::default())),
            EncodedValue::Absent
        );
        assert_eq!(EncodedValue::from_proto6(&None), EncodedValue::Absent);
        assert_eq!(
            EncodedValue::MsgPack(vec![0xc0]).to_proto6(),
            pb::DynamicValue {
                msgpack: vec![0xc0],
                json: Vec::new()
            }
        );
    }

    #[test]
    fn converts_to_proto_schema() {
        let proto = schema().to_proto6();
        assert_eq!(proto.version, 2);
        let block = proto.block.unwrap();
        assert_eq!(block.version, 2);
        let attr = |name: &str| {
            block
                .attributes
                .iter()
                .find(|a| a.name == name)
                .unwrap()
                .clone()
        };
        let name = attr("name");
        assert_eq!(name.r#type, br#""string""#.to_vec());
        assert!(name.required && !name.optional && !name.computed);
        let secret = attr("secret");
        assert!(secret.write_only && secret.sensitive && secret.optional);
        let old = attr("old");
        assert!(old.deprecated);
        assert_eq!(old.deprecation_message, "Use `name` instead.");
        assert_eq!(old.description_kind, pb::StringKind::Markdown as i32);
        let members = attr("members");
        assert!(members.r#type.is_empty());
        let nested = members.nested_type.unwrap();
        assert_eq!(
            nested.nesting,
            proto_schema::object::NestingMode::List as i32
        );
        assert_eq!(nested.attributes.len(), 3);
        let timeouts = &block.block_types[0];
        assert_eq!(timeouts.type_name, "timeouts");
        assert_eq!(
            timeouts.nesting,
            proto_schema::nested_block::NestingMode::Single as i32
        );
        assert_eq!(timeouts.block.as_ref().unwrap().attributes.len(), 2);
    }
}
