//! `chittysync status`

use super::views::{session_views, SessionState};
use crate::context::Context;
use crate::output::{print_json, print_warning, BOLD};
use anyhow::Result;
use serde::Serialize;
use serde_json::Value;

#[derive(Serialize)]
struct StatusReport {
    home: String,
    claude_dir: String,
    config: Option<String>,
    device: String,
    store: Option<StoreStatus>,
    last_consolidation: Option<Value>,
    stale_sessions: usize,
}

#[derive(Serialize)]
struct StoreStatus {
    path: String,
    observations: u64,
    todos: u64,
    projects: u64,
    sessions: u64,
    conflicts: u64,
}

pub fn run(ctx: &Context, json: bool) -> Result<()> {
    let store = ctx.existing_store()?;
    let mut report = StatusReport {
        home: ctx.locations.home.display().to_string(),
        claude_dir: ctx.locations.claude_dir.display().to_string(),
        config: ctx
            .locations
            .config
            .as_ref()
            .map(|p| p.display().to_string()),
        device: ctx.config.device_name(),
        store: None,
        last_consolidation: None,
        stale_sessions: 0,
    };
    if let Some(store) = &store {
        let counts = store.fold_counts()?;
        report.store = Some(StoreStatus {
            path: ctx.locations.store_path().display().to_string(),
            observations: store.observation_count()?,
            todos: counts.todos,
            projects: counts.projects,
            sessions: store.session_count()?,
            conflicts: counts.conflicts,
        });
        report.last_consolidation = store
            .meta("last_consolidation")?
            .and_then(|v| serde_json::from_str(&v).ok());
        let todos = store.folded_todos()?;
        report.stale_sessions = session_views(ctx, &todos, store.sessions()?)
            .iter()
            .filter(|v| v.state == SessionState::Stale)
            .count();
    }
    if json {
        return print_json(&report);
    }
    anstream::println!("{BOLD}home{BOLD:#}        {}", report.home);
    anstream::println!("{BOLD}claude dir{BOLD:#}  {}", report.claude_dir);
    anstream::println!(
        "{BOLD}config{BOLD:#}      {}",
        report.config.as_deref().unwrap_or("(none; defaults)")
    );
    anstream::println!("{BOLD}device{BOLD:#}      {}", report.device);
    match &report.store {
        None => println!("store       (none yet — run `chittysync consolidate`)"),
        Some(s) => anstream::println!(
            "{BOLD}store{BOLD:#}       {} observations, {} todos in {} projects, {} sessions, {} conflicts",
            s.observations, s.todos, s.projects, s.sessions, s.conflicts
        ),
    }
    if let Some(last) = &report.last_consolidation {
        anstream::println!(
            "{BOLD}last run{BOLD:#}    {} ({} ms, {} warnings)",
            last["at"].as_str().unwrap_or("?"),
            last["summary"]["elapsed_ms"],
            last["warnings"]
        );
    }
    if report.stale_sessions > 0 {
        print_warning(&format!(
            "{} stale sessions (idle longer than {}); `chittysync sessions --stale` lists them",
            report.stale_sessions,
            humantime::format_duration(ctx.config.sessions.stale_after)
        ));
    }
    Ok(())
}
