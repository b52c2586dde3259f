//! Fixture for the local Microsoft Graph / AWS emulators (`idbridge-emulators start --json --stop-on-stdin-eof`).

use std::fmt;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::{OnceLock, mpsc};
use std::time::Duration;

use serde::Deserialize;

use crate::error::HarnessError;
use crate::paths;

/// How long the emulators may take to print their endpoints (moto's start-up dominates).
const START_TIMEOUT: Duration = Duration::from_secs(120);

/// Longest Graph replication lag (ms) the acceptance tests run with, so that every read-after-write of the
/// provider meets Graph's eventual consistency; small enough to keep the suite's time. Override with
/// `IDBRIDGE_REPLICATION_LAG_MS` (0 turns it off) and replay a run's draws with `IDBRIDGE_REPLICATION_LAG_SEED`
/// (the emulators' log names the seed they used).
const DEFAULT_REPLICATION_LAG_MS: &str = "1000";

/// The single JSON line `idbridge-emulators start --json` prints once everything listens.
#[derive(Clone, Deserialize, PartialEq, Eq)]
pub struct EmulatorEndpoints {
    pub graph_url: String,
    pub login_url: String,
    pub tenant_id: String,
    pub client_id: String,
    pub client_secret: String,
    pub aws_endpoint_url: String,
    pub aws_region: String,
    pub moto_url: String,
    pub sso_instance_arn: String,
    pub identity_store_id: String,
    pub scim_endpoint: String,
    pub scim_token: String,
}

impl fmt::Debug for EmulatorEndpoints {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EmulatorEndpoints")
            .field("graph_url", &self.graph_url)
            .field("login_url", &self.login_url)
            .field("tenant_id", &self.tenant_id)
            .field("client_id", &self.client_id)
            .field("client_secret", &"(redacted)")
            .field("aws_endpoint_url", &self.aws_endpoint_url)
            .field("aws_region", &self.aws_region)
            .field("moto_url", &self.moto_url)
            .field("sso_instance_arn", &self.sso_instance_arn)
            .field("identity_store_id", &self.identity_store_id)
            .field("scim_endpoint", &self.scim_endpoint)
            .field("scim_token", &"(redacted)")
            .finish()
    }
}

impl EmulatorEndpoints {
    /// Environment that points the provider (and the AWS SDK) at the emulators.
    pub fn env(&self) -> Vec<(String, String)> {
        [
            ("ARM_TENANT_ID", self.tenant_id.as_str()),
            ("ARM_CLIENT_ID", &self.client_id),
            ("ARM_CLIENT_SECRET", &self.client_secret),
            ("IDBRIDGE_GRAPH_ENDPOINT", &self.graph_url),
            ("IDBRIDGE_LOGIN_ENDPOINT", &self.login_url),
            ("AWS_ENDPOINT_URL", &self.aws_endpoint_url),
            ("AWS_REGION", &self.aws_region),
            ("AWS_ACCESS_KEY_ID", "testing"),
            ("AWS_SECRET_ACCESS_KEY", "testing"),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ]
        .into_iter()
        .map(|(key, value)| (key.to_string(), value.to_string()))
        .collect()
    }
}

/// A running emulators process; stopped when dropped (stdin closed, then killed).
pub struct Emulators {
    endpoints: EmulatorEndpoints,
    child: Child,
    stdin: Option<ChildStdin>,
    log_path: PathBuf,
}

impl fmt::Debug for Emulators {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulators")
            .field("pid", &self.child.id())
            .field("endpoints", &self.endpoints)
            .field("log_path", &self.log_path)
            .finish()
    }
}

impl Emulators {
    /// Starts a fresh emulators process and waits for its endpoints. Its stderr goes to a log file
    /// ([`Emulators::log_path`]).
    pub fn start() -> Result<Emulators, HarnessError> {
        Emulators::start_with(&[])
    }

    /// [`Emulators::start`] with more `start` options, e.g. `["--provisioning-interval-secs", "3600"]`.
    pub fn start_with(extra_args: &[String]) -> Result<Emulators, HarnessError> {
        let binary = paths::emulators_binary()?;
        let log_dir = paths::work_root().join("emulators");
        std::fs::create_dir_all(&log_dir).map_err(HarnessError::io(&log_dir))?;
        let log_path = log_dir.join(format!(
            "emulators-{}-{}.log",
            std::process::id(),
            START_SEQUENCE.fetch_add(1, std::sync::atomic::Ordering::SeqCst)
        ));
        let log = std::fs::File::create(&log_path).map_err(HarnessError::io(&log_path))?;
        let lag_ms = std::env::var("IDBRIDGE_REPLICATION_LAG_MS")
            .unwrap_or_else(|_| DEFAULT_REPLICATION_LAG_MS.to_string());
        let mut command = Command::new(&binary);
        command.args([
            "start",
            "--json",
            "--stop-on-stdin-eof",
            "--replication-lag-ms",
            &lag_ms,
        ]);
        if let Ok(seed) = std::env::var("IDBRIDGE_REPLICATION_LAG_SEED") {
            command.args(["--replication-lag-seed", &seed]);
        }
        command.args(extra_args);
        Emulators::spawn(
            command
                // The emulators launch moto_server from the same pinned tools as the harness's Terraform.
                .env("IDBRIDGE_TOOLS_DIR", paths::tools_dir()),
            log,
            log_path,
            START_TIMEOUT,
        )
    }

    fn spawn(
        command: &mut Command,
        log: std::fs::File,
        log_path: PathBuf,
        timeout: Duration,
    ) -> Result<Emulators, HarnessError> {
        let start_error = |reason: String| {
            HarnessError::EmulatorsStart(format!("{reason} (log: {})", log_path.display()))
        };
        let mut child = command
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(log)
            .spawn()
            .map_err(|error| start_error(format!("could not spawn: {error}")))?;
        let stdin = child.stdin.take();
        let stdout = child.stdout.take().expect("stdout is piped");

        // The first line carries the endpoints; the rest of stdout is drained so the process never blocks on it.
        let (line_tx, line_rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            let _ = line_tx.send(lines.next());
            for _ in lines {}
        });
        let line = match line_rx.recv_timeout(timeout) {
            Ok(Some(Ok(line))) => line,
            Ok(_) => {
                let status = child.wait().ok();
                return Err(start_error(format!(
                    "exited before printing its endpoints ({status:?})"
                )));
            }
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(start_error(format!(
                    "printed no endpoints within {timeout:?}"
                )));
            }
        };
        let endpoints = match serde_json::from_str::<EmulatorEndpoints>(&line) {
            Ok(endpoints) => endpoints,
            Err(error) => {
                let _ = child.kill();
                let _ = child.wait();
                // The line holds secrets and serde's message may quote values: only a missing key is named.
                let message = error.to_string();
                let reason = if message.starts_with("missing field") {
                    message
                } else {
                    format!("{:?} error at column {}", error.classify(), error.column())
                };
                return Err(start_error(format!(
                    "printed an endpoints line that does not parse: {reason}"
                )));
            }
        };
        Ok(Emulators {
            endpoints,
            child,
            stdin,
            log_path,
        })
    }

    /// One emulators process shared by every test of this test binary, started on first use. It is never dropped:
    /// it stops when the test binary exits and its stdin reaches EOF. Tests sharing it must use unique names.
    pub fn shared() -> Result<&'static Emulators, HarnessError> {
        static SHARED: OnceLock<Result<Emulators, String>> = OnceLock::new();
        SHARED
            .get_or_init(|| {
                let extra = SHARED_ARGS.get().cloned().unwrap_or_default();
                Emulators::start_with(&extra).map_err(|error| error.to_string())
            })
            .as_ref()
            // The stored message already reads "emulators failed to start: ...".
            .map_err(|error| HarnessError::Failed(error.clone()))
    }

    /// More `start` options for this test binary's [`Emulators::shared`] (e.g. a provisioning cycle an hour
    /// away, so that only provisioning on demand can bring objects to AWS during a test). Call it before anything
    /// starts them; every call of the binary must pass the same options, else it panics.
    pub fn configure_shared(extra_args: &[&str]) {
        let wanted: Vec<String> = extra_args.iter().map(|a| a.to_string()).collect();
        let set = SHARED_ARGS.get_or_init(|| wanted.clone());
        assert_eq!(
            *set, wanted,
            "the shared emulators of a test binary take one set of options"
        );
    }

    pub fn endpoints(&self) -> &EmulatorEndpoints {
        &self.endpoints
    }

    /// See [`EmulatorEndpoints::env`].
    pub fn env(&self) -> Vec<(String, String)> {
        self.endpoints.env()
    }

    /// Where the emulators' own log goes.
    pub fn log_path(&self) -> &Path {
        &self.log_path
    }
}

/// The options [`Emulators::configure_shared`] set.
static SHARED_ARGS: OnceLock<Vec<String>> = OnceLock::new();

static START_SEQUENCE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

impl Drop for Emulators {
    fn drop(&mut self) {
        // Closing stdin asks for a clean stop; the kill covers a process that ignores it.
        drop(self.stdin.take());
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINE: &str = r#"{"graph_url":"http://127.0.0.1:1/v1.0","login_url":"http://127.0.0.1:1","tenant_id":"t","client_id":"c","client_secret":"s3cr3t","aws_endpoint_url":"http://127.0.0.1:2","aws_region":"us-east-1","moto_url":"http://127.0.0.1:3","sso_instance_arn":"arn:aws:sso:::instance/ssoins-1","identity_store_id":"d-1","scim_endpoint":"http://127.0.0.1:4/scim/v2","scim_token":"tok3n"}"#;

    fn spawn_script(script: &str, timeout: Duration) -> Result<Emulators, HarnessError> {
        let dir = tempfile::tempdir().unwrap();
        let log_path = dir.path().join("emu.log");
        let log = std::fs::File::create(&log_path).unwrap();
        Emulators::spawn(
            Command::new("sh").args(["-c", script]),
            log,
            log_path,
            timeout,
        )
    }

    #[test]
    fn parses_the_endpoints_line_and_builds_the_provider_env() {
        let emulators = spawn_script(
            &format!("echo '{LINE}'; cat >/dev/null"),
            Duration::from_secs(10),
        )
        .unwrap();
        let endpoints = emulators.endpoints();
        assert_eq!(endpoints.identity_store_id, "d-1");
        let env = emulators.env();
        assert!(env.contains(&("ARM_CLIENT_SECRET".to_string(), "s3cr3t".to_string())));
        assert!(env.contains(&(
            "AWS_ENDPOINT_URL".to_string(),
            "http://127.0.0.1:2".to_string()
        )));
        assert!(env.contains(&("AWS_EC2_METADATA_DISABLED".to_string(), "true".to_string())));
        assert_eq!(env.len(), 10);
        let debug = format!("{emulators:?}");
        assert!(
            !debug.contains("s3cr3t") && !debug.contains("tok3n"),
            "{debug}"
        );
    }

    #[test]
    fn drop_stops_the_process() {
        let emulators =
            spawn_script(&format!("echo '{LINE}'; sleep 60"), Duration::from_secs(10)).unwrap();
        let pid = emulators.child.id() as libc::pid_t;
        drop(emulators);
        // SAFETY: signal 0 only probes whether the (reaped) pid still exists.
        assert_ne!(unsafe { libc::kill(pid, 0) }, 0);
    }

    #[test]
    fn start_failures_are_reported_without_leaking_the_line() {
        let error = spawn_script("exit 3", Duration::from_secs(10))
            .unwrap_err()
            .to_string();
        assert!(
            error.contains("exited before printing its endpoints"),
            "{error}"
        );
        let error = spawn_script(
            "echo '{\"client_secret\":\"s3cr3t\"}'",
            Duration::from_secs(10),
        )
        .unwrap_err()
        .to_string();
        assert!(
            error.contains("does not parse") && !error.contains("s3cr3t"),
            "{error}"
        );
        let error = spawn_script("sleep 5", Duration::from_millis(200))
            .unwrap_err()
            .to_string();
        assert!(error.contains("no endpoints within"), "{error}");
    }
}
