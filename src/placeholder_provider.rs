//! A stand-in `Provider` so the binary can complete Terraform's handshake before the framework
//! layer exists: it offers an empty schema and refuses everything else. Delete this file (and its
//! `mod` line in lib.rs) once `run()` serves `framework::FrameworkServer`.

use std::pin::Pin;

use tokio_stream::Stream;
use tonic::{Request, Response, Status, Streaming};

use crate::protocol::tfplugin6::provider_server::Provider;
use crate::protocol::tfplugin6::*;

pub struct PlaceholderProvider;

type EventStream<T> = Pin<Box<dyn Stream<Item = Result<T, Status>> + Send>>;

fn not_yet() -> Status {
    Status::unimplemented("the idbridge provider framework is not wired up in this build")
}

#[tonic::async_trait]
impl Provider for PlaceholderProvider {
    async fn get_metadata(
        &self,
        _: Request<get_metadata::Request>,
    ) -> Result<Response<get_metadata::Response>, Status> {
        Ok(Response::new(get_metadata::Response::default()))
    }
    async fn get_provider_schema(
        &self,
        _: Request<get_provider_schema::Request>,
    ) -> Result<Response<get_provider_schema::Response>, Status> {
        Ok(Response::new(get_provider_schema::Response {
            provider: Some(Schema {
                version: 0,
                block: Some(schema::Block::default()),
            }),
            ..Default::default()
        }))
    }
    async fn validate_provider_config(
        &self,
        _: Request<validate_provider_config::Request>,
    ) -> Result<Response<validate_provider_config::Response>, Status> {
        Err(not_yet())
    }
    async fn validate_resource_config(
        &self,
        _: Request<validate_resource_config::Request>,
    ) -> Result<Response<validate_resource_config::Response>, Status> {
        Err(not_yet())
    }
    async fn validate_data_resource_config(
        &self,
        _: Request<validate_data_resource_config::Request>,
    ) -> Result<Response<validate_data_resource_config::Response>, Status> {
        Err(not_yet())
    }
    async fn upgrade_resource_state(
        &self,
        _: Request<upgrade_resource_state::Request>,
    ) -> Result<Response<upgrade_resource_state::Response>, Status> {
        Err(not_yet())
    }
    async fn get_resource_identity_schemas(
        &self,
        _: Request<get_resource_identity_schemas::Request>,
    ) -> Result<Response<get_resource_identity_schemas::Response>, Status> {
        Err(not_yet())
    }
    async fn upgrade_resource_identity(
        &self,
        _: Request<upgrade_resource_identity::Request>,
    ) -> Result<Response<upgrade_resource_identity::Response>, Status> {
        Err(not_yet())
    }
    async fn configure_provider(
        &self,
        _: Request<configure_provider::Request>,
    ) -> Result<Response<configure_provider::Response>, Status> {
        Err(not_yet())
    }
    async fn read_resource(
        &self,
        _: Request<read_resource::Request>,
    ) -> Result<Response<read_resource::Response>, Status> {
        Err(not_yet())
    }
    async fn plan_resource_change(
        &self,
        _: Request<plan_resource_change::Request>,
    ) -> Result<Response<plan_resource_change::Response>, Status> {
        Err(not_yet())
    }
    async fn apply_resource_change(
        &self,
        _: Request<apply_resource_change::Request>,
    ) -> Result<Response<apply_resource_change::Response>, Status> {
        Err(not_yet())
    }
    async fn import_resource_state(
        &self,
        _: Request<import_resource_state::Request>,
    ) -> Result<Response<import_resource_state::Response>, Status> {
        Err(not_yet())
    }
    async fn move_resource_state(
        &self,
        _: Request<move_resource_state::Request>,
    ) -> Result<Response<move_resource_state::Response>, Status> {
        Err(not_yet())
    }
    async fn read_data_source(
        &self,
        _: Request<read_data_source::Request>,
    ) -> Result<Response<read_data_source::Response>, Status> {
        Err(not_yet())
    }
    async fn generate_resource_config(
        &self,
        _: Request<generate_resource_config::Request>,
    ) -> Result<Response<generate_resource_config::Response>, Status> {
        Err(not_yet())
    }
    async fn validate_ephemeral_resource_config(
        &self,
        _: Request<validate_ephemeral_resource_config::Request>,
    ) -> Result<Response<validate_ephemeral_resource_config::Response>, Status> {
        Err(not_yet())
    }
    async fn open_ephemeral_resource(
        &self,
        _: Request<open_ephemeral_resource::Request>,
    ) -> Result<Response<open_ephemeral_resource::Response>, Status> {
        Err(not_yet())
    }
    async fn renew_ephemeral_resource(
        &self,
        _: Request<renew_ephemeral_resource::Request>,
    ) -> Result<Response<renew_ephemeral_resource::Response>, Status> {
        Err(not_yet())
    }
    async fn close_ephemeral_resource(
        &self,
        _: Request<close_ephemeral_resource::Request>,
    ) -> Result<Response<close_ephemeral_resource::Response>, Status> {
        Err(not_yet())
    }
    type ListResourceStream = EventStream<list_resource::Event>;
    async fn list_resource(
        &self,
        _: Request<list_resource::Request>,
    ) -> Result<Response<Self::ListResourceStream>, Status> {
        Err(not_yet())
    }
    async fn validate_list_resource_config(
        &self,
        _: Request<validate_list_resource_config::Request>,
    ) -> Result<Response<validate_list_resource_config::Response>, Status> {
        Err(not_yet())
    }
    async fn get_functions(
        &self,
        _: Request<get_functions::Request>,
    ) -> Result<Response<get_functions::Response>, Status> {
        Err(not_yet())
    }
    async fn call_function(
        &self,
        _: Request<call_function::Request>,
    ) -> Result<Response<call_function::Response>, Status> {
        Err(not_yet())
    }
    async fn validate_state_store_config(
        &self,
        _: Request<validate_state_store::Request>,
    ) -> Result<Response<validate_state_store::Response>, Status> {
        Err(not_yet())
    }
    async fn configure_state_store(
        &self,
        _: Request<configure_state_store::Request>,
    ) -> Result<Response<configure_state_store::Response>, Status> {
        Err(not_yet())
    }
    type ReadStateBytesStream = EventStream<read_state_bytes::Response>;
    async fn read_state_bytes(
        &self,
        _: Request<read_state_bytes::Request>,
    ) -> Result<Response<Self::ReadStateBytesStream>, Status> {
        Err(not_yet())
    }
    async fn write_state_bytes(
        &self,
        _: Request<Streaming<write_state_bytes::RequestChunk>>,
    ) -> Result<Response<write_state_bytes::Response>, Status> {
        Err(not_yet())
    }
    async fn lock_state(
        &self,
        _: Request<lock_state::Request>,
    ) -> Result<Response<lock_state::Response>, Status> {
        Err(not_yet())
    }
    async fn unlock_state(
        &self,
        _: Request<unlock_state::Request>,
    ) -> Result<Response<unlock_state::Response>, Status> {
        Err(not_yet())
    }
    async fn get_states(
        &self,
        _: Request<get_states::Request>,
    ) -> Result<Response<get_states::Response>, Status> {
        Err(not_yet())
    }
    async fn delete_state(
        &self,
        _: Request<delete_state::Request>,
    ) -> Result<Response<delete_state::Response>, Status> {
        Err(not_yet())
    }
    async fn plan_action(
        &self,
        _: Request<plan_action::Request>,
    ) -> Result<Response<plan_action::Response>, Status> {
        Err(not_yet())
    }
    type InvokeActionStream = EventStream<invoke_action::Event>;
    async fn invoke_action(
        &self,
        _: Request<invoke_action::Request>,
    ) -> Result<Response<Self::InvokeActionStream>, Status> {
        Err(not_yet())
    }
    async fn validate_action_config(
        &self,
        _: Request<validate_action_config::Request>,
    ) -> Result<Response<validate_action_config::Response>, Status> {
        Err(not_yet())
    }
    async fn stop_provider(
        &self,
        _: Request<stop_provider::Request>,
    ) -> Result<Response<stop_provider::Response>, Status> {
        Ok(Response::new(stop_provider::Response::default()))
    }
}
