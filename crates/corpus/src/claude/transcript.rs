//! The lines of a Claude Code transcript, as Claude Code writes them: user
//! prompts, assistant text and tool calls (`TodoWrite`, `Task`,
//! `TaskCreate`/`TaskUpdate`, Read/Bash/Edit filler) with their results,
//! queue operations, snapshots and progress lines; and appending one line to
//! an existing transcript.

use super::emit::set_mtime;
use super::plan::{Era, ListPlan, Shape, St, TaskPlan};
use crate::json::{self, kv_into, open_str_into};
use crate::payload::Pool;
use crate::rng::{Rng, RngExt};
use crate::words;
use crate::CorpusStats;
use anyhow::{Context, Result};
use chittysync_core::Timestamp;
use rand::{Rng as _, SeedableRng};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

#[derive(Clone, Copy)]
pub(crate) struct Ctx<'a> {
    pub(crate) session: &'a str,
    pub(crate) cwd: &'a str,
    pub(crate) version: &'a str,
    pub(crate) branch: &'a str,
    pub(crate) agent_id: Option<&'a str>,
    pub(crate) model: &'static str,
    pub(crate) era: Era,
}

/// A todo as a `TodoWrite` call or a todo file holds it; the fields a shape
/// leaves out are `None` (and absent from the JSON).
#[derive(Serialize)]
pub(crate) struct TodoJson<'a> {
    pub(crate) content: &'a str,
    pub(crate) status: &'static str,
    #[serde(rename = "activeForm", skip_serializing_if = "Option::is_none")]
    pub(crate) active_form: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) priority: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(crate) id: Option<&'a str>,
}

/// A list's todos in one state, in the fields of `shape`.
pub(crate) fn todos_json<'a>(shape: Shape, list: &'a ListPlan, state: &[St]) -> Vec<TodoJson<'a>> {
    list.items
        .iter()
        .zip(state)
        .map(|(item, st)| TodoJson {
            content: &item.content,
            status: st.as_str(),
            active_form: (shape == Shape::New).then_some(item.active.as_str()),
            priority: (shape == Shape::Old).then_some(item.priority),
            id: matches!(shape, Shape::Old | Shape::NoPriority).then_some(item.id.as_str()),
        })
        .collect()
}

#[derive(Serialize)]
pub(crate) struct TodoWriteInput<'a, T> {
    pub(crate) todos: &'a [T],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TodoWriteResult<'a> {
    pub(crate) old_todos: &'a [TodoJson<'a>],
    pub(crate) new_todos: &'a [TodoJson<'a>],
}

#[derive(Serialize)]
pub(crate) struct TaskInput<'a> {
    pub(crate) description: &'a str,
    pub(crate) prompt: &'a str,
    pub(crate) subagent_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskCreateInput<'a> {
    pub(crate) subject: &'a str,
    pub(crate) description: &'a str,
    pub(crate) active_form: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskUpdateInput<'a> {
    pub(crate) task_id: &'a str,
    pub(crate) status: &'a str,
}

#[derive(Serialize)]
pub(crate) struct ReadInput<'a> {
    pub(crate) file_path: &'a str,
}

#[derive(Serialize)]
pub(crate) struct BashInput<'a> {
    pub(crate) command: &'a str,
    pub(crate) description: &'a str,
}

/// One transcript being written (or, when disabled, only timed).
pub(crate) struct Tx<'a> {
    pub(crate) out: Option<(BufWriter<File>, PathBuf)>,
    pub(crate) bytes: u64,
    /// The line being assembled.
    pub(crate) buf: Vec<u8>,
    pub(crate) ctx: Ctx<'a>,
    pub(crate) parent: Option<String>,
    /// Draws the ids of the lines (uuids, message and tool ids, token counts).
    pub(crate) rng: Rng,
    pub(crate) pool: &'a Pool,
}

impl<'a> Tx<'a> {
    pub(crate) fn open(
        path: Option<&Path>,
        ctx: Ctx<'a>,
        pool: &'a Pool,
        rng: Rng,
    ) -> Result<Tx<'a>> {
        let out = match path {
            Some(p) => {
                let f = File::create(p).with_context(|| format!("creating {}", p.display()))?;
                Some((BufWriter::with_capacity(256 * 1024, f), p.to_path_buf()))
            }
            None => None,
        };
        Ok(Tx {
            out,
            bytes: 0,
            buf: Vec::with_capacity(64 * 1024),
            ctx,
            parent: None,
            rng,
            pool,
        })
    }

    pub(crate) fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Flushes, sets the mtime and counts the file in `stats` (if one was written).
    pub(crate) fn close(self, mtime: i64, stats: &mut CorpusStats) -> Result<()> {
        let Some((w, path)) = self.out else {
            return Ok(());
        };
        let f = w
            .into_inner()
            .map_err(|e| e.into_error())
            .with_context(|| format!("writing {}", path.display()))?;
        set_mtime(&f, mtime).with_context(|| format!("setting mtime of {}", path.display()))?;
        stats.files += 1;
        stats.transcripts += 1;
        stats.bytes += self.bytes;
        stats.transcript_bytes += self.bytes;
        Ok(())
    }

    pub(crate) fn flush_line(&mut self) -> Result<()> {
        self.buf.push(b'\n');
        if let Some((w, path)) = &mut self.out {
            w.write_all(&self.buf)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        self.bytes += self.buf.len() as u64;
        Ok(())
    }

    pub(crate) fn uuid(&mut self) -> String {
        self.rng.uuid()
    }

    /// `{"parentUuid":…,"isSidechain":…,…,"gitBranch":…[,"agentId":…]`
    pub(crate) fn head(&mut self) {
        let b = &mut self.buf;
        b.clear();
        b.push(b'{');
        kv_into(b, "parentUuid", &self.parent);
        b.push(b',');
        kv_into(b, "isSidechain", &self.ctx.agent_id.is_some());
        b.extend_from_slice(b",\"userType\":\"external\",");
        kv_into(b, "cwd", self.ctx.cwd);
        b.push(b',');
        kv_into(b, "sessionId", self.ctx.session);
        b.push(b',');
        kv_into(b, "version", self.ctx.version);
        b.push(b',');
        kv_into(b, "gitBranch", self.ctx.branch);
        if let Some(a) = self.ctx.agent_id {
            b.push(b',');
            kv_into(b, "agentId", a);
        }
    }

    /// `,"uuid":…,"timestamp":…` and remembers the uuid as the next parent.
    pub(crate) fn tail(&mut self, uuid: String, t: i64) {
        let b = &mut self.buf;
        b.push(b',');
        kv_into(b, "uuid", &uuid);
        b.push(b',');
        kv_into(b, "timestamp", &Timestamp(t));
        self.parent = Some(uuid);
    }

    pub(crate) fn summary(&mut self, rng: &mut Rng, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let leaf = rng.uuid();
        let b = &mut self.buf;
        b.clear();
        b.extend_from_slice(b"{\"type\":\"summary\",");
        kv_into(b, "summary", text);
        b.push(b',');
        kv_into(b, "leafUuid", &leaf);
        b.push(b'}');
        self.flush_line()
    }

    pub(crate) fn queue_op(&mut self, t: i64, op: &str, content: Option<&str>) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let b = &mut self.buf;
        b.clear();
        b.extend_from_slice(b"{\"type\":\"queue-operation\",");
        kv_into(b, "operation", op);
        b.push(b',');
        kv_into(b, "timestamp", &Timestamp(t));
        b.push(b',');
        kv_into(b, "sessionId", self.ctx.session);
        if let Some(c) = content {
            b.push(b',');
            kv_into(b, "content", c);
        }
        b.push(b'}');
        self.flush_line()
    }

    /// A typed prompt, preceded in 2.x by its file-history snapshot.
    pub(crate) fn user_prompt(&mut self, t: i64, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        if self.ctx.era >= Era::V20 {
            let b = &mut self.buf;
            b.clear();
            b.extend_from_slice(b"{\"type\":\"file-history-snapshot\",");
            kv_into(b, "messageId", &uuid);
            b.extend_from_slice(b",\"snapshot\":{");
            kv_into(b, "messageId", &uuid);
            b.extend_from_slice(b",\"trackedFileBackups\":{},");
            kv_into(b, "timestamp", &Timestamp(t));
            b.extend_from_slice(b"},\"isSnapshotUpdate\":false}");
            self.flush_line()?;
        }
        self.user_line(t, uuid, text)
    }

    /// A plain user message (a sub-agent's first line: its prompt).
    pub(crate) fn user_message(&mut self, t: i64, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        self.user_line(t, uuid, text)
    }

    pub(crate) fn user_line(&mut self, t: i64, uuid: String, text: &str) -> Result<()> {
        self.head();
        let b = &mut self.buf;
        b.extend_from_slice(b",\"type\":\"user\",\"message\":{\"role\":\"user\",");
        kv_into(b, "content", text);
        b.push(b'}');
        self.tail(uuid, t);
        self.buf.push(b'}');
        self.flush_line()
    }

    /// Starts an assistant line; the caller appends the content blocks.
    pub(crate) fn assistant_open(&mut self) {
        self.head();
        let msg_id = self.rng.base62_id("msg_01", 22);
        let b = &mut self.buf;
        b.extend_from_slice(b",\"message\":{");
        kv_into(b, "model", self.ctx.model);
        b.push(b',');
        kv_into(b, "id", &msg_id);
        b.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"content\":[");
    }

    pub(crate) fn assistant_close(&mut self, t: i64) -> Result<()> {
        let input = self.rng.random_range(3..=12);
        let created = self.rng.random_range(0..=4000);
        let read = self.rng.random_range(8000..=90_000);
        let output = self.rng.random_range(20..=900);
        let req = self.rng.base62_id("req_011C", 20);
        let uuid = self.uuid();
        let b = &mut self.buf;
        let _ = write!(
            b,
            "],\"stop_reason\":null,\"stop_sequence\":null,\"usage\":{{\"input_tokens\":{input},\"cache_creation_input_tokens\":{created},\"cache_read_input_tokens\":{read},"
        );
        if self.ctx.era >= Era::V20 {
            let _ = write!(
                b,
                "\"cache_creation\":{{\"ephemeral_5m_input_tokens\":{created},\"ephemeral_1h_input_tokens\":0}},"
            );
        }
        let _ = write!(
            b,
            "\"output_tokens\":{output},\"service_tier\":\"standard\"}}}},"
        );
        kv_into(b, "requestId", &req);
        b.extend_from_slice(b",\"type\":\"assistant\"");
        self.tail(uuid, t);
        self.buf.push(b'}');
        self.flush_line()
    }

    pub(crate) fn assistant_text(&mut self, t: i64, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        self.assistant_open();
        self.buf.extend_from_slice(b"{\"type\":\"text\",");
        kv_into(&mut self.buf, "text", text);
        self.buf.push(b'}');
        self.assistant_close(t)
    }

    /// An assistant line with one `tool_use`; `input` is raw JSON. Returns its id.
    pub(crate) fn tool_use(&mut self, t: i64, name: &str, input: &[u8]) -> Result<String> {
        let id = self.rng.base62_id("toolu_01", 22);
        if !self.enabled() {
            return Ok(id);
        }
        self.assistant_open();
        let b = &mut self.buf;
        b.extend_from_slice(b"{\"type\":\"tool_use\",");
        kv_into(b, "id", &id);
        b.push(b',');
        kv_into(b, "name", name);
        b.extend_from_slice(b",\"input\":");
        b.extend_from_slice(input);
        b.push(b'}');
        self.assistant_close(t)?;
        Ok(id)
    }

    /// A user line carrying a tool result. `content` is raw JSON (a string or an
    /// array); `tool_use_result` is raw JSON too.
    pub(crate) fn tool_result(
        &mut self,
        t: i64,
        tool_id: &str,
        content: &[u8],
        tool_use_result: &[u8],
    ) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        self.head();
        let b = &mut self.buf;
        b.extend_from_slice(b",\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{");
        kv_into(b, "tool_use_id", tool_id);
        b.extend_from_slice(b",\"type\":\"tool_result\",\"content\":");
        b.extend_from_slice(content);
        b.extend_from_slice(b"}]}");
        self.tail(uuid, t);
        let b = &mut self.buf;
        b.extend_from_slice(b",\"toolUseResult\":");
        b.extend_from_slice(tool_use_result);
        b.push(b'}');
        self.flush_line()
    }

    pub(crate) fn hook_progress(&mut self, t: i64, tool_id: &str, tool_name: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        self.head();
        let b = &mut self.buf;
        let _ = write!(
            b,
            ",\"type\":\"progress\",\"data\":{{\"type\":\"hook_progress\",\"hookEvent\":\"PostToolUse\",\"hookName\":\"PostToolUse:{tool_name}\",\"command\":\"~/.claude/hooks/log-tool-use.sh\"}},"
        );
        kv_into(b, "parentToolUseID", tool_id);
        b.push(b',');
        kv_into(b, "toolUseID", tool_id);
        self.tail(uuid, t);
        self.buf.push(b'}');
        self.flush_line()
    }

    /// A TodoWrite call and its result; advances the clock.
    pub(crate) fn todo_write(
        &mut self,
        rng: &mut Rng,
        clock: &mut i64,
        shape: Shape,
        list: &ListPlan,
        state: &[St],
        prev: Option<&Vec<St>>,
    ) -> Result<()> {
        let new = todos_json(shape, list, state);
        let input = if self.enabled() {
            json::to_vec(&TodoWriteInput { todos: &new })
        } else {
            Vec::new()
        };
        let id = self.tool_use(*clock, "TodoWrite", &input)?;
        *clock += rng.random_range(30..=400);
        if self.enabled() {
            let old = prev.map_or_else(Vec::new, |p| todos_json(shape, list, p));
            let tur = json::to_vec(&TodoWriteResult {
                old_todos: &old,
                new_todos: &new,
            });
            self.tool_result(
                *clock,
                &id,
                b"\"Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable\"",
                &tur,
            )?;
            if self.ctx.era >= Era::V20 && rng.random_bool(0.3) {
                *clock += rng.random_range(5..=60);
                self.hook_progress(*clock, &id, "TodoWrite")?;
            }
        }
        *clock += rng.random_range(800..=6000);
        Ok(())
    }

    pub(crate) fn task_tool_use(
        &mut self,
        t: i64,
        description: &str,
        prompt: &str,
        subagent_type: &str,
    ) -> Result<String> {
        let input = json::to_vec(&TaskInput {
            description,
            prompt,
            subagent_type,
        });
        self.tool_use(t, "Task", &input)
    }

    pub(crate) fn task_result(
        &mut self,
        t: i64,
        tool_id: &str,
        prompt: &str,
        agent_id: &str,
        report: &str,
    ) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let mut text = b"[{\"type\":\"text\",".to_vec();
        kv_into(&mut text, "text", report);
        text.extend_from_slice(b"}]");
        let mut tur = vec![b'{'];
        if self.ctx.era >= Era::V20 {
            tur.extend_from_slice(b"\"status\":\"completed\",");
            kv_into(&mut tur, "prompt", prompt);
            tur.push(b',');
            kv_into(&mut tur, "agentId", agent_id);
            tur.push(b',');
        }
        let dur = self.rng.random_range(8_000..=240_000);
        let tokens = self.rng.random_range(5_000..=80_000);
        let uses = self.rng.random_range(2..=40);
        tur.extend_from_slice(b"\"content\":");
        tur.extend_from_slice(&text);
        let _ = write!(
            tur,
            ",\"totalDurationMs\":{dur},\"totalTokens\":{tokens},\"totalToolUseCount\":{uses}}}"
        );
        self.tool_result(t, tool_id, &text, &tur)
    }

    pub(crate) fn task_create(
        &mut self,
        rng: &mut Rng,
        clock: &mut i64,
        task: &TaskPlan,
    ) -> Result<()> {
        let input = json::to_vec(&TaskCreateInput {
            subject: &task.text.content,
            description: &task.description,
            active_form: &task.text.active_form,
        });
        let id = self.tool_use(*clock, "TaskCreate", &input)?;
        *clock += rng.random_range(30..=300);
        if self.enabled() {
            let content = json::to_vec(&format!(
                "Task #{} created successfully: {}",
                task.id, task.text.content
            ));
            let mut tur = b"{\"task\":{".to_vec();
            kv_into(&mut tur, "id", &task.id.to_string());
            tur.push(b',');
            kv_into(&mut tur, "subject", &task.text.content);
            tur.extend_from_slice(b"}}");
            self.tool_result(*clock, &id, &content, &tur)?;
        }
        *clock += rng.random_range(500..=3000);
        Ok(())
    }

    pub(crate) fn task_update(&mut self, t: i64, task_id: u32, from: &str, to: &str) -> Result<()> {
        let task_id = task_id.to_string();
        let input = json::to_vec(&TaskUpdateInput {
            task_id: &task_id,
            status: to,
        });
        let id = self.tool_use(t, "TaskUpdate", &input)?;
        let content = json::to_vec(&format!("Updated task #{task_id} status"));
        let mut tur = b"{\"success\":true,".to_vec();
        kv_into(&mut tur, "taskId", &task_id);
        tur.extend_from_slice(b",\"updatedFields\":[\"status\"],\"statusChange\":{");
        kv_into(&mut tur, "from", from);
        tur.push(b',');
        kv_into(&mut tur, "to", to);
        tur.extend_from_slice(b"}}");
        self.tool_result(t + 180, &id, &content, &tur)
    }

    /// One Read, Bash or Edit call with a result of about `size` bytes.
    pub(crate) fn filler(&mut self, rng: &mut Rng, clock: &mut i64, size: usize) -> Result<()> {
        let pool = self.pool;
        let start = rng.random_range(0..pool.len());
        let file = rng.pick(words::SOURCE_FILES);
        let path = format!("{}/{}", self.ctx.cwd, file);
        let mut content = Vec::with_capacity(size + 64);
        let mut tur = Vec::with_capacity(size + 256);
        let id = match rng.random_range(0..10) {
            0..=4 => {
                // Read: the numbered text in the message, the raw text in toolUseResult.
                let n = pool.lines_for(size / 2);
                let id = self.tool_use(
                    *clock,
                    "Read",
                    &json::to_vec(&ReadInput { file_path: &path }),
                )?;
                content.push(b'"');
                pool.numbered_into(&mut content, start, n, 1);
                content.push(b'"');
                tur.extend_from_slice(b"{\"type\":\"text\",\"file\":{");
                kv_into(&mut tur, "filePath", &path);
                tur.extend_from_slice(b",\"content\":\"");
                pool.raw_into(&mut tur, start, n);
                let _ = write!(
                    tur,
                    "\",\"numLines\":{n},\"startLine\":1,\"totalLines\":{n}}}}}"
                );
                id
            }
            5..=7 => {
                let &(command, description) = rng.pick(words::BASH_COMMANDS);
                let input = json::to_vec(&BashInput {
                    command,
                    description,
                });
                let id = self.tool_use(*clock, "Bash", &input)?;
                let n = pool.lines_for(size / 2);
                let mut out = Vec::with_capacity(size / 2 + 64);
                pool.grep_into(&mut out, start, n, file);
                content.push(b'"');
                content.extend_from_slice(&out);
                content.push(b'"');
                tur.extend_from_slice(b"{\"stdout\":\"");
                tur.extend_from_slice(&out);
                tur.extend_from_slice(
                    b"\",\"stderr\":\"\",\"interrupted\":false,\"isImage\":false}",
                );
                if self.ctx.era >= Era::V20 && rng.random_bool(0.3) {
                    *clock += rng.random_range(500..=3000);
                    self.bash_progress(*clock, &id, start)?;
                }
                id
            }
            _ => {
                let n = pool.lines_for(size);
                let mut at = rng.random_range(0..n);
                for _ in 0..n {
                    if !pool.one(start + at).trim().is_empty() {
                        break;
                    }
                    at = (at + 1) % n;
                }
                // The pool is escaped already.
                let old_line = pool.one(start + at);
                let new_line = format!("{old_line} // updated");
                let mut input = vec![b'{'];
                kv_into(&mut input, "file_path", &path);
                let _ = write!(
                    input,
                    ",\"old_string\":\"{old_line}\",\"new_string\":\"{new_line}\"}}"
                );
                let id = self.tool_use(*clock, "Edit", &input)?;
                open_str_into(
                    &mut content,
                    &format!(
                        "The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n"
                    ),
                );
                let lo = at.saturating_sub(4);
                let hi = (at + 5).min(n);
                pool.numbered_into(&mut content, start + lo, hi - lo, lo + 1);
                content.push(b'"');
                tur.push(b'{');
                kv_into(&mut tur, "filePath", &path);
                let _ = write!(
                    tur,
                    ",\"oldString\":\"{old_line}\",\"newString\":\"{new_line}\",\"originalFile\":\""
                );
                pool.raw_into(&mut tur, start, n);
                let _ = write!(
                    tur,
                    "\",\"structuredPatch\":[{{\"oldStart\":{a},\"oldLines\":1,\"newStart\":{a},\"newLines\":1,\"lines\":[\"-{old_line}\",\"+{new_line}\"]}}],\"userModified\":false,\"replaceAll\":false}}",
                    a = at + 1
                );
                id
            }
        };
        *clock += rng.random_range(100..=4000);
        self.tool_result(*clock, &id, &content, &tur)?;
        *clock += rng.random_range(500..=8000);
        Ok(())
    }

    pub(crate) fn bash_progress(&mut self, t: i64, tool_id: &str, start: usize) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        let line = self.pool.one(start);
        self.head();
        let b = &mut self.buf;
        // The pool is escaped already.
        let _ = write!(
            b,
            ",\"type\":\"progress\",\"data\":{{\"type\":\"bash_progress\",\"output\":\"{line}\",\"fullOutput\":\"{line}\",\"elapsedTimeSeconds\":3,\"totalLines\":1}},\"toolUseID\":\"bash-progress-0\","
        );
        kv_into(b, "parentToolUseID", tool_id);
        self.tail(uuid, t);
        self.buf.push(b'}');
        self.flush_line()
    }
}

/// What a transcript's last complete line says about its session.
pub(crate) struct TailContext {
    pub(crate) session: String,
    pub(crate) cwd: String,
    pub(crate) version: String,
    pub(crate) branch: String,
    pub(crate) agent_id: Option<String>,
    pub(crate) parent: Option<String>,
    pub(crate) timestamp: i64,
    pub(crate) ends_with_newline: bool,
}

pub(crate) fn tail_context(path: &Path) -> Result<TailContext> {
    use std::io::{Read, Seek, SeekFrom};
    let mut f = File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let len = f.metadata()?.len();
    let mut window = 64 * 1024u64;
    loop {
        let from = len.saturating_sub(window);
        f.seek(SeekFrom::Start(from))?;
        let mut buf = Vec::with_capacity((len - from) as usize);
        f.read_to_end(&mut buf)?;
        let ends_with_newline = buf.last() == Some(&b'\n');
        // Lines fully inside the window (the first may be cut unless from == 0).
        let mut lines: Vec<&[u8]> = buf.split(|&b| b == b'\n').collect();
        if from > 0 && !lines.is_empty() {
            lines.remove(0);
        }
        for line in lines.iter().rev() {
            let Ok(v) = serde_json::from_slice::<serde_json::Value>(line) else {
                continue;
            };
            let get = |k: &str| v.get(k).and_then(|x| x.as_str()).map(str::to_string);
            let (Some(session), Some(cwd), Some(ts)) =
                (get("sessionId"), get("cwd"), get("timestamp"))
            else {
                continue;
            };
            let Some(Timestamp(timestamp)) = Timestamp::parse_rfc3339(&ts) else {
                continue;
            };
            return Ok(TailContext {
                session,
                cwd,
                version: get("version").unwrap_or_else(|| "2.0.14".into()),
                branch: get("gitBranch").unwrap_or_default(),
                agent_id: get("agentId"),
                parent: get("uuid"),
                timestamp,
                ends_with_newline,
            });
        }
        if from == 0 {
            anyhow::bail!(
                "{}: no line with sessionId, cwd and timestamp",
                path.display()
            );
        }
        window *= 4;
    }
}

/// Appends one assistant line to a transcript (see [`crate::append_transcript_line`]).
pub(crate) fn append_line(path: &Path, kind: &crate::AppendKind) -> Result<crate::AppendedLine> {
    let ctx_info = tail_context(path)?;
    let t = ctx_info.timestamp + 1000;
    let era = if ctx_info.version.starts_with("1.") {
        Era::V1
    } else if ctx_info.version.starts_with("2.0") {
        Era::V20
    } else {
        Era::V21
    };
    let ctx = Ctx {
        session: &ctx_info.session,
        cwd: &ctx_info.cwd,
        version: &ctx_info.version,
        branch: &ctx_info.branch,
        agent_id: ctx_info.agent_id.as_deref(),
        model: "claude-sonnet-4-5-20250929",
        era,
    };
    let pool = Pool::new(0, 1);
    let f = std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .with_context(|| format!("opening {} to append", path.display()))?;
    let old_mtime = f.metadata()?.modified()?;
    // The line's ids come from its session, agent and time: the same append
    // to the same transcript writes the same line.
    let key = Sha256::new()
        .chain_update(&ctx_info.session)
        .chain_update([0])
        .chain_update(ctx_info.agent_id.as_deref().unwrap_or_default())
        .chain_update([0])
        .chain_update(t.to_le_bytes())
        .finalize();
    let mut tx = Tx {
        out: Some((BufWriter::new(f), path.to_path_buf())),
        bytes: 0,
        buf: Vec::new(),
        ctx,
        parent: ctx_info.parent.clone(),
        rng: Rng::from_seed(key.into()),
        pool: &pool,
    };
    if !ctx_info.ends_with_newline {
        // Never glue the new line onto a cut one.
        if let Some((w, _)) = &mut tx.out {
            w.write_all(b"\n")?;
        }
        tx.bytes += 1;
    }
    match kind {
        crate::AppendKind::TodoWrite(todos) => {
            tx.tool_use(t, "TodoWrite", &json::to_vec(&TodoWriteInput { todos }))?;
        }
        crate::AppendKind::Text(text) => tx.assistant_text(t, text)?,
    }
    let line = String::from_utf8(tx.buf.trim_ascii_end().to_vec())
        .expect("serde_json and the templates write UTF-8");
    let bytes = tx.bytes;
    let (w, _) = tx.out.take().expect("opened above");
    let f = w.into_inner().map_err(|e| e.into_error())?;
    let old_ms = old_mtime
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64);
    set_mtime(&f, t.max(old_ms + 1))?;
    Ok(crate::AppendedLine {
        path: path.to_path_buf(),
        session: ctx_info.session,
        agent_id: ctx_info.agent_id,
        timestamp: Timestamp(t).to_rfc3339(),
        line,
        bytes,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::plan::fixtures::agent;

    /// A TodoWrite line: the todos compact, in their shape's key order.
    #[test]
    fn todo_write_input_keeps_the_key_order() {
        let a = agent(Shape::Old, vec![vec![St::Pending, St::Pending]]);
        let list = &a.lists[0];
        let todos = todos_json(Shape::Old, list, &list.states[0]);
        assert_eq!(
            String::from_utf8(json::to_vec(&TodoWriteInput { todos: &todos })).unwrap(),
            "{\"todos\":[{\"content\":\"Fix \\\"the\\\" login\\thandler →\",\"status\":\"pending\",\"priority\":\"high\",\"id\":\"1\"},{\"content\":\"Add tests\",\"status\":\"pending\",\"priority\":\"low\",\"id\":\"2\"}]}"
        );
    }
}
