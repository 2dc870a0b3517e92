-- The log's tail: the records of transactions that append a few
-- observations (a hook, a daemon's run over one changed file), kept here
-- until a writer appending more moves them into the log file, so a small
-- write pays no fsync of its own (docs/ARCHITECTURE.md, "The store").
-- `body` is the record's body as the log file frames it; every `seq` here
-- is past the last one in the file (`meta` `log.seq`).
CREATE TABLE log_tail (
    seq  INTEGER PRIMARY KEY,
    body BLOB NOT NULL
);
