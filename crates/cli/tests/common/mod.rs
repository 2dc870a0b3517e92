//! A temporary Claude Code folder and chittysync home, and the real binary run on them.
#![allow(dead_code)]

pub mod git_daemon;
pub mod hub;

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
            .env_remove("CLAUDE_CODE_ENABLE_TODO_TOOLS")
            .env_remove("RUST_LOG");
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

/// A `PostToolUse` hook payload as Claude Code sends it.
pub fn post_tool_use(
    session: &str,
    cwd: &str,
    tool: &str,
    input: Value,
    response: Value,
) -> String {
    serde_json::json!({
        "session_id": session,
        "transcript_path": format!("/home/u/.claude/projects/x/{session}.jsonl"),
        "cwd": cwd,
        "permission_mode": "default",
        "hook_event_name": "PostToolUse",
        "tool_name": tool,
        "tool_input": input,
        "tool_response": response,
    })
    .to_string()
}

/// The `PostToolUse` payload of a `TodoWrite` of (content, status) pairs.
pub fn hook_todo_write(session: &str, cwd: &str, items: &[(&str, &str)]) -> String {
    let todos: Vec<Value> = items
        .iter()
        .map(|(c, s)| serde_json::json!({"content": c, "status": s, "activeForm": format!("Doing {c}")}))
        .collect();
    post_tool_use(
        session,
        cwd,
        "TodoWrite",
        serde_json::json!({ "todos": todos }),
        serde_json::json!({"oldTodos": [], "newTodos": todos}),
    )
}

/// The payload of another hook event (`SessionStart`, `SessionEnd`…).
pub fn hook_event(session: &str, cwd: &str, name: &str) -> String {
    serde_json::json!({"session_id": session, "transcript_path": "/x.jsonl", "cwd": cwd,
           "hook_event_name": name, "source": "startup", "reason": "logout"})
    .to_string()
}

/// A `SessionStart` payload (a new session, not a resumed one).
pub fn session_start(session: &str, cwd: &str) -> String {
    hook_event(session, cwd, "SessionStart")
}

/// The JSON values of a file of JSON lines (none if it does not exist yet),
/// as `tee -a FILE` keeps the events `[notify] command` is given.
pub fn json_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).expect("a line is JSON"))
        .collect()
}

/// A loopback port nothing listens on (bound, then let go): for a test of
/// what is unreachable. A server a test starts picks its own port instead
/// (`--listen 127.0.0.1:0`, `--port=0`): one chosen here could be taken by
/// another process before the server binds it.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}
