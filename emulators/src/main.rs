//! `idbridge-emulators start`: moto + the AWS-faithful proxy + the AWS SCIM endpoint stand-in + the Microsoft Graph
//! emulator on free 127.0.0.1 ports, until SIGINT/SIGTERM (or stdin closes, with `--stop-on-stdin-eof`).

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};
use idbridge_emulators::aws_proxy::{self, ProxyConfig};
use idbridge_emulators::graph::{self, GraphConfig};
use idbridge_emulators::moto::MotoServer;
use idbridge_emulators::scim::{self, ScimConfig};
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;

const AWS_REGION: &str = "us-east-1";

#[derive(Parser)]
#[command(
    name = "idbridge-emulators",
    version,
    about = "Local Microsoft Graph and AWS IAM Identity Center emulators"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Start every emulator and print their endpoints and credentials.
    Start(StartArgs),
}

#[derive(Args)]
struct StartArgs {
    /// Print exactly one JSON line with the endpoints and credentials on stdout (diagnostics go to stderr).
    #[arg(long)]
    json: bool,
    /// Latency added to every Identity Center API call, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Asynchronous requests (account assignments, permission set provisioning) complete this many
    /// milliseconds after they were started, however often they are polled.
    #[arg(long, default_value_t = ProxyConfig::default().complete_ms)]
    complete_ms: u64,
    /// Up to this many milliseconds more per request, drawn at random.
    #[arg(long, default_value_t = 0)]
    complete_jitter_ms: u64,
    /// Read-after-write lag: new permission sets, groups and users stay invisible to reads this long.
    #[arg(long, default_value_t = 0)]
    read_lag_ms: u64,
    /// Disable the 20 TPS and 10-outstanding-assignments quotas.
    #[arg(long)]
    no_quotas: bool,
    /// Answer this share (0-100) of AWS calls with the operation's server fault (HTTP 500) before acting.
    #[arg(long, default_value_t = 0)]
    aws_server_error_percent: u32,
    /// Pause between scheduled provisioning cycles of started synchronization jobs, in seconds.
    #[arg(long, default_value_t = 20)]
    provisioning_interval_secs: u64,
    /// Requests per second the SCIM endpoint answers before it throttles with HTTP 429 (default: never).
    #[arg(long)]
    scim_requests_per_second: Option<u32>,
    /// Longest replication lag of a Graph write, in milliseconds: new objects answer 404 and PATCHed ones their
    /// previous version for a time drawn between 0 and this (0: consistent at once).
    #[arg(long, default_value_t = 0)]
    replication_lag_ms: u64,
    /// Seed of the replication lag draws (default: a random one, printed on stderr to replay a run).
    #[arg(long)]
    replication_lag_seed: Option<u64>,
    /// Stop when standard input reaches end of file (for harnesses that own the process).
    #[arg(long)]
    stop_on_stdin_eof: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    let Command::Start(args) = Cli::parse().command;
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("idbridge-emulators: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Asked through the proxy, which answers the identity store id in AWS's shape.
async fn first_instance(proxy_url: &str) -> Result<(String, String), String> {
    let listed: Value = reqwest::Client::new()
        .post(format!("{proxy_url}/"))
        .header(
            "User-Agent",
            format!("app/{}", aws_proxy::INTERNAL_APP_NAME),
        )
        .header("X-Amz-Target", "SWBExternalService.ListInstances")
        .header("Content-Type", "application/x-amz-json-1.1")
        .header(
            "Authorization",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260101/us-east-1/sso/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("{}")
        .send()
        .await
        .map_err(|err| format!("ListInstances failed: {err}"))?
        .json()
        .await
        .map_err(|err| format!("ListInstances answered non-JSON: {err}"))?;
    let instance = &listed["Instances"][0];
    match (
        instance["InstanceArn"].as_str(),
        instance["IdentityStoreId"].as_str(),
    ) {
        (Some(arn), Some(store)) => Ok((arn.to_owned(), store.to_owned())),
        _ => Err(format!(
            "moto returned no IAM Identity Center instance: {listed}"
        )),
    }
}

async fn run(args: StartArgs) -> Result<(), String> {
    let mut moto = MotoServer::start().await.map_err(|err| err.to_string())?;
    let proxy_config = ProxyConfig {
        latency_ms: args.latency_ms,
        complete_ms: args.complete_ms,
        complete_jitter_ms: args.complete_jitter_ms,
        read_lag_ms: args.read_lag_ms,
        quotas: !args.no_quotas,
        server_error_percent: args.aws_server_error_percent,
        ..ProxyConfig::default()
    };
    let proxy = aws_proxy::start(proxy_config, &moto.url)
        .await
        .map_err(|err| format!("proxy: {err}"))?;
    let scim = scim::start(
        ScimConfig {
            region: AWS_REGION.into(),
            requests_per_second: args.scim_requests_per_second,
            ..ScimConfig::default()
        },
        &proxy.base_url,
    )
    .await
    .map_err(|err| format!("SCIM endpoint: {err}"))?;
    let replication_lag_seed = args
        .replication_lag_seed
        .unwrap_or_else(|| fastrand::u64(..));
    if args.replication_lag_ms > 0 {
        eprintln!(
            "idbridge-emulators: Graph replication lag up to {} ms, seed {replication_lag_seed}",
            args.replication_lag_ms
        );
    }
    let graph_config = GraphConfig {
        provisioning_interval: Duration::from_secs(args.provisioning_interval_secs),
        replication_lag: Duration::from_millis(args.replication_lag_ms),
        replication_lag_seed,
        ..GraphConfig::default()
    };
    let (client_id, client_secret) = (
        graph_config.client_id.clone(),
        graph_config.client_secret.clone(),
    );
    let graph = graph::start(graph_config)
        .await
        .map_err(|err| format!("Graph emulator: {err}"))?;
    let (instance_arn, identity_store_id) = first_instance(&proxy.base_url).await?;

    let endpoints = json!({
        "graph_url": graph.base_url,
        "login_url": graph.base_url,
        "tenant_id": graph.tenant_id,
        "client_id": client_id,
        "client_secret": client_secret,
        "aws_endpoint_url": proxy.base_url,
        "aws_region": AWS_REGION,
        "moto_url": moto.url,
        "sso_instance_arn": instance_arn,
        "identity_store_id": identity_store_id,
        "scim_endpoint": scim.endpoint,
        "scim_token": scim.token,
    });
    let mut stdout = std::io::stdout().lock();
    let printed = if args.json {
        writeln!(stdout, "{endpoints}")
    } else {
        writeln!(stdout, "{}", human_readable(&endpoints))
    };
    printed
        .and_then(|()| stdout.flush())
        .map_err(|err| format!("cannot write to stdout: {err}"))?;
    drop(stdout);

    wait_for_stop(args.stop_on_stdin_eof).await?;

    drop(graph);
    scim.stop().await;
    proxy.stop().await;
    moto.stop().await;
    Ok(())
}

fn human_readable(endpoints: &Value) -> String {
    let field = |key: &str| endpoints[key].as_str().unwrap_or_default().to_owned();
    format!(
        "idbridge emulators running (Ctrl-C to stop)\n\
         \n\
         Microsoft Graph    {graph}/v1.0\n\
         Entra login        {login}/{tenant}/oauth2/v2.0/token\n\
         AWS (proxy)        {aws}   region {region}\n\
         AWS proxy admin    {aws}/_proxy/config  /_proxy/stats  /_proxy/reset\n\
         moto (raw)         {moto}\n\
         Identity Center    instance {instance}, identity store {store}\n\
         SCIM endpoint      {scim}\n\
         SCIM token         {token}\n\
         \n\
         export ARM_TENANT_ID={tenant}\n\
         export ARM_CLIENT_ID={client}\n\
         export ARM_CLIENT_SECRET={secret}\n\
         export IDBRIDGE_GRAPH_ENDPOINT={graph}\n\
         export IDBRIDGE_LOGIN_ENDPOINT={login}\n\
         export AWS_ENDPOINT_URL={aws}\n\
         export AWS_REGION={region}\n\
         export AWS_ACCESS_KEY_ID=test\n\
         export AWS_SECRET_ACCESS_KEY=test",
        graph = field("graph_url"),
        login = field("login_url"),
        tenant = field("tenant_id"),
        client = field("client_id"),
        secret = field("client_secret"),
        aws = field("aws_endpoint_url"),
        region = field("aws_region"),
        moto = field("moto_url"),
        instance = field("sso_instance_arn"),
        store = field("identity_store_id"),
        scim = field("scim_endpoint"),
        token = field("scim_token"),
    )
}

async fn wait_for_stop(stop_on_stdin_eof: bool) -> Result<(), String> {
    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|err| format!("cannot listen for SIGTERM: {err}"))?;
    let stdin_closed = async {
        if !stop_on_stdin_eof {
            return std::future::pending::<()>().await;
        }
        let mut stdin = tokio::io::stdin();
        let mut buffer = [0u8; 1024];
        while matches!(stdin.read(&mut buffer).await, Ok(read) if read > 0) {}
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => {}
        _ = terminate.recv() => {}
        () = stdin_closed => {}
    }
    Ok(())
}
