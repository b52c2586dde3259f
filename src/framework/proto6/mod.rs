//! [`FrameworkServer`]: the generated protocol 6 gRPC trait, served by the framework. Each RPC converts the
//! request ([`convert`]), runs the framework logic ([`crate::framework::server`]) and converts the answer
//! back; nothing else happens here.

mod convert;

use std::pin::Pin;
use std::time::Duration;

use tonic::{Request, Response, Status};

use super::provider::Provider;
use super::server::Server;
use crate::protocol::tfplugin6::{self as pb, provider_server};
use convert::{FromProto6, ToProto6};

/// Implements `tfplugin6::provider_server::Provider` for any [`Provider`].
pub struct FrameworkServer<P: Provider> {
    server: Server<P>,
    // Built once: they never change while the process lives.
    schema_response: pb::get_provider_schema::Response,
    metadata_response: pb::get_metadata::Response,
    functions_response: pb::get_functions::Response,
    identity_schemas_response: pb::get_resource_identity_schemas::Response,
}

impl<P: Provider> FrameworkServer<P> {
    /// Collects schemas and builds the schema, metadata and function responses once.
    pub fn new(provider: P) -> Self {
        let server = Server::new(provider);
        FrameworkServer {
            schema_response: server.provider_schemas().into(),
            metadata_response: server.metadata().into(),
            functions_response: server.provider_schemas().into(),
            identity_schemas_response: convert::identity_schemas_response(
                &server.identity_schemas(),
            ),
            server,
        }
    }

    /// How long a cancelled or timed-out operation may take to wind down by itself.
    pub fn with_cancel_grace(mut self, grace: Duration) -> Self {
        self.server = self.server.with_cancel_grace(grace);
        self
    }

    /// What every state store RPC answers: the framework offers no state storage.
    fn state_storage_unsupported(&self) -> Vec<pb::Diagnostic> {
        self.server.not_supported("State storage").to_proto6()
    }
}

type EventStream<T> = Pin<Box<dyn tokio_stream::Stream<Item = Result<T, Status>> + Send + 'static>>;

fn single_event<T: Send + 'static>(event: T) -> EventStream<T> {
    Box::pin(tokio_stream::once(Ok(event)))
}

/// Streams framework events to Terraform as the server produces them, converted on the way.
fn event_stream<E, T>(events: tokio::sync::mpsc::Receiver<E>) -> EventStream<T>
where
    E: Send + 'static,
    T: From<E> + Send + 'static,
{
    use tokio_stream::StreamExt;
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(events).map(|event| Ok(T::from(event))))
}

#[tonic::async_trait]
impl<P: Provider> provider_server::Provider for FrameworkServer<P> {
    async fn get_metadata(
        &self,
        _request: Request<pb::get_metadata::Request>,
    ) -> Result<Response<pb::get_metadata::Response>, Status> {
        tracing::trace!(rpc = "GetMetadata");
        Ok(Response::new(self.metadata_response.clone()))
    }

    async fn get_provider_schema(
        &self,
        _request: Request<pb::get_provider_schema::Request>,
    ) -> Result<Response<pb::get_provider_schema::Response>, Status> {
        tracing::trace!(rpc = "GetProviderSchema");
        Ok(Response::new(self.schema_response.clone()))
    }

    async fn validate_provider_config(
        &self,
        request: Request<pb::validate_provider_config::Request>,
    ) -> Result<Response<pb::validate_provider_config::Response>, Status> {
        tracing::debug!(
            rpc = "ValidateProviderConfig",
            provider = self.server.provider_type_name()
        );
        let config = FromProto6::from_proto6(&request.into_inner().config);
        let diagnostics = self.server.validate_provider_config(&config).await;
        Ok(Response::new(pb::validate_provider_config::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn validate_resource_config(
        &self,
        request: Request<pb::validate_resource_config::Request>,
    ) -> Result<Response<pb::validate_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateResourceConfig", type_name = %request.type_name);
        let write_only_allowed = request
            .client_capabilities
            .is_some_and(|c| c.write_only_attributes_allowed);
        let config = FromProto6::from_proto6(&request.config);
        let diagnostics = self
            .server
            .validate_resource_config(&request.type_name, &config, write_only_allowed)
            .await;
        Ok(Response::new(pb::validate_resource_config::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn validate_data_resource_config(
        &self,
        request: Request<pb::validate_data_resource_config::Request>,
    ) -> Result<Response<pb::validate_data_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateDataResourceConfig", type_name = %request.type_name);
        let config = FromProto6::from_proto6(&request.config);
        let diagnostics = self
            .server
            .validate_data_resource_config(&request.type_name, &config)
            .await;
        Ok(Response::new(pb::validate_data_resource_config::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn upgrade_resource_state(
        &self,
        request: Request<pb::upgrade_resource_state::Request>,
    ) -> Result<Response<pb::upgrade_resource_state::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "UpgradeResourceState", type_name = %request.type_name, version = request.version);
        let response = self.server.upgrade_resource_state(request.into()).await;
        Ok(Response::new(response.into()))
    }

    async fn get_resource_identity_schemas(
        &self,
        _request: Request<pb::get_resource_identity_schemas::Request>,
    ) -> Result<Response<pb::get_resource_identity_schemas::Response>, Status> {
        tracing::trace!(rpc = "GetResourceIdentitySchemas");
        Ok(Response::new(self.identity_schemas_response.clone()))
    }

    async fn upgrade_resource_identity(
        &self,
        request: Request<pb::upgrade_resource_identity::Request>,
    ) -> Result<Response<pb::upgrade_resource_identity::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "UpgradeResourceIdentity", type_name = %request.type_name, version = request.version);
        let response = self.server.upgrade_resource_identity(request.into());
        Ok(Response::new(response.into()))
    }

    async fn configure_provider(
        &self,
        request: Request<pb::configure_provider::Request>,
    ) -> Result<Response<pb::configure_provider::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ConfigureProvider", provider = self.server.provider_type_name(), terraform_version = %request.terraform_version);
        let diagnostics = self.server.configure_provider(request.into()).await;
        Ok(Response::new(pb::configure_provider::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn read_resource(
        &self,
        request: Request<pb::read_resource::Request>,
    ) -> Result<Response<pb::read_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ReadResource", type_name = %request.type_name);
        let response = self.server.read_resource(request.into()).await;
        Ok(Response::new(response.into()))
    }

    async fn plan_resource_change(
        &self,
        request: Request<pb::plan_resource_change::Request>,
    ) -> Result<Response<pb::plan_resource_change::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "PlanResourceChange", type_name = %request.type_name);
        let response = self.server.plan_resource_change(request.into()).await;
        Ok(Response::new(response.into()))
    }

    async fn apply_resource_change(
        &self,
        request: Request<pb::apply_resource_change::Request>,
    ) -> Result<Response<pb::apply_resource_change::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ApplyResourceChange", type_name = %request.type_name);
        let response = self.server.apply_resource_change(request.into()).await;
        Ok(Response::new(response.into()))
    }

    async fn import_resource_state(
        &self,
        request: Request<pb::import_resource_state::Request>,
    ) -> Result<Response<pb::import_resource_state::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ImportResourceState", type_name = %request.type_name);
        let response = self.server.import_resource_state(request.into()).await;
        Ok(Response::new(response.into()))
    }

    async fn move_resource_state(
        &self,
        request: Request<pb::move_resource_state::Request>,
    ) -> Result<Response<pb::move_resource_state::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(
            rpc = "MoveResourceState",
            source_type = %request.source_type_name,
            target_type = %request.target_type_name
        );
        let response = self.server.move_resource_state(request.into()).await;
        Ok(Response::new(response.into()))
    }

    async fn read_data_source(
        &self,
        request: Request<pb::read_data_source::Request>,
    ) -> Result<Response<pb::read_data_source::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ReadDataSource", type_name = %request.type_name);
        let config = FromProto6::from_proto6(&request.config);
        let response = self
            .server
            .read_data_source(&request.type_name, &config)
            .await;
        Ok(Response::new(response.into()))
    }

    async fn generate_resource_config(
        &self,
        request: Request<pb::generate_resource_config::Request>,
    ) -> Result<Response<pb::generate_resource_config::Response>, Status> {
        tracing::debug!(rpc = "GenerateResourceConfig", type_name = %request.get_ref().type_name);
        // ServerCapabilities.generate_resource_config is false, so Terraform generates config itself.
        let diagnostics = self
            .server
            .not_supported("Provider-side configuration generation");
        Ok(Response::new(pb::generate_resource_config::Response {
            config: None,
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn validate_ephemeral_resource_config(
        &self,
        request: Request<pb::validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<pb::validate_ephemeral_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateEphemeralResourceConfig", type_name = %request.type_name);
        let config = FromProto6::from_proto6(&request.config);
        let diagnostics = self
            .server
            .validate_ephemeral_resource_config(&request.type_name, &config)
            .await;
        Ok(Response::new(
            pb::validate_ephemeral_resource_config::Response {
                diagnostics: diagnostics.to_proto6(),
            },
        ))
    }

    async fn open_ephemeral_resource(
        &self,
        request: Request<pb::open_ephemeral_resource::Request>,
    ) -> Result<Response<pb::open_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "OpenEphemeralResource", type_name = %request.type_name);
        let config = FromProto6::from_proto6(&request.config);
        let response = self
            .server
            .open_ephemeral_resource(&request.type_name, &config)
            .await;
        Ok(Response::new(response.into()))
    }

    async fn renew_ephemeral_resource(
        &self,
        request: Request<pb::renew_ephemeral_resource::Request>,
    ) -> Result<Response<pb::renew_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "RenewEphemeralResource", type_name = %request.type_name);
        let response = self
            .server
            .renew_ephemeral_resource(&request.type_name, request.private)
            .await;
        Ok(Response::new(response.into()))
    }

    async fn close_ephemeral_resource(
        &self,
        request: Request<pb::close_ephemeral_resource::Request>,
    ) -> Result<Response<pb::close_ephemeral_resource::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "CloseEphemeralResource", type_name = %request.type_name);
        let diagnostics = self
            .server
            .close_ephemeral_resource(&request.type_name, request.private)
            .await;
        Ok(Response::new(pb::close_ephemeral_resource::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    type ListResourceStream = EventStream<pb::list_resource::Event>;

    async fn list_resource(
        &self,
        request: Request<pb::list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ListResource", type_name = %request.type_name, limit = request.limit);
        let events = self.server.list_resource(request.into());
        Ok(Response::new(event_stream(events)))
    }

    async fn validate_list_resource_config(
        &self,
        request: Request<pb::validate_list_resource_config::Request>,
    ) -> Result<Response<pb::validate_list_resource_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateListResourceConfig", type_name = %request.type_name);
        let config = FromProto6::from_proto6(&request.config);
        let diagnostics = self
            .server
            .validate_list_resource_config(&request.type_name, &config)
            .await;
        Ok(Response::new(pb::validate_list_resource_config::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn get_functions(
        &self,
        _request: Request<pb::get_functions::Request>,
    ) -> Result<Response<pb::get_functions::Response>, Status> {
        tracing::trace!(rpc = "GetFunctions");
        Ok(Response::new(self.functions_response.clone()))
    }

    async fn call_function(
        &self,
        request: Request<pb::call_function::Request>,
    ) -> Result<Response<pb::call_function::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "CallFunction", function = %request.name);
        let arguments = convert::arguments(&request.arguments);
        let outcome = self.server.call_function(&request.name, &arguments).await;
        Ok(Response::new(convert::call_function_response(outcome)))
    }

    async fn validate_state_store_config(
        &self,
        request: Request<pb::validate_state_store::Request>,
    ) -> Result<Response<pb::validate_state_store::Response>, Status> {
        tracing::debug!(rpc = "ValidateStateStoreConfig", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::validate_state_store::Response {
            diagnostics: self.state_storage_unsupported(),
        }))
    }

    async fn configure_state_store(
        &self,
        request: Request<pb::configure_state_store::Request>,
    ) -> Result<Response<pb::configure_state_store::Response>, Status> {
        tracing::debug!(rpc = "ConfigureStateStore", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::configure_state_store::Response {
            diagnostics: self.state_storage_unsupported(),
            capabilities: None,
        }))
    }

    type ReadStateBytesStream = EventStream<pb::read_state_bytes::Response>;

    async fn read_state_bytes(
        &self,
        request: Request<pb::read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        tracing::debug!(rpc = "ReadStateBytes", type_name = %request.get_ref().type_name);
        Ok(Response::new(single_event(
            pb::read_state_bytes::Response {
                diagnostics: self.state_storage_unsupported(),
                ..Default::default()
            },
        )))
    }

    async fn write_state_bytes(
        &self,
        _request: Request<tonic::Streaming<pb::write_state_bytes::RequestChunk>>,
    ) -> Result<Response<pb::write_state_bytes::Response>, Status> {
        tracing::debug!(rpc = "WriteStateBytes");
        Ok(Response::new(pb::write_state_bytes::Response {
            diagnostics: self.state_storage_unsupported(),
        }))
    }

    async fn lock_state(
        &self,
        request: Request<pb::lock_state::Request>,
    ) -> Result<Response<pb::lock_state::Response>, Status> {
        tracing::debug!(rpc = "LockState", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::lock_state::Response {
            lock_id: String::new(),
            diagnostics: self.state_storage_unsupported(),
        }))
    }

    async fn unlock_state(
        &self,
        request: Request<pb::unlock_state::Request>,
    ) -> Result<Response<pb::unlock_state::Response>, Status> {
        tracing::debug!(rpc = "UnlockState", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::unlock_state::Response {
            diagnostics: self.state_storage_unsupported(),
        }))
    }

    async fn get_states(
        &self,
        request: Request<pb::get_states::Request>,
    ) -> Result<Response<pb::get_states::Response>, Status> {
        tracing::debug!(rpc = "GetStates", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::get_states::Response {
            state_id: Vec::new(),
            diagnostics: self.state_storage_unsupported(),
        }))
    }

    async fn delete_state(
        &self,
        request: Request<pb::delete_state::Request>,
    ) -> Result<Response<pb::delete_state::Response>, Status> {
        tracing::debug!(rpc = "DeleteState", type_name = %request.get_ref().type_name);
        Ok(Response::new(pb::delete_state::Response {
            diagnostics: self.state_storage_unsupported(),
        }))
    }

    async fn plan_action(
        &self,
        request: Request<pb::plan_action::Request>,
    ) -> Result<Response<pb::plan_action::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "PlanAction", action_type = %request.action_type);
        let config = FromProto6::from_proto6(&request.config);
        let diagnostics = self.server.plan_action(&request.action_type, &config).await;
        Ok(Response::new(pb::plan_action::Response {
            diagnostics: diagnostics.to_proto6(),
            deferred: None,
        }))
    }

    type InvokeActionStream = EventStream<pb::invoke_action::Event>;

    async fn invoke_action(
        &self,
        request: Request<pb::invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "InvokeAction", action_type = %request.action_type);
        let config = FromProto6::from_proto6(&request.config);
        let events = self.server.invoke_action(&request.action_type, &config);
        Ok(Response::new(event_stream(events)))
    }

    async fn validate_action_config(
        &self,
        request: Request<pb::validate_action_config::Request>,
    ) -> Result<Response<pb::validate_action_config::Response>, Status> {
        let request = request.into_inner();
        tracing::debug!(rpc = "ValidateActionConfig", action_type = %request.type_name);
        let config = FromProto6::from_proto6(&request.config);
        let diagnostics = self
            .server
            .validate_action_config(&request.type_name, &config)
            .await;
        Ok(Response::new(pb::validate_action_config::Response {
            diagnostics: diagnostics.to_proto6(),
        }))
    }

    async fn stop_provider(
        &self,
        _request: Request<pb::stop_provider::Request>,
    ) -> Result<Response<pb::stop_provider::Response>, Status> {
        tracing::debug!(rpc = "StopProvider", "cancelling in-flight operations");
        self.server.stop_provider();
        Ok(Response::new(pb::stop_provider::Response {
            error: String::new(),
        }))
    }
}

#[cfg(test)]
#[path = "server_tests.rs"]
mod tests;
