//! User text shown in terminal tables (issue 11, item 12): todo content,
//! projects, sessions and folders may hold control characters (`\r\n`, ESC…);
//! they are shown escaped, so they can neither draw fake rows nor drive the
//! terminal, while `--json` keeps them exact. The real binary on real files.

mod common;
mod live;

use common::{todo_list, Sandbox};
use serde_json::json;
use std::process::Command;

/// The lines of `todos` (header included) without trailing blanks.
fn table_lines(stdout: &str) -> Vec<&str> {
    stdout.lines().filter(|l| !l.trim().is_empty()).collect()
}

#[test]
fn control_characters_in_todos_cannot_draw_fake_rows() {
    let sandbox = Sandbox::new();
    let content = "a\r\nFAKE ROW | pending";
    sandbox.write("todos/s1.json", todo_list(&[(content, "pending")]));
    sandbox.consolidate(&[]);

    let stdout = sandbox.ok(&["todos"]);
    let lines = table_lines(&stdout);
    assert_eq!(lines.len(), 2, "a header and one row: {stdout:?}");
    assert!(
        lines[1].ends_with(r"a\r\nFAKE ROW | pending"),
        "the controls are shown, not obeyed: {stdout:?}"
    );
    // `--json` keeps the content exactly.
    assert_eq!(sandbox.todos(&[])[0]["content"], content);
}

#[test]
fn every_control_character_is_shown_in_every_table() {
    let sandbox = Sandbox::new();
    let content = "tab\there\u{1b}[2J\u{7f}\u{85}\u{0}end";
    sandbox.write("todos/s1.json", todo_list(&[(content, "pending")]));
    sandbox.consolidate(&[]);
    let shown = r"tab\there\u{1b}[2J\u{7f}\u{85}\0end";

    // Even on a terminal in colour (where escape codes are let through),
    // the content's own escape codes are shown, not obeyed.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_chittysync"));
    let out = cmd
        .args(["--color", "always", "--claude-dir"])
        .arg(sandbox.claude())
        .arg("--home")
        .arg(sandbox.home())
        .args(["todos"])
        .env_remove("CHITTYSYNC_CONFIG")
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(stdout.contains(shown), "{stdout:?}");
    assert!(!stdout.contains("\u{1b}[2J"), "{stdout:?}");

    let history = sandbox.ok(&["history", "tab"]);
    assert!(history.starts_with(shown), "{history:?}");
    assert!(!history.contains('\t'), "{history:?}");
}

#[test]
fn control_characters_in_sessions_and_projects_are_shown() {
    let sandbox = Sandbox::new();
    let cwd = sandbox.dir.path().join("evil\nFAKE");
    std::fs::create_dir_all(&cwd).unwrap();
    let todos = json!([{"content": "x", "status": "pending", "activeForm": "x"}]);
    let payload = json!({"session_id": "s\r\nFAKE", "transcript_path": "/o.jsonl",
        "cwd": cwd, "hook_event_name": "PostToolUse", "tool_name": "TodoWrite",
        "tool_input": {"todos": todos}, "tool_response": {"newTodos": todos}})
    .to_string();
    let out = live::hook(&sandbox, "post-tool-use", &payload, &[]);
    assert_eq!(out.status.code(), Some(0));
    for view in ["projects", "sessions", "todos"] {
        let stdout = sandbox.ok(&[view]);
        assert_eq!(table_lines(&stdout).len(), 2, "{view}: {stdout:?}");
        assert!(stdout.contains(r"evil\nFAKE"), "{view}: {stdout:?}");
    }
}

/// `todos` on a terminal 80 columns wide: every line fits, the content is
/// cut with `…`; piped, the content is whole. The terminal is a real
/// pseudo-terminal (`script`, util-linux), its width set by `stty`.
#[test]
fn on_a_terminal_a_table_fits_its_width_and_piped_it_is_whole() {
    let sandbox = Sandbox::new();
    let content = format!("Rewrite the {} parser", "very ".repeat(40));
    sandbox.write("todos/s1.json", todo_list(&[(&content, "pending")]));
    sandbox.consolidate(&[]);

    let quote = |s: &str| format!("'{}'", s.replace('\'', r"'\''"));
    let mut shell = String::from("stty cols 80 rows 40; exec");
    let binary = env!("CARGO_BIN_EXE_chittysync");
    let (claude, home) = (sandbox.claude(), sandbox.home());
    let agents = sandbox.dir.path().display().to_string();
    for arg in [
        binary,
        "--color",
        "never",
        "--claude-dir",
        &claude.display().to_string(),
        "--agents-home",
        &agents,
        "--home",
        &home.display().to_string(),
        "todos",
    ] {
        shell.push(' ');
        shell.push_str(&quote(arg));
    }
    let out = Command::new("script")
        .args(["-qec", &shell, "/dev/null"])
        .env_remove("CHITTYSYNC_HOME")
        .output()
        .expect("run script(1)");
    assert!(out.status.success(), "{out:?}");
    let shown = String::from_utf8(out.stdout).unwrap().replace('\r', "");
    let lines = table_lines(&shown);
    assert_eq!(lines.len(), 2, "a header and one row: {shown:?}");
    for line in &lines {
        assert!(line.chars().count() <= 80, "{line:?} is wider than 80");
    }
    assert!(lines[1].ends_with('…'), "{:?}", lines[1]);
    assert_eq!(lines[1].chars().count(), 80, "{:?}", lines[1]);
    assert!(lines[1].contains("Rewrite the very very"), "{:?}", lines[1]);

    let piped = sandbox.ok(&["todos"]);
    assert!(
        table_lines(&piped)[1].ends_with(&content),
        "piped, the content is whole: {piped:?}"
    );
}
