//! `chittysync sync`: one git sync, now.

use super::git;
use crate::context::Context;
use crate::output::{print_json, print_warning, BOLD};
use anyhow::{Context as _, Result};

pub fn run(ctx: &Context, consolidate: bool, json: bool) -> Result<()> {
    let mut engine = ctx.engine()?;
    if consolidate {
        engine
            .consolidate(false)
            .context("cannot consolidate before syncing")?;
    }
    let mut sync = git::open(ctx)?;
    let report = sync
        .sync_once(&mut engine)
        .with_context(|| format!("cannot sync {}", sync.repo_path().display()))?;
    for line in &report.rejected_lines {
        print_warning(&format!("skipped {line}"));
    }
    if json {
        return print_json(&report);
    }
    let commit = report.commit.as_deref().map_or_else(
        || "no new commit".to_string(),
        |c| format!("commit {}", &c[..12]),
    );
    anstream::println!(
        "{BOLD}synced{BOLD:#} {} ({}): {} imported, {} exported, {commit}{} · {} ms",
        sync.repo_path().display(),
        sync.remote_url().unwrap_or("no remote"),
        report.imported,
        report.exported,
        if report.pushed { ", pushed" } else { "" },
        report.elapsed_ms
    );
    if let Some(why) = &report.offline {
        print_warning(&format!(
            "the remote is unreachable ({why}); {} commit{} wait and will be pushed by the next sync",
            report.ahead,
            if report.ahead == 1 { "" } else { "s" }
        ));
    }
    Ok(())
}
