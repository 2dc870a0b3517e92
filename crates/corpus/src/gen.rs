//! Planning and writing the sessions of a synthetic Claude Code home.
//!
//! Every session is planned from its own random stream (seed, index), so the
//! corpus is the same whatever the number of threads, and sessions are written
//! in parallel.

use crate::json::{self, kv_into, open_str_into};
use crate::payload::Pool;
use crate::rng::{self, Rng, RngExt};
use crate::words::{self, TodoText};
use crate::{CorpusSpec, CorpusStats, TranscriptSize};
use anyhow::{Context, Result};
use chittysync_core::Timestamp;
use rand::{Rng as _, SeedableRng};
use rand_distr::{Distribution, LogNormal};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// 2026-07-01T00:00:00Z: the first session starts after this.
pub const WINDOW_START_MS: i64 = 1_782_864_000_000;
/// 2026-11-20T00:00:00Z: the last session starts before this.
pub const WINDOW_END_MS: i64 = 1_795_132_800_000;

const DOMAIN_SESSION: u64 = 1;
const DOMAIN_PROJECT: u64 = 2;
const DOMAIN_TX: u64 = 3;
const DOMAIN_BUDGET: u64 = 4;
/// The ids drawn in a transcript: stream `session index × MAX_AGENTS + agent`.
const DOMAIN_TX_IDS: u64 = 5;

/// The main agent and at most three sub-agents.
const MAX_AGENTS: u64 = 4;

/// Which Claude Code generation wrote a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Era {
    /// 1.0.x: old todo shape (`id`, `priority`), no 2.x line kinds.
    V1,
    /// 2.0.x: `activeForm`, file-history snapshots, hook progress lines.
    V20,
    /// 2.1.x: also queue operations; some sessions use tasks.
    V21,
}

/// The fields of the todos of one agent's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `{"content","status","activeForm"}`
    New,
    /// `{"content","status","priority","id"}`
    Old,
    /// `{"content","status","id"}`
    NoPriority,
    /// `{"content","status"}`
    Bare,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum St {
    Pending,
    InProgress,
    Completed,
}

impl St {
    fn as_str(self) -> &'static str {
        match self {
            St::Pending => "pending",
            St::InProgress => "in_progress",
            St::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone)]
struct Item {
    content: String,
    active: String,
    id: String,
    priority: &'static str,
}

/// One list: its items and every write of it (the whole list each time).
#[derive(Debug, Clone)]
struct ListPlan {
    items: Vec<Item>,
    states: Vec<Vec<St>>,
}

impl ListPlan {
    /// The writes a transcript shows: all of them, or with `Small` transcripts
    /// the first, one in the middle and the last.
    fn written(&self, small: bool) -> Vec<&Vec<St>> {
        let n = self.states.len();
        if small && n > 3 {
            vec![&self.states[0], &self.states[n / 2], &self.states[n - 1]]
        } else {
            self.states.iter().collect()
        }
    }

    fn finished(&self) -> bool {
        self.states
            .last()
            .is_some_and(|s| s.iter().all(|&x| x == St::Completed))
    }
}

#[derive(Debug, Clone)]
struct AgentPlan {
    /// The session id for the main agent; a uuid (1.0.x) or a short hex id (2.x).
    id: String,
    shape: Shape,
    lists: Vec<ListPlan>,
    /// Writes its own transcript (`<session>/subagents/agent-<id>.jsonl`).
    transcript: bool,
    description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum TaskEnd {
    Pending,
    InProgress,
    Completed,
    Deleted,
}

#[derive(Debug, Clone)]
struct TaskPlan {
    id: u32,
    text: TodoText,
    description: String,
    end: TaskEnd,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    index: usize,
    id: String,
    project: usize,
    era: Era,
    version: String,
    model: &'static str,
    branch: String,
    start: i64,
    transcript: bool,
    summary: bool,
    /// `agents[0]` is the main agent.
    agents: Vec<AgentPlan>,
    tasks: Vec<TaskPlan>,
    prompts: Vec<&'static str>,
    weight: f64,
    budget: u64,
}

struct Project {
    cwd: String,
    folder: String,
    main_branch: &'static str,
    shared: Vec<TodoText>,
}

pub(crate) struct World {
    seed: u64,
    mode: TranscriptSize,
    projects: Vec<Project>,
    /// Cumulative project weights (Zipf-like: a few busy projects, a long tail).
    cumulative: Vec<f64>,
    pool: Pool,
}

impl World {
    pub(crate) fn new(spec: &CorpusSpec) -> World {
        let n_projects = spec.effective_projects();
        let mut projects = Vec::with_capacity(n_projects);
        let mut cumulative = Vec::with_capacity(n_projects);
        let mut acc = 0.0;
        for p in 0..n_projects {
            let mut rng = rng::stream(spec.seed, DOMAIN_PROJECT, p as u64);
            let (_, cwd) = words::project(p);
            let folder = words::folder_of_cwd(&cwd);
            let main_branch = match rng.random_range(0..10) {
                0..=6 => "main",
                7 | 8 => "master",
                _ => "",
            };
            let shared = (0..40).map(|_| words::todo_text(&mut rng, false)).collect();
            projects.push(Project {
                cwd,
                folder,
                main_branch,
                shared,
            });
            acc += 1.0 / ((p + 1) as f64).powf(0.8);
            cumulative.push(acc);
        }
        World {
            seed: spec.seed,
            mode: spec.transcripts,
            projects,
            cumulative,
            pool: Pool::new(spec.seed, 16_384),
        }
    }

    pub(crate) fn project_folders(&self, sessions: &[Session]) -> Vec<&str> {
        let mut used = vec![false; self.projects.len()];
        for s in sessions.iter().filter(|s| s.transcript) {
            used[s.project] = true;
        }
        self.projects
            .iter()
            .zip(used)
            .filter(|(_, u)| *u)
            .map(|(p, _)| p.folder.as_str())
            .collect()
    }

    fn pick_project(&self, rng: &mut Rng) -> usize {
        let total = *self.cumulative.last().unwrap_or(&1.0);
        let x = rng.random::<f64>() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.projects.len() - 1)
    }

    /// Plans session `index`.
    pub(crate) fn plan(&self, index: usize) -> Session {
        let mut rng = rng::stream(self.seed, DOMAIN_SESSION, index as u64);
        let id = rng.uuid();
        let project = self.pick_project(&mut rng);
        let f = rng.random::<f64>();
        let start = WINDOW_START_MS + (f * (WINDOW_END_MS - WINDOW_START_MS) as f64) as i64;
        let (era, version) = if f < 0.2 {
            (Era::V1, format!("1.0.{}", 40 + (f / 0.2 * 88.0) as u32))
        } else if f < 0.8 {
            (Era::V20, format!("2.0.{}", ((f - 0.2) / 0.6 * 76.0) as u32))
        } else {
            (Era::V21, format!("2.1.{}", ((f - 0.8) / 0.2 * 40.0) as u32))
        };
        let model = match (era, rng.random_range(0..10)) {
            (Era::V1, 0..=6) => "claude-sonnet-4-20250514",
            (Era::V1, _) => "claude-opus-4-20250514",
            (_, 0..=5) => "claude-sonnet-4-5-20250929",
            (_, 6 | 7) => "claude-opus-4-1-20250805",
            _ => "claude-haiku-4-5-20251001",
        };
        let proj = &self.projects[project];
        let branch = if proj.main_branch.is_empty() || rng.random_bool(0.6) {
            proj.main_branch.to_string()
        } else {
            rng.pick(words::BRANCHES).to_string()
        };
        let transcript = match self.mode {
            TranscriptSize::None => false,
            _ => match era {
                // Old transcripts were cleaned up (cleanupPeriodDays); their todo files stay.
                Era::V1 => rng.random_bool(0.5),
                _ => rng.random_bool(0.97),
            },
        };
        let uses_tasks = era == Era::V21 && rng.random_bool(0.15);
        let main_shape = match era {
            Era::V1 => match rng.random_range(0..10) {
                0..=6 => Shape::Old,
                7 | 8 => Shape::NoPriority,
                _ => Shape::Bare,
            },
            _ => Shape::New,
        };

        let mut agents = Vec::new();
        let mut tasks = Vec::new();
        // The main agent.
        let mut main_lists = Vec::new();
        if uses_tasks {
            tasks = plan_tasks(&mut rng, proj);
        } else if rng.random_bool(0.75) {
            let n_lists = if rng.random_bool(0.2) { 2 } else { 1 };
            for l in 0..n_lists {
                let last = l + 1 == n_lists;
                let finished = if last {
                    rng.random_bool(0.34)
                } else {
                    rng.random_bool(0.85)
                };
                main_lists.push(plan_list(&mut rng, proj, 0.45, finished));
            }
        }
        agents.push(AgentPlan {
            id: id.clone(),
            shape: main_shape,
            lists: main_lists,
            transcript,
            description: String::new(),
        });
        // Sub-agents.
        let n_sub = if uses_tasks {
            0
        } else {
            match rng.random_range(0..100) {
                0..=59 => 0,
                60..=79 => 1,
                80..=91 => 2,
                _ => 3,
            }
        };
        for _ in 0..n_sub {
            let agent_id = if era == Era::V1 {
                rng.uuid()
            } else {
                format!("a{}", rng.hex(6))
            };
            let mut lists = Vec::new();
            if rng.random_bool(0.75) {
                let finished = rng.random_bool(0.34);
                lists.push(plan_list(&mut rng, proj, 0.25, finished));
            }
            let description = format!(
                "{} {}",
                ["Explore", "Review", "Investigate", "Audit", "Map"][rng.random_range(0..5)],
                rng.pick(words::OBJECTS)
            );
            agents.push(AgentPlan {
                id: agent_id,
                shape: main_shape,
                lists,
                transcript: transcript && era != Era::V1,
                description,
            });
        }
        let n_prompts = 1 + agents[0].lists.len();
        let prompts = (0..n_prompts).map(|_| *rng.pick(words::PROMPTS)).collect();
        let summary = transcript && rng.random_bool(0.1);
        // Heavy-tailed transcript sizes.
        let weight = if transcript {
            let mut wr = rng::stream(self.seed, DOMAIN_BUDGET, index as u64);
            LogNormal::<f64>::new(0.0, 1.3)
                .expect("a valid deviation")
                .sample(&mut wr)
        } else {
            0.0
        };
        Session {
            index,
            id,
            project,
            era,
            version,
            model,
            branch,
            start,
            transcript,
            summary,
            agents,
            tasks,
            prompts,
            weight,
            budget: 0,
        }
    }

    /// Spreads `target` transcript bytes over the sessions: each transcript is
    /// at least its plan lines (estimated), and the rest of the target goes to
    /// filler tool results in proportion to the sessions' weights (a water
    /// level `λ` with Σ max(λ·weight, base) = target). `budget` is then the
    /// filler bytes of the session.
    pub(crate) fn assign_budgets(&self, sessions: &mut [Session]) {
        let target = match self.mode {
            TranscriptSize::Realistic { target_total_bytes } => target_total_bytes as f64,
            _ => return,
        };
        let bases: Vec<f64> = sessions.iter().map(|s| estimate_base(s) as f64).collect();
        let total = |lambda: f64| -> f64 {
            sessions
                .iter()
                .zip(&bases)
                .map(|(s, &b)| {
                    if s.transcript {
                        (lambda * s.weight).max(b)
                    } else {
                        0.0
                    }
                })
                .sum()
        };
        if total(0.0) >= target {
            return;
        }
        let (mut lo, mut hi) = (0.0f64, 1.0f64);
        while total(hi) < target {
            hi *= 2.0;
        }
        for _ in 0..60 {
            let mid = (lo + hi) / 2.0;
            if total(mid) < target {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        for (s, &b) in sessions.iter_mut().zip(&bases) {
            if s.transcript {
                s.budget = (hi * s.weight - b).max(0.0) as u64;
            }
        }
    }

    /// Whether transcripts show only the first, a middle and the last write of a list.
    fn small(&self) -> bool {
        matches!(self.mode, TranscriptSize::Small)
    }

    /// The transcript of agent `agent` (0: the main agent) of a session,
    /// written to `path`, or only timed when `path` is `None`.
    fn open_tx<'a>(&'a self, s: &'a Session, agent: usize, path: Option<&Path>) -> Result<Tx<'a>> {
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
        let run_subagents = |tx: &mut Tx,
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
    fn run_subagents(
        &self,
        s: &Session,
        project_dir: &Path,
        tx: &mut Tx,
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
    fn run_tasks(
        &self,
        s: &Session,
        tx: &mut Tx,
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
            |tx: &mut Tx, clock: &mut i64, i: usize, from: &str, to: &str| -> Result<()> {
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

/// About how many bytes a session's transcripts take without filler tool calls
/// (calibrated against the writer; used only to share out a realistic target).
fn estimate_base(s: &Session) -> u64 {
    if !s.transcript {
        return 0;
    }
    let cwd_len = 30u64;
    let head = 260 + cwd_len;
    let list_bytes = |agent: &AgentPlan, list: &ListPlan| -> u64 {
        let per_item: u64 = list
            .items
            .iter()
            .map(|i| {
                let extra = match agent.shape {
                    Shape::New => i.active.len() as u64 + 16,
                    Shape::Old => 30,
                    Shape::NoPriority => 10,
                    Shape::Bare => 0,
                };
                i.content.len() as u64 + extra + 40
            })
            .sum();
        let writes = list.states.len() as u64;
        // tool_use line + result line (old and new list) + sometimes a hook line.
        writes * (2 * head + 700 + 3 * per_item + 140)
    };
    let mut total = 4 * head + 1400;
    total += (s.prompts.len() as u64 - 1) * (2 * head + 300);
    for (ai, agent) in s.agents.iter().enumerate() {
        total += agent
            .lists
            .iter()
            .map(|l| list_bytes(agent, l))
            .sum::<u64>();
        if ai > 0 {
            // The Task call and its result in the main transcript.
            total += 2 * head + 1100;
            if agent.transcript {
                total += 2 * (head + 10) + 700;
            }
        }
    }
    for t in &s.tasks {
        let text = (t.text.content.len() + t.text.active_form.len() + t.description.len()) as u64;
        total += 2 * head + 900 + text + t.text.content.len() as u64 * 2;
        total += match t.end {
            TaskEnd::Completed => 2,
            TaskEnd::InProgress | TaskEnd::Deleted => 1,
            TaskEnd::Pending => 0,
        } * (2 * head + 700);
    }
    total
}

/// The time of a task call: now; task updates come in quick succession, so
/// the clock moves on a fixed 2.35 s.
fn task_call_time(clock: &mut i64) -> i64 {
    let t = *clock;
    *clock += 2_350;
    t
}

fn pick_text(rng: &mut Rng, proj: &Project, shared_p: f64) -> TodoText {
    if rng.random_bool(shared_p) {
        let t = rng.pick(&proj.shared).clone();
        if rng.random_bool(0.2) {
            TodoText {
                content: words::variant(rng, &t.content),
                active_form: t.active_form,
            }
        } else {
            t
        }
    } else {
        words::todo_text(rng, true)
    }
}

fn plan_list(rng: &mut Rng, proj: &Project, shared_p: f64, finished: bool) -> ListPlan {
    let n: usize = rng.random_range(3..=9);
    let mut items: Vec<Item> = Vec::with_capacity(n);
    let priorities = ["high", "medium", "low"];
    while items.len() < n {
        let text = pick_text(rng, proj, shared_p);
        if items
            .iter()
            .any(|i| i.content.eq_ignore_ascii_case(&text.content))
        {
            continue;
        }
        items.push(Item {
            content: text.content,
            active: text.active_form,
            id: (items.len() + 1).to_string(),
            priority: priorities[(items.len() * 3 / n).min(2)],
        });
    }
    let mut states = Vec::new();
    if rng.random_bool(0.3) {
        states.push(vec![St::Pending; n]);
    }
    let stop = if finished { n } else { rng.random_range(0..n) };
    let state = |k: usize| -> Vec<St> {
        (0..n)
            .map(|j| match j.cmp(&k) {
                std::cmp::Ordering::Less => St::Completed,
                std::cmp::Ordering::Equal => St::InProgress,
                std::cmp::Ordering::Greater => St::Pending,
            })
            .collect()
    };
    let mut k = 0;
    loop {
        states.push(state(k));
        if k >= stop {
            break;
        }
        k = (k + if rng.random_bool(0.15) { 2 } else { 1 }).min(stop);
    }
    if !finished && rng.random_bool(0.25) {
        // Paused between items: the next one not started yet.
        let last = states.last_mut().expect("at least one write");
        last[stop] = St::Pending;
        if states.len() >= 2 && states[states.len() - 2] == states[states.len() - 1] {
            states.pop();
        }
    }
    ListPlan { items, states }
}

fn plan_tasks(rng: &mut Rng, proj: &Project) -> Vec<TaskPlan> {
    let n: u32 = rng.random_range(3..=7);
    let first = if rng.random_bool(0.85) {
        1
    } else {
        rng.random_range(2..=12)
    };
    let finished = rng.random_bool(0.4);
    let deleted = n >= 3 && rng.random_bool(0.25);
    let live = if deleted { n - 1 } else { n } as usize;
    let done = if finished {
        live
    } else {
        rng.random_range(0..live)
    };
    let started = !finished && rng.random_bool(0.7);
    let mut out = Vec::new();
    let mut seen: Vec<String> = Vec::new();
    while out.len() < n as usize {
        let text = pick_text(rng, proj, 0.45);
        if seen.iter().any(|c| c.eq_ignore_ascii_case(&text.content)) {
            continue;
        }
        seen.push(text.content.clone());
        let i = out.len();
        let end = if deleted && i + 1 == n as usize {
            TaskEnd::Deleted
        } else if i < done {
            TaskEnd::Completed
        } else if i == done && started {
            TaskEnd::InProgress
        } else {
            TaskEnd::Pending
        };
        let description = format!(
            "{}. Keep the change small and covered by a test; touch {} only if needed.",
            text.content,
            rng.pick(words::MODULES)
        );
        out.push(TaskPlan {
            id: first + i as u32,
            text,
            description,
            end,
        });
    }
    out
}

/// How filler tool calls are spread over a transcript.
struct Fill {
    realistic: bool,
    small: bool,
    /// Filler bytes to write in this transcript.
    budget: u64,
    spent: u64,
    gaps_left: usize,
}

impl Fill {
    fn new(mode: TranscriptSize, budget: u64, gaps: usize) -> Fill {
        Fill {
            realistic: matches!(mode, TranscriptSize::Realistic { .. }),
            small: matches!(mode, TranscriptSize::Small),
            budget,
            spent: 0,
            gaps_left: gaps.max(1),
        }
    }

    /// The work between two plan writes: reads, commands, edits.
    fn gap(&mut self, tx: &mut Tx, rng: &mut Rng, clock: &mut i64) -> Result<()> {
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

#[derive(Clone, Copy)]
struct Ctx<'a> {
    session: &'a str,
    cwd: &'a str,
    version: &'a str,
    branch: &'a str,
    agent_id: Option<&'a str>,
    model: &'static str,
    era: Era,
}

/// A todo as a `TodoWrite` call or a todo file holds it; the fields a shape
/// leaves out are `None` (and absent from the JSON).
#[derive(Serialize)]
struct TodoJson<'a> {
    content: &'a str,
    status: &'static str,
    #[serde(rename = "activeForm", skip_serializing_if = "Option::is_none")]
    active_form: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    priority: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<&'a str>,
}

/// A list's todos in one state, in the fields of `shape`.
fn todos_json<'a>(shape: Shape, list: &'a ListPlan, state: &[St]) -> Vec<TodoJson<'a>> {
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
struct TodoWriteInput<'a, T> {
    todos: &'a [T],
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TodoWriteResult<'a> {
    old_todos: &'a [TodoJson<'a>],
    new_todos: &'a [TodoJson<'a>],
}

#[derive(Serialize)]
struct TaskInput<'a> {
    description: &'a str,
    prompt: &'a str,
    subagent_type: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskCreateInput<'a> {
    subject: &'a str,
    description: &'a str,
    active_form: &'a str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskUpdateInput<'a> {
    task_id: &'a str,
    status: &'a str,
}

#[derive(Serialize)]
struct ReadInput<'a> {
    file_path: &'a str,
}

#[derive(Serialize)]
struct BashInput<'a> {
    command: &'a str,
    description: &'a str,
}

/// A `tasks/<list>/<N>.json` file.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TaskFile<'a> {
    id: String,
    subject: &'a str,
    description: &'a str,
    active_form: &'a str,
    status: &'a str,
    blocks: [u32; 0],
    blocked_by: [u32; 0],
}

/// One transcript being written (or, when disabled, only timed).
struct Tx<'a> {
    out: Option<(BufWriter<File>, PathBuf)>,
    bytes: u64,
    /// The line being assembled.
    buf: Vec<u8>,
    ctx: Ctx<'a>,
    parent: Option<String>,
    /// Draws the ids of the lines (uuids, message and tool ids, token counts).
    rng: Rng,
    pool: &'a Pool,
}

impl<'a> Tx<'a> {
    fn open(path: Option<&Path>, ctx: Ctx<'a>, pool: &'a Pool, rng: Rng) -> Result<Tx<'a>> {
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

    fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Flushes, sets the mtime and counts the file in `stats` (if one was written).
    fn close(self, mtime: i64, stats: &mut CorpusStats) -> Result<()> {
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

    fn flush_line(&mut self) -> Result<()> {
        self.buf.push(b'\n');
        if let Some((w, path)) = &mut self.out {
            w.write_all(&self.buf)
                .with_context(|| format!("writing {}", path.display()))?;
        }
        self.bytes += self.buf.len() as u64;
        Ok(())
    }

    fn uuid(&mut self) -> String {
        self.rng.uuid()
    }

    /// `{"parentUuid":…,"isSidechain":…,…,"gitBranch":…[,"agentId":…]`
    fn head(&mut self) {
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
    fn tail(&mut self, uuid: String, t: i64) {
        let b = &mut self.buf;
        b.push(b',');
        kv_into(b, "uuid", &uuid);
        b.push(b',');
        kv_into(b, "timestamp", &Timestamp(t));
        self.parent = Some(uuid);
    }

    fn summary(&mut self, rng: &mut Rng, text: &str) -> Result<()> {
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

    fn queue_op(&mut self, t: i64, op: &str, content: Option<&str>) -> Result<()> {
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
    fn user_prompt(&mut self, t: i64, text: &str) -> Result<()> {
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
    fn user_message(&mut self, t: i64, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        self.user_line(t, uuid, text)
    }

    fn user_line(&mut self, t: i64, uuid: String, text: &str) -> Result<()> {
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
    fn assistant_open(&mut self) {
        self.head();
        let msg_id = self.rng.base62_id("msg_01", 22);
        let b = &mut self.buf;
        b.extend_from_slice(b",\"message\":{");
        kv_into(b, "model", self.ctx.model);
        b.push(b',');
        kv_into(b, "id", &msg_id);
        b.extend_from_slice(b",\"type\":\"message\",\"role\":\"assistant\",\"content\":[");
    }

    fn assistant_close(&mut self, t: i64) -> Result<()> {
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

    fn assistant_text(&mut self, t: i64, text: &str) -> Result<()> {
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
    fn tool_use(&mut self, t: i64, name: &str, input: &[u8]) -> Result<String> {
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
    fn tool_result(
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

    fn hook_progress(&mut self, t: i64, tool_id: &str, tool_name: &str) -> Result<()> {
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
    fn todo_write(
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

    fn task_tool_use(
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

    fn task_result(
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

    fn task_create(&mut self, rng: &mut Rng, clock: &mut i64, task: &TaskPlan) -> Result<()> {
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

    fn task_update(&mut self, t: i64, task_id: u32, from: &str, to: &str) -> Result<()> {
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
    fn filler(&mut self, rng: &mut Rng, clock: &mut i64, size: usize) -> Result<()> {
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

    fn bash_progress(&mut self, t: i64, tool_id: &str, start: usize) -> Result<()> {
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

/// The todo file of an agent, as `JSON.stringify(todos, null, 2)` writes it,
/// and the number of todos in it. A finished list is written as `[]`.
fn todo_file_text(agent: &AgentPlan) -> (String, usize) {
    let Some(list) = agent.lists.last().filter(|l| !l.finished()) else {
        return ("[]".to_string(), 0);
    };
    let state = list.states.last().expect("a list has writes");
    (
        json::to_pretty(&todos_json(agent.shape, list, state)),
        list.items.len(),
    )
}

fn task_file_text(task: &TaskPlan, status: &str) -> String {
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

/// What a transcript's last complete line says about its session.
struct TailContext {
    session: String,
    cwd: String,
    version: String,
    branch: String,
    agent_id: Option<String>,
    parent: Option<String>,
    timestamp: i64,
    ends_with_newline: bool,
}

fn tail_context(path: &Path) -> Result<TailContext> {
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

    fn item(content: &str, active: &str, id: &str, priority: &'static str) -> Item {
        Item {
            content: content.into(),
            active: active.into(),
            id: id.into(),
            priority,
        }
    }

    fn agent(shape: Shape, states: Vec<Vec<St>>) -> AgentPlan {
        AgentPlan {
            id: "a1".into(),
            shape,
            lists: vec![ListPlan {
                items: vec![
                    item("Fix \"the\" login\thandler →", "Fixing it", "1", "high"),
                    item("Add tests", "Adding tests", "2", "low"),
                ],
                states,
            }],
            transcript: false,
            description: String::new(),
        }
    }

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
