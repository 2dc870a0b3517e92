-- What a starting session is told: a project's open todos that other sessions
-- saw. With `sessions` in the index, counting them reads the index alone, and
-- the newest few of each status are its last entries.
DROP INDEX todos_open;
CREATE INDEX todos_open ON todos (project, status, updated_at, sessions);
