-- The model a session ran on, and whether it ever wrote a plan: on Claude
-- Code's newer models the plan tools are off unless turned on, and `status`
-- counts the recent sessions that ran without them (docs/HOOKS.md).
ALTER TABLE sessions ADD COLUMN model TEXT;
ALTER TABLE sessions ADD COLUMN planned INTEGER NOT NULL DEFAULT 0;
UPDATE sessions SET planned = 1
 WHERE id IN (SELECT DISTINCT session FROM observations WHERE session IS NOT NULL);
