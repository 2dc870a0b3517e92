//! Claude Code's plan tools on today's models (docs/SOURCES.md, "Claude Code"; docs/DAEMON.md): a session on a
//! model without them writes no plan, `status` counts such sessions by model,
//! and a starting session without them is told once.

mod common;
mod live;

use common::{todo_write_line, Sandbox};
use live::hook;
use serde_json::{json, Value};

/// A transcript of a session on `model`, with a plan or without.
fn transcript(sb: &Sandbox, session: &str, model: &str, plan: bool) {
    let cwd = "/nonexistent/work/api";
    let at = chittysync_now();
    let assistant = json!({
        "type": "assistant", "cwd": cwd, "sessionId": session, "timestamp": at,
        "version": "2.1.280",
        "message": {"role": "assistant", "model": model, "content": [{"type": "text", "text": "Done."}]}
    });
    let mut text = format!("{assistant}\n");
    if plan {
        text += &todo_write_line(session, cwd, &at, &[("Plan something", "pending")]);
    }
    sb.write(
        &format!("projects/-nonexistent-work-api/{session}.jsonl"),
        text,
    );
}

/// Now, as transcripts stamp it: `status` looks at the last seven days.
fn chittysync_now() -> String {
    chrono::Utc::now()
        .format("%Y-%m-%dT%H:%M:%S%.3fZ")
        .to_string()
}

#[test]
fn status_counts_recent_sessions_that_could_not_plan_by_model() {
    let sb = Sandbox::new();
    transcript(
        &sb,
        "a0000000-0000-4000-8000-000000000001",
        "claude-opus-4-8",
        false,
    );
    transcript(
        &sb,
        "a0000000-0000-4000-8000-000000000002",
        "claude-opus-4-8",
        false,
    );
    transcript(
        &sb,
        "a0000000-0000-4000-8000-000000000003",
        "claude-sonnet-5",
        false,
    );
    // On by default on this model: not a session that could not plan.
    transcript(
        &sb,
        "a0000000-0000-4000-8000-000000000004",
        "claude-sonnet-4-5-20250929",
        false,
    );
    // Turned on (it planned) although its model has them off by default.
    transcript(
        &sb,
        "a0000000-0000-4000-8000-000000000005",
        "claude-opus-4-8",
        true,
    );
    sb.consolidate(&[]);

    let status = sb.json(&["status"]);
    let plan = &status["plan_tools"];
    assert_eq!(plan["on"], false, "{plan}");
    assert_eq!(plan["without_plans"]["days"], 7);
    assert_eq!(plan["without_plans"]["sessions"], 3, "{plan}");
    assert_eq!(
        plan["without_plans"]["by_model"],
        json!([{"model": "claude-opus-4-8", "sessions": 2}, {"model": "claude-sonnet-5", "sessions": 1}])
    );
    let text = sb.ok(&["status"]);
    assert!(
        text.contains("3 sessions of the last 7 days ran on a model without them and wrote no plan: claude-opus-4-8 (2), claude-sonnet-5 (1)"),
        "{text}"
    );
    assert!(text.contains("chittysync hooks install"), "{text}");
}

fn session_start(session: &str, source: &str) -> String {
    json!({"session_id": session, "cwd": "/nonexistent/work/api", "hook_event_name": "SessionStart", "source": source})
        .to_string()
}

fn context(out: &std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    if out.stdout.is_empty() {
        return String::new();
    }
    let answer: Value = serde_json::from_slice(&out.stdout).unwrap();
    answer["hookSpecificOutput"]["additionalContext"]
        .as_str()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_session_started_without_plan_tools_is_told_once() {
    let sb = Sandbox::new();
    let off = [("CLAUDE_CODE_ENABLE_TODO_TOOLS", "0")];
    let told = context(&hook(
        &sb,
        "session-start",
        &session_start("s-off", "startup"),
        &off,
    ));
    assert!(told.contains("plan tools"), "{told}");
    assert!(told.contains("chittysync hooks install"), "{told}");
    // Not again when it resumes or compacts.
    for source in ["resume", "compact"] {
        let again = context(&hook(
            &sb,
            "session-start",
            &session_start("s-off", source),
            &off,
        ));
        assert!(!again.contains("plan tools"), "{source}: {again}");
    }
    // Nothing to say to a session that has them, from its environment…
    let on = context(&hook(
        &sb,
        "session-start",
        &session_start("s-on", "startup"),
        &[],
    ));
    assert!(!on.contains("plan tools"), "{on}");
    // …or from the `env` of its settings file.
    sb.write(
        "settings.json",
        r#"{"env": {"CLAUDE_CODE_ENABLE_TODO_TOOLS": "1"}}"#,
    );
    let unset = [("CLAUDE_CODE_ENABLE_TODO_TOOLS", "")];
    let from_settings = context(&hook(
        &sb,
        "session-start",
        &session_start("s-set", "startup"),
        &unset,
    ));
    assert!(!from_settings.contains("plan tools"), "{from_settings}");
}
