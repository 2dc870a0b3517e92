//! A running daemon and hook runs for the tests that need them: the real
//! binary on the sandbox, and waiting for conditions with generous timeouts
//! (never a fixed sleep that a slow machine would break).
#![allow(dead_code)]

use crate::common::Sandbox;
use serde_json::Value;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Waits up to this long for anything: a loaded CI machine is slow, a broken
/// daemon never gets there.
pub const PATIENCE: Duration = Duration::from_secs(30);

/// Polls `check` until it holds, or panics naming `what`.
pub fn wait_for(what: &str, mut check: impl FnMut() -> bool) {
    let deadline = Instant::now() + PATIENCE;
    while !check() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// A daemon child process, killed if the test ends without stopping it.
pub struct Daemon {
    pub child: Child,
}

impl Daemon {
    /// Starts `chittysync daemon` on the sandbox and waits for its first
    /// consolidation (the catch-up) to finish.
    pub fn start(sandbox: &Sandbox) -> Daemon {
        Daemon::start_as(sandbox, sandbox.command())
    }

    /// [`Daemon::start`] with the `chittysync` command given (its own
    /// arguments and working folder), to which `daemon` is added.
    pub fn start_as(sandbox: &Sandbox, command: Command) -> Daemon {
        let daemon = Daemon::spawn_as(sandbox, command);
        let pid = daemon.pid();
        wait_for("the daemon's first heartbeat", || {
            heartbeat(sandbox).is_some_and(|h| {
                h["pid"] == pid && !h["last_consolidation"].is_null() && h["stopped_at"].is_null()
            })
        });
        daemon
    }

    /// Starts it without waiting; its stderr goes to `daemon.err` in the sandbox.
    pub fn spawn(sandbox: &Sandbox) -> Daemon {
        Daemon::spawn_as(sandbox, sandbox.command())
    }

    /// [`Daemon::spawn`] with the `chittysync` command given.
    fn spawn_as(sandbox: &Sandbox, mut command: Command) -> Daemon {
        let err = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(sandbox.dir.path().join("daemon.err"))
            .unwrap();
        let child = command
            .arg("daemon")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(err)
            .spawn()
            .expect("spawn the daemon");
        Daemon { child }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    #[allow(unsafe_code)]
    pub fn signal(&self, signal: i32) {
        // SAFETY: sending a signal to our own child process.
        assert_eq!(unsafe { libc::kill(self.pid() as i32, signal) }, 0);
    }

    /// Waits for the daemon to exit.
    pub fn wait(&mut self) -> ExitStatus {
        let deadline = Instant::now() + PATIENCE;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status;
            }
            assert!(Instant::now() < deadline, "the daemon did not exit");
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `daemon.json`, if written (and whole: it is written atomically).
pub fn heartbeat(sandbox: &Sandbox) -> Option<Value> {
    let text = std::fs::read_to_string(sandbox.home().join("daemon.json")).ok()?;
    serde_json::from_str(&text).ok()
}

/// How many consolidations the daemon has run.
pub fn runs(sandbox: &Sandbox) -> u64 {
    heartbeat(sandbox).map_or(0, |h| h["counters"]["runs"].as_u64().unwrap())
}

/// The contents listed in `todos.json`, with their statuses.
pub fn output_todos(sandbox: &Sandbox) -> Vec<(String, String)> {
    let Ok(text) = std::fs::read_to_string(sandbox.home().join("todos.json")) else {
        return Vec::new();
    };
    let doc: Value = serde_json::from_str(&text).expect("todos.json is whole JSON");
    doc["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["content"].as_str().unwrap().to_string(),
                t["status"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

/// Whether `todos.json` lists this content with this status.
pub fn output_has(sandbox: &Sandbox, content: &str, status: &str) -> bool {
    output_todos(sandbox)
        .iter()
        .any(|(c, s)| c == content && s == status)
}

/// Writes a file as Claude Code does: a temporary file beside it, then a rename.
pub fn write_by_rename(path: &Path, content: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let tmp = path.with_extension(format!("json.tmp.{}", std::process::id()));
    std::fs::write(&tmp, content).unwrap();
    std::fs::rename(&tmp, path).unwrap();
}

/// Runs `chittysync hook <event>` with `payload` on stdin and extra environment.
pub fn hook(
    sandbox: &Sandbox,
    event: &str,
    payload: &str,
    env: &[(&str, &str)],
) -> std::process::Output {
    let mut cmd = sandbox.command();
    // A session with the plan tools on, as after `hooks install`, unless
    // the test says otherwise.
    cmd.args(["hook", event])
        .env_remove("CLAUDE_CODE_TASK_LIST_ID")
        .env("CLAUDE_CODE_ENABLE_TODO_TOOLS", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (key, value) in env {
        cmd.env(key, value);
    }
    let mut child = cmd.spawn().expect("spawn the hook");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

/// What `hooks.log` holds (empty if there is none).
pub fn hooks_log(sandbox: &Sandbox) -> String {
    std::fs::read_to_string(sandbox.home().join("logs/hooks.log")).unwrap_or_default()
}
