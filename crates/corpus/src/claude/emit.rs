//! Writing one planned session's files: its transcripts (main and
//! sub-agents, through [`Tx`]), its todo files and its task files, with the
//! filler tool calls spread between the plan writes. Sessions are written
//! in parallel, each from its own random stream.

use super::plan::{
    AgentPlan, Era, Session, St, TaskEnd, TaskPlan, World, DOMAIN_TX, DOMAIN_TX_IDS, MAX_AGENTS,
};
use super::transcript::{todos_json, Ctx, Tx};
use crate::json;
use crate::rng::{self, Rng, RngExt};
use crate::words;
use crate::{CorpusStats, TranscriptSize};
use anyhow::{Context, Result};
use rand::Rng as _;
use rand_distr::{Distribution, LogNormal};
use serde::Serialize;
use std::fs::File;
use std::io::Write;
use std::path::Path;

impl World {
    /// Whether transcripts show only the first, a middle and the last write of a list.
    pub(crate) fn small(&self) -> bool {
        matches!(self.mode, TranscriptSize::Small)
    }

    /// The transcript of agent `agent` (0: the main agent) of a session,
    /// written to `path`, or only timed when `path` is `None`.
    pub(crate) fn open_tx<'a>(
        &'a self,
        s: &'a Session,
        agent: usize,
        path: Option<&Path>,
    ) -> Result<Tx<'a>> {
        debug_assert!((agent as u64) < MAX_AGENTS);
        let ctx = Ctx {
            session: &s.id,
            cwd: &self.projects[s.project].cwd,
            version: &s.version,
            branch: &s.branch,
            agent_id: (agent > 0).then_some(s.agents[agent].id.as_str()),
            model: s.model,
            era: s.era,
        };
        let ids = rng::stream(
            self.seed,
            DOMAIN_TX_IDS,
            s.index as u64 * MAX_AGENTS + agent as u64,
        );
        Tx::open(path, ctx, &self.pool, ids)
    }

    /// Writes one session's files.
    pub(crate) fn emit(&self, dir: &Path, s: &Session) -> Result<CorpusStats> {
        let mut stats = CorpusStats::default();
        let proj = &self.projects[s.project];
        let mut rng = rng::stream(self.seed, DOMAIN_TX, s.index as u64);
        let mut clock = s.start;
        let small = self.small();

        let has_sub_tx = s.agents.iter().skip(1).any(|a| a.transcript);
        let n_sub_tx = s.agents.iter().skip(1).filter(|a| a.transcript).count() as u64;
        let main_budget = if has_sub_tx {
            s.budget * 3 / 4
        } else {
            s.budget
        };
        let sub_budget = if has_sub_tx {
            (s.budget - main_budget) / n_sub_tx
        } else {
            0
        };

        let project_dir = dir.join("projects").join(&proj.folder);
        let main_path = project_dir.join(format!("{}.jsonl", s.id));
        let mut tx = self.open_tx(s, 0, s.transcript.then_some(main_path.as_path()))?;
        let main = &s.agents[0];
        let gaps = 1
            + main
                .lists
                .iter()
                .map(|l| l.written(small).len())
                .sum::<usize>()
            + s.tasks.len() * 3;
        let mut fill = Fill::new(self.mode, main_budget, gaps);

        if s.summary {
            let text = *rng.pick(words::SUMMARIES);
            tx.summary(&mut rng, text)?;
        }
        if s.era == Era::V21 {
            tx.queue_op(clock, "dequeue", None)?;
            clock += rng.random_range(5..=80);
        }
        tx.user_prompt(clock, s.prompts[0])?;
        clock += rng.random_range(1500..=9000);
        let text = rng.pick::<&str>(words::ASSISTANT_TEXTS);
        tx.assistant_text(clock, text)?;
        clock += rng.random_range(200..=2000);
        fill.gap(&mut tx, &mut rng, &mut clock)?;

        // When the main agent has no list, its todo file is written at the start.
        let mut last_write: Vec<i64> = vec![s.start + 40; s.agents.len()];
        // The sub-agents run after the first plan write, or at once without a plan.
        let run_subagents = |tx: &mut Tx<'_>,
                             rng: &mut Rng,
                             clock: &mut i64,
                             last: &mut [i64],
                             stats: &mut CorpusStats| {
            self.run_subagents(s, &project_dir, tx, rng, clock, last, sub_budget, stats)
        };
        let mut subagents_launched = false;
        let mut prompt_i = 1;
        for (li, list) in main.lists.iter().enumerate() {
            if li > 0 {
                clock += rng.random_range(20_000..=600_000);
                tx.user_prompt(clock, s.prompts[prompt_i.min(s.prompts.len() - 1)])?;
                prompt_i += 1;
                clock += rng.random_range(1500..=9000);
            }
            let mut prev: Option<&Vec<St>> = None;
            for state in list.written(small) {
                let t = clock;
                tx.todo_write(&mut rng, &mut clock, main.shape, list, state, prev)?;
                last_write[0] = t;
                prev = Some(state);
                if s.era >= Era::V20 && rng.random_bool(0.08) {
                    let text = if rng.random_bool(0.5) {
                        "please keep the TodoWrite list short, and mark items done as you go"
                    } else {
                        "also run the linter before you finish"
                    };
                    tx.queue_op(clock, "enqueue", Some(text))?;
                    clock += rng.random_range(2000..=30_000);
                    tx.queue_op(clock, "remove", None)?;
                    clock += rng.random_range(100..=900);
                }
                if !subagents_launched {
                    subagents_launched = true;
                    run_subagents(&mut tx, &mut rng, &mut clock, &mut last_write, &mut stats)?;
                }
                fill.gap(&mut tx, &mut rng, &mut clock)?;
            }
        }
        if !subagents_launched {
            run_subagents(&mut tx, &mut rng, &mut clock, &mut last_write, &mut stats)?;
        }
        let task_times = self.run_tasks(s, &mut tx, &mut rng, &mut clock, &mut fill)?;
        clock += rng.random_range(1000..=8000);
        tx.assistant_text(
            clock,
            "Done. Everything on the list is handled; see the summary above.",
        )?;
        tx.close(clock, &mut stats)?;

        // Todo files, one per agent (task sessions keep their plan in tasks/).
        for (ai, agent) in s.agents.iter().enumerate() {
            if ai == 0 && !s.tasks.is_empty() {
                continue;
            }
            let path = dir
                .join("todos")
                .join(format!("{}-agent-{}.json", s.id, agent.id));
            let (text, n) = todo_file_text(agent);
            write_file(&path, text.as_bytes(), last_write[ai])?;
            stats.files += 1;
            stats.todo_files += 1;
            stats.bytes += text.len() as u64;
            stats.raw_todos += n as u64;
            if n == 0 {
                stats.empty_todo_files += 1;
            }
        }

        // Task files.
        if !s.tasks.is_empty() {
            let tdir = dir.join("tasks").join(&s.id);
            std::fs::create_dir_all(&tdir)
                .with_context(|| format!("creating {}", tdir.display()))?;
            write_file(&tdir.join(".lock"), b"", s.start + 60)?;
            let hwm = s.tasks.iter().map(|t| t.id).max().unwrap_or(0);
            let last_create = task_times.iter().map(|x| x.0).max().unwrap_or(s.start);
            let hwm_text = hwm.to_string();
            write_file(
                &tdir.join(".highwatermark"),
                hwm_text.as_bytes(),
                last_create,
            )?;
            stats.files += 2;
            stats.bytes += hwm_text.len() as u64;
            for (task, &(_, last)) in s.tasks.iter().zip(&task_times) {
                let status = match task.end {
                    TaskEnd::Deleted => continue,
                    TaskEnd::Pending => "pending",
                    TaskEnd::InProgress => "in_progress",
                    TaskEnd::Completed => "completed",
                };
                let text = task_file_text(task, status);
                write_file(
                    &tdir.join(format!("{}.json", task.id)),
                    text.as_bytes(),
                    last,
                )?;
                stats.files += 1;
                stats.task_files += 1;
                stats.bytes += text.len() as u64;
            }
        }
        stats.sessions = 1;
        Ok(stats)
    }

    #[allow(clippy::too_many_arguments)]
    pub(crate) fn run_subagents(
        &self,
        s: &Session,
        project_dir: &Path,
        tx: &mut Tx<'_>,
        rng: &mut Rng,
        clock: &mut i64,
        last_write: &mut [i64],
        sub_budget: u64,
        stats: &mut CorpusStats,
    ) -> Result<()> {
        let small = self.small();
        for (ai, agent) in s.agents.iter().enumerate().skip(1) {
            let prompt = format!(
                "{}. Report what you find, with file paths and line numbers.",
                agent.description
            );
            let subagent_type = ["general-purpose", "Explore", "Plan"][ai % 3];
            let task_id = tx.task_tool_use(*clock, &agent.description, &prompt, subagent_type)?;
            *clock += rng.random_range(300..=1500);
            let path = agent.transcript.then(|| {
                project_dir
                    .join(&s.id)
                    .join("subagents")
                    .join(format!("agent-{}.jsonl", agent.id))
            });
            if let Some(p) = &path {
                let parent = p.parent().expect("has a parent");
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let mut sub = self.open_tx(s, ai, path.as_deref())?;
            let gaps = 1 + agent
                .lists
                .iter()
                .map(|l| l.written(small).len())
                .sum::<usize>();
            let mut fill = Fill::new(self.mode, sub_budget, gaps);
            sub.user_message(*clock, &prompt)?;
            *clock += rng.random_range(1000..=5000);
            fill.gap(&mut sub, rng, clock)?;
            for list in &agent.lists {
                let mut prev: Option<&Vec<St>> = None;
                for state in list.written(small) {
                    let t = *clock;
                    sub.todo_write(rng, clock, agent.shape, list, state, prev)?;
                    last_write[ai] = t;
                    prev = Some(state);
                    fill.gap(&mut sub, rng, clock)?;
                }
            }
            if agent.lists.is_empty() {
                last_write[ai] = *clock;
            }
            *clock += rng.random_range(1000..=6000);
            let report = format!(
                "Summary of findings for: {}. The relevant code is in {}; no blocking issues found.",
                agent.description,
                rng.pick(words::MODULES)
            );
            sub.assistant_text(*clock, &report)?;
            sub.close(*clock, stats)?;
            *clock += rng.random_range(200..=1500);
            tx.task_result(*clock, &task_id, &prompt, &agent.id, &report)?;
            *clock += rng.random_range(500..=3000);
        }
        Ok(())
    }

    /// Emits the task calls; returns per task (created at, last changed at).
    pub(crate) fn run_tasks(
        &self,
        s: &Session,
        tx: &mut Tx<'_>,
        rng: &mut Rng,
        clock: &mut i64,
        fill: &mut Fill,
    ) -> Result<Vec<(i64, i64)>> {
        let mut times = Vec::with_capacity(s.tasks.len());
        for task in &s.tasks {
            let created = *clock;
            tx.task_create(rng, clock, task)?;
            times.push((created, created));
        }
        let mut set =
            |tx: &mut Tx<'_>, clock: &mut i64, i: usize, from: &str, to: &str| -> Result<()> {
                let t = *clock;
                tx.task_update(task_call_time(clock), s.tasks[i].id, from, to)?;
                times[i].1 = t;
                Ok(())
            };
        for (i, task) in s.tasks.iter().enumerate() {
            match task.end {
                TaskEnd::Completed => {
                    set(tx, clock, i, "pending", "in_progress")?;
                    fill.gap(tx, rng, clock)?;
                    set(tx, clock, i, "in_progress", "completed")?;
                    fill.gap(tx, rng, clock)?;
                }
                TaskEnd::InProgress => {
                    set(tx, clock, i, "pending", "in_progress")?;
                    fill.gap(tx, rng, clock)?;
                }
                TaskEnd::Pending | TaskEnd::Deleted => {}
            }
        }
        for (i, task) in s.tasks.iter().enumerate() {
            if task.end == TaskEnd::Deleted {
                set(tx, clock, i, "pending", "deleted")?;
            }
        }
        Ok(times)
    }
}

/// The time of a task call: now; task updates come in quick succession, so
/// the clock moves on a fixed 2.35 s.
pub(crate) fn task_call_time(clock: &mut i64) -> i64 {
    let t = *clock;
    *clock += 2_350;
    t
}

/// How filler tool calls are spread over a transcript.
pub(crate) struct Fill {
    pub(crate) realistic: bool,
    pub(crate) small: bool,
    /// Filler bytes to write in this transcript.
    pub(crate) budget: u64,
    pub(crate) spent: u64,
    pub(crate) gaps_left: usize,
}

impl Fill {
    pub(crate) fn new(mode: TranscriptSize, budget: u64, gaps: usize) -> Fill {
        Fill {
            realistic: matches!(mode, TranscriptSize::Realistic { .. }),
            small: matches!(mode, TranscriptSize::Small),
            budget,
            spent: 0,
            gaps_left: gaps.max(1),
        }
    }

    /// The work between two plan writes: reads, commands, edits.
    pub(crate) fn gap(&mut self, tx: &mut Tx<'_>, rng: &mut Rng, clock: &mut i64) -> Result<()> {
        if !tx.enabled() {
            return Ok(());
        }
        if self.small {
            if rng.random_bool(0.25) {
                let size = rng.random_range(200..=1200);
                tx.filler(rng, clock, size)?;
            }
            return Ok(());
        }
        if !self.realistic {
            return Ok(());
        }
        let remaining = self.budget.saturating_sub(self.spent);
        let share = if self.gaps_left <= 1 {
            remaining
        } else {
            let even = remaining / self.gaps_left as u64;
            (even as f64 * (0.4 + 1.2 * rng.random::<f64>())) as u64
        };
        self.gaps_left = self.gaps_left.saturating_sub(1).max(1);
        let goal = self.spent + share;
        // Tool results of heavy-tailed sizes: a median of about 5.4 KB.
        let sizes = LogNormal::<f64>::new(8.6, 1.0).expect("a valid deviation");
        while self.spent < goal {
            let left = (goal - self.spent) as usize;
            let sampled = sizes.sample(rng).clamp(200.0, 400_000.0) as usize;
            let size = sampled.min(left.max(200));
            let before = tx.bytes;
            tx.filler(rng, clock, size)?;
            self.spent += tx.bytes - before;
        }
        Ok(())
    }
}

/// A `tasks/<list>/<N>.json` file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct TaskFile<'a> {
    pub(crate) id: String,
    pub(crate) subject: &'a str,
    pub(crate) description: &'a str,
    pub(crate) active_form: &'a str,
    pub(crate) status: &'a str,
    pub(crate) blocks: [u32; 0],
    pub(crate) blocked_by: [u32; 0],
}

/// The todo file of an agent, as `JSON.stringify(todos, null, 2)` writes it,
/// and the number of todos in it. A finished list is written as `[]`.
pub(crate) fn todo_file_text(agent: &AgentPlan) -> (String, usize) {
    let Some(list) = agent.lists.last().filter(|l| !l.finished()) else {
        return ("[]".to_string(), 0);
    };
    let state = list.states.last().expect("a list has writes");
    (
        json::to_pretty(&todos_json(agent.shape, list, state)),
        list.items.len(),
    )
}

pub(crate) fn task_file_text(task: &TaskPlan, status: &str) -> String {
    json::to_pretty(&TaskFile {
        id: task.id.to_string(),
        subject: &task.text.content,
        description: &task.description,
        active_form: &task.text.active_form,
        status,
        blocks: [],
        blocked_by: [],
    })
}

pub(crate) fn set_mtime(f: &File, ms: i64) -> std::io::Result<()> {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms.max(0) as u64);
    f.set_modified(t)
}

pub(crate) fn write_file(path: &Path, bytes: &[u8], mtime_ms: i64) -> Result<()> {
    let mut f = File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(bytes)
        .with_context(|| format!("writing {}", path.display()))?;
    set_mtime(&f, mtime_ms).with_context(|| format!("setting mtime of {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::claude::plan::fixtures::agent;
    use crate::claude::plan::Shape;
    use crate::words::TodoText;

    /// Byte for byte what `JSON.stringify(todos, null, 2)` writes.
    #[test]
    fn todo_files_as_json_stringify_writes_them() {
        let open = vec![vec![St::Completed, St::InProgress]];
        let (text, n) = todo_file_text(&agent(Shape::New, open.clone()));
        assert_eq!(n, 2);
        assert_eq!(
            text,
            "[\n  {\n    \"content\": \"Fix \\\"the\\\" login\\thandler →\",\n    \"status\": \"completed\",\n    \"activeForm\": \"Fixing it\"\n  },\n  {\n    \"content\": \"Add tests\",\n    \"status\": \"in_progress\",\n    \"activeForm\": \"Adding tests\"\n  }\n]"
        );
        let (text, _) = todo_file_text(&agent(Shape::Old, open.clone()));
        assert!(text.starts_with(
            "[\n  {\n    \"content\": \"Fix \\\"the\\\" login\\thandler →\",\n    \"status\": \"completed\",\n    \"priority\": \"high\",\n    \"id\": \"1\"\n  },"
        ));
        let (text, _) = todo_file_text(&agent(Shape::NoPriority, open.clone()));
        assert!(text.ends_with("\"status\": \"in_progress\",\n    \"id\": \"2\"\n  }\n]"));
        let (text, _) = todo_file_text(&agent(Shape::Bare, open));
        assert!(text.ends_with("\"status\": \"in_progress\"\n  }\n]"));
        let done = vec![vec![St::Completed, St::Completed]];
        assert_eq!(todo_file_text(&agent(Shape::New, done)), ("[]".into(), 0));
    }

    #[test]
    fn task_files_as_json_stringify_writes_them() {
        let task = TaskPlan {
            id: 3,
            text: TodoText {
                content: "Add tests".into(),
                active_form: "Adding tests".into(),
            },
            description: "Add tests. Keep it small.".into(),
            end: TaskEnd::Pending,
        };
        assert_eq!(
            task_file_text(&task, "pending"),
            "{\n  \"id\": \"3\",\n  \"subject\": \"Add tests\",\n  \"description\": \"Add tests. Keep it small.\",\n  \"activeForm\": \"Adding tests\",\n  \"status\": \"pending\",\n  \"blocks\": [],\n  \"blockedBy\": []\n}"
        );
    }
}
