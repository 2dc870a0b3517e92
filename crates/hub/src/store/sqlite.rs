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
    assemble_states, change_channel, fold_update, prepare, Change, Ingested, ObservationRow, Page,
    Result, SessionRecord, Store, StoreError, TenantId, TokenInfo,
};
use async_trait::async_trait;
use chittysync_core::{Observation, Timestamp, TodoId, TodoState};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePoolOptions, SqliteSynchronous};
use sqlx::{Row, SqlitePool};
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
        if let Some(parent) = Path::new(path)
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|source| StoreError::Folder {
                path: parent.display().to_string(),
                source,
            })?;
        }
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

fn json<T: serde::Serialize>(value: &T) -> String {
    // Serializing plain structs of strings and integers cannot fail.
    serde_json::to_string(value).unwrap_or_else(|_| "[]".to_string())
}

const TOKEN_COLUMNS: &str = "SELECT t.id, n.name AS tenant, t.prefix, t.created_at, t.revoked_at \
     FROM tokens t JOIN tenants n ON n.id = t.tenant_id";

fn token_info(row: &sqlx::sqlite::SqliteRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        prefix: row.try_get("prefix")?,
        created_at: Timestamp(row.try_get("created_at")?),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(Timestamp),
    })
}

/// The latest observations of a tenant's todos as one JSON array of
/// [`ObservationRow`]s (see [`load_states`]); `{filter}` narrows it to some
/// todos. Each row is an array of the struct's fields in declaration order
/// (serde reads a struct from a sequence too): without the keys the text is
/// half as long, and building and parsing it was most of the time to ingest.
macro_rules! latest_json {
    ($filter:literal) => {
        concat!(
            "SELECT json_group_array(json_array(seq, id, todo_id, project, content, \
             active_form, status, observer, session, device, source, observed_at)) \
             FROM latest WHERE tenant_id = ?1",
            $filter
        )
    };
}

/// The stored times of a tenant's todos as one JSON array of
/// [`TodoMetaRow`](super::TodoMetaRow)s,
/// each an array of its fields in declaration order, as in [`latest_json`].
macro_rules! meta_json {
    ($filter:literal) => {
        concat!(
            "SELECT json_group_array(json_array(todo_id, first_seen, started_at, \
             first_completed, json(sessions))) \
             FROM todos WHERE tenant_id = ?1",
            $filter
        )
    };
}

#[async_trait]
impl Store for SqliteStore {
    async fn create_token(
        &self,
        tenant: &str,
        hash: &str,
        prefix: &str,
        now: Timestamp,
    ) -> Result<TokenInfo> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        sqlx::query(
            "INSERT INTO tenants (name, created_at) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(tenant)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (tenant_id, hash, prefix, created_at) \
             SELECT id, ?2, ?3, ?4 FROM tenants WHERE name = ?1 RETURNING id",
        )
        .bind(tenant)
        .bind(hash)
        .bind(prefix)
        .bind(now.millis())
        .fetch_one(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(TokenInfo {
            id,
            tenant: tenant.to_string(),
            prefix: prefix.to_string(),
            created_at: now,
            revoked_at: None,
        })
    }

    async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let sql = sqlx::AssertSqlSafe(format!("{TOKEN_COLUMNS} ORDER BY t.id"));
        let rows = sqlx::query(sql).fetch_all(&self.pool).await?;
        rows.iter().map(token_info).collect()
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<TokenInfo>> {
        sqlx::query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, ?2) WHERE id = ?1")
            .bind(id)
            .bind(now.millis())
            .execute(&self.pool)
            .await?;
        let sql = sqlx::AssertSqlSafe(format!("{TOKEN_COLUMNS} WHERE t.id = ?1"));
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_info).transpose()
    }

    async fn token_tenant(&self, hash: &str) -> Result<Option<(TenantId, String)>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT tenant_id, hash FROM tokens WHERE hash = ?1 AND revoked_at IS NULL",
        )
        .bind(hash)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|(tenant, hash)| (TenantId(tenant), hash)))
    }

    async fn ingest(
        &self,
        tenant: TenantId,
        batch: Vec<Observation>,
        now: Timestamp,
    ) -> Result<Ingested> {
        let mut tx = self.pool.begin_with("BEGIN IMMEDIATE").await?;
        let base_seq: i64 = sqlx::query_scalar("SELECT last_seq FROM tenants WHERE id = ?1")
            .bind(tenant.0)
            .fetch_one(&mut *tx)
            .await?;
        let ids: Vec<&str> = batch.iter().map(|o| o.id.as_str()).collect();
        let stored: HashSet<String> = sqlx::query_scalar(
            "SELECT id FROM observations WHERE tenant_id = ?1 \
             AND id IN (SELECT value FROM json_each(?2))",
        )
        .bind(tenant.0)
        .bind(json(&ids))
        .fetch_all(&mut *tx)
        .await?
        .into_iter()
        .collect();
        let prepared = prepare(batch, &stored, base_seq);
        if !prepared.fresh.is_empty() {
            let rows: Vec<ObservationRow> = prepared.rows().collect();
            sqlx::query(
                "INSERT INTO observations (tenant_id, seq, id, todo_id, project, content, \
                 active_form, status, observer, session, device, source, observed_at, received_at) \
                 SELECT ?1, value->>'seq', value->>'id', value->>'todo_id', value->>'project', \
                 value->>'content', value->>'active_form', value->>'status', value->>'observer', \
                 value->>'session', value->>'device', value->>'source', value->>'observed_at', ?3 \
                 FROM jsonb_each(?2)",
            )
            .bind(tenant.0)
            .bind(json(&rows))
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        }
        let states = load_states(&mut tx, tenant, Some(&prepared.touched)).await?;
        let update = fold_update(states, &prepared);
        if !update.latest.is_empty() {
            sqlx::query(
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
            )
            .bind(tenant.0)
            .bind(json(&update.latest))
            .execute(&mut *tx)
            .await?;
        }
        if !update.meta.is_empty() {
            sqlx::query(
                "INSERT INTO todos (tenant_id, todo_id, first_seen, started_at, first_completed, \
                 sessions) \
                 SELECT ?1, value->>'todo_id', value->>'first_seen', value->>'started_at', \
                 value->>'first_completed', value->'sessions' FROM jsonb_each(?2) WHERE true \
                 ON CONFLICT (tenant_id, todo_id) DO UPDATE SET \
                 first_seen = excluded.first_seen, started_at = excluded.started_at, \
                 first_completed = excluded.first_completed, sessions = excluded.sessions",
            )
            .bind(tenant.0)
            .bind(json(&update.meta))
            .execute(&mut *tx)
            .await?;
        }
        if !update.sessions.is_empty() {
            sqlx::query(
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
            )
            .bind(tenant.0)
            .bind(json(&update.sessions))
            .execute(&mut *tx)
            .await?;
        }
        let cursor = prepared.last_seq();
        if cursor != base_seq {
            sqlx::query("UPDATE tenants SET last_seq = ?2 WHERE id = ?1")
                .bind(tenant.0)
                .bind(cursor)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        if cursor != base_seq {
            // No receiver (no WebSocket client) is not an error.
            let _ = self.changes.send(Change {
                tenant: Some(tenant),
            });
        }
        Ok(Ingested {
            accepted: prepared.fresh.len() as u64,
            duplicates: prepared.duplicates,
            cursor,
            conflicts: update.conflicts,
        })
    }

    async fn since(&self, tenant: TenantId, cursor: i64, limit: u32) -> Result<Page> {
        let rows: Vec<ObservationRow> = sqlx::query_as(
            "SELECT seq, id, todo_id, project, content, active_form, status, observer, session, \
             device, source, observed_at FROM observations \
             WHERE tenant_id = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
        )
        .bind(tenant.0)
        .bind(cursor)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await?;
        super::page(rows, cursor, limit)
    }

    async fn cursor(&self, tenant: TenantId) -> Result<i64> {
        Ok(
            sqlx::query_scalar("SELECT last_seq FROM tenants WHERE id = ?1")
                .bind(tenant.0)
                .fetch_one(&self.pool)
                .await?,
        )
    }

    async fn todo_states(&self, tenant: TenantId) -> Result<BTreeMap<TodoId, TodoState>> {
        let mut conn = self.pool.acquire().await?;
        load_states(&mut conn, tenant, None).await
    }

    async fn sessions(&self, tenant: TenantId) -> Result<Vec<SessionRecord>> {
        let rows: Vec<super::SessionColumns> = sqlx::query_as(
            "SELECT session, device, project, first_observed, last_observed, observations \
             FROM sessions WHERE tenant_id = ?1 ORDER BY session",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(super::session_record).collect())
    }

    async fn start_feed(&self) -> Result<()> {
        Ok(())
    }

    fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    async fn close(&self) {
        self.pool.close().await;
    }
}

/// Reads fold states: every todo of the tenant, or only those in `todos`.
///
/// The rows come back aggregated into one JSON text per table: sqlx hands
/// SQLite rows over one by one from its connection thread, which made reading
/// 30,000 rows take half a second; one JSON value parsed by serde takes a
/// tenth of that.
async fn load_states(
    conn: &mut sqlx::SqliteConnection,
    tenant: TenantId,
    todos: Option<&BTreeSet<TodoId>>,
) -> Result<BTreeMap<TodoId, TodoState>> {
    let (latest, meta): (String, String) = match todos {
        None => (
            sqlx::query_scalar(latest_json!(""))
                .bind(tenant.0)
                .fetch_one(&mut *conn)
                .await?,
            sqlx::query_scalar(meta_json!(""))
                .bind(tenant.0)
                .fetch_one(&mut *conn)
                .await?,
        ),
        Some(todos) => {
            let ids = json(todos);
            (
                sqlx::query_scalar(latest_json!(
                    " AND todo_id IN (SELECT value FROM json_each(?2))"
                ))
                .bind(tenant.0)
                .bind(&ids)
                .fetch_one(&mut *conn)
                .await?,
                sqlx::query_scalar(meta_json!(
                    " AND todo_id IN (SELECT value FROM json_each(?2))"
                ))
                .bind(tenant.0)
                .bind(&ids)
                .fetch_one(&mut *conn)
                .await?,
            )
        }
    };
    assemble_states(parse_rows(&latest)?, parse_rows(&meta)?)
}

/// Rows a query aggregated into a JSON array.
fn parse_rows<T: serde::de::DeserializeOwned>(json: &str) -> Result<Vec<T>> {
    serde_json::from_str(json).map_err(|e| StoreError::Corrupt(format!("aggregated rows: {e}")))
}
