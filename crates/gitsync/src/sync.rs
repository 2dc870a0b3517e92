//! One sync: the engine's one loop ([`Engine::sync_remote`]) over the
//! repository as a [`GitRemote`] (crates/gitsync/src/as_remote.rs): stage
//! this device's new observations, pull (fetch and merge) and import, make
//! one commit, push.
//!
//! The order matters. Meeting the histories before committing means a
//! commit is made on top of what the remote has, so most pushes are
//! fast-forwards. Importing before committing means the snapshots committed
//! are the fold of every device's observations.
//! A diverged history is merged tree by tree ([`crate::tree::merge`]): logs
//! are per device, so only the snapshots differ, and they are regenerated.
//!
//! What the sync never does (docs/GIT_SYNC.md, "What a sync never does"):
//! merge with a history chittysync did not write unless told to adopt it
//! ([`crate::marker`]), write a file it did not write, let an observation log
//! shrink (a log the remote deleted or shortened is restored from this
//! device's last commit), or call a push the remote refused a success.

use crate::error::{GitContext, GitSyncError};
use crate::log;
use crate::marker;
use crate::message::{self, Change};
use crate::repo::{signature, GitSync};
use crate::tree::{self, Entries};
use crate::{layout, GitRemote};
use chittysync_engine::{Engine, Remote};
use git2::{Commit, ErrorCode, Oid};
use serde::Serialize;
use std::time::Instant;

/// Local observations appended to the log per batch of the loop.
const EXPORT_BATCH: usize = 10_000;

/// How the local branch met the remote one.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Integration {
    /// The remote had nothing we lacked.
    #[default]
    UpToDate,
    /// The remote was ahead; we moved to it.
    FastForward,
    /// Both had new commits; a merge commit joins them.
    Merge,
}

/// What one sync did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct SyncReport {
    /// The remote answered a fetch.
    pub fetched: bool,
    pub integration: Integration,
    /// Observations from other devices new to the local store.
    pub imported: u64,
    /// Local observations written to this device's log.
    pub exported: u64,
    /// The last commit made, if any.
    pub commit: Option<String>,
    pub pushed: bool,
    /// Pushes the remote rejected because it had moved on (each followed by a merge).
    pub push_retries: u32,
    /// Commits the remote does not have yet.
    pub ahead: u64,
    /// Why the remote could not be reached; the work waits in local commits.
    pub offline: Option<String>,
    /// When the daemon tries the remote again.
    pub retry_in_ms: Option<u64>,
    /// Log lines of other devices that were refused, with file and line.
    pub rejected_lines: Vec<String>,
    /// The repository's loose objects were packed (see `maintenance`).
    pub packed: bool,
    /// Observation logs that the remote deleted or shortened, restored from
    /// this device's last commit (logs are append-only): one message a log.
    pub restored: Vec<String>,
    /// A history chittysync did not write was adopted (`--adopt`).
    pub adopted: bool,
    /// The remote refused the push, in its own words; `sync_once` then fails
    /// with [`GitSyncError::PushRefused`].
    pub refused: Option<String>,
    pub elapsed_ms: u64,
}

/// The tree a new commit starts from, and its parents.
pub(crate) struct Base<'r> {
    pub entries: Entries,
    pub parents: Vec<Commit<'r>>,
    pub integration: Integration,
    /// The local tree, when the base is it unchanged.
    pub local_tree: Option<Oid>,
    /// A history chittysync did not write was adopted into it.
    pub adopted: bool,
}

impl GitSync {
    /// Pulls, imports, exports, commits and pushes, now (the one-shot `sync`,
    /// and the daemon at session end): the engine's one loop over this
    /// repository as a [`crate::GitRemote`].
    pub fn sync_once(&mut self, engine: &mut Engine) -> Result<SyncReport, GitSyncError> {
        self.run(engine, true, true, Instant::now())
    }

    /// One run of the loop under the repository's lock: fetching and
    /// pushing only when asked (and a remote is set). An unreachable remote
    /// is no error: the report says `offline` and the work waits in local
    /// commits. The schedule's backoff and `ahead` are updated.
    pub(crate) fn run(
        &mut self,
        engine: &mut Engine,
        fetch: bool,
        push: bool,
        now: Instant,
    ) -> Result<SyncReport, GitSyncError> {
        let started = Instant::now();
        let _lock = self.lock()?;
        let device = engine.device().to_string();
        let mut remote = GitRemote::new(self, &device, fetch, push);
        let networked = remote.asks_remote();
        let result = engine.sync_remote(&mut remote, EXPORT_BATCH);
        let mut report = std::mem::take(&mut remote.report);
        let failure = match result {
            Ok(outcome) => {
                report.imported = outcome.pulled;
                None
            }
            // The remote is unreachable: what was done stays committed here.
            Err(GitSyncError::Offline { .. }) => None,
            Err(e @ GitSyncError::PushRefused { .. }) => Some(e),
            Err(e) => return Err(e),
        };
        if networked {
            // A refused push is retried with backoff too (a hook may relent).
            let failed = failure.is_some() || report.offline.is_some();
            let wait = self.schedule.record(failed, now);
            report.retry_in_ms = wait.map(|w| w.as_millis() as u64);
        }
        report.ahead = self.ahead()?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        match failure {
            Some(e) => Err(e),
            None => Ok(report),
        }
    }

    /// Where the next commit starts: our tree, the remote's (fast-forward), or
    /// the merge of both.
    pub(crate) fn integrate<'r>(
        &'r self,
        local: Option<&Commit<'r>>,
        remote: Option<&Commit<'r>>,
    ) -> Result<Base<'r>, GitSyncError> {
        let repo = &self.repo;
        let flat = |c: &Commit<'_>| -> Result<Entries, GitSyncError> {
            tree::flatten(&c.tree().ctx(|| format!("reading the tree of {}", c.id()))?)
        };
        let descends = |a: &Commit<'_>, b: &Commit<'_>| -> Result<bool, GitSyncError> {
            Ok(a.id() == b.id()
                || repo
                    .graph_descendant_of(a.id(), b.id())
                    .ctx(|| "comparing histories".into())?)
        };
        let base = match (local, remote) {
            (None, None) => Base {
                entries: Entries::new(),
                parents: Vec::new(),
                integration: Integration::UpToDate,
                local_tree: None,
                adopted: false,
            },
            (Some(l), None) => self.local_base(l, flat(l)?),
            (Some(l), Some(r)) if descends(l, r)? => self.local_base(l, flat(l)?),
            (None, Some(r)) => Base {
                entries: flat(r)?,
                parents: vec![r.clone()],
                integration: Integration::FastForward,
                local_tree: None,
                adopted: false,
            },
            (Some(l), Some(r)) if descends(r, l)? => Base {
                entries: flat(r)?,
                parents: vec![r.clone()],
                integration: Integration::FastForward,
                local_tree: None,
                adopted: false,
            },
            (Some(l), Some(r)) => {
                let ancestor = match repo.merge_base(l.id(), r.id()) {
                    Ok(oid) => flat(
                        &repo
                            .find_commit(oid)
                            .ctx(|| "reading the merge base".into())?,
                    )?,
                    // Unrelated histories (two devices started apart): no common files.
                    Err(e) if e.code() == ErrorCode::NotFound => Entries::new(),
                    Err(e) => return Err(e).ctx(|| "finding the merge base".into()),
                };
                Base {
                    entries: tree::merge(repo, &ancestor, &flat(l)?, &flat(r)?)?,
                    parents: vec![l.clone(), r.clone()],
                    integration: Integration::Merge,
                    local_tree: None,
                    adopted: false,
                }
            }
        };
        Ok(base)
    }

    fn local_base<'r>(&self, local: &Commit<'r>, entries: Entries) -> Base<'r> {
        Base {
            entries,
            parents: vec![local.clone()],
            integration: Integration::UpToDate,
            local_tree: Some(local.tree_id()),
            adopted: false,
        }
    }

    /// Refuses a history chittysync did not write (the local one, or the
    /// remote's when it brought commits), unless adopting: then their files
    /// keep their versions and are listed in the marker as not chittysync's.
    pub(crate) fn check_whose(
        &self,
        local: Option<&Commit<'_>>,
        remote: Option<&Commit<'_>>,
        base: &mut Base<'_>,
        known: Option<&Entries>,
    ) -> Result<(), GitSyncError> {
        let mut foreign = Vec::new();
        if let Some(l) = local {
            if !marker::is_chittysync(&self.repo, l)? {
                foreign.push((false, l));
            }
        }
        if let Some(r) = remote.filter(|_| base.integration != Integration::UpToDate) {
            if !marker::is_chittysync(&self.repo, r)? {
                foreign.push((true, r));
            }
        }
        let Some(&(is_remote, first)) = foreign.first() else {
            return Ok(());
        };
        if !self.adopt {
            return Err(GitSyncError::ForeignHistory {
                place: self.place(is_remote),
                found: marker::describe(first),
            });
        }
        let none = Entries::new();
        for (is_remote, commit) in foreign {
            let theirs = tree::flatten(&commit.tree().ctx(|| "reading the tree to adopt".into())?)?;
            let ours = if is_remote {
                known.unwrap_or(&none)
            } else {
                &none
            };
            marker::adopt(&self.repo, &mut base.entries, ours, &theirs)?;
        }
        base.local_tree = None;
        base.adopted = true;
        Ok(())
    }

    pub(crate) fn commit(
        &self,
        device: &str,
        tree: Oid,
        parents: &[Commit<'_>],
        change: &Change<'_>,
    ) -> Result<Commit<'_>, GitSyncError> {
        let tree = self
            .repo
            .find_tree(tree)
            .ctx(|| "reading the new tree".into())?;
        let signature = signature(device)?;
        let parents: Vec<&Commit<'_>> = parents.iter().collect();
        let oid = self
            .repo
            .commit(
                None,
                &signature,
                &signature,
                &message::compose(change),
                &tree,
                &parents,
            )
            .ctx(|| "writing a commit".into())?;
        self.repo
            .find_commit(oid)
            .ctx(|| "reading the new commit".into())
    }
}

/// Logs are append-only: every log this device had committed (`known`) that
/// is missing from `entries`, or no longer begins with what this device had,
/// gets its lines back (the known lines first, then any the remote added).
/// Returns one message per log restored.
pub(crate) fn restore_logs(
    repo: &git2::Repository,
    known: &Entries,
    entries: &mut Entries,
) -> Result<Vec<String>, GitSyncError> {
    let content = |oid: Oid, path: &str| -> Result<Vec<u8>, GitSyncError> {
        Ok(repo
            .find_blob(oid)
            .ctx(|| format!("reading {path}"))?
            .content()
            .to_vec())
    };
    let lines = |n: usize| format!("{n} line{}", if n == 1 { "" } else { "s" });
    let mut restored = Vec::new();
    for (path, had) in known.iter().filter(|(p, _)| layout::is_log(p)) {
        match entries.get(path) {
            Some(now) if now.oid == had.oid => {}
            None => {
                let n = log::line_count(&content(had.oid, path)?);
                entries.insert(path.clone(), *had);
                restored.push(format!(
                    "{path}: {} restored (the remote deleted the log)",
                    lines(n)
                ));
            }
            Some(now) => {
                let old = content(had.oid, path)?;
                let new = content(now.oid, path)?;
                if new.starts_with(&old) && (old.is_empty() || old.ends_with(b"\n")) {
                    continue;
                }
                let (merged, missing) = tree::union_of_lines(repo, had, now)?;
                entries.insert(path.clone(), merged);
                if missing > 0 {
                    restored.push(format!(
                        "{path}: {} restored (the remote removed them from the log)",
                        lines(missing)
                    ));
                }
            }
        }
    }
    Ok(restored)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::GitSettings;
    use chittysync_config::{Config, GitConfig, Locations};
    use chittysync_core::{Observation, Source, Status, Timestamp};
    use std::path::Path;

    fn device(root: &Path, name: &str, remote: &Path) -> (Engine, GitSync) {
        let locations = Locations {
            claude_dir: root.join(name).join("claude"),
            agents_home: None,
            home: root.join(name).join("home"),
            config: None,
        };
        let config = Config {
            device: Some(name.to_string()),
            ..Config::default()
        };
        let engine = Engine::open(&locations, &config).unwrap();
        let settings = GitSettings::new(&locations, &GitConfig::default());
        let (sync, _) =
            GitSync::init(&settings, Some(remote.to_str().unwrap()), None, false).unwrap();
        (engine, sync)
    }

    fn observe(engine: &mut Engine, content: &str) {
        let obs = Observation::new(
            "p",
            content.into(),
            None,
            Status::Pending,
            format!("{}-session", engine.device()),
            None,
            engine.device(),
            Source::File,
            Timestamp::now(),
        );
        engine.ingest_local(&[obs]).unwrap();
    }

    #[test]
    fn a_rejected_push_fetches_merges_and_retries() {
        let root = tempfile::tempdir().unwrap();
        let remote = root.path().join("remote.git");
        git2::Repository::init_bare(&remote).unwrap();
        let (mut a, mut sync_a) = device(root.path(), "a", &remote);
        let (mut b, mut sync_b) = device(root.path(), "b", &remote);
        sync_a.sync_once(&mut a).unwrap();
        sync_b.sync_once(&mut b).unwrap();

        // b commits on a stale view of the remote, then a pushes first.
        observe(&mut b, "from b");
        let local = sync_b.run(&mut b, false, false, Instant::now()).unwrap();
        assert!(local.commit.is_some() && !local.pushed, "{local:?}");
        observe(&mut a, "from a");
        assert!(sync_a.sync_once(&mut a).unwrap().pushed);

        // b pushes without fetching first: refused as behind, the next round
        // fetches, merges and pushes.
        let mut remote = GitRemote::new(&sync_b, "b", false, true);
        b.sync_remote(&mut remote, EXPORT_BATCH).unwrap();
        let report = remote.report;
        assert_eq!(report.push_retries, 1, "{report:?}");
        assert!(report.pushed);
        assert_eq!(report.integration, Integration::Merge);
        assert_eq!(sync_b.ahead().unwrap(), 0);
        assert_eq!(b.reader().observation_count().unwrap(), 2);

        let after = sync_a.sync_once(&mut a).unwrap();
        assert_eq!(after.imported, 1);
        assert_eq!(
            sync_a.tip().unwrap().unwrap().id(),
            sync_b.tip().unwrap().unwrap().id()
        );
    }
}
