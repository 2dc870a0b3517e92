//! Where the sync repository is and how often to commit and push, from the
//! config's `[git]` table.

use chittysync_config::{GitConfig, Locations};
use std::path::PathBuf;
use std::time::Duration;

/// The git sync's settings, resolved against chittysync's home.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GitSettings {
    /// The sync repository's work tree (`[git] repo`, default `<home>/git`; a
    /// relative path is taken from the home).
    pub repo: PathBuf,
    /// The remote URL. When set, it overrides the repository's `origin`.
    pub remote: Option<String>,
    /// The branch `git init` creates or clones. Afterwards the repository's
    /// checked-out branch is the one synced.
    pub branch: String,
    /// The daemon commits at most once per this interval.
    pub commit_interval: Duration,
    /// The daemon pulls and pushes once per this interval.
    pub push_interval: Duration,
    /// Seal what goes to the remote (`[git] encrypt`, docs/ENCRYPTION.md).
    pub encrypt: bool,
    /// The device key (`<home>/sync.key`): it seals when `encrypt`, and opens
    /// sealed logs whenever it exists.
    pub key_path: PathBuf,
}

impl GitSettings {
    pub fn new(locations: &Locations, git: &GitConfig) -> GitSettings {
        let repo = match &git.repo {
            Some(path) if path.is_absolute() => path.clone(),
            Some(path) => locations.home.join(path),
            None => locations.home.join("git"),
        };
        GitSettings {
            repo,
            remote: git.remote.clone().filter(|r| !r.trim().is_empty()),
            branch: git.branch.clone(),
            commit_interval: git.commit_interval,
            push_interval: git.push_interval,
            encrypt: git.encrypt,
            key_path: locations.key_path(),
        }
    }
}
