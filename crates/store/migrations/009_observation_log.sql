-- The observation log leaves SQLite for an append-only file beside it,
-- `<store>.log` (docs/ARCHITECTURE.md, "The store"). What stays here is what
-- needs an index: each observation's todo and id with its `seq` (a todo's
-- history; an observation read twice is stored once), and, in `latest`, the
-- status and session of each observer's latest word, which the collision
-- queries read inside SQLite (docs/COLLISIONS.md). The rows move to the file
-- in the same transaction (crates/store/src/migrate.rs), then the table goes.
CREATE TABLE log_index (
    todo_id TEXT NOT NULL,
    id      TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (todo_id, id)
) WITHOUT ROWID;
ALTER TABLE latest ADD COLUMN status TEXT NOT NULL DEFAULT 'pending';
ALTER TABLE latest ADD COLUMN session TEXT;
UPDATE latest SET
    status = (SELECT o.status FROM observations o WHERE o.seq = latest.seq),
    session = (SELECT o.session FROM observations o WHERE o.seq = latest.seq);
