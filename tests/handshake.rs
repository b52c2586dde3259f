//! The real binary, started the way Terraform starts it, spoken to the way Terraform speaks to it.
#![cfg(unix)]

use std::io::{BufRead as _, BufReader};
use std::path::Path;
use std::process::{Child, ChildStdout, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use idbridge::protocol::client::connect;
use idbridge::protocol::go_plugin::Empty;
use idbridge::protocol::go_plugin::grpc_controller_client::GrpcControllerClient;
use idbridge::protocol::go_plugin::grpc_stdio_client::GrpcStdioClient;
use idbridge::protocol::handshake::{HandshakeLine, MAGIC_COOKIE_VALUE, PluginAddress};
use idbridge::protocol::tfplugin6::get_provider_schema;
use idbridge::protocol::tfplugin6::provider_client::ProviderClient;
use idbridge::protocol::tls::{self, CertifiedKey};
use rustls_pki_types::CertificateDer;
use tonic::transport::Channel;
use tonic_health::pb::HealthCheckRequest;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_client::HealthClient;

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-idbridge");
const STARTUP_TIMEOUT: Duration = Duration::from_secs(20);

/// Variables the parent environment might carry that would change what the plugin does.
const INHERITED: [&str; 9] = [
    "TF_PLUGIN_MAGIC_COOKIE",
    "PLUGIN_PROTOCOL_VERSIONS",
    "PLUGIN_CLIENT_CERT",
    "PLUGIN_UNIX_SOCKET_DIR",
    "PLUGIN_MIN_PORT",
    "PLUGIN_MAX_PORT",
    "TF_LOG",
    "TF_LOG_PROVIDER",
    "TF_LOG_PROVIDER_IDBRIDGE",
];

fn command(env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(BINARY);
    for name in INHERITED {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command
}

/// Runs the binary to completion, for the cases where it must refuse to start.
fn run_to_exit(env: &[(&str, &str)]) -> (i32, String, String) {
    let output = command(env)
        .stdin(Stdio::null())
        .output()
        .expect("binary runs");
    (
        output.status.code().expect("exited normally"),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

/// A running plugin; killed if a test ends without stopping it.
struct Plugin {
    child: Child,
    stdout: BufReader<ChildStdout>,
    first_line: String,
}

impl Plugin {
    fn start(env: &[(&str, &str)], arguments: &[&str]) -> Self {
        let mut child = command(env)
            .args(arguments)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("binary starts");
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut first_line = String::new();
        stdout.read_line(&mut first_line).expect("reads stdout");
        assert!(!first_line.is_empty(), "plugin printed nothing");
        Self {
            child,
            stdout,
            first_line,
        }
    }

    /// Started like Terraform 1.15 does, with AutoMTLS using `client`'s certificate.
    fn start_with_auto_mtls(client: &CertifiedKey, extra: &[(&str, &str)]) -> Self {
        let pem = client.certificate_pem();
        let mut env = vec![
            ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "5,6"),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
            ("PLUGIN_CLIENT_CERT", pem.as_str()),
        ];
        env.extend_from_slice(extra);
        Self::start(&env, &[])
    }

    fn handshake(&self) -> HandshakeLine {
        self.first_line.parse().expect("valid handshake line")
    }

    fn pid(&self) -> libc::pid_t {
        self.child.id() as libc::pid_t
    }

    fn signal(&self, signal: libc::c_int) {
        // SAFETY: sends a signal to a child process we own and have not reaped.
        assert_eq!(unsafe { libc::kill(self.pid(), signal) }, 0);
    }

    /// Waits for the process to exit on its own.
    fn wait_for_exit(&mut self) -> i32 {
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().unwrap_or(-1);
            }
            assert!(Instant::now() < deadline, "plugin did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }
}

impl Drop for Plugin {
    /// SIGTERM first so the plugin removes its socket directory; SIGKILL if it does not listen.
    fn drop(&mut self) {
        if !self.is_running() {
            return;
        }
        self.signal(libc::SIGTERM);
        let deadline = Instant::now() + Duration::from_secs(5);
        while self.is_running() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(10));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn mtls_channel(plugin: &Plugin, client: &CertifiedKey) -> Result<Channel, String> {
    let handshake = plugin.handshake();
    let server_certificate = CertificateDer::from(
        handshake
            .server_certificate_der
            .expect("AutoMTLS certificate"),
    );
    let config = tls::client_config(client, server_certificate).unwrap();
    connect(&handshake.address, Some(config))
        .await
        .map_err(|error| format!("{error:?}"))
}

async fn health_of_plugin(channel: Channel) -> Result<ServingStatus, tonic::Status> {
    let response = HealthClient::new(channel)
        .check(HealthCheckRequest {
            service: "plugin".into(),
        })
        .await?;
    Ok(response.into_inner().status())
}

#[test]
fn missing_cookie_prints_a_friendly_message_and_exits_1() {
    let (code, stdout, stderr) = run_to_exit(&[]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "nothing on stdout: {stdout}");
    assert!(
        stderr.contains("Terraform/OpenTofu provider plugin")
            && stderr.contains("not meant to be run directly"),
        "{stderr}"
    );
}

#[test]
fn wrong_cookie_is_refused_like_a_missing_one() {
    let (code, stdout, stderr) = run_to_exit(&[("TF_PLUGIN_MAGIC_COOKIE", "not-the-cookie")]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(stderr.contains("not meant to be run directly"), "{stderr}");
}

#[test]
fn protocol_versions_without_6_are_refused_clearly() {
    let (code, stdout, stderr) = run_to_exit(&[
        ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
        ("PLUGIN_PROTOCOL_VERSIONS", "4,5"),
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty());
    assert!(
        stderr.contains("4,5") && stderr.contains("only protocol version 6"),
        "{stderr}"
    );
}

#[test]
fn invalid_client_certificate_is_refused_before_the_handshake() {
    let (code, stdout, stderr) = run_to_exit(&[
        ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
        ("PLUGIN_PROTOCOL_VERSIONS", "6"),
        ("PLUGIN_CLIENT_CERT", "garbage"),
    ]);
    assert_eq!(code, 1);
    assert!(stdout.is_empty(), "no handshake line: {stdout}");
    assert!(stderr.contains("PLUGIN_CLIENT_CERT"), "{stderr}");
}

#[test]
fn handshake_line_for_a_unix_socket_in_the_requested_directory() {
    let socket_parent = tempfile::tempdir().unwrap();
    let mut plugin = Plugin::start(
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
            (
                "PLUGIN_UNIX_SOCKET_DIR",
                socket_parent.path().to_str().unwrap(),
            ),
        ],
        &[],
    );
    let fields: Vec<&str> = plugin.first_line.trim_end().split('|').collect();
    assert_eq!(fields.len(), 6, "{}", plugin.first_line);
    assert_eq!(&fields[..3], ["1", "6", "unix"]);
    assert_eq!(
        &fields[4..],
        ["grpc", ""],
        "no certificate without AutoMTLS"
    );
    let socket = Path::new(fields[3]).to_owned();
    assert!(
        socket.starts_with(socket_parent.path()),
        "{}",
        socket.display()
    );
    assert!(socket.exists());

    plugin.signal(libc::SIGTERM);
    assert_eq!(plugin.wait_for_exit(), 0);
    assert!(
        !socket.parent().unwrap().exists(),
        "socket directory is removed on exit"
    );
}

#[test]
fn handshake_line_for_tcp_when_no_unix_socket_can_be_made() {
    let socket_parent = tempfile::tempdir().unwrap();
    // Too deep for a unix socket address (about 100 bytes at most).
    let deep = socket_parent.path().join("d".repeat(120));
    std::fs::create_dir(&deep).unwrap();
    let plugin = Plugin::start(
        &[
            ("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE),
            ("PLUGIN_PROTOCOL_VERSIONS", "6"),
            ("PLUGIN_UNIX_SOCKET_DIR", deep.to_str().unwrap()),
            ("PLUGIN_MIN_PORT", "10000"),
            ("PLUGIN_MAX_PORT", "25000"),
        ],
        &[],
    );
    let fields: Vec<&str> = plugin.first_line.trim_end().split('|').collect();
    assert_eq!(&fields[..3], ["1", "6", "tcp"], "{}", plugin.first_line);
    let address: std::net::SocketAddr = fields[3].parse().unwrap();
    assert!(address.ip().is_loopback());
    assert!((10000..=25000).contains(&address.port()));
    assert_eq!(&fields[4..], ["grpc", ""]);
}

#[tokio::test]
async fn terraform_like_client_reaches_health_and_schema_over_mutual_tls() {
    let client = CertifiedKey::generate().unwrap();
    let plugin = Plugin::start_with_auto_mtls(&client, &[]);
    let handshake = plugin.handshake();
    assert_eq!(handshake.protocol_version, 6);
    assert_eq!(handshake.address.network(), "unix");
    let certificate = handshake.server_certificate_der.clone().unwrap();
    assert!(
        certificate.len() > 50,
        "Terraform ignores certificates this short"
    );

    let channel = mtls_channel(&plugin, &client).await.unwrap();
    assert_eq!(
        health_of_plugin(channel.clone()).await.unwrap(),
        ServingStatus::Serving
    );
    let schema = ProviderClient::new(channel)
        .get_provider_schema(get_provider_schema::Request {})
        .await
        .unwrap()
        .into_inner();
    assert!(schema.provider.is_some());
    assert!(schema.diagnostics.is_empty());
}

#[tokio::test]
async fn client_without_a_certificate_is_refused() {
    let client = CertifiedKey::generate().unwrap();
    let plugin = Plugin::start_with_auto_mtls(&client, &[]);
    let handshake = plugin.handshake();
    let server_certificate = CertificateDer::from(handshake.server_certificate_der.unwrap());

    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let verifier = Arc::new(tls::PinnedCertificateVerifier::new(
        server_certificate,
        &provider,
    ));
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(verifier)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];

    let outcome = match connect(&handshake.address, Some(Arc::new(config))).await {
        Ok(channel) => health_of_plugin(channel)
            .await
            .map_err(|status| status.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(
        outcome.is_err(),
        "a client without certificate got {outcome:?}"
    );
}

#[tokio::test]
async fn client_with_a_different_certificate_is_refused() {
    let expected = CertifiedKey::generate().unwrap();
    let intruder = CertifiedKey::generate().unwrap();
    let plugin = Plugin::start_with_auto_mtls(&expected, &[]);
    let outcome = match mtls_channel(&plugin, &intruder).await {
        Ok(channel) => health_of_plugin(channel)
            .await
            .map_err(|status| status.to_string()),
        Err(error) => Err(error),
    };
    assert!(outcome.is_err(), "an intruder got {outcome:?}");

    // The rightful client still gets in afterwards.
    let channel = mtls_channel(&plugin, &expected).await.unwrap();
    assert_eq!(
        health_of_plugin(channel).await.unwrap(),
        ServingStatus::Serving
    );
}

#[tokio::test]
async fn plaintext_client_is_refused_when_auto_mtls_is_on() {
    let client = CertifiedKey::generate().unwrap();
    let plugin = Plugin::start_with_auto_mtls(&client, &[]);
    let outcome = match connect(&plugin.handshake().address, None).await {
        Ok(channel) => health_of_plugin(channel)
            .await
            .map_err(|status| status.to_string()),
        Err(error) => Err(error.to_string()),
    };
    assert!(outcome.is_err(), "plaintext got {outcome:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn controller_shutdown_makes_the_process_exit_0_and_clean_up() {
    let client = CertifiedKey::generate().unwrap();
    let mut plugin = Plugin::start_with_auto_mtls(&client, &[]);
    let PluginAddress::Unix(socket) = plugin.handshake().address else {
        panic!("expected a unix socket");
    };
    let channel = mtls_channel(&plugin, &client).await.unwrap();
    // Terraform opens the stdio stream right after connecting and keeps it open; it must not
    // hold up the shutdown.
    let mut stdio = GrpcStdioClient::new(channel.clone())
        .stream_stdio(())
        .await
        .unwrap()
        .into_inner();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .expect("Shutdown is answered before the server stops");
    let stdio_end = tokio::time::timeout(Duration::from_secs(5), stdio.message()).await;
    assert!(
        matches!(stdio_end, Ok(Ok(None))),
        "stdio stream ends cleanly: {stdio_end:?}"
    );
    let code = tokio::task::block_in_place(|| plugin.wait_for_exit());
    assert_eq!(code, 0);
    assert!(
        !socket.parent().unwrap().exists(),
        "socket directory removed"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn sigint_does_not_stop_the_plugin() {
    let client = CertifiedKey::generate().unwrap();
    let mut plugin = Plugin::start_with_auto_mtls(&client, &[]);
    plugin.signal(libc::SIGINT);
    plugin.signal(libc::SIGINT);
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(plugin.is_running(), "SIGINT killed the plugin");
    let channel = mtls_channel(&plugin, &client).await.unwrap();
    assert_eq!(
        health_of_plugin(channel).await.unwrap(),
        ServingStatus::Serving
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn debug_mode_prints_reattach_json_serves_plaintext_and_stops_on_ctrl_c() {
    // No magic cookie: a developer starts debug mode by hand.
    let mut plugin = Plugin::start(&[], &["--debug"]);
    let mut text = plugin.first_line.clone();
    let reattach = loop {
        if let Some(value) = text
            .split("TF_REATTACH_PROVIDERS='")
            .nth(1)
            .and_then(|rest| rest.split_once('\'').map(|(json, _)| json.to_owned()))
        {
            break value;
        }
        let mut line = String::new();
        assert!(
            plugin.stdout.read_line(&mut line).unwrap() > 0,
            "no reattach line in {text}"
        );
        text.push_str(&line);
    };
    let parsed: serde_json::Value = serde_json::from_str(&reattach).unwrap();
    let entry = &parsed["registry.terraform.io/idbridge/idbridge"];
    assert_eq!(entry["Protocol"], "grpc");
    assert_eq!(entry["ProtocolVersion"], 6);
    assert_eq!(entry["Pid"], plugin.child.id());
    assert_eq!(entry["Test"], true);
    assert_eq!(entry["Addr"]["Network"], "unix");
    let socket = entry["Addr"]["String"].as_str().unwrap().to_owned();

    let channel = connect(&PluginAddress::Unix(socket.clone().into()), None)
        .await
        .unwrap();
    assert_eq!(
        health_of_plugin(channel).await.unwrap(),
        ServingStatus::Serving
    );

    plugin.signal(libc::SIGINT);
    let code = tokio::task::block_in_place(|| plugin.wait_for_exit());
    assert_eq!(code, 0);
    assert!(!Path::new(&socket).exists());
}
