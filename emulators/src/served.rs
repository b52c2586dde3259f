//! An axum app served on 127.0.0.1 until it is stopped or its handle is dropped: the lifecycle the proxy and the
//! SCIM endpoint share.

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug)]
pub(crate) struct ServedApp {
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl ServedApp {
    pub(crate) fn spawn(listener: TcpListener, app: Router) -> ServedApp {
        let (shutdown, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        ServedApp {
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    /// Stops accepting, lets open requests finish, and waits for the server task.
    pub(crate) async fn stop(mut self) {
        self.signal();
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }

    fn signal(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for ServedApp {
    fn drop(&mut self) {
        self.signal();
    }
}
