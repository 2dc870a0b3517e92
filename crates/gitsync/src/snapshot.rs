//! The snapshot files, regenerated from the fold when it changed.

use crate::error::{GitContext, GitSyncError};
use crate::layout::{COORDINATION_FILE, TODOS_FILE};
use crate::state::SnapshotMark;
use crate::tree::{Entries, Entry};
use chittysync_engine::Engine;
use git2::Repository;

/// Puts the current fold's snapshots into `entries`, unless the ones there are
/// those last rendered and the fold has not changed since (the common case of
/// a sync with nothing new, which must stay cheap). Returns whether it
/// rendered. The engine keeps the fold rendered, so a daemon's sync renders
/// only what changed since its last consolidation or sync.
pub fn refresh(
    repo: &Repository,
    engine: &mut Engine,
    entries: &mut Entries,
    mark: &mut Option<SnapshotMark>,
) -> Result<bool, GitSyncError> {
    let generation = engine.store().fold_generation()?;
    let present = (
        entries.get(TODOS_FILE).map(|e| e.oid),
        entries.get(COORDINATION_FILE).map(|e| e.oid),
    );
    if let Some(m) = mark {
        if m.generation == generation && present == (Some(m.todos), Some(m.coordination)) {
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
    entries.insert(TODOS_FILE.to_string(), Entry::blob(todos));
    entries.insert(COORDINATION_FILE.to_string(), Entry::blob(coordination));
    *mark = Some(SnapshotMark {
        generation,
        todos,
        coordination,
    });
    Ok(true)
}
