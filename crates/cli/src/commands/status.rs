//! `chittysync status`

use super::views::{session_views, SessionState};
use crate::context::Context;
use crate::output::{age, print_json, print_warning, BOLD};
use anyhow::Result;
use chittysync_core::Timestamp;
use chittysync_daemon::DaemonStatus;
use chittysync_gitsync::GitStatus;
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
    daemon: DaemonStatus,
    stale_sessions: usize,
    /// The git sync; `None` when no sync repository is set up.
    git: Option<GitStatus>,
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
        daemon: DaemonStatus::of(&ctx.locations.home)?,
        stale_sessions: 0,
        git: None,
    };
    // A broken sync repository must not hide the rest of the status.
    match chittysync_gitsync::status(&super::git::settings(ctx), store.as_ref()) {
        Ok(git) => report.git = git,
        Err(e) => print_warning(&format!("git sync: {e}")),
    }
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
    print_daemon(&report.daemon);
    print_git(report.git.as_ref());
    if report.stale_sessions > 0 {
        print_warning(&format!(
            "{} stale sessions (idle longer than {}); `chittysync sessions --stale` lists them",
            report.stale_sessions,
            humantime::format_duration(ctx.config.sessions.stale_after)
        ));
    }
    Ok(())
}

/// One line on the daemon (alive by its lock, not by a pid that may be
/// reused), and a warning with its last error.
fn print_daemon(daemon: &DaemonStatus) {
    let now = Timestamp::now();
    let beat = daemon.heartbeat.as_ref();
    let last = beat
        .and_then(|b| b.last_consolidation)
        .map(|t| format!(", last consolidation {}", age(Some(t), now)))
        .unwrap_or_default();
    let line = match (daemon.alive, daemon.pid, beat) {
        (true, pid, _) => format!(
            "running (pid {}){last}",
            pid.map_or_else(|| "?".to_string(), |p| p.to_string())
        ),
        (false, _, Some(b)) if b.stopped_at.is_some() => {
            format!("not running (stopped {}){last}", age(b.stopped_at, now))
        }
        (false, _, Some(b)) => format!("not running (pid {} ended without stopping{last})", b.pid),
        (false, _, None) => "not running (never started in this home)".to_string(),
    };
    anstream::println!("{BOLD}daemon{BOLD:#}      {line}");
    if let Some(error) = beat.and_then(|b| b.last_error.as_ref()) {
        print_warning(&format!(
            "the daemon's last error ({}): {}",
            age(Some(error.at), now),
            error.message
        ));
    }
}

/// The sync repository, its remote, the last push and the commits waiting.
fn print_git(git: Option<&GitStatus>) {
    let Some(git) = git else {
        println!("git         (not set up — `chittysync git init --remote URL`)");
        return;
    };
    let now = Timestamp::now();
    let pushed = git.last_push.as_ref().map_or_else(
        || "never pushed".to_string(),
        |p| format!("last push {}", age(Some(p.at), now)),
    );
    anstream::println!(
        "{BOLD}git{BOLD:#}         {} → {} ({}), {pushed}, {} commit{} waiting",
        git.repo,
        git.remote.as_deref().unwrap_or("no remote"),
        git.branch,
        git.ahead,
        if git.ahead == 1 { "" } else { "s" }
    );
    if let Some(error) = &git.last_error {
        print_warning(&format!(
            "the git remote failed {}: {} (retried with backoff)",
            age(Some(error.at), now),
            error.detail
        ));
    }
}
