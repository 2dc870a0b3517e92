//! `chittysync spawn [--dry-run] [--project P] [--json]`: start the specialist
//! agents of the topics that piled up, now (docs/TOPICS.md).
//! `--dry-run` shows what would start and why, and starts nothing; without
//! it, starting needs `[spawn] enabled = true`, and the command waits for the
//! agents it started, records their ends, and consolidates what they wrote.

use crate::commands::topics::describe;
use crate::context::Context;
use crate::output::{cell, print_json, Table, DIM};
use anyhow::{bail, Result};
use chittysync_core::Timestamp;
use chittysync_daemon::spawn::{self, Candidate, Picture, Verdict};
use chittysync_engine::Reader;
use serde::Serialize;

#[derive(Serialize)]
struct DryRun<'a> {
    enabled: bool,
    threshold: usize,
    topics: &'a [Candidate],
}

pub fn run(ctx: &Context, dry_run: bool, project: Option<&str>, json: bool) -> Result<()> {
    let config = &ctx.config.spawn;
    if !dry_run && !config.enabled {
        bail!("specialist agents are off: set `[spawn] enabled = true` in the config, or see what would start with `chittysync spawn --dry-run` (docs/TOPICS.md)");
    }
    let mut ledger = ctx.ledger_or_hint()?;
    let now = Timestamp::now();
    let rules = ctx.config.topics.rules();
    let picture = Picture::read(ledger.reader())?;
    let list = spawn::candidates(config, &rules, &picture, project, &ctx.locations.home, now);
    if dry_run {
        if json {
            return print_json(&DryRun {
                enabled: config.enabled,
                threshold: config.threshold,
                topics: &list,
            });
        }
        if list.is_empty() {
            println!(
                "Nothing would start: no topic has {} or more pending todos.",
                config.threshold
            );
        } else {
            let mut table = Table::new(vec![
                "PROJECT", "TOPIC", "PENDING", "WOULD", "WHY", "IN", "COMMAND",
            ]);
            for c in &list {
                let (would, why) = match &c.verdict {
                    Verdict::Start { reason } => ("start", reason.clone()),
                    Verdict::Wait { why } => ("wait", why.clone()),
                };
                table.row(vec![
                    cell(c.project.clone()),
                    cell(c.topic.clone()),
                    cell(c.pending.to_string()),
                    cell(would),
                    cell(why),
                    cell(c.cwd.clone().unwrap_or_else(|| "-".into())),
                    cell(serde_json::to_string(&c.command)?),
                ]);
            }
            table.print();
        }
        if !config.enabled {
            anstream::println!(
                "{DIM}[spawn] is not enabled: nothing starts until `enabled = true`.{DIM:#}"
            );
        }
        return Ok(());
    }
    let device = ctx.config.device_name();
    let mut started = Vec::new();
    let mut failures = Vec::new();
    for c in list
        .iter()
        .filter(|c| matches!(c.verdict, Verdict::Start { .. }))
    {
        match spawn::start(&mut ledger, config, &ctx.locations.home, &device, c, now) {
            Ok(Some(s)) => {
                if !json {
                    println!(
                        "started {} / {}: pid {} (#{})",
                        c.project, c.topic, s.pid, s.id
                    );
                }
                started.push(s);
            }
            Ok(None) => {}
            Err(e) => failures.push(format!("{} / {}: {e}", c.project, c.topic)),
        }
    }
    let ids: Vec<i64> = started.iter().map(|s| s.id).collect();
    for s in started {
        s.wait_and_record(&ledger)?;
    }
    // What they wrote joins the picture; each start is linked to its session.
    if !ids.is_empty() {
        ctx.engine()?.consolidate(false)?;
        spawn::link_sessions(&ledger, &Picture::read(ledger.reader())?)?;
    }
    let records: Vec<_> = ledger
        .reader()
        .spawns()?
        .into_iter()
        .filter(|s| ids.contains(&s.id))
        .collect();
    if json {
        print_json(&records)?;
    } else {
        if ids.is_empty() && failures.is_empty() {
            println!("Nothing to start: no topic is due (see `chittysync spawn --dry-run`).");
        }
        let now = Timestamp::now();
        for r in &records {
            println!("{} / {}: {}", r.project, r.topic, describe(r, now));
        }
    }
    if !failures.is_empty() {
        bail!("not started: {}", failures.join("; "));
    }
    Ok(())
}

/// What `status` says of specialist agents (docs/TOPICS.md).
#[derive(Serialize, Default)]
pub struct SpecialistsStatus {
    pub enabled: bool,
    pub started: usize,
    pub running: usize,
    /// Topics whose last start failed (`project / topic: why`): backed off.
    pub failing: Vec<String>,
}

pub fn status(ctx: &Context, store: Reader<'_>) -> Result<SpecialistsStatus> {
    let spawns = store.spawns()?;
    Ok(SpecialistsStatus {
        enabled: ctx.config.spawn.enabled,
        started: spawns.len(),
        running: spawn::running_count(&spawns),
        failing: spawn::backed_off(&spawns),
    })
}

pub fn print_status(s: &SpecialistsStatus) {
    if !s.enabled && s.started == 0 {
        return;
    }
    let state = if s.enabled { "on" } else { "off" };
    anstream::println!(
        "{}specialist{:#}  {state}: {} started, {} running{}",
        crate::output::BOLD,
        crate::output::BOLD,
        s.started,
        s.running,
        if s.failing.is_empty() {
            String::new()
        } else {
            format!("; backed off: {}", s.failing.join("; "))
        }
    );
}
