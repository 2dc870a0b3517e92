//! OpenCode's plan records (docs/SOURCES.md, "OpenCode").
//!
//! Since v1.2 OpenCode keeps everything in one SQLite database,
//! `$XDG_DATA_HOME/opencode/opencode.db` (default `~/.local/share/opencode`),
//! in WAL mode, written while OpenCode runs. A session's plan is the rows of
//! table `todo(session_id, content, status, priority, position, time_created,
//! time_updated)`, ordered by `position`; OpenCode replaces them whole (delete
//! the session's rows, insert the new list) on every `todowrite`. The session's
//! folder is `session.directory`.
//!
//! Before v1.2 the same data were JSON files under `storage/`:
//! `storage/todo/<session>.json`, a bare array of `{"id","content","status",
//! "priority"}`, and `storage/session/<project>/<session>.json`, the session's
//! info (`{"id","directory","version","time":{"created","updated"}}`…). OpenCode
//! 1.2 copies them into the database once and leaves them in place.
//!
//! The database is opened read-only and never locked against its writer: in
//! WAL mode a reader sees the last committed state while OpenCode writes.

use super::{agent_todos, Discovered, Found, FoundFile, PlanWrite};
use crate::error::{ParseError, Warning};
use crate::json;
use crate::todo_file::TodoList;
use chittysync_core::Timestamp;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, ErrorCode, OpenFlags, OptionalExtension};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// The database's name in OpenCode's data folder.
pub const DATABASE: &str = "opencode.db";

/// How long a read waits for a lock that OpenCode holds (only a database in
/// rollback-journal mode, where a committing writer excludes readers).
const BUSY_TIMEOUT: Duration = Duration::from_millis(200);

/// The `todo` columns without which a row is not a plan entry.
const REQUIRED_TODO_COLUMNS: [&str; 4] = ["session_id", "content", "status", "position"];

/// Which OpenCode record a file is, and what its path says.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum OpenCodeKind {
    /// `opencode.db` (v1.2 and later). [`classify`] also names its `-wal` and
    /// `-shm` companions so: a change to them is a change to the database,
    /// which is read at `<data dir>/opencode.db`.
    Database,
    /// `storage/todo/<session>.json` (before v1.2).
    TodoFile { session: String },
    /// `storage/session/<project>/<session>.json` (before v1.2): the session's
    /// info, which gives its folder.
    SessionInfo { project: String, session: String },
}

/// One file found under OpenCode's data folder.
pub type OpenCodeFile = Found<OpenCodeKind>;

/// What a scan of OpenCode's data folder found (`found_dir` false: OpenCode
/// may simply not be installed).
pub type OpenCodeDiscovery = Discovered<OpenCodeKind>;

/// Lists the database and the older JSON files under `data_dir`, by name and
/// stat only. Never fails: unreadable folders are warnings.
pub fn discover(data_dir: &Path) -> OpenCodeDiscovery {
    let mut scan = OpenCodeDiscovery::of(data_dir);
    if !scan.found_dir {
        return scan;
    }
    let database = data_dir.join(DATABASE);
    match fs::metadata(&database) {
        Ok(meta) if meta.is_file() => scan.add(OpenCodeKind::Database, database, &meta),
        Ok(_) => scan.ignored += 1,
        Err(e) if e.kind() == io::ErrorKind::NotFound => {}
        Err(e) => scan
            .warnings
            .push(Warning::new(&database, format!("cannot stat: {e}"))),
    }
    let storage = data_dir.join("storage");
    for (name, path, meta) in scan.entries(&storage.join("todo")) {
        match json_stem(&name) {
            Some(session) if meta.is_file() => {
                scan.add(OpenCodeKind::TodoFile { session }, path, &meta)
            }
            _ => scan.ignored += 1,
        }
    }
    for (project, path, meta) in scan.entries(&storage.join("session")) {
        if !meta.is_dir() {
            scan.ignored += 1;
            continue;
        }
        for (name, path, meta) in scan.entries(&path) {
            match json_stem(&name) {
                Some(session) if meta.is_file() => scan.add(
                    OpenCodeKind::SessionInfo {
                        project: project.clone(),
                        session,
                    },
                    path,
                    &meta,
                ),
                _ => scan.ignored += 1,
            }
        }
    }
    scan.sorted()
}

/// What the file at `path` is, for a watcher that names one file.
pub fn classify(data_dir: &Path, path: &Path) -> Option<OpenCodeKind> {
    let rest = path.strip_prefix(data_dir).ok()?;
    let parts: Vec<&str> = rest.iter().map(OsStr::to_str).collect::<Option<_>>()?;
    match parts.as_slice() {
        [name]
            if name
                .strip_prefix(DATABASE)
                .is_some_and(|s| ["", "-wal", "-shm"].contains(&s)) =>
        {
            Some(OpenCodeKind::Database)
        }
        ["storage", "todo", name] => {
            json_stem(name).map(|session| OpenCodeKind::TodoFile { session })
        }
        ["storage", "session", project, name] if !project.starts_with('.') => {
            json_stem(name).map(|session| OpenCodeKind::SessionInfo {
                project: project.to_string(),
                session,
            })
        }
        _ => None,
    }
}

fn json_stem(name: &str) -> Option<String> {
    super::file_stem(name, "json")
}

/// Parses `storage/todo/<session>.json` (before v1.2): a bare array of
/// `{"id","content","status","priority"}`, written whole on every
/// `todowrite`. Statuses are OpenCode's words (`cancelled` reads as deleted).
pub fn parse_todo_json(bytes: &[u8]) -> Result<TodoList, ParseError> {
    match json::parse_document(bytes)? {
        Value::Array(entries) => Ok(agent_todos(&entries, "content")),
        other => Err(ParseError::NotAList {
            found: json::kind_of(&other),
        }),
    }
}

/// What a session info file (before v1.2) says of its session.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SessionInfo {
    pub id: Option<String>,
    /// The folder the session ran in: its project is decided from this.
    pub directory: Option<String>,
    /// The OpenCode version that created the session.
    pub version: Option<String>,
    /// The parent session of a sub-agent's session.
    pub parent_id: Option<String>,
    pub created: Option<Timestamp>,
    pub updated: Option<Timestamp>,
}

/// Parses `storage/session/<project>/<session>.json` (before v1.2).
pub fn parse_session_info(bytes: &[u8]) -> Result<SessionInfo, ParseError> {
    let value = json::parse_document(bytes)?;
    if !value.is_object() {
        return Err(ParseError::NotATask {
            reason: format!(
                "a session's info is an object, found {}",
                json::kind_of(&value)
            ),
        });
    }
    let text = |key: &str| json::text(value.get(key));
    let time = |key: &str| {
        value
            .pointer(&format!("/time/{key}"))
            .and_then(Value::as_i64)
            .map(Timestamp::from_millis)
    };
    Ok(SessionInfo {
        id: text("id"),
        directory: text("directory"),
        version: text("version"),
        parent_id: text("parentID"),
        created: time("created"),
        updated: time("updated"),
    })
}

/// Where a read of the database stopped: a mark of each session's list, so
/// the next read hands on only the lists that changed — including lists that
/// were emptied (their rows deleted and none inserted), which no row's
/// `time_updated` can show. Store it with the database's other state
/// (it is serializable); the default is "nothing read yet".
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DbCursor {
    /// Sessions with rows in `todo` when the cursor was taken.
    pub lists: BTreeMap<String, ListMark>,
}

/// A session's rows as last read.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListMark {
    pub rows: u64,
    /// The latest `time_updated` of the rows (milliseconds), 0 when the table
    /// has no such column.
    pub updated: i64,
    /// FNV-1a of the rows' positions, texts and statuses; 0 when `updated`
    /// tells changes apart (OpenCode stamps every inserted or updated row).
    pub digest: u64,
}

impl DbCursor {
    /// The latest `time_updated` of any list read (0 before the first read).
    pub fn time_updated(&self) -> i64 {
        self.lists.values().map(|m| m.updated).max().unwrap_or(0)
    }
}

/// One session whose list changed since the cursor given to [`read_db`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSession {
    /// The whole current list, `session` set; empty when the session's rows
    /// are gone. `at` is the rows' latest `time_updated`; for an emptied list,
    /// the session's `time_updated` (but later than the list it replaces).
    pub plan: PlanWrite,
    /// The session's `directory`: the folder it ran in.
    pub cwd: Option<String>,
    /// The OpenCode version that created the session.
    pub version: Option<String>,
    /// The parent session of a sub-agent's session.
    pub parent: Option<String>,
    /// The session row is gone (the session was deleted, and its rows with it).
    pub session_deleted: bool,
}

/// What one read of the database found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DbRead {
    /// Sessions whose list changed since the cursor, by session id.
    pub sessions: Vec<DbSession>,
    /// Give this to the next read.
    pub cursor: DbCursor,
    /// Things worth telling that did not stop the read (a missing `session`
    /// table or `directory` column).
    pub warnings: Vec<Warning>,
}

/// Why the database could not be read. Every variant names the file; none is
/// fatal to a consolidation, and the next read tries again.
#[derive(Debug, thiserror::Error)]
pub enum DbError {
    /// The cause is told in the message, not chained again (docs/ARCHITECTURE.md,
    /// "Errors, and files that are not what they seem").
    #[error("{}: {cause}", path.display())]
    Io { path: PathBuf, cause: io::Error },
    /// Zero bytes: OpenCode is creating it.
    #[error("{}: the database is empty (OpenCode may be creating it)", path.display())]
    Empty { path: PathBuf },
    #[error("{}: not an SQLite database", path.display())]
    NotSqlite { path: PathBuf },
    /// A writer holds a lock that excludes readers (rollback-journal mode
    /// only); read again later.
    #[error("{}: the database is locked by its writer ({message}); read again later", path.display())]
    Busy { path: PathBuf, message: String },
    /// Half written or damaged.
    #[error("{}: the database is damaged or half written ({message})", path.display())]
    Corrupt { path: PathBuf, message: String },
    /// An SQLite database, but not of a schema known to hold OpenCode's todos.
    #[error("{}: unknown schema: {missing}", path.display())]
    Schema { path: PathBuf, missing: String },
    #[error("{}: {message}", path.display())]
    Sqlite { path: PathBuf, message: String },
}

/// Reads the lists that changed in OpenCode's database since `since` (all of
/// them when `None`), each whole and ordered by `position`, with its session's
/// folder, and the cursor for the next read.
///
/// The database is opened read-only, without taking any lock a writer would
/// wait for (in WAL mode readers and the writer never wait for each other),
/// and read in one transaction: one consistent snapshot. A change is seen by
/// the rows' count and latest `time_updated` (OpenCode stamps every row it
/// inserts or updates), so a list replaced whole, a single row changed or
/// deleted, and a list emptied are all seen; without a `time_updated` column,
/// by a digest of the rows.
pub fn read_db(path: &Path, since: Option<&DbCursor>) -> Result<DbRead, DbError> {
    let meta = fs::metadata(path).map_err(|cause| DbError::Io {
        path: path.to_path_buf(),
        cause,
    })?;
    if meta.len() == 0 {
        return Err(DbError::Empty {
            path: path.to_path_buf(),
        });
    }
    let fail = |e: rusqlite::Error| db_error(path, e);
    let mut conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(fail)?;
    conn.busy_timeout(BUSY_TIMEOUT).map_err(fail)?;
    let tx = conn.transaction().map_err(fail)?;

    let todo_columns = columns(&tx, "todo").map_err(fail)?;
    if todo_columns.is_empty() {
        return Err(DbError::Schema {
            path: path.to_path_buf(),
            missing: format!(
                "no `todo` table (tables: {})",
                tables(&tx).map_err(fail)?.join(", ")
            ),
        });
    }
    let missing: Vec<&str> = REQUIRED_TODO_COLUMNS
        .into_iter()
        .filter(|c| !todo_columns.contains(*c))
        .collect();
    if !missing.is_empty() {
        return Err(DbError::Schema {
            path: path.to_path_buf(),
            missing: format!("the `todo` table has no column {}", quoted(&missing)),
        });
    }
    let timed = todo_columns.contains("time_updated");

    let marks = list_marks(&tx, timed).map_err(fail)?;
    let empty = DbCursor::default();
    let since = since.unwrap_or(&empty);
    let changed: BTreeSet<&String> = marks
        .iter()
        .filter(|(session, mark)| since.lists.get(*session) != Some(mark))
        .map(|(session, _)| session)
        .chain(since.lists.keys().filter(|s| !marks.contains_key(*s)))
        .collect();

    let mut read = DbRead::default();
    let sessions = SessionTable::open(&tx, path, &mut read.warnings).map_err(fail)?;
    let mtime = Timestamp::from_millis(FoundFile::from_meta(path.to_path_buf(), &meta).mtime_ms);
    let mut rows = tx
        .prepare(&format!(
            "SELECT content, status{} FROM todo WHERE session_id = ?1 ORDER BY position",
            if timed { ", time_updated" } else { "" }
        ))
        .map_err(fail)?;
    for session in changed {
        let info = sessions.get(&tx, session).map_err(fail)?;
        let mut entries = Vec::new();
        let mut latest: Option<i64> = None;
        let mut query = rows.query([session]).map_err(fail)?;
        while let Some(row) = query.next().map_err(fail)? {
            entries.push(json!({
                "content": text_of(row.get_ref(0).map_err(fail)?),
                "status": text_of(row.get_ref(1).map_err(fail)?),
            }));
            if timed {
                if let ValueRef::Integer(t) = row.get_ref(2).map_err(fail)? {
                    latest = Some(latest.map_or(t, |l| l.max(t)));
                }
            }
        }
        let at = match latest {
            Some(t) if !entries.is_empty() => Timestamp::from_millis(t),
            _ => {
                // Emptied (or unstamped) list: the session's last change, but
                // after the list it replaces.
                let before = since.lists.get(session).map_or(i64::MIN, |m| m.updated);
                let session_time = info
                    .as_ref()
                    .and_then(|i| i.updated)
                    .unwrap_or(mtime.millis());
                Timestamp::from_millis(session_time.max(before.saturating_add(1)))
            }
        };
        let info = info.unwrap_or_default();
        read.sessions.push(DbSession {
            plan: PlanWrite {
                line: None,
                at,
                session: Some(session.clone()),
                todos: agent_todos(&entries, "content"),
            },
            cwd: info.directory,
            version: info.version,
            parent: info.parent,
            session_deleted: sessions.exists && !info.found,
        });
    }
    drop(rows);
    tx.commit().map_err(fail)?;
    read.cursor = DbCursor { lists: marks };
    Ok(read)
}

/// The mark of every session's rows.
fn list_marks(conn: &Connection, timed: bool) -> rusqlite::Result<BTreeMap<String, ListMark>> {
    let mut marks: BTreeMap<String, ListMark> = BTreeMap::new();
    if timed {
        let mut stmt = conn.prepare(
            "SELECT session_id, COUNT(*), MAX(time_updated) FROM todo GROUP BY session_id",
        )?;
        let mut rows = stmt.query([])?;
        while let Some(row) = rows.next()? {
            let Some(session) = text_of(row.get_ref(0)?) else {
                continue;
            };
            let updated = match row.get_ref(2)? {
                ValueRef::Integer(t) => t,
                _ => 0,
            };
            let mark = ListMark {
                rows: row.get::<_, i64>(1)?.max(0) as u64,
                updated,
                digest: 0,
            };
            marks.insert(session, mark);
        }
        return Ok(marks);
    }
    let mut stmt = conn.prepare(
        "SELECT session_id, position, content, status FROM todo ORDER BY session_id, position",
    )?;
    let mut rows = stmt.query([])?;
    while let Some(row) = rows.next()? {
        let Some(session) = text_of(row.get_ref(0)?) else {
            continue;
        };
        let mark = marks.entry(session).or_insert(ListMark {
            digest: FNV_OFFSET,
            ..ListMark::default()
        });
        mark.rows += 1;
        for i in 1..4 {
            mark.digest = fnv(mark.digest, &value_bytes(row.get_ref(i)?));
        }
    }
    Ok(marks)
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;

fn fnv(hash: u64, bytes: &[u8]) -> u64 {
    bytes.iter().chain(b"\x1f").fold(hash, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

fn value_bytes(value: ValueRef<'_>) -> Vec<u8> {
    match value {
        ValueRef::Null => b"\x00".to_vec(),
        ValueRef::Integer(i) => i.to_string().into_bytes(),
        ValueRef::Real(r) => r.to_string().into_bytes(),
        ValueRef::Text(t) | ValueRef::Blob(t) => t.to_vec(),
    }
}

/// A text cell as a string; other types (SQLite does not enforce them) are none.
fn text_of(value: ValueRef<'_>) -> Option<String> {
    match value {
        ValueRef::Text(t) => std::str::from_utf8(t).ok().map(str::to_string),
        _ => None,
    }
}

/// What the `session` table says of one session.
#[derive(Debug, Default)]
struct SessionRow {
    found: bool,
    directory: Option<String>,
    version: Option<String>,
    parent: Option<String>,
    updated: Option<i64>,
}

/// The `session` table as this database has it: which of the columns read
/// exist (OpenCode forks differ).
struct SessionTable {
    exists: bool,
    query: Option<String>,
    /// Indexes in the query of directory, version, parent_id, time_updated.
    fields: [Option<usize>; 4],
}

impl SessionTable {
    fn open(
        conn: &Connection,
        path: &Path,
        warnings: &mut Vec<Warning>,
    ) -> rusqlite::Result<SessionTable> {
        let have = columns(conn, "session")?;
        if !have.contains("id") {
            warnings.push(Warning::new(
                path,
                "no `session` table with an `id` column: the sessions' folders are unknown",
            ));
            return Ok(SessionTable {
                exists: false,
                query: None,
                fields: [None; 4],
            });
        }
        if !have.contains("directory") {
            warnings.push(Warning::new(
                path,
                "the `session` table has no `directory` column: the sessions' folders are unknown",
            ));
        }
        let mut select = vec!["id"];
        let mut fields = [None; 4];
        for (i, column) in ["directory", "version", "parent_id", "time_updated"]
            .into_iter()
            .enumerate()
        {
            if have.contains(column) {
                fields[i] = Some(select.len());
                select.push(column);
            }
        }
        Ok(SessionTable {
            exists: true,
            query: Some(format!(
                "SELECT {} FROM session WHERE id = ?1",
                select.join(", ")
            )),
            fields,
        })
    }

    fn get(&self, conn: &Connection, session: &str) -> rusqlite::Result<Option<SessionRow>> {
        let Some(query) = &self.query else {
            return Ok(None);
        };
        let mut stmt = conn.prepare_cached(query)?;
        stmt.query_row([session], |row| {
            let text = |i: Option<usize>| -> rusqlite::Result<Option<String>> {
                match i {
                    Some(i) => Ok(text_of(row.get_ref(i)?).filter(|s| !s.trim().is_empty())),
                    None => Ok(None),
                }
            };
            Ok(SessionRow {
                found: true,
                directory: text(self.fields[0])?,
                version: text(self.fields[1])?,
                parent: text(self.fields[2])?,
                updated: match self.fields[3] {
                    Some(i) => match row.get_ref(i)? {
                        ValueRef::Integer(t) => Some(t),
                        _ => None,
                    },
                    None => None,
                },
            })
        })
        .optional()
    }
}

/// The columns of `table`; empty when there is no such table.
fn columns(conn: &Connection, table: &str) -> rusqlite::Result<BTreeSet<String>> {
    let mut stmt = conn.prepare("SELECT name FROM pragma_table_info(?1)")?;
    let names = stmt.query_map([table], |row| row.get::<_, String>(0))?;
    names.collect()
}

fn tables(conn: &Connection) -> rusqlite::Result<Vec<String>> {
    let mut stmt =
        conn.prepare("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")?;
    let names = stmt.query_map([], |row| row.get::<_, String>(0))?;
    let names: Vec<String> = names.collect::<rusqlite::Result<_>>()?;
    Ok(if names.is_empty() {
        vec!["none".to_string()]
    } else {
        names
    })
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
}

fn db_error(path: &Path, error: rusqlite::Error) -> DbError {
    let path = path.to_path_buf();
    let message = error.to_string();
    match error.sqlite_error_code() {
        Some(ErrorCode::NotADatabase) => DbError::NotSqlite { path },
        Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked) => {
            DbError::Busy { path, message }
        }
        Some(ErrorCode::DatabaseCorrupt) => DbError::Corrupt { path, message },
        _ => DbError::Sqlite { path, message },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classify_names_the_database_and_its_companions() {
        let dir = Path::new("/d/opencode");
        for name in ["opencode.db", "opencode.db-wal", "opencode.db-shm"] {
            assert_eq!(classify(dir, &dir.join(name)), Some(OpenCodeKind::Database));
        }
        assert_eq!(classify(dir, &dir.join("opencode.db-journal")), None);
        assert_eq!(
            classify(dir, &dir.join("storage/todo/ses_1.json")),
            Some(OpenCodeKind::TodoFile {
                session: "ses_1".into()
            })
        );
        assert_eq!(
            classify(dir, &dir.join("storage/session/global/ses_1.json")),
            Some(OpenCodeKind::SessionInfo {
                project: "global".into(),
                session: "ses_1".into()
            })
        );
        assert_eq!(
            classify(dir, &dir.join("storage/message/ses_1/msg_1.json")),
            None
        );
    }
}
