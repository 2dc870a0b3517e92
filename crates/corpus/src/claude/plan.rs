//! Planning the sessions of a synthetic Claude Code home: the projects, and
//! for each session its era, model, lists (every write of each), sub-agents,
//! tasks and share of the transcript bytes. Nothing is written here.
//!
//! Every session is planned from its own random stream (seed, index), so the
//! corpus is the same whatever the number of threads.

use crate::payload::Pool;
use crate::rng::{self, Rng, RngExt};
use crate::words::{self, TodoText};
use crate::{CorpusSpec, TranscriptSize};
use rand::Rng as _;
use rand_distr::{Distribution, LogNormal};

/// 2026-07-01T00:00:00Z: the first session starts after this.
pub const WINDOW_START_MS: i64 = 1_782_864_000_000;
/// 2026-11-20T00:00:00Z: the last session starts before this.
pub const WINDOW_END_MS: i64 = 1_795_132_800_000;

pub(crate) const DOMAIN_SESSION: u64 = 1;
pub(crate) const DOMAIN_PROJECT: u64 = 2;
pub(crate) const DOMAIN_TX: u64 = 3;
pub(crate) const DOMAIN_BUDGET: u64 = 4;
/// The ids drawn in a transcript: stream `session index × MAX_AGENTS + agent`.
pub(crate) const DOMAIN_TX_IDS: u64 = 5;

/// The main agent and at most three sub-agents.
pub(crate) const MAX_AGENTS: u64 = 4;

/// Which Claude Code generation wrote a session.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Era {
    /// 1.0.x: old todo shape (`id`, `priority`), no 2.x line kinds.
    V1,
    /// 2.0.x: `activeForm`, file-history snapshots, hook progress lines.
    V20,
    /// 2.1.x: also queue operations; some sessions use tasks.
    V21,
}

/// The fields of the todos of one agent's lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
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
pub(crate) enum St {
    Pending,
    InProgress,
    Completed,
}

impl St {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            St::Pending => "pending",
            St::InProgress => "in_progress",
            St::Completed => "completed",
        }
    }
}

#[derive(Debug, Clone)]
pub(crate) struct Item {
    pub(crate) content: String,
    pub(crate) active: String,
    pub(crate) id: String,
    pub(crate) priority: &'static str,
}

/// One list: its items and every write of it (the whole list each time).
#[derive(Debug, Clone)]
pub(crate) struct ListPlan {
    pub(crate) items: Vec<Item>,
    pub(crate) states: Vec<Vec<St>>,
}

impl ListPlan {
    /// The writes a transcript shows: all of them, or with `Small` transcripts
    /// the first, one in the middle and the last.
    pub(crate) fn written(&self, small: bool) -> Vec<&Vec<St>> {
        let n = self.states.len();
        if small && n > 3 {
            vec![&self.states[0], &self.states[n / 2], &self.states[n - 1]]
        } else {
            self.states.iter().collect()
        }
    }

    pub(crate) fn finished(&self) -> bool {
        self.states
            .last()
            .is_some_and(|s| s.iter().all(|&x| x == St::Completed))
    }
}

#[derive(Debug, Clone)]
pub(crate) struct AgentPlan {
    /// The session id for the main agent; a uuid (1.0.x) or a short hex id (2.x).
    pub(crate) id: String,
    pub(crate) shape: Shape,
    pub(crate) lists: Vec<ListPlan>,
    /// Writes its own transcript (`<session>/subagents/agent-<id>.jsonl`).
    pub(crate) transcript: bool,
    pub(crate) description: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TaskEnd {
    Pending,
    InProgress,
    Completed,
    Deleted,
}

#[derive(Debug, Clone)]
pub(crate) struct TaskPlan {
    pub(crate) id: u32,
    pub(crate) text: TodoText,
    pub(crate) description: String,
    pub(crate) end: TaskEnd,
}

#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub(crate) index: usize,
    pub(crate) id: String,
    pub(crate) project: usize,
    pub(crate) era: Era,
    pub(crate) version: String,
    pub(crate) model: &'static str,
    pub(crate) branch: String,
    pub(crate) start: i64,
    pub(crate) transcript: bool,
    pub(crate) summary: bool,
    /// `agents[0]` is the main agent.
    pub(crate) agents: Vec<AgentPlan>,
    pub(crate) tasks: Vec<TaskPlan>,
    pub(crate) prompts: Vec<&'static str>,
    pub(crate) weight: f64,
    pub(crate) budget: u64,
}

pub(crate) struct Project {
    /// The folder's last component (distinct for distinct projects).
    pub(crate) name: String,
    pub(crate) cwd: String,
    pub(crate) folder: String,
    pub(crate) main_branch: &'static str,
    pub(crate) shared: Vec<TodoText>,
}

pub(crate) struct World {
    pub(crate) seed: u64,
    pub(crate) mode: TranscriptSize,
    pub(crate) projects: Vec<Project>,
    /// Cumulative project weights (Zipf-like: a few busy projects, a long tail).
    pub(crate) cumulative: Vec<f64>,
    pub(crate) pool: Pool,
}

impl World {
    pub(crate) fn new(spec: &CorpusSpec) -> World {
        let n_projects = spec.effective_projects();
        let mut projects = Vec::with_capacity(n_projects);
        let mut cumulative = Vec::with_capacity(n_projects);
        let mut acc = 0.0;
        for p in 0..n_projects {
            let mut rng = rng::stream(spec.seed, DOMAIN_PROJECT, p as u64);
            let (name, cwd) = words::project(p);
            let folder = words::folder_of_cwd(&cwd);
            let main_branch = match rng.random_range(0..10) {
                0..=6 => "main",
                7 | 8 => "master",
                _ => "",
            };
            let shared = (0..40).map(|_| words::todo_text(&mut rng, false)).collect();
            projects.push(Project {
                name,
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

    pub(crate) fn pick_project(&self, rng: &mut Rng) -> usize {
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
}

/// About how many bytes a session's transcripts take without filler tool calls
/// (calibrated against the writer; used only to share out a realistic target).
pub(crate) fn estimate_base(s: &Session) -> u64 {
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

pub(crate) fn pick_text(rng: &mut Rng, proj: &Project, shared_p: f64) -> TodoText {
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

pub(crate) fn plan_list(rng: &mut Rng, proj: &Project, shared_p: f64, finished: bool) -> ListPlan {
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

pub(crate) fn plan_tasks(rng: &mut Rng, proj: &Project) -> Vec<TaskPlan> {
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

/// Small plans for the unit tests of the writers.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;

    pub(crate) fn item(content: &str, active: &str, id: &str, priority: &'static str) -> Item {
        Item {
            content: content.into(),
            active: active.into(),
            id: id.into(),
            priority,
        }
    }

    pub(crate) fn agent(shape: Shape, states: Vec<Vec<St>>) -> AgentPlan {
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
}
