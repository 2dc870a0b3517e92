//! The SQLite backend: one file, WAL journal, for a single hub process.
//!
//! Writes take the write lock up front (`BEGIN IMMEDIATE`), so two concurrent
//! syncs queue on the busy timeout instead of failing half-way. Batches reach
//! the database as one JSON parameter expanded by `jsonb_each`, which makes an
//! insert of a thousand rows one statement rather than a thousand round trips
//! to sqlx's connection thread. (`jsonb_each`, not `json_each`: the latter
//! hands each element over as text, which every `value->>'field'` renders and
//! parses again; the binary form is parsed once.) Changes are announced on an in-process channel:
//! several processes on one SQLite file share data, but their WebSocket clients
//! only hear of other processes' changes on their periodic re-read.

use super::{
    assemble_states, change_channel, Backend, Change, ObservationRow, Result, SessionDelta,
    Statements, StoreError, TenantId, TodoMetaRow,
};
use async_trait::async_trait;
use chittysync_core::{Timestamp, TodoId, TodoState};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Sqlite, SqliteConnection, SqlitePool, Transaction};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::path::Path;
use std::time::Duration;
use tokio::sync::broadcast;

/// How long a writer waits for another to finish before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
const MAX_CONNECTIONS: u32 = 8;
/// Page cache per connection, in KiB (SQLite's negative `cache_size`). The
/// default 2 MiB is smaller than the fold tables of a busy tenant, and every
/// sync reads and rewrites pages scattered all over them (todo ids are
/// hashes): with the default, upserting a sync's `latest` rows took twice as
/// long, re-reading pages just evicted. Pages are allocated only as used.
const CACHE_KIB: i64 = 32 * 1024;
/// WAL pages before a commit checkpoints them into the database (SQLite's
/// default is 1,000, 4 MiB). A sync of a thousand observations can touch about
/// that many pages, so with the default nearly every sync paid for a
/// checkpoint and its fsyncs; a larger WAL checkpoints rarely, and a page
/// rewritten by many syncs in between is copied back once.
const WAL_AUTOCHECKPOINT_PAGES: u32 = 16 * 1024;

pub(crate) struct SqliteStore {
    pool: SqlitePool,
    changes: broadcast::Sender<Change>,
}

impl SqliteStore {
    pub(crate) async fn open(path: &str) -> Result<Self> {
        create_private(Path::new(path))?;
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            .pragma("cache_size", (-CACHE_KIB).to_string())
            .pragma("wal_autocheckpoint", WAL_AUTOCHECKPOINT_PAGES.to_string())
            // Statement journals of the multi-row upserts stay in memory.
            .pragma("temp_store", "memory");
        let pool = SqlitePoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect_with(options)
            .await?;
        sqlx::migrate!("./migrations/sqlite").run(&pool).await?;
        Ok(SqliteStore {
            pool,
            changes: change_channel(),
        })
    }
}

/// Creates the database's missing folders (0700) and the file itself (0600,
/// empty), whatever the umask: it holds every tenant's todos. The same rule
/// as the local store's (`chittysync_engine::create_private_database`).
fn create_private(path: &Path) -> Result<()> {
    chittysync_engine::create_private_database(path).map_err(|e| StoreError::Folder {
        path: e.path.display().to_string(),
        cause: e.cause,
    })
}

fn json<T: serde::Serialize + ?Sized>(value: &T) -> String {
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}

/// The latest observations of a tenant's todos as one JSON array of
/// [`ObservationRow`]s (see [`load_states`](Backend::load_states)). Each row
/// is an array of the struct's fields in declaration order (serde reads a
/// struct from a sequence too): without the keys the text is half as long, and
/// building and parsing it was most of the time to ingest.
const LATEST_JSON: &str = "SELECT json_group_array(json_array(seq, id, todo_id, project, \
     content, active_form, status, observer, session, device, source, observed_at)) \
     FROM latest WHERE tenant_id = ?1";

/// The stored times of a tenant's todos as one JSON array of [`TodoMetaRow`]s,
/// each an array of its fields in declaration order, as in [`LATEST_JSON`].
const META_JSON: &str = "SELECT json_group_array(json_array(todo_id, first_seen, started_at, \
     first_completed, json(sessions))) \
     FROM todos WHERE tenant_id = ?1";

#[async_trait]
impl Backend for SqliteStore {
    type Db = Sqlite;

    /// The cursor needs no lock of its own: every write holds the database's.
    const SQL: Statements = Statements {
        create_tenant: "INSERT INTO tenants (name, created_at) VALUES (?1, ?2) \
            ON CONFLICT (name) DO NOTHING",
        create_token: "INSERT INTO tokens (tenant_id, hash, prefix, created_at) \
            SELECT id, ?2, ?3, ?4 FROM tenants WHERE name = ?1 RETURNING id",
        revoke_token: "UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1",
        token_by_id: "WHERE t.id = ?1",
        live_token: "SELECT id, tenant_id, hash FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
        touch_token: "UPDATE tokens SET last_used_at = ?2 WHERE id = ?1",
        revoked_tokens: "SELECT id FROM tokens WHERE revoked_at IS NOT NULL",
        cursor: "SELECT last_seq FROM tenants WHERE id = ?1",
        locked_cursor: "SELECT last_seq FROM tenants WHERE id = ?1",
        set_cursor: "UPDATE tenants SET last_seq = ?2 WHERE id = ?1",
        since: "SELECT seq, id, todo_id, project, content, active_form, status, observer, \
            session, device, source, observed_at FROM observations \
            WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        sessions: "SELECT session, device, project, first_observed, last_observed, observations \
            FROM sessions WHERE tenant_id = ?1 ORDER BY session",
    };

    fn pool(&self) -> &SqlitePool {
        &self.pool
    }

    fn change_sender(&self) -> &broadcast::Sender<Change> {
        &self.changes
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Sqlite>> {
        Ok(self.pool.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Announces the change on the in-process channel once it is committed.
    async fn commit_ingest(
        &self,
        tx: Transaction<'static, Sqlite>,
        changed: Option<TenantId>,
    ) -> Result<()> {
        tx.commit().await?;
        if let Some(tenant) = changed {
            // No receiver (no WebSocket client) is not an error.
            let _ = self.changes.send(Change {
                tenant: Some(tenant),
            });
        }
        Ok(())
    }

    async fn stored_ids(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        ids: &[&str],
    ) -> Result<HashSet<String>> {
        let stored: Vec<String> = sqlx::query_scalar(
            "SELECT id FROM observations WHERE tenant_id = ?1 \
             AND id IN (SELECT value FROM json_each(?2))",
        )
        .bind(tenant.0)
        .bind(json(ids))
        .fetch_all(conn)
        .await?;
        Ok(stored.into_iter().collect())
    }

    async fn insert_observations(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        rows: &[ObservationRow],
        now: Timestamp,
    ) -> Result<()> {
        json_batch(
            "INSERT INTO observations (tenant_id, seq, id, todo_id, project, content, \
             active_form, status, observer, session, device, source, observed_at, received_at) \
             SELECT ?1, value->>'seq', value->>'id', value->>'todo_id', value->>'project', \
             value->>'content', value->>'active_form', value->>'status', value->>'observer', \
             value->>'session', value->>'device', value->>'source', value->>'observed_at', ?3 \
             FROM jsonb_each(?2)",
            tenant,
            rows,
        )
        .bind(now.millis())
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn upsert_latest(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        rows: &[ObservationRow],
    ) -> Result<()> {
        json_batch(
            "INSERT INTO latest (tenant_id, todo_id, observer, seq, id, project, content, \
             active_form, status, session, device, source, observed_at) \
             SELECT ?1, value->>'todo_id', value->>'observer', value->>'seq', value->>'id', \
             value->>'project', value->>'content', value->>'active_form', value->>'status', \
             value->>'session', value->>'device', value->>'source', value->>'observed_at' \
             FROM jsonb_each(?2) WHERE true \
             ON CONFLICT (tenant_id, todo_id, observer) DO UPDATE SET \
             seq = excluded.seq, id = excluded.id, project = excluded.project, \
             content = excluded.content, active_form = excluded.active_form, \
             status = excluded.status, session = excluded.session, device = excluded.device, \
             source = excluded.source, observed_at = excluded.observed_at",
            tenant,
            rows,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn upsert_todos(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        rows: &[TodoMetaRow],
    ) -> Result<()> {
        json_batch(
            "INSERT INTO todos (tenant_id, todo_id, first_seen, started_at, first_completed, \
             sessions) \
             SELECT ?1, value->>'todo_id', value->>'first_seen', value->>'started_at', \
             value->>'first_completed', value->'sessions' FROM jsonb_each(?2) WHERE true \
             ON CONFLICT (tenant_id, todo_id) DO UPDATE SET \
             first_seen = excluded.first_seen, started_at = excluded.started_at, \
             first_completed = excluded.first_completed, sessions = excluded.sessions",
            tenant,
            rows,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn upsert_sessions(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        rows: &[SessionDelta],
    ) -> Result<()> {
        json_batch(
            "INSERT INTO sessions (tenant_id, session, device, project, first_observed, \
             last_observed, observations) \
             SELECT ?1, value->>'session', value->>'device', value->>'project', \
             value->>'first_observed', value->>'last_observed', value->>'observations' \
             FROM jsonb_each(?2) WHERE true \
             ON CONFLICT (tenant_id, session) DO UPDATE SET \
             device = CASE WHEN excluded.last_observed >= sessions.last_observed \
                 THEN excluded.device ELSE sessions.device END, \
             project = CASE WHEN excluded.last_observed >= sessions.last_observed \
                 THEN excluded.project ELSE sessions.project END, \
             first_observed = MIN(sessions.first_observed, excluded.first_observed), \
             last_observed = MAX(sessions.last_observed, excluded.last_observed), \
             observations = sessions.observations + excluded.observations",
            tenant,
            rows,
        )
        .execute(conn)
        .await?;
        Ok(())
    }

    /// The rows come back aggregated into one JSON text per table: sqlx hands
    /// SQLite rows over one by one from its connection thread, which made
    /// reading 30,000 rows take half a second; one JSON value parsed by serde
    /// takes a tenth of that.
    async fn load_states(
        conn: &mut SqliteConnection,
        tenant: TenantId,
        todos: Option<&BTreeSet<TodoId>>,
    ) -> Result<BTreeMap<TodoId, TodoState>> {
        let ids = todos.map(json);
        let latest = aggregated(conn, LATEST_JSON, tenant, ids.as_deref()).await?;
        let meta = aggregated(conn, META_JSON, tenant, ids.as_deref()).await?;
        assemble_states(latest, meta)
    }
}

type SqliteQuery<'q> = sqlx::query::Query<'q, Sqlite, sqlx::sqlite::SqliteArguments>;

/// A statement that expands `rows`, bound as one JSON array ?2, for tenant ?1.
fn json_batch<'q, T: serde::Serialize>(
    sql: &'static str,
    tenant: TenantId,
    rows: &[T],
) -> SqliteQuery<'q> {
    sqlx::query(sql).bind(tenant.0).bind(json(rows))
}

/// The rows `select` (which filters on the tenant as ?1) aggregates: all of
/// them, or with `ids` (a JSON array) only those of these todos.
async fn aggregated<T: serde::de::DeserializeOwned>(
    conn: &mut SqliteConnection,
    select: &str,
    tenant: TenantId,
    ids: Option<&str>,
) -> Result<Vec<T>> {
    let sql = match ids {
        None => select.to_string(),
        Some(_) => format!("{select} AND todo_id IN (SELECT value FROM json_each(?2))"),
    };
    let mut query = sqlx::query_scalar(sqlx::AssertSqlSafe(sql)).bind(tenant.0);
    if let Some(ids) = ids {
        query = query.bind(ids);
    }
    let json: String = query.fetch_one(conn).await?;
    parse_rows(&json)
}

/// Rows a query aggregated into a JSON array.
fn parse_rows<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("aggregated rows: {e}")))
}
