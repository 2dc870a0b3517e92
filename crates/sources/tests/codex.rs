//! Codex CLI's rollouts, built as Codex writes them (docs/SOURCES.md, "Codex
//! CLI"), in the generations met in real files:
//! - September 2025: `codex-rs/core/src/rollout.rs` (openai/codex 89a151f5):
//!   a bare `SessionMeta` first line, bare `ResponseItem` lines with no
//!   timestamp, `{"record_type":"state"}` lines;
//! - since autumn 2025: `RolloutLine { timestamp, #[serde(flatten)] item }`
//!   with `RolloutItem` tagged `type`/`payload` (`codex-rs/protocol`,
//!   `codex-rs/core/src/rollout/recorder.rs`): `session_meta`,
//!   `turn_context`, `response_item`, `event_msg`;
//! - 0.154: `RolloutLine` gains `ordinal`, and `world_state` items appear
//!   (`codex-rs/rollout/src/ordinal.rs`); finished rollouts may be
//!   compressed to `.jsonl.zst` (`codex-rs/rollout/src/compression.rs`).

use chittysync_core::{Status, Timestamp};
use chittysync_sources::agents::codex::{discover, read_rollout, session_of_file};
use chittysync_sources::agents::SessionRead;
use chittysync_sources::ReadPosition;
use serde_json::{json, Value};
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

const ID: &str = "5973b6c0-94b8-487b-a530-2aeb6098ae0e";
const LIMIT: u64 = 1 << 20;

fn ts(second: u32) -> String {
    format!("2026-05-05T10:32:{second:02}.680Z")
}

fn at(text: &str) -> Timestamp {
    Timestamp::parse_rfc3339(text).unwrap()
}

/// `update_plan`'s arguments as the model sends them: a JSON string.
fn plan_args(steps: &[(&str, &str)]) -> String {
    let plan: Vec<Value> = steps
        .iter()
        .map(|(step, status)| json!({"step": step, "status": status}))
        .collect();
    json!({"explanation": "Working through it", "plan": plan}).to_string()
}

fn function_call(args: &str, call: &str) -> Value {
    json!({"type": "function_call", "name": "update_plan", "arguments": args, "call_id": call})
}

/// A line of the current format (ordinal given for 0.154), its fields in
/// `RolloutLine`'s order: `timestamp`, `ordinal`, then the item's `type` and
/// `payload`.
fn line(second: u32, ordinal: Option<u64>, kind: &str, payload: Value) -> String {
    let ordinal = ordinal.map_or(String::new(), |o| format!(",\"ordinal\":{o}"));
    format!(
        "{{\"timestamp\":\"{}\"{ordinal},\"type\":\"{kind}\",\"payload\":{payload}}}",
        ts(second)
    )
}

fn session_meta(second: u32, ordinal: Option<u64>, id: &str, cwd: &str) -> String {
    line(
        second,
        ordinal,
        "session_meta",
        json!({
            "id": id, "timestamp": ts(second), "cwd": cwd, "originator": "codex_cli_rs",
            "cli_version": "0.154.0", "source": "cli", "model_provider": "openai",
            "base_instructions": {"text": "You are Codex, based on GPT-5."},
            "git": {"commit_hash": "4f1c2e", "branch": "main",
                    "repository_url": "git@example.com:me/api.git"}
        }),
    )
}

fn turn_context(second: u32, ordinal: Option<u64>, cwd: &str, model: &str) -> String {
    line(
        second,
        ordinal,
        "turn_context",
        json!({"turn_id": "turn-1", "cwd": cwd, "approval_policy": "on-request",
               "sandbox_policy": {"type": "workspace-write"}, "model": model,
               "summary": "auto"}),
    )
}

fn plan_line(second: u32, ordinal: Option<u64>, steps: &[(&str, &str)], call: &str) -> String {
    line(
        second,
        ordinal,
        "response_item",
        function_call(&plan_args(steps), call),
    )
}

/// A rollout of the current format, as 0.5x–0.15x write it.
fn current_rollout(cwd: &str) -> Vec<String> {
    vec![
        session_meta(0, None, ID, cwd),
        line(
            1,
            None,
            "response_item",
            json!({"type": "message", "role": "user",
            "content": [{"type": "input_text", "text": "<environment_context>…"}]}),
        ),
        turn_context(2, None, cwd, "gpt-5-codex"),
        line(
            3,
            None,
            "event_msg",
            json!({"type": "user_message", "message": "fix login"}),
        ),
        plan_line(
            4,
            None,
            &[
                ("Read the login code", "in_progress"),
                ("Fix the bug", "pending"),
            ],
            "call_a",
        ),
        line(
            5,
            None,
            "response_item",
            json!({"type": "function_call_output", "call_id": "call_a",
            "output": "Plan updated"}),
        ),
        plan_line(
            9,
            None,
            &[
                ("Read the login code", "completed"),
                ("Fix the bug", "in_progress"),
            ],
            "call_b",
        ),
        line(
            10,
            None,
            "event_msg",
            json!({"type": "token_count", "info": null}),
        ),
    ]
}

fn write(path: &Path, lines: &[String]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, lines.join("\n") + "\n").unwrap();
}

fn rollout_path(home: &Path, day: &str, id: &str) -> PathBuf {
    home.join("sessions")
        .join(day)
        .join(format!("rollout-2026-05-05T10-32-00-{id}.jsonl"))
}

fn steps(read: &SessionRead, i: usize) -> Vec<(&str, Status)> {
    read.plans[i]
        .todos
        .items
        .iter()
        .map(|t| (t.content.as_str(), t.status))
        .collect()
}

#[test]
fn current_rollout_gives_session_cwd_model_and_every_plan() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "2026/05/05", ID);
    write(&path, &current_rollout("/home/me/work/api"));

    let read = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(read.session.as_deref(), Some(ID));
    assert_eq!(read.cwd.as_deref(), Some("/home/me/work/api"));
    assert_eq!(read.model.as_deref(), Some("gpt-5-codex"));
    assert_eq!(read.version.as_deref(), Some("0.154.0"));
    assert_eq!(read.first_at, Some(at(&ts(0))));
    assert_eq!(read.last_at, Some(at(&ts(10))));
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.plans.len(), 2);
    assert_eq!(read.plans[0].line, Some(5));
    assert_eq!(read.plans[0].at, at(&ts(4)));
    assert_eq!(
        steps(&read, 1),
        [
            ("Read the login code", Status::Completed),
            ("Fix the bug", Status::InProgress)
        ]
    );
    assert_eq!(read.plans[1].at, at(&ts(9)));
    assert_eq!(read.end.line, 8);
    assert!(!read.restarted);
}

/// September 2025: no `session_meta`, no `payload`, no per-line time, no cwd.
#[test]
fn september_2025_rollout_without_session_meta() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "2025/09/02", ID);
    let lines = vec![
        json!({"id": ID, "timestamp": "2025-09-02T08:15:30.123Z",
               "instructions": "Be terse.",
               "git": {"commit_hash": "9a8b7c", "branch": "main"}})
        .to_string(),
        json!({"record_type": "state"}).to_string(),
        json!({"type": "message", "role": "user",
               "content": [{"type": "input_text", "text": "add tests"}]})
        .to_string(),
        function_call(&plan_args(&[("Write tests", "in_progress")]), "call_1").to_string(),
        json!({"type": "function_call_output", "call_id": "call_1",
               "output": "Plan updated"})
        .to_string(),
        json!({"record_type": "state", "previous_response_id": "resp_1"}).to_string(),
        function_call(&plan_args(&[("Write tests", "completed")]), "call_2").to_string(),
    ];
    write(&path, &lines);

    let read = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(read.session.as_deref(), Some(ID));
    assert_eq!(read.cwd, None);
    assert_eq!(read.version, None);
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(read.plans.len(), 2);
    // No time on the lines: after the session's start, in file order.
    let start = at("2025-09-02T08:15:30.123Z");
    assert_eq!(read.plans[0].at, Timestamp::from_millis(start.millis() + 4));
    assert_eq!(read.plans[1].at, Timestamp::from_millis(start.millis() + 7));
    assert_eq!(steps(&read, 1), [("Write tests", Status::Completed)]);
    assert_eq!(read.first_at, Some(start));
}

/// 0.154: `ordinal` on every line, `world_state` lines; a Windows cwd.
#[test]
fn rollout_with_ordinals_world_state_and_a_windows_cwd() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "2026/05/05", ID);
    let cwd = r"C:\Users\me\work\api";
    let lines = vec![
        session_meta(0, Some(0), ID, cwd),
        turn_context(1, Some(1), cwd, "gpt-5.5"),
        line(
            2,
            Some(2),
            "world_state",
            json!({"plan": {"update_plan": "echo"}}),
        ),
        plan_line(3, Some(3), &[("Port to Windows", "pending")], "call_w"),
        line(
            4,
            Some(4),
            "compacted",
            json!({"message": "summary", "replacement_history": [
            function_call(&plan_args(&[("Port to Windows", "pending")]), "call_w")]}),
        ),
    ];
    write(&path, &lines);

    let read = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(read.cwd.as_deref(), Some(cwd));
    assert_eq!(read.model.as_deref(), Some("gpt-5.5"));
    // The world state and the compaction's history echo the plan; they are not writes.
    assert_eq!(read.plans.len(), 1);
    assert_eq!(read.plans[0].line, Some(4));
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
}

#[test]
fn read_on_from_a_position_names_the_session_again() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "2026/05/05", ID);
    let mut lines = current_rollout("/home/me/work/api");
    let last = lines.pop().unwrap();
    write(&path, &lines);
    // A partial line being written is left for next time.
    let mut file = fs::OpenOptions::new().append(true).open(&path).unwrap();
    file.write_all(&last.as_bytes()[..20]).unwrap();
    let first = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(first.plans.len(), 2);
    assert_eq!(first.end.line, 7);

    file.write_all(&last.as_bytes()[20..]).unwrap();
    file.write_all(b"\n").unwrap();
    let later = plan_line(30, None, &[("Ship it", "pending")], "call_c");
    file.write_all(format!("{later}\n").as_bytes()).unwrap();
    let second = read_rollout(&path, &first.end, LIMIT).unwrap();
    assert!(!second.restarted);
    assert_eq!(second.session.as_deref(), Some(ID));
    assert_eq!(second.cwd.as_deref(), Some("/home/me/work/api"));
    assert_eq!(second.plans.len(), 1);
    assert_eq!(second.plans[0].line, Some(9));
    assert_eq!(second.first_at, Some(at(&ts(10))));

    // Replaced by another session's rollout: read again from the start.
    write(
        &path,
        &[session_meta(
            0,
            None,
            "0199aaaa-0000-7000-8000-000000000001",
            "/x",
        )],
    );
    let third = read_rollout(&path, &second.end, LIMIT).unwrap();
    assert!(third.restarted);
    assert_eq!(
        third.session.as_deref(),
        Some("0199aaaa-0000-7000-8000-000000000001")
    );
}

#[test]
fn compressed_rollout_is_read_whole_and_one_cut_short_keeps_what_came_before() {
    let home = tempfile::tempdir().unwrap();
    let plain = rollout_path(home.path(), "2026/05/05", ID);
    let path = PathBuf::from(format!("{}.zst", plain.display()));
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let text = current_rollout("/home/me/work/api").join("\n") + "\n";
    let compressed = zstd::encode_all(text.as_bytes(), 3).unwrap();
    fs::write(&path, &compressed).unwrap();

    let whole = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(whole.session.as_deref(), Some(ID));
    assert_eq!(whole.plans.len(), 2);
    assert!(whole.warnings.is_empty(), "{:?}", whole.warnings);
    assert_eq!(whole.end, ReadPosition::default());

    // Many frames, as an appending compressor writes: cut in the last.
    let mut framed = Vec::new();
    for l in current_rollout("/home/me/work/api") {
        framed.extend(zstd::encode_all(format!("{l}\n").as_bytes(), 3).unwrap());
    }
    fs::write(&path, &framed[..framed.len() - 6]).unwrap();
    let cut = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert_eq!(cut.plans.len(), 2, "the plans before the cut are kept");
    assert_eq!(cut.warnings.len(), 1, "{:?}", cut.warnings);
    assert_eq!(cut.warnings[0].path, path);
    assert!(
        cut.warnings[0].message.contains("cut short"),
        "{}",
        cut.warnings[0]
    );

    fs::write(&path, b"not zstd at all\n").unwrap();
    let junk = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    assert!(junk.plans.is_empty());
    assert_eq!(junk.warnings.len(), 1);
    // The session is still known from the name.
    assert_eq!(junk.session.as_deref(), Some(ID));
}

#[test]
fn bad_lines_are_warnings_naming_file_and_line() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "2026/05/05", ID);
    let plan = plan_line(3, None, &[("Kept", "pending")], "call_ok");
    let lines = vec![
        session_meta(0, None, ID, "/home/me/work/api"),
        // 2: cut short while being written, then a newline came after a crash
        plan[..plan.len() - 12].to_string(),
        // 3: arguments that are not JSON
        line(
            2,
            None,
            "response_item",
            function_call("{\"plan\": [", "c1"),
        ),
        // 4: arguments that are not a string
        line(
            2,
            None,
            "response_item",
            json!({"type": "function_call", "name": "update_plan",
            "arguments": {"plan": []}, "call_id": "c2"}),
        ),
        // 5: a plan that is not a list
        line(
            2,
            None,
            "response_item",
            function_call("{\"plan\":\"do it\"}", "c3"),
        ),
        // 6: odd entries and statuses, read as far as they go
        line(
            3,
            None,
            "response_item",
            function_call(
                &json!({"plan": [{"step": "Good", "status": "completed"},
                             {"step": "", "status": "pending"},
                             {"status": "pending"},
                             {"step": "Odd status", "status": "waiting"},
                             {"step": "Done word", "status": "done"}]})
                .to_string(),
                "c4",
            ),
        ),
        plan,
    ];
    write(&path, &lines);

    let read = read_rollout(&path, &ReadPosition::default(), LIMIT).unwrap();
    let at_lines: Vec<Option<u64>> = read.warnings.iter().map(|w| w.line).collect();
    assert_eq!(
        at_lines,
        [Some(2), Some(3), Some(4), Some(5)],
        "{:?}",
        read.warnings
    );
    assert!(read.warnings.iter().all(|w| w.path == path));
    assert!(read.warnings[0].message.contains("corrupt line"));
    assert!(read.warnings[1].message.contains("not valid JSON"));
    assert!(read.warnings[2].message.contains("not a JSON string"));
    assert!(read.warnings[3].message.contains("not a list"));
    assert_eq!(read.plans.len(), 2);
    let odd = &read.plans[0].todos;
    assert_eq!(odd.skipped_entries, 2);
    assert_eq!(odd.unknown_statuses, 1);
    assert_eq!(
        steps(&read, 0),
        [
            ("Good", Status::Completed),
            ("Odd status", Status::Pending),
            ("Done word", Status::Completed)
        ]
    );
    assert_eq!(steps(&read, 1), [("Kept", Status::Pending)]);
}

#[test]
fn overlong_line_is_skipped_with_a_warning() {
    let home = tempfile::tempdir().unwrap();
    let path = rollout_path(home.path(), "2026/05/05", ID);
    let big = "x".repeat(5000);
    let lines = vec![
        session_meta(0, None, ID, "/w"),
        plan_line(1, None, &[(&big, "pending")], "big"),
        plan_line(2, None, &[("Small", "pending")], "small"),
    ];
    write(&path, &lines);
    let read = read_rollout(&path, &ReadPosition::default(), 4096).unwrap();
    assert_eq!(read.plans.len(), 1);
    assert_eq!(read.warnings.len(), 1);
    assert_eq!(read.warnings[0].line, Some(2));
}

#[test]
fn discovery_by_name_plain_wins_over_compressed() {
    let home = tempfile::tempdir().unwrap();
    let h = home.path();
    let a = rollout_path(h, "2026/05/05", ID);
    write(&a, &current_rollout("/w"));
    fs::write(format!("{}.zst", a.display()), b"older compressed copy").unwrap();
    let other = "019df7ae-b036-76c2-a499-fe10385d955a";
    let b = rollout_path(h, "2026/05/04", other);
    let b_zst = PathBuf::from(format!("{}.zst", b.display()));
    fs::create_dir_all(b.parent().unwrap()).unwrap();
    fs::write(&b_zst, b"compressed").unwrap();
    let archived = h.join("archived_sessions").join(format!(
        "rollout-2025-09-02T08-15-30-{}.jsonl",
        "0198aaaa-1111-7222-8333-444455556666"
    ));
    write(&archived, &["{}".to_string()]);
    fs::write(h.join("sessions/2026/05/05/notes.txt"), b"x").unwrap();
    fs::write(h.join("sessions/2026/05/05/rollout.tmp"), b"x").unwrap();

    let (found, warnings) = discover(h);
    assert!(warnings.is_empty(), "{warnings:?}");
    let paths: Vec<&Path> = found.iter().map(|f| f.path.as_path()).collect();
    assert_eq!(paths, [archived.as_path(), b_zst.as_path(), a.as_path()]);
    let a_found = found.iter().find(|f| f.path == a).unwrap();
    assert_eq!(a_found.size, fs::metadata(&a).unwrap().len());
    assert!(a_found.mtime_ms > 0);
    assert_eq!(session_of_file(&b_zst).as_deref(), Some(other));

    // No Codex home at all: nothing, quietly.
    let (none, warnings) = discover(&h.join("absent"));
    assert!(none.is_empty() && warnings.is_empty());
}
