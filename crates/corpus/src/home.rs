//! A user's home with every agent's folder (docs/SOURCES.md): the sessions of a
//! corpus spread across the agents, each written under its agent's folder
//! relative to the home — `.claude`, `.codex`, `.gemini`, `.qwen`,
//! `.local/share/opencode`.

use crate::agents::{self, agent_of};
use crate::claude::{Session, World};
use crate::{CorpusSpec, CorpusStats};
use anyhow::{Context, Result};
use chittysync_sources::agents::Agent;
use rayon::prelude::*;
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// What [`crate::generate_home`] wrote.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HomeStats {
    /// Every agent's files together.
    pub total: CorpusStats,
    /// By agent name (`claude`, `codex`, …), for the agents asked for.
    pub agents: BTreeMap<String, CorpusStats>,
}

/// The folder of `agent` under a home, as each agent places it by default.
pub fn agent_dir(home: &Path, agent: Agent) -> PathBuf {
    match agent {
        Agent::Claude => home.join(".claude"),
        Agent::Codex => home.join(".codex"),
        Agent::Gemini => home.join(".gemini"),
        Agent::Qwen => home.join(".qwen"),
        Agent::OpenCode => home.join(".local/share/opencode"),
    }
}

/// Writes the home (`root` missing or empty; checked by the caller).
pub(crate) fn write(root: &Path, spec: &CorpusSpec) -> Result<HomeStats> {
    let world = World::new(spec);
    let mut sessions: Vec<Session> = (0..spec.sessions)
        .into_par_iter()
        .map(|i| world.plan(i))
        .collect();
    world.assign_budgets(&mut sessions);
    let of = |s: &Session| agent_of(spec.seed, s.index, &spec.agents);

    let mut out = HomeStats::default();
    for &agent in &spec.agents {
        let dir = agent_dir(root, agent);
        let mine: Vec<&Session> = sessions.iter().filter(|s| of(s) == agent).collect();
        let stats = match agent {
            Agent::Claude => {
                let owned: Vec<Session> = mine.into_iter().cloned().collect();
                crate::write_claude(&dir, &world, &owned)?
            }
            Agent::Codex => each(&mine, |s| agents::codex::emit(&dir, &world, s))?,
            Agent::Gemini => {
                let mut projects: Vec<usize> = mine.iter().map(|s| s.project).collect();
                projects.sort_unstable();
                projects.dedup();
                let mut stats = agents::gemini::write_projects(&dir, &world, &projects)?;
                stats += each(&mine, |s| agents::gemini::emit(&dir, &world, s))?;
                stats
            }
            Agent::Qwen => {
                std::fs::create_dir_all(&dir)
                    .with_context(|| format!("creating {}", dir.display()))?;
                each(&mine, |s| agents::qwen::emit(&dir, &world, s))?
            }
            Agent::OpenCode => {
                let rows: Vec<_> = mine
                    .par_iter()
                    .map(|s| agents::opencode::plan(&world, s))
                    .collect();
                agents::opencode::write_db(&dir, &world, &rows)?
            }
        };
        out.total += stats;
        out.agents.insert(agent.as_str().to_string(), stats);
    }
    Ok(out)
}

/// Writes each session in parallel and adds up what was written.
fn each(
    sessions: &[&Session],
    emit: impl Fn(&Session) -> Result<CorpusStats> + Sync,
) -> Result<CorpusStats> {
    sessions
        .par_iter()
        .map(|s| emit(s))
        .try_reduce(CorpusStats::default, |mut a, b| {
            a += b;
            Ok(a)
        })
}
