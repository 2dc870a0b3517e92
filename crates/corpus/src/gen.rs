//! Planning and writing the sessions of a synthetic Claude Code home.
//!
//! Every session is planned from its own random stream (seed, index), so the
//! corpus is the same whatever the number of threads, and sessions are written
//! in parallel.

use crate::json::{escape_into, iso_millis_into, kv_pretty, kv_str, str_into};
use crate::payload::Pool;
use crate::rng::Rng;
use crate::words::{self, TodoText};
use crate::{CorpusSpec, CorpusStats, TranscriptSize};
use anyhow::{Context, Result};
use std::fmt::Write as _;
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
            let mut rng = Rng::stream(spec.seed, DOMAIN_PROJECT, p as u64);
            let (_, cwd) = words::project(p);
            let folder = words::folder_of_cwd(&cwd);
            let main_branch = match rng.below(10) {
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
        let x = rng.f64() * total;
        self.cumulative
            .partition_point(|&c| c <= x)
            .min(self.projects.len() - 1)
    }

    /// Plans session `index`.
    pub(crate) fn plan(&self, index: usize) -> Session {
        let mut rng = Rng::stream(self.seed, DOMAIN_SESSION, index as u64);
        let id = rng.uuid();
        let project = self.pick_project(&mut rng);
        let f = rng.f64();
        let start = WINDOW_START_MS + (f * (WINDOW_END_MS - WINDOW_START_MS) as f64) as i64;
        let (era, version) = if f < 0.2 {
            (Era::V1, format!("1.0.{}", 40 + (f / 0.2 * 88.0) as u32))
        } else if f < 0.8 {
            (Era::V20, format!("2.0.{}", ((f - 0.2) / 0.6 * 76.0) as u32))
        } else {
            (Era::V21, format!("2.1.{}", ((f - 0.8) / 0.2 * 40.0) as u32))
        };
        let model = match (era, rng.below(10)) {
            (Era::V1, 0..=6) => "claude-sonnet-4-20250514",
            (Era::V1, _) => "claude-opus-4-20250514",
            (_, 0..=5) => "claude-sonnet-4-5-20250929",
            (_, 6 | 7) => "claude-opus-4-1-20250805",
            _ => "claude-haiku-4-5-20251001",
        };
        let proj = &self.projects[project];
        let branch = if proj.main_branch.is_empty() || rng.chance(0.6) {
            proj.main_branch.to_string()
        } else {
            rng.pick(words::BRANCHES).to_string()
        };
        let transcript = match self.mode {
            TranscriptSize::None => false,
            _ => match era {
                // Old transcripts were cleaned up (cleanupPeriodDays); their todo files stay.
                Era::V1 => rng.chance(0.5),
                _ => rng.chance(0.97),
            },
        };
        let uses_tasks = era == Era::V21 && rng.chance(0.15);
        let main_shape = match era {
            Era::V1 => match rng.below(10) {
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
        } else if rng.chance(0.75) {
            let n_lists = if rng.chance(0.2) { 2 } else { 1 };
            for l in 0..n_lists {
                let last = l + 1 == n_lists;
                let finished = if last {
                    rng.chance(0.34)
                } else {
                    rng.chance(0.85)
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
            match rng.below(100) {
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
            if rng.chance(0.75) {
                let finished = rng.chance(0.34);
                lists.push(plan_list(&mut rng, proj, 0.25, finished));
            }
            let description = format!(
                "{} {}",
                ["Explore", "Review", "Investigate", "Audit", "Map"][rng.index(5)],
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
        let summary = transcript && rng.chance(0.1);
        // Heavy-tailed transcript sizes.
        let weight = if transcript {
            let mut wr = Rng::stream(self.seed, DOMAIN_BUDGET, index as u64);
            (1.3 * wr.normal()).exp()
        } else {
            0.0
        };
        Session {
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

    /// Writes one session's files.
    pub(crate) fn emit(&self, dir: &Path, s: &Session) -> Result<CorpusStats> {
        let mut stats = CorpusStats::default();
        let proj = &self.projects[s.project];
        let mut rng = Rng::stream(self.seed, DOMAIN_TX, splitmix_str(&s.id));
        let mut clock = s.start;
        let realistic = matches!(self.mode, TranscriptSize::Realistic { .. });
        let small = matches!(self.mode, TranscriptSize::Small);

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
        let ctx = Ctx {
            session: &s.id,
            cwd: &proj.cwd,
            version: &s.version,
            branch: &s.branch,
            agent_id: None,
            model: s.model,
            era: s.era,
        };
        let mut tx = Tx::open(s.transcript.then_some(main_path.as_path()), ctx, &self.pool)?;
        let main = &s.agents[0];
        let gaps = 1
            + main
                .lists
                .iter()
                .map(|l| l.written(small).len())
                .sum::<usize>()
            + s.tasks.len() * 3;
        let mut fill = Fill::new(realistic, small, main_budget, gaps);

        if s.summary {
            let text = *rng.pick(words::SUMMARIES);
            tx.summary(&mut rng, text)?;
        }
        if s.era == Era::V21 {
            tx.queue_op(clock, "dequeue", None)?;
            clock += rng.range(5, 80) as i64;
        }
        tx.user_prompt(clock, s.prompts[0])?;
        clock += rng.range(1500, 9000) as i64;
        let text = rng.pick::<&str>(words::ASSISTANT_TEXTS);
        tx.assistant_text(clock, text)?;
        clock += rng.range(200, 2000) as i64;
        fill.gap(&mut tx, &mut rng, &mut clock)?;

        // When the main agent has no list, its todo file is written at the start.
        let mut agent_last_write: Vec<i64> = vec![s.start + 40; s.agents.len()];
        let mut subagents_launched = false;
        let mut prompt_i = 1;
        for (li, list) in main.lists.iter().enumerate() {
            if li > 0 {
                clock += rng.range(20_000, 600_000) as i64;
                tx.user_prompt(clock, s.prompts[prompt_i.min(s.prompts.len() - 1)])?;
                prompt_i += 1;
                clock += rng.range(1500, 9000) as i64;
            }
            let mut prev: Option<&Vec<St>> = None;
            for (wi, state) in list.written(small).into_iter().enumerate() {
                let t = clock;
                tx.todo_write(&mut rng, &mut clock, main.shape, list, state, prev)?;
                agent_last_write[0] = t;
                prev = Some(state);
                if s.era >= Era::V20 && rng.chance(0.08) {
                    let text = if rng.chance(0.5) {
                        "please keep the TodoWrite list short, and mark items done as you go"
                    } else {
                        "also run the linter before you finish"
                    };
                    tx.queue_op(clock, "enqueue", Some(text))?;
                    clock += rng.range(2000, 30_000) as i64;
                    tx.queue_op(clock, "remove", None)?;
                    clock += rng.range(100, 900) as i64;
                }
                if wi == 0 && li == 0 && !subagents_launched {
                    subagents_launched = true;
                    self.run_subagents(
                        s,
                        &project_dir,
                        &mut tx,
                        &mut rng,
                        &mut clock,
                        &mut agent_last_write,
                        sub_budget,
                        &mut stats,
                    )?;
                }
                fill.gap(&mut tx, &mut rng, &mut clock)?;
            }
        }
        if !subagents_launched {
            self.run_subagents(
                s,
                &project_dir,
                &mut tx,
                &mut rng,
                &mut clock,
                &mut agent_last_write,
                sub_budget,
                &mut stats,
            )?;
        }
        let task_times = self.run_tasks(s, &mut tx, &mut rng, &mut clock, &mut fill)?;
        clock += rng.range(1000, 8000) as i64;
        tx.assistant_text(
            clock,
            "Done. Everything on the list is handled; see the summary above.",
        )?;
        let (bytes, written) = tx.close(clock)?;
        if written {
            stats.files += 1;
            stats.transcripts += 1;
            stats.bytes += bytes;
            stats.transcript_bytes += bytes;
        }

        // Todo files, one per agent (task sessions keep their plan in tasks/).
        for (ai, agent) in s.agents.iter().enumerate() {
            if ai == 0 && !s.tasks.is_empty() {
                continue;
            }
            let path = dir
                .join("todos")
                .join(format!("{}-agent-{}.json", s.id, agent.id));
            let (text, n) = todo_file_text(agent);
            write_file(&path, text.as_bytes(), agent_last_write[ai])?;
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
        let proj = &self.projects[s.project];
        let realistic = matches!(self.mode, TranscriptSize::Realistic { .. });
        let small = matches!(self.mode, TranscriptSize::Small);
        for (ai, agent) in s.agents.iter().enumerate().skip(1) {
            let prompt = format!(
                "{}. Report what you find, with file paths and line numbers.",
                agent.description
            );
            let subagent_type = ["general-purpose", "Explore", "Plan"][ai % 3];
            let task_id = tx.task_tool_use(*clock, &agent.description, &prompt, subagent_type)?;
            *clock += rng.range(300, 1500) as i64;
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
            let ctx = Ctx {
                session: &s.id,
                cwd: &proj.cwd,
                version: &s.version,
                branch: &s.branch,
                agent_id: Some(&agent.id),
                model: s.model,
                era: s.era,
            };
            let mut sub = Tx::open(path.as_deref(), ctx, &self.pool)?;
            let gaps = 1 + agent
                .lists
                .iter()
                .map(|l| l.written(small).len())
                .sum::<usize>();
            let mut fill = Fill::new(realistic, small, sub_budget, gaps);
            sub.user_message(*clock, &prompt)?;
            *clock += rng.range(1000, 5000) as i64;
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
            *clock += rng.range(1000, 6000) as i64;
            let report = format!(
                "Summary of findings for: {}. The relevant code is in {}; no blocking issues found.",
                agent.description,
                rng.pick(words::MODULES)
            );
            sub.assistant_text(*clock, &report)?;
            let (bytes, written) = sub.close(*clock)?;
            if written {
                stats.files += 1;
                stats.transcripts += 1;
                stats.bytes += bytes;
                stats.transcript_bytes += bytes;
            }
            *clock += rng.range(200, 1500) as i64;
            tx.task_result(*clock, &task_id, &prompt, &agent.id, &report)?;
            *clock += rng.range(500, 3000) as i64;
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

fn splitmix_str(s: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

fn pick_text(rng: &mut Rng, proj: &Project, shared_p: f64) -> TodoText {
    if rng.chance(shared_p) {
        let t = rng.pick(&proj.shared).clone();
        if rng.chance(0.2) {
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
    let n = rng.range(3, 9) as usize;
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
    if rng.chance(0.3) {
        states.push(vec![St::Pending; n]);
    }
    let stop = if finished { n } else { rng.index(n) };
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
        k = (k + if rng.chance(0.15) { 2 } else { 1 }).min(stop);
    }
    if !finished && rng.chance(0.25) {
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
    let n = rng.range(3, 7) as u32;
    let first = if rng.chance(0.85) {
        1
    } else {
        rng.range(2, 12) as u32
    };
    let finished = rng.chance(0.4);
    let deleted = n >= 3 && rng.chance(0.25);
    let live = if deleted { n - 1 } else { n } as usize;
    let done = if finished { live } else { rng.index(live) };
    let started = !finished && rng.chance(0.7);
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
    fn new(realistic: bool, small: bool, budget: u64, gaps: usize) -> Fill {
        Fill {
            realistic,
            small,
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
            if rng.chance(0.25) {
                let size = rng.range(200, 1200) as usize;
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
            (even as f64 * (0.4 + 1.2 * rng.f64())) as u64
        };
        self.gaps_left = self.gaps_left.saturating_sub(1).max(1);
        let goal = self.spent + share;
        while self.spent < goal {
            let left = (goal - self.spent) as usize;
            let sampled = (8.6 + 1.0 * rng.normal()).exp().clamp(200.0, 400_000.0) as usize;
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

/// One transcript being written (or, when disabled, only timed).
struct Tx<'a> {
    out: Option<(BufWriter<File>, PathBuf)>,
    bytes: u64,
    buf: String,
    ctx: Ctx<'a>,
    parent: Option<String>,
    rng: Rng,
    pool: &'a Pool,
}

impl<'a> Tx<'a> {
    fn open(path: Option<&Path>, ctx: Ctx<'a>, pool: &'a Pool) -> Result<Tx<'a>> {
        let out = match path {
            Some(p) => {
                let f = File::create(p).with_context(|| format!("creating {}", p.display()))?;
                Some((BufWriter::with_capacity(256 * 1024, f), p.to_path_buf()))
            }
            None => None,
        };
        let seed = splitmix_str(ctx.session) ^ ctx.agent_id.map_or(0, splitmix_str);
        Ok(Tx {
            out,
            bytes: 0,
            buf: String::with_capacity(64 * 1024),
            ctx,
            parent: None,
            rng: Rng::new(seed),
            pool,
        })
    }

    fn enabled(&self) -> bool {
        self.out.is_some()
    }

    /// Flushes, sets the mtime; returns (bytes, whether a file was written).
    fn close(self, mtime: i64) -> Result<(u64, bool)> {
        match self.out {
            Some((w, path)) => {
                let f = w
                    .into_inner()
                    .map_err(|e| e.into_error())
                    .with_context(|| format!("writing {}", path.display()))?;
                set_mtime(&f, mtime)
                    .with_context(|| format!("setting mtime of {}", path.display()))?;
                Ok((self.bytes, true))
            }
            None => Ok((0, false)),
        }
    }

    fn flush_line(&mut self) -> Result<()> {
        self.buf.push('\n');
        if let Some((w, path)) = &mut self.out {
            w.write_all(self.buf.as_bytes())
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
        b.push_str("{\"parentUuid\":");
        match &self.parent {
            Some(p) => str_into(b, p),
            None => b.push_str("null"),
        }
        b.push_str(",\"isSidechain\":");
        b.push_str(if self.ctx.agent_id.is_some() {
            "true"
        } else {
            "false"
        });
        b.push_str(",\"userType\":\"external\",");
        kv_str(b, "cwd", self.ctx.cwd);
        b.push(',');
        kv_str(b, "sessionId", self.ctx.session);
        b.push(',');
        kv_str(b, "version", self.ctx.version);
        b.push(',');
        kv_str(b, "gitBranch", self.ctx.branch);
        if let Some(a) = self.ctx.agent_id {
            b.push(',');
            kv_str(b, "agentId", a);
        }
    }

    /// `,"uuid":…,"timestamp":…` and remembers the uuid as the next parent.
    fn tail(&mut self, uuid: String, t: i64) {
        let b = &mut self.buf;
        b.push(',');
        kv_str(b, "uuid", &uuid);
        b.push_str(",\"timestamp\":\"");
        iso_millis_into(b, t);
        b.push('"');
        self.parent = Some(uuid);
    }

    fn summary(&mut self, rng: &mut Rng, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let leaf = rng.uuid();
        self.buf.clear();
        self.buf.push_str("{\"type\":\"summary\",");
        kv_str(&mut self.buf, "summary", text);
        self.buf.push(',');
        kv_str(&mut self.buf, "leafUuid", &leaf);
        self.buf.push('}');
        self.flush_line()
    }

    fn queue_op(&mut self, t: i64, op: &str, content: Option<&str>) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let b = &mut self.buf;
        b.clear();
        b.push_str("{\"type\":\"queue-operation\",");
        kv_str(b, "operation", op);
        b.push_str(",\"timestamp\":\"");
        iso_millis_into(b, t);
        b.push_str("\",");
        kv_str(b, "sessionId", self.ctx.session);
        if let Some(c) = content {
            b.push(',');
            kv_str(b, "content", c);
        }
        b.push('}');
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
            b.push_str("{\"type\":\"file-history-snapshot\",");
            kv_str(b, "messageId", &uuid);
            b.push_str(",\"snapshot\":{");
            kv_str(b, "messageId", &uuid);
            b.push_str(",\"trackedFileBackups\":{},\"timestamp\":\"");
            iso_millis_into(b, t);
            b.push_str("\"},\"isSnapshotUpdate\":false}");
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
        self.buf
            .push_str(",\"type\":\"user\",\"message\":{\"role\":\"user\",");
        kv_str(&mut self.buf, "content", text);
        self.buf.push('}');
        self.tail(uuid, t);
        self.buf.push('}');
        self.flush_line()
    }

    /// Starts an assistant line; the caller appends the content blocks.
    fn assistant_open(&mut self) {
        self.head();
        let msg_id = self.rng.base62_id("msg_01", 22);
        let b = &mut self.buf;
        b.push_str(",\"message\":{");
        kv_str(b, "model", self.ctx.model);
        b.push(',');
        kv_str(b, "id", &msg_id);
        b.push_str(",\"type\":\"message\",\"role\":\"assistant\",\"content\":[");
    }

    fn assistant_close(&mut self, t: i64) -> Result<()> {
        let input = self.rng.range(3, 12);
        let created = self.rng.range(0, 4000);
        let read = self.rng.range(8000, 90_000);
        let output = self.rng.range(20, 900);
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
        kv_str(b, "requestId", &req);
        b.push_str(",\"type\":\"assistant\"");
        self.tail(uuid, t);
        self.buf.push('}');
        self.flush_line()
    }

    fn assistant_text(&mut self, t: i64, text: &str) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        self.assistant_open();
        self.buf.push_str("{\"type\":\"text\",");
        kv_str(&mut self.buf, "text", text);
        self.buf.push('}');
        self.assistant_close(t)
    }

    /// An assistant line with one `tool_use`; `input` is raw JSON. Returns its id.
    fn tool_use(&mut self, t: i64, name: &str, input: &str) -> Result<String> {
        let id = self.rng.base62_id("toolu_01", 22);
        if !self.enabled() {
            return Ok(id);
        }
        self.assistant_open();
        self.buf.push_str("{\"type\":\"tool_use\",");
        kv_str(&mut self.buf, "id", &id);
        self.buf.push(',');
        kv_str(&mut self.buf, "name", name);
        self.buf.push_str(",\"input\":");
        self.buf.push_str(input);
        self.buf.push('}');
        self.assistant_close(t)?;
        Ok(id)
    }

    /// A user line carrying a tool result. `content` is raw JSON (a string or an
    /// array); `tool_use_result` is raw JSON too.
    fn tool_result(
        &mut self,
        t: i64,
        tool_id: &str,
        content: &str,
        tool_use_result: &str,
    ) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        self.head();
        let b = &mut self.buf;
        b.push_str(",\"type\":\"user\",\"message\":{\"role\":\"user\",\"content\":[{");
        kv_str(b, "tool_use_id", tool_id);
        b.push_str(",\"type\":\"tool_result\",\"content\":");
        b.push_str(content);
        b.push_str("}]}");
        self.tail(uuid, t);
        self.buf.push_str(",\"toolUseResult\":");
        self.buf.push_str(tool_use_result);
        self.buf.push('}');
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
        kv_str(b, "parentToolUseID", tool_id);
        b.push(',');
        kv_str(b, "toolUseID", tool_id);
        self.tail(uuid, t);
        self.buf.push('}');
        self.flush_line()
    }

    fn todos_json(out: &mut String, shape: Shape, list: &ListPlan, state: &[St]) {
        out.push('[');
        for (i, (item, st)) in list.items.iter().zip(state).enumerate() {
            if i > 0 {
                out.push(',');
            }
            out.push('{');
            kv_str(out, "content", &item.content);
            out.push(',');
            kv_str(out, "status", st.as_str());
            match shape {
                Shape::New => {
                    out.push(',');
                    kv_str(out, "activeForm", &item.active);
                }
                Shape::Old => {
                    out.push(',');
                    kv_str(out, "priority", item.priority);
                    out.push(',');
                    kv_str(out, "id", &item.id);
                }
                Shape::NoPriority => {
                    out.push(',');
                    kv_str(out, "id", &item.id);
                }
                Shape::Bare => {}
            }
            out.push('}');
        }
        out.push(']');
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
        let mut new = String::new();
        if self.enabled() {
            Self::todos_json(&mut new, shape, list, state);
        }
        let input = format!("{{\"todos\":{new}}}");
        let id = self.tool_use(*clock, "TodoWrite", &input)?;
        *clock += rng.range(30, 400) as i64;
        if self.enabled() {
            let mut old = String::new();
            match prev {
                Some(p) => Self::todos_json(&mut old, shape, list, p),
                None => old.push_str("[]"),
            }
            let tur = format!("{{\"oldTodos\":{old},\"newTodos\":{new}}}");
            self.tool_result(
                *clock,
                &id,
                "\"Todos have been modified successfully. Ensure that you continue to use the todo list to track your progress. Please proceed with the current tasks if applicable\"",
                &tur,
            )?;
            if self.ctx.era >= Era::V20 && rng.chance(0.3) {
                *clock += rng.range(5, 60) as i64;
                self.hook_progress(*clock, &id, "TodoWrite")?;
            }
        }
        *clock += rng.range(800, 6000) as i64;
        Ok(())
    }

    fn task_tool_use(
        &mut self,
        t: i64,
        description: &str,
        prompt: &str,
        kind: &str,
    ) -> Result<String> {
        let mut input = String::from("{");
        kv_str(&mut input, "description", description);
        input.push(',');
        kv_str(&mut input, "prompt", prompt);
        input.push(',');
        kv_str(&mut input, "subagent_type", kind);
        input.push('}');
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
        let mut text = String::from("[{\"type\":\"text\",");
        kv_str(&mut text, "text", report);
        text.push_str("}]");
        let mut tur = String::from("{");
        if self.ctx.era >= Era::V20 {
            tur.push_str("\"status\":\"completed\",");
            kv_str(&mut tur, "prompt", prompt);
            tur.push(',');
            kv_str(&mut tur, "agentId", agent_id);
            tur.push(',');
        }
        let dur = self.rng.range(8_000, 240_000);
        let tokens = self.rng.range(5_000, 80_000);
        let uses = self.rng.range(2, 40);
        let _ = write!(
            tur,
            "\"content\":{text},\"totalDurationMs\":{dur},\"totalTokens\":{tokens},\"totalToolUseCount\":{uses}}}"
        );
        self.tool_result(t, tool_id, &text, &tur)
    }

    fn task_create(&mut self, rng: &mut Rng, clock: &mut i64, task: &TaskPlan) -> Result<()> {
        let mut input = String::from("{");
        kv_str(&mut input, "subject", &task.text.content);
        input.push(',');
        kv_str(&mut input, "description", &task.description);
        input.push(',');
        kv_str(&mut input, "activeForm", &task.text.active_form);
        input.push('}');
        let id = self.tool_use(*clock, "TaskCreate", &input)?;
        *clock += rng.range(30, 300) as i64;
        if self.enabled() {
            let mut content = String::new();
            str_into(
                &mut content,
                &format!(
                    "Task #{} created successfully: {}",
                    task.id, task.text.content
                ),
            );
            let mut tur = format!("{{\"task\":{{\"id\":\"{}\",", task.id);
            kv_str(&mut tur, "subject", &task.text.content);
            tur.push_str("}}");
            self.tool_result(*clock, &id, &content, &tur)?;
        }
        *clock += rng.range(500, 3000) as i64;
        Ok(())
    }

    fn task_update(&mut self, t: i64, task_id: u32, from: &str, to: &str) -> Result<()> {
        let input = format!("{{\"taskId\":\"{task_id}\",\"status\":\"{to}\"}}");
        let id = self.tool_use(t, "TaskUpdate", &input)?;
        let content = format!("\"Updated task #{task_id} status\"");
        let tur = format!(
            "{{\"success\":true,\"taskId\":\"{task_id}\",\"updatedFields\":[\"status\"],\"statusChange\":{{\"from\":\"{from}\",\"to\":\"{to}\"}}}}"
        );
        self.tool_result(t + 180, &id, &content, &tur)
    }

    /// One Read, Bash or Edit call with a result of about `size` bytes.
    fn filler(&mut self, rng: &mut Rng, clock: &mut i64, size: usize) -> Result<()> {
        let pool = self.pool;
        let start = rng.index(pool.len());
        let file = rng.pick(words::SOURCE_FILES);
        let path = format!("{}/{}", self.ctx.cwd, file);
        let mut content = String::with_capacity(size + 64);
        let mut tur = String::with_capacity(size + 256);
        let kind = rng.below(10);
        let id = match kind {
            0..=4 => {
                // Read: the numbered text in the message, the raw text in toolUseResult.
                let n = pool.lines_for(size / 2);
                let mut input = String::from("{");
                kv_str(&mut input, "file_path", &path);
                input.push('}');
                let id = self.tool_use(*clock, "Read", &input)?;
                content.push('"');
                pool.numbered_into(&mut content, start, n, 1);
                content.push('"');
                tur.push_str("{\"type\":\"text\",\"file\":{");
                kv_str(&mut tur, "filePath", &path);
                tur.push_str(",\"content\":\"");
                pool.raw_into(&mut tur, start, n);
                let _ = write!(
                    tur,
                    "\",\"numLines\":{n},\"startLine\":1,\"totalLines\":{n}}}}}"
                );
                id
            }
            5..=7 => {
                let (cmd, desc) = *rng.pick(words::BASH_COMMANDS);
                let mut input = String::from("{");
                kv_str(&mut input, "command", cmd);
                input.push(',');
                kv_str(&mut input, "description", desc);
                input.push('}');
                let id = self.tool_use(*clock, "Bash", &input)?;
                let n = pool.lines_for(size / 2);
                let mut out = String::with_capacity(size / 2 + 64);
                pool.grep_into(&mut out, start, n, file);
                content.push('"');
                content.push_str(&out);
                content.push('"');
                tur.push_str("{\"stdout\":\"");
                tur.push_str(&out);
                tur.push_str("\",\"stderr\":\"\",\"interrupted\":false,\"isImage\":false}");
                if self.ctx.era >= Era::V20 && rng.chance(0.3) {
                    *clock += rng.range(500, 3000) as i64;
                    self.bash_progress(*clock, &id, start)?;
                }
                id
            }
            _ => {
                let n = pool.lines_for(size);
                let mut at = rng.index(n);
                for _ in 0..n {
                    if !pool.one(start + at).trim().is_empty() {
                        break;
                    }
                    at = (at + 1) % n;
                }
                let old_line = pool.one(start + at).to_string();
                let new_line = format!("{old_line} // updated");
                let mut input = String::from("{");
                kv_str(&mut input, "file_path", &path);
                // The pool is escaped already.
                let _ = write!(
                    input,
                    ",\"old_string\":\"{old_line}\",\"new_string\":\"{new_line}\"}}"
                );
                let id = self.tool_use(*clock, "Edit", &input)?;
                content.push('"');
                escape_into(
                    &mut content,
                    &format!(
                        "The file {path} has been updated. Here's the result of running `cat -n` on a snippet of the edited file:\n"
                    ),
                );
                let lo = at.saturating_sub(4);
                let hi = (at + 5).min(n);
                pool.numbered_into(&mut content, start + lo, hi - lo, lo + 1);
                content.push('"');
                tur.push('{');
                kv_str(&mut tur, "filePath", &path);
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
        *clock += rng.range(100, 4000) as i64;
        self.tool_result(*clock, &id, &content, &tur)?;
        *clock += rng.range(500, 8000) as i64;
        Ok(())
    }

    fn bash_progress(&mut self, t: i64, tool_id: &str, start: usize) -> Result<()> {
        if !self.enabled() {
            return Ok(());
        }
        let uuid = self.uuid();
        let line = self.pool.one(start).to_string();
        self.head();
        let b = &mut self.buf;
        let _ = write!(
            b,
            ",\"type\":\"progress\",\"data\":{{\"type\":\"bash_progress\",\"output\":\"{line}\",\"fullOutput\":\"{line}\",\"elapsedTimeSeconds\":3,\"totalLines\":1}},\"toolUseID\":\"bash-progress-0\","
        );
        kv_str(b, "parentToolUseID", tool_id);
        self.tail(uuid, t);
        self.buf.push('}');
        self.flush_line()
    }
}

/// The todo file of an agent, as `JSON.stringify(todos, null, 2)` writes it,
/// and the number of todos in it. A finished list is written as `[]`.
fn todo_file_text(agent: &AgentPlan) -> (String, usize) {
    let Some(list) = agent.lists.last() else {
        return ("[]".to_string(), 0);
    };
    if list.finished() {
        return ("[]".to_string(), 0);
    }
    let state = list.states.last().expect("a list has writes");
    let mut out = String::from("[");
    for (i, (item, st)) in list.items.iter().zip(state).enumerate() {
        out.push_str(if i == 0 { "\n  {\n" } else { ",\n  {\n" });
        out.push_str("    ");
        kv_pretty(&mut out, "content", &item.content);
        out.push_str(",\n    ");
        kv_pretty(&mut out, "status", st.as_str());
        match agent.shape {
            Shape::New => {
                out.push_str(",\n    ");
                kv_pretty(&mut out, "activeForm", &item.active);
            }
            Shape::Old => {
                out.push_str(",\n    ");
                kv_pretty(&mut out, "priority", item.priority);
                out.push_str(",\n    ");
                kv_pretty(&mut out, "id", &item.id);
            }
            Shape::NoPriority => {
                out.push_str(",\n    ");
                kv_pretty(&mut out, "id", &item.id);
            }
            Shape::Bare => {}
        }
        out.push_str("\n  }");
    }
    out.push_str("\n]");
    (out, list.items.len())
}

fn task_file_text(task: &TaskPlan, status: &str) -> String {
    let mut out = String::from("{\n  ");
    kv_pretty(&mut out, "id", &task.id.to_string());
    out.push_str(",\n  ");
    kv_pretty(&mut out, "subject", &task.text.content);
    out.push_str(",\n  ");
    kv_pretty(&mut out, "description", &task.description);
    out.push_str(",\n  ");
    kv_pretty(&mut out, "activeForm", &task.text.active_form);
    out.push_str(",\n  ");
    kv_pretty(&mut out, "status", status);
    out.push_str(",\n  \"blocks\": [],\n  \"blockedBy\": []\n}");
    out
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
            let Some(timestamp) = crate::json::parse_iso_millis(&ts) else {
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
    let mut tx = Tx {
        out: Some((BufWriter::new(f), path.to_path_buf())),
        bytes: 0,
        buf: String::new(),
        ctx,
        parent: ctx_info.parent.clone(),
        rng: Rng::new(splitmix_str(&ctx_info.session) ^ t as u64),
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
            let mut input = String::from("{\"todos\":[");
            for (i, todo) in todos.iter().enumerate() {
                if i > 0 {
                    input.push(',');
                }
                input.push('{');
                kv_str(&mut input, "content", &todo.content);
                input.push(',');
                kv_str(&mut input, "status", &todo.status);
                input.push(',');
                kv_str(&mut input, "activeForm", &todo.active_form);
                input.push('}');
            }
            input.push_str("]}");
            tx.tool_use(t, "TodoWrite", &input)?;
        }
        crate::AppendKind::Text(text) => tx.assistant_text(t, text)?,
    }
    let line = tx.buf.clone();
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
        timestamp: crate::json::iso_millis(t),
        line: line.trim_end().to_string(),
        bytes,
    })
}
