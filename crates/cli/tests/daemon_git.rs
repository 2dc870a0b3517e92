//! The daemon runs the git sync by itself (docs/GIT_SYNC.md): with a
//! sync repository set up, a todo written while the daemon runs is committed
//! within `commit_interval` and reaches the bare remote with no `sync`
//! command (the first push is due at once, the next after `push_interval`,
//! here an hour), `status` shows the last commit and push, and a session end
//! pushes what waits without waiting for the interval.

mod common;

use common::{todo_list, Sandbox};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A guard against a hang, not a measure.
const WAIT: Duration = Duration::from_secs(90);

struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A repository's `main`: its log lines for device `laptop`, joined.
fn remote_log(remote: &Path) -> String {
    let listed = Command::new("git")
        .current_dir(remote)
        .args(["ls-tree", "-r", "--name-only", "main", "devices/laptop"])
        .output()
        .unwrap();
    let mut text = String::new();
    for path in String::from_utf8_lossy(&listed.stdout).lines() {
        text.push_str(&git_ok(remote, &["show", &format!("main:{path}")]));
    }
    text
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        assert!(started.elapsed() < WAIT, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(200));
    }
}

#[test]
fn the_daemon_commits_and_pushes_on_its_intervals_and_at_session_end() {
    let root = tempfile::tempdir().unwrap();
    git_ok(
        root.path(),
        &["init", "-q", "--bare", "-b", "main", "remote.git"],
    );
    let remote = root.path().join("remote.git");
    let sandbox = Sandbox::new();
    std::fs::write(
        sandbox.home().join("config.toml"),
        "device = \"laptop\"\n[git]\ncommit_interval = \"1s\"\npush_interval = \"1h\"\n",
    )
    .unwrap();
    sandbox.ok(&["git", "init", "--remote", remote.to_str().unwrap()]);

    let _daemon = Running(
        sandbox
            .command()
            .arg("daemon")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    sandbox.write(
        "todos/s1-agent-s1.json",
        todo_list(&[("Pushed by the daemon", "pending")]),
    );
    wait_for("the daemon's push", || {
        remote_log(&remote).contains("Pushed by the daemon")
    });
    let status = sandbox.json(&["status"]);
    let git = &status["git"];
    assert!(git["last_push"]["at"].is_string(), "{status}");
    assert!(
        git["last_commit"]["detail"]
            .as_str()
            .unwrap()
            .starts_with("laptop:"),
        "{status}"
    );
    assert_eq!(git["ahead"], 0, "{status}");
    let text = sandbox.ok(&["status"]);
    assert!(text.contains("last commit"), "{text}");

    // Committed on the commit interval, not pushed (the push interval is an
    // hour)…
    sandbox.write(
        "todos/s2-agent-s2.json",
        todo_list(&[("Written just before the end", "completed")]),
    );
    let local = sandbox.home().join("git");
    wait_for("the daemon's commit", || {
        remote_log(&local).contains("Written just before the end")
    });
    assert!(!remote_log(&remote).contains("Written just before the end"));
    // …until a session ends: the hook marks it, and the daemon syncs at once.
    let hook = serde_json::json!({
        "session_id": "s2", "cwd": "/tmp", "hook_event_name": "SessionEnd", "reason": "other"
    });
    let mut child = sandbox
        .command()
        .args(["hook", "session-end"])
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(hook.to_string().as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
    wait_for("the push after the session end", || {
        remote_log(&remote).contains("Written just before the end")
    });
}
