//! Launches `moto_server` (pinned in scripts/tools-requirements.txt) as a child process on a free port.

use std::io;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// How long moto may take to import its services and bind the port.
const READY_TIMEOUT: Duration = Duration::from_secs(60);

/// A running moto server; the child is killed on [`MotoServer::stop`] or drop.
#[derive(Debug)]
pub struct MotoServer {
    pub url: String,
    child: Option<Child>,
}

/// `$IDBRIDGE_TOOLS_DIR/bin/moto_server`, else `<repo>/.tools/bin/moto_server` where the repo is found from
/// this crate's manifest directory or, for an installed binary, by walking up from the executable.
pub fn moto_server_path() -> io::Result<PathBuf> {
    find_tool("bin/moto_server")
}

/// A file installed by scripts/setup.sh, relative to the tools directory (e.g. `venv/bin/scim2`).
pub fn find_tool(relative: &str) -> io::Result<PathBuf> {
    let candidates = tools_dir_candidates();
    for dir in &candidates {
        let tool = dir.join(relative);
        if tool.is_file() {
            return Ok(tool);
        }
    }
    let looked: Vec<String> = candidates
        .iter()
        .map(|dir| dir.join(relative).display().to_string())
        .collect();
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        format!(
            "{relative} not found (looked at: {}); run scripts/setup.sh to install the pinned test tools, \
             or set IDBRIDGE_TOOLS_DIR to a directory where it ran",
            looked.join(", ")
        ),
    ))
}

fn tools_dir_candidates() -> Vec<PathBuf> {
    if let Some(dir) = std::env::var_os("IDBRIDGE_TOOLS_DIR") {
        return vec![PathBuf::from(dir)];
    }
    let mut candidates = Vec::new();
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    if let Some(repo) = manifest_dir.parent() {
        candidates.push(repo.join(".tools"));
    }
    if let Ok(exe) = std::env::current_exe() {
        for ancestor in exe.ancestors().skip(1) {
            let dir = ancestor.join(".tools");
            if !candidates.contains(&dir) {
                candidates.push(dir);
            }
        }
    }
    candidates
}

fn free_port() -> io::Result<u16> {
    // The port is released before moto binds it; a clash is possible but rare and reported by the readiness check.
    Ok(TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

impl MotoServer {
    /// Starts moto on a free 127.0.0.1 port and waits until it answers.
    pub async fn start() -> io::Result<MotoServer> {
        let binary = moto_server_path()?;
        let port = free_port()?;
        let child = Command::new(&binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .map_err(|err| {
                io::Error::new(
                    err.kind(),
                    format!("cannot start {}: {err}", binary.display()),
                )
            })?;
        let mut server = MotoServer {
            url: format!("http://127.0.0.1:{port}"),
            child: Some(child),
        };
        server.wait_ready().await?;
        Ok(server)
    }

    async fn wait_ready(&mut self) -> io::Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + READY_TIMEOUT;
        let probe = format!("{}/moto-api/data.json", self.url);
        loop {
            if let Some(child) = self.child.as_mut()
                && let Some(status) = child.try_wait()?
            {
                return Err(io::Error::other(format!(
                    "moto_server exited before it was ready ({status})"
                )));
            }
            if let Ok(response) = client
                .get(&probe)
                .timeout(Duration::from_secs(2))
                .send()
                .await
                && response.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > deadline {
                self.stop().await;
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    "moto_server did not become ready within 60 s",
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Kills the child and waits for it so no zombie or orphan stays behind.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }
}

impl Drop for MotoServer {
    fn drop(&mut self) {
        if let Some(child) = self.child.as_mut() {
            let _ = child.start_kill();
        }
    }
}
