//! `chittysync hook session-start|post-tool-use|session-end`: Claude Code runs
//! this on its session's events and waits for it, so it never fails (exit 0
//! whatever happens), never waits on the daemon, and tells its problems to
//! `<home>/logs/hooks.log` instead of the session.

use crate::cli::{GlobalArgs, HookEvent};
use crate::context::{create_private_dir, Context};
use anyhow::{Context as _, Result};
use chittysync_config::{LocationOverrides, Locations};
use chittysync_core::Timestamp;
use chittysync_engine::{HookEnv, HookInput};
use std::io::{Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::process::ExitCode;

/// A payload larger than this is not Claude Code's (todo lists are small).
const MAX_PAYLOAD_BYTES: u64 = 16 << 20;

/// `hooks.log` is moved to `hooks.log.1` when it grows past this.
const MAX_LOG_BYTES: u64 = 1 << 20;

pub fn run(global: &GlobalArgs, event: HookEvent) -> ExitCode {
    let outcome = std::panic::catch_unwind(|| handle(global, event));
    let problems = match outcome {
        Ok(Ok((output, warnings))) => {
            if let Some(output) = output {
                let mut out = std::io::stdout().lock();
                let _ = writeln!(out, "{output}").and_then(|()| out.flush());
            }
            warnings
        }
        Ok(Err(e)) => vec![format!("error: {e:#}")],
        Err(_) => vec!["error: the hook panicked".to_string()],
    };
    if !problems.is_empty() {
        log(global, event, &problems);
    }
    ExitCode::SUCCESS
}

/// The hook's work: what to print, and what to log.
fn handle(global: &GlobalArgs, event: HookEvent) -> Result<(Option<String>, Vec<String>)> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .take(MAX_PAYLOAD_BYTES)
        .read_to_end(&mut bytes)
        .context("cannot read the payload on stdin")?;
    let input = HookInput::parse(&bytes)?;
    let ctx = Context::load(global)?;
    let notices: Vec<String> = ctx.home_tightened.iter().cloned().collect();
    let env = HookEnv {
        now: Timestamp::now(),
        task_list: std::env::var("CLAUDE_CODE_TASK_LIST_ID")
            .ok()
            .filter(|v| !v.trim().is_empty()),
        stale_after: ctx.config.sessions.stale_after,
        plan_tools_on: crate::settings::plan_tools::PlanTools::of(
            &ctx.locations.claude_dir.join("settings.json"),
        )
        .on,
    };
    let mut engine = ctx.engine()?;
    let (output, mut warnings) = match event {
        HookEvent::SessionStart => {
            let context = engine.hook_session_start(&input, &env)?;
            let output = context.map(|text| {
                serde_json::json!({"hookSpecificOutput": {
                    "hookEventName": "SessionStart",
                    "additionalContext": text,
                }})
                .to_string()
            });
            (output, Vec::new())
        }
        HookEvent::PostToolUse => {
            let report = engine.hook_post_tool_use(&input, &env)?;
            // A collision this write made: told to the session (docs/COLLISIONS.md).
            let output = report.context.map(|text| {
                serde_json::json!({"hookSpecificOutput": {
                    "hookEventName": "PostToolUse",
                    "additionalContext": text,
                }})
                .to_string()
            });
            (output, report.warnings)
        }
        HookEvent::SessionEnd => {
            engine.hook_session_end(&input, &env)?;
            (None, Vec::new())
        }
    };
    // A specialist agent chittysync started (docs/TOPICS.md): the session is
    // the one its start became, known at once rather than guessed later.
    if let Some(spawn) = spawn_id() {
        // The engine refused a payload without a session before this point.
        let session = input.session_id.as_deref().unwrap_or_default();
        if let Err(e) = engine.link_spawn_session(spawn, session) {
            warnings.push(format!(
                "cannot link session {session} to spawn {spawn}: {e}"
            ));
        }
    }
    warnings.extend(notices);
    Ok((output, warnings))
}

/// `CHITTYSYNC_SPAWN_ID`: set by the daemon in a specialist agent's
/// environment (crates/daemon/src/spawn.rs), inherited by its hooks.
fn spawn_id() -> Option<i64> {
    std::env::var("CHITTYSYNC_SPAWN_ID")
        .ok()
        .and_then(|v| v.trim().parse().ok())
}

/// Appends to `<home>/logs/hooks.log`, keeping one older file. Best effort:
/// a hook that cannot even log still must not fail the session.
fn log(global: &GlobalArgs, event: HookEvent, lines: &[String]) {
    let locations = Locations::resolve(&LocationOverrides {
        claude_dir: global.claude_dir.clone(),
        agents_home: global.agents_home.clone(),
        home: global.home.clone(),
        config: global.config.clone(),
    });
    let path = locations.logs_dir().join("hooks.log");
    let _ = append(&path, event, lines);
}

fn append(path: &Path, event: HookEvent, lines: &[String]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        create_private_dir(dir)?;
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > MAX_LOG_BYTES) {
        std::fs::rename(path, path.with_extension("log.1"))?;
    }
    let event = event.name();
    let now = Timestamp::now();
    let text: String = lines
        .iter()
        .map(|line| format!("{now} {event} pid={} {line}\n", std::process::id()))
        .collect();
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(path)?
        .write_all(text.as_bytes())
}

impl HookEvent {
    /// The name on the command line (`session-start`…).
    pub fn name(self) -> String {
        clap::ValueEnum::to_possible_value(&self)
            .map(|v| v.get_name().to_string())
            .unwrap_or_default()
    }
}
