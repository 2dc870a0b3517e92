-- Where reading a source that is not a file of lines stopped: an OpenCode
-- database's cursor (docs/SOURCES.md, "OpenCode"), as JSON. The fold rows of
-- this version carry each todo's agents, so the fold is computed again once.
ALTER TABLE files ADD COLUMN cursor TEXT;
