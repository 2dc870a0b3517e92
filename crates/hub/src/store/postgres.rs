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
    assemble_states, change_channel, Backend, Change, ObservationRow, Result, SessionDelta,
    Statements, TenantId, TodoMetaRow,
};
use async_trait::async_trait;
use chittysync_core::{Timestamp, TodoId, TodoState};
use sqlx::postgres::{PgListener, PgPoolOptions};
use sqlx::{PgConnection, PgPool, Postgres, Transaction};
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

const LATEST_COLUMNS: &str = "SELECT seq, id, todo_id, project, content, active_form, status, \
     observer, session, device, source, observed_at FROM latest WHERE tenant_id = $1";
const META_COLUMNS: &str = "SELECT todo_id, first_seen, started_at, first_completed, sessions \
     FROM todos WHERE tenant_id = $1";

#[async_trait]
impl Backend for PgStore {
    type Db = Postgres;

    const SQL: Statements = Statements {
        create_tenant: "INSERT INTO tenants (name, created_at) VALUES ($1, $2) \
            ON CONFLICT (name) DO NOTHING",
        create_token: "INSERT INTO tokens (tenant_id, hash, prefix, created_at) \
            SELECT id, $2, $3, $4 FROM tenants WHERE name = $1 RETURNING id",
        revoke_token: "UPDATE tokens SET revoked_at = COALESCE(revoked_at, $2) WHERE id = $1",
        token_by_id: "WHERE t.id = $1",
        live_token: "SELECT id, tenant_id, hash FROM tokens WHERE hash = $1 AND revoked_at IS NULL",
        touch_token: "UPDATE tokens SET last_used_at = $2 WHERE id = $1",
        revoked_tokens: "SELECT id FROM tokens WHERE revoked_at IS NOT NULL",
        cursor: "SELECT last_seq FROM tenants WHERE id = $1",
        locked_cursor: "SELECT last_seq FROM tenants WHERE id = $1 FOR UPDATE",
        set_cursor: "UPDATE tenants SET last_seq = $2 WHERE id = $1",
        since: "SELECT seq, id, todo_id, project, content, active_form, status, observer, \
            session, device, source, observed_at FROM observations \
            WHERE tenant_id = $1 AND seq > $2 ORDER BY seq LIMIT $3",
        sessions: "SELECT session, device, project, first_observed, last_observed, observations \
            FROM sessions WHERE tenant_id = $1 ORDER BY session",
    };

    fn pool(&self) -> &PgPool {
        &self.pool
    }

    fn change_sender(&self) -> &broadcast::Sender<Change> {
        &self.changes
    }

    async fn begin_write(&self) -> Result<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Notifies every hub process inside the transaction, so the notification
    /// is delivered exactly when the rows become visible.
    async fn commit_ingest(
        &self,
        mut tx: Transaction<'static, Postgres>,
        changed: Option<TenantId>,
    ) -> Result<()> {
        if let Some(tenant) = changed {
            sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(tenant.0.to_string())
                .execute(&mut *tx)
                .await?;
        }
        Ok(tx.commit().await?)
    }

    async fn stored_ids(
        conn: &mut PgConnection,
        tenant: TenantId,
        ids: &[&str],
    ) -> Result<HashSet<String>> {
        let stored: Vec<String> =
            sqlx::query_scalar("SELECT id FROM observations WHERE tenant_id = $1 AND id = ANY($2)")
                .bind(tenant.0)
                .bind(ids)
                .fetch_all(conn)
                .await?;
        Ok(stored.into_iter().collect())
    }

    async fn insert_observations(
        conn: &mut PgConnection,
        tenant: TenantId,
        rows: &[ObservationRow],
        now: Timestamp,
    ) -> Result<()> {
        let query = sqlx::query(
            "INSERT INTO observations (tenant_id, seq, id, todo_id, project, content, \
             active_form, status, observer, session, device, source, observed_at, received_at) \
             SELECT $1, u.*, $14 FROM UNNEST($2::bigint[], $3::text[], $4::text[], \
             $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[], \
             $11::text[], $12::text[], $13::bigint[]) AS u",
        )
        .bind(tenant.0);
        bind_observations(query, rows)
            .bind(now.millis())
            .execute(conn)
            .await?;
        Ok(())
    }

    async fn upsert_latest(
        conn: &mut PgConnection,
        tenant: TenantId,
        rows: &[ObservationRow],
    ) -> Result<()> {
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
        bind_observations(query, rows).execute(conn).await?;
        Ok(())
    }

    async fn upsert_todos(
        conn: &mut PgConnection,
        tenant: TenantId,
        rows: &[TodoMetaRow],
    ) -> Result<()> {
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
        .bind(column(rows, |m| m.todo_id.as_str()))
        .bind(column(rows, |m| m.first_seen))
        .bind(column(rows, |m| m.started_at))
        .bind(column(rows, |m| m.first_completed))
        .bind(column(rows, |m| {
            serde_json::to_string(&m.sessions).unwrap_or_default()
        }))
        .execute(conn)
        .await?;
        Ok(())
    }

    async fn upsert_sessions(
        conn: &mut PgConnection,
        tenant: TenantId,
        rows: &[SessionDelta],
    ) -> Result<()> {
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
        .bind(column(rows, |s| s.session.as_str()))
        .bind(column(rows, |s| s.device.as_str()))
        .bind(column(rows, |s| s.project.as_str()))
        .bind(column(rows, |s| s.first_observed))
        .bind(column(rows, |s| s.last_observed))
        .bind(column(rows, |s| s.observations))
        .execute(conn)
        .await?;
        Ok(())
    }

    /// Reads the rows, not one aggregated JSON value as on SQLite: PostgreSQL's
    /// `json_agg` of 30,000 rows took several times longer than sending the rows.
    async fn load_states(
        conn: &mut PgConnection,
        tenant: TenantId,
        todos: Option<&BTreeSet<TodoId>>,
    ) -> Result<BTreeMap<TodoId, TodoState>> {
        let ids: Option<Vec<&str>> = todos.map(|t| t.iter().map(String::as_str).collect());
        let latest = fetch_rows(conn, LATEST_COLUMNS, tenant, ids.as_deref()).await?;
        let meta = fetch_rows(conn, META_COLUMNS, tenant, ids.as_deref()).await?;
        assemble_states(latest, meta)
    }

    /// Connects the listener before returning, so a sync made once the hub is
    /// up is never missed by it; later reconnections happen in the background.
    async fn start_feed(&self) -> Result<()> {
        let task = tokio::spawn(relay(
            listen(&self.url).await?,
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

    async fn stop_feed(&self) {
        self.stop.cancel();
        let task = self
            .listener
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .take();
        if let Some(task) = task {
            let _ = task.await;
        }
    }
}

/// Rows of `select` (which filters on the tenant as $1): all of them, or with
/// `ids` only those of these todos.
async fn fetch_rows<T>(
    conn: &mut PgConnection,
    select: &str,
    tenant: TenantId,
    ids: Option<&[&str]>,
) -> Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let sql = match ids {
        None => select.to_string(),
        Some(_) => format!("{select} AND todo_id = ANY($2)"),
    };
    let mut query = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(tenant.0);
    if let Some(ids) = ids {
        query = query.bind(ids);
    }
    Ok(query.fetch_all(conn).await?)
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
                    match listen(&url).await {
                        Ok(listener) => break listener,
                        Err(error) => tracing::warn!(%error, "change listener reconnect failed"),
                    }
                };
                let _ = changes.send(Change { tenant: None });
            }
        }
    }
}

/// A listener connected and listening on [`CHANNEL`].
async fn listen(url: &str) -> Result<PgListener> {
    let mut listener = PgListener::connect(url).await?;
    listener.listen(CHANNEL).await?;
    Ok(listener)
}

type PgQuery<'q> = sqlx::query::Query<'q, Postgres, sqlx::postgres::PgArguments>;

/// One field of every row, as an array for `UNNEST`.
fn column<'r, R, T>(rows: &'r [R], field: impl Fn(&'r R) -> T) -> Vec<T> {
    rows.iter().map(field).collect()
}

/// Binds the observation rows as column arrays, in the order of the fields of
/// [`ObservationRow`], as the next parameters.
fn bind_observations<'q>(query: PgQuery<'q>, rows: &[ObservationRow]) -> PgQuery<'q> {
    query
        .bind(column(rows, |r| r.seq))
        .bind(column(rows, |r| r.id.as_str()))
        .bind(column(rows, |r| r.todo_id.as_str()))
        .bind(column(rows, |r| r.project.as_str()))
        .bind(column(rows, |r| r.content.as_str()))
        .bind(column(rows, |r| r.active_form.as_deref()))
        .bind(column(rows, |r| r.status.as_str()))
        .bind(column(rows, |r| r.observer.as_str()))
        .bind(column(rows, |r| r.session.as_deref()))
        .bind(column(rows, |r| r.device.as_str()))
        .bind(column(rows, |r| r.source.as_str()))
        .bind(column(rows, |r| r.observed_at))
}
