//! Codex CLI rollouts: `<codex home>/sessions/YYYY/MM/DD/rollout-<time>-<uuid>.jsonl`,
//! one `{"timestamp"[,"ordinal"],"type","payload"}` line per record, as
//! codex-rs's `RolloutLine` serializes them (0.154 adds `ordinal`); some
//! finished rollouts compressed to `.jsonl.zst` as newer versions do. Each
//! `update_plan` call is a `response_item` whose payload is a
//! `function_call` with `arguments` a JSON string holding the whole plan.

use super::{date_parts, iso, lists, prompt, shell_output, status_word, stream_of, uuid7};
use super::{written, Filler};
use crate::claude::{write_file, Session, World};
use crate::rng::{Rng, RngExt};
use crate::CorpusStats;
use anyhow::{Context, Result};
use rand::Rng as _;
use serde::Serialize;
use serde_json::json;
use std::path::Path;

const VERSIONS: &[&str] = &["0.148.0", "0.150.0", "0.152.1", "0.154.0"];
const MODELS: &[&str] = &["gpt-5-codex", "gpt-5.1-codex", "gpt-5.1-codex-max", "gpt-5"];

/// One rollout being assembled.
struct Rollout {
    buf: Vec<u8>,
    ordinal: Option<u64>,
    calls: u32,
    id: String,
}

impl Rollout {
    fn line<T: Serialize + ?Sized>(&mut self, t: i64, kind: &str, payload: &T) {
        let b = &mut self.buf;
        b.extend_from_slice(b"{");
        crate::json::kv_into(b, "timestamp", &iso(t));
        if let Some(n) = &mut self.ordinal {
            b.extend_from_slice(format!(",\"ordinal\":{n}").as_bytes());
            *n += 1;
        }
        b.push(b',');
        crate::json::kv_into(b, "type", kind);
        b.push(b',');
        crate::json::kv_into(b, "payload", payload);
        b.extend_from_slice(b"}\n");
    }

    fn call_id(&mut self, rng: &mut Rng) -> String {
        self.calls += 1;
        rng.base62_id("call_", 24)
    }

    /// A function call and its output.
    fn call(&mut self, rng: &mut Rng, clock: &mut i64, name: &str, arguments: &str, output: &str) {
        let id = self.call_id(rng);
        self.line(
            *clock,
            "response_item",
            &json!({"type": "function_call", "name": name, "arguments": arguments, "call_id": id}),
        );
        *clock += rng.random_range(40..=900);
        self.line(
            *clock,
            "response_item",
            &json!({"type": "function_call_output", "call_id": id, "output": output}),
        );
        *clock += rng.random_range(800..=6000);
    }

    fn user(&mut self, t: i64, text: &str) {
        self.line(
            t,
            "response_item",
            &json!({"type": "message", "role": "user", "content": [{"type": "input_text", "text": text}]}),
        );
    }
}

#[derive(Serialize)]
struct Step<'a> {
    step: &'a str,
    status: &'static str,
}

#[derive(Serialize)]
struct PlanArgs<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    explanation: Option<&'a str>,
    plan: Vec<Step<'a>>,
}

/// Writes session `s` as a Codex rollout under `codex_home`.
pub(crate) fn emit(codex_home: &Path, world: &World, s: &Session) -> Result<CorpusStats> {
    let mut rng = stream_of(world, s);
    let proj = &world.projects[s.project];
    let id = uuid7(&mut rng, s.start);
    let version = *rng.pick(VERSIONS);
    let model = *rng.pick(MODELS);
    let compressed = rng.random_bool(0.3);
    let mut r = Rollout {
        buf: Vec::with_capacity(16 * 1024),
        ordinal: (version == "0.154.0").then_some(0),
        calls: 0,
        id: id.clone(),
    };
    let mut clock = s.start;
    r.line(
        clock,
        "session_meta",
        &json!({
            "id": r.id, "timestamp": iso(s.start), "cwd": proj.cwd, "originator": "codex_cli_rs",
            "cli_version": version, "source": "cli", "model_provider": "openai",
            "base_instructions": {"text": "You are Codex, based on GPT-5. You are running as a coding agent in the Codex CLI on a user's computer."},
            "git": {"commit_hash": rng.hex(40), "branch": s.branch,
                    "repository_url": format!("git@github.com:dev/{}.git", proj.name)},
        }),
    );
    clock += rng.random_range(5..=60);
    r.user(
        clock,
        &format!(
            "<environment_context>\n  <cwd>{}</cwd>\n  <approval_policy>on-request</approval_policy>\n  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n  <shell>bash</shell>\n</environment_context>",
            proj.cwd
        ),
    );
    let session_lists = lists(s);
    let writes: Vec<_> = session_lists.iter().map(|l| written(world, l)).collect();
    let gaps = 1 + writes.iter().map(Vec::len).sum::<usize>();
    let mut fill = Filler::new(world, s, gaps);
    let turns = session_lists.len().max(1);
    for turn in 0..turns {
        if turn > 0 {
            clock += rng.random_range(20_000..=600_000);
        }
        let text = prompt(s, turn);
        clock += rng.random_range(1500..=9000);
        r.user(clock, text);
        r.line(
            clock + 3,
            "event_msg",
            &json!({"type": "user_message", "message": text, "images": []}),
        );
        r.line(
            clock + 5,
            "turn_context",
            &json!({
                "cwd": proj.cwd, "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write", "network_access": false,
                                   "exclude_tmpdir_env_var": false, "exclude_slash_tmp": false},
                "model": model, "effort": "medium", "summary": "auto",
            }),
        );
        clock += rng.random_range(2000..=9000);
        r.line(
            clock,
            "response_item",
            &json!({"type": "reasoning", "summary": [{"type": "summary_text", "text": "**Planning the change**"}],
                    "content": null, "encrypted_content": rng.base62_id("gAAAAA", 120)}),
        );
        filler(&mut r, world, &proj.cwd, &mut rng, &mut clock, &mut fill);
        let (Some(list), Some(states)) = (session_lists.get(turn), writes.get(turn)) else {
            continue;
        };
        for (k, state) in states.iter().enumerate() {
            let args = PlanArgs {
                explanation: (k == 0 && rng.random_bool(0.4))
                    .then_some("Starting with the first step."),
                plan: list
                    .items
                    .iter()
                    .zip(state)
                    .map(|(item, &st)| Step {
                        step: &item.content,
                        status: status_word(st),
                    })
                    .collect(),
            };
            let arguments = serde_json::to_string(&args).expect("serializing into memory");
            r.call(
                &mut rng,
                &mut clock,
                "update_plan",
                &arguments,
                "Plan updated",
            );
            if rng.random_bool(0.5) {
                r.line(
                    clock,
                    "event_msg",
                    &json!({"type": "token_count", "info": {
                        "total_token_usage": {"input_tokens": rng.random_range(8000..=90_000), "cached_input_tokens": 6144,
                                              "output_tokens": rng.random_range(100..=4000), "reasoning_output_tokens": 512,
                                              "total_tokens": rng.random_range(9000..=95_000)},
                        "model_context_window": 272_000}, "rate_limits": null}),
                );
            }
            filler(&mut r, world, &proj.cwd, &mut rng, &mut clock, &mut fill);
        }
    }
    clock += rng.random_range(1000..=8000);
    let done = "Done. The plan above is where things stand.";
    r.line(
        clock,
        "event_msg",
        &json!({"type": "agent_message", "message": done}),
    );
    r.line(
        clock + 2,
        "response_item",
        &json!({"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": done}]}),
    );

    let (y, m, d, hms) = date_parts(s.start);
    let folder = codex_home.join("sessions").join(&y).join(&m).join(&d);
    std::fs::create_dir_all(&folder).with_context(|| format!("creating {}", folder.display()))?;
    let name = format!("rollout-{y}-{m}-{d}T{hms}-{id}.jsonl");
    let (path, bytes) = if compressed {
        let packed = zstd::encode_all(&r.buf[..], 3).context("compressing a rollout")?;
        (folder.join(format!("{name}.zst")), packed)
    } else {
        (folder.join(name), r.buf)
    };
    write_file(&path, &bytes, clock + 2)?;
    Ok(CorpusStats {
        sessions: 1,
        files: 1,
        transcripts: 1,
        bytes: bytes.len() as u64,
        transcript_bytes: bytes.len() as u64,
        ..CorpusStats::default()
    })
}

/// Shell calls between two plan writes.
fn filler(
    r: &mut Rollout,
    world: &World,
    cwd: &str,
    rng: &mut Rng,
    clock: &mut i64,
    fill: &mut Filler,
) {
    for size in fill.gap(rng) {
        let (command, out) = shell_output(world, rng, size);
        let arguments =
            serde_json::to_string(&json!({"command": ["bash", "-lc", command], "workdir": cwd}))
                .expect("serializing into memory");
        let output = serde_json::to_string(
            &json!({"output": out, "metadata": {"exit_code": 0, "duration_seconds": 1.2}}),
        )
        .expect("serializing into memory");
        r.call(rng, clock, "shell", &arguments, &output);
    }
}
