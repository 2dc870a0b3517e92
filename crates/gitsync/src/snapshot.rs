//! The snapshot files, regenerated from the fold when it changed.

use crate::error::{GitContext, GitSyncError};
use crate::layout::{COORDINATION_FILE, TODOS_FILE};
use crate::state::SnapshotMark;
use crate::tree::{Entries, Entry};
use chittysync_engine::Engine;
use git2::{Oid, Repository};
use std::collections::BTreeSet;

/// Takes the snapshots out of `entries` (a sealed history holds no text);
/// returns whether there were any. Foreign paths are left alone.
pub fn remove(
    entries: &mut Entries,
    mark: &mut Option<SnapshotMark>,
    foreign: &BTreeSet<String>,
) -> bool {
    *mark = None;
    let mut removed = false;
    for path in [TODOS_FILE, COORDINATION_FILE] {
        if !foreign.contains(path) {
            removed |= entries.remove(path).is_some();
        }
    }
    removed
}

/// Puts the current fold's snapshots into `entries`, unless the ones there are
/// those last rendered and the fold has not changed since (the common case of
/// a sync with nothing new, which must stay cheap). Returns whether it
/// rendered. The engine keeps the fold rendered, so a daemon's sync renders
/// only what changed since its last consolidation or sync. A snapshot path
/// in `foreign` (someone else's file in an adopted history, see
/// [`crate::marker`]) is never written.
pub fn refresh(
    repo: &Repository,
    engine: &mut Engine,
    entries: &mut Entries,
    mark: &mut Option<SnapshotMark>,
    foreign: &BTreeSet<String>,
) -> Result<bool, GitSyncError> {
    let generation = engine.reader().fold_generation()?;
    let current = |path: &str, oid: Oid| {
        foreign.contains(path) || entries.get(path).map(|e| e.oid) == Some(oid)
    };
    if let Some(m) = mark {
        if m.generation == generation
            && current(TODOS_FILE, m.todos)
            && current(COORDINATION_FILE, m.coordination)
        {
            return Ok(false);
        }
    }
    let rendered = engine.render_snapshots()?;
    let todos = repo
        .blob(rendered.todos.as_bytes())
        .ctx(|| format!("writing {TODOS_FILE}"))?;
    let coordination = repo
        .blob(rendered.coordination.as_bytes())
        .ctx(|| format!("writing {COORDINATION_FILE}"))?;
    let mut written = false;
    for (path, oid) in [(TODOS_FILE, todos), (COORDINATION_FILE, coordination)] {
        if !foreign.contains(path) {
            written |= entries.insert(path.to_string(), Entry::blob(oid)) != Some(Entry::blob(oid));
        }
    }
    *mark = Some(SnapshotMark {
        generation,
        todos,
        coordination,
    });
    Ok(written)
}
