//! `chittysync status`

use super::views::{session_views, SessionState};
use crate::context::Context;
use crate::output::{age, print_json, print_warning, BOLD};
use crate::settings::plan_tools::{PlanTools, Source, VAR};
use anyhow::Result;
use chittysync_core::Timestamp;
use chittysync_daemon::DaemonStatus;
use chittysync_engine::views::{self, StoreTotals, WithoutPlans};
use chittysync_engine::{ReadHandle, Reader};
use chittysync_gitsync::GitStatus;
use chittysync_hubsync::{HubSync, HubSyncState};
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
    /// Todos in progress in two or more active sessions (docs/COLLISIONS.md).
    collisions: usize,
    /// The git sync; `None` when no sync repository is set up.
    git: Option<GitStatus>,
    /// The sync hub; `None` when `[hub] url` is not configured.
    hub: Option<HubStatus>,
    /// Whether Claude Code's plan tools are on, and where that was read
    /// (docs/HOOKS.md, "Plan tools"), and what recent sessions did without them.
    plan_tools: PlanToolsReport,
    /// Specialist agents started for topics (docs/TOPICS.md).
    specialists: super::spawn::SpecialistsStatus,
}

#[derive(Serialize)]
struct PlanToolsReport {
    #[serde(flatten)]
    tools: PlanTools,
    without_plans: WithoutPlans,
}

/// The hub as configured, whether it answers now, and how far this device synced.
#[derive(Serialize)]
struct HubStatus {
    url: String,
    /// Whether a token is configured (CHITTYSYNC_HUB_TOKEN or `[hub] token`).
    token: bool,
    /// `GET /api/health` answered within a short timeout.
    reachable: bool,
    /// Why it did not, when it did not.
    unreachable: Option<String>,
    /// Push cursor, pull cursor, backlog, last sync and last error (`None`
    /// before the first consolidation).
    #[serde(flatten)]
    sync: Option<HubSyncState>,
}

#[derive(Serialize)]
struct StoreStatus {
    path: String,
    #[serde(flatten)]
    totals: StoreTotals,
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
        collisions: 0,
        git: None,
        hub: None,
        specialists: Default::default(),
        plan_tools: PlanToolsReport {
            tools: PlanTools::of(&ctx.locations.claude_dir.join("settings.json")),
            without_plans: WithoutPlans {
                days: views::WITHOUT_PLANS_DAYS,
                ..WithoutPlans::default()
            },
        },
    };
    // A broken sync repository must not hide the rest of the status.
    match chittysync_gitsync::status(
        &super::git::settings(ctx),
        store.as_ref().map(ReadHandle::reader),
    ) {
        Ok(git) => report.git = git,
        Err(e) => print_warning(&format!("git sync: {e}")),
    }
    if let Some(url) = chittysync_hubsync::configured_url(&ctx.config) {
        report.hub = Some(hub_status(ctx, url, store.as_ref().map(ReadHandle::reader)));
    }
    if let Some(store) = store.as_ref().map(ReadHandle::reader) {
        report.plan_tools.without_plans = views::without_plans(store, Timestamp::now())?;
        report.specialists = super::spawn::status(ctx, store)?;
        report.store = Some(StoreStatus {
            path: ctx.locations.store_path().display().to_string(),
            totals: views::store_totals(store)?,
        });
        report.last_consolidation = store
            .meta("last_consolidation")?
            .and_then(|v| serde_json::from_str(&v).ok());
        let todos = store.folded_todos()?;
        report.stale_sessions = session_views(ctx, &todos, store.sessions()?)
            .iter()
            .filter(|v| v.state == SessionState::Stale)
            .count();
        report.collisions = super::collisions::current(ctx, None)?.len();
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
            s.totals.observations, s.totals.todos, s.totals.projects, s.totals.sessions, s.totals.conflicts
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
    print_hub(report.hub.as_ref());
    print_plan_tools(&report.plan_tools);
    if report.collisions > 0 {
        print_warning(&format!(
            "{} collision{}: a todo in progress in several active sessions at once; `chittysync collisions` lists them",
            report.collisions,
            if report.collisions == 1 { "" } else { "s" }
        ));
    }
    super::spawn::print_status(&report.specialists);
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

/// On or off, where that was read, and the line that turns them on.
fn print_plan_tools(report: &PlanToolsReport) {
    let plan = &report.tools;
    let state = if plan.on { "on" } else { "off" };
    let from = match (plan.source, &plan.settings_value, &plan.environment_value) {
        (Source::Settings, Some(value), _) => {
            format!("env.{VAR} = {value} in {}", plan.settings_file)
        }
        (Source::Environment, _, Some(value)) => {
            format!("{VAR}={value} in this shell's environment")
        }
        _ => format!(
            "{VAR} is set neither in {} nor in this shell's environment",
            plan.settings_file
        ),
    };
    anstream::println!("{BOLD}plan tools{BOLD:#}  {state} ({from})");
    if let Some(fix) = &plan.fix {
        println!(
            "            sessions on Claude Code's newer models write no plan without them; turn them on: {fix}"
        );
    }
    let recent = &report.without_plans;
    if recent.sessions > 0 {
        let models: Vec<String> = recent
            .by_model
            .iter()
            .map(|m| format!("{} ({})", m.model, m.sessions))
            .collect();
        println!(
            "            {} session{} of the last {} days ran on a model without them and wrote no plan: {}",
            recent.sessions,
            if recent.sessions == 1 { "" } else { "s" },
            recent.days,
            models.join(", ")
        );
        if plan.on {
            println!(
                "            (they are on now; sessions started before that ran without them)"
            );
        } else if plan.fix.is_none() {
            println!("            turn them on: chittysync hooks install");
        }
    }
    if let Some(error) = &plan.settings_error {
        print_warning(&format!("plan tools: {error}"));
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
    if let Some(commit) = &git.last_commit {
        println!(
            "            last commit {}: {}",
            age(Some(commit.at), now),
            commit.detail
        );
    }
    if let Some(error) = &git.last_error {
        print_warning(&format!(
            "the git remote failed {}{}: {} (retried with backoff)",
            age(Some(error.at), now),
            failing_since(git.failing_since, error.at),
            error.detail
        ));
    }
    if let Some(restore) = &git.last_restore {
        print_warning(&format!(
            "observation logs the git remote had lost were restored {}: {}",
            age(Some(restore.at), now),
            restore.detail
        ));
    }
}

/// ", failing since …" when a run of failures began before the last one.
fn failing_since(since: Option<Timestamp>, last: Timestamp) -> String {
    match since {
        Some(since) if since < last => {
            format!(", failing since {}", age(Some(since), Timestamp::now()))
        }
        _ => String::new(),
    }
}

/// Asks the hub for its health (1.5 s at most) and reads the cursors kept in the store.
fn hub_status(ctx: &Context, url: &str, store: Option<Reader<'_>>) -> HubStatus {
    let token = ctx.config.hub_token();
    let health = HubSync::with_options(
        url,
        token.as_deref().unwrap_or(""),
        &ctx.config.device_name(),
        &chittysync_hubsync::client_options(&ctx.config),
    )
    .and_then(|hub| hub.health(std::time::Duration::from_millis(1500)));
    let sync = store.and_then(|store| match HubSyncState::load(store, url) {
        Ok(state) => Some(state),
        Err(e) => {
            print_warning(&format!("hub sync state: {e}"));
            None
        }
    });
    HubStatus {
        url: url.to_string(),
        token: token.is_some(),
        reachable: health.is_ok(),
        unreachable: health.err().map(|e| e.to_string()),
        sync,
    }
}

/// The hub, whether it answers, the last sync, the backlog; a warning with
/// the last error when it is newer than the last sync.
fn print_hub(hub: Option<&HubStatus>) {
    let Some(hub) = hub else {
        println!("hub         (not configured — `[hub] url` and a token in config.toml)");
        return;
    };
    let now = Timestamp::now();
    let reach = if hub.reachable {
        "reachable"
    } else {
        "unreachable"
    };
    let detail = match &hub.sync {
        None => "nothing consolidated yet".to_string(),
        Some(s) => format!(
            "{}, push cursor {}, pull cursor {}, {} observation{} waiting",
            s.last_sync.as_ref().map_or_else(
                || "never synced".to_string(),
                |l| format!("last sync {}", age(Some(l.at), now))
            ),
            s.push_seq,
            s.pull_cursor,
            s.backlog,
            if s.backlog == 1 { "" } else { "s" }
        ),
    };
    anstream::println!("{BOLD}hub{BOLD:#}         {} ({reach}), {detail}", hub.url);
    if !hub.token {
        print_warning(
            "no hub token: set CHITTYSYNC_HUB_TOKEN or `[hub] token` (`chittysync hub token create --tenant NAME` makes one)",
        );
    }
    if let Some(why) = &hub.unreachable {
        print_warning(&format!("the hub does not answer: {why}"));
    }
    if let Some(error) = hub.sync.as_ref().and_then(|s| s.last_error.as_ref()) {
        print_warning(&format!(
            "the last hub sync failed {}{}: {} (retried with backoff)",
            age(Some(error.at), now),
            failing_since(hub.sync.as_ref().and_then(|s| s.failing_since), error.at),
            error.detail
        ));
    }
}
