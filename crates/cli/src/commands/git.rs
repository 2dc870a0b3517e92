//! `chittysync git init|install-merge-driver`, and the sync repository as the
//! other commands reach it (`sync`, `rollback --to COMMIT`, `todos --as-of COMMIT`).

use crate::cli::GitCommand;
use crate::context::Context;
use crate::output::{print_json, print_warning, BOLD};
use crate::time_arg::parse_time;
use anyhow::{Context as _, Result};
use chittysync_core::{Observation, Timestamp};
use chittysync_engine::Reader;
use chittysync_gitsync::{
    install_merge_driver, CommitObservations, GitSettings, GitSync, GitSyncError,
};
use std::path::Path;

pub fn run(ctx: &Context, command: GitCommand) -> Result<()> {
    match command {
        GitCommand::Init {
            remote,
            branch,
            adopt,
            json,
        } => init(ctx, remote.as_deref(), branch.as_deref(), adopt, json.json),
        GitCommand::InstallMergeDriver { repo, json } => {
            let dir = match repo {
                Some(dir) => dir,
                None => std::env::current_dir().context("cannot read the current directory")?,
            };
            install(&dir, json.json)
        }
    }
}

pub fn settings(ctx: &Context) -> GitSettings {
    GitSettings::new(&ctx.locations, &ctx.config.git)
}

/// The sync repository, or an error saying to run `git init`.
pub fn open(ctx: &Context) -> Result<GitSync> {
    let settings = settings(ctx);
    GitSync::open(&settings).with_context(|| {
        format!(
            "cannot open the sync repository {}",
            settings.repo.display()
        )
    })
}

fn current_exe() -> Result<std::path::PathBuf> {
    std::env::current_exe().context("cannot find this program's path for the merge driver")
}

fn init(
    ctx: &Context,
    remote: Option<&str>,
    branch: Option<&str>,
    adopt: bool,
    json: bool,
) -> Result<()> {
    let settings = settings(ctx);
    let (sync, report) = GitSync::init(&settings, remote, branch, adopt).with_context(|| {
        format!(
            "cannot set up the sync repository {}",
            settings.repo.display()
        )
    })?;
    let installed = install_merge_driver(sync.repo_path(), &current_exe()?)?;
    if json {
        return print_json(&serde_json::json!({ "init": report, "merge_driver": installed }));
    }
    let what = match (report.created, report.cloned) {
        (true, true) => "cloned",
        (true, false) => "created",
        (false, _) => "already set up:",
    };
    anstream::println!(
        "{BOLD}{what}{BOLD:#} {} (branch {}, remote {})",
        report.repo,
        report.branch,
        report.remote.as_deref().unwrap_or("none")
    );
    if report.adopted {
        println!(
            "the remote's history was not written by chittysync: adopted, its files are kept as they are and never written"
        );
    }
    if let Some(why) = &report.offline {
        print_warning(&format!(
            "the remote could not be read ({why}); `chittysync sync` merges with it once it answers"
        ));
    }
    println!("next: `chittysync sync` (the daemon also syncs on its own)");
    Ok(())
}

fn install(dir: &Path, json: bool) -> Result<()> {
    let installed = install_merge_driver(dir, &current_exe()?)?;
    if json {
        return print_json(&installed);
    }
    anstream::println!(
        "{BOLD}installed{BOLD:#} the merge driver in {}",
        installed.repo
    );
    println!(
        "{} {}",
        installed.attributes,
        if installed.attributes_added {
            "now routes todos.json to it"
        } else {
            "already routed todos.json to it"
        }
    );
    println!("merge.chittysync.driver = {}", installed.driver);
    Ok(())
}

/// A point in the past given on the command line.
pub enum PastPoint {
    Time(Timestamp),
    Commit(CommitObservations),
}

impl PastPoint {
    /// A time, else a commit of the sync repository.
    pub fn parse(ctx: &Context, text: &str, now: Timestamp) -> Result<PastPoint> {
        let not_a_time = match parse_time(text, now) {
            Ok(time) => return Ok(PastPoint::Time(time)),
            Err(e) => e,
        };
        let sync = match GitSync::open(&settings(ctx)) {
            Ok(sync) => sync,
            Err(GitSyncError::NotInitialized { .. }) => return Err(not_a_time),
            Err(e) => return Err(e.into()),
        };
        match sync.observations_at(text) {
            Ok(commit) => {
                for line in &commit.rejected {
                    print_warning(&format!("skipped {line}"));
                }
                Ok(PastPoint::Commit(commit))
            }
            Err(GitSyncError::UnknownRevision { .. }) => Err(not_a_time.context(format!(
                "`{text}` is not a commit of the sync repository either"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The observations known at that point.
    pub fn observations(&self, store: Reader<'_>) -> Result<Vec<Observation>> {
        Ok(match self {
            PastPoint::Time(time) => store.observations_until(*time)?,
            PastPoint::Commit(commit) => commit.observations.clone(),
        })
    }

    pub fn label(&self) -> String {
        match self {
            PastPoint::Time(time) => time.to_rfc3339(),
            PastPoint::Commit(c) => format!("commit {} ({})", &c.commit[..12], c.summary),
        }
    }
}
