-- Collisions and notifications (docs/COLLISIONS.md).
-- Which session was warned of which other session on which todo: a session
-- is told of a collision once, and again only after it let the todo go.
CREATE TABLE collision_warnings (
    todo_id   TEXT NOT NULL,
    session   TEXT NOT NULL,
    other     TEXT NOT NULL,
    warned_at INTEGER NOT NULL,
    PRIMARY KEY (todo_id, session, other)
) WITHOUT ROWID;

-- Events for `[notify]`, each sent once: `key` names the event (a collision's
-- todo and sessions…), `body` is the JSON sent; `sent_at` stays NULL until a
-- channel took it, and `attempts` counts the failed tries.
CREATE TABLE notify_events (
    key        TEXT PRIMARY KEY,
    kind       TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    sent_at    INTEGER,
    attempts   INTEGER NOT NULL DEFAULT 0,
    next_try   INTEGER NOT NULL DEFAULT 0,
    last_error TEXT
) WITHOUT ROWID;
CREATE INDEX notify_events_unsent ON notify_events (next_try) WHERE sent_at IS NULL;
