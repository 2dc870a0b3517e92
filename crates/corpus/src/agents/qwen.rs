//! Qwen Code: the chat `<qwen home>/projects/<cwd-folder>/chats/<session>.jsonl`
//! (one record a line, each with `uuid`, `parentUuid`, `sessionId`,
//! `timestamp`, `type`, `cwd`, `version`, `gitBranch`), whose assistant lines'
//! `message.parts[].functionCall` named `todo_write` hold the whole list —
//! echoed, as Qwen Code does, in a `ui_telemetry` system line and in the tool
//! result, which are not plan writes — and the todo file
//! `<qwen home>/todos/<session>.json` holding the last list.

use super::{iso, lists, prompt, shell_output, stream_of, written, Filler};
use crate::claude::{write_file, Session, World};
use crate::rng::{Rng, RngExt};
use crate::words::folder_of_cwd;
use crate::CorpusStats;
use anyhow::{Context, Result};
use rand::Rng as _;
use serde::Serialize;
use serde_json::{json, Value};
use std::path::Path;

const VERSIONS: &[&str] = &["0.17.0", "0.18.1", "0.19.2"];
const MODELS: &[&str] = &["qwen3-coder-plus", "qwen3-coder-flash", "qwen3-max"];

/// The fields `createBaseRecord` gives every record, then the record's own.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Record<'a> {
    uuid: String,
    parent_uuid: Option<String>,
    session_id: &'a str,
    timestamp: String,
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subtype: Option<&'static str>,
    cwd: &'a str,
    version: &'a str,
    git_branch: &'a str,
    #[serde(flatten)]
    rest: Value,
}

struct Chat<'a> {
    buf: Vec<u8>,
    parent: Option<String>,
    session: &'a str,
    cwd: &'a str,
    version: &'a str,
    branch: &'a str,
    model: &'a str,
    calls: u32,
}

impl Chat<'_> {
    fn record(
        &mut self,
        rng: &mut Rng,
        t: i64,
        kind: &'static str,
        subtype: Option<&'static str>,
        rest: Value,
    ) {
        let uuid = rng.uuid();
        let r = Record {
            uuid: uuid.clone(),
            parent_uuid: self.parent.replace(uuid),
            session_id: self.session,
            timestamp: iso(t),
            kind,
            subtype,
            cwd: self.cwd,
            version: self.version,
            git_branch: self.branch,
            rest,
        };
        serde_json::to_writer(&mut self.buf, &r).expect("serializing into memory");
        self.buf.push(b'\n');
    }

    fn call_id(&mut self, rng: &mut Rng) -> String {
        self.calls += 1;
        format!("call_{}", rng.hex(24))
    }

    fn usage(&self, rng: &mut Rng) -> Value {
        let prompt = rng.random_range(8000..=60_000);
        let out = rng.random_range(40..=2000);
        json!({"promptTokenCount": prompt, "candidatesTokenCount": out,
               "totalTokenCount": prompt + out, "cachedContentTokenCount": prompt / 2})
    }

    /// A `todo_write` call, its telemetry echo and its result echo.
    fn todo_write(&mut self, rng: &mut Rng, clock: &mut i64, todos: &Value) {
        let id = self.call_id(rng);
        let usage = self.usage(rng);
        let model = self.model;
        self.record(
            rng,
            *clock,
            "assistant",
            None,
            json!({"model": model,
                   "message": {"role": "model", "parts": [{"functionCall": {"id": id, "name": "todo_write", "args": {"todos": todos}}}]},
                   "usageMetadata": usage}),
        );
        let prompt_id = format!("{}########{}", self.session, self.calls);
        self.record(
            rng,
            *clock + 45,
            "system",
            Some("ui_telemetry"),
            json!({"systemPayload": {"uiEvent": {
                "event.name": "qwen-code.tool_call", "event.timestamp": iso(*clock + 40),
                "function_name": "todo_write", "function_args": {"todos": todos}, "duration_ms": 6,
                "success": true, "decision": "auto_accept", "prompt_id": prompt_id, "tool_type": "native"}}}),
        );
        self.record(
            rng,
            *clock + 90,
            "tool_result",
            None,
            json!({"message": {"role": "user", "parts": [{"functionResponse": {"id": id, "name": "todo_write",
                       "response": {"output": "Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable"}}}]},
                   "toolCallResult": {"callId": id, "status": "success", "resultDisplay": {"type": "todo_list", "todos": todos}}}),
        );
        *clock += rng.random_range(800..=6000);
    }

    fn shell(&mut self, rng: &mut Rng, clock: &mut i64, command: &str, output: &str) {
        let id = self.call_id(rng);
        let model = self.model;
        self.record(
            rng,
            *clock,
            "assistant",
            None,
            json!({"model": model,
                   "message": {"role": "model", "parts": [{"functionCall": {"id": id, "name": "run_shell_command", "args": {"command": command}}}]}}),
        );
        *clock += rng.random_range(100..=4000);
        self.record(
            rng,
            *clock,
            "tool_result",
            None,
            json!({"message": {"role": "user", "parts": [{"functionResponse": {"id": id, "name": "run_shell_command", "response": {"output": output}}}]},
                   "toolCallResult": {"callId": id, "status": "success", "resultDisplay": output}}),
        );
        *clock += rng.random_range(500..=8000);
    }
}

/// Writes session `s` as a Qwen Code chat (unless transcripts are off) and,
/// if it made a list, its todo file, under `qwen_home`.
pub(crate) fn emit(qwen_home: &Path, world: &World, s: &Session) -> Result<CorpusStats> {
    let mut rng = stream_of(world, s);
    let proj = &world.projects[s.project];
    let id = rng.uuid();
    let version = *rng.pick(VERSIONS);
    let model = *rng.pick(MODELS);
    let mut chat = Chat {
        buf: Vec::with_capacity(16 * 1024),
        parent: None,
        session: &id,
        cwd: &proj.cwd,
        version,
        branch: &s.branch,
        model,
        calls: 0,
    };
    let mut clock = s.start;
    let session_lists = lists(s);
    let writes: Vec<_> = session_lists.iter().map(|l| written(world, l)).collect();
    let gaps = 1 + writes.iter().map(Vec::len).sum::<usize>();
    let mut fill = Filler::new(world, s, gaps);
    let mut last_list: Option<(Value, i64)> = None;
    let turns = session_lists.len().max(1);
    for turn in 0..turns {
        clock += if turn > 0 {
            rng.random_range(20_000..=600_000)
        } else {
            rng.random_range(500..=5000)
        };
        chat.record(
            &mut rng,
            clock,
            "user",
            None,
            json!({"message": {"role": "user", "parts": [{"text": prompt(s, turn)}]}}),
        );
        clock += rng.random_range(1500..=9000);
        filler(&mut chat, world, &mut rng, &mut clock, &mut fill);
        let (Some(list), Some(states)) = (session_lists.get(turn), writes.get(turn)) else {
            continue;
        };
        for state in states {
            let todos: Value = list
                .items
                .iter()
                .zip(state)
                .map(|(item, &st)| json!({"id": item.id, "content": item.content, "status": st.as_str()}))
                .collect();
            let t = clock;
            chat.todo_write(&mut rng, &mut clock, &todos);
            last_list = Some((todos, t));
            filler(&mut chat, world, &mut rng, &mut clock, &mut fill);
        }
    }
    clock += rng.random_range(1000..=8000);
    let usage = chat.usage(&mut rng);
    chat.record(
        &mut rng,
        clock,
        "assistant",
        None,
        json!({"model": model, "message": {"role": "model", "parts": [{"text": "Done. The todo list shows where things stand."}]},
               "usageMetadata": usage}),
    );

    let mut stats = CorpusStats {
        sessions: 1,
        ..CorpusStats::default()
    };
    if !matches!(world.mode, crate::TranscriptSize::None) {
        let folder = qwen_home
            .join("projects")
            .join(folder_of_cwd(&proj.cwd))
            .join("chats");
        std::fs::create_dir_all(&folder)
            .with_context(|| format!("creating {}", folder.display()))?;
        write_file(&folder.join(format!("{id}.jsonl")), &chat.buf, clock)?;
        let bytes = chat.buf.len() as u64;
        stats.files += 1;
        stats.transcripts += 1;
        stats.bytes += bytes;
        stats.transcript_bytes += bytes;
    }
    if let Some((todos, t)) = last_list {
        // todoWrite.ts: planId first, then the entries, then the session.
        #[derive(Serialize)]
        #[serde(rename_all = "camelCase")]
        struct TodoFile<'a> {
            plan_id: String,
            todos: Vec<Entry<'a>>,
            session_id: &'a str,
        }
        #[derive(Serialize)]
        struct Entry<'a> {
            content: &'a str,
            status: &'a str,
            id: &'a str,
        }
        let items = todos.as_array().map(Vec::as_slice).unwrap_or_default();
        let text = |v: &'static str, e: &'_ Value| -> String {
            e.get(v)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_string()
        };
        let owned: Vec<(String, String, String)> = items
            .iter()
            .map(|e| (text("content", e), text("status", e), text("id", e)))
            .collect();
        let file = TodoFile {
            plan_id: rng.uuid(),
            todos: owned
                .iter()
                .map(|(c, s, i)| Entry {
                    content: c,
                    status: s,
                    id: i,
                })
                .collect(),
            session_id: &id,
        };
        let body = crate::json::to_pretty(&file);
        let dir = qwen_home.join("todos");
        std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
        write_file(&dir.join(format!("{id}.json")), body.as_bytes(), t + 60)?;
        stats.files += 1;
        stats.todo_files += 1;
        stats.raw_todos += owned.len() as u64;
        stats.bytes += body.len() as u64;
    }
    Ok(stats)
}

fn filler(chat: &mut Chat<'_>, world: &World, rng: &mut Rng, clock: &mut i64, fill: &mut Filler) {
    for size in fill.gap(rng) {
        let (command, out) = shell_output(world, rng, size);
        chat.shell(rng, clock, command, &out);
    }
}
