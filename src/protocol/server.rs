//! Running the provider as a go-plugin process: handshake, AutoMTLS, the gRPC server with its
//! companion services, signals and shutdown.

use std::io::{self, Write as _};
use std::time::Duration;

use tokio::sync::{mpsc, watch};
use tokio_stream::wrappers::ReceiverStream;
use tonic::transport::Server;
use tonic_health::ServingStatus;

use super::controller::{ControllerService, shutdown_requested};
use super::go_plugin::grpc_controller_server::GrpcControllerServer;
use super::go_plugin::grpc_stdio_server::GrpcStdioServer;
use super::handshake::{
    self, HandshakeError, HandshakeLine, MAGIC_COOKIE_KEY, PLUGIN_PROTOCOL_VERSION, PluginAddress,
};
use super::listener::{Connection, ListenError, ListenerSettings, PluginListener};
use super::stdio::StdioService;
use super::tfplugin6::provider_server::{Provider, ProviderServer};
use super::tls::{self, AutoMtlsError, CertifiedKey};

/// The provider's registry address, used in the `TF_REATTACH_PROVIDERS` instructions.
pub const PROVIDER_ADDRESS: &str = "registry.terraform.io/idbridge/idbridge";

/// Largest gRPC message accepted or sent: large plans and states of many resources must fit.
/// Matches what Terraform's own plugin servers accept.
pub const MAX_MESSAGE_SIZE: usize = 256 * 1024 * 1024;

/// The health service name go-plugin clients check.
const HEALTH_SERVICE_NAME: &str = "plugin";

/// How long in-flight calls may run on after a shutdown request before we exit anyway. go-plugin
/// clients kill the process 2 seconds after asking it to shut down; leaving before that lets us
/// remove the socket directory.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(1);

/// A TLS handshake that takes longer than this is abandoned; only local peers connect.
const TLS_HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

/// How the process was started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Launched by Terraform: handshake on stdout, AutoMTLS when offered, exit on request.
    Plugin,
    /// Started by a developer with `--debug`: plaintext, prints `TF_REATTACH_PROVIDERS`, runs
    /// until Ctrl-C so Terraform can attach to it repeatedly (e.g. under a debugger).
    Debug,
}

/// Everything `serve` needs from the environment, checked before any work starts.
#[derive(Clone, PartialEq, Eq)]
pub struct ServeOptions {
    pub mode: Mode,
    pub provider_address: String,
    pub protocol_version: u32,
    /// Terraform's AutoMTLS certificate (`PLUGIN_CLIENT_CERT`); plaintext when absent.
    pub client_certificate_pem: Option<String>,
    pub listener: ListenerSettings,
}

impl std::fmt::Debug for ServeOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ServeOptions")
            .field("mode", &self.mode)
            .field("provider_address", &self.provider_address)
            .field("protocol_version", &self.protocol_version)
            .field("auto_mtls", &self.client_certificate_pem.is_some())
            .field("listener", &self.listener)
            .finish()
    }
}

impl ServeOptions {
    /// Reads the go-plugin environment. In plugin mode this refuses to go on unless Terraform
    /// launched us (magic cookie) and offers protocol 6.
    pub fn from_env(mode: Mode, provider_address: &str) -> Result<Self, HandshakeError> {
        let var = |name: &str| std::env::var(name).ok();
        let (protocol_version, client_certificate_pem) = match mode {
            Mode::Plugin => {
                handshake::check_magic_cookie(var(MAGIC_COOKIE_KEY).as_deref())?;
                let version = handshake::negotiate_protocol_version(
                    var("PLUGIN_PROTOCOL_VERSIONS").as_deref(),
                )?;
                let certificate = var("PLUGIN_CLIENT_CERT").filter(|pem| !pem.trim().is_empty());
                (version, certificate)
            }
            Mode::Debug => (PLUGIN_PROTOCOL_VERSION, None),
        };
        Ok(Self {
            mode,
            provider_address: provider_address.to_owned(),
            protocol_version,
            client_certificate_pem,
            listener: ListenerSettings::from_env(),
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error(transparent)]
    Handshake(#[from] HandshakeError),
    #[error("cannot listen for Terraform: {0}")]
    Listen(#[from] ListenError),
    #[error(transparent)]
    AutoMtls(#[from] AutoMtlsError),
    #[error("gRPC server failed: {0}")]
    Transport(#[from] tonic::transport::Error),
    #[error("I/O error: {0}")]
    Io(#[from] io::Error),
}

/// The process entry point for a provider: parses the command line (`--debug`), sets up logging,
/// checks that Terraform launched us, builds the service and serves it until Terraform is done.
/// Returns the process exit code.
///
/// `make_service` runs inside the async runtime, after the environment checks, so it may spawn
/// tasks and nothing is built when the binary is started by hand.
pub fn run_plugin<S: Provider>(make_service: impl FnOnce() -> S) -> i32 {
    let mode = match parse_arguments(std::env::args().skip(1)) {
        Ok(Command::Serve(mode)) => mode,
        Ok(Command::PrintHelp) => {
            println!("{USAGE}");
            return 0;
        }
        Ok(Command::PrintVersion) => {
            println!("terraform-provider-idbridge {}", env!("CARGO_PKG_VERSION"));
            return 0;
        }
        Err(message) => {
            eprintln!("terraform-provider-idbridge: {message}\n\n{USAGE}");
            return 2;
        }
    };
    super::logging::init();
    let options = match ServeOptions::from_env(mode, PROVIDER_ADDRESS) {
        Ok(options) => options,
        Err(error) => {
            eprintln!("{error}");
            return 1;
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("terraform-provider-idbridge: cannot start the async runtime: {error}");
            return 1;
        }
    };
    let served = runtime.block_on(async { serve(make_service(), options).await });
    // Work abandoned at shutdown (a call still waiting on an API) must not keep the process alive.
    runtime.shutdown_timeout(SHUTDOWN_GRACE);
    match served {
        Ok(()) => 0,
        Err(error) => {
            tracing::error!(error = %error, "provider stopped with an error");
            eprintln!("terraform-provider-idbridge: {error}");
            1
        }
    }
}

const USAGE: &str = "\
terraform-provider-idbridge: the idbridge provider for Terraform and OpenTofu.

Terraform and OpenTofu start this program themselves; there is normally no reason to run it.

Usage:
  terraform-provider-idbridge --debug     serve for a debugger and print TF_REATTACH_PROVIDERS
  terraform-provider-idbridge --version   print the version
  terraform-provider-idbridge --help      print this help";

#[derive(Debug, PartialEq, Eq)]
enum Command {
    Serve(Mode),
    PrintHelp,
    PrintVersion,
}

fn parse_arguments(arguments: impl Iterator<Item = String>) -> Result<Command, String> {
    let mut command = Command::Serve(Mode::Plugin);
    for argument in arguments {
        command = match argument.as_str() {
            "--debug" | "-debug" => Command::Serve(Mode::Debug),
            "--help" | "-help" | "-h" => return Ok(Command::PrintHelp),
            "--version" | "-version" => return Ok(Command::PrintVersion),
            other => return Err(format!("unknown argument {other:?}")),
        };
    }
    Ok(command)
}

/// Serves `service` as Terraform expects until Terraform asks us to stop (`GRPCController`
/// Shutdown), SIGTERM arrives, or, in debug mode, Ctrl-C is pressed. In plugin mode Ctrl-C is
/// ignored: Terraform forwards it to the whole process group and then stops in-flight work through
/// `StopProvider` itself.
pub async fn serve<S: Provider>(service: S, options: ServeOptions) -> Result<(), ServeError> {
    let listener = PluginListener::bind(&options.listener)?;
    let address = listener.address()?;

    let (tls_config, server_certificate) = match &options.client_certificate_pem {
        Some(pem) => {
            let expected_client = tls::parse_client_certificate(pem)?;
            let ours = CertifiedKey::generate()?;
            let config = tls::server_config(&ours, expected_client)?;
            (Some(config), Some(ours.certificate))
        }
        None => (None, None),
    };

    let (shutdown_sender, shutdown) = watch::channel(false);
    // Registered before the handshake so that a Ctrl-C arriving right after it is handled.
    watch_signals(options.mode, shutdown_sender.clone())?;

    let (health_reporter, health_service) = tonic_health::server::health_reporter();
    health_reporter
        .set_service_status(HEALTH_SERVICE_NAME, ServingStatus::Serving)
        .await;

    let stdio = match options.mode {
        Mode::Plugin => {
            super::parent::exit_with_parent(shutdown_sender.clone());
            let line = HandshakeLine {
                protocol_version: options.protocol_version,
                address: address.clone(),
                server_certificate_der: server_certificate.map(|der| der.to_vec()),
            };
            announce(&line.to_string())?;
            capture_stdout(shutdown.clone())
        }
        Mode::Debug => {
            announce(&debug_instructions(&options.provider_address, &address))?;
            StdioService::without_capture(shutdown.clone())
        }
    };
    tracing::debug!(
        network = address.network(),
        address = %address.address(),
        auto_mtls = tls_config.is_some(),
        "provider listening"
    );

    let (incoming, accept_task) = accept_connections(listener, tls_config, shutdown.clone());
    let provider = ProviderServer::new(service)
        .max_decoding_message_size(MAX_MESSAGE_SIZE)
        .max_encoding_message_size(MAX_MESSAGE_SIZE);
    let mut stop_requested = shutdown.clone();
    let server = Server::builder()
        .add_service(health_service)
        .add_service(provider)
        .add_service(GrpcControllerServer::new(ControllerService::new(
            shutdown_sender,
        )))
        .add_service(GrpcStdioServer::new(stdio))
        .serve_with_incoming_shutdown(incoming, async move {
            shutdown_requested(&mut stop_requested).await;
        });

    let mut grace_started = shutdown.clone();
    let result = tokio::select! {
        result = server => result.map_err(ServeError::from),
        _ = async {
            shutdown_requested(&mut grace_started).await;
            tokio::time::sleep(SHUTDOWN_GRACE).await;
        } => {
            tracing::warn!("calls still running {SHUTDOWN_GRACE:?} after shutdown was requested; exiting anyway");
            Ok(())
        }
    };
    // The accept task owns the listener; waiting for it removes the socket directory.
    let _ = accept_task.await;
    tracing::debug!("provider stopped");
    result
}

/// Writes the handshake (or debug instructions) to stdout and flushes, since Terraform waits for
/// the line before doing anything else.
fn announce(text: &str) -> io::Result<()> {
    let mut stdout = io::stdout().lock();
    writeln!(stdout, "{text}")?;
    stdout.flush()
}

fn debug_instructions(provider_address: &str, address: &PluginAddress) -> String {
    let reattach = handshake::reattach_providers_json(provider_address, address);
    format!(
        "terraform-provider-idbridge is running in debug mode.\n\
         To make Terraform use this process, set this in the shell that runs Terraform:\n\n\
         \tTF_REATTACH_PROVIDERS='{reattach}'\n\n\
         Press Ctrl-C to stop."
    )
}

#[cfg(unix)]
fn capture_stdout(shutdown: watch::Receiver<bool>) -> StdioService {
    match StdioService::capture_stdout(shutdown.clone()) {
        Ok(service) => service,
        Err(error) => {
            tracing::warn!(error = %error, "cannot capture stdout; stray output will not reach Terraform");
            StdioService::without_capture(shutdown)
        }
    }
}

#[cfg(not(unix))]
fn capture_stdout(shutdown: watch::Receiver<bool>) -> StdioService {
    StdioService::without_capture(shutdown)
}

/// Accepts connections until shutdown, doing each TLS handshake on its own task so a slow or
/// hostile peer cannot hold up the others. Connections whose certificate is not Terraform's never
/// reach the gRPC server.
fn accept_connections(
    listener: PluginListener,
    tls_config: Option<std::sync::Arc<rustls::ServerConfig>>,
    mut shutdown: watch::Receiver<bool>,
) -> (
    ReceiverStream<io::Result<Connection>>,
    tokio::task::JoinHandle<()>,
) {
    let (sender, receiver) = mpsc::channel(16);
    let acceptor = tls_config.map(tokio_rustls::TlsAcceptor::from);
    let task = tokio::spawn(async move {
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = shutdown_requested(&mut shutdown) => break,
            };
            let connection = match accepted {
                Ok(connection) => connection,
                Err(error) => {
                    // Usually running out of file descriptors; pausing lets some close.
                    tracing::warn!(error = %error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            };
            match &acceptor {
                None => {
                    if sender.send(Ok(connection)).await.is_err() {
                        break;
                    }
                }
                Some(acceptor) => {
                    let acceptor = acceptor.clone();
                    let sender = sender.clone();
                    tokio::spawn(async move {
                        let handshake = tokio::time::timeout(
                            TLS_HANDSHAKE_TIMEOUT,
                            acceptor.accept(connection),
                        )
                        .await;
                        match handshake {
                            Ok(Ok(stream)) => {
                                let _ = sender.send(Ok(Connection::new(stream))).await;
                            }
                            Ok(Err(error)) => {
                                tracing::warn!(error = %error, "refused a connection that failed mutual TLS");
                            }
                            Err(_) => {
                                tracing::warn!(
                                    "refused a connection whose TLS handshake did not finish in time"
                                );
                            }
                        }
                    });
                }
            }
        }
    });
    (ReceiverStream::new(receiver), task)
}

/// Plugin mode: Ctrl-C is ignored (Terraform handles it and tells us through the protocol).
/// Debug mode: Ctrl-C stops the provider. Both: SIGTERM stops it cleanly.
#[cfg(unix)]
fn watch_signals(mode: Mode, shutdown: watch::Sender<bool>) -> io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupts = signal(SignalKind::interrupt())?;
    let mut terminations = signal(SignalKind::terminate())?;
    tokio::spawn(async move {
        loop {
            tokio::select! {
                Some(()) = interrupts.recv() => match mode {
                    Mode::Plugin => tracing::trace!("ignoring interrupt; Terraform stops the provider itself"),
                    Mode::Debug => { shutdown.send_replace(true); }
                },
                Some(()) = terminations.recv() => { shutdown.send_replace(true); }
                else => break,
            }
        }
    });
    Ok(())
}

#[cfg(not(unix))]
fn watch_signals(mode: Mode, shutdown: watch::Sender<bool>) -> io::Result<()> {
    let mut interrupts = tokio::signal::windows::ctrl_c()?;
    tokio::spawn(async move {
        while interrupts.recv().await.is_some() {
            match mode {
                Mode::Plugin => {
                    tracing::trace!("ignoring interrupt; Terraform stops the provider itself")
                }
                Mode::Debug => {
                    shutdown.send_replace(true);
                }
            }
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(arguments: &[&str]) -> Result<Command, String> {
        parse_arguments(arguments.iter().map(|argument| (*argument).to_owned()))
    }

    #[test]
    fn arguments_select_the_mode() {
        assert_eq!(parse(&[]), Ok(Command::Serve(Mode::Plugin)));
        assert_eq!(parse(&["--debug"]), Ok(Command::Serve(Mode::Debug)));
        assert_eq!(parse(&["-debug"]), Ok(Command::Serve(Mode::Debug)));
        assert_eq!(parse(&["--help"]), Ok(Command::PrintHelp));
        assert_eq!(parse(&["--version"]), Ok(Command::PrintVersion));
        assert!(parse(&["--bogus"]).unwrap_err().contains("--bogus"));
    }

    #[test]
    fn debug_instructions_contain_a_quoted_reattach_value() {
        let text = debug_instructions(
            PROVIDER_ADDRESS,
            &PluginAddress::Tcp("127.0.0.1:4000".parse().unwrap()),
        );
        let value = text
            .split("TF_REATTACH_PROVIDERS='")
            .nth(1)
            .and_then(|rest| rest.split('\'').next())
            .unwrap();
        let parsed: serde_json::Value = serde_json::from_str(value).unwrap();
        assert_eq!(parsed[PROVIDER_ADDRESS]["Addr"]["String"], "127.0.0.1:4000");
    }

    #[test]
    fn options_debug_output_does_not_show_the_certificate() {
        let options = ServeOptions {
            mode: Mode::Plugin,
            provider_address: PROVIDER_ADDRESS.into(),
            protocol_version: 6,
            client_certificate_pem: Some("-----BEGIN CERTIFICATE-----\nMIIB\n".into()),
            listener: ListenerSettings::default(),
        };
        let shown = format!("{options:?}");
        assert!(
            shown.contains("auto_mtls: true") && !shown.contains("MIIB"),
            "{shown}"
        );
    }
}
