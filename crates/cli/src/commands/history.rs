//! `chittysync history <id-or-text>`

use crate::context::Context;
use crate::output::{cell, print_json, short_id, status_style, visible, Table, BOLD, DIM};
use anyhow::{bail, Result};
use chittysync_core::{Observation, Status, TodoEntry};
use serde::Serialize;
use std::collections::HashMap;

#[derive(Serialize)]
struct Step {
    #[serde(flatten)]
    observation: Observation,
    /// The agent that wrote it (`claude`, `codex`…; SPEC §3b).
    agent: &'static str,
    /// The sub-agent, when the observer is one (`<session>/<agent>`).
    sub_agent: Option<String>,
    /// How it reached this store: local, git or hub.
    via: String,
    /// Whether this observation changed its observer's status (or was its first word).
    change: bool,
}

#[derive(Serialize)]
struct TodoHistory {
    todo: TodoEntry,
    observations: Vec<Step>,
}

fn sub_agent_of(observer: &str) -> Option<String> {
    if observer.starts_with("task:") {
        return None;
    }
    observer.split_once('/').map(|(_, agent)| agent.to_string())
}

pub fn run(ctx: &Context, query: &str, json: bool) -> Result<()> {
    let store = ctx.store_or_hint()?;
    let ids = store.find_todos(query)?;
    if ids.is_empty() {
        bail!("no todo has an id or content matching `{query}`");
    }
    let folded: HashMap<String, TodoEntry> = store
        .folded_todos()?
        .into_iter()
        .filter(|t| ids.contains(&t.todo_id))
        .map(|t| Ok((t.todo_id.clone(), t.entry()?)))
        .collect::<Result<_>>()?;
    let mut histories = Vec::new();
    for id in &ids {
        let Some(todo) = folded.get(id).cloned() else {
            continue;
        };
        let mut last_status: HashMap<String, Status> = HashMap::new();
        let observations = store
            .history(id)?
            .into_iter()
            .map(|logged| {
                let o = logged.observation;
                let change = last_status.insert(o.observer.clone(), o.status) != Some(o.status);
                Step {
                    agent: chittysync_core::agent::agent_of(&o.observer),
                    sub_agent: sub_agent_of(&o.observer),
                    via: logged.via,
                    change,
                    observation: o,
                }
            })
            .collect();
        histories.push(TodoHistory { todo, observations });
    }
    if json {
        return print_json(&histories);
    }
    for (i, h) in histories.iter().enumerate() {
        if i > 0 {
            println!();
        }
        let t = &h.todo;
        anstream::println!(
            "{BOLD}{}{BOLD:#}  [{}] {} · id {}",
            visible(&t.content),
            visible(&t.project),
            t.status,
            t.id
        );
        let mut table = Table::new(vec![
            "TIME",
            "STATUS",
            "SESSION",
            "AGENT",
            "SUB-AGENT",
            "SOURCE",
            "DEVICE",
            "VIA",
        ]);
        for step in &h.observations {
            let o = &step.observation;
            let style = if step.change {
                status_style(o.status)
            } else {
                DIM
            };
            table.row(vec![
                cell(o.observed_at.to_rfc3339()),
                (o.status.to_string(), style),
                cell(o.session.as_deref().map_or("-", short_id).to_string()),
                cell(step.agent.to_string()),
                cell(step.sub_agent.as_deref().map_or("-", short_id).to_string()),
                cell(o.source.to_string()),
                cell(o.device.clone()),
                cell(step.via.clone()),
            ]);
        }
        table.print();
    }
    Ok(())
}
