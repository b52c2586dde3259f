//! Startup and schema latency of the release binary, measured the way Terraform experiences them.
//! Prints numbers; asserts nothing. Run with `cargo bench --bench startup`.
//!
//! Targets: handshake under 20 ms, GetProviderSchema under 2 ms, binary under 25 MB.

use std::io::{BufRead as _, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use idbridge::protocol::client::connect;
use idbridge::protocol::go_plugin::Empty;
use idbridge::protocol::go_plugin::grpc_controller_client::GrpcControllerClient;
use idbridge::protocol::handshake::{HandshakeLine, MAGIC_COOKIE_VALUE};
use idbridge::protocol::tfplugin6::get_provider_schema;
use idbridge::protocol::tfplugin6::provider_client::ProviderClient;
use idbridge::protocol::tls::{self, CertifiedKey};
use rustls_pki_types::CertificateDer;

const BINARY: &str = env!("CARGO_BIN_EXE_terraform-provider-idbridge");
const STARTS: usize = 30;
const SCHEMA_CALLS: usize = 2000;

struct Started {
    child: std::process::Child,
    handshake: HandshakeLine,
    elapsed: Duration,
}

/// Starts the provider as Terraform does (cookie, versions, AutoMTLS) and times it to the
/// handshake line.
fn start(client_pem: &str) -> Started {
    let began = Instant::now();
    let mut child = Command::new(BINARY)
        .env("TF_PLUGIN_MAGIC_COOKIE", MAGIC_COOKIE_VALUE)
        .env("PLUGIN_PROTOCOL_VERSIONS", "5,6")
        .env("PLUGIN_MIN_PORT", "10000")
        .env("PLUGIN_MAX_PORT", "25000")
        .env("PLUGIN_CLIENT_CERT", client_pem)
        .env_remove("TF_LOG")
        .env_remove("TF_LOG_PROVIDER")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("release binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .expect("handshake line");
    let elapsed = began.elapsed();
    Started {
        child,
        handshake: line.parse().expect("valid handshake line"),
        elapsed,
    }
}

async fn stop(started: &mut Started, client: &CertifiedKey) {
    let server = CertificateDer::from(started.handshake.server_certificate_der.clone().unwrap());
    let config = tls::client_config(client, server).unwrap();
    let channel = connect(&started.handshake.address, Some(config))
        .await
        .unwrap();
    GrpcControllerClient::new(channel)
        .shutdown(Empty {})
        .await
        .unwrap();
    let _ = started.child.wait();
}

fn percentile(sorted: &[Duration], fraction: f64) -> Duration {
    let index = ((sorted.len() as f64 - 1.0) * fraction).round() as usize;
    sorted[index]
}

fn report(name: &str, mut samples: Vec<Duration>, target: Duration) {
    samples.sort();
    let median = percentile(&samples, 0.5);
    let p95 = percentile(&samples, 0.95);
    println!(
        "{name:<28} n={:<5} median={:>9.3} ms  p95={:>9.3} ms  (target < {} ms)",
        samples.len(),
        median.as_secs_f64() * 1e3,
        p95.as_secs_f64() * 1e3,
        target.as_millis()
    );
}

fn main() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let client = CertifiedKey::generate().unwrap();
    let pem = client.certificate_pem();

    let mut handshakes = Vec::with_capacity(STARTS);
    for _ in 0..STARTS {
        let mut started = start(&pem);
        handshakes.push(started.elapsed);
        runtime.block_on(stop(&mut started, &client));
    }
    report(
        "start -> handshake line",
        handshakes,
        Duration::from_millis(20),
    );

    let mut started = start(&pem);
    let schema_latencies = runtime.block_on(async {
        let server =
            CertificateDer::from(started.handshake.server_certificate_der.clone().unwrap());
        let config = tls::client_config(&client, server).unwrap();
        let channel = connect(&started.handshake.address, Some(config))
            .await
            .unwrap();
        let mut provider = ProviderClient::new(channel);
        // Warm up the connection and allocator before measuring.
        for _ in 0..50 {
            provider
                .get_provider_schema(get_provider_schema::Request {})
                .await
                .unwrap();
        }
        let mut samples = Vec::with_capacity(SCHEMA_CALLS);
        for _ in 0..SCHEMA_CALLS {
            let began = Instant::now();
            provider
                .get_provider_schema(get_provider_schema::Request {})
                .await
                .unwrap();
            samples.push(began.elapsed());
        }
        samples
    });
    report(
        "GetProviderSchema (mTLS)",
        schema_latencies,
        Duration::from_millis(2),
    );
    runtime.block_on(stop(&mut started, &client));

    let size = std::fs::metadata(BINARY)
        .map(|meta| meta.len())
        .unwrap_or(0);
    println!(
        "{:<28} {:.2} MB ({BINARY}) (target < 25 MB)",
        "binary size",
        size as f64 / 1e6
    );
}
