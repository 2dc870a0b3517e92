//! The OS notifier on every agent's source folders.
//!
//! Each agent's source names the folders that hold its records and whether
//! their sub-folders do too (`AgentSource::watch_folders`): Claude Code's
//! `todos/` is flat, `tasks/` and `projects/` hold a folder per list or
//! project; Codex's rollouts are in day folders; OpenCode's database is in
//! its data folder itself. The folders may not exist yet — a fresh install —
//! or be deleted and made again, so each agent's folder is watched too (not
//! recursively: Claude's also holds busy files such as `history.jsonl`), or,
//! while it is missing, its nearest existing ancestor; [`Watches::refresh`]
//! then follows what appeared. Only events about the source folders wake the
//! daemon, and reads (our own included) never do.

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// A watched folder: which one it was (device, inode) when the watch was set,
/// so a folder deleted and made again under the same name is watched anew.
type Identity = (u64, u64);

pub(crate) struct Watches {
    /// Each agent's folder.
    roots: Vec<PathBuf>,
    /// The folders holding records, and how each is watched.
    sources: Vec<(PathBuf, RecursiveMode)>,
    watcher: RecommendedWatcher,
    watched: HashMap<PathBuf, Identity>,
}

impl Watches {
    /// A watcher sending its events to `handler`; nothing is watched before
    /// [`Watches::refresh`]. The folders are absolute: events name absolute
    /// paths, and are compared with them.
    pub(crate) fn new(
        sources: &chittysync_sources::Sources,
        handler: impl notify::EventHandler,
    ) -> notify::Result<Watches> {
        let mut roots = Vec::new();
        let mut folders = Vec::new();
        for source in &sources.all {
            roots.push(source.root().to_path_buf());
            for (folder, recursive) in source.watch_folders() {
                let mode = if recursive {
                    RecursiveMode::Recursive
                } else {
                    RecursiveMode::NonRecursive
                };
                folders.push((folder, mode));
            }
        }
        Ok(Watches {
            roots,
            sources: folders,
            watcher: notify::recommended_watcher(handler)?,
            watched: HashMap::new(),
        })
    }

    /// Brings the watches in line with the disk: watches folders that
    /// appeared or were made anew, drops those that are gone. Returns what
    /// could not be watched (e.g. the system's watch limit), as messages.
    pub(crate) fn refresh(&mut self) -> Vec<String> {
        let mut wanted: Vec<(PathBuf, RecursiveMode)> = Vec::with_capacity(8);
        let mut problems = Vec::new();
        for root in &self.roots {
            match nearest_existing(root) {
                Some(dir) => {
                    if !wanted.iter().any(|(p, _)| *p == dir) {
                        wanted.push((dir, RecursiveMode::NonRecursive));
                    }
                }
                None => problems.push(format!("no folder of {} exists", root.display())),
            }
        }
        for (path, mode) in &self.sources {
            if path.is_dir() {
                // A folder watched as an agent's root is watched as a source.
                wanted.retain(|(p, _)| p != path);
                wanted.push((path.clone(), *mode));
            }
        }
        let keep: Vec<&PathBuf> = wanted.iter().map(|(p, _)| p).collect();
        let gone: Vec<PathBuf> = self
            .watched
            .keys()
            .filter(|p| !keep.contains(p))
            .cloned()
            .collect();
        for path in gone {
            self.watched.remove(&path);
            // Fails when the folder is already gone, which dropped the watch.
            let _ = self.watcher.unwatch(&path);
        }
        for (path, mode) in wanted {
            let Some(identity) = identity(&path) else {
                continue;
            };
            match self.watched.get(&path) {
                Some(known) if *known == identity => continue,
                Some(_) => {
                    let _ = self.watcher.unwatch(&path);
                }
                None => {}
            }
            match self.watcher.watch(&path, mode) {
                Ok(()) => {
                    tracing::debug!(path = %path.display(), "watching");
                    self.watched.insert(path, identity);
                }
                Err(e) => {
                    self.watched.remove(&path);
                    problems.push(format!("cannot watch {}: {e}", path.display()));
                }
            }
        }
        problems
    }

    /// Whether an event can mean a source changed: it is about one of the
    /// source folders or something in them, or about an agent's folder or
    /// one of its ancestors (it may just have been made), and it is not a
    /// mere read.
    pub(crate) fn is_relevant(&self, event: &Event) -> bool {
        if let EventKind::Access(kind) = event.kind {
            if kind != AccessKind::Close(AccessMode::Write) {
                return false;
            }
        }
        // An overflowed queue (events lost) says nothing of where: look everywhere.
        if event.need_rescan() {
            return true;
        }
        event.paths.iter().any(|path| {
            self.roots.iter().any(|root| root.starts_with(path))
                || self.sources.iter().any(|(source, mode)| match mode {
                    RecursiveMode::Recursive => path.starts_with(source),
                    // Only what is directly in it (the folder is an
                    // agent's own, with other busy files beside).
                    RecursiveMode::NonRecursive => {
                        path.parent() == Some(source.as_path()) || path == source
                    }
                })
        })
    }
}

fn identity(path: &Path) -> Option<Identity> {
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.dev(), meta.ino()))
}

/// The folder itself if it exists, else its nearest existing ancestor.
fn nearest_existing(dir: &Path) -> Option<PathBuf> {
    dir.ancestors().find(|d| d.is_dir()).map(Path::to_path_buf)
}
