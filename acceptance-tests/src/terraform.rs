//! Runs the pinned Terraform CLI in a work directory with a controlled environment.

use std::io::Read;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;

use crate::error::HarnessError;

/// Default limit for one Terraform command; `IDBRIDGE_ACC_COMMAND_TIMEOUT_SECS` overrides it.
const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(600);

/// What one Terraform command did.
#[derive(Debug, Clone)]
pub struct CommandOutput {
    /// The arguments, space separated (for messages).
    pub args: String,
    /// Exit code; `None` when killed by a signal.
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl CommandOutput {
    pub fn success(&self) -> bool {
        self.code == Some(0)
    }
}

/// A Terraform CLI bound to one set of environment variables and a log directory.
///
/// Every command's stdout and stderr (and its `TF_LOG=trace` log when enabled) are written to numbered files in the
/// log directory, so a failed test's work directory tells the whole story and secrets can be searched for in it.
#[derive(Debug, Clone)]
pub struct Terraform {
    binary: PathBuf,
    env: Vec<(String, String)>,
    log_dir: PathBuf,
    trace_log: bool,
    timeout: Duration,
    sequence: Arc<AtomicUsize>,
}

impl Terraform {
    /// `env` is applied on top of the inherited environment, from which every `TF_*` variable has been removed
    /// (a developer's `TF_LOG`, `TF_CLI_ARGS` or `TF_VAR_*` must not change what a test does).
    pub fn new(
        binary: PathBuf,
        env: Vec<(String, String)>,
        log_dir: PathBuf,
        trace_log: bool,
    ) -> Self {
        let timeout = std::env::var("IDBRIDGE_ACC_COMMAND_TIMEOUT_SECS")
            .ok()
            .and_then(|secs| secs.parse().ok())
            .map(Duration::from_secs)
            .unwrap_or(DEFAULT_COMMAND_TIMEOUT);
        Terraform {
            binary,
            env,
            log_dir,
            trace_log,
            timeout,
            sequence: Arc::new(AtomicUsize::new(0)),
        }
    }

    pub fn log_dir(&self) -> &Path {
        &self.log_dir
    }

    /// Runs `terraform <args>` in `dir` with `extra_env` added. A non-zero exit is not an error here: callers
    /// decide what each exit code means (`-detailed-exitcode`, expected failures).
    pub fn run(
        &self,
        dir: &Path,
        args: &[&str],
        extra_env: &[(String, String)],
    ) -> Result<CommandOutput, HarnessError> {
        self.run_killed_when(dir, args, extra_env, &|| false)
    }

    /// [`Terraform::run`], but Terraform and the provider plugins it started are killed (SIGKILL to the process
    /// group, as a crash or `kill -9` would) as soon as `kill_when` returns true; it is asked every 100 ms.
    pub fn run_killed_when(
        &self,
        dir: &Path,
        args: &[&str],
        extra_env: &[(String, String)],
        kill_when: &dyn Fn() -> bool,
    ) -> Result<CommandOutput, HarnessError> {
        let joined = args.join(" ");
        let (mut command, log_stem) = self.command(dir, args, extra_env);

        let spawn_error = |source| HarnessError::Spawn {
            args: joined.clone(),
            dir: dir.to_path_buf(),
            source,
        };
        let mut child = command.spawn().map_err(spawn_error)?;
        let pid = child.id() as libc::pid_t;
        let stdout_reader = drain(child.stdout.take());
        let stderr_reader = drain(child.stderr.take());

        let (done_tx, done_rx) = mpsc::channel();
        let waiter = std::thread::spawn(move || {
            let status = child.wait();
            let _ = done_tx.send(());
            status
        });
        let started = std::time::Instant::now();
        let mut timed_out = false;
        loop {
            match done_rx.recv_timeout(Duration::from_millis(100)) {
                Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => break,
                Err(mpsc::RecvTimeoutError::Timeout) => {}
            }
            if kill_when() {
                // SAFETY: kill(2) on the process group we created; no memory is involved.
                unsafe {
                    libc::kill(-pid, libc::SIGKILL);
                }
                break;
            }
            if started.elapsed() >= self.timeout {
                timed_out = true;
                break;
            }
        }
        if timed_out {
            // SAFETY: kill(2) on the process group we created; no memory is involved.
            unsafe {
                libc::kill(-pid, libc::SIGKILL);
            }
        }
        let status = waiter
            .join()
            .expect("waiter thread does not panic")
            .map_err(spawn_error)?;
        let output = CommandOutput {
            args: joined.clone(),
            code: status.code(),
            stdout: stdout_reader.join().expect("reader thread does not panic"),
            stderr: stderr_reader.join().expect("reader thread does not panic"),
        };
        output.write_logs(&log_stem)?;

        if timed_out {
            return Err(HarnessError::Timeout {
                args: joined,
                timeout: self.timeout,
            });
        }
        Ok(output)
    }

    /// Starts `terraform <args>` in `dir` and returns at once, for tests that act on a command while it runs
    /// (kill it mid-apply). Its output is logged like [`Terraform::run`]'s once it has ended.
    pub fn spawn(
        &self,
        dir: &Path,
        args: &[&str],
        extra_env: &[(String, String)],
    ) -> Result<RunningTerraform, HarnessError> {
        let (mut command, log_stem) = self.command(dir, args, extra_env);
        let child = command.spawn().map_err(|source| HarnessError::Spawn {
            args: args.join(" "),
            dir: dir.to_path_buf(),
            source,
        })?;
        Ok(RunningTerraform {
            child: Some(child),
            args: args.join(" "),
            log_stem,
        })
    }

    /// The command for `terraform <args>` with the controlled environment, and the stem of its log files.
    fn command(
        &self,
        dir: &Path,
        args: &[&str],
        extra_env: &[(String, String)],
    ) -> (Command, PathBuf) {
        let sequence = self.sequence.fetch_add(1, Ordering::SeqCst) + 1;
        let subcommand = args.first().copied().unwrap_or("terraform");
        let log_stem = self.log_dir.join(format!("{sequence:03}-{subcommand}"));

        let mut command = Command::new(&self.binary);
        command
            .args(args)
            .current_dir(dir)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            // Own process group, so a timeout kills Terraform together with the provider plugins it started.
            .process_group(0);
        for (key, _) in std::env::vars_os() {
            if key.to_string_lossy().starts_with("TF_") {
                command.env_remove(&key);
            }
        }
        command.envs(self.env.iter().map(|(k, v)| (k, v)));
        command.envs(extra_env.iter().map(|(k, v)| (k, v)));
        if self.trace_log {
            command.env("TF_LOG", "trace");
            command.env("TF_LOG_PATH", log_stem.with_extension("trace.log"));
        }
        (command, log_stem)
    }
}

impl CommandOutput {
    fn write_logs(&self, log_stem: &Path) -> Result<(), HarnessError> {
        let stdout_path = log_stem.with_extension("stdout");
        std::fs::write(&stdout_path, &self.stdout).map_err(HarnessError::io(&stdout_path))?;
        let stderr_path = log_stem.with_extension("stderr");
        std::fs::write(
            &stderr_path,
            format!("$ terraform {}\n{}", self.args, self.stderr),
        )
        .map_err(HarnessError::io(&stderr_path))
    }
}

/// A Terraform command started with [`Terraform::spawn`], running in its own process group.
pub struct RunningTerraform {
    /// `None` once [`RunningTerraform::kill`] has reaped it.
    child: Option<std::process::Child>,
    args: String,
    log_stem: PathBuf,
}

impl RunningTerraform {
    /// The Terraform process itself (not its group).
    pub fn pid(&self) -> u32 {
        self.child.as_ref().map_or(0, std::process::Child::id)
    }

    /// Processes Terraform started whose command name begins with `name` (as `/proc/<pid>/comm` shows it,
    /// at most 15 bytes), e.g. `"terraform-provi"` for the provider plugins.
    pub fn children_named(&self, name: &str) -> Vec<u32> {
        let parent = self.pid();
        let Ok(entries) = std::fs::read_dir("/proc") else {
            return Vec::new();
        };
        entries
            .filter_map(|entry| entry.ok()?.file_name().to_str()?.parse::<u32>().ok())
            .filter(|pid| {
                process_status(*pid)
                    .is_some_and(|(ppid, comm, _)| ppid == parent && comm.starts_with(name))
            })
            .collect()
    }

    /// SIGKILL to Terraform alone, as an OOM killer or a CI timeout would: the plugins it started are left to
    /// notice by themselves. Waits for Terraform to end and logs its output.
    pub fn kill(mut self) -> Result<CommandOutput, HarnessError> {
        let mut child = self.child.take().expect("not killed yet");
        let _ = child.kill();
        let output = child
            .wait_with_output()
            .map_err(|source| HarnessError::Spawn {
                args: self.args.clone(),
                dir: PathBuf::new(),
                source,
            })?;
        let output = CommandOutput {
            args: self.args.clone(),
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        };
        output.write_logs(&self.log_stem)?;
        Ok(output)
    }
}

impl Drop for RunningTerraform {
    fn drop(&mut self) {
        // A test that failed before killing it must not leave Terraform and its plugins behind.
        if let Some(child) = self.child.as_mut()
            && let Ok(None) = child.try_wait()
        {
            // SAFETY: kill(2) on the process group `spawn` created; no memory is involved.
            unsafe {
                libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL);
            }
            let _ = child.wait();
        }
    }
}

/// Whether process `pid` has ended: no longer in `/proc`, or a zombie waiting to be reaped.
pub fn process_gone(pid: u32) -> bool {
    process_status(pid).is_none_or(|(_, _, state)| state == 'Z' || state == 'X')
}

/// (parent pid, command name, state) of a process, from `/proc/<pid>/stat`.
fn process_status(pid: u32) -> Option<(u32, String, char)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // `pid (comm) state ppid …`; comm may itself contain spaces or parentheses, so split at the last ')'.
    let (head, rest) = stat.rsplit_once(')')?;
    let comm = head.split_once('(')?.1.to_string();
    let mut fields = rest.split_whitespace();
    let state = fields.next()?.chars().next()?;
    let ppid = fields.next()?.parse().ok()?;
    Some((ppid, comm, state))
}

fn drain(pipe: Option<impl Read + Send + 'static>) -> std::thread::JoinHandle<String> {
    std::thread::spawn(move || {
        let mut bytes = Vec::new();
        if let Some(mut pipe) = pipe {
            let _ = pipe.read_to_end(&mut bytes);
        }
        String::from_utf8_lossy(&bytes).into_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // A shell stands in for Terraform: `sh -c <script> <args..>`. Writing a script file and executing it would race
    // with other tests forking (ETXTBSY).
    fn shell(dir: &Path) -> Terraform {
        Terraform::new(PathBuf::from("/bin/sh"), vec![], dir.to_path_buf(), false)
    }

    #[test]
    fn captures_output_and_exit_code_and_writes_logs() {
        let dir = tempfile::tempdir().unwrap();
        let terraform = shell(dir.path());
        let script = "echo out:$0:$1; echo err >&2; exit 3";
        let output = terraform
            .run(dir.path(), &["-c", script, "plan", "-x"], &[])
            .unwrap();
        assert_eq!(output.code, Some(3));
        assert_eq!(output.stdout, "out:plan:-x\n");
        assert_eq!(output.stderr, "err\n");
        assert!(!output.success());
        let logged = std::fs::read_to_string(dir.path().join("001--c.stdout")).unwrap();
        assert_eq!(logged, "out:plan:-x\n");
    }

    #[test]
    fn inherited_tf_variables_are_dropped_and_given_ones_set() {
        // SAFETY: no other test in this crate reads or writes this variable.
        unsafe { std::env::set_var("TF_HARNESS_UNIT_LEAK", "leaked") };
        let dir = tempfile::tempdir().unwrap();
        let mut terraform = shell(dir.path());
        terraform.env = vec![("TF_IN_AUTOMATION".into(), "1".into())];
        let script = "echo \"[$TF_HARNESS_UNIT_LEAK][$TF_IN_AUTOMATION][$EXTRA]\"";
        let output = terraform
            .run(dir.path(), &["-c", script], &[("EXTRA".into(), "x".into())])
            .unwrap();
        assert_eq!(output.stdout, "[][1][x]\n");
    }

    #[test]
    fn a_hung_command_is_killed_after_the_timeout() {
        let dir = tempfile::tempdir().unwrap();
        let mut terraform = shell(dir.path());
        terraform.timeout = Duration::from_millis(300);
        let started = std::time::Instant::now();
        let error = terraform
            .run(dir.path(), &["-c", "sleep 30"], &[])
            .unwrap_err();
        assert!(matches!(error, HarnessError::Timeout { .. }), "{error}");
        assert!(started.elapsed() < Duration::from_secs(10));
    }
}
