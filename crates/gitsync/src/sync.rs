//! One sync: pull (fetch and merge), import, export, commit, push.
//!
//! The order matters. Pulling first means a commit is made on top of what the
//! remote has, so most pushes are fast-forwards. Importing before exporting
//! means the snapshots committed are the fold of every device's observations.
//! A diverged history is merged tree by tree ([`crate::tree::merge`]): logs
//! are per device, so only the snapshots differ, and they are regenerated.
//!
//! What the sync never does (docs/GIT_SYNC.md, "What a sync never does"):
//! merge with a history chittysync did not write unless told to adopt it
//! ([`crate::marker`]), write a file it did not write, let an observation log
//! shrink (a log the remote deleted or shortened is restored from this
//! device's last commit), or call a push the remote refused a success.

use crate::error::{GitContext, GitSyncError};
use crate::export;
use crate::import::{self, Imported};
use crate::log;
use crate::marker;
use crate::message::{self, Change};
use crate::remote::{self, Pushed};
use crate::repo::{checkout_and_move, signature, GitSync};
use crate::state::{self, Cursors};
use crate::tree::{self, Entries};
use crate::{layout, snapshot};
use chittysync_engine::Engine;
use git2::{Commit, ErrorCode, Oid};
use serde::Serialize;
use std::time::Instant;

/// How many times a rejected push is merged and retried in one sync.
const PUSH_ATTEMPTS: u32 = 5;

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
struct Base<'r> {
    entries: Entries,
    parents: Vec<Commit<'r>>,
    integration: Integration,
    /// The local tree, when the base is it unchanged.
    local_tree: Option<Oid>,
    /// A history chittysync did not write was adopted into it.
    adopted: bool,
}

impl GitSync {
    /// Pulls, imports, exports, commits and pushes, now (the one-shot `sync`,
    /// and the daemon at session end).
    pub fn sync_once(&mut self, engine: &mut Engine) -> Result<SyncReport, GitSyncError> {
        let started = Instant::now();
        let _lock = self.lock()?;
        let mut report = SyncReport::default();
        self.pull_and_commit(engine, &mut report, true)?;
        self.push_until_accepted(engine, &mut report)?;
        self.finish(engine, &mut report, Instant::now(), true)?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        if let Some(words) = report.refused.take() {
            return Err(GitSyncError::PushRefused {
                remote: self.remote_url.clone().unwrap_or_default(),
                branch: self.branch.clone(),
                words,
            });
        }
        Ok(report)
    }

    /// How a refused push reads in `status`.
    pub(crate) fn refusal(&self, words: &str) -> String {
        GitSyncError::PushRefused {
            remote: self.remote_url.clone().unwrap_or_default(),
            branch: self.branch.clone(),
            words: words.to_string(),
        }
        .to_string()
    }

    /// Fetches (when asked and a remote is set), then commits whatever is new
    /// on either side.
    pub(crate) fn pull_and_commit(
        &self,
        engine: &mut Engine,
        report: &mut SyncReport,
        fetch: bool,
    ) -> Result<(), GitSyncError> {
        if fetch && self.remote_url.is_some() {
            match remote::fetch(&self.repo, &self.branch) {
                Ok(()) => report.fetched = true,
                Err(e) => report.offline = Some(e.message().to_string()),
            }
        }
        let result = self.commit_changes(engine, report);
        if let Err(e @ GitSyncError::ForeignHistory { .. }) = &result {
            // Shown by `status` until a sync succeeds.
            state::record_error(engine, Some(&e.to_string()))?;
        }
        result
    }

    fn commit_changes(
        &self,
        engine: &mut Engine,
        report: &mut SyncReport,
    ) -> Result<(), GitSyncError> {
        let local = self.tip()?;
        let remote = self.tracking_tip()?;
        let mut base = self.integrate(local.as_ref(), remote.as_ref())?;
        report.integration = report.integration.max(base.integration);
        // What this device had committed, when the remote brought changes.
        let known = match &local {
            Some(l) if base.integration != Integration::UpToDate => Some(tree::flatten(
                &l.tree().ctx(|| "reading the local tree".into())?,
            )?),
            _ => None,
        };
        self.check_whose(local.as_ref(), remote.as_ref(), &mut base, known.as_ref())?;
        report.adopted |= base.adopted;
        let restored = match &known {
            Some(known) => restore_logs(&self.repo, known, &mut base.entries)?,
            None => Vec::new(),
        };
        let (foreign, marked) = marker::ensure(&self.repo, &mut base.entries)?;
        let loaded = Cursors::load(engine.store())?;
        let mut cursors = loaded.clone();
        // A store that never synced with this repository (new, or the
        // repository was replaced): import every log, ours included, and
        // export everything not already in our log.
        let first_sync = cursors
            .imported
            .is_none_or(|oid| self.repo.find_commit(oid).is_err());
        if first_sync {
            cursors.imported = None;
            cursors.export_seq = 0;
        }
        let device = engine.device().to_string();
        let imported = self.import(engine, &cursors, &base.entries, &device)?;
        report.imported += imported.new;
        report
            .rejected_lines
            .extend(imported.rejected.iter().cloned());

        let mut entries = base.entries;
        let exported = export::export(
            &self.repo,
            engine.store(),
            &device,
            &mut entries,
            &mut cursors.export_seq,
            first_sync,
            &self.encryption,
        )?;
        report.exported += exported.count;
        // Snapshots hold the text: a sealed history has none
        // (docs/ENCRYPTION.md), and loses those an earlier plain sync wrote.
        let rendered = if self.encryption.seals() {
            snapshot::remove(&mut entries, &mut cursors.snapshot, &foreign)
        } else {
            snapshot::refresh(
                &self.repo,
                engine,
                &mut entries,
                &mut cursors.snapshot,
                &foreign,
            )?
        };
        let tree = match base.local_tree {
            Some(tree) if exported.count == 0 && !rendered && !marked => tree,
            _ => tree::build(&self.repo, &entries)?,
        };

        let old = local.as_ref().map(Commit::id);
        let head = match base.parents.as_slice() {
            [] if entries.is_empty() => None,
            [only] if only.tree_id() == tree => Some(only.clone()),
            parents => {
                let change = Change {
                    device: &device,
                    exported: &exported.by_project,
                    imported: &imported.by_device,
                    merge: parents.len() > 1,
                    restored: &restored,
                    fold: engine.store().fold_counts()?,
                    sealed: self.encryption.seals().then_some(exported.count),
                };
                let commit = self.commit(&device, tree, parents, &change)?;
                report.commit = Some(commit.id().to_string());
                Some(commit)
            }
        };
        if let Some(head) = &head {
            if Some(head.id()) != old {
                checkout_and_move(&self.repo, &self.branch, head, old, "chittysync: sync")?;
            }
            cursors.imported = Some(head.id());
        }
        if cursors != loaded {
            cursors.save(engine)?;
        }
        if !restored.is_empty() {
            let at = head
                .as_ref()
                .map(|c| c.id().to_string())
                .unwrap_or_default();
            state::record_restore(
                engine,
                &format!(
                    "{} (commit {})",
                    restored.join("; "),
                    &at[..at.len().min(12)]
                ),
            )?;
            report.restored.extend(restored);
        }
        if imported.new > 0 {
            engine.refresh_outputs()?;
        }
        Ok(())
    }

    /// Where the next commit starts: our tree, the remote's (fast-forward), or
    /// the merge of both.
    fn integrate<'r>(
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
    fn check_whose(
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

    /// Takes in the log lines that arrived since the last imported commit.
    /// This device's own logs are skipped after the first sync: their lines
    /// came from this store. The first sync reads them too, so a reinstalled
    /// device recovers its own history.
    fn import(
        &self,
        engine: &mut Engine,
        cursors: &Cursors,
        entries: &Entries,
        device: &str,
    ) -> Result<Imported, GitSyncError> {
        let before = match cursors
            .imported
            .and_then(|oid| self.repo.find_commit(oid).ok())
        {
            Some(commit) => {
                tree::flatten(&commit.tree().ctx(|| "reading the imported tree".into())?)?
            }
            None => Entries::new(),
        };
        let own = layout::device_dir(device);
        let skip = cursors.imported.is_some().then_some(own.as_str());
        import::import(&self.repo, engine, &before, entries, skip, &self.encryption)
    }

    fn commit(
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

    /// Pushes until the remote has our commits: a rejected push (the remote
    /// moved on) fetches, merges and tries again. A remote on this machine
    /// takes pushes without checking that its branch did not move meanwhile,
    /// so there a fetch after the push confirms it.
    pub(crate) fn push_until_accepted(
        &self,
        engine: &mut Engine,
        report: &mut SyncReport,
    ) -> Result<(), GitSyncError> {
        let Some(url) = self.remote_url.clone() else {
            return Ok(());
        };
        // The remote's words when it last said its branch had moved.
        let mut behind = None;
        for _ in 0..PUSH_ATTEMPTS {
            let Some(tip) = self.tip()?.map(|c| c.id()) else {
                return Ok(());
            };
            if report.offline.is_some() || self.ahead()? == 0 {
                return Ok(());
            }
            behind = None;
            match remote::push(&self.repo, &self.branch) {
                Err(e) => {
                    report.offline = Some(e.message().to_string());
                    return Ok(());
                }
                Ok(Pushed::Accepted) => {
                    report.pushed = true;
                    self.repo
                        .reference(
                            &remote::tracking_ref(&self.branch),
                            tip,
                            true,
                            "chittysync: push",
                        )
                        .ctx(|| "recording the push".into())?;
                    state::record_push(engine, tip)?;
                    if !remote::is_local(&url) {
                        return Ok(());
                    }
                }
                Ok(Pushed::Refused(words)) => {
                    report.refused = Some(words);
                    return Ok(());
                }
                Ok(Pushed::Behind(words)) => {
                    report.push_retries += 1;
                    behind = Some(words);
                }
            }
            self.pull_and_commit(engine, report, true)?;
        }
        if let Some(words) = behind {
            report.refused = Some(format!(
                "{words} — still after fetching, merging and pushing again {PUSH_ATTEMPTS} times"
            ));
        }
        Ok(())
    }
}

/// Logs are append-only: every log this device had committed (`known`) that
/// is missing from `entries`, or no longer begins with what this device had,
/// gets its lines back (the known lines first, then any the remote added).
/// Returns one message per log restored.
fn restore_logs(
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
        let mut report = SyncReport::default();
        sync_b.pull_and_commit(&mut b, &mut report, false).unwrap();
        observe(&mut a, "from a");
        assert!(sync_a.sync_once(&mut a).unwrap().pushed);

        sync_b.push_until_accepted(&mut b, &mut report).unwrap();
        assert_eq!(report.push_retries, 1, "{report:?}");
        assert!(report.pushed);
        assert_eq!(report.integration, Integration::Merge);
        assert_eq!(sync_b.ahead().unwrap(), 0);
        assert_eq!(b.store().observation_count().unwrap(), 2);

        let after = sync_a.sync_once(&mut a).unwrap();
        assert_eq!(after.imported, 1);
        assert_eq!(
            sync_a.tip().unwrap().unwrap().id(),
            sync_b.tip().unwrap().unwrap().id()
        );
    }
}
