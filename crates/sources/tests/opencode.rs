//! OpenCode's plan records (docs/SOURCES.md, "OpenCode"): a real SQLite
//! database with OpenCode's schema, written the way OpenCode writes it, and
//! the JSON files of the versions before 1.2.

use chittysync_core::{Status, Timestamp};
use chittysync_sources::agents::opencode::{
    classify, discover, parse_session_info, parse_todo_json, read_db, DbCursor, DbError, DbRead,
    OpenCodeKind,
};
use chittysync_sources::{ParseError, TodoList};
use rusqlite::{params, Connection};
use std::fs;
use std::path::{Path, PathBuf};

fn items(list: &TodoList) -> Vec<(&str, Status)> {
    list.items
        .iter()
        .map(|t| (t.content.as_str(), t.status))
        .collect()
}

// ------------------------------------------------------------------ database

/// The tables a 1.2 database holds that this reader touches, as OpenCode's
/// drizzle schema declares them (packages/opencode/src/session/session.sql.ts,
/// project/project.sql.ts; `Timestamps` from storage/schema.sql.ts) and its
/// first migration creates them.
const SCHEMA_V12: &str = include_str!("../testdata/opencode-1.2-schema.sql");

const T0: i64 = 1_771_000_000_000;

/// OpenCode's connection: WAL mode, foreign keys on (storage/db.ts).
fn opencode_db(path: &Path) -> Connection {
    let conn = Connection::open(path).unwrap();
    conn.pragma_update(None, "journal_mode", "WAL").unwrap();
    conn.pragma_update(None, "foreign_keys", "ON").unwrap();
    conn.execute_batch(SCHEMA_V12).unwrap();
    conn.execute(
        "INSERT INTO project VALUES ('9a1b', '/home/me/work/api', 'git', NULL, ?1, ?1, '[]')",
        [T0],
    )
    .unwrap();
    conn
}

fn add_session(conn: &Connection, id: &str, directory: &str, time: i64) {
    conn.execute(
        "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated)
         VALUES (?1, '9a1b', NULL, 'brave-otter', ?2, 'New session', '1.2.6', ?3, ?3)",
        params![id, directory, time],
    )
    .unwrap();
}

/// What `Todo.update` does on every `todowrite` (session/todo.ts): in one
/// transaction, delete the session's rows and insert the new list, position
/// by position, stamped now.
fn todowrite(conn: &mut Connection, session: &str, todos: &[(&str, &str, &str)], now: i64) {
    let tx = conn.transaction().unwrap();
    tx.execute("DELETE FROM todo WHERE session_id = ?1", [session])
        .unwrap();
    for (position, (content, status, priority)) in todos.iter().enumerate() {
        tx.execute(
            "INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
            params![session, content, status, priority, position as i64, now],
        )
        .unwrap();
    }
    // OpenCode touches the session as its messages change.
    tx.execute(
        "UPDATE session SET time_updated = ?2 WHERE id = ?1",
        params![session, now],
    )
    .unwrap();
    tx.commit().unwrap();
}

fn by_session(read: &DbRead) -> Vec<(&str, Vec<(&str, Status)>)> {
    read.sessions
        .iter()
        .map(|s| (s.plan.session.as_deref().unwrap(), items(&s.plan.todos)))
        .collect()
}

fn temp_db() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("opencode.db");
    (dir, path)
}

#[test]
fn every_list_whole_in_position_order_with_its_folder() {
    let (_dir, path) = temp_db();
    let mut conn = opencode_db(&path);
    add_session(&conn, "ses_a", "/home/me/work/api", T0);
    add_session(&conn, "ses_b", "/home/me/work/web", T0);
    add_session(&conn, "ses_quiet", "/home/me", T0);
    todowrite(
        &mut conn,
        "ses_a",
        &[
            ("Map the endpoints", "completed", "high"),
            ("Port the handlers", "in_progress", "high"),
            ("Drop the old router", "cancelled", "low"),
            ("Write tests", "pending", "medium"),
        ],
        T0 + 10,
    );
    todowrite(
        &mut conn,
        "ses_b",
        &[("Fix the build", "pending", "high")],
        T0 + 20,
    );

    let read = read_db(&path, None).unwrap();
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    assert_eq!(
        by_session(&read),
        [
            (
                "ses_a",
                vec![
                    ("Map the endpoints", Status::Completed),
                    ("Port the handlers", Status::InProgress),
                    ("Drop the old router", Status::Deleted),
                    ("Write tests", Status::Pending),
                ]
            ),
            ("ses_b", vec![("Fix the build", Status::Pending)]),
        ]
    );
    let a = &read.sessions[0];
    assert_eq!(a.cwd.as_deref(), Some("/home/me/work/api"));
    assert_eq!(a.version.as_deref(), Some("1.2.6"));
    assert_eq!(a.plan.at, Timestamp::from_millis(T0 + 10));
    assert_eq!(a.plan.line, None);
    assert!(!a.session_deleted);
    assert_eq!(read.sessions[1].cwd.as_deref(), Some("/home/me/work/web"));
    assert_eq!(read.cursor.time_updated(), T0 + 20);

    // Nothing changed: nothing to hand on, even though sessions were touched.
    conn.execute("UPDATE session SET time_updated = ?1", [T0 + 30])
        .unwrap();
    let again = read_db(&path, Some(&read.cursor)).unwrap();
    assert!(again.sessions.is_empty(), "{:?}", again.sessions);
    assert_eq!(again.cursor, read.cursor);
}

#[test]
fn replaced_changed_and_emptied_lists_are_seen() {
    let (_dir, path) = temp_db();
    let mut conn = opencode_db(&path);
    for id in ["ses_a", "ses_b", "ses_c", "ses_d"] {
        add_session(&conn, id, "/home/me/work/api", T0);
        todowrite(
            &mut conn,
            id,
            &[("One", "pending", "high"), ("Two", "pending", "low")],
            T0 + 1,
        );
    }
    let first = read_db(&path, None).unwrap();
    assert_eq!(first.sessions.len(), 4);

    // a: the whole list replaced; b: one row's status changed in place (as a
    // fork's `patchStatus` does, stamping the row); c: emptied — every row
    // deleted and none inserted; d: untouched.
    todowrite(
        &mut conn,
        "ses_a",
        &[("One", "completed", "high"), ("Two", "in_progress", "low")],
        T0 + 50,
    );
    conn.execute(
        "UPDATE todo SET status = 'completed', time_updated = ?1 WHERE session_id = 'ses_b' AND position = 1",
        [T0 + 60],
    )
    .unwrap();
    todowrite(&mut conn, "ses_c", &[], T0 + 70);

    let second = read_db(&path, Some(&first.cursor)).unwrap();
    assert_eq!(
        by_session(&second),
        [
            (
                "ses_a",
                vec![("One", Status::Completed), ("Two", Status::InProgress)]
            ),
            (
                "ses_b",
                vec![("One", Status::Pending), ("Two", Status::Completed)]
            ),
            ("ses_c", vec![]),
        ]
    );
    assert_eq!(second.sessions[1].plan.at, Timestamp::from_millis(T0 + 60));
    let emptied = &second.sessions[2];
    assert_eq!(emptied.plan.at, Timestamp::from_millis(T0 + 70));
    assert!(!emptied.session_deleted);
    assert_eq!(emptied.cwd.as_deref(), Some("/home/me/work/api"));

    // Once emptied, it is not handed on again; a deleted session's rows go
    // with it (ON DELETE CASCADE), and that is said.
    conn.execute("DELETE FROM session WHERE id = 'ses_d'", [])
        .unwrap();
    let third = read_db(&path, Some(&second.cursor)).unwrap();
    assert_eq!(by_session(&third), [("ses_d", vec![])]);
    assert!(third.sessions[0].session_deleted);
    assert!(third.sessions[0].plan.at > Timestamp::from_millis(T0 + 1));
}

#[test]
fn a_writer_holding_a_write_transaction_does_not_stop_the_read() {
    let (_dir, path) = temp_db();
    let mut conn = opencode_db(&path);
    add_session(&conn, "ses_a", "/w", T0);
    todowrite(
        &mut conn,
        "ses_a",
        &[("Committed", "pending", "high")],
        T0 + 1,
    );

    // OpenCode is mid-write: a write transaction open, not committed.
    let mut writer = Connection::open(&path).unwrap();
    let tx = writer
        .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
        .unwrap();
    tx.execute("DELETE FROM todo WHERE session_id = 'ses_a'", [])
        .unwrap();
    tx.execute(
        "INSERT INTO todo VALUES ('ses_a', 'Uncommitted', 'pending', 'high', 0, ?1, ?1)",
        [T0 + 5],
    )
    .unwrap();

    let read = read_db(&path, None).unwrap();
    assert_eq!(
        by_session(&read),
        [("ses_a", vec![("Committed", Status::Pending)])]
    );

    // The writer was never blocked by the read: it commits, and the next
    // read sees its list.
    tx.commit().unwrap();
    let after = read_db(&path, Some(&read.cursor)).unwrap();
    assert_eq!(
        by_session(&after),
        [("ses_a", vec![("Uncommitted", Status::Pending)])]
    );
}

#[test]
fn a_closed_database_without_its_wal_files_is_read() {
    let (dir, path) = temp_db();
    {
        let mut conn = opencode_db(&path);
        add_session(&conn, "ses_a", "/w", T0);
        todowrite(&mut conn, "ses_a", &[("Kept", "completed", "low")], T0 + 1);
    }
    assert!(!dir.path().join("opencode.db-wal").exists());
    let read = read_db(&path, None).unwrap();
    assert_eq!(
        by_session(&read),
        [("ses_a", vec![("Kept", Status::Completed)])]
    );
}

#[test]
fn a_database_locked_by_a_writer_in_rollback_mode_is_busy_not_fatal() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(SCHEMA_V12).unwrap();
    conn.execute_batch("PRAGMA locking_mode = EXCLUSIVE; BEGIN EXCLUSIVE; DELETE FROM todo;")
        .unwrap();
    let err = read_db(&path, None).unwrap_err();
    assert!(matches!(err, DbError::Busy { .. }), "{err:?}");
    assert!(err.to_string().contains("opencode.db"), "{err}");
    conn.execute_batch("COMMIT").unwrap();
}

#[test]
fn unknown_schemas_name_what_is_missing() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch("CREATE TABLE notes (id text, body text);")
        .unwrap();
    let err = read_db(&path, None).unwrap_err();
    assert!(matches!(err, DbError::Schema { .. }), "{err:?}");
    let text = err.to_string();
    assert!(
        text.contains("opencode.db") && text.contains("no `todo` table"),
        "{text}"
    );
    assert!(text.contains("notes"), "{text}");

    conn.execute_batch("CREATE TABLE todo (session_id text, text text, state text);")
        .unwrap();
    let text = read_db(&path, None).unwrap_err().to_string();
    assert!(
        text.contains("`content`") && text.contains("`status`") && text.contains("`position`"),
        "{text}"
    );
}

/// A fork's baseline schema (found in public OpenCode forks, 2026): `todo`
/// without time columns. Changes are told apart by a digest of the rows.
#[test]
fn a_todo_table_without_times_is_read_by_digest() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE session (id text PRIMARY KEY, directory text NOT NULL, time_updated integer NOT NULL);
         CREATE TABLE todo (session_id text NOT NULL, content text NOT NULL, status text NOT NULL,
                            priority text NOT NULL, position integer NOT NULL,
                            PRIMARY KEY (session_id, position));",
    )
    .unwrap();
    conn.execute("INSERT INTO session VALUES ('ses_a', '/w', ?1)", [T0])
        .unwrap();
    conn.execute(
        "INSERT INTO todo VALUES ('ses_a', 'Only', 'pending', 'high', 0)",
        [],
    )
    .unwrap();
    let first = read_db(&path, None).unwrap();
    assert_eq!(
        by_session(&first),
        [("ses_a", vec![("Only", Status::Pending)])]
    );
    assert_eq!(first.sessions[0].plan.at, Timestamp::from_millis(T0));
    assert!(read_db(&path, Some(&first.cursor))
        .unwrap()
        .sessions
        .is_empty());

    conn.execute("UPDATE todo SET status = 'completed'", [])
        .unwrap();
    let second = read_db(&path, Some(&first.cursor)).unwrap();
    assert_eq!(
        by_session(&second),
        [("ses_a", vec![("Only", Status::Completed)])]
    );
}

#[test]
fn sessions_without_a_directory_column_are_a_warning() {
    let (_dir, path) = temp_db();
    let conn = Connection::open(&path).unwrap();
    conn.execute_batch(
        "CREATE TABLE session (id text PRIMARY KEY, time_updated integer NOT NULL);
         CREATE TABLE todo (session_id text, content text, status text, priority text,
                            position integer, time_created integer, time_updated integer);
         INSERT INTO session VALUES ('ses_a', 5);
         INSERT INTO todo VALUES ('ses_a', 'Second', 'pending', 'low', 1, 7, 7);
         INSERT INTO todo VALUES ('ses_a', NULL, 'pending', 'low', 2, 7, 7);
         INSERT INTO todo VALUES ('ses_a', 'First', 42, 'low', 0, 7, 7);",
    )
    .unwrap();
    let read = read_db(&path, None).unwrap();
    assert_eq!(read.warnings.len(), 1);
    assert!(read.warnings[0].message.contains("`directory`"));
    let plan = &read.sessions[0].plan;
    assert_eq!(
        items(&plan.todos),
        [("First", Status::Pending), ("Second", Status::Pending)]
    );
    assert_eq!(
        (plan.todos.skipped_entries, plan.todos.unknown_statuses),
        (1, 1)
    );
    assert_eq!(read.sessions[0].cwd, None);
}

#[test]
fn not_sqlite_half_written_empty_or_missing_are_errors_naming_the_file() {
    let (dir, path) = temp_db();
    fs::write(&path, "this is a text file, not a database\n".repeat(40)).unwrap();
    let err = read_db(&path, None).unwrap_err();
    assert!(matches!(err, DbError::NotSqlite { .. }), "{err:?}");
    assert!(err.to_string().contains(&path.display().to_string()));

    fs::write(&path, b"").unwrap();
    assert!(matches!(read_db(&path, None), Err(DbError::Empty { .. })));

    let missing = dir.path().join("absent.db");
    let err = read_db(&missing, None).unwrap_err();
    assert!(matches!(err, DbError::Io { .. }), "{err:?}");
    assert!(err.to_string().contains("absent.db"));

    // Half written: a real database cut after its first page and a half.
    let full = dir.path().join("full.db");
    {
        let mut conn = opencode_db(&full);
        conn.pragma_update(None, "journal_mode", "DELETE").unwrap();
        add_session(&conn, "ses_a", "/w", T0);
        let many: Vec<(String, &str, &str)> = (0..300)
            .map(|i| (format!("Step {i} {}", "x".repeat(50)), "pending", "low"))
            .collect();
        let todos: Vec<(&str, &str, &str)> =
            many.iter().map(|(c, s, p)| (c.as_str(), *s, *p)).collect();
        todowrite(&mut conn, "ses_a", &todos, T0 + 1);
    }
    let bytes = fs::read(&full).unwrap();
    fs::write(&path, &bytes[..bytes.len() / 3]).unwrap();
    let err = read_db(&path, None).unwrap_err();
    assert!(
        matches!(err, DbError::Corrupt { .. } | DbError::Schema { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("opencode.db"), "{err}");
}

#[test]
fn the_cursor_survives_a_round_trip_through_json() {
    let (_dir, path) = temp_db();
    let mut conn = opencode_db(&path);
    add_session(&conn, "ses_a", "/w", T0);
    todowrite(&mut conn, "ses_a", &[("One", "pending", "high")], T0 + 1);
    let read = read_db(&path, None).unwrap();
    let stored = serde_json::to_string(&read.cursor).unwrap();
    let cursor: DbCursor = serde_json::from_str(&stored).unwrap();
    assert!(read_db(&path, Some(&cursor)).unwrap().sessions.is_empty());
}

// ------------------------------------------------------- JSON files (< v1.2)

/// `storage/todo/<session>.json` as `Storage.write(["todo", id], todos)` wrote
/// it: the list pretty-printed, fields in the order of `Todo.Info`.
const TODO_JSON: &str = r#"[
  {
    "content": "Test the connection",
    "status": "completed",
    "priority": "high",
    "id": "test_connection"
  },
  {
    "content": "Migrate the schema",
    "status": "in_progress",
    "priority": "high",
    "id": "migrate_schema"
  },
  {
    "content": "Old approach",
    "status": "cancelled",
    "priority": "low",
    "id": "old_approach"
  }
]"#;

#[test]
fn todo_json_of_the_older_versions() {
    let list = parse_todo_json(TODO_JSON.as_bytes()).unwrap();
    assert_eq!(
        items(&list),
        [
            ("Test the connection", Status::Completed),
            ("Migrate the schema", Status::InProgress),
            ("Old approach", Status::Deleted),
        ]
    );
    // Earliest files: ids "1", "2", no priority.
    let list = parse_todo_json(br#"[{"id":"1","content":"A","status":"pending"}]"#).unwrap();
    assert_eq!(items(&list), [("A", Status::Pending)]);
    assert_eq!(parse_todo_json(b"[]").unwrap(), TodoList::default());
}

#[test]
fn broken_todo_json_is_an_error() {
    assert!(matches!(
        parse_todo_json(&TODO_JSON.as_bytes()[..90]),
        Err(ParseError::Json { .. })
    ));
    assert_eq!(
        parse_todo_json(br#"{"todos":[]}"#),
        Err(ParseError::NotAList { found: "an object" })
    );
    let list = parse_todo_json(
        br#"[{"content":["x"],"status":"pending"},{"content":"B","status":"weird"}]"#,
    )
    .unwrap();
    assert_eq!((list.skipped_entries, list.unknown_statuses), (1, 1));
}

#[test]
fn session_info_gives_the_folder() {
    // storage/session/<project>/<session>.json (Session.Info, 0.15–1.1).
    let info = parse_session_info(
        br#"{
  "id": "ses_6b1c2d3e4ffeABCdef",
  "slug": "brave-otter",
  "version": "1.1.20",
  "projectID": "9a1b",
  "directory": "/home/me/work/api",
  "title": "Fix the loader",
  "time": {"created": 1771000000000, "updated": 1771000050000},
  "summary": {"additions": 3, "deletions": 1}
}"#,
    )
    .unwrap();
    assert_eq!(info.id.as_deref(), Some("ses_6b1c2d3e4ffeABCdef"));
    assert_eq!(info.directory.as_deref(), Some("/home/me/work/api"));
    assert_eq!(info.version.as_deref(), Some("1.1.20"));
    assert_eq!(
        info.updated,
        Some(Timestamp::from_millis(1_771_000_050_000))
    );
    // An older info file (storage/session/info/<id>.json, mid 2025) has no
    // directory: the folder is unknown, not an error.
    let old = parse_session_info(
        br#"{"id":"ses_1","parentID":"ses_0","title":"t","version":"0.3.1","time":{"created":1,"updated":2}}"#,
    )
    .unwrap();
    assert_eq!(old.directory, None);
    assert_eq!(old.parent_id.as_deref(), Some("ses_0"));
    assert!(parse_session_info(b"[1]").is_err());
    assert!(parse_session_info(b"{\"id\":").is_err());
}

#[test]
fn discovery_finds_the_database_and_the_older_files() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path().join("opencode");
    {
        let mut conn = opencode_db(&root.join("opencode.db").tap_dir());
        add_session(&conn, "ses_a", "/w", T0);
        todowrite(&mut conn, "ses_a", &[("One", "pending", "high")], T0 + 1);
    }
    let storage = root.join("storage");
    fs::create_dir_all(storage.join("todo")).unwrap();
    fs::create_dir_all(storage.join("session/9a1b")).unwrap();
    fs::create_dir_all(storage.join("message/ses_a")).unwrap();
    fs::write(storage.join("todo/ses_a.json"), TODO_JSON).unwrap();
    fs::write(storage.join("todo/.oc-ses_a.json.77.1771.tmp"), "[").unwrap();
    fs::write(storage.join("session/9a1b/ses_a.json"), "{}").unwrap();
    fs::write(storage.join("message/ses_a/msg_1.json"), "{}").unwrap();
    fs::write(storage.join("migration"), "2").unwrap();

    let scan = discover(&root);
    assert!(scan.found_dir);
    assert!(scan.warnings.is_empty(), "{:?}", scan.warnings);
    let kinds: Vec<&OpenCodeKind> = scan.files.iter().map(|f| &f.kind).collect();
    assert_eq!(
        kinds,
        [
            &OpenCodeKind::Database,
            &OpenCodeKind::SessionInfo {
                project: "9a1b".into(),
                session: "ses_a".into()
            },
            &OpenCodeKind::TodoFile {
                session: "ses_a".into()
            },
        ]
    );
    assert_eq!(scan.ignored, 1);
    assert!(scan.files[0].file.size > 0);
    assert_eq!(
        classify(&root, &root.join("opencode.db-wal")),
        Some(OpenCodeKind::Database)
    );
    assert!(!discover(&dir.path().join("absent")).found_dir);
}

trait TapDir {
    fn tap_dir(self) -> Self;
}

impl TapDir for PathBuf {
    /// Creates the file's folder and hands the path on.
    fn tap_dir(self) -> Self {
        fs::create_dir_all(self.parent().unwrap()).unwrap();
        self
    }
}
