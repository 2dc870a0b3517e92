//! The PostgreSQL backend: several hub processes may share one database.
//!
//! Syncs of one tenant are serialized by locking the tenant's row (`SELECT …
//! FOR UPDATE`), which is also what makes a tenant's cursor trustworthy: its
//! sequence numbers are handed out under the lock, so they become visible in
//! order and a reader never skips an observation that commits late. Batches go
//! in as arrays (`UNNEST`), one statement per table.
//!
//! Each sync that stored something sends `NOTIFY chittysync_observations,
//! '<tenant id>'` inside its transaction (delivered only on commit). Every hub
//! process LISTENs on its own connection and passes the hint on to its
//! WebSocket sessions, which read the new rows themselves; so a sync on any
//! process reaches clients of all of them.

use super::{
    assemble_states, change_channel, fold_update, prepare, Change, Ingested, ObservationRow, Page,
    Result, SessionRecord, Store, TenantId, TodoMetaRow, TokenInfo,
};
use async_trait::async_trait;
use chittysync_core::{Observation, Timestamp, TodoId, TodoState};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgPool, Row};
use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::sync::Mutex;
use std::time::Duration;
use tokio::sync::broadcast;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// The notification channel every hub process listens on.
const CHANNEL: &str = "chittysync_observations";
const MAX_CONNECTIONS: u32 = 10;
/// Pause before reconnecting a listener whose connection failed.
const RECONNECT_DELAY: Duration = Duration::from_secs(1);

pub(crate) struct PgStore {
    pool: PgPool,
    url: String,
    changes: broadcast::Sender<Change>,
    stop: CancellationToken,
    listener: Mutex<Option<JoinHandle<()>>>,
}

impl PgStore {
    pub(crate) async fn open(url: &str) -> Result<Self> {
        let pool = PgPoolOptions::new()
            .max_connections(MAX_CONNECTIONS)
            .connect(url)
            .await?;
        sqlx::migrate!("./migrations/postgres").run(&pool).await?;
        Ok(PgStore {
            pool,
            url: url.to_string(),
            changes: change_channel(),
            stop: CancellationToken::new(),
            listener: Mutex::new(None),
        })
    }
}

const TOKEN_COLUMNS: &str = "SELECT t.id, n.name AS tenant, t.prefix, t.created_at, t.revoked_at \
     FROM tokens t JOIN tenants n ON n.id = t.tenant_id";

fn token_info(row: &sqlx::postgres::PgRow) -> Result<TokenInfo> {
    Ok(TokenInfo {
        id: row.try_get("id")?,
        tenant: row.try_get("tenant")?,
        prefix: row.try_get("prefix")?,
        created_at: Timestamp(row.try_get("created_at")?),
        revoked_at: row.try_get::<Option<i64>, _>("revoked_at")?.map(Timestamp),
    })
}

const LATEST_COLUMNS: &str = "SELECT seq, id, todo_id, project, content, active_form, status, \
     observer, session, device, source, observed_at FROM latest WHERE tenant_id = $1";
const META_COLUMNS: &str = "SELECT todo_id, first_seen, started_at, first_completed, sessions \
     FROM todos WHERE tenant_id = $1";

#[async_trait]
impl Store for PgStore {
    async fn create_token(
        &self,
        tenant: &str,
        hash: &str,
        prefix: &str,
        now: Timestamp,
    ) -> Result<TokenInfo> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO tenants (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        )
        .bind(tenant)
        .bind(now.millis())
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO tokens (tenant_id, hash, prefix, created_at) \
             SELECT id, $2, $3, $4 FROM tenants WHERE name = $1 RETURNING id",
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
        sqlx::query("UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1")
            .bind(id)
            .bind(now.millis())
            .execute(&self.pool)
            .await?;
        let sql = sqlx::AssertSqlSafe(format!("{TOKEN_COLUMNS} WHERE t.id = $1"));
        let row = sqlx::query(sql).bind(id).fetch_optional(&self.pool).await?;
        row.as_ref().map(token_info).transpose()
    }

    async fn token_tenant(&self, hash: &str) -> Result<Option<(TenantId, String)>> {
        let row: Option<(i64, String)> = sqlx::query_as(
            "SELECT tenant_id, hash FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
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
        let mut tx = self.pool.begin().await?;
        let base_seq: i64 =
            sqlx::query_scalar("SELECT last_seq FROM tenants WHERE id = $1 FOR UPDATE")
                .bind(tenant.0)
                .fetch_one(&mut *tx)
                .await?;
        let ids: Vec<String> = batch.iter().map(|o| o.id.clone()).collect();
        let stored: HashSet<String> =
            sqlx::query_scalar("SELECT id FROM observations WHERE tenant_id = $1 AND id = ANY($2)")
                .bind(tenant.0)
                .bind(&ids)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .collect();
        let prepared = prepare(batch, &stored, base_seq);
        if !prepared.fresh.is_empty() {
            let c = Columns::of(prepared.rows());
            let query = sqlx::query(
                "INSERT INTO observations (tenant_id, seq, id, todo_id, project, content, \
                 active_form, status, observer, session, device, source, observed_at, received_at) \
                 SELECT $1, u.*, $14 FROM UNNEST($2::bigint[], $3::text[], $4::text[], \
                 $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], \
                 $11::text[], $12::text[], $13::bigint[]) AS u",
            )
            .bind(tenant.0);
            c.bind(query).bind(now.millis()).execute(&mut *tx).await?;
        }
        let states = load_states(&mut tx, tenant, Some(&prepared.touched)).await?;
        let update = fold_update(states, &prepared);
        if !update.latest.is_empty() {
            let c = Columns::of(update.latest.iter().cloned());
            let query = sqlx::query(
                "INSERT INTO latest (tenant_id, seq, id, todo_id, project, content, active_form, \
                 status, observer, session, device, source, observed_at) \
                 SELECT $1, u.* FROM UNNEST($2::bigint[], $3::text[], $4::text[], $5::text[], \
                 $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], $11::text[], \
                 $12::text[], $13::bigint[]) AS u \
                 ON CONFLICT (tenant_id, todo_id, observer) DO UPDATE SET \
                 seq = EXCLUDED.seq, id = EXCLUDED.id, project = EXCLUDED.project, \
                 content = EXCLUDED.content, active_form = EXCLUDED.active_form, \
                 status = EXCLUDED.status, session = EXCLUDED.session, device = EXCLUDED.device, \
                 source = EXCLUDED.source, observed_at = EXCLUDED.observed_at",
            )
            .bind(tenant.0);
            c.bind(query).execute(&mut *tx).await?;
        }
        if !update.meta.is_empty() {
            let mut todo = Vec::new();
            let mut first_seen = Vec::new();
            let mut started_at = Vec::new();
            let mut first_completed = Vec::new();
            let mut sessions = Vec::new();
            for m in &update.meta {
                todo.push(m.todo_id.as_str());
                first_seen.push(m.first_seen);
                started_at.push(m.started_at);
                first_completed.push(m.first_completed);
                sessions.push(serde_json::to_string(&m.sessions).unwrap_or_default());
            }
            sqlx::query(
                "INSERT INTO todos (tenant_id, todo_id, first_seen, started_at, first_completed, \
                 sessions) \
                 SELECT $1, u.todo_id, u.first_seen, u.started_at, u.first_completed, \
                 ARRAY(SELECT jsonb_array_elements_text(u.sessions::jsonb)) FROM UNNEST($2::text[], $3::bigint[], $4::bigint[], \
                 $5::bigint[], $6::text[]) \
                 AS u (todo_id, first_seen, started_at, first_completed, sessions) \
                 ON CONFLICT (tenant_id, todo_id) DO UPDATE SET \
                 first_seen = EXCLUDED.first_seen, started_at = EXCLUDED.started_at, \
                 first_completed = EXCLUDED.first_completed, sessions = EXCLUDED.sessions",
            )
            .bind(tenant.0)
            .bind(todo)
            .bind(first_seen)
            .bind(started_at)
            .bind(first_completed)
            .bind(sessions)
            .execute(&mut *tx)
            .await?;
        }
        if !update.sessions.is_empty() {
            let mut session = Vec::new();
            let mut device = Vec::new();
            let mut project = Vec::new();
            let mut first = Vec::new();
            let mut last = Vec::new();
            let mut count = Vec::new();
            for s in &update.sessions {
                session.push(s.session.as_str());
                device.push(s.device.as_str());
                project.push(s.project.as_str());
                first.push(s.first_observed);
                last.push(s.last_observed);
                count.push(s.observations);
            }
            sqlx::query(
                "INSERT INTO sessions (tenant_id, session, device, project, first_observed, \
                 last_observed, observations) \
                 SELECT $1, u.* FROM UNNEST($2::text[], $3::text[], $4::text[], $5::bigint[], \
                 $6::bigint[], $7::bigint[]) AS u \
                 ON CONFLICT (tenant_id, session) DO UPDATE SET \
                 device = CASE WHEN EXCLUDED.last_observed >= sessions.last_observed \
                     THEN EXCLUDED.device ELSE sessions.device END, \
                 project = CASE WHEN EXCLUDED.last_observed >= sessions.last_observed \
                     THEN EXCLUDED.project ELSE sessions.project END, \
                 first_observed = LEAST(sessions.first_observed, EXCLUDED.first_observed), \
                 last_observed = GREATEST(sessions.last_observed, EXCLUDED.last_observed), \
                 observations = sessions.observations + EXCLUDED.observations",
            )
            .bind(tenant.0)
            .bind(session)
            .bind(device)
            .bind(project)
            .bind(first)
            .bind(last)
            .bind(count)
            .execute(&mut *tx)
            .await?;
        }
        let cursor = prepared.last_seq();
        if cursor != base_seq {
            sqlx::query("UPDATE tenants SET last_seq = $2 WHERE id = $1")
                .bind(tenant.0)
                .bind(cursor)
                .execute(&mut *tx)
                .await?;
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(tenant.0.to_string())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
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
             WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
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
            sqlx::query_scalar("SELECT last_seq FROM tenants WHERE id = $1")
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
             FROM sessions WHERE tenant_id = $1 ORDER BY session",
        )
        .bind(tenant.0)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(super::session_record).collect())
    }

    /// Connects the listener before returning, so a sync made once the hub is
    /// up is never missed by it; later reconnections happen in the background.
    async fn start_feed(&self) -> Result<()> {
        let mut listener = PgListener::connect(&self.url).await?;
        listener.listen(CHANNEL).await?;
        let task = tokio::spawn(relay(
            listener,
            self.url.clone(),
            self.changes.clone(),
            self.stop.clone(),
        ));
        if let Some(old) = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .replace(task)
        {
            old.abort();
        }
        Ok(())
    }

    fn changes(&self) -> broadcast::Receiver<Change> {
        self.changes.subscribe()
    }

    async fn close(&self) {
        self.stop.cancel();
        let task = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
        self.pool.close().await;
    }
}

/// Passes notifications on as [`Change`]s until stopped. When the connection
/// drops, notifications sent meanwhile are lost, so after reconnecting it
/// announces a change for every tenant and each session rereads from its cursor.
async fn relay(
    mut listener: PgListener,
    url: String,
    changes: broadcast::Sender<Change>,
    stop: CancellationToken,
) {
    loop {
        let received = tokio::select! {
            _ = stop.cancelled() => return,
            received = listener.try_recv() => received,
        };
        match received {
            Ok(Some(notification)) => match notification.payload().parse::<i64>() {
                Ok(tenant) => {
                    let _ = changes.send(Change {
                        tenant: Some(TenantId(tenant)),
                    });
                }
                Err(_) => tracing::warn!(payload = notification.payload(), "odd notification"),
            },
            // The connection was lost and has been re-established.
            Ok(None) => {
                let _ = changes.send(Change { tenant: None });
            }
            Err(error) => {
                tracing::warn!(%error, "change listener failed; reconnecting");
                listener = loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep(RECONNECT_DELAY) => {}
                    }
                    match reconnect(&url).await {
                        Ok(listener) => break listener,
                        Err(error) => tracing::warn!(%error, "change listener reconnect failed"),
                    }
                };
                let _ = changes.send(Change { tenant: None });
            }
        }
    }
}

async fn reconnect(url: &str) -> Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

type PgQuery<'q> = sqlx::query::Query<'q, sqlx::Postgres, sqlx::postgres::PgArguments>;

/// Observation rows as column arrays, for `UNNEST`.
#[derive(Default)]
struct Columns {
    seq: Vec<i64>,
    id: Vec<String>,
    todo_id: Vec<String>,
    project: Vec<String>,
    content: Vec<String>,
    active_form: Vec<Option<String>>,
    status: Vec<String>,
    observer: Vec<String>,
    session: Vec<Option<String>>,
    device: Vec<String>,
    source: Vec<String>,
    observed_at: Vec<i64>,
}

impl Columns {
    /// Binds the columns, in the order of the fields, as the next parameters.
    fn bind(self, query: PgQuery<'_>) -> PgQuery<'_> {
        query
            .bind(self.seq)
            .bind(self.id)
            .bind(self.todo_id)
            .bind(self.project)
            .bind(self.content)
            .bind(self.active_form)
            .bind(self.status)
            .bind(self.observer)
            .bind(self.session)
            .bind(self.device)
            .bind(self.source)
            .bind(self.observed_at)
    }

    fn of(rows: impl Iterator<Item = ObservationRow>) -> Self {
        let mut c = Columns::default();
        for r in rows {
            c.seq.push(r.seq);
            c.id.push(r.id);
            c.todo_id.push(r.todo_id);
            c.project.push(r.project);
            c.content.push(r.content);
            c.active_form.push(r.active_form);
            c.status.push(r.status);
            c.observer.push(r.observer);
            c.session.push(r.session);
            c.device.push(r.device);
            c.source.push(r.source);
            c.observed_at.push(r.observed_at);
        }
        c
    }
}

/// Reads fold states: every todo of the tenant, or only those in `todos`.
/// (Rows, not one aggregated JSON value as on SQLite: PostgreSQL's `json_agg`
/// of 30,000 rows took several times longer than sending the rows.)
async fn load_states(
    conn: &mut sqlx::PgConnection,
    tenant: TenantId,
    todos: Option<&BTreeSet<TodoId>>,
) -> Result<BTreeMap<TodoId, TodoState>> {
    let (latest, meta): (Vec<ObservationRow>, Vec<TodoMetaRow>) = match todos {
        None => (
            sqlx::query_as(LATEST_COLUMNS)
                .bind(tenant.0)
                .fetch_all(&mut *conn)
                .await?,
            sqlx::query_as(META_COLUMNS)
                .bind(tenant.0)
                .fetch_all(&mut *conn)
                .await?,
        ),
        Some(todos) => {
            let ids: Vec<&str> = todos.iter().map(String::as_str).collect();
            let latest = sqlx::AssertSqlSafe(format!("{LATEST_COLUMNS} AND todo_id = ANY($2)"));
            let meta = sqlx::AssertSqlSafe(format!("{META_COLUMNS} AND todo_id = ANY($2)"));
            (
                sqlx::query_as(latest)
                    .bind(tenant.0)
                    .bind(&ids)
                    .fetch_all(&mut *conn)
                    .await?,
                sqlx::query_as(meta)
                    .bind(tenant.0)
                    .bind(&ids)
                    .fetch_all(&mut *conn)
                    .await?,
            )
        }
    };
    assemble_states(latest, meta)
}
