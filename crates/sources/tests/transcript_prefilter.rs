//! The cheap test a transcript line passes before it is parsed
//! (docs/SOURCES.md, "Transcripts"): it lets through every line that can hold
//! a plan, however its JSON is spelled, and only those.
//!
//! Whether a line was parsed is seen from outside through a corrupt line: one
//! the test lets through fails to parse and is reported ("corrupt line"), one
//! it skips is not.

mod common;

use chittysync_sources::{read_transcript, ReadPosition, TranscriptChunk};
use common::*;
use proptest::prelude::*;
use serde_json::json;
use std::path::Path;

const LIMIT: u64 = 16 << 20;

fn read(path: &Path, lines: &[String]) -> TranscriptChunk {
    write_lines(path, lines);
    read_transcript(path, &ReadPosition::default(), LIMIT).unwrap()
}

/// Every kind of plan line: a TodoWrite, task calls of the three task tools,
/// and the result that tells a created task's id.
fn plan_lines() -> Vec<String> {
    vec![
        todo_write(
            1,
            json!([{"content": "Write the parser", "status": "in_progress", "activeForm": "Writing"},
                   {"content": "Test it", "status": "pending", "activeForm": "Testing"}]),
        ),
        assistant_calls(
            2,
            &[(
                "toolu_01A",
                "TaskCreate",
                json!({"subject": "Design", "description": "The API", "activeForm": "Designing"}),
            )],
        ),
        tool_result(
            3,
            "toolu_01A",
            "Task #3 created successfully: Design",
            json!({"task": {"id": "3", "subject": "Design"}}),
        ),
        assistant_calls(
            4,
            &[(
                "toolu_01C",
                "TaskUpdate",
                json!({"taskId": "3", "status": "in_progress"}),
            )],
        ),
        assistant_calls(5, &[("toolu_01G", "TaskDelete", json!({"taskId": "3"}))]),
    ]
}

#[test]
fn tool_names_and_keys_spelled_with_escapes_are_still_read() {
    let tmp = tempfile::tempdir().unwrap();
    let plain = read(&tmp.path().join("plain.jsonl"), &plan_lines());
    assert_eq!(plain.events.len(), 5, "{:?}", plain.events);
    // Only the letters of the names and keys the test looks for, one at a time.
    let lines: Vec<String> = plan_lines()
        .iter()
        .map(|l| {
            l.replace("\"TodoWrite\"", "\"Todo\\u0057rite\"")
                .replace("\"TaskCreate\"", "\"Task\\u0043reate\"")
                .replace("\"TaskUpdate\"", "\"\\u0054askUpdate\"")
                .replace("\"TaskDelete\"", "\"TaskDelet\\u0065\"")
                .replace("\"task\":", "\"t\\u0061sk\":")
                .replace("\"toolUseResult\"", "\"toolUse\\u0052esult\"")
        })
        .collect();
    assert!(lines.iter().all(|l| !l.contains("\"TodoWrite\"")
        && !l.contains("\"TaskCreate\"")
        && !l.contains("\"TaskUpdate\"")
        && !l.contains("\"TaskDelete\"")
        && !l.contains("\"toolUseResult\"")));
    let escaped = read(&tmp.path().join("escaped.jsonl"), &lines);
    assert_eq!(escaped.events, plain.events);
    assert!(escaped.warnings.is_empty(), "{:?}", escaped.warnings);
}

#[test]
fn only_lines_that_can_hold_a_plan_are_parsed() {
    let tmp = tempfile::tempdir().unwrap();
    // Each line is cut short, so a parse of it is reported.
    let cut = |line: String| line[..line.len() - 1].to_string();
    let lines = vec![
        // Skipped: the tools' names only in text (quotes escaped), unquoted,
        // or as a longer name; a task without a tool result; a non-letter escape.
        cut(tool_result(
            1,
            "toolu_r",
            "call \"TodoWrite\" or \"TaskCreate\" now",
            json!({"type": "text"}),
        )),
        cut(prompt(2, "TodoWrite TaskCreate TaskUpdate TaskDelete")),
        cut(assistant_calls(
            3,
            &[
                ("toolu_x", "TaskList", json!({})),
                ("toolu_y", "TodoWriteLater", json!({})),
            ],
        )),
        cut(json!({"type": "user", "task": {"id": "1"}, "timestamp": ts(4)}).to_string()),
        cut(prompt(5, "colour \u{1b}[31mred\u{1b}[0m and a tab\t")),
        // Parsed: each can hold a plan.
        cut(todo_write(6, json!([]))),
        cut(assistant_calls(
            7,
            &[("toolu_c", "TaskCreate", json!({"subject": "S"}))],
        )),
        cut(assistant_calls(
            8,
            &[("toolu_u", "TaskUpdate", json!({"taskId": "1"}))],
        )),
        cut(assistant_calls(
            9,
            &[("toolu_d", "TaskDelete", json!({"taskId": "1"}))],
        )),
        cut(tool_result(
            10,
            "toolu_c",
            "Task #1 created",
            json!({"task": {"id": "1"}}),
        )),
        cut(prompt(11, "plain").replace("plain", "pl\\u0061in")),
        cut(prompt(12, "plain").replace("plain", "pl\\u0041in")),
    ];
    // The control characters are escaped below U+0040: not letters.
    assert!(lines[4].contains("\\u001b"), "{}", lines[4]);
    let chunk = read(&tmp.path().join("s.jsonl"), &lines);
    let parsed: Vec<u64> = chunk.warnings.iter().filter_map(|w| w.line).collect();
    assert_eq!(parsed, vec![6, 7, 8, 9, 10, 11, 12], "{:?}", chunk.warnings);
    assert!(chunk
        .warnings
        .iter()
        .all(|w| w.to_string().contains("corrupt line")));
}

proptest! {
    /// However the letters of the strings of a plan line are spelled, the
    /// line yields what its plain spelling does.
    #[test]
    fn any_spelling_of_a_plan_line_is_read(picks in proptest::collection::vec((any::<bool>(), any::<bool>()), 64..512)) {
        let tmp = tempfile::tempdir().unwrap();
        let plain = read(&tmp.path().join("plain.jsonl"), &plan_lines());
        let mut next = picks.iter().copied().cycle();
        let lines: Vec<String> = plan_lines()
            .iter()
            .map(|l| escape_letters(l, || next.next().unwrap()))
            .collect();
        for (escaped, original) in lines.iter().zip(plan_lines()) {
            let a: serde_json::Value = serde_json::from_str(escaped).unwrap();
            let b: serde_json::Value = serde_json::from_str(&original).unwrap();
            prop_assert_eq!(a, b);
        }
        let escaped = read(&tmp.path().join("escaped.jsonl"), &lines);
        prop_assert_eq!(escaped.events, plain.events);
        prop_assert!(escaped.warnings.is_empty());
    }
}
