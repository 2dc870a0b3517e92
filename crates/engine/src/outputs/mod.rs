//! The three output files (docs/DESIGN.md, "The outputs"), written atomically.
//!
//! Entries come from the store already serialized, so writing 50,000 todos is
//! copying bytes, not 50,000 serializations; a long-lived [`Outputs`] keeps
//! them rendered per project between runs (see [`rendered`]).

mod format;
mod rendered;

pub use format::render_todos_file;

use crate::EngineError;
use chittysync_core::Timestamp;
use chittysync_sources::{open_regular, Warning};
use chittysync_store::Store;
use rendered::{FileId, Kept, KeptTodos, Rendered, Totals, Versions};
use std::io::{BufWriter, Read, Write};
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
    let (staged, ()) = stage_file(path, |w| w.write_all(bytes))?;
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
    move |cause| EngineError::Write {
        path: path.to_path_buf(),
        cause,
    }
}

/// The first half of an atomic write: the contents, produced by `write`
/// straight into a temporary file beside `path` (large outputs are never
/// assembled in memory first), and fsynced.
fn stage_file<T>(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<T>,
) -> Result<(NamedTempFile, T), EngineError> {
    stage(path, true, write)
}

/// [`stage_file`], fsynced only when `sync`.
fn stage<T>(
    path: &Path,
    sync: bool,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<T>,
) -> Result<(NamedTempFile, T), EngineError> {
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
    let out = write(&mut writer).map_err(&fail)?;
    writer.flush().map_err(&fail)?;
    drop(writer);
    if sync {
        tmp.as_file().sync_all().map_err(&fail)?;
    }
    Ok((tmp, out))
}

/// Writes `path` atomically, as [`write_atomically`] does, but without the
/// fsync: for a file that is only a cache, checked when read (see
/// [`read_cache`]); after a crash it is whole, or refused.
fn write_unsynced(
    path: &Path,
    write: impl FnOnce(&mut BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> Result<(), EngineError> {
    let (staged, ()) = stage(path, false, write)?;
    publish_file(staged, path)
}

/// A scoped thread's result, its panic carried on.
fn join<T>(handle: std::thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
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

/// The store's `meta` key naming the rendered blocks kept on disk: the
/// token the last process that kept them wrote into them.
const CACHE_TOKEN: &str = "rendered_cache";

/// The name of the file a process that runs once keeps its rendered blocks
/// in, in the home beside the outputs.
const CACHE_FILE: &str = "rendered.cache";

/// Each output as `stat` tells it now (a missing one as no file).
fn output_ids(paths: &OutputPaths) -> [FileId; 3] {
    [&paths.todos, &paths.coordination, &paths.conflicts].map(|p| {
        std::fs::metadata(p)
            .map(|m| FileId::of(&m))
            .unwrap_or_default()
    })
}

/// The rendered blocks kept at `path` — if the store names them (its
/// token), they are of its fold epoch and not ahead of its fold, and the
/// `todos.json` they were kept with (their entries) is still in place — and
/// what this process may take the outputs in place to hold: what the blocks
/// say, for the outputs that are still the files they were kept with.
/// Anything else (a missing or damaged file, another store's, one left by a
/// process killed before its commit, outputs written since by another
/// process) is `None`, and the blocks are rendered from the store.
fn read_cache(
    path: &Path,
    paths: &OutputPaths,
    store: &Store,
) -> Result<Option<(Rendered, Option<Written>)>, EngineError> {
    let Some(token) = store.meta(CACHE_TOKEN)?.and_then(|t| t.parse().ok()) else {
        return Ok(None);
    };
    // Only regular files are read: a FIFO would block the run, a link to
    // a device would be read without end (docs/ARCHITECTURE.md, "The outputs").
    // `todos.json` is opened twice, for the two outputs copied from it.
    let (Ok(mut cache), Ok(todos), Ok(coordination)) = (
        open_regular(path),
        open_regular(&paths.todos),
        open_regular(&paths.todos),
    ) else {
        return Ok(None);
    };
    let mut bytes = Vec::new();
    if cache.read_to_end(&mut bytes).is_err() {
        return Ok(None);
    }
    let id = |file: &std::fs::File| file.metadata().map(|m| FileId::of(&m)).ok();
    let todos_id = id(&todos).filter(|todos_id| id(&coordination) == Some(*todos_id));
    let todos = KeptTodos {
        todos,
        coordination,
    };
    let Some((mut rendered, kept)) = Rendered::decode(bytes, token, todos) else {
        return Ok(None);
    };
    rendered.records_read_from(cache);
    if todos_id != Some(kept.files[0])
        || store.fold_epoch()? != rendered.epoch()
        || rendered.generation() > store.fold_generation()?
    {
        return Ok(None);
    }
    // Outputs this process did not put in place are not known to hold what
    // the blocks say: all are written again.
    let known = !kept.files.contains(&FileId::default());
    let written = (known && output_ids(paths) == kept.files).then(|| Written {
        versions: rendered.versions(),
        merge_conflicts: kept.merge_conflicts,
        generation: rendered.generation(),
    });
    Ok(Some((rendered, written)))
}

/// A token no other process drew: which blocks kept on disk the store names.
fn new_token() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
    hasher.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_nanos(),
    );
    hasher.write_u32(std::process::id());
    hasher.finish()
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
    /// Each staged file and its place, `todos.json` first: those whose
    /// content changed since this process last wrote them.
    files: Vec<(NamedTempFile, PathBuf)>,
    /// What the outputs hold once these are in place.
    written: Written,
    /// Where each project's block begins in the staged `todos.json`, when
    /// it is staged: the rendered blocks kept on disk point there.
    todos_starts: Option<Vec<u64>>,
    /// Which file each staged output is (a rename keeps it), the others
    /// unknown: what the blocks kept on disk are kept with.
    ids: [FileId; 3],
}

/// What this process last put in place: the content of each output, the
/// merge conflicts `conflicts.json` named, and the fold generation.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Written {
    versions: Versions,
    merge_conflicts: Option<String>,
    generation: u64,
}

/// The output files of one home, and (in a long-lived process) their
/// contents as last rendered.
pub(crate) struct Outputs {
    pub(crate) paths: OutputPaths,
    rendered: Option<Rendered>,
    /// What this process last published, while no other process wrote since.
    written: Option<Written>,
    /// Where the rendered blocks are kept between processes, for a process
    /// that runs once (see [`Outputs::keep_on_disk`]).
    cache: Option<PathBuf>,
}

impl Outputs {
    pub(crate) fn new(paths: OutputPaths) -> Outputs {
        Outputs {
            paths,
            rendered: None,
            written: None,
            cache: None,
        }
    }

    /// For a process that runs once and exits (`chittysync consolidate`
    /// with no daemon to ask): the rendered blocks are kept in a file in the
    /// home, read back by the next such process, so that one changed todo
    /// re-renders that todo, not every todo in the store
    /// (docs/ARCHITECTURE.md, "The outputs"). A long-lived process keeps
    /// them in memory instead and does not call this.
    pub(crate) fn keep_on_disk(&mut self) {
        let dir = self.paths.todos.parent().unwrap_or_else(|| Path::new("."));
        self.cache = Some(dir.join(CACHE_FILE));
    }

    /// Writes the three outputs if the fold changed since they were last
    /// written (or `force`, or one is missing). Returns whether it wrote.
    /// Its callers have no run report: rendered blocks that could not be
    /// kept are logged (a consolidation's report tells them).
    pub(crate) fn write_if_changed(
        &mut self,
        store: &mut Store,
        force: bool,
    ) -> Result<bool, EngineError> {
        let Some(staged) = self.stage_if_changed(store, force)? else {
            return Ok(false);
        };
        let (written, warning) = self.publish(store, staged)?;
        if let Some(warning) = warning {
            tracing::warn!("{warning}");
        }
        Ok(written)
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
        if self.rendered.is_none() {
            if let Some(path) = &self.cache {
                if let Some((rendered, written)) = read_cache(path, &self.paths, store)? {
                    self.rendered = Some(rendered);
                    self.written = written;
                }
            }
        }
        // What this process wrote last is what is in place, unless another
        // process published since (the generation in place moved).
        let in_place = self
            .written
            .clone()
            .filter(|w| written_generation(store).ok().flatten() == Some(w.generation));
        let rendered = current(&mut self.rendered, store)?;
        let versions = rendered.versions();
        let paths = &self.paths;
        // An output is written only when its content changed (not counting
        // its time stamp), or it is missing, or on `force`.
        let stale = |path: &Path, same: &dyn Fn(&Written) -> bool| {
            force || !path.exists() || !in_place.as_ref().is_some_and(same)
        };
        let todos_stale = stale(&paths.todos, &|w| w.versions.todos == versions.todos);
        let coordination_stale = stale(&paths.coordination, &|w| {
            w.versions.coordination == versions.coordination
        });
        let conflicts_stale = stale(&paths.conflicts, &|w| {
            w.versions.conflicts == versions.conflicts && w.merge_conflicts == merge_conflicts
        });
        // Tens of megabytes each, mostly waiting on copies and fsync: the two
        // large files are written side by side.
        let (todos, others) = std::thread::scope(|scope| {
            let others = scope.spawn(|| {
                let coordination = coordination_stale
                    .then(|| {
                        stage_file(&paths.coordination, |w| rendered.write_coordination(w, now))
                    })
                    .transpose()?
                    .map(|(file, ())| file);
                let conflicts = conflicts_stale
                    .then(|| {
                        stage_file(&paths.conflicts, |w| {
                            rendered.write_conflicts(w, merge_conflicts.as_deref(), now)
                        })
                    })
                    .transpose()?
                    .map(|(file, ())| file);
                Ok::<_, EngineError>([coordination, conflicts])
            });
            let todos = todos_stale
                .then(|| stage_file(&paths.todos, |w| rendered.write_todos(w, now)))
                .transpose();
            (todos, join(others))
        });
        let [coordination, conflicts] = others?;
        let (todos, todos_starts) = todos?.unzip();
        let staged = [todos, coordination, conflicts];
        let ids = staged.each_ref().map(|file| {
            file.as_ref()
                .and_then(|f| f.as_file().metadata().ok())
                .map(|m| FileId::of(&m))
                .unwrap_or_default()
        });
        let files = staged
            .into_iter()
            .zip([&paths.todos, &paths.coordination, &paths.conflicts])
            .filter_map(|(file, path)| Some((file?, path.clone())))
            .collect();
        Ok(Some(StagedOutputs {
            generation: rendered.generation(),
            files,
            written: Written {
                versions,
                merge_conflicts,
                generation: rendered.generation(),
            },
            todos_starts,
            ids,
        }))
    }

    /// Renames staged outputs into place, `todos.json` first (the one readers
    /// watch) — unless outputs of a newer fold are in place already (another
    /// process wrote them meanwhile). Returns whether it published, and why
    /// the rendered blocks could not be kept, if they could not: that is a
    /// warning, not a failure — they are only a cache, and the next run
    /// renders from the store (docs/ARCHITECTURE.md, "The outputs").
    pub(crate) fn publish(
        &mut self,
        store: &mut Store,
        staged: StagedOutputs,
    ) -> Result<(bool, Option<Warning>), EngineError> {
        let newer_in_place = written_generation(store)?.is_some_and(|w| w > staged.generation);
        if newer_in_place && self.paths.all_exist() {
            return Ok((false, None));
        }
        // Held open until all are in place, the replaced files' blocks (tens
        // of megabytes) are freed after the renames instead of inside them.
        let mut replaced = Vec::with_capacity(staged.files.len());
        for (file, path) in staged.files {
            replaced.extend(std::fs::File::open(&path).ok());
            publish_file(file, &path)?;
        }
        let (token, warning) =
            match self.keep(&staged.written, staged.todos_starts.as_deref(), staged.ids) {
                Ok(token) => (token, None),
                Err(EngineError::Write { path, cause }) => {
                    let why =
                        format!("the rendered outputs were not kept for the next run: {cause}");
                    (None, Some(Warning::new(&path, why)))
                }
                Err(other) => return Err(other),
            };
        let tx = store.begin()?;
        tx.set_meta("outputs_generation", &staged.generation.to_string())?;
        if let Some(token) = token {
            tx.set_meta(CACHE_TOKEN, &token.to_string())?;
        }
        tx.commit()?;
        drop(replaced);
        self.written = Some(staged.written);
        Ok((true, warning))
    }

    /// Keeps the rendered blocks on disk for the next process (when this
    /// one runs once, and `todos.json`, where their entries are, was just
    /// put in place with them at `starts`), with which file each output
    /// this run put in place is (`ids`); returns the token naming them,
    /// for the store to record in the same transaction as the outputs'
    /// generation. The file is in place before the store names it: a kill
    /// in between leaves the old token, which the new file does not carry,
    /// and the next process renders from the store.
    fn keep(
        &self,
        written: &Written,
        starts: Option<&[u64]>,
        ids: [FileId; 3],
    ) -> Result<Option<u64>, EngineError> {
        let (Some(path), Some(starts), Some(rendered)) = (&self.cache, starts, &self.rendered)
        else {
            return Ok(None);
        };
        if rendered.generation() != written.generation {
            return Ok(None);
        }
        let kept = Kept {
            files: ids,
            merge_conflicts: written.merge_conflicts.clone(),
        };
        let token = new_token();
        write_unsynced(path, |w| rendered.encode(w, token, starts, &kept))?;
        Ok(Some(token))
    }

    /// The snapshots the git sync commits, stamped with the newest update in
    /// the fold instead of the clock: two devices holding the same
    /// observations write the same bytes, and a sync that learnt nothing new
    /// changes nothing in git.
    pub(crate) fn snapshots(&mut self, store: &Store) -> Result<Snapshots, EngineError> {
        let stamp = store.newest_update()?.unwrap_or_default();
        // `None` when entries left in the kept `todos.json` cannot be read
        // back (or are not UTF-8).
        let snapshots = |rendered: &Rendered| {
            let text = |write: &dyn Fn(&mut Vec<u8>) -> std::io::Result<()>| {
                let mut out = Vec::new();
                write(&mut out).ok()?;
                String::from_utf8(out).ok()
            };
            Some(Snapshots {
                todos: text(&|w| rendered.write_todos(w, stamp).map(|_| ()))?,
                coordination: text(&|w| rendered.write_coordination(w, stamp))?,
            })
        };
        if let Some(snapshots) = snapshots(current(&mut self.rendered, store)?) {
            return Ok(snapshots);
        }
        // Rendered from the store instead: every entry in memory.
        let rendered = self.rendered.insert(Rendered::load(store)?);
        Ok(snapshots(rendered).expect("entries in memory are UTF-8 and written to memory"))
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

/// A process that runs once exits right after its run: its blocks are
/// not freed (docs/ARCHITECTURE.md, "The outputs").
impl Drop for Outputs {
    fn drop(&mut self) {
        if self.cache.is_some() {
            if let Some(rendered) = &mut self.rendered {
                rendered.leak_blocks();
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_core::{Observation, Source, Status};
    use std::os::unix::fs::MetadataExt;

    fn seen(content: &str, session: &str, status: Status, t: i64) -> Observation {
        Observation::new(
            "p",
            content.to_string(),
            None,
            status,
            session.to_string(),
            Some(session.to_string()),
            "dev",
            Source::File,
            Timestamp(t),
        )
    }

    fn ingest(store: &mut Store, observations: &[Observation]) {
        let tx = store.begin().unwrap();
        tx.ingest(observations, chittysync_store::Via::Local)
            .unwrap();
        tx.commit().unwrap();
    }

    /// Each output's inode: a write (by rename) gives it a new one.
    fn inodes(paths: &OutputPaths) -> [u64; 3] {
        [&paths.todos, &paths.coordination, &paths.conflicts]
            .map(|p| std::fs::metadata(p).unwrap().ino())
    }

    /// An output's JSON without its time stamp.
    fn content(path: &Path) -> serde_json::Value {
        let mut value: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
        for stamp in ["generated_at", "last_updated", "timestamp"] {
            value.as_object_mut().unwrap().remove(stamp);
        }
        value
    }

    #[test]
    fn an_output_whose_content_did_not_change_is_not_written_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = Store::open(&dir.path().join("s.db")).unwrap();
        ingest(
            &mut store,
            &[
                seen("Shared", "s1", Status::InProgress, 1),
                seen("Shared", "s2", Status::Pending, 1),
                seen("Alone", "s1", Status::Pending, 1),
            ],
        );
        let paths = OutputPaths::in_home(&dir.path().join("home"));
        let mut outputs = Outputs::new(paths.clone());
        assert!(outputs.write_if_changed(&mut store, false).unwrap());
        let first = inodes(&paths);

        // A change no conflict sees: conflicts.json stays as it was.
        ingest(&mut store, &[seen("Alone", "s1", Status::Completed, 2)]);
        assert!(outputs.write_if_changed(&mut store, false).unwrap());
        let second = inodes(&paths);
        assert_ne!(second[0], first[0], "todos.json rewritten");
        assert_ne!(second[1], first[1], "project-coordination.json rewritten");
        assert_eq!(
            second[2], first[2],
            "conflicts.json unchanged, not rewritten"
        );

        // A change of the conflict rewrites it.
        ingest(&mut store, &[seen("Shared", "s2", Status::Completed, 3)]);
        assert!(outputs.write_if_changed(&mut store, false).unwrap());
        assert_ne!(inodes(&paths)[2], second[2], "conflicts.json rewritten");

        // A missing output is written again, changed or not.
        std::fs::remove_file(&paths.conflicts).unwrap();
        ingest(&mut store, &[seen("Alone", "s1", Status::Deleted, 4)]);
        assert!(outputs.write_if_changed(&mut store, false).unwrap());
        assert!(paths.conflicts.exists());

        // What is in place is what a fresh render writes.
        let fresh = OutputPaths::in_home(&dir.path().join("fresh"));
        Outputs::new(fresh.clone())
            .write_if_changed(&mut store, true)
            .unwrap();
        for (ours, theirs) in [
            (&paths.todos, &fresh.todos),
            (&paths.coordination, &fresh.coordination),
            (&paths.conflicts, &fresh.conflicts),
        ] {
            assert_eq!(content(ours), content(theirs), "{}", ours.display());
        }

        // Another process published a newer fold meanwhile: what it wrote
        // is not known here, so everything is written again.
        ingest(&mut store, &[seen("Later", "s3", Status::Pending, 5)]);
        Outputs::new(paths.clone())
            .write_if_changed(&mut store, false)
            .unwrap();
        let theirs = inodes(&paths);
        ingest(&mut store, &[seen("Later", "s3", Status::InProgress, 6)]);
        assert!(outputs.write_if_changed(&mut store, false).unwrap());
        let ours = inodes(&paths);
        assert!(
            theirs.iter().zip(ours).all(|(a, b)| *a != b),
            "every output written again after another writer"
        );
    }
}
