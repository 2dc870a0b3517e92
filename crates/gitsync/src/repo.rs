//! Opening and creating the sync repository.

use crate::error::{GitContext, GitSyncError};
use crate::install;
use crate::lock::SyncLock;
use crate::remote::{self, REMOTE};
use crate::schedule::Schedule;
use crate::settings::GitSettings;
use crate::tree::{self, Entries, Entry};
use git2::{Commit, ErrorCode, Oid, Repository, RepositoryInitOptions, Signature};
use serde::Serialize;
use std::path::Path;

/// The sync repository of one chittysync home.
pub struct GitSync {
    pub(crate) repo: Repository,
    pub(crate) settings: GitSettings,
    pub(crate) branch: String,
    pub(crate) remote_url: Option<String>,
    pub(crate) schedule: Schedule,
}

/// What `git init` did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct InitReport {
    pub repo: String,
    pub branch: String,
    pub remote: Option<String>,
    /// A new repository was created (else an existing one was kept).
    pub created: bool,
    /// Its history came from the remote.
    pub cloned: bool,
    /// Why the remote could not be read; sync will merge with it later.
    pub offline: Option<String>,
}

const README: &str = "\
# chittysync history

Written by `chittysync sync`; edit nothing here by hand.

- `devices/<device>/NNNNNN.jsonl`: each device's observations, one JSON object
  a line, append-only. Devices never write each other's files.
- `todos.json`, `project-coordination.json`: the fold of every device's
  observations, regenerated on every sync.

`chittysync todos --as-of <commit>` shows the list as of a commit, and
`chittysync rollback --to <commit>` restores it by appending observations.
";

impl GitSync {
    /// Opens the sync repository; [`GitSyncError::NotInitialized`] when there
    /// is none (the daemon then runs without git sync).
    pub fn open(settings: &GitSettings) -> Result<GitSync, GitSyncError> {
        let repo = match Repository::open(&settings.repo) {
            Ok(repo) => repo,
            Err(e) if e.code() == ErrorCode::NotFound => {
                return Err(GitSyncError::NotInitialized {
                    path: settings.repo.clone(),
                })
            }
            Err(e) => return Err(e).ctx(|| format!("opening {}", settings.repo.display())),
        };
        if let Some(url) = &settings.remote {
            set_remote(&repo, url)?;
        }
        let branch = head_branch(&repo).unwrap_or_else(|| settings.branch.clone());
        let remote_url = repo
            .find_remote(REMOTE)
            .ok()
            .and_then(|r| r.url().ok().map(str::to_string));
        Ok(GitSync {
            repo,
            settings: settings.clone(),
            branch,
            remote_url,
            schedule: Schedule::default(),
        })
    }

    /// Creates the sync repository, or clones it when the remote has the
    /// branch, or (already there) sets its remote. An unreachable remote does
    /// not fail: the repository starts alone and merges with it on a later sync.
    pub fn init(
        settings: &GitSettings,
        remote: Option<&str>,
        branch: Option<&str>,
    ) -> Result<(GitSync, InitReport), GitSyncError> {
        let remote = remote.or(settings.remote.as_deref());
        let branch = branch.unwrap_or(&settings.branch);
        let mut report = InitReport {
            repo: settings.repo.display().to_string(),
            branch: branch.to_string(),
            remote: remote.map(str::to_string),
            ..InitReport::default()
        };
        if Repository::open(&settings.repo).is_err() {
            create(settings, remote, branch, &mut report)?;
        }
        let mut settings = settings.clone();
        if remote.is_some() {
            settings.remote = remote.map(str::to_string);
        }
        let sync = GitSync::open(&settings)?;
        report.branch = sync.branch.clone();
        report.remote = sync.remote_url.clone();
        Ok((sync, report))
    }

    /// The work tree (without libgit2's trailing slash).
    pub fn repo_path(&self) -> &Path {
        self.repo
            .workdir()
            .unwrap_or_else(|| self.repo.path())
            .components()
            .as_path()
    }

    pub fn branch(&self) -> &str {
        &self.branch
    }

    pub fn remote_url(&self) -> Option<&str> {
        self.remote_url.as_deref()
    }

    pub fn settings(&self) -> &GitSettings {
        &self.settings
    }

    pub(crate) fn branch_ref(&self) -> String {
        format!("refs/heads/{}", self.branch)
    }

    /// The branch's commit; `None` before the first commit.
    pub(crate) fn tip(&self) -> Result<Option<Commit<'_>>, GitSyncError> {
        commit_of(&self.repo, &self.branch_ref())
    }

    /// The remote branch as last fetched or pushed.
    pub(crate) fn tracking_tip(&self) -> Result<Option<Commit<'_>>, GitSyncError> {
        commit_of(&self.repo, &remote::tracking_ref(&self.branch))
    }

    /// How many commits the remote does not have yet.
    pub fn ahead(&self) -> Result<u64, GitSyncError> {
        let (Some(local), Some(_)) = (self.tip()?, &self.remote_url) else {
            return Ok(0);
        };
        let ahead = match self.tracking_tip()? {
            Some(remote) => {
                self.repo
                    .graph_ahead_behind(local.id(), remote.id())
                    .ctx(|| "counting commits to push".into())?
                    .0
            }
            None => {
                let mut walk = self.repo.revwalk().ctx(|| "walking history".into())?;
                walk.push(local.id()).ctx(|| "walking history".into())?;
                walk.count()
            }
        };
        Ok(ahead as u64)
    }

    /// Serializes syncs of this repository across processes.
    pub(crate) fn lock(&self) -> Result<SyncLock, GitSyncError> {
        SyncLock::acquire(&self.repo.path().join("chittysync.lock"))
    }
}

fn commit_of<'r>(repo: &'r Repository, name: &str) -> Result<Option<Commit<'r>>, GitSyncError> {
    match repo.find_reference(name) {
        Ok(r) => Ok(Some(r.peel_to_commit().ctx(|| format!("reading {name}"))?)),
        Err(e) if e.code() == ErrorCode::NotFound => Ok(None),
        Err(e) => Err(e).ctx(|| format!("reading {name}")),
    }
}

/// The branch HEAD points at, born or not.
fn head_branch(repo: &Repository) -> Option<String> {
    let head = repo.find_reference("HEAD").ok()?;
    head.symbolic_target()
        .ok()??
        .strip_prefix("refs/heads/")
        .map(str::to_string)
}

fn set_remote(repo: &Repository, url: &str) -> Result<(), GitSyncError> {
    match repo.find_remote(REMOTE) {
        Ok(existing) if existing.url().ok() == Some(url) => Ok(()),
        Ok(_) => repo.remote_set_url(REMOTE, url),
        Err(_) => repo.remote(REMOTE, url).map(|_| ()),
    }
    .ctx(|| format!("setting remote {REMOTE} to {url}"))
}

fn create(
    settings: &GitSettings,
    remote: Option<&str>,
    branch: &str,
    report: &mut InitReport,
) -> Result<(), GitSyncError> {
    let path = &settings.repo;
    let mut options = RepositoryInitOptions::new();
    options.initial_head(branch).mkpath(true);
    let repo = Repository::init_opts(path, &options)
        .ctx(|| format!("creating a repository in {}", path.display()))?;
    report.created = true;
    if let Some(url) = remote {
        set_remote(&repo, url)?;
        match remote::fetch(&repo, branch) {
            Err(e) => report.offline = Some(e.message().to_string()),
            Ok(()) => {
                if let Some(commit) = commit_of(&repo, &remote::tracking_ref(branch))? {
                    checkout_and_move(&repo, branch, &commit, None, "chittysync: clone")?;
                    report.cloned = true;
                }
            }
        }
    }
    if !report.cloned {
        let mut entries = Entries::new();
        for (name, text) in [
            ("README.md", README),
            (".gitattributes", install::ATTRIBUTES_LINE),
        ] {
            let oid = repo
                .blob(text.as_bytes())
                .ctx(|| format!("writing {name}"))?;
            entries.insert(name.to_string(), Entry::blob(oid));
        }
        let tree = repo
            .find_tree(tree::build(&repo, &entries)?)
            .ctx(|| "reading the first tree".into())?;
        // Every device makes the same first commit (same files, author and
        // time), so devices set up apart still share a root to merge from.
        let signature =
            Signature::new("chittysync", "chittysync@localhost", &git2::Time::new(0, 0))
                .ctx(|| "making a commit signature".into())?;
        let oid = repo
            .commit(
                None,
                &signature,
                &signature,
                "chittysync: start the history",
                &tree,
                &[],
            )
            .ctx(|| "writing the first commit".into())?;
        let commit = repo
            .find_commit(oid)
            .ctx(|| "reading the first commit".into())?;
        checkout_and_move(&repo, branch, &commit, None, "chittysync: init")?;
    }
    Ok(())
}

/// Who commits: chittysync on this device.
pub(crate) fn signature(device: &str) -> Result<Signature<'static>, GitSyncError> {
    Signature::now(&format!("chittysync ({device})"), "chittysync@localhost")
        .ctx(|| "making a commit signature".into())
}

/// Writes `commit` into the work tree and index, then moves the branch to it
/// if it still points at `old` (compare-and-swap: a concurrent writer fails us
/// rather than being overwritten).
pub(crate) fn checkout_and_move(
    repo: &Repository,
    branch: &str,
    commit: &Commit<'_>,
    old: Option<Oid>,
    message: &str,
) -> Result<(), GitSyncError> {
    let name = format!("refs/heads/{branch}");
    let tree = commit.tree().ctx(|| "reading a commit's tree".into())?;
    repo.checkout_tree(
        tree.as_object(),
        Some(git2::build::CheckoutBuilder::new().force()),
    )
    .ctx(|| "updating the work tree".into())?;
    match old {
        Some(old) => repo.reference_matching(&name, commit.id(), true, old, message),
        None => repo.reference(&name, commit.id(), false, message),
    }
    .ctx(|| format!("moving {name}"))?;
    Ok(())
}
