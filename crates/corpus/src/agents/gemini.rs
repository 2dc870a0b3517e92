//! Gemini CLI chats: `<gemini home>/tmp/<project-id>/chats/session-<time>-<id8>.jsonl`
//! (the `.jsonl` records Gemini CLI appends since April 2026): the session's
//! metadata first, then messages, a message appended again when its tokens
//! arrive, and `{"$set":{"lastUpdated"}}` lines. Every `write_todos` tool call
//! in a `gemini` message is the whole list. `<project-id>` is the project's
//! short name, recorded in `projects.json` and `tmp/<id>/.project_root`.

use super::{iso, lists, prompt, shell_output, stream_of, written, Filler};
use crate::claude::{write_file, Session, St, World};
use crate::rng::{Rng, RngExt};
use crate::CorpusStats;
use anyhow::{Context, Result};
use rand::Rng as _;
use serde::Serialize;
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

const MODELS: &[&str] = &["gemini-2.5-pro", "gemini-3-pro-preview", "gemini-2.5-flash"];

/// The chat's first line.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Meta<'a> {
    session_id: &'a str,
    project_hash: String,
    start_time: String,
    last_updated: String,
    kind: &'static str,
}

/// A message as chatRecordingService records it.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Message<'a> {
    id: String,
    timestamp: String,
    #[serde(rename = "type")]
    kind: &'static str,
    content: Value,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_calls: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    thoughts: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tokens: Option<Value>,
}

struct Chat {
    buf: Vec<u8>,
}

impl Chat {
    fn push<T: Serialize>(&mut self, record: &T) {
        serde_json::to_writer(&mut self.buf, record).expect("serializing into memory");
        self.buf.push(b'\n');
    }

    /// A message, and (as Gemini does when the token counts arrive) the
    /// same message again with its tokens.
    fn message(&mut self, rng: &mut Rng, mut m: Message<'_>) {
        self.push(&m);
        if m.kind == "gemini" {
            let input = rng.random_range(6000..=60_000);
            let output = rng.random_range(40..=2000);
            m.tokens = Some(
                json!({"input": input, "output": output, "cached": 4096, "thoughts": 88,
                                   "tool": 0, "total": input + output + 88}),
            );
            self.push(&m);
        }
    }

    fn set_updated(&mut self, t: i64) {
        self.push(&json!({"$set": {"lastUpdated": iso(t)}}));
    }
}

/// A completed tool call as the chat records it.
fn call(
    id: &str,
    t: i64,
    name: &str,
    display: &str,
    args: Value,
    output: &str,
    shown: Value,
) -> Value {
    json!({
        "id": id, "name": name, "args": args,
        "result": [{"functionResponse": {"id": id, "name": name, "response": {"output": output}}}],
        "status": "success", "timestamp": iso(t), "resultDisplay": shown, "displayName": display,
        "description": "", "renderOutputAsMarkdown": false,
    })
}

/// Writes session `s` as a Gemini chat under `gemini_home`.
pub(crate) fn emit(gemini_home: &Path, world: &World, s: &Session) -> Result<CorpusStats> {
    let mut rng = stream_of(world, s);
    let proj = &world.projects[s.project];
    let id = rng.uuid();
    let model = *rng.pick(MODELS);
    let mut chat = Chat {
        buf: Vec::with_capacity(16 * 1024),
    };
    let mut clock = s.start;
    chat.push(&Meta {
        session_id: &id,
        project_hash: hex(Sha256::digest(proj.cwd.as_bytes()).as_slice()),
        start_time: iso(s.start),
        last_updated: iso(s.start),
        kind: "main",
    });
    let session_lists = lists(s);
    let writes: Vec<_> = session_lists.iter().map(|l| written(world, l)).collect();
    let gaps = 1 + writes.iter().map(Vec::len).sum::<usize>();
    let mut fill = Filler::new(world, s, gaps);
    let turns = session_lists.len().max(1);
    for turn in 0..turns {
        clock += if turn > 0 {
            rng.random_range(20_000..=600_000)
        } else {
            rng.random_range(500..=5000)
        };
        let user = Message {
            id: rng.uuid(),
            timestamp: iso(clock),
            kind: "user",
            content: json!([{"text": prompt(s, turn)}]),
            tool_calls: Vec::new(),
            thoughts: None,
            model: None,
            tokens: None,
        };
        chat.message(&mut rng, user);
        chat.set_updated(clock);
        filler(&mut chat, world, model, &mut rng, &mut clock, &mut fill);
        let (Some(list), Some(states)) = (session_lists.get(turn), writes.get(turn)) else {
            continue;
        };
        // Now and then an unfinished list ends with its open items cancelled.
        let cancel_rest = !list.finished() && rng.random_bool(0.1);
        for (k, state) in states.iter().enumerate() {
            clock += rng.random_range(1500..=9000);
            let last = k + 1 == states.len();
            let todos: Vec<Value> = list
                .items
                .iter()
                .zip(state)
                .map(|(item, &st)| {
                    let status = match st {
                        St::Pending if last && cancel_rest => "cancelled",
                        _ => st.as_str(),
                    };
                    json!({"description": item.content, "status": status})
                })
                .collect();
            let listing: Vec<String> = todos
                .iter()
                .enumerate()
                .map(|(i, t)| {
                    format!(
                        "{}. [{}] {}",
                        i + 1,
                        t["status"].as_str().unwrap_or_default(),
                        t["description"].as_str().unwrap_or_default()
                    )
                })
                .collect();
            let call_id = format!("write_todos-{}-{}", clock, rng.hex(13));
            let n = todos.len();
            let mut c = call(
                &call_id,
                clock + 800,
                "write_todos",
                "WriteTodos",
                json!({"todos": todos}),
                &format!(
                    "Successfully updated the todo list. The current list is now:\n{}",
                    listing.join("\n")
                ),
                json!({"todos": todos}),
            );
            c["description"] = json!(format!("Set {n} todo(s)"));
            let m = Message {
                id: rng.uuid(),
                timestamp: iso(clock),
                kind: "gemini",
                content: json!(""),
                tool_calls: vec![c],
                thoughts: Some(
                    json!([{"subject": "Updating the plan", "description": "Updating the plan.", "timestamp": iso(clock)}]),
                ),
                model: Some(model),
                tokens: None,
            };
            chat.message(&mut rng, m);
            clock += rng.random_range(800..=6000);
            chat.set_updated(clock);
            filler(&mut chat, world, model, &mut rng, &mut clock, &mut fill);
        }
    }
    clock += rng.random_range(1000..=8000);
    let done = Message {
        id: rng.uuid(),
        timestamp: iso(clock),
        kind: "gemini",
        content: json!("Done. The todo list shows where things stand."),
        tool_calls: Vec::new(),
        thoughts: Some(json!([])),
        model: Some(model),
        tokens: None,
    };
    chat.message(&mut rng, done);
    chat.set_updated(clock);

    let folder = gemini_home.join("tmp").join(&proj.name).join("chats");
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let minute = &iso(s.start)[..16].replace(':', "-");
    let path = folder.join(format!("session-{minute}-{}.jsonl", &id[..8]));
    write_file(&path, &chat.buf, clock)?;
    let bytes = chat.buf.len() as u64;
    Ok(CorpusStats {
        sessions: 1,
        files: 1,
        transcripts: 1,
        bytes,
        transcript_bytes: bytes,
        ..CorpusStats::default()
    })
}

/// Shell calls between two plan writes, one model message each.
fn filler(
    chat: &mut Chat,
    world: &World,
    model: &str,
    rng: &mut Rng,
    clock: &mut i64,
    fill: &mut Filler,
) {
    for size in fill.gap(rng) {
        let (command, out) = shell_output(world, rng, size);
        *clock += rng.random_range(1500..=9000);
        let id = format!("run_shell_command-{}-{}", clock, rng.hex(13));
        let c = call(
            &id,
            *clock + 1200,
            "run_shell_command",
            "Shell",
            json!({"command": command}),
            &out,
            json!(out),
        );
        let m = Message {
            id: rng.uuid(),
            timestamp: iso(*clock),
            kind: "gemini",
            content: json!(""),
            tool_calls: vec![c],
            thoughts: Some(json!([])),
            model: Some(model),
            tokens: None,
        };
        chat.message(rng, m);
        *clock += rng.random_range(500..=8000);
    }
}

/// `projects.json` (`{"projects":{"<folder>":"<id>"}}`) and each project's
/// `tmp/<id>/.project_root`, for the projects of the Gemini sessions.
pub(crate) fn write_projects(
    gemini_home: &Path,
    world: &World,
    projects: &[usize],
) -> Result<CorpusStats> {
    let mut stats = CorpusStats::default();
    let map: BTreeMap<&str, &str> = projects
        .iter()
        .map(|&p| {
            (
                world.projects[p].cwd.as_str(),
                world.projects[p].name.as_str(),
            )
        })
        .collect();
    std::fs::create_dir_all(gemini_home.join("tmp"))
        .with_context(|| format!("creating {}", gemini_home.display()))?;
    let text = crate::json::to_pretty(&json!({ "projects": map }));
    write_file(
        &gemini_home.join("projects.json"),
        text.as_bytes(),
        crate::WINDOW_START_MS,
    )?;
    stats.files += 1;
    stats.bytes += text.len() as u64;
    for &p in projects {
        let proj = &world.projects[p];
        let dir = gemini_home.join("tmp").join(&proj.name);
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        write_file(
            &dir.join(".project_root"),
            proj.cwd.as_bytes(),
            crate::WINDOW_START_MS,
        )?;
        stats.files += 1;
        stats.bytes += proj.cwd.len() as u64;
    }
    Ok(stats)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
