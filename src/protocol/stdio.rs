//! go-plugin's stdio forwarding (`plugin.GRPCStdio`).
//!
//! After the handshake line, stdout is no longer read by Terraform as a stream of its own, so
//! anything printed there would vanish. We point file descriptor 1 at a pipe and hand what
//! arrives to Terraform over `StreamStdio`, which shows it in its logs.
//!
//! stderr stays as it is: our logs are hclog JSON lines Terraform parses straight from it, and a
//! panic message must reach Terraform even when the runtime is gone.

use std::pin::Pin;
use std::sync::Mutex;

use tokio::sync::mpsc;
use tokio_stream::Stream;
use tonic::{Request, Response, Status};

use super::controller::shutdown_requested;
use super::go_plugin::StdioData;
use super::go_plugin::grpc_stdio_server::GrpcStdio;

/// Chunks waiting for Terraform to read them. When it does not, further output is dropped rather
/// than blocking whichever thread printed it.
#[cfg(unix)]
const PENDING_CHUNKS: usize = 64;
#[cfg(unix)]
const CHUNK_SIZE: usize = 4096;

/// Serves captured output to the first caller of `StreamStdio`.
pub struct StdioService {
    /// `None` when output is not captured.
    captured: Option<Mutex<Option<mpsc::Receiver<StdioData>>>>,
    shutdown: tokio::sync::watch::Receiver<bool>,
}

impl StdioService {
    /// A service with nothing to forward (output is not captured, e.g. in `--debug` mode, where
    /// Terraform attaches again and again): every caller gets a stream that ends at once.
    pub fn without_capture(shutdown: tokio::sync::watch::Receiver<bool>) -> Self {
        Self {
            captured: None,
            shutdown,
        }
    }

    /// Redirects this process's stdout into a pipe whose contents are forwarded to Terraform.
    /// Call after the handshake line is written and flushed.
    #[cfg(unix)]
    pub fn capture_stdout(shutdown: tokio::sync::watch::Receiver<bool>) -> std::io::Result<Self> {
        use std::io::Read as _;

        let (mut reader, writer) = std::io::pipe()?;
        std::io::Write::flush(&mut std::io::stdout())?;
        redirect_stdout_to(&writer)?;
        drop(writer);

        let (sender, receiver) = mpsc::channel(PENDING_CHUNKS);
        std::thread::Builder::new()
            .name("stdout-forwarder".into())
            .spawn(move || {
                let mut buffer = vec![0u8; CHUNK_SIZE];
                let mut dropped_bytes = 0usize;
                loop {
                    let read = match reader.read(&mut buffer) {
                        Ok(0) | Err(_) => break,
                        Ok(read) => read,
                    };
                    let chunk = StdioData {
                        channel: super::go_plugin::stdio_data::Channel::Stdout.into(),
                        data: buffer[..read].to_vec(),
                    };
                    match sender.try_send(chunk) {
                        Ok(()) => {}
                        Err(mpsc::error::TrySendError::Full(_)) => {
                            dropped_bytes += read;
                            tracing::warn!(
                                dropped_bytes,
                                "stdout output is not being read by Terraform; dropping it"
                            );
                        }
                        Err(mpsc::error::TrySendError::Closed(_)) => dropped_bytes += read,
                    }
                }
            })?;
        Ok(Self {
            captured: Some(Mutex::new(Some(receiver))),
            shutdown,
        })
    }
}

#[cfg(unix)]
fn redirect_stdout_to(pipe: &std::io::PipeWriter) -> std::io::Result<()> {
    use std::os::fd::AsRawFd as _;
    // SAFETY: dup2 only replaces descriptor 1 with a duplicate of a descriptor we own; no Rust
    // object holds descriptor 1 by ownership (std's Stdout borrows it by number), so nothing is
    // invalidated.
    let result = unsafe { libc::dup2(pipe.as_raw_fd(), libc::STDOUT_FILENO) };
    if result == -1 {
        Err(std::io::Error::last_os_error())
    } else {
        Ok(())
    }
}

type StdioStream = Pin<Box<dyn Stream<Item = Result<StdioData, Status>> + Send>>;

#[tonic::async_trait]
impl GrpcStdio for StdioService {
    type StreamStdioStream = StdioStream;

    async fn stream_stdio(
        &self,
        _request: Request<()>,
    ) -> Result<Response<Self::StreamStdioStream>, Status> {
        let Some(captured) = &self.captured else {
            return Ok(Response::new(Box::pin(tokio_stream::empty())));
        };
        let taken = captured
            .lock()
            .map_err(|_| Status::internal("stdio state poisoned"))?
            .take();
        let Some(mut chunks) = taken else {
            return Err(Status::failed_precondition(
                "stdio is streamed to the first caller only",
            ));
        };
        let mut shutdown = self.shutdown.clone();
        // Ends with the server: an open stream would otherwise hold up graceful shutdown forever.
        let stream = async_stream(move |sender| async move {
            loop {
                tokio::select! {
                    chunk = chunks.recv() => match chunk {
                        Some(chunk) => if sender.send(Ok(chunk)).await.is_err() { break },
                        None => break,
                    },
                    _ = shutdown_requested(&mut shutdown) => break,
                }
            }
        });
        Ok(Response::new(stream))
    }
}

/// A stream fed by a task; the task stops when the receiver is dropped.
fn async_stream<F, Fut>(produce: F) -> StdioStream
where
    F: FnOnce(mpsc::Sender<Result<StdioData, Status>>) -> Fut,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let (sender, receiver) = mpsc::channel(1);
    tokio::spawn(produce(sender));
    Box::pin(tokio_stream::wrappers::ReceiverStream::new(receiver))
}

#[cfg(test)]
mod tests {
    use super::super::go_plugin::stdio_data::Channel;
    use super::*;
    use tokio_stream::StreamExt as _;

    #[tokio::test]
    async fn forwards_chunks_to_the_first_caller_and_ends_on_shutdown() {
        let (stop, shutdown) = tokio::sync::watch::channel(false);
        let (sender, receiver) = mpsc::channel(4);
        let service = StdioService {
            captured: Some(Mutex::new(Some(receiver))),
            shutdown,
        };
        let mut stream = service
            .stream_stdio(Request::new(()))
            .await
            .unwrap()
            .into_inner();
        sender
            .send(StdioData {
                channel: Channel::Stdout.into(),
                data: b"hello\n".to_vec(),
            })
            .await
            .unwrap();
        let first = stream.next().await.unwrap().unwrap();
        assert_eq!(first.data, b"hello\n");
        assert_eq!(first.channel(), Channel::Stdout);

        let second_caller = service.stream_stdio(Request::new(())).await;
        assert_eq!(
            second_caller.err().unwrap().code(),
            tonic::Code::FailedPrecondition
        );

        stop.send(true).unwrap();
        assert!(stream.next().await.is_none());
    }

    #[tokio::test]
    async fn without_capture_every_caller_gets_an_ended_stream() {
        let (_stop, shutdown) = tokio::sync::watch::channel(false);
        let service = StdioService::without_capture(shutdown);
        for _ in 0..2 {
            let mut stream = service
                .stream_stdio(Request::new(()))
                .await
                .unwrap()
                .into_inner();
            assert!(stream.next().await.is_none());
        }
    }
}
