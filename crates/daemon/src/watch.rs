//! The OS notifier on Claude Code's three source folders.
//!
//! `todos/` is flat; `tasks/` and `projects/` hold a folder per list or
//! project, so they are watched recursively (the notifier adds folders created
//! inside). The folders themselves may not exist yet — a fresh install — or be
//! deleted and made again, so the Claude folder is watched too (not
//! recursively: it also holds busy files such as `history.jsonl`), or, while
//! it is missing, its nearest existing ancestor; [`Watches::refresh`] then
//! follows what appeared. Only events about the source folders wake the
//! daemon, and reads (our own included) never do.

use notify::event::{AccessKind, AccessMode};
use notify::{Event, EventKind, RecommendedWatcher, RecursiveMode, Watcher};
use std::collections::HashMap;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The source folders under the Claude folder, and how each is watched.
const SOURCES: [(&str, RecursiveMode); 3] = [
    ("todos", RecursiveMode::NonRecursive),
    ("tasks", RecursiveMode::Recursive),
    ("projects", RecursiveMode::Recursive),
];

/// A watched folder: which one it was (device, inode) when the watch was set,
/// so a folder deleted and made again under the same name is watched anew.
type Identity = (u64, u64);

pub(crate) struct Watches {
    claude_dir: PathBuf,
    sources: Vec<PathBuf>,
    watcher: RecommendedWatcher,
    watched: HashMap<PathBuf, Identity>,
}

impl Watches {
    /// A watcher sending its events to `handler`; nothing is watched before
    /// [`Watches::refresh`]. `claude_dir` is absolute: events name absolute
    /// paths, and are compared with it.
    pub(crate) fn new(
        claude_dir: &Path,
        handler: impl notify::EventHandler,
    ) -> notify::Result<Watches> {
        let claude_dir = claude_dir.to_path_buf();
        Ok(Watches {
            sources: SOURCES
                .iter()
                .map(|(name, _)| claude_dir.join(name))
                .collect(),
            claude_dir,
            watcher: notify::recommended_watcher(handler)?,
            watched: HashMap::new(),
        })
    }

    /// Brings the watches in line with the disk: watches folders that
    /// appeared or were made anew, drops those that are gone. Returns what
    /// could not be watched (e.g. the system's watch limit), as messages.
    pub(crate) fn refresh(&mut self) -> Vec<String> {
        let mut wanted: Vec<(PathBuf, RecursiveMode)> = Vec::with_capacity(4);
        match nearest_existing(&self.claude_dir) {
            Some(dir) => wanted.push((dir, RecursiveMode::NonRecursive)),
            None => return vec![format!("no folder of {} exists", self.claude_dir.display())],
        }
        for (path, (_, mode)) in self.sources.iter().zip(SOURCES) {
            if path.is_dir() {
                wanted.push((path.clone(), mode));
            }
        }
        let mut problems = Vec::new();
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
    /// source folders or something in them, or about the Claude folder or one
    /// of its ancestors (it may just have been made), and it is not a mere read.
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
            self.claude_dir.starts_with(path)
                || self.sources.iter().any(|source| path.starts_with(source))
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
