//! The three output files of SPEC §6, written atomically.
//!
//! Entries come from the store already serialized, so writing 50,000 todos is
//! string concatenation, not 50,000 serializations. One entry per line keeps
//! the files readable and their git diffs meaningful.

use crate::EngineError;
use chittysync_core::{Status, Timestamp};
use chittysync_store::{Store, StoredTodo};
use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};

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
    let fail = |source: std::io::Error| EngineError::Write {
        path: path.to_path_buf(),
        source,
    };
    let dir = path.parent().unwrap_or_else(|| Path::new("."));
    std::fs::create_dir_all(dir).map_err(fail)?;
    let mut tmp = tempfile::Builder::new()
        .prefix(".chittysync-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(fail)?;
    tmp.write_all(bytes).map_err(fail)?;
    tmp.as_file().sync_all().map_err(fail)?;
    tmp.persist(path).map_err(|e| fail(e.error))?;
    Ok(())
}

fn push_entries<'a>(out: &mut String, entries: impl Iterator<Item = &'a str>, indent: &str) {
    let mut first = true;
    for entry in entries {
        out.push_str(if first { "\n" } else { ",\n" });
        out.push_str(indent);
        out.push_str(entry);
        first = false;
    }
    if !first {
        out.push('\n');
        out.push_str(&indent[..indent.len().saturating_sub(2)]);
    }
}

fn json_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

/// `todos.json`: every todo not deleted, sorted by project then content.
pub(crate) fn render_todos(todos: &[StoredTodo], now: Timestamp) -> String {
    render_todos_file(visible(todos).map(|t| t.entry_json.as_str()), now)
}

/// A `todos.json` holding these serialized entries, in the order given, one per
/// line. Shared with the git merge driver so a merged file looks like ours.
pub fn render_todos_file<'a>(
    entries: impl Iterator<Item = &'a str>,
    generated_at: Timestamp,
) -> String {
    let mut out = String::with_capacity(4096);
    out.push_str(&format!(
        "{{\"version\": 1, \"generated_at\": \"{generated_at}\",\n \"todos\": ["
    ));
    push_entries(&mut out, entries, "  ");
    out.push_str("]}\n");
    out
}

/// `todos.json` and `project-coordination.json` as the git sync commits them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshots {
    pub todos: String,
    pub coordination: String,
}

/// Renders the snapshots stamped with the newest update in the fold instead of
/// the clock: two devices holding the same observations write the same bytes,
/// and a sync that learnt nothing new changes nothing in git.
pub fn render_snapshots(store: &Store) -> Result<Snapshots, EngineError> {
    let todos = store.folded_todos()?;
    let stamp = store.newest_update()?.unwrap_or_default();
    Ok(Snapshots {
        todos: render_todos(&todos, stamp),
        coordination: render_coordination(&todos, stamp),
    })
}

fn visible(todos: &[StoredTodo]) -> impl Iterator<Item = &StoredTodo> {
    todos.iter().filter(|t| t.status != Status::Deleted)
}

/// `project-coordination.json`: the seed's per-project view.
pub(crate) fn render_coordination(todos: &[StoredTodo], now: Timestamp) -> String {
    let mut out =
        String::with_capacity(todos.iter().map(|t| t.entry_json.len() + 6).sum::<usize>() + 256);
    out.push_str(&format!(
        "{{\"version\": \"1.0.0\", \"last_updated\": \"{now}\",\n \"projects\": ["
    ));
    let visible: Vec<&StoredTodo> = visible(todos).collect();
    let mut first_project = true;
    // The store returns todos sorted by project, so each project is one run.
    for group in visible.chunk_by(|a, b| a.project == b.project) {
        let sessions: BTreeSet<&str> = group
            .iter()
            .flat_map(|t| t.sessions.iter().map(String::as_str))
            .collect();
        let count = |s: Status| group.iter().filter(|t| t.status == s).count();
        out.push_str(if first_project { "\n" } else { ",\n" });
        first_project = false;
        let session_list: Vec<String> = sessions.iter().map(|s| json_string(s)).collect();
        out.push_str(&format!(
            "  {{\"project_name\": {}, \"sessions\": [{}], \"session_count\": {}, \"todo_count\": {}, \"pending_todos\": {}, \"active_todos\": {}, \"completed_todos\": {},\n   \"todos\": [",
            json_string(&group[0].project),
            session_list.join(", "),
            sessions.len(),
            group.len(),
            count(Status::Pending),
            count(Status::InProgress),
            count(Status::Completed),
        ));
        push_entries(
            &mut out,
            group.iter().map(|t| t.entry_json.as_str()),
            "     ",
        );
        out.push_str("]}");
    }
    if !first_project {
        out.push('\n');
    }
    out.push_str("]}\n");
    out
}

/// `conflicts.json`: every todo whose observers disagree, with its resolution,
/// and the conflicts that the git merge driver resolved (a JSON array kept in
/// the store, so consolidation rewriting this file never loses them).
pub(crate) fn render_conflicts(
    todos: &[StoredTodo],
    merge_conflicts: Option<&str>,
    now: Timestamp,
) -> String {
    let conflicts: Vec<&str> = visible(todos)
        .filter_map(|t| t.conflict_json.as_deref())
        .collect();
    let mut out = String::with_capacity(conflicts.iter().map(|c| c.len() + 4).sum::<usize>() + 128);
    out.push_str(&format!(
        "{{\"timestamp\": \"{now}\", \"auto_resolved\": {},\n \"conflicts\": [",
        conflicts.len()
    ));
    push_entries(&mut out, conflicts.into_iter(), "  ");
    out.push(']');
    if let Some(merged) = merge_conflicts {
        out.push_str(",\n \"merge_conflicts\": ");
        out.push_str(merged);
    }
    out.push_str("}\n");
    out
}

/// Writes the three outputs if the fold changed since they were last written
/// (or `force`, or one is missing). Returns whether it wrote.
pub(crate) fn write_if_changed(
    store: &mut Store,
    paths: &OutputPaths,
    force: bool,
) -> Result<bool, EngineError> {
    let generation = store.fold_generation()?;
    let written: Option<u64> = store
        .meta("outputs_generation")?
        .and_then(|v| v.parse().ok());
    if !force && written == Some(generation) && paths.all_exist() {
        return Ok(false);
    }
    let todos = store.folded_todos()?;
    let now = Timestamp::now();
    write_atomically(&paths.todos, render_todos(&todos, now).as_bytes())?;
    write_atomically(
        &paths.coordination,
        render_coordination(&todos, now).as_bytes(),
    )?;
    let merge_conflicts = store.meta(crate::merge_conflicts::META_KEY)?;
    write_atomically(
        &paths.conflicts,
        render_conflicts(&todos, merge_conflicts.as_deref(), now).as_bytes(),
    )?;
    let tx = store.begin()?;
    tx.set_meta("outputs_generation", &generation.to_string())?;
    tx.commit()?;
    Ok(true)
}
