//! The other agents' records (docs/SOURCES.md), written from the same session plans
//! as Claude Code's: a session of Codex, Gemini, Qwen or OpenCode runs in one
//! of the corpus' projects (the same cwds) and writes the same kind of lists
//! (drawn from the project's shared texts), each in its agent's own format.
//! Each agent's module is the one place that knows its format; this module
//! holds what they share: the agent of a session, ids, times, the plan
//! states as each agent words them, and the filler tool output between them.

pub(crate) mod codex;
pub(crate) mod gemini;
pub(crate) mod opencode;
pub(crate) mod qwen;

use crate::claude::{ListPlan, Session, St, World};
use crate::rng::{self, Rng};
use crate::words;
use crate::TranscriptSize;
use anyhow::{bail, Result};
use chittysync_core::Timestamp;
use chittysync_sources::agents::Agent;
use rand::Rng as _;
use rand_distr::{Distribution, LogNormal};

/// Which agent writes a session: stream `session index`.
const DOMAIN_AGENT_PICK: u64 = 0xA6E0;
/// The draws of another agent's record (ids, versions, filler): stream
/// `session index`.
pub(crate) const DOMAIN_AGENT_TX: u64 = 0xA6E1;

/// Parses `claude,codex,gemini,qwen,opencode` (or `all`): the agents in the
/// order given, each once.
pub fn parse_agents(text: &str) -> Result<Vec<Agent>> {
    if text.trim() == "all" {
        return Ok(Agent::ALL.to_vec());
    }
    let mut out = Vec::new();
    for name in text.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        let Some(agent) = Agent::parse(name) else {
            bail!("unknown agent `{name}` (known: claude, codex, gemini, qwen, opencode, or all)");
        };
        if !out.contains(&agent) {
            out.push(agent);
        }
    }
    if out.is_empty() {
        bail!("no agent named (try claude,codex,gemini,qwen,opencode)");
    }
    Ok(out)
}

/// The agent of session `index`: one of `agents`, evenly at random from the
/// session's own stream (so it does not depend on the other sessions).
pub(crate) fn agent_of(seed: u64, index: usize, agents: &[Agent]) -> Agent {
    match agents {
        [] => Agent::Claude,
        [one] => *one,
        _ => {
            let mut rng = rng::stream(seed, DOMAIN_AGENT_PICK, index as u64);
            agents[rng.random_range(0..agents.len())]
        }
    }
}

/// The random stream of another agent's record of session `s`.
pub(crate) fn stream_of(world: &World, s: &Session) -> Rng {
    rng::stream(world.seed, DOMAIN_AGENT_TX, s.index as u64)
}

/// A version-7 UUID (as Codex names sessions): the time's milliseconds, then
/// random bits.
pub(crate) fn uuid7(rng: &mut Rng, ms: i64) -> String {
    let mut b: [u8; 16] = rng.random();
    b[..6].copy_from_slice(&(ms.max(0) as u64).to_be_bytes()[2..]);
    b[6] = (b[6] & 0x0F) | 0x70;
    b[8] = (b[8] & 0x3F) | 0x80;
    uuid::Uuid::from_bytes(b).to_string()
}

/// `2026-07-01T12:34:56.789Z`.
pub(crate) fn iso(ms: i64) -> String {
    Timestamp(ms).to_rfc3339()
}

/// `YYYY`, `MM`, `DD` and `HH-MM-SS` of a time (UTC), for file names.
pub(crate) fn date_parts(ms: i64) -> (String, String, String, String) {
    let t = iso(ms);
    (
        t[0..4].to_string(),
        t[5..7].to_string(),
        t[8..10].to_string(),
        t[11..19].replace(':', "-"),
    )
}

/// The four status words (docs/DESIGN.md, "Statuses"; every agent here uses them).
pub(crate) fn status_word(st: St) -> &'static str {
    st.as_str()
}

/// The states of a list the agent's record shows: with `Small` (or no)
/// transcripts the first, a middle and the last write, else every write.
pub(crate) fn written(world: &World, list: &ListPlan) -> Vec<Vec<St>> {
    let all = matches!(world.mode, TranscriptSize::Realistic { .. });
    list.written(!all).into_iter().cloned().collect()
}

/// The main agent's lists of a session (task lists are Claude Code's own).
pub(crate) fn lists(s: &Session) -> &[ListPlan] {
    &s.agents[0].lists
}

/// A prompt of the session (the `i`-th, or its last).
pub(crate) fn prompt(s: &Session, i: usize) -> &'static str {
    s.prompts[i.min(s.prompts.len() - 1)]
}

/// Filler between two plan writes: the sizes of the tool outputs to write.
/// `Small` transcripts: now and then one small output; `Realistic`: the
/// session's share of the target, spread over its gaps in heavy-tailed
/// sizes (as Claude Code's transcripts get); `None`: nothing.
pub(crate) struct Filler {
    mode: TranscriptSize,
    budget: u64,
    spent: u64,
    gaps_left: usize,
}

impl Filler {
    pub(crate) fn new(world: &World, s: &Session, gaps: usize) -> Filler {
        Filler {
            mode: world.mode,
            budget: s.budget,
            spent: 0,
            gaps_left: gaps.max(1),
        }
    }

    pub(crate) fn gap(&mut self, rng: &mut Rng) -> Vec<usize> {
        match self.mode {
            TranscriptSize::None => Vec::new(),
            TranscriptSize::Small => {
                if rng.random_bool(0.25) {
                    vec![rng.random_range(200..=1200)]
                } else {
                    Vec::new()
                }
            }
            TranscriptSize::Realistic { .. } => {
                let remaining = self.budget.saturating_sub(self.spent);
                let share = if self.gaps_left <= 1 {
                    remaining
                } else {
                    let even = remaining / self.gaps_left as u64;
                    (even as f64 * (0.4 + 1.2 * rng.random::<f64>())) as u64
                };
                self.gaps_left = self.gaps_left.saturating_sub(1).max(1);
                let goal = self.spent + share;
                let sizes = LogNormal::<f64>::new(8.6, 1.0).expect("a valid deviation");
                let mut out = Vec::new();
                while self.spent < goal {
                    let left = (goal - self.spent) as usize;
                    let sampled = sizes.sample(rng).clamp(200.0, 400_000.0) as usize;
                    let size = sampled.min(left.max(200));
                    self.spent += size as u64;
                    out.push(size);
                }
                out
            }
        }
    }
}

/// A shell command and about `size` bytes of its output, from the pool.
pub(crate) fn shell_output(world: &World, rng: &mut Rng, size: usize) -> (&'static str, String) {
    let &(command, _) = rng::RngExt::pick(rng, words::BASH_COMMANDS);
    let file = rng::RngExt::pick(rng, words::SOURCE_FILES);
    let start = rng.random_range(0..world.pool.len());
    let n = world.pool.lines_for(size);
    (command, world.pool.text(start, n, &format!("{file}: ")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn agents_are_parsed() {
        assert_eq!(
            parse_agents("claude, codex,codex").unwrap(),
            vec![Agent::Claude, Agent::Codex]
        );
        assert_eq!(parse_agents("all").unwrap().len(), 5);
        assert!(parse_agents("cursor").is_err());
        assert!(parse_agents("").is_err());
    }

    #[test]
    fn uuid7_carries_the_time() {
        let mut rng = rng::stream(1, 2, 3);
        let ms = 1_782_864_000_123;
        let id = uuid7(&mut rng, ms);
        assert_eq!(id.len(), 36);
        assert_eq!(&id[14..15], "7");
        let hex: String = id.replace('-', "")[..12].to_string();
        assert_eq!(i64::from_str_radix(&hex, 16).unwrap(), ms);
    }

    #[test]
    fn dates_for_file_names() {
        let (y, m, d, hms) = date_parts(1_782_864_000_000 + 3_723_000);
        assert_eq!((y.as_str(), m.as_str(), d.as_str()), ("2026", "07", "01"));
        assert_eq!(hms, "01-02-03");
    }
}
