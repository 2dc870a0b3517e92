//! Opening and creating the sync repository.

use crate::error::{GitContext, GitSyncError};
use crate::install;
use crate::lock::SyncLock;
use crate::marker::{self, MARKER_FILE, README};
use crate::remote::{self, REMOTE};
use crate::schedule::Schedule;
use crate::settings::GitSettings;
use crate::tree::{self, Entries, Entry};
use chittysync_crypt::Encryption;
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
    /// Merge with a history chittysync did not write (`--adopt`).
    pub(crate) adopt: bool,
    /// Seals what is written to this device's log, opens sealed lines read
    /// (docs/ENCRYPTION.md).
    pub(crate) encryption: Encryption,
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
    /// The remote held a history chittysync did not write, and it was
    /// adopted (`--adopt`): its files are kept as they are.
    pub adopted: bool,
}

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
        let encryption = Encryption::load(&settings.key_path, settings.encrypt, "`[git] encrypt`")?;
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
            adopt: false,
            encryption,
        })
    }

    /// Whether a sync may merge with a history chittysync did not write
    /// (docs/GIT_SYNC.md, "Whose history"); off unless asked.
    pub fn set_adopt(&mut self, adopt: bool) {
        self.adopt = adopt;
    }

    /// Names the remote (or the local repository) in messages.
    pub(crate) fn place(&self, remote: bool) -> String {
        match (&self.remote_url, remote) {
            (Some(url), true) => format!("the remote {url}"),
            _ => format!("the sync repository {}", self.repo_path().display()),
        }
    }

    /// Creates the sync repository, or clones it when the remote has the
    /// branch, or (already there) sets its remote. An unreachable remote does
    /// not fail: the repository starts alone and merges with it on a later sync.
    /// A remote holding a history chittysync did not write is refused (and
    /// nothing is left behind) unless `adopt`: then the repository starts with
    /// chittysync's first commit merged with it, their files kept as they are.
    pub fn init(
        settings: &GitSettings,
        remote: Option<&str>,
        branch: Option<&str>,
        adopt: bool,
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
            let existed = settings.repo.exists();
            if let Err(e) = create(settings, remote, branch, adopt, &mut report) {
                // Leave nothing behind: the folder had no repository before.
                let _ = std::fs::remove_dir_all(settings.repo.join(".git"));
                if !existed {
                    let _ = std::fs::remove_dir(&settings.repo);
                }
                return Err(e);
            }
        }
        let mut settings = settings.clone();
        if remote.is_some() {
            settings.remote = remote.map(str::to_string);
        }
        let mut sync = GitSync::open(&settings)?;
        sync.set_adopt(adopt);
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
    adopt: bool,
    report: &mut InitReport,
) -> Result<(), GitSyncError> {
    let path = &settings.repo;
    // The repository holds every device's observations: a folder made for
    // it (and the missing ones above, chittysync's home among them) is
    // the user's alone, whatever the umask (docs/DAEMON.md, "Files and
    // their modes"). A folder that exists is left as it is.
    if !path.exists() {
        use std::os::unix::fs::DirBuilderExt;
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(path)
            .map_err(|cause| GitSyncError::Io {
                action: "create",
                path: path.clone(),
                cause,
            })?;
    }
    let mut options = RepositoryInitOptions::new();
    options.initial_head(branch).mkpath(true);
    let repo = Repository::init_opts(path, &options)
        .ctx(|| format!("creating a repository in {}", path.display()))?;
    report.created = true;
    // Someone else's history on the remote, to adopt.
    let mut theirs = None;
    if let Some(url) = remote {
        set_remote(&repo, url)?;
        match remote::fetch(&repo, branch) {
            Err(e) => report.offline = Some(e.message().to_string()),
            Ok(()) => {
                if let Some(commit) = commit_of(&repo, &remote::tracking_ref(branch))? {
                    if marker::is_chittysync(&repo, &commit)? {
                        checkout_and_move(&repo, branch, &commit, None, "chittysync: clone")?;
                        report.cloned = true;
                    } else if adopt {
                        theirs = Some(commit);
                    } else {
                        return Err(GitSyncError::ForeignHistory {
                            place: format!("the remote {url}"),
                            found: marker::describe(&commit),
                        });
                    }
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
        entries.insert(MARKER_FILE.to_string(), marker::first(&repo)?);
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
        let mut commit = repo
            .find_commit(oid)
            .ctx(|| "reading the first commit".into())?;
        if let Some(theirs) = theirs {
            commit = adopt_at_init(&repo, &commit, &entries, &theirs)?;
            report.adopted = true;
        }
        checkout_and_move(&repo, branch, &commit, None, "chittysync: init")?;
    }
    Ok(())
}

/// Joins chittysync's first commit and someone else's history: their files
/// stay as they are, and the marker lists them as theirs.
fn adopt_at_init<'r>(
    repo: &'r Repository,
    first: &Commit<'r>,
    ours: &Entries,
    theirs: &Commit<'r>,
) -> Result<Commit<'r>, GitSyncError> {
    let their_entries = tree::flatten(&theirs.tree().ctx(|| "reading the remote tree".into())?)?;
    let mut entries = ours.clone();
    marker::adopt(repo, &mut entries, ours, &their_entries)?;
    let tree = repo
        .find_tree(tree::build(repo, &entries)?)
        .ctx(|| "reading the adopted tree".into())?;
    let signature = signature("init")?;
    let oid = repo
        .commit(
            None,
            &signature,
            &signature,
            "chittysync: adopt the remote history (its files are kept as they are)",
            &tree,
            &[first, theirs],
        )
        .ctx(|| "writing the adopting commit".into())?;
    repo.find_commit(oid)
        .ctx(|| "reading the adopting commit".into())
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
