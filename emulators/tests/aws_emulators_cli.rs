//! `idbridge-emulators start` as the acceptance harness uses it: spawned as a process, one JSON line parsed,
//! every endpoint answering, and a clean stop (moto's child process gone).

use std::process::Stdio;
use std::time::Duration;

use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};

const KEYS: [&str; 12] = [
    "graph_url",
    "login_url",
    "tenant_id",
    "client_id",
    "client_secret",
    "aws_endpoint_url",
    "aws_region",
    "moto_url",
    "sso_instance_arn",
    "identity_store_id",
    "scim_endpoint",
    "scim_token",
];

fn spawn(args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_idbridge-emulators"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true)
        .spawn()
        .expect("binary starts")
}

async fn wait_for_exit(child: &mut Child) -> std::process::ExitStatus {
    tokio::time::timeout(Duration::from_secs(20), child.wait())
        .await
        .expect("stops within 20 s")
        .unwrap()
}

async fn port_closed(url: &str) -> bool {
    let address = url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(&address).await.is_err() {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    false
}

#[tokio::test]
async fn start_json_prints_one_line_and_every_endpoint_answers_until_stdin_closes() {
    let mut child = spawn(&[
        "start",
        "--json",
        "--stop-on-stdin-eof",
        "--complete-ms",
        "250",
        "--complete-jitter-ms",
        "50",
        "--read-lag-ms",
        "10",
    ]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let line = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
        .await
        .expect("endpoints printed within 60 s")
        .unwrap()
        .expect("one line on stdout");
    let endpoints: Value = serde_json::from_str(&line).expect("the line is JSON");
    let object = endpoints.as_object().unwrap();
    let mut keys: Vec<&str> = object.keys().map(String::as_str).collect();
    keys.sort_unstable();
    let mut expected = KEYS.to_vec();
    expected.sort_unstable();
    assert_eq!(keys, expected);
    assert!(
        object
            .values()
            .all(|value| value.as_str().is_some_and(|text| !text.is_empty()))
    );
    let field = |key: &str| endpoints[key].as_str().unwrap().to_owned();

    let sso = aws_sdk_ssoadmin::Client::from_conf(
        aws_sdk_ssoadmin::Config::builder()
            .behavior_version(aws_sdk_ssoadmin::config::BehaviorVersion::latest())
            .region(aws_sdk_ssoadmin::config::Region::new(field("aws_region")))
            .credentials_provider(aws_sdk_ssoadmin::config::Credentials::new(
                "test", "test", None, None, "test",
            ))
            .endpoint_url(field("aws_endpoint_url"))
            .build(),
    );
    let instances = sso
        .list_instances()
        .send()
        .await
        .expect("AWS endpoint answers");
    assert_eq!(
        instances.instances()[0].instance_arn(),
        Some(field("sso_instance_arn").as_str())
    );
    assert_eq!(
        instances.instances()[0].identity_store_id(),
        Some(field("identity_store_id").as_str())
    );

    // sso-admin/identitystore service models: IdentityStoreId is `d-` and ten hex digits.
    let store_id = field("identity_store_id");
    assert!(
        store_id.len() == 12
            && store_id.starts_with("d-")
            && store_id[2..]
                .bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)),
        "{store_id}"
    );

    let http = reqwest::Client::new();
    let config = reqwest::get(format!("{}/_proxy/config", field("aws_endpoint_url")));
    let config: Value = config.await.unwrap().json().await.unwrap();
    assert_eq!(
        (
            &config["complete_ms"],
            &config["complete_jitter_ms"],
            &config["read_lag_ms"]
        ),
        (&json!(250), &json!(50), &json!(10))
    );
    let scim = http
        .get(format!("{}ServiceProviderConfig", field("scim_endpoint")))
        .bearer_auth(field("scim_token"))
        .send()
        .await
        .unwrap();
    assert_eq!(scim.status(), 200);

    let token: Value = http
        .post(format!(
            "{}/{}/oauth2/v2.0/token",
            field("login_url"),
            field("tenant_id")
        ))
        .form(&[
            ("grant_type", "client_credentials"),
            ("client_id", &field("client_id")),
            ("client_secret", &field("client_secret")),
            ("scope", "https://graph.microsoft.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let access_token = token["access_token"]
        .as_str()
        .expect("Entra token endpoint issues a token");
    let applications = http
        .get(format!("{}/v1.0/applications", field("graph_url")))
        .bearer_auth(access_token)
        .send()
        .await
        .unwrap();
    assert_eq!(applications.status(), 200);

    let moto = http
        .get(format!("{}/moto-api/data.json", field("moto_url")))
        .send()
        .await
        .unwrap();
    assert!(moto.status().is_success());

    drop(child.stdin.take());
    let status = wait_for_exit(&mut child).await;
    assert!(status.success(), "{status}");
    assert_eq!(
        stdout.next_line().await.unwrap(),
        None,
        "stdout holds exactly one line"
    );
    assert!(
        port_closed(&field("moto_url")).await,
        "moto still listening after stop"
    );
    assert!(
        port_closed(&field("aws_endpoint_url")).await,
        "proxy still listening after stop"
    );
}

#[tokio::test]
async fn start_prints_exports_and_stops_cleanly_on_sigterm() {
    let mut child = spawn(&["start", "--no-quotas", "--latency-ms", "5"]);
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut moto_url = None;
    let mut saw_endpoint_export = false;
    while let Ok(Some(line)) = tokio::time::timeout(Duration::from_secs(60), stdout.next_line())
        .await
        .unwrap()
    {
        if let Some(url) = line.strip_prefix("moto (raw)") {
            moto_url = Some(url.trim().to_owned());
        }
        if line.starts_with("export AWS_ENDPOINT_URL=http://127.0.0.1:") {
            saw_endpoint_export = true;
        }
        if line.starts_with("export AWS_SECRET_ACCESS_KEY=") {
            break;
        }
    }
    assert!(saw_endpoint_export);
    let moto_url = moto_url.expect("moto endpoint printed");
    let pid = child.id().unwrap().to_string();
    let killed = Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .await
        .unwrap();
    assert!(killed.success());
    let status = wait_for_exit(&mut child).await;
    assert!(status.success(), "{status}");
    assert!(
        port_closed(&moto_url).await,
        "moto still listening after SIGTERM"
    );
}
