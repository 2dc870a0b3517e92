-- The fold generation at which each project's folded todos last changed (a
-- todo added, changed, or moved in or out). A long-lived process that keeps
-- the outputs rendered in memory re-renders only the projects changed since
-- the generation it rendered, whichever process made the change.
CREATE TABLE project_changes (
    project    TEXT PRIMARY KEY,
    generation INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX project_changes_generation ON project_changes (generation);
