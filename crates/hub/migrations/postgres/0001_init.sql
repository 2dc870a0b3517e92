-- The hub's schema on PostgreSQL. Times are milliseconds since the Unix epoch.

-- A tenant owns observations; tokens map to exactly one tenant. `last_seq` is the
-- tenant's cursor: observations are numbered 1, 2, 3 … per tenant, so a cursor
-- says nothing about other tenants' activity.
CREATE TABLE tenants (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       TEXT    NOT NULL UNIQUE,
    created_at BIGINT  NOT NULL,
    last_seq   BIGINT  NOT NULL DEFAULT 0
);

-- Bearer tokens, stored as the hex SHA-256 of the token: the database never holds
-- a usable secret. `prefix` is the token's public start, shown by `hub token list`.
CREATE TABLE tokens (
    id         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    tenant_id  BIGINT  NOT NULL REFERENCES tenants (id),
    hash       TEXT    NOT NULL UNIQUE,
    prefix     TEXT    NOT NULL,
    created_at BIGINT  NOT NULL,
    revoked_at BIGINT 
);

-- Every observation ever received, in arrival order per tenant (append-only).
CREATE TABLE observations (
    tenant_id   BIGINT  NOT NULL REFERENCES tenants (id),
    seq         BIGINT  NOT NULL,
    id          TEXT    NOT NULL,
    todo_id     TEXT    NOT NULL,
    project     TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    active_form TEXT,
    status      TEXT    NOT NULL,
    observer    TEXT    NOT NULL,
    session     TEXT,
    device      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    observed_at BIGINT  NOT NULL,
    received_at BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, seq),
    UNIQUE (tenant_id, id)
);

-- Each observer's current word on each todo (the fold's input): a copy of that
-- observation, replaced on ingest when a newer one arrives. Reading the fold
-- reads this table alone: not the history, and no join (a join back to
-- `observations` tripled the time to read a large tenant's fold).
CREATE TABLE latest (
    tenant_id   BIGINT  NOT NULL REFERENCES tenants (id),
    todo_id     TEXT    NOT NULL,
    observer    TEXT    NOT NULL,
    seq         BIGINT  NOT NULL,
    id          TEXT    NOT NULL,
    project     TEXT    NOT NULL,
    content     TEXT    NOT NULL,
    active_form TEXT,
    status      TEXT    NOT NULL,
    session     TEXT,
    device      TEXT    NOT NULL,
    source      TEXT    NOT NULL,
    observed_at BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, todo_id, observer)
);

-- The parts of a todo's fold state that depend on all its observations, not only
-- the latest ones: when it was first seen, first seen in progress, first seen
-- completed, and every session that ever saw it.
CREATE TABLE todos (
    tenant_id  BIGINT  NOT NULL REFERENCES tenants (id),
    todo_id    TEXT    NOT NULL,
    first_seen BIGINT  NOT NULL,
    started_at BIGINT,
    first_completed BIGINT,
    sessions   TEXT[] NOT NULL DEFAULT '{}',
    PRIMARY KEY (tenant_id, todo_id)
);

-- Sessions, derived from observations for the views: the device and project of
-- the session's newest observation, its first and last observation times.
CREATE TABLE sessions (
    tenant_id      BIGINT  NOT NULL REFERENCES tenants (id),
    session        TEXT    NOT NULL,
    device         TEXT    NOT NULL,
    project        TEXT    NOT NULL,
    first_observed BIGINT  NOT NULL,
    last_observed  BIGINT  NOT NULL,
    observations   BIGINT  NOT NULL,
    PRIMARY KEY (tenant_id, session)
);
