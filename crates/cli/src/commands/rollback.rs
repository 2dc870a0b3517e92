//! `chittysync rollback --to TIME|COMMIT [--project P] [--dry-run]`
//!
//! Restores the statuses shown at an earlier point by appending observations
//! (the rule is `chittysync_core::rollback`, the flow the engine's
//! `Engine::rollback`); history is never rewritten, so a rollback can itself
//! be rolled back.

use super::git::PastPoint;
use crate::cli::RollbackArgs;
use crate::context::Context;
use crate::output::{cell, print_json, short_id, status_style, Table, BOLD};
use anyhow::Result;
use chittysync_core::rollback::RollbackChange;
use chittysync_core::Timestamp;
use serde::Serialize;

#[derive(Serialize)]
struct Outcome<'a> {
    to: String,
    project: Option<&'a str>,
    dry_run: bool,
    changes: &'a [RollbackChange],
}

pub fn run(ctx: &Context, args: &RollbackArgs) -> Result<()> {
    let now = Timestamp::now();
    let mut engine = ctx.engine()?;
    let point = PastPoint::parse(ctx, &args.to, now)?;
    let then = point.observations(engine.reader())?;
    let changes = engine.rollback(&then, args.project.as_deref(), args.dry_run, now)?;
    let outcome = Outcome {
        to: point.label(),
        project: args.project.as_deref(),
        dry_run: args.dry_run,
        changes: &changes,
    };
    if args.json.json {
        return print_json(&outcome);
    }
    print_human(&outcome);
    Ok(())
}

fn print_human(outcome: &Outcome<'_>) {
    let scope = outcome
        .project
        .map_or_else(String::new, |p| format!(" in project {p}"));
    if outcome.changes.is_empty() {
        println!(
            "Nothing to roll back{scope}: it already shows what it showed at {}.",
            outcome.to
        );
        return;
    }
    let verb = if outcome.dry_run {
        "Would restore"
    } else {
        "Restored"
    };
    let observations: usize = outcome.changes.iter().map(|c| c.observations.len()).sum();
    anstream::println!(
        "{BOLD}{verb}{BOLD:#} {} todo{}{scope} as of {} ({} new observation{})",
        outcome.changes.len(),
        if outcome.changes.len() == 1 { "" } else { "s" },
        outcome.to,
        observations,
        if observations == 1 { "" } else { "s" },
    );
    let mut table = Table::new(vec!["FROM", "TO", "PROJECT", "ID", "CONTENT"]);
    for c in outcome.changes {
        table.row(vec![
            (c.from.to_string(), status_style(c.from)),
            (c.to.to_string(), status_style(c.to)),
            cell(c.project.clone()),
            cell(short_id(&c.id).to_string()),
            cell(c.content.clone()),
        ]);
    }
    table.print();
    if outcome.dry_run {
        println!("(dry run: nothing was changed)");
    }
}
