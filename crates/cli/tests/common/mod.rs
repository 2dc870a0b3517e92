//! A temporary Claude Code folder and chittysync home, and the real binary run on them.
#![allow(dead_code)]

pub mod git_daemon;

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub struct Sandbox {
    pub dir: tempfile::TempDir,
}

impl Sandbox {
    pub fn new() -> Sandbox {
        let sandbox = Sandbox {
            dir: tempfile::tempdir().expect("temp dir"),
        };
        for sub in ["claude/todos", "claude/tasks", "claude/projects", "home"] {
            std::fs::create_dir_all(sandbox.dir.path().join(sub)).unwrap();
        }
        // Private, as chittysync makes its home (a wider one is tightened,
        // with a warning that tests of quiet output would see).
        std::fs::set_permissions(
            sandbox.home(),
            std::os::unix::fs::PermissionsExt::from_mode(0o700),
        )
        .unwrap();
        sandbox
    }

    pub fn claude(&self) -> PathBuf {
        self.dir.path().join("claude")
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    /// Writes a file under the Claude folder, creating its folders.
    pub fn write(&self, rel: &str, content: impl AsRef<[u8]>) -> PathBuf {
        let path = self.claude().join(rel);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, content).unwrap();
        path
    }

    /// Appends to a file under the Claude folder.
    pub fn append(&self, rel: &str, content: &str) {
        use std::io::Write;
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(self.claude().join(rel))
            .unwrap();
        f.write_all(content.as_bytes()).unwrap();
    }

    pub fn command(&self) -> Command {
        let mut cmd = Self::bare_command();
        cmd.arg("--claude-dir")
            .arg(self.claude())
            .arg("--agents-home")
            .arg(self.dir.path())
            .arg("--home")
            .arg(self.home());
        cmd
    }

    /// The binary without the sandbox's folders, and without the settings
    /// of the environment it runs in.
    pub fn bare_command() -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_chittysync"));
        cmd.arg("--color")
            .arg("never")
            .env_remove("CHITTYSYNC_CONFIG")
            .env_remove("CHITTYSYNC_HOME")
            .env_remove("CLAUDE_CONFIG_DIR")
            .env_remove("CHITTYSYNC_AGENTS_HOME")
            .env_remove("CODEX_HOME")
            .env_remove("QWEN_HOME")
            .env_remove("XDG_DATA_HOME")
            .env_remove("CLAUDE_CODE_ENABLE_TODO_TOOLS");
        cmd
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command().args(args).output().expect("run chittysync")
    }

    /// Runs a command that must succeed and returns its stdout.
    pub fn ok(&self, args: &[&str]) -> String {
        let out = self.run(args);
        assert!(
            out.status.success(),
            "chittysync {args:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    pub fn json(&self, args: &[&str]) -> Value {
        let mut args = args.to_vec();
        args.push("--json");
        let text = self.ok(&args);
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
    }

    /// `consolidate --json`, returning the summary and stderr (the warnings).
    pub fn consolidate(&self, extra: &[&str]) -> (Value, String) {
        let mut args = vec!["consolidate", "--json"];
        args.extend_from_slice(extra);
        let out = self.run(&args);
        let stderr = String::from_utf8_lossy(&out.stderr).to_string();
        assert!(out.status.success(), "consolidate failed: {stderr}");
        (serde_json::from_slice(&out.stdout).unwrap(), stderr)
    }

    /// The todos as `todos --json` gives them, with extra arguments.
    pub fn todos(&self, extra: &[&str]) -> Vec<Value> {
        let mut args = vec!["todos"];
        args.extend_from_slice(extra);
        match self.json(&args) {
            Value::Array(items) => items,
            other => panic!("todos --json is not an array: {other}"),
        }
    }

    /// The status of the todo with this content (exact), if listed.
    pub fn status_of(&self, content: &str, extra: &[&str]) -> Option<String> {
        self.todos(extra)
            .into_iter()
            .find(|t| t["content"] == content)
            .map(|t| t["status"].as_str().unwrap().to_string())
    }

    pub fn output_file(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.home().join(name)).unwrap();
        serde_json::from_str(&text).unwrap()
    }
}

/// A todo list file's JSON: (content, status) pairs in the current shape.
/// Sets a file's modification time to `secs` after the Unix epoch: a file
/// written before the events that follow it.
pub fn set_modified_secs(path: &Path, secs: u64) {
    let at = std::time::SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(secs);
    std::fs::File::options()
        .write(true)
        .open(path)
        .unwrap()
        .set_modified(at)
        .unwrap();
}

pub fn todo_list(items: &[(&str, &str)]) -> String {
    let items: Vec<Value> = items
        .iter()
        .map(|(content, status)| {
            serde_json::json!({"content": content, "status": status, "activeForm": format!("Working on {content}")})
        })
        .collect();
    serde_json::to_string_pretty(&items).unwrap()
}

/// One transcript line: an assistant `TodoWrite` of these items at `at`.
pub fn todo_write_line(session: &str, cwd: &str, at: &str, items: &[(&str, &str)]) -> String {
    let todos: Vec<Value> = items
        .iter()
        .map(|(content, status)| serde_json::json!({"content": content, "status": status, "activeForm": content}))
        .collect();
    let line = serde_json::json!({
        "parentUuid": null, "isSidechain": false, "userType": "external",
        "cwd": cwd, "sessionId": session, "version": "2.0.14", "gitBranch": "main",
        "type": "assistant",
        "message": {"role": "assistant", "content": [
            {"type": "tool_use", "id": format!("toolu_{at}"), "name": "TodoWrite", "input": {"todos": todos}}
        ]},
        "uuid": format!("u-{at}"), "timestamp": at
    });
    format!("{line}\n")
}

/// A transcript line of another kind, carrying the session's cwd.
pub fn user_line(session: &str, cwd: &str, at: &str, text: &str) -> String {
    let line = serde_json::json!({
        "type": "user", "cwd": cwd, "sessionId": session, "version": "2.0.14", "gitBranch": "main",
        "message": {"role": "user", "content": text}, "timestamp": at
    });
    format!("{line}\n")
}
