//! `chittysync topics [--project P] [--json]`: each topic's open todos, the
//! sessions working on it and its specialist agents (docs/TOPICS.md).
//! The grouping is core's ([`chittysync_core::topic::topics`]).

use crate::context::Context;
use crate::output::{age, print_json, short_id, status_style, visible, BOLD, DIM};
use anyhow::Result;
use chittysync_core::topic::{topics, Topic, TopicTodo};
use chittysync_core::Timestamp;
use chittysync_daemon::spawn::{self, Picture, Verdict};
use chittysync_engine::SpawnRecord;
use serde::Serialize;

/// A topic as `--json` prints it.
#[derive(Serialize)]
struct TopicView<'a> {
    project: &'a str,
    topic: &'a str,
    pending: &'a [TopicTodo],
    in_progress: &'a [TopicTodo],
    completed: usize,
    sessions: &'a [String],
    last_activity: Option<Timestamp>,
    /// Its specialist agents, oldest first.
    specialists: Vec<SpecialistView<'a>>,
    /// What `[spawn]` would do now (`None` below the threshold).
    spawn: Option<&'a Verdict>,
}

/// One start of a specialist agent.
#[derive(Serialize)]
pub struct SpecialistView<'a> {
    #[serde(flatten)]
    pub record: &'a SpawnRecord,
    pub running: bool,
}

/// A start in words: `#3 pid 123 running, session 1a2b3c4d`.
pub fn describe(s: &SpawnRecord, now: Timestamp) -> String {
    let state = if s.ended_at.is_none() && s.pid.is_some_and(spawn::alive) {
        "running".to_string()
    } else if s.ended_at.is_none() && s.pid.is_none() {
        "starting".to_string()
    } else if s.failed() {
        format!("failed: {}", s.failure())
    } else {
        "ended".to_string()
    };
    let mut out = format!("#{} ", s.id);
    if let Some(pid) = s.pid {
        out.push_str(&format!("pid {pid} "));
    }
    out.push_str(&format!(
        "{state}, started {}",
        age(Some(s.started_at), now)
    ));
    if let Some(session) = &s.session {
        out.push_str(&format!(", session {}", short_id(session)));
    }
    out
}

pub fn run(ctx: &Context, project: Option<&str>, json: bool) -> Result<()> {
    let ledger = ctx.ledger_or_hint()?;
    let picture = Picture::read(ledger.reader())?;
    // A spawned session is known by its folder and start time (docs/TOPICS.md).
    let picture = if spawn::link_sessions(&ledger, &picture)? > 0 {
        Picture::read(ledger.reader())?
    } else {
        picture
    };
    let now = Timestamp::now();
    let rules = ctx.config.topics.rules();
    let list: Vec<Topic> = topics(&rules, &picture.todos)
        .into_iter()
        .filter(|t| project.is_none_or(|p| t.project == p))
        .collect();
    let verdicts = spawn::candidates(
        &ctx.config.spawn,
        &rules,
        &picture,
        project,
        &ctx.locations.home,
        now,
    );
    let specialists_of = |t: &Topic| -> Vec<&SpawnRecord> {
        picture
            .spawns
            .iter()
            .filter(|s| s.project == t.project && s.topic == t.topic)
            .collect()
    };
    if json {
        let views: Vec<TopicView<'_>> = list
            .iter()
            .map(|t| TopicView {
                project: &t.project,
                topic: &t.topic,
                pending: &t.pending,
                in_progress: &t.in_progress,
                completed: t.completed,
                sessions: &t.sessions,
                last_activity: t.last_activity,
                specialists: specialists_of(t)
                    .into_iter()
                    .map(|record| SpecialistView {
                        running: record.ended_at.is_none() && record.pid.is_some_and(spawn::alive),
                        record,
                    })
                    .collect(),
                spawn: verdicts
                    .iter()
                    .find(|c| c.project == t.project && c.topic == t.topic)
                    .map(|c| &c.verdict),
            })
            .collect();
        return print_json(&views);
    }
    let shown: Vec<&Topic> = list.iter().filter(|t| t.open().next().is_some()).collect();
    if shown.is_empty() {
        println!("No open todos in any topic.");
        return Ok(());
    }
    for (i, t) in shown.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let head = if t.topic == t.project {
            visible(&t.project).into_owned()
        } else {
            format!("{} / {}", visible(&t.project), visible(&t.topic))
        };
        anstream::println!(
            "{BOLD}{head}{BOLD:#}  {} pending, {} in progress, {} done",
            t.pending.len(),
            t.in_progress.len(),
            t.completed
        );
        if !t.sessions.is_empty() {
            let names: Vec<&str> = t.sessions.iter().map(|s| short_id(s)).collect();
            anstream::println!("  {DIM}sessions:{DIM:#} {}", visible(&names.join(", ")));
        }
        for s in specialists_of(t) {
            anstream::println!("  {DIM}specialist:{DIM:#} {}", describe(s, now));
        }
        if let Some(c) = verdicts
            .iter()
            .find(|c| c.project == t.project && c.topic == t.topic)
        {
            let text = match &c.verdict {
                Verdict::Start { reason } if ctx.config.spawn.enabled => {
                    format!("due to start ({reason})")
                }
                Verdict::Start { reason } => {
                    format!("would start ({reason}), but [spawn] is not enabled")
                }
                Verdict::Wait { why } => format!("waiting: {why}"),
            };
            anstream::println!("  {DIM}spawn:{DIM:#} {text}");
        }
        for todo in t.open() {
            let style = status_style(todo.status);
            anstream::println!(
                "  {style}{:<11}{style:#} {}  {DIM}{}{DIM:#}",
                todo.status.as_str(),
                visible(&todo.content),
                short_id(&todo.id)
            );
        }
    }
    Ok(())
}
