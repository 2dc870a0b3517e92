-- The fold generation at which each todo's folded row last changed, so a
-- long-lived process that keeps the outputs rendered in memory re-renders
-- only the todos changed since the generation it rendered, whichever process
-- changed them.
ALTER TABLE todos ADD COLUMN generation INTEGER NOT NULL DEFAULT 0;
CREATE INDEX todos_generation ON todos (generation);
