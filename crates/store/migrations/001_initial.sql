-- The observation log: append-only facts. `seq` is the local insertion order,
-- the cursor that git and hub exports resume from.
CREATE TABLE observations (
    seq         INTEGER PRIMARY KEY,
    id          TEXT NOT NULL UNIQUE,
    todo_id     TEXT NOT NULL,
    project     TEXT NOT NULL,
    content     TEXT NOT NULL,
    active_form TEXT,
    status      TEXT NOT NULL,
    observer    TEXT NOT NULL,
    session     TEXT,
    device      TEXT NOT NULL,
    source      TEXT NOT NULL,
    observed_at INTEGER NOT NULL,
    via         TEXT NOT NULL DEFAULT 'local'
);
CREATE INDEX observations_todo ON observations (todo_id, observed_at);

-- Each observer's current word on each todo: the fold's input, kept up to date
-- so a change refolds only the todos it touches.
CREATE TABLE latest (
    todo_id  TEXT NOT NULL,
    observer TEXT NOT NULL,
    seq      INTEGER NOT NULL REFERENCES observations (seq),
    PRIMARY KEY (todo_id, observer)
) WITHOUT ROWID;

-- The fold, materialized: one row per todo, with its entry and conflict
-- already serialized as the outputs write them. Keyed in output order, so
-- writing the outputs is one sequential scan.
CREATE TABLE todos (
    project      TEXT NOT NULL,
    sort_key     TEXT NOT NULL,
    todo_id      TEXT NOT NULL,
    status       TEXT NOT NULL,
    sessions     TEXT NOT NULL,
    first_seen   INTEGER NOT NULL,
    started_at   INTEGER,
    updated_at   INTEGER NOT NULL,
    completed_at INTEGER,
    first_completed INTEGER,
    entry        TEXT NOT NULL,
    conflict     TEXT,
    PRIMARY KEY (project, sort_key, todo_id)
) WITHOUT ROWID;
CREATE UNIQUE INDEX todos_id ON todos (todo_id);
-- What a starting session is told: a project's open todos, newest first.
CREATE INDEX todos_open ON todos (project, status, updated_at);

-- Every source file read: how big and how new it was, and for transcripts
-- where reading stopped, so unchanged files are not opened again.
CREATE TABLE files (
    path        TEXT PRIMARY KEY,
    size        INTEGER NOT NULL,
    mtime_ms    INTEGER NOT NULL,
    read_offset INTEGER NOT NULL DEFAULT 0,
    read_line   INTEGER NOT NULL DEFAULT 0,
    head_len    INTEGER,
    head_hash   INTEGER,
    error       TEXT
) WITHOUT ROWID;

CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    device       TEXT NOT NULL,
    cwd          TEXT,
    project      TEXT,
    git_branch   TEXT,
    task_list    TEXT,
    version      TEXT,
    first_seen   INTEGER,
    last_seen    INTEGER,
    started_at   INTEGER,
    start_source TEXT,
    ended_at     INTEGER,
    end_reason   TEXT
) WITHOUT ROWID;

CREATE INDEX sessions_task_list ON sessions (task_list) WHERE task_list IS NOT NULL;

CREATE TABLE session_agents (
    session TEXT NOT NULL,
    agent   TEXT NOT NULL,
    PRIMARY KEY (session, agent)
) WITHOUT ROWID;

-- What each task (list, number) is called and its last status, so a TaskUpdate
-- that names only the number can be tied to its content.
CREATE TABLE tasks (
    list        TEXT NOT NULL,
    task_id     TEXT NOT NULL,
    subject     TEXT NOT NULL,
    active_form TEXT,
    status      TEXT NOT NULL DEFAULT 'pending',
    PRIMARY KEY (list, task_id)
) WITHOUT ROWID;

-- TaskCreate calls whose task id (on a later transcript line) is not read yet.
CREATE TABLE pending_task_creates (
    tool_use_id TEXT PRIMARY KEY,
    session     TEXT NOT NULL,
    agent       TEXT,
    subject     TEXT NOT NULL,
    active_form TEXT,
    at          INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) WITHOUT ROWID;
