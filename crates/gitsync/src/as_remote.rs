//! The git sync as a [`Remote`] (docs/GIT_SYNC.md, "One sync interface"):
//! what `sync`, the daemon's commits and pushes and the session-end sync run
//! through the engine's one loop ([`Engine::sync_remote`]).
//!
//! A round of the loop, for git:
//! - `push` stages a batch of this device's observations for the round's
//!   commit (the engine keeps the push cursor until that commit is made);
//! - `pull` fetches (when the round asks the remote), meets the local and
//!   remote histories (fast-forward or merge; a history chittysync did not
//!   write is refused unless adopting; logs the remote lost are restored)
//!   and returns the log lines other devices added since the commit last
//!   read (every log, this device's too, on a store's first sync);
//! - `commit` makes one commit of it all: the merged tree, the staged lines
//!   appended to this device's log, the snapshots rendered from the fold
//!   after the import (none when sealed, docs/ENCRYPTION.md);
//! - `publish` pushes the branch; a remote that moved meanwhile makes
//!   another round (fetch, merge, push again), five at most.

use crate::error::{GitContext, GitSyncError};
use crate::message::Change;
use crate::remote::{self, Pushed as BranchPushed};
use crate::repo::{checkout_and_move, GitSync};
use crate::sync::{restore_logs, Integration, SyncReport};
use crate::tree::{self, Entries};
use crate::{export, import, layout, maintenance, marker, snapshot, state};
use chittysync_core::Observation;
use chittysync_engine::Via;
use chittysync_engine::{Engine, Published, Pulled, Pushed, Remote, RemoteCursor, RemoteError};
use git2::{Commit, Oid};
use std::collections::{BTreeMap, BTreeSet};

/// How many rounds a sync makes when the remote keeps moving.
const ROUNDS: u32 = 5;

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

impl RemoteError for GitSyncError {
    fn is_transient(&self) -> bool {
        matches!(self, GitSyncError::Offline { .. })
    }
}

/// The sync repository as a [`Remote`], writing as one device.
pub struct GitRemote<'g> {
    sync: &'g GitSync,
    device: String,
    /// Fetch before meeting the histories.
    fetch: bool,
    /// Push the branch once committed.
    push: bool,
    /// The store never read this repository: every log is read, and lines
    /// already in this device's log are not written again.
    first_sync: bool,
    staged: Vec<Observation>,
    pending: Option<Pending>,
    rounds: u32,
    pub(crate) report: SyncReport,
}

/// What a round's pull found, for its commit.
struct Pending {
    entries: Entries,
    parents: Vec<Oid>,
    /// The local tree, when the base is it unchanged.
    local_tree: Option<Oid>,
    /// The branch before the round.
    old: Option<Oid>,
    restored: Vec<String>,
    foreign: BTreeSet<String>,
    marked: bool,
    by_device: BTreeMap<String, u64>,
}

impl GitSync {
    /// This repository as a [`Remote`] for `device`'s observations, asking
    /// the remote (fetch, push) when one is set.
    pub fn as_remote(&self, device: &str) -> GitRemote<'_> {
        let networked = self.remote_url.is_some();
        GitRemote::new(self, device, networked, networked)
    }
}

impl<'g> GitRemote<'g> {
    pub(crate) fn new(sync: &'g GitSync, device: &str, fetch: bool, push: bool) -> GitRemote<'g> {
        GitRemote {
            sync,
            device: device.to_string(),
            fetch: fetch && sync.remote_url.is_some(),
            push: push && sync.remote_url.is_some(),
            first_sync: false,
            staged: Vec::new(),
            pending: None,
            rounds: 0,
            report: SyncReport::default(),
        }
    }

    fn offline(&self, detail: &str) -> GitSyncError {
        GitSyncError::Offline {
            remote: self.sync.remote_url.clone().unwrap_or_default(),
            detail: detail.to_string(),
        }
    }

    fn refused(&self, words: String) -> GitSyncError {
        GitSyncError::PushRefused {
            remote: self.sync.remote_url.clone().unwrap_or_default(),
            branch: self.sync.branch.clone(),
            words,
        }
    }

    fn flat(&self, commit: &Commit<'_>) -> Result<Entries, GitSyncError> {
        tree::flatten(
            &commit
                .tree()
                .ctx(|| format!("reading the tree of {}", commit.id()))?,
        )
    }
}

impl Remote for GitRemote<'_> {
    type Cursor = GitCursor;
    type Error = GitSyncError;

    fn name(&self) -> &'static str {
        state::REMOTE
    }

    fn via(&self) -> Via {
        Via::Git
    }

    /// A commit the repository does not hold (it was replaced) is no cursor.
    fn resume(&mut self, after: &GitCursor) -> bool {
        let known = after
            .0
            .is_none_or(|oid| self.sync.repo.find_commit(oid).is_ok());
        self.first_sync = after.0.is_none() || !known;
        known
    }

    fn push(&mut self, batch: &[Observation]) -> Result<Pushed, GitSyncError> {
        self.staged.extend_from_slice(batch);
        Ok(Pushed {
            new: batch.len() as u64,
            staged: true,
            ..Pushed::default()
        })
    }

    fn pull(&mut self, after: &GitCursor) -> Result<Pulled<GitCursor>, GitSyncError> {
        let sync = self.sync;
        let repo = &sync.repo;
        if self.fetch {
            match remote::fetch(repo, &sync.branch) {
                Ok(()) => self.report.fetched = true,
                Err(e) => self.report.offline = Some(e.message().to_string()),
            }
        }
        let local = sync.tip()?;
        let remote_tip = sync.tracking_tip()?;
        let mut base = sync.integrate(local.as_ref(), remote_tip.as_ref())?;
        self.report.integration = self.report.integration.max(base.integration);
        // What this device had committed, when the remote brought changes.
        let known = match &local {
            Some(l) if base.integration != Integration::UpToDate => Some(self.flat(l)?),
            _ => None,
        };
        sync.check_whose(
            local.as_ref(),
            remote_tip.as_ref(),
            &mut base,
            known.as_ref(),
        )?;
        self.report.adopted |= base.adopted;
        let restored = match &known {
            Some(known) => restore_logs(repo, known, &mut base.entries)?,
            None => Vec::new(),
        };
        let (foreign, marked) = marker::ensure(repo, &mut base.entries)?;
        let before = match after.0.and_then(|oid| repo.find_commit(oid).ok()) {
            Some(commit) => self.flat(&commit)?,
            None => Entries::new(),
        };
        // This device's own lines came from this store, except on a first
        // sync (a reinstalled device recovers its history).
        let own = layout::device_dir(&self.device);
        let skip = (!self.first_sync).then_some(own.as_str());
        let decoded = import::new_lines(repo, &before, &base.entries, skip, &sync.encryption)?;
        self.report.rejected_lines.extend(decoded.rejected);
        let mut by_device = BTreeMap::new();
        for obs in &decoded.observations {
            *by_device.entry(obs.device.clone()).or_default() += 1;
        }
        // Every log of this commit is in the store once the page is ingested.
        let read = match base.integration {
            Integration::UpToDate => local.as_ref(),
            _ => remote_tip.as_ref(),
        };
        let cursor = GitCursor(read.map(Commit::id));
        self.pending = Some(Pending {
            entries: base.entries,
            parents: base.parents.iter().map(Commit::id).collect(),
            local_tree: base.local_tree,
            old: local.as_ref().map(Commit::id),
            restored,
            foreign,
            marked,
            by_device,
        });
        Ok(Pulled {
            observations: decoded.observations,
            cursor,
            more: false,
        })
    }

    fn commit(&mut self, engine: &mut Engine) -> Result<(), GitSyncError> {
        let Some(pending) = self.pending.take() else {
            return Ok(());
        };
        let sync = self.sync;
        let repo = &sync.repo;
        let encryption = &sync.encryption;
        let mut entries = pending.entries;
        let mut fresh = std::mem::take(&mut self.staged);
        if self.first_sync && !fresh.is_empty() {
            let logged = export::logged_ids(repo, &self.device, &entries)?;
            fresh.retain(|o| !logged.contains(&encryption.outgoing_id(o)));
        }
        let mut by_project = BTreeMap::new();
        if !encryption.seals() {
            for obs in &fresh {
                *by_project.entry(obs.project.clone()).or_default() += 1;
            }
        }
        let exported = fresh.len() as u64;
        if !fresh.is_empty() {
            export::append_to_shards(
                repo,
                &self.device,
                &mut entries,
                &encryption.outgoing(&fresh)?,
            )?;
        }
        self.report.exported += exported;
        // The outputs, and the snapshots, show what this round took in.
        engine.refresh_outputs()?;
        let loaded = state::snapshot_mark(engine.reader())?;
        let mut mark = loaded;
        // Snapshots hold the text: a sealed history has none
        // (docs/ENCRYPTION.md), and loses those an earlier plain sync wrote.
        let rendered = if encryption.seals() {
            snapshot::remove(&mut entries, &mut mark, &pending.foreign)
        } else {
            snapshot::refresh(repo, engine, &mut entries, &mut mark, &pending.foreign)?
        };
        let tree = match pending.local_tree {
            Some(tree) if exported == 0 && !rendered && !pending.marked => tree,
            _ => tree::build(repo, &entries)?,
        };
        let parents = pending
            .parents
            .iter()
            .map(|oid| repo.find_commit(*oid))
            .collect::<Result<Vec<_>, _>>()
            .ctx(|| "reading the parents".into())?;
        let head = match parents.as_slice() {
            [] if entries.is_empty() => None,
            [only] if only.tree_id() == tree => Some(only.clone()),
            parents => {
                let change = Change {
                    device: &self.device,
                    exported: &by_project,
                    imported: &pending.by_device,
                    merge: parents.len() > 1,
                    restored: &pending.restored,
                    fold: engine.reader().fold_counts()?,
                    sealed: encryption.seals().then_some(exported),
                };
                let commit = sync.commit(&self.device, tree, parents, &change)?;
                self.report.commit = Some(commit.id().to_string());
                Some(commit)
            }
        };
        if let Some(head) = &head {
            if Some(head.id()) != pending.old {
                checkout_and_move(repo, &sync.branch, head, pending.old, "chittysync: sync")?;
            }
            // Every log of the new commit is in the store, this device's
            // lines included: it is where the next pull starts, and a store
            // whose commit the repository lost (replaced) starts over.
            let read = GitCursor(Some(head.id())).to_text();
            engine.update_sync_state(state::REMOTE, |s| s.pull_cursor = Some(read))?;
        }
        if mark != loaded {
            state::save_snapshot_mark(engine, mark)?;
        }
        if !pending.restored.is_empty() {
            let at = head
                .as_ref()
                .map(|c| c.id().to_string())
                .unwrap_or_default();
            state::record_restore(
                engine,
                &format!(
                    "{} (commit {})",
                    pending.restored.join("; "),
                    &at[..at.len().min(12)]
                ),
            )?;
            self.report.restored.extend(pending.restored);
        }
        if head.is_some() && self.report.commit.is_some() {
            self.report.packed |= maintenance::pack_if_needed(repo)?;
        }
        self.first_sync = false;
        Ok(())
    }

    fn publish(&mut self, engine: &mut Engine) -> Result<Published, GitSyncError> {
        let sync = self.sync;
        let Some(url) = sync.remote_url.clone().filter(|_| self.push || self.fetch) else {
            return Ok(Published::Done);
        };
        if let Some(why) = self.report.offline.clone() {
            return Err(self.offline(&why));
        }
        let Some(tip) = sync.tip()?.map(|c| c.id()) else {
            return Ok(Published::Done);
        };
        if !self.push || sync.ahead()? == 0 {
            return Ok(Published::Done);
        }
        self.rounds += 1;
        match remote::push(&sync.repo, &sync.branch) {
            Err(e) => {
                self.report.offline = Some(e.message().to_string());
                Err(self.offline(e.message()))
            }
            Ok(BranchPushed::Accepted) => {
                self.report.pushed = true;
                sync.repo
                    .reference(
                        &remote::tracking_ref(&sync.branch),
                        tip,
                        true,
                        "chittysync: push",
                    )
                    .ctx(|| "recording the push".into())?;
                state::record_push(engine, tip)?;
                // A remote on this machine takes pushes without checking
                // that its branch did not move meanwhile: a fetch confirms.
                if remote::is_local(&url) && self.rounds < ROUNDS {
                    Ok(Published::Again)
                } else {
                    Ok(Published::Done)
                }
            }
            Ok(BranchPushed::Refused(words)) => {
                self.report.refused = Some(words.clone());
                Err(self.refused(words))
            }
            Ok(BranchPushed::Behind(words)) => {
                self.report.push_retries += 1;
                // The next round fetches what moved, and merges it.
                self.fetch = true;
                if self.rounds < ROUNDS {
                    return Ok(Published::Again);
                }
                let words = format!(
                    "{words} — still after fetching, merging and pushing again {ROUNDS} times"
                );
                self.report.refused = Some(words.clone());
                Err(self.refused(words))
            }
        }
    }

    fn asks_remote(&self) -> bool {
        self.fetch || self.push
    }
}
