//! go-plugin's `plugin.GRPCController`: Terraform's way of telling the provider process to exit
//! once it no longer needs it.

use tokio::sync::watch;
use tonic::{Request, Response, Status};

use super::go_plugin::Empty;
use super::go_plugin::grpc_controller_server::GrpcController;

pub struct ControllerService {
    shutdown: watch::Sender<bool>,
}

impl ControllerService {
    /// `shutdown` is set to `true` when Terraform asks us to exit.
    pub fn new(shutdown: watch::Sender<bool>) -> Self {
        Self { shutdown }
    }
}

#[tonic::async_trait]
impl GrpcController for ControllerService {
    async fn shutdown(&self, _request: Request<Empty>) -> Result<Response<Empty>, Status> {
        tracing::debug!("Terraform asked the provider to shut down");
        // The reply still goes out: the server stops accepting work but finishes in-flight calls.
        self.shutdown.send_replace(true);
        Ok(Response::new(Empty {}))
    }
}

/// Resolves once shutdown has been requested (immediately if it already was). Also resolves if
/// every sender is gone, since nobody could request shutdown any more.
pub async fn shutdown_requested(shutdown: &mut watch::Receiver<bool>) {
    // The guard returned by wait_for is not Send; drop it here so callers' futures stay Send.
    let _ = shutdown.wait_for(|stopping| *stopping).await.map(|_| ());
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn shutdown_call_raises_the_flag() {
        let (sender, mut receiver) = watch::channel(false);
        let service = ControllerService::new(sender);
        service.shutdown(Request::new(Empty {})).await.unwrap();
        receiver.wait_for(|stopping| *stopping).await.unwrap();
    }
}
