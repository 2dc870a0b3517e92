//! `chittysync sync`: one sync, now — with the git sync repository when it is
//! set up, with the hub when `[hub] url` is configured, or both.

use crate::context::Context;
use crate::output::{print_json, print_warning, BOLD};
use anyhow::{bail, Context as _, Result};
use chittysync_engine::Engine;
use chittysync_gitsync::{GitSync, GitSyncError, SyncReport};
use chittysync_hubsync::{HubSync, HubSyncReport, HubSyncState};

pub fn run(
    ctx: &Context,
    consolidate: bool,
    adopt: bool,
    insecure: bool,
    json: bool,
) -> Result<()> {
    let hub = if insecure {
        let mut config = ctx.config.clone();
        config.hub.insecure = true;
        HubSync::from_config(&config, &ctx.locations)
    } else {
        HubSync::from_config(&ctx.config, &ctx.locations)
    }
    .context("cannot sync with the hub")?;
    let git = match super::git::open(ctx) {
        Ok(sync) => Some(sync),
        Err(e)
            if matches!(
                e.downcast_ref::<GitSyncError>(),
                Some(GitSyncError::NotInitialized { .. })
            ) =>
        {
            None
        }
        Err(e) => return Err(e),
    };
    if git.is_none() && hub.is_none() {
        bail!(
            "nothing to sync with: set up a git sync repository with `chittysync git init --remote URL`, \
             or a sync hub with `[hub] url = \"http://HOST:7878\"` in {} and its token in \
             CHITTYSYNC_HUB_TOKEN (or `[hub] token`)",
            ctx.locations.config.as_ref().map_or_else(
                || ctx.locations.home.join("config.toml").display().to_string(),
                |p| p.display().to_string()
            )
        );
    }

    let mut engine = ctx.engine()?;
    if consolidate {
        engine
            .consolidate(false)
            .context("cannot consolidate before syncing")?;
    }
    let git_report = match git {
        Some(mut sync) => {
            sync.set_adopt(adopt);
            Some(sync_git(&mut sync, &mut engine, json)?)
        }
        None => None,
    };
    let mut hub = hub;
    let hub_result = hub.as_mut().map(|hub| hub.sync_once(&mut engine));

    if json {
        let mut value = match &git_report {
            Some(report) => serde_json::to_value(report)?,
            None => serde_json::json!({}),
        };
        match &hub_result {
            Some(Ok(report)) => value["hub"] = serde_json::to_value(report)?,
            Some(Err(e)) => value["hub"] = serde_json::json!({ "error": e.to_string() }),
            None => {}
        }
        print_json(&value)?;
    }
    match (hub, hub_result) {
        (Some(_), Some(Ok(report))) => {
            if !json {
                print_hub(&report);
            }
            Ok(())
        }
        (Some(hub), Some(Err(error))) => {
            let backlog = HubSyncState::load(engine.reader(), hub.url())
                .map(|s| s.backlog)
                .unwrap_or(0);
            if error.is_transient() && backlog > 0 {
                print_warning(&format!(
                    "{backlog} observation{} wait and will be pushed by the next sync (the daemon retries on its own)",
                    if backlog == 1 { "" } else { "s" }
                ));
            }
            Err(error).context(if git_report.is_some() {
                "the git sync is done, but not the hub sync"
            } else {
                "cannot sync with the hub"
            })
        }
        _ => Ok(()),
    }
}

fn sync_git(sync: &mut GitSync, engine: &mut Engine, json: bool) -> Result<SyncReport> {
    let report = sync
        .sync_once(engine)
        .with_context(|| format!("cannot sync {}", sync.repo_path().display()))?;
    for line in &report.rejected_lines {
        print_warning(&format!("skipped {line}"));
    }
    // Logs are append-only: what the remote lost was put back and pushed.
    for restored in &report.restored {
        print_warning(&format!("restored {restored}"));
    }
    if json {
        return Ok(report);
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
    if report.adopted {
        println!(
            "adopted a history chittysync did not write: its files are kept as they are and never written (listed in .chittysync)"
        );
    }
    if let Some(why) = &report.offline {
        print_warning(&format!(
            "the remote is unreachable ({why}); {} commit{} wait and will be pushed by the next sync",
            report.ahead,
            if report.ahead == 1 { "" } else { "s" }
        ));
    }
    Ok(report)
}

fn print_hub(report: &HubSyncReport) {
    anstream::println!(
        "{BOLD}synced{BOLD:#} hub {}: {} pushed{}, {} pulled, cursor {}{} · {} ms",
        report.url,
        report.pushed,
        if report.duplicates > 0 {
            format!(" ({} already there)", report.duplicates)
        } else {
            String::new()
        },
        report.pulled,
        report.cursor,
        if report.outputs_written {
            ", outputs rewritten"
        } else {
            ""
        },
        report.elapsed_ms
    );
    if report.restarted {
        print_warning("the hub did not know this device's cursors (another hub, or it lost data): everything was sent again");
    }
}
