-- Specialist agents started for a topic (SPEC §13, docs/TOPICS.md): one row
-- per start, written before the command runs (so two deciders never start
-- the same topic twice), then its pid, its end and the session it became.
-- `IF NOT EXISTS`: this file was numbered while 006 was being written beside it.
CREATE TABLE IF NOT EXISTS spawns (
    id          INTEGER PRIMARY KEY,
    project     TEXT NOT NULL,
    topic       TEXT NOT NULL,
    device      TEXT NOT NULL,
    command     TEXT NOT NULL,   -- JSON array: the argv as run
    cwd         TEXT NOT NULL,
    pending     INTEGER NOT NULL, -- pending todos of the topic when it started
    reason      TEXT NOT NULL,
    todos_file  TEXT NOT NULL,
    log_file    TEXT NOT NULL,
    started_at  INTEGER NOT NULL,
    pid         INTEGER,
    ended_at    INTEGER,
    exit_code   INTEGER,
    error       TEXT,             -- why it failed: not started, killed, non-zero exit
    session     TEXT              -- the session it became, once seen
);
CREATE INDEX IF NOT EXISTS spawns_topic ON spawns (project, topic, started_at);
