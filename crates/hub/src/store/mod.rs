//! Where the hub keeps tenants, tokens and observations.
//!
//! One trait, [`Store`], with a backend per database (the atuin / taskchampion
//! pattern): [`sqlite`] for a single hub process, the default, and [`postgres`]
//! for several hub processes sharing one database. Each backend has its own
//! versioned migrations folder (`migrations/<backend>/`), and implements
//! [`Backend`]: its SQL and the steps that take a different shape on its
//! database. [`Store`] itself is implemented once, here, on top of them.
//!
//! The backends only move rows. Every decision about what a batch of
//! observations *means* — which are duplicates, which observer's word is now
//! the latest, when a todo was first seen, what a session looks like — is made
//! here, once, with the core's [`TodoState`], so the two databases can never
//! fold differently from each other or from the daemon.

pub(crate) mod postgres;
pub(crate) mod sqlite;

use async_trait::async_trait;
use chittysync_core::{Conflict, Observation, Source, Status, Timestamp, TodoId, TodoState};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::Arc;
use tokio::sync::broadcast;

/// A tenant's row id. Every data method of [`Store`] takes one, and every query
/// behind it filters on it: that is the whole of tenant isolation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TenantId(pub i64);

/// A token as `hub token list` shows it. The token itself is never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TokenInfo {
    pub id: i64,
    pub tenant: String,
    /// The token's first characters, enough to recognise it.
    pub prefix: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
    /// When a request last presented it (to the minute); `None` if never.
    pub last_used_at: Option<Timestamp>,
}

/// A live token, as the authentication looks it up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LiveToken {
    pub id: i64,
    pub tenant: TenantId,
    /// The stored hash, compared again in constant time.
    pub hash: String,
}

/// What one sync request changed.
#[derive(Debug, Clone)]
pub(crate) struct Ingested {
    pub accepted: u64,
    pub duplicates: u64,
    /// The tenant's cursor after the batch.
    pub cursor: i64,
    /// Conflicts among the todos the batch named, after the batch.
    pub conflicts: Vec<Conflict>,
}

/// A page of a tenant's observations in arrival order.
#[derive(Debug, Clone)]
pub(crate) struct Page {
    pub observations: Vec<Observation>,
    /// The cursor of the last observation returned, or the one asked for.
    pub cursor: i64,
    pub more: bool,
}

/// A session as derived from its observations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SessionRecord {
    pub session: String,
    pub device: String,
    pub project: String,
    pub first_observed: Timestamp,
    pub last_observed: Timestamp,
    pub observations: i64,
}

/// "Something new may be stored": a hint for WebSocket sessions, which then read
/// the new rows themselves. `tenant: None` means any tenant (sent after the
/// PostgreSQL listener reconnected, when notifications may have been lost).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Change {
    pub tenant: Option<TenantId>,
}

impl Change {
    pub fn concerns(self, tenant: TenantId) -> bool {
        self.tenant.is_none_or(|t| t == tenant)
    }
}

/// Why a database operation failed.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Database(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use a file path, sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot create or open the database (or its folder) {path}: {cause}")]
    Folder { path: String, cause: std::io::Error },
    #[error("stored row is invalid: {0}")]
    Corrupt(String),
}

pub(crate) type Result<T> = std::result::Result<T, StoreError>;

/// The hub's storage. Implementations must scope every data query by tenant.
#[async_trait]
pub(crate) trait Store: Send + Sync + 'static {
    /// Creates the tenant if needed and stores a token hash for it.
    async fn create_token(
        &self,
        tenant: &str,
        hash: &str,
        prefix: &str,
        now: Timestamp,
    ) -> Result<TokenInfo>;
    async fn list_tokens(&self) -> Result<Vec<TokenInfo>>;
    /// Marks a token revoked (keeping the first revocation time); `None` if no such id.
    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<TokenInfo>>;
    /// The live (not revoked) token with this hash: its id, tenant and stored hash.
    async fn token_tenant(&self, hash: &str) -> Result<Option<LiveToken>>;
    /// Records that token `id` was presented at `now`.
    async fn touch_token(&self, id: i64, now: Timestamp) -> Result<()>;
    /// The ids of every revoked token.
    async fn revoked_tokens(&self) -> Result<Vec<i64>>;

    /// Stores a batch of validated observations, idempotently by id, and updates
    /// the fold tables, all in one transaction.
    async fn ingest(
        &self,
        tenant: TenantId,
        batch: Vec<Observation>,
        now: Timestamp,
    ) -> Result<Ingested>;
    /// Observations after `cursor`, oldest first, at most `limit`.
    async fn since(&self, tenant: TenantId, cursor: i64, limit: u32) -> Result<Page>;
    /// The tenant's current cursor.
    async fn cursor(&self, tenant: TenantId) -> Result<i64>;
    /// The fold state of every todo of the tenant.
    async fn todo_states(&self, tenant: TenantId) -> Result<BTreeMap<TodoId, TodoState>>;
    async fn sessions(&self, tenant: TenantId) -> Result<Vec<SessionRecord>>;

    /// Starts delivering changes made by other processes (PostgreSQL's
    /// LISTEN/NOTIFY); a no-op where there are none.
    async fn start_feed(&self) -> Result<()>;
    /// Hints of new observations, from this process and (PostgreSQL) others.
    fn changes(&self) -> broadcast::Receiver<Change>;
    /// Stops the feed and closes the connections.
    async fn close(&self);
}

/// Opens (creating and migrating as needed) the store a URL names: a
/// `postgres://` or `postgresql://` URL, or a SQLite file as `sqlite://PATH`,
/// `sqlite:PATH` or a plain path.
pub(crate) async fn open(url: &str) -> Result<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Arc::new(postgres::PgStore::open(url).await?));
    }
    let path = url
        .strip_prefix("sqlite://")
        .or_else(|| url.strip_prefix("sqlite:"))
        .unwrap_or(url);
    if path.is_empty() || path.contains("://") {
        return Err(StoreError::UnsupportedUrl(url.to_string()));
    }
    Ok(Arc::new(sqlite::SqliteStore::open(path).await?))
}

/// Capacity of the in-process change channel; a session that falls further
/// behind simply rereads from its cursor.
const CHANGE_CHANNEL_CAPACITY: usize = 1024;

fn change_channel() -> broadcast::Sender<Change> {
    broadcast::channel(CHANGE_CHANNEL_CAPACITY).0
}

/// What a backend adds to the one [`Store`] implementation below: its pool and
/// change channel, its spelling of the statements both backends run, and the
/// steps that take a different shape on each database (how a batch goes in,
/// how fold state comes back out, how a stored change is announced).
#[async_trait]
pub(crate) trait Backend: Send + Sync + 'static {
    type Db: sqlx::Database;

    /// The statements both backends run alike, in this backend's dialect.
    const SQL: Statements;

    fn pool(&self) -> &sqlx::Pool<Self::Db>;
    fn change_sender(&self) -> &broadcast::Sender<Change>;

    /// Begins a transaction that will write.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, Self::Db>>;
    /// Commits an ingest; `changed` is its tenant when it stored something,
    /// which WebSocket sessions are then told of.
    async fn commit_ingest(
        &self,
        tx: sqlx::Transaction<'static, Self::Db>,
        changed: Option<TenantId>,
    ) -> Result<()>;

    /// Those of `ids` the tenant has stored already.
    async fn stored_ids(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        ids: &[&str],
    ) -> Result<HashSet<String>>;
    async fn insert_observations(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        rows: &[ObservationRow],
        now: Timestamp,
    ) -> Result<()>;
    async fn upsert_latest(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        rows: &[ObservationRow],
    ) -> Result<()>;
    async fn upsert_todos(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        rows: &[TodoMetaRow],
    ) -> Result<()>;
    /// Merges the deltas into the stored sessions.
    async fn upsert_sessions(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        rows: &[SessionDelta],
    ) -> Result<()>;
    /// Reads fold states: every todo of the tenant, or only those in `todos`.
    async fn load_states(
        conn: &mut Conn<Self>,
        tenant: TenantId,
        todos: Option<&BTreeSet<TodoId>>,
    ) -> Result<BTreeMap<TodoId, TodoState>>;

    /// See [`Store::start_feed`]: by default there is nothing to start.
    async fn start_feed(&self) -> Result<()> {
        Ok(())
    }
    /// Stops what [`Backend::start_feed`] started.
    async fn stop_feed(&self) {}
}

/// A connection of a backend's database.
pub(crate) type Conn<B> = <<B as Backend>::Db as sqlx::Database>::Connection;
type DbRow<B> = <<B as Backend>::Db as sqlx::Database>::Row;

/// The statements both backends run the same way, differing only in their
/// spelling (placeholders, locking).
pub(crate) struct Statements {
    /// Creates tenant $1 created at $2 unless it exists.
    pub create_tenant: &'static str,
    /// Stores token hash $2 with prefix $3 created at $4 for tenant name $1;
    /// returns its id.
    pub create_token: &'static str,
    /// Revokes token $1 at $2, unless revoked already.
    pub revoke_token: &'static str,
    /// Appended to [`TOKEN_SELECT`]: the token with id $1.
    pub token_by_id: &'static str,
    /// Id, tenant id and hash of the live token with hash $1.
    pub live_token: &'static str,
    /// Sets token $1's `last_used_at` to $2.
    pub touch_token: &'static str,
    /// Ids of the revoked tokens.
    pub revoked_tokens: &'static str,
    /// Tenant $1's cursor.
    pub cursor: &'static str,
    /// Tenant $1's cursor, locked against other syncs of the tenant until the
    /// transaction ends.
    pub locked_cursor: &'static str,
    /// Sets tenant $1's cursor to $2.
    pub set_cursor: &'static str,
    /// [`ObservationRow`]s of tenant $1 after seq $2 in order, at most $3.
    pub since: &'static str,
    /// [`SessionColumns`] of tenant $1's sessions in order.
    pub sessions: &'static str,
}

/// Tokens with their tenant's name, as [`TokenRow`]s.
const TOKEN_SELECT: &str =
    "SELECT t.id, n.name AS tenant, t.prefix, t.created_at, t.revoked_at, t.last_used_at \
     FROM tokens t JOIN tenants n ON n.id = t.tenant_id";

/// A row of [`TOKEN_SELECT`].
#[derive(sqlx::FromRow)]
pub(crate) struct TokenRow {
    id: i64,
    tenant: String,
    prefix: String,
    created_at: i64,
    revoked_at: Option<i64>,
    last_used_at: Option<i64>,
}

impl From<TokenRow> for TokenInfo {
    fn from(row: TokenRow) -> Self {
        TokenInfo {
            id: row.id,
            tenant: row.tenant,
            prefix: row.prefix,
            created_at: Timestamp(row.created_at),
            revoked_at: row.revoked_at.map(Timestamp),
            last_used_at: row.last_used_at.map(Timestamp),
        }
    }
}

/// The one implementation of [`Store`], over either backend. The bounds are
/// what its statements need of a database driver; both drivers meet them.
#[async_trait]
impl<B> Store for B
where
    B: Backend,
    for<'c> &'c mut Conn<B>: sqlx::Executor<'c, Database = B::Db>,
    <B::Db as sqlx::Database>::Arguments: sqlx::IntoArguments<B::Db>,
    for<'q> i64: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'q> &'q str: sqlx::Encode<'q, B::Db> + sqlx::Type<B::Db>,
    for<'r> (i64,): sqlx::FromRow<'r, DbRow<B>>,
    for<'r> (i64, String): sqlx::FromRow<'r, DbRow<B>>,
    for<'r> (i64, i64, String): sqlx::FromRow<'r, DbRow<B>>,
    for<'r> SessionColumns: sqlx::FromRow<'r, DbRow<B>>,
    for<'r> TokenRow: sqlx::FromRow<'r, DbRow<B>>,
    for<'r> ObservationRow: sqlx::FromRow<'r, DbRow<B>>,
{
    async fn create_token(
        &self,
        tenant: &str,
        hash: &str,
        prefix: &str,
        now: Timestamp,
    ) -> Result<TokenInfo> {
        let mut tx = self.begin_write().await?;
        sqlx::query(B::SQL.create_tenant)
            .bind(tenant)
            .bind(now.millis())
            .execute(&mut *tx)
            .await?;
        let id: i64 = sqlx::query_scalar(B::SQL.create_token)
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
            last_used_at: None,
        })
    }

    async fn list_tokens(&self) -> Result<Vec<TokenInfo>> {
        let sql = sqlx::AssertSqlSafe(format!("{TOKEN_SELECT} ORDER BY t.id"));
        let rows: Vec<TokenRow> = sqlx::query_as(sql).fetch_all(self.pool()).await?;
        Ok(rows.into_iter().map(TokenInfo::from).collect())
    }

    async fn revoke_token(&self, id: i64, now: Timestamp) -> Result<Option<TokenInfo>> {
        sqlx::query(B::SQL.revoke_token)
            .bind(id)
            .bind(now.millis())
            .execute(self.pool())
            .await?;
        let sql = sqlx::AssertSqlSafe(format!("{TOKEN_SELECT} {}", B::SQL.token_by_id));
        let row: Option<TokenRow> = sqlx::query_as(sql)
            .bind(id)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(TokenInfo::from))
    }

    async fn token_tenant(&self, hash: &str) -> Result<Option<LiveToken>> {
        let row: Option<(i64, i64, String)> = sqlx::query_as(B::SQL.live_token)
            .bind(hash)
            .fetch_optional(self.pool())
            .await?;
        Ok(row.map(|(id, tenant, hash)| LiveToken {
            id,
            tenant: TenantId(tenant),
            hash,
        }))
    }

    async fn touch_token(&self, id: i64, now: Timestamp) -> Result<()> {
        sqlx::query(B::SQL.touch_token)
            .bind(id)
            .bind(now.millis())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    async fn revoked_tokens(&self) -> Result<Vec<i64>> {
        let rows: Vec<(i64,)> = sqlx::query_as(B::SQL.revoked_tokens)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(|(id,)| id).collect())
    }

    async fn ingest(
        &self,
        tenant: TenantId,
        batch: Vec<Observation>,
        now: Timestamp,
    ) -> Result<Ingested> {
        let mut tx = self.begin_write().await?;
        let base_seq: i64 = sqlx::query_scalar(B::SQL.locked_cursor)
            .bind(tenant.0)
            .fetch_one(&mut *tx)
            .await?;
        let ids: Vec<&str> = batch.iter().map(|o| o.id.as_str()).collect();
        let stored = B::stored_ids(&mut tx, tenant, &ids).await?;
        let prepared = prepare(batch, &stored, base_seq);
        let conflicts = write_batch::<B>(&mut tx, tenant, &prepared, now).await?;
        let cursor = prepared.last_seq();
        let changed = cursor != base_seq;
        if changed {
            sqlx::query(B::SQL.set_cursor)
                .bind(tenant.0)
                .bind(cursor)
                .execute(&mut *tx)
                .await?;
        }
        self.commit_ingest(tx, changed.then_some(tenant)).await?;
        Ok(Ingested {
            accepted: prepared.fresh.len() as u64,
            duplicates: prepared.duplicates,
            cursor,
            conflicts,
        })
    }

    async fn since(&self, tenant: TenantId, cursor: i64, limit: u32) -> Result<Page> {
        let rows: Vec<ObservationRow> = sqlx::query_as(B::SQL.since)
            .bind(tenant.0)
            .bind(cursor)
            .bind(i64::from(limit) + 1)
            .fetch_all(self.pool())
            .await?;
        page(rows, cursor, limit)
    }

    async fn cursor(&self, tenant: TenantId) -> Result<i64> {
        Ok(sqlx::query_scalar(B::SQL.cursor)
            .bind(tenant.0)
            .fetch_one(self.pool())
            .await?)
    }

    async fn todo_states(&self, tenant: TenantId) -> Result<BTreeMap<TodoId, TodoState>> {
        let mut conn = self.pool().acquire().await?;
        B::load_states(&mut conn, tenant, None).await
    }

    async fn sessions(&self, tenant: TenantId) -> Result<Vec<SessionRecord>> {
        let rows: Vec<SessionColumns> = sqlx::query_as(B::SQL.sessions)
            .bind(tenant.0)
            .fetch_all(self.pool())
            .await?;
        Ok(rows.into_iter().map(session_record).collect())
    }

    async fn start_feed(&self) -> Result<()> {
        Backend::start_feed(self).await
    }

    fn changes(&self) -> broadcast::Receiver<Change> {
        self.change_sender().subscribe()
    }

    async fn close(&self) {
        self.stop_feed().await;
        self.pool().close().await;
    }
}

/// Stores the new observations of `prepared` and what they change in the fold
/// tables; returns the conflicts among the todos the batch named.
async fn write_batch<B: Backend>(
    conn: &mut Conn<B>,
    tenant: TenantId,
    prepared: &Prepared,
    now: Timestamp,
) -> Result<Vec<Conflict>> {
    if !prepared.fresh.is_empty() {
        let rows: Vec<ObservationRow> = prepared.rows().collect();
        B::insert_observations(conn, tenant, &rows, now).await?;
    }
    let states = B::load_states(conn, tenant, Some(&prepared.touched)).await?;
    let update = fold_update(states, prepared);
    if !update.latest.is_empty() {
        B::upsert_latest(conn, tenant, &update.latest).await?;
    }
    if !update.meta.is_empty() {
        B::upsert_todos(conn, tenant, &update.meta).await?;
    }
    if !update.sessions.is_empty() {
        B::upsert_sessions(conn, tenant, &update.sessions).await?;
    }
    Ok(update.conflicts)
}

/// An observation as a database row: the wire fields, plus its place in the
/// tenant's sequence. Shared by both backends (`sqlx::FromRow` works for either).
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub(crate) struct ObservationRow {
    pub seq: i64,
    pub id: String,
    pub todo_id: String,
    pub project: String,
    pub content: String,
    pub active_form: Option<String>,
    pub status: String,
    pub observer: String,
    pub session: Option<String>,
    pub device: String,
    pub source: String,
    pub observed_at: i64,
}

impl ObservationRow {
    fn new(seq: i64, obs: &Observation) -> Self {
        ObservationRow {
            seq,
            id: obs.id.clone(),
            todo_id: obs.todo_id.clone(),
            project: obs.project.clone(),
            content: obs.content.clone(),
            active_form: obs.active_form.clone(),
            status: obs.status.as_str().to_string(),
            observer: obs.observer.clone(),
            session: obs.session.clone(),
            device: obs.device.clone(),
            source: obs.source.as_str().to_string(),
            observed_at: obs.observed_at.millis(),
        }
    }

    fn into_observation(self) -> Result<Observation> {
        let status = Status::parse(&self.status)
            .ok_or_else(|| StoreError::Corrupt(format!("status `{}`", self.status)))?;
        let source: Source = self.source.parse().map_err(StoreError::Corrupt)?;
        Ok(Observation {
            id: self.id,
            todo_id: self.todo_id,
            project: self.project,
            content: self.content,
            active_form: self.active_form,
            status,
            observer: self.observer,
            session: self.session,
            device: self.device,
            source,
            observed_at: Timestamp(self.observed_at),
        })
    }
}

/// Turns `limit + 1` rows read after `cursor` into a page of at most `limit`.
fn page(mut rows: Vec<ObservationRow>, cursor: i64, limit: u32) -> Result<Page> {
    let more = rows.len() > limit as usize;
    rows.truncate(limit as usize);
    let cursor = rows.last().map_or(cursor, |r| r.seq);
    let observations = rows
        .into_iter()
        .map(ObservationRow::into_observation)
        .collect::<Result<_>>()?;
    Ok(Page {
        observations,
        cursor,
        more,
    })
}

/// A `sessions` row, as both backends select it.
pub(crate) type SessionColumns = (String, String, String, i64, i64, i64);

fn session_record(
    (session, device, project, first, last, observations): SessionColumns,
) -> SessionRecord {
    SessionRecord {
        session,
        device,
        project,
        first_observed: Timestamp(first),
        last_observed: Timestamp(last),
        observations,
    }
}

/// The rest of a todo's fold state: its first-seen, started and
/// first-completed times and every session that saw it.
#[derive(Debug, Clone, sqlx::FromRow, Serialize, Deserialize)]
pub(crate) struct TodoMetaRow {
    pub todo_id: String,
    pub first_seen: i64,
    pub started_at: Option<i64>,
    pub first_completed: Option<i64>,
    pub sessions: Vec<String>,
}

/// What a batch adds to one session (merged with the stored row by the upsert).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct SessionDelta {
    pub session: String,
    pub device: String,
    pub project: String,
    pub first_observed: i64,
    pub last_observed: i64,
    pub observations: i64,
}

/// A batch after duplicates were set aside: the new observations, to be numbered
/// from the tenant's last cursor on, and every todo the request named.
struct Prepared {
    pub fresh: Vec<Observation>,
    pub duplicates: u64,
    pub touched: BTreeSet<TodoId>,
    /// The tenant's cursor before the batch.
    pub base_seq: i64,
}

impl Prepared {
    /// The new observations with their sequence numbers, from `base_seq + 1`.
    fn numbered(&self) -> impl Iterator<Item = (i64, &Observation)> + '_ {
        (self.base_seq + 1..).zip(&self.fresh)
    }

    /// The new observations as rows, numbered after `base_seq`.
    pub fn rows(&self) -> impl Iterator<Item = ObservationRow> + '_ {
        self.numbered()
            .map(|(seq, obs)| ObservationRow::new(seq, obs))
    }

    /// The tenant's cursor after the batch.
    pub fn last_seq(&self) -> i64 {
        self.base_seq + self.fresh.len() as i64
    }
}

/// Sets aside observations already stored (`stored` holds those of the batch's
/// ids the database knows) or repeated within the batch.
fn prepare(batch: Vec<Observation>, stored: &HashSet<String>, base_seq: i64) -> Prepared {
    let mut seen: HashSet<String> = HashSet::with_capacity(batch.len());
    let mut fresh = Vec::with_capacity(batch.len());
    let mut duplicates = 0;
    let mut touched = BTreeSet::new();
    for obs in batch {
        touched.insert(obs.todo_id.clone());
        if stored.contains(&obs.id) || !seen.insert(obs.id.clone()) {
            duplicates += 1;
            continue;
        }
        fresh.push(obs);
    }
    Prepared {
        fresh,
        duplicates,
        touched,
        base_seq,
    }
}

/// Builds fold states from stored `latest` observations and todo times.
pub(crate) fn assemble_states(
    latest: Vec<ObservationRow>,
    meta: Vec<TodoMetaRow>,
) -> Result<BTreeMap<TodoId, TodoState>> {
    let mut states: BTreeMap<TodoId, TodoState> = BTreeMap::new();
    for row in meta {
        let state = states.entry(row.todo_id).or_default();
        state.first_seen = Some(Timestamp(row.first_seen));
        state.started_at = row.started_at.map(Timestamp);
        state.first_completed = row.first_completed.map(Timestamp);
        state.sessions = row.sessions.into_iter().collect();
    }
    for row in latest {
        let obs = row.into_observation()?;
        states
            .entry(obs.todo_id.clone())
            .or_default()
            .latest
            .insert(obs.observer.clone(), obs);
    }
    Ok(states)
}

/// The rows a batch changes in the fold tables, and the conflicts it leaves.
struct FoldUpdate {
    /// Observations that became their observer's latest word on their todo.
    pub latest: Vec<ObservationRow>,
    pub meta: Vec<TodoMetaRow>,
    pub sessions: Vec<SessionDelta>,
    pub conflicts: Vec<Conflict>,
}

/// Applies the new observations of `prepared` to the stored states of the
/// todos they touch (with the core's [`TodoState::apply`], as the daemon does)
/// and works out which rows changed.
fn fold_update(mut states: BTreeMap<TodoId, TodoState>, prepared: &Prepared) -> FoldUpdate {
    let fresh = &prepared.fresh;
    let seqs: HashMap<&str, i64> = prepared
        .numbered()
        .map(|(seq, obs)| (obs.id.as_str(), seq))
        .collect();
    let mut changed_todos = BTreeSet::new();
    let mut sessions: BTreeMap<String, SessionDelta> = BTreeMap::new();
    for obs in fresh {
        if let Some(session) = &obs.session {
            merge_session(&mut sessions, session, obs);
        }
        changed_todos.insert(obs.todo_id.clone());
        states.entry(obs.todo_id.clone()).or_default().apply(obs);
    }
    let mut latest = Vec::new();
    let mut meta = Vec::new();
    for todo in &changed_todos {
        let state = &states[todo];
        // The fresh observations are not stored yet (`prepare` set aside every
        // id the database knows), so an observer's latest word changed exactly
        // when it is now one of them: no need to remember the words before.
        latest.extend(state.latest.values().filter_map(|obs| {
            let seq = *seqs.get(obs.id.as_str())?;
            Some(ObservationRow::new(seq, obs))
        }));
        if let Some(first_seen) = state.first_seen {
            meta.push(TodoMetaRow {
                todo_id: todo.clone(),
                first_seen: first_seen.millis(),
                started_at: state.started_at.map(Timestamp::millis),
                first_completed: state.first_completed.map(Timestamp::millis),
                sessions: state.sessions.iter().cloned().collect(),
            });
        }
    }
    let conflicts = prepared
        .touched
        .iter()
        .filter_map(|todo| states.get(todo)?.resolve()?.conflict)
        .collect();
    FoldUpdate {
        latest,
        meta,
        sessions: sessions.into_values().collect(),
        conflicts,
    }
}

/// Adds one observation to its session's delta; the newest observation (ties:
/// larger id, so the result does not depend on batch order) names the device
/// and project.
fn merge_session(sessions: &mut BTreeMap<String, SessionDelta>, session: &str, obs: &Observation) {
    let t = obs.observed_at.millis();
    match sessions.get_mut(session) {
        Some(delta) => {
            delta.first_observed = delta.first_observed.min(t);
            if t >= delta.last_observed {
                delta.last_observed = t;
                delta.device = obs.device.clone();
                delta.project = obs.project.clone();
            }
            delta.observations += 1;
        }
        None => {
            sessions.insert(
                session.to_string(),
                SessionDelta {
                    session: session.to_string(),
                    device: obs.device.clone(),
                    project: obs.project.clone(),
                    first_observed: t,
                    last_observed: t,
                    observations: 1,
                },
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obs(observer: &str, status: Status, t: i64) -> Observation {
        Observation::new(
            "api",
            "Ship it".into(),
            None,
            status,
            observer.into(),
            Some(observer.into()),
            "laptop",
            Source::File,
            Timestamp(t),
        )
    }

    #[test]
    fn prepare_sets_aside_stored_and_repeated_ids() {
        let a = obs("s1", Status::Pending, 1);
        let b = obs("s2", Status::Pending, 2);
        let stored: HashSet<String> = [a.id.clone()].into();
        let p = prepare(vec![a.clone(), b.clone(), b.clone()], &stored, 7);
        assert_eq!(p.duplicates, 2);
        assert_eq!(p.fresh, vec![b]);
        assert_eq!(p.rows().next().unwrap().seq, 8);
        assert_eq!(p.last_seq(), 8);
        assert_eq!(p.touched.len(), 1);
    }

    /// What the fold tables keep is the whole fold state: reloading it gives
    /// exactly the core's accumulator (a field added to `TodoState` and not
    /// stored here fails this test).
    #[test]
    fn stored_rows_reload_as_the_core_state() {
        let all = [
            obs("s1", Status::InProgress, 5),
            obs("s1", Status::Completed, 10),
            obs("s2", Status::Pending, 20),
            obs("s3", Status::Deleted, 1),
        ];
        let prepared = prepare(all.to_vec(), &HashSet::new(), 0);
        let update = fold_update(BTreeMap::new(), &prepared);
        let reloaded = assemble_states(update.latest, update.meta).unwrap();
        assert_eq!(reloaded, chittysync_core::fold(&all));
    }

    #[test]
    fn fold_update_keeps_only_newer_words_and_reports_conflicts() {
        let old = obs("s1", Status::Completed, 10);
        let mut state = TodoState::default();
        state.apply(&old);
        let states: BTreeMap<_, _> = [(old.todo_id.clone(), state)].into();
        let stale = obs("s1", Status::Pending, 5);
        let other = obs("s2", Status::Pending, 20);
        let prepared = prepare(vec![stale, other], &HashSet::new(), 1);
        let update = fold_update(states, &prepared);
        // s1's stale copy does not replace its newer word; s2 is new.
        assert_eq!(update.latest.len(), 1);
        assert_eq!(
            (update.latest[0].observer.as_str(), update.latest[0].seq),
            ("s2", 3)
        );
        assert_eq!(update.meta[0].first_seen, 5);
        assert_eq!(update.conflicts.len(), 1);
        assert_eq!(update.conflicts[0].resolution, Status::Completed);
        assert_eq!(update.sessions.len(), 2);
    }
}
