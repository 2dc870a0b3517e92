//! The hook handler fed real-shaped Claude Code payloads, `hooks install` on
//! settings files, and hooks racing the daemon on one store.

mod common;
mod live;

use common::{hook_todo_write as todo_write, post_tool_use, session_start, todo_list, Sandbox};
use live::{hook, hooks_log, output_has, wait_for, Daemon};
use serde_json::{json, Value};

/// A git work tree named `name` in the sandbox, on branch `branch`.
fn work_tree(sandbox: &Sandbox, name: &str, branch: &str) -> String {
    let dir = sandbox.dir.path().join("work").join(name);
    std::fs::create_dir_all(dir.join(".git")).unwrap();
    std::fs::create_dir_all(dir.join("src")).unwrap();
    std::fs::write(dir.join(".git/HEAD"), format!("ref: refs/heads/{branch}\n")).unwrap();
    dir.to_str().unwrap().to_string()
}

fn assert_quiet_success(out: &std::process::Output) {
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn todo_write_is_visible_at_once_without_a_consolidation() {
    let sandbox = Sandbox::new();
    let cwd = work_tree(&sandbox, "api", "main");
    let out = hook(
        &sandbox,
        "post-tool-use",
        &todo_write(
            "sess-1",
            &cwd,
            &[("Fix the login", "in_progress"), ("Add docs", "pending")],
        ),
        &[],
    );
    assert_quiet_success(&out);
    assert!(out.stdout.is_empty());
    let todos = sandbox.todos(&[]);
    assert_eq!(todos.len(), 2, "{todos:?}");
    let fix = todos
        .iter()
        .find(|t| t["content"] == "Fix the login")
        .unwrap();
    assert_eq!(fix["status"], "in_progress");
    assert_eq!(fix["project"], "api");
    assert_eq!(fix["sessions"], json!(["sess-1"]));
    let history = sandbox.json(&["history", "Fix the login"]);
    assert!(
        history.to_string().contains("\"source\":\"hook\""),
        "{history}"
    );
    assert_eq!(hooks_log(&sandbox), "");
}

#[test]
fn session_start_tells_only_what_other_sessions_have_open() {
    let sandbox = Sandbox::new();
    let api = work_tree(&sandbox, "api", "feature/login");
    let web = work_tree(&sandbox, "web", "main");

    // Nothing known yet: nothing printed.
    let out = hook(
        &sandbox,
        "session-start",
        &session_start("aaaaaaaa-1", &api),
        &[],
    );
    assert_quiet_success(&out);
    assert!(
        out.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );

    // The first session plans; its own todos are not news to itself.
    hook(
        &sandbox,
        "post-tool-use",
        &todo_write(
            "aaaaaaaa-1",
            &api,
            &[
                ("Fix the login", "in_progress"),
                ("Write tests", "pending"),
                ("Old thing", "completed"),
            ],
        ),
        &[],
    );
    let out = hook(
        &sandbox,
        "session-start",
        &session_start("aaaaaaaa-1", &api),
        &[],
    );
    assert!(out.stdout.is_empty());
    // Another project's session hears nothing of it.
    let out = hook(
        &sandbox,
        "session-start",
        &session_start("cccccccc-3", &web),
        &[],
    );
    assert!(out.stdout.is_empty());

    // A second session of the same project (in a subfolder) is told, in progress first.
    let sub = format!("{api}/src");
    let out = hook(
        &sandbox,
        "session-start",
        &session_start("bbbbbbbb-2", &sub),
        &[],
    );
    assert_quiet_success(&out);
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(
        answer["hookSpecificOutput"]["hookEventName"],
        "SessionStart"
    );
    let text = answer["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap();
    let progress = text
        .find("[in progress] Fix the login (session aaaaaaaa")
        .expect(text);
    let pending = text.find("[pending] Write tests").expect(text);
    assert!(progress < pending, "{text}");
    assert!(!text.contains("Old thing"), "{text}");
    assert!(text.contains("project `api`"), "{text}");

    let sessions = sandbox.json(&["sessions"]);
    let second = sessions
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == "bbbbbbbb-2")
        .unwrap();
    assert_eq!(second["project"], "api");
    assert_eq!(second["git_branch"], "feature/login");
    assert_eq!(second["start_source"], "startup");
    assert_eq!(second["state"], "active");
    assert!(!second["device"].as_str().unwrap().is_empty());
}

#[test]
fn session_end_is_recorded_and_a_resumed_session_is_active_again() {
    let sandbox = Sandbox::new();
    let cwd = work_tree(&sandbox, "api", "main");
    hook(
        &sandbox,
        "session-start",
        &session_start("sess-end", &cwd),
        &[],
    );
    let end = json!({"session_id": "sess-end", "transcript_path": "/x.jsonl", "cwd": cwd,
                     "hook_event_name": "SessionEnd", "reason": "prompt_input_exit"});
    assert_quiet_success(&hook(&sandbox, "session-end", &end.to_string(), &[]));
    let session = |id: &str| {
        sandbox
            .json(&["sessions"])
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["id"] == id)
            .cloned()
            .unwrap()
    };
    let ended = session("sess-end");
    assert_eq!(ended["state"], "ended");
    assert_eq!(ended["end_reason"], "prompt_input_exit");
    assert!(!ended["ended_at"].is_null());
    let text = sandbox.ok(&["sessions"]);
    assert!(
        text.lines()
            .any(|l| l.starts_with("sess-end") && l.contains("ended")),
        "{text}"
    );

    std::thread::sleep(std::time::Duration::from_millis(5));
    hook(
        &sandbox,
        "post-tool-use",
        &todo_write("sess-end", &cwd, &[("After resume", "pending")]),
        &[],
    );
    assert_eq!(session("sess-end")["state"], "active");
}

#[test]
fn task_calls_use_the_shared_list_from_the_environment() {
    let sandbox = Sandbox::new();
    let cwd = work_tree(&sandbox, "api", "main");
    let env = [("CLAUDE_CODE_TASK_LIST_ID", "team-list")];
    let create = post_tool_use(
        "sess-t",
        &cwd,
        "TaskCreate",
        json!({"subject": "Ship the release", "description": "all of it", "activeForm": "Shipping"}),
        json!({"task": {"id": "4", "subject": "Ship the release"}}),
    );
    assert_quiet_success(&hook(&sandbox, "post-tool-use", &create, &env));
    assert_eq!(
        sandbox.status_of("Ship the release", &[]).as_deref(),
        Some("pending")
    );
    let update = post_tool_use(
        "sess-t",
        &cwd,
        "TaskUpdate",
        json!({"taskId": "4", "status": "in_progress"}),
        json!({"success": true}),
    );
    assert_quiet_success(&hook(&sandbox, "post-tool-use", &update, &env));
    let todos = sandbox.todos(&[]);
    assert_eq!(todos.len(), 1, "{todos:?}");
    assert_eq!(todos[0]["status"], "in_progress");
    assert_eq!(todos[0]["project"], "api");
    let sessions = sandbox.json(&["sessions"]);
    assert_eq!(sessions[0]["task_list"], "team-list");
    let history = sandbox.json(&["history", "Ship the release"]);
    assert!(
        history.to_string().contains("task:team-list/4"),
        "{history}"
    );

    // An update of a task nobody described is logged, not guessed.
    let unknown = post_tool_use(
        "sess-t",
        &cwd,
        "TaskUpdate",
        json!({"taskId": "99", "status": "completed"}),
        json!({}),
    );
    assert_quiet_success(&hook(&sandbox, "post-tool-use", &unknown, &env));
    assert!(
        hooks_log(&sandbox).contains("task 99"),
        "{}",
        hooks_log(&sandbox)
    );
}

#[test]
fn malformed_payloads_exit_0_and_are_logged() {
    let sandbox = Sandbox::new();
    for (event, payload) in [
        ("post-tool-use", "this is not json"),
        ("session-start", "{\"cwd\": \"/x\"}"),
        ("post-tool-use", "{\"session_id\": \"s\", \"tool_name\": \"TodoWrite\", \"tool_input\": {\"todos\": \"[]\"}}"),
        ("session-end", ""),
    ] {
        let out = hook(&sandbox, event, payload, &[]);
        assert_eq!(out.status.code(), Some(0), "{event} {payload}");
        assert!(out.stdout.is_empty());
    }
    let log = hooks_log(&sandbox);
    assert_eq!(log.lines().count(), 4, "{log}");
    assert!(
        log.contains("post-tool-use") && log.contains("session_id"),
        "{log}"
    );

    // Even a broken config does not make a hook fail.
    std::fs::write(sandbox.home().join("config.toml"), "[daemon\n").unwrap();
    let out = hook(&sandbox, "session-start", &session_start("s", "/x"), &[]);
    assert_eq!(out.status.code(), Some(0));
    assert!(hooks_log(&sandbox).contains("config"));
}

#[test]
fn eight_hooks_and_the_daemon_never_fail_on_a_locked_store() {
    let sandbox = Sandbox::new();
    let cwd = work_tree(&sandbox, "api", "main");
    let _daemon = Daemon::start(&sandbox);
    let rounds = 6;
    std::thread::scope(|scope| {
        // The daemon busy with files while the hooks write.
        scope.spawn(|| {
            for i in 0..40 {
                sandbox.write(
                    &format!("todos/file{i}.json"),
                    todo_list(&[(&format!("File todo {i}"), "pending")]),
                );
                std::thread::sleep(std::time::Duration::from_millis(5));
            }
        });
        for worker in 0..8 {
            let (sandbox, cwd) = (&sandbox, &cwd);
            scope.spawn(move || {
                for round in 0..rounds {
                    let session = format!("worker-{worker}");
                    let items = [(format!("Hook todo {worker}-{round}"), "in_progress")];
                    let items: Vec<(&str, &str)> =
                        items.iter().map(|(c, s)| (c.as_str(), *s)).collect();
                    let out = hook(
                        sandbox,
                        "post-tool-use",
                        &todo_write(&session, cwd, &items),
                        &[],
                    );
                    assert_eq!(out.status.code(), Some(0));
                    let out = hook(sandbox, "session-start", &session_start(&session, cwd), &[]);
                    assert_eq!(out.status.code(), Some(0));
                }
            });
        }
    });
    assert_eq!(hooks_log(&sandbox), "", "a hook failed");
    let todos = sandbox.todos(&[]);
    for worker in 0..8 {
        for round in 0..rounds {
            let content = format!("Hook todo {worker}-{round}");
            assert!(
                todos.iter().any(|t| t["content"] == content.as_str()),
                "{content} lost"
            );
        }
    }
    wait_for("the daemon to take in every file", || {
        (0..40).all(|i| output_has(&sandbox, &format!("File todo {i}"), "pending"))
    });
    assert_eq!(live::heartbeat(&sandbox).unwrap()["counters"]["errors"], 0);
}

mod install {
    use super::*;
    use std::path::Path;

    fn read(path: &Path) -> Value {
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
    }

    #[test]
    fn install_is_idempotent_keeps_other_keys_and_backs_up() {
        let sandbox = Sandbox::new();
        let settings = sandbox.claude().join("settings.json");
        let original = json!({
            "model": "opus",
            "permissions": {"allow": ["Bash(ls:*)"]},
            "hooks": {"PostToolUse": [{"matcher": "Bash", "hooks": [{"type": "command", "command": "echo mine"}]}]}
        });
        std::fs::write(&settings, serde_json::to_string_pretty(&original).unwrap()).unwrap();

        let out = sandbox.ok(&["hooks", "install"]);
        assert!(out.contains("installed"), "{out}");
        let backup = sandbox.claude().join("settings.json.chittysync-backup");
        assert_eq!(read(&backup), original);
        let installed = read(&settings);
        assert_eq!(installed["model"], "opus");
        assert_eq!(installed["permissions"], original["permissions"]);
        let post = installed["hooks"]["PostToolUse"].as_array().unwrap();
        assert_eq!(post[0], original["hooks"]["PostToolUse"][0]);
        assert_eq!(post[1]["matcher"], "TodoWrite|TaskCreate|TaskUpdate");
        let exe = std::fs::canonicalize(env!("CARGO_BIN_EXE_chittysync")).unwrap();
        let command = post[1]["hooks"][0]["command"].as_str().unwrap();
        assert!(command.starts_with(exe.to_str().unwrap()), "{command}");
        assert!(
            command.contains("--home")
                && command.ends_with(" hook post-tool-use # chittysync-hook"),
            "{command}"
        );
        for (event, arg) in [
            ("SessionStart", "session-start"),
            ("SessionEnd", "session-end"),
        ] {
            let command = installed["hooks"][event][0]["hooks"][0]["command"]
                .as_str()
                .unwrap();
            assert!(
                command.ends_with(&format!(" hook {arg} # chittysync-hook")),
                "{command}"
            );
        }

        let out = sandbox.ok(&["hooks", "install"]);
        assert!(out.contains("unchanged"), "{out}");
        assert_eq!(read(&settings), installed);

        sandbox.ok(&["hooks", "uninstall"]);
        assert_eq!(read(&settings), original);
        let out = sandbox.ok(&["hooks", "uninstall"]);
        assert!(out.contains("unchanged"), "{out}");
    }

    #[test]
    fn the_installed_command_runs() {
        let sandbox = Sandbox::new();
        let settings = sandbox.dir.path().join("custom.json");
        sandbox.ok(&["hooks", "install", "--settings", settings.to_str().unwrap()]);
        let installed = read(&settings);
        let command = installed["hooks"]["PostToolUse"][0]["hooks"][0]["command"]
            .as_str()
            .unwrap();
        let cwd = work_tree(&sandbox, "api", "main");
        let mut child = std::process::Command::new("sh")
            .args(["-c", command])
            .env_remove("CHITTYSYNC_HOME")
            .stdin(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(
                todo_write("via-settings", &cwd, &[("Run from settings", "pending")]).as_bytes(),
            )
            .unwrap();
        assert!(child.wait().unwrap().success());
        assert_eq!(
            sandbox.status_of("Run from settings", &[]).as_deref(),
            Some("pending")
        );
    }

    #[test]
    fn a_settings_file_that_is_not_json_is_refused_and_untouched() {
        let sandbox = Sandbox::new();
        let settings = sandbox.claude().join("settings.json");
        std::fs::write(&settings, "{\"model\": \"opus\",, }").unwrap();
        let out = sandbox.run(&["hooks", "install"]);
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains("not valid JSON") && stderr.contains("settings.json"),
            "{stderr}"
        );
        assert_eq!(
            std::fs::read_to_string(&settings).unwrap(),
            "{\"model\": \"opus\",, }"
        );
        assert!(!sandbox
            .claude()
            .join("settings.json.chittysync-backup")
            .exists());
    }
}
