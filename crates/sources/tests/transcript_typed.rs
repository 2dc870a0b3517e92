//! The typed parse of the lines that can hold a plan (docs/SOURCES.md,
//! "Transcripts") against a parse of the same lines into `serde_json::Value`,
//! the reader it replaced (`read_transcript_by_values`): for any transcript
//! both give the same chunk — events, warnings (corrupt lines and their
//! messages included) and session facts (the model is read by the same parse).
//!
//! The transcripts are plan lines of every kind, and lines that merely look
//! like them, then mutated: fields removed, replaced by values of other types
//! (a JSON-encoded string among them), extra and repeated keys, letters
//! spelled as `\u00XX` escapes, and the text broken (cut short, stray bytes,
//! invalid UTF-8, lone surrogates, numbers out of range, nesting too deep).

mod common;

use chittysync_sources::{read_transcript, read_transcript_by_values, ReadPosition};
use common::*;
use proptest::prelude::*;
use serde_json::{json, Map, Value};
use std::path::Path;

const LIMIT: u64 = 16 << 20;

/// Both readers on the file `lines` make; the typed one's chunk.
fn read_both(
    path: &Path,
    lines: &[Vec<u8>],
) -> Result<chittysync_sources::TranscriptChunk, String> {
    let mut bytes = lines.join(&b'\n');
    bytes.push(b'\n');
    std::fs::write(path, &bytes).unwrap();
    let typed = read_transcript(path, &ReadPosition::default(), LIMIT).unwrap();
    let values = read_transcript_by_values(path, &ReadPosition::default(), LIMIT).unwrap();
    if typed != values {
        return Err(format!(
            "typed and Value readers differ on\n{}\ntyped: {typed:#?}\nvalues: {values:#?}",
            String::from_utf8_lossy(&bytes)
        ));
    }
    Ok(typed)
}

fn value(line: String) -> Value {
    serde_json::from_str(&line).unwrap()
}

/// A plan line of kind `kind` (or one that only looks like one), at `second`.
fn base_line(kind: u8, second: u32) -> Value {
    match kind % 12 {
        0 => value(todo_write(
            second,
            json!([
                {"content": "Write the parser", "status": "in_progress", "activeForm": "Writing"},
                {"id": "2", "content": "Old shape", "status": "pending", "priority": "high"},
                {"content": "  ", "status": "pending"},
                {"content": "Odd status", "status": "blocked"},
                "not an entry",
                {"content": "Done", "status": "completed", "activeForm": ""}
            ]),
        )),
        1 => value(assistant_calls(
            second,
            &[(
                "toolu_01A",
                "TaskCreate",
                json!({"subject": "Design", "description": "The API", "activeForm": "Designing"}),
            )],
        )),
        2 => value(tool_result(
            second,
            "toolu_01A",
            "Task #3 created successfully: Design",
            json!({"task": {"id": "3", "subject": "Design"}}),
        )),
        3 => value(assistant_calls(
            second,
            &[(
                "toolu_01C",
                "TaskUpdate",
                json!({"taskId": 3, "status": "in_progress", "subject": "Design it", "activeForm": "Designing"}),
            )],
        )),
        4 => value(assistant_calls(
            second,
            &[
                ("toolu_01G", "TaskDelete", json!({"taskId": "3"})),
                (
                    "toolu_01H",
                    "TaskUpdate",
                    json!({"taskId": "4", "status": "done"}),
                ),
                ("toolu_01I", "Read", json!({"file_path": "/src/lib.rs"})),
            ],
        )),
        // A sub-agent's line, and a 1.0.x sidechain line.
        5 => {
            let mut line = value(todo_write(
                second,
                json!([{"content": "Sub", "status": "pending"}]),
            ));
            line["agentId"] = json!("a1b2");
            line
        }
        6 => {
            let mut line = value(todo_write(
                second,
                json!([{"content": "Side", "status": "completed"}]),
            ));
            line["isSidechain"] = json!(true);
            line
        }
        // `todos` sent as a JSON-encoded string.
        7 => value(assistant_calls(
            second,
            &[(
                "toolu_s",
                "TodoWrite",
                json!({"todos": "[{\"content\":\"x\",\"status\":\"pending\"}]"}),
            )],
        )),
        // A progress line of 2.x embedding a sub-agent's call: never a plan.
        8 => json!({
            "type": "progress", "timestamp": ts(second), "sessionId": SESSION,
            "data": {"message": {"type": "assistant", "message": {"content": [
                {"type": "tool_use", "id": "toolu_p", "name": "TodoWrite",
                 "input": {"todos": [{"content": "Nested", "status": "pending"}]}}]}}}
        }),
        // A model line (the session's model fact) without a plan.
        9 => {
            let mut line = envelope("assistant", second);
            line["message"] = json!({"model": "claude-opus-4-5", "role": "assistant",
                "content": [{"type": "text", "text": "Plan: TodoWrite next"}]});
            line
        }
        // A task created by a result whose id is a number.
        10 => value(tool_result(
            second,
            "toolu_01B",
            "Task #12 created",
            json!({"task": {"id": 12}}),
        )),
        _ => value(prompt(second, "use \"TodoWrite\" and the task tools")),
    }
}

/// Keys the readers look for, and a few they do not.
const KEYS: &[&str] = &[
    "type",
    "timestamp",
    "agentId",
    "sessionId",
    "isSidechain",
    "message",
    "model",
    "content",
    "toolUseResult",
    "task",
    "id",
    "name",
    "input",
    "tool_use_id",
    "todos",
    "subject",
    "description",
    "activeForm",
    "taskId",
    "status",
    "priority",
    "cwd",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::sample::select(KEYS).prop_map(str::to_string),
        1 => "[a-zA-Z_]{1,8}",
    ]
}

/// Any JSON value, with the strings and numbers the readers give meaning to.
fn any_value() -> impl Strategy<Value = Value> {
    let text = prop_oneof![
        proptest::sample::select(
            &[
                "",
                "  ",
                "pending",
                "in_progress",
                "completed",
                "deleted",
                "done",
                "assistant",
                "user",
                "tool_use",
                "tool_result",
                "TodoWrite",
                "TaskCreate",
                "TaskUpdate",
                "TaskDelete",
                "3",
                " 7 ",
                "2026-01-02T03:04:05.678Z",
                "<synthetic>",
                SESSION,
            ][..]
        )
        .prop_map(str::to_string),
        "[a-zA-Z0-9 \"\\\\/é\u{1F600}\t\n\u{1}]{0,10}",
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<u64>().prop_map(|n| json!(n)),
        proptest::num::f64::NORMAL.prop_map(|f| json!(f)),
        Just(json!(1.0)),
        Just(json!(-0.0)),
        text.prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            proptest::collection::vec((key(), inner), 0..4)
                .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A node of the parsed line: the `n`th (modulo their number) in pre-order
/// of those whose key is `key`, or of all when `key` is None.
#[derive(Debug, Clone)]
struct At {
    key: Option<&'static str>,
    n: usize,
}

fn at() -> impl Strategy<Value = At> {
    (
        prop_oneof![
            1 => Just(None),
            3 => proptest::sample::select(KEYS).prop_map(Some),
        ],
        any::<usize>(),
    )
        .prop_map(|(key, n)| At { key, n })
}

/// A change of the parsed line.
#[derive(Debug, Clone)]
enum Change {
    Replace(At, Value),
    Remove(At),
    /// A field added to an object (replacing one of the same key).
    Add(At, String, Value),
    /// The value as a JSON-encoded string.
    Encode(At),
}

fn change() -> impl Strategy<Value = Change> {
    prop_oneof![
        (at(), any_value()).prop_map(|(at, v)| Change::Replace(at, v)),
        at().prop_map(Change::Remove),
        (at(), key(), any_value()).prop_map(|(at, k, v)| Change::Add(at, k, v)),
        at().prop_map(Change::Encode),
    ]
}

/// A change of the line's text, at byte `at` (modulo its length).
#[derive(Debug, Clone)]
enum Edit {
    Cut(usize),
    Insert(usize, Vec<u8>),
    /// `"key":value,` right after the `n`th `{`: an extra or repeated key
    /// (the first of a repeated key; the original, later, counts).
    KeyFirst(usize, String, Value),
    /// `,"key":value` right before the `n`th `}`: the repeated key that counts.
    KeyLast(usize, String, Value),
    /// The `n`th number replaced by text that is a number or not.
    Number(usize, &'static str),
}

fn edit() -> impl Strategy<Value = Edit> {
    let deep = format!("{}1{}", "[".repeat(130), "]".repeat(130));
    let stray: Vec<Vec<u8>> = vec![
        b"\xff".to_vec(),
        b"\xc3".to_vec(),
        b"\"\\ud800\"".to_vec(),
        b"\\ud800".to_vec(),
        b"\\u0041".to_vec(),
        b"\\".to_vec(),
        b"\x01".to_vec(),
        b"1e999".to_vec(),
        b",".to_vec(),
        b"}".to_vec(),
        deep.into_bytes(),
        b"\"TodoWrite\"".to_vec(),
    ];
    let at = any::<usize>();
    prop_oneof![
        at.prop_map(Edit::Cut),
        (at, proptest::sample::select(stray)).prop_map(|(at, b)| Edit::Insert(at, b)),
        (at, key(), any_value()).prop_map(|(at, k, v)| Edit::KeyFirst(at, k, v)),
        (at, key(), any_value()).prop_map(|(at, k, v)| Edit::KeyLast(at, k, v)),
        (
            at,
            proptest::sample::select(
                &[
                    "1e999",
                    "-1e400",
                    "1e308",
                    "12345678901234567890123",
                    "0.5",
                    "-7",
                    "01",
                    "1."
                ][..]
            )
        )
            .prop_map(|(at, n)| Edit::Number(at, n)),
    ]
}

/// The paths of the nodes of `value`, pre-order (the root's is empty).
fn nodes(value: &Value, path: &mut Vec<Step>, out: &mut Vec<Vec<Step>>) {
    out.push(path.clone());
    match value {
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                path.push(Step::Index(i));
                nodes(item, path, out);
                path.pop();
            }
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(Step::Key(k.clone()));
                nodes(v, path, out);
                path.pop();
            }
        }
        _ => {}
    }
}

#[derive(Debug, Clone)]
enum Step {
    Key(String),
    Index(usize),
}

fn node_mut<'a>(value: &'a mut Value, path: &[Step]) -> &'a mut Value {
    path.iter().fold(value, |v, step| match step {
        Step::Key(k) => &mut v[k.as_str()],
        Step::Index(i) => &mut v[*i],
    })
}

fn apply(line: &mut Value, change: &Change) {
    let mut paths = Vec::new();
    nodes(line, &mut Vec::new(), &mut paths);
    let (Change::Replace(at, _) | Change::Remove(at) | Change::Add(at, ..) | Change::Encode(at)) =
        change;
    let keyed: Vec<&Vec<Step>> = paths
        .iter()
        .filter(|p| {
            at.key
                .is_none_or(|k| matches!(p.last(), Some(Step::Key(l)) if l == k))
        })
        .collect();
    let Some(at) = keyed.get(at.n % keyed.len().max(1)) else {
        return;
    };
    match change {
        Change::Replace(_, v) => *node_mut(line, at) = v.clone(),
        Change::Encode(_) => {
            let node = node_mut(line, at);
            *node = Value::String(node.to_string());
        }
        Change::Add(_, k, v) => {
            if let Value::Object(map) = node_mut(line, at) {
                map.insert(k.clone(), v.clone());
            }
        }
        Change::Remove(_) => {
            let Some((last, parent)) = at.split_last() else {
                return;
            };
            match (node_mut(line, parent), last) {
                (Value::Object(map), Step::Key(k)) => {
                    map.remove(k);
                }
                (Value::Array(items), Step::Index(i)) => {
                    items.remove(*i);
                }
                _ => unreachable!("a path leads through its parents"),
            }
        }
    }
}

/// The byte offsets in `text` of `byte` outside JSON strings.
fn structural(text: &[u8], byte: u8) -> Vec<usize> {
    let (mut in_string, mut escaped) = (false, false);
    let mut out = Vec::new();
    for (i, &b) in text.iter().enumerate() {
        if in_string {
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => in_string = false,
                _ => {}
            }
        } else if b == b'"' {
            in_string = true;
        } else if b == byte {
            out.push(i);
        }
    }
    out
}

/// The spans of the numbers of `text` (outside strings).
fn numbers(text: &[u8]) -> Vec<(usize, usize)> {
    let starts: Vec<usize> = [b':', b',', b'[']
        .iter()
        .flat_map(|&b| structural(text, b))
        .map(|i| i + 1)
        .filter(|&i| {
            text.get(i)
                .is_some_and(|c| c.is_ascii_digit() || *c == b'-')
        })
        .collect();
    starts
        .into_iter()
        .map(|start| {
            let len = text[start..]
                .iter()
                .take_while(|c| c.is_ascii_digit() || b".eE+-".contains(c))
                .count();
            (start, start + len)
        })
        .collect()
}

fn edit_text(text: &mut Vec<u8>, edit: &Edit) {
    let entry = |k: &str, v: &Value| format!("{}:{v}", Value::String(k.to_string()));
    match edit {
        Edit::Cut(at) => text.truncate(at % (text.len() + 1)),
        Edit::Insert(at, bytes) => {
            let at = at % (text.len() + 1);
            text.splice(at..at, bytes.iter().copied());
        }
        Edit::KeyFirst(n, k, v) => {
            let opens = structural(text, b'{');
            if let Some(&at) = opens.get(n % opens.len().max(1)) {
                let insert = format!("{},", entry(k, v));
                text.splice(at + 1..at + 1, insert.into_bytes());
            }
        }
        Edit::KeyLast(n, k, v) => {
            let closes = structural(text, b'}');
            if let Some(&at) = closes.get(n % closes.len().max(1)) {
                let insert = format!(",{}", entry(k, v));
                text.splice(at..at, insert.into_bytes());
            }
        }
        Edit::Number(n, with) => {
            let spans = numbers(text);
            if let Some(&(start, end)) = spans.get(n % spans.len().max(1)) {
                text.splice(start..end, with.bytes());
            }
        }
    }
}

#[derive(Debug, Clone)]
struct LineSpec {
    kind: u8,
    changes: Vec<Change>,
    /// Letters spelled as escapes: whether each next letter is, and in
    /// upper-case hex.
    escapes: Vec<(bool, bool)>,
    edits: Vec<Edit>,
    crlf: bool,
}

fn line_spec() -> impl Strategy<Value = LineSpec> {
    (
        any::<u8>(),
        proptest::collection::vec(change(), 0..3),
        prop_oneof![
            3 => Just(Vec::new()),
            1 => proptest::collection::vec((any::<bool>(), any::<bool>()), 1..64),
        ],
        prop_oneof![
            2 => Just(Vec::new()),
            1 => proptest::collection::vec(edit(), 1..3),
        ],
        proptest::bool::weighted(0.1),
    )
        .prop_map(|(kind, changes, escapes, edits, crlf)| LineSpec {
            kind,
            changes,
            escapes,
            edits,
            crlf,
        })
}

fn render(spec: &LineSpec, second: u32) -> Vec<u8> {
    let mut line = base_line(spec.kind, second);
    for change in &spec.changes {
        apply(&mut line, change);
    }
    let mut text = line.to_string();
    if !spec.escapes.is_empty() {
        let mut picks = spec.escapes.iter().copied().cycle();
        text = escape_letters(&text, || picks.next().unwrap());
    }
    let mut text = text.into_bytes();
    for edit in &spec.edits {
        edit_text(&mut text, edit);
    }
    // A newline inside the line would split it: the reader sees two lines,
    // which the test allows, but the edit meant one.
    text.retain(|&b| b != b'\n');
    if spec.crlf {
        text.push(b'\r');
    }
    text
}

#[test]
fn every_kind_of_line_reads_alike_and_gives_its_events() {
    let tmp = tempfile::tempdir().unwrap();
    let lines: Vec<Vec<u8>> = (0..12)
        .map(|kind| base_line(kind, kind as u32 + 1).to_string().into_bytes())
        .collect();
    let chunk = read_both(&tmp.path().join("s.jsonl"), &lines).unwrap();
    // TodoWrite ×3 (one a sub-agent's, one a sidechain's), TaskCreate, two
    // results, TaskUpdate ×2, TaskDelete; not the encoded list, the progress
    // line, the model line or the prompt.
    assert_eq!(chunk.events.len(), 9, "{:#?}", chunk.events);
    let warnings: Vec<String> = chunk.warnings.iter().map(|w| w.to_string()).collect();
    assert_eq!(warnings.len(), 2, "{warnings:#?}");
    assert!(
        warnings[0].contains("unknown status \"done\""),
        "{warnings:?}"
    );
    assert!(
        warnings[1].contains("without a list in `todos`"),
        "{warnings:?}"
    );
    assert_eq!(chunk.session.model.as_deref(), Some("claude-opus-4-5"));
}

#[test]
fn broken_lines_are_reported_alike() {
    let tmp = tempfile::tempdir().unwrap();
    let todo = base_line(0, 1).to_string();
    let deep = format!("{}1{}", "[".repeat(130), "]".repeat(130));
    let lines: Vec<Vec<u8>> = vec![
        todo.as_bytes()[..todo.len() - 3].to_vec(),
        todo.replacen("\"Writing\"", "\"Writ\\ud800\"", 1)
            .into_bytes(),
        todo.replacen("\"input_tokens\":3", "\"input_tokens\":1e999", 1)
            .into_bytes(),
        todo.replacen(
            "\"requestId\"",
            &format!("\"deep\":{deep},\"requestId\""),
            1,
        )
        .into_bytes(),
        todo.replacen("Write the parser", "Write the \u{ff}parser", 1)
            .into_bytes()
            .into_iter()
            .map(|b| if b == 0xc3 { 0xff } else { b })
            .collect(),
    ];
    let chunk = read_both(&tmp.path().join("s.jsonl"), &lines).unwrap();
    assert!(chunk.events.is_empty(), "{:#?}", chunk.events);
    let corrupt: Vec<u64> = chunk
        .warnings
        .iter()
        .filter(|w| w.to_string().contains("corrupt line"))
        .filter_map(|w| w.line)
        .collect();
    assert_eq!(corrupt, vec![1, 2, 3, 4, 5], "{:#?}", chunk.warnings);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    /// Whatever the lines, the typed reader reads what the `Value` one does.
    #[test]
    fn the_typed_reader_reads_what_the_value_reader_reads(
        specs in proptest::collection::vec(line_spec(), 1..10),
        agent_file in any::<bool>(),
    ) {
        let tmp = tempfile::tempdir().unwrap();
        let name = if agent_file { "agent-a9.jsonl" } else { "s.jsonl" };
        let lines: Vec<Vec<u8>> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| render(spec, i as u32 + 1))
            .collect();
        if let Err(diff) = read_both(&tmp.path().join(name), &lines) {
            prop_assert!(false, "{}", diff);
        }
    }
}
