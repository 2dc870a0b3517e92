//! The git sync as a [`Remote`] (docs/GIT_SYNC.md#one-sync-interface): push
//! appends a batch to this device's log on top of the remote branch, commits
//! and pushes (a branch that moved meanwhile is fetched and the commit made
//! again on its new tip); pull reads the log lines the remote branch holds beyond the
//! commit last read. Sealing and opening as in the full sync
//! (docs/ENCRYPTION.md). The full sync ([`GitSync::sync_once`]) does more —
//! snapshots, merges of local commits, restoring logs, adopting histories —
//! and is what `sync` and the daemon run; this is the narrow interface the
//! hub shares.

use crate::error::{GitContext, GitSyncError};
use crate::remote;
use crate::repo::{signature, GitSync};
use crate::tree::{self, Entries};
use crate::{export, import, marker};
use chittysync_core::Observation;
use chittysync_engine::{Pulled, Pushed, Remote, RemoteCursor, RemoteError};
use chittysync_store::Via;
use git2::Oid;

/// How many times a push the remote's branch moved under is tried again.
const ATTEMPTS: u32 = 5;

/// The sync repository as a [`Remote`], writing as `device`.
pub struct GitRemote<'g> {
    sync: &'g mut GitSync,
    device: String,
}

impl GitSync {
    /// This repository as a [`Remote`] for `device`'s observations.
    pub fn as_remote(&mut self, device: &str) -> GitRemote<'_> {
        GitRemote {
            sync: self,
            device: device.to_string(),
        }
    }
}

impl RemoteError for GitSyncError {
    fn is_transient(&self) -> bool {
        matches!(self, GitSyncError::Offline { .. })
    }
}

impl GitRemote<'_> {
    /// Fetches (when there is a remote) and returns the remote branch's tip.
    fn fetch_tip(&self) -> Result<Option<Oid>, GitSyncError> {
        let sync = &*self.sync;
        match &sync.remote_url {
            Some(url) => {
                remote::fetch(&sync.repo, &sync.branch).map_err(|e| GitSyncError::Offline {
                    remote: url.clone(),
                    detail: e.message().to_string(),
                })?;
                Ok(sync.tracking_tip()?.map(|c| c.id()))
            }
            None => Ok(sync.tip()?.map(|c| c.id())),
        }
    }

    fn entries(&self, commit: Option<Oid>) -> Result<Entries, GitSyncError> {
        match commit {
            Some(oid) => {
                let commit = self
                    .sync
                    .repo
                    .find_commit(oid)
                    .ctx(|| format!("reading commit {oid}"))?;
                tree::flatten(&commit.tree().ctx(|| "reading a tree".into())?)
            }
            None => Ok(Entries::new()),
        }
    }
}

/// Where a pull from git resumes: the commit whose logs were read (`None`
/// before the first pull).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GitCursor(pub Option<Oid>);

impl RemoteCursor for GitCursor {
    fn to_text(&self) -> String {
        self.0.map(|oid| oid.to_string()).unwrap_or_default()
    }

    fn from_text(text: &str) -> Option<GitCursor> {
        if text.is_empty() {
            return Some(GitCursor(None));
        }
        text.parse().ok().map(|oid| GitCursor(Some(oid)))
    }
}

impl Remote for GitRemote<'_> {
    type Cursor = GitCursor;
    type Error = GitSyncError;

    fn name(&self) -> &'static str {
        crate::state::REMOTE
    }

    fn via(&self) -> Via {
        Via::Git
    }

    /// A commit the repository does not hold (it was replaced) is no cursor.
    fn resume(&mut self, after: &GitCursor) -> bool {
        after
            .0
            .is_none_or(|oid| self.sync.repo.find_commit(oid).is_ok())
    }

    fn push(&mut self, batch: &[Observation]) -> Result<Pushed, GitSyncError> {
        let _lock = self.sync.lock()?;
        for _ in 0..ATTEMPTS {
            let base = self.fetch_tip()?;
            let mut entries = self.entries(base)?;
            marker::ensure(&self.sync.repo, &mut entries)?;
            let encryption = &self.sync.encryption;
            let logged = export::logged_ids(&self.sync.repo, &self.device, &entries)?;
            let fresh: Vec<Observation> = batch
                .iter()
                .filter(|o| !logged.contains(&encryption.outgoing_id(o)))
                .cloned()
                .collect();
            if fresh.is_empty() {
                return Ok(Pushed::default());
            }
            export::append_to_shards(
                &self.sync.repo,
                &self.device,
                &mut entries,
                &encryption.outgoing(&fresh)?,
            )?;
            let repo = &self.sync.repo;
            let tree = repo
                .find_tree(tree::build(repo, &entries)?)
                .ctx(|| "reading the new tree".into())?;
            let parent = base
                .map(|oid| repo.find_commit(oid))
                .transpose()
                .ctx(|| "reading the remote's tip".into())?;
            let signature = signature(&self.device)?;
            let message = format!(
                "{}: {} new observation{}\n",
                self.device,
                fresh.len(),
                if fresh.len() == 1 { "" } else { "s" }
            );
            let commit = repo
                .commit(
                    None,
                    &signature,
                    &signature,
                    &message,
                    &tree,
                    &parent.iter().collect::<Vec<_>>(),
                )
                .ctx(|| "writing a commit".into())?;
            repo.reference(&self.sync.branch_ref(), commit, true, "chittysync: push")
                .ctx(|| "moving the branch".into())?;
            let Some(url) = self.sync.remote_url.clone() else {
                return Ok(Pushed::new(fresh.len() as u64));
            };
            match remote::push(repo, &self.sync.branch) {
                Err(e) => {
                    return Err(GitSyncError::Offline {
                        remote: url,
                        detail: e.message().to_string(),
                    })
                }
                Ok(remote::Pushed::Accepted) => {
                    repo.reference(
                        &remote::tracking_ref(&self.sync.branch),
                        commit,
                        true,
                        "chittysync: push",
                    )
                    .ctx(|| "recording the push".into())?;
                    return Ok(Pushed::new(fresh.len() as u64));
                }
                Ok(remote::Pushed::Refused(words)) => {
                    return Err(GitSyncError::PushRefused {
                        remote: url,
                        branch: self.sync.branch.clone(),
                        words,
                    })
                }
                Ok(remote::Pushed::Behind(_)) => continue,
            }
        }
        Err(GitSyncError::PushRefused {
            remote: self.sync.remote_url.clone().unwrap_or_default(),
            branch: self.sync.branch.clone(),
            words: format!("the branch kept moving ({ATTEMPTS} tries)"),
        })
    }

    fn pull(&mut self, after: &GitCursor) -> Result<Pulled<GitCursor>, GitSyncError> {
        let tip = self.fetch_tip()?;
        let before = self.entries(after.0)?;
        let now = self.entries(tip)?;
        let decoded =
            import::new_lines(&self.sync.repo, &before, &now, None, &self.sync.encryption)?;
        Ok(Pulled {
            observations: decoded.observations,
            cursor: GitCursor(tip),
            more: false,
        })
    }
}
