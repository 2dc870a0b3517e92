//! The three output files of SPEC §6, written atomically.
//!
//! Entries come from the store already serialized, so writing 50,000 todos is
//! copying bytes, not 50,000 serializations; a long-lived [`Outputs`] keeps
//! them rendered per project between runs (see [`rendered`]).

mod format;
mod rendered;

pub use format::render_todos_file;

use crate::EngineError;
use chittysync_core::Timestamp;
use chittysync_store::Store;
use rendered::{Rendered, Totals};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;
use tempfile::NamedTempFile;

/// Where the outputs live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutputPaths {
    pub todos: PathBuf,
    pub coordination: PathBuf,
    pub conflicts: PathBuf,
}

impl OutputPaths {
    pub fn in_home(home: &Path) -> OutputPaths {
        OutputPaths {
            todos: home.join("todos.json"),
            coordination: home.join("project-coordination.json"),
            conflicts: home.join("conflicts.json"),
        }
    }

    fn all_exist(&self) -> bool {
        self.todos.exists() && self.coordination.exists() && self.conflicts.exists()
    }
}

/// Writes `bytes` to `path` so that readers see the old file or the new one,
/// never a part: a temporary file beside it, fsync, rename.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), EngineError> {
    let staged = stage_file(path, |w| w.write_all(bytes))?;
    publish_file(staged, path)
}

/// How the temporary files of atomic writes are named.
const TEMPORARY_PREFIX: &str = ".chittysync-";
const TEMPORARY_SUFFIX: &str = ".tmp";

/// A temporary file older than this was abandoned by a writer killed between
/// writing and renaming it (kill -9 while the daemon held staged outputs): no
/// write takes this long.
const ABANDONED_AFTER: Duration = Duration::from_secs(600);

/// Removes the temporary files that killed writers left in `dir`; returns how
/// many. Young ones are left alone: another process may be writing them.
pub fn remove_abandoned_temporaries(dir: &Path) -> std::io::Result<usize> {
    let mut removed = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(TEMPORARY_PREFIX) && name.ends_with(TEMPORARY_SUFFIX)) {
            continue;
        }
        // Gone meanwhile (renamed into place by its writer): nothing to do.
        let Ok(modified) = entry.metadata().and_then(|m| m.modified()) else {
            continue;
        };
        if modified.elapsed().unwrap_or_default() <= ABANDONED_AFTER {
            continue;
        }
        match std::fs::remove_file(entry.path()) {
            Ok(()) => removed += 1,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
    }
    Ok(removed)
}

fn write_failed(path: &Path) -> impl Fn(std::io::Error) -> EngineError + '_ {
    move |source| EngineError::Write {
        path: path.to_path_buf(),
        source,
    }
}

/// The first half of an atomic write: the contents, produced by `write`
/// straight into a temporary file beside `path` (large outputs are never
/// assembled in memory first), and fsynced.
fn stage_file(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> Result<NamedTempFile, EngineError> {
    let fail = write_failed(path);
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(&fail)?;
    let tmp = tempfile::Builder::new()
        .prefix(TEMPORARY_PREFIX)
        .suffix(TEMPORARY_SUFFIX)
        .tempfile_in(dir)
        .map_err(&fail)?;
    // Small: blocks larger than the buffer go straight to the file, uncopied.
    let mut writer = BufWriter::with_capacity(8 << 10, tmp.as_file());
    write(&mut writer).map_err(&fail)?;
    writer.flush().map_err(&fail)?;
    drop(writer);
    tmp.as_file().sync_all().map_err(&fail)?;
    Ok(tmp)
}

/// The second half: the staged file renamed into place.
fn publish_file(staged: NamedTempFile, path: &Path) -> Result<(), EngineError> {
    staged
        .persist(path)
        .map_err(|e| write_failed(path)(e.error))?;
    Ok(())
}

/// `todos.json` and `project-coordination.json` as the git sync commits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshots {
    pub todos: String,
    pub coordination: String,
}

/// The rendered blocks (rendered now if there were none), brought up to
/// date with the store.
fn current<'a>(
    rendered: &'a mut Option<Rendered>,
    store: &Store,
) -> Result<&'a Rendered, EngineError> {
    match rendered {
        Some(rendered) => {
            rendered.refresh(store)?;
            Ok(rendered)
        }
        None => Ok(rendered.insert(Rendered::load(store)?)),
    }
}

/// The fold generation of the outputs in place, as their writer recorded it.
fn written_generation(store: &Store) -> Result<Option<u64>, EngineError> {
    Ok(store
        .meta("outputs_generation")?
        .and_then(|v| v.parse().ok()))
}

/// The three outputs of one fold generation, written and fsynced beside
/// their places but not renamed into place yet: the daemon stages them while
/// a burst of changes settles, and publishes them once it has.
#[derive(Debug)]
pub struct StagedOutputs {
    generation: u64,
    /// Each staged file and its place, `todos.json` first.
    files: Vec<(NamedTempFile, PathBuf)>,
}

/// The output files of one home, and (in a long-lived process) their
/// contents as last rendered.
pub(crate) struct Outputs {
    pub(crate) paths: OutputPaths,
    rendered: Option<Rendered>,
}

impl Outputs {
    pub(crate) fn new(paths: OutputPaths) -> Outputs {
        Outputs {
            paths,
            rendered: None,
        }
    }

    /// Writes the three outputs if the fold changed since they were last
    /// written (or `force`, or one is missing). Returns whether it wrote.
    pub(crate) fn write_if_changed(
        &mut self,
        store: &mut Store,
        force: bool,
    ) -> Result<bool, EngineError> {
        match self.stage_if_changed(store, force)? {
            Some(staged) => self.publish(store, staged),
            None => Ok(false),
        }
    }

    /// Stages the three outputs (written and fsynced beside their places,
    /// not renamed) if the fold changed since they were last written (or
    /// `force`, or one is missing).
    pub(crate) fn stage_if_changed(
        &mut self,
        store: &Store,
        force: bool,
    ) -> Result<Option<StagedOutputs>, EngineError> {
        let generation = store.fold_generation()?;
        if !force && written_generation(store)? == Some(generation) && self.paths.all_exist() {
            return Ok(None);
        }
        let now = Timestamp::now();
        let merge_conflicts = store.meta(crate::merge_conflicts::META_KEY)?;
        let rendered = current(&mut self.rendered, store)?;
        let paths = &self.paths;
        // Tens of megabytes each, mostly waiting on copies and fsync: the two
        // large files are written side by side.
        let (todos, others) = std::thread::scope(|scope| {
            let others = scope.spawn(|| {
                let coordination =
                    stage_file(&paths.coordination, |w| rendered.write_coordination(w, now))?;
                let conflicts = stage_file(&paths.conflicts, |w| {
                    rendered.write_conflicts(w, merge_conflicts.as_deref(), now)
                })?;
                Ok::<_, EngineError>([coordination, conflicts])
            });
            let todos = stage_file(&paths.todos, |w| rendered.write_todos(w, now));
            let others = others
                .join()
                .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
            (todos, others)
        });
        let [coordination, conflicts] = others?;
        Ok(Some(StagedOutputs {
            generation: rendered.generation(),
            files: vec![
                (todos?, paths.todos.clone()),
                (coordination, paths.coordination.clone()),
                (conflicts, paths.conflicts.clone()),
            ],
        }))
    }

    /// Renames staged outputs into place, `todos.json` first (the one readers
    /// watch) — unless outputs of a newer fold are in place already (another
    /// process wrote them meanwhile). Returns whether it published.
    pub(crate) fn publish(
        &mut self,
        store: &mut Store,
        staged: StagedOutputs,
    ) -> Result<bool, EngineError> {
        let newer_in_place = written_generation(store)?.is_some_and(|w| w > staged.generation);
        if newer_in_place && self.paths.all_exist() {
            return Ok(false);
        }
        // Held open until all are in place, the replaced files' blocks (tens
        // of megabytes) are freed after the renames instead of inside them.
        let mut replaced = Vec::with_capacity(staged.files.len());
        for (file, path) in staged.files {
            replaced.extend(std::fs::File::open(&path).ok());
            publish_file(file, &path)?;
        }
        let tx = store.begin()?;
        tx.set_meta("outputs_generation", &staged.generation.to_string())?;
        tx.commit()?;
        drop(replaced);
        Ok(true)
    }

    /// The snapshots the git sync commits, stamped with the newest update in
    /// the fold instead of the clock: two devices holding the same
    /// observations write the same bytes, and a sync that learnt nothing new
    /// changes nothing in git.
    pub(crate) fn snapshots(&mut self, store: &Store) -> Result<Snapshots, EngineError> {
        let stamp = store.newest_update()?.unwrap_or_default();
        let rendered = current(&mut self.rendered, store)?;
        let text = |write: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
            let mut out = Vec::new();
            write(&mut out).expect("writing to memory cannot fail");
            String::from_utf8(out).expect("entries and stamps are UTF-8")
        };
        Ok(Snapshots {
            todos: text(&|w| rendered.write_todos(w, stamp)),
            coordination: text(&|w| rendered.write_coordination(w, stamp)),
        })
    }

    /// Totals over the visible todos: from the rendered blocks when they are
    /// current (no scan of the store), else counted in the store.
    pub(crate) fn totals(&self, store: &mut Store) -> Result<Totals, EngineError> {
        let generation = store.fold_generation()?;
        if let Some(rendered) = self
            .rendered
            .as_ref()
            .filter(|r| r.generation() == generation)
        {
            return Ok(rendered.totals());
        }
        let counts = store.keep_fold_counts()?;
        Ok(Totals {
            todos: counts.todos,
            projects: counts.projects,
            conflicts: counts.conflicts,
        })
    }
}
