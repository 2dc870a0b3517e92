//! Where the hub keeps tenants, tokens and observations.
//!
//! One trait, [`Store`], with a backend per database (the atuin / taskchampion
//! pattern): [`sqlite`] for a single hub process, the default, and [`postgres`]
//! for several hub processes sharing one database. Each backend has its own
//! versioned migrations folder (`migrations/<backend>/`).
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
    #[error("database: {0}")]
    Database(#[from] sqlx::Error),
    #[error("database migration: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error("unsupported database URL `{0}`: use a file path, sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    #[error("cannot create the database folder {path}: {source}")]
    Folder {
        path: String,
        source: std::io::Error,
    },
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
    /// The tenant of a live (not revoked) token with this hash, with the stored hash.
    async fn token_tenant(&self, hash: &str) -> Result<Option<(TenantId, String)>>;

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
pub(crate) fn page(mut rows: Vec<ObservationRow>, cursor: i64, limit: u32) -> Result<Page> {
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

pub(crate) fn session_record(
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
pub(crate) struct Prepared {
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
pub(crate) fn prepare(
    batch: Vec<Observation>,
    stored: &HashSet<String>,
    base_seq: i64,
) -> Prepared {
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
pub(crate) struct FoldUpdate {
    /// Observations that became their observer's latest word on their todo.
    pub latest: Vec<ObservationRow>,
    pub meta: Vec<TodoMetaRow>,
    pub sessions: Vec<SessionDelta>,
    pub conflicts: Vec<Conflict>,
}

/// Applies the new observations of `prepared` to the stored states of the
/// todos they touch (with the core's [`TodoState::apply`], as the daemon does)
/// and works out which rows changed.
pub(crate) fn fold_update(
    mut states: BTreeMap<TodoId, TodoState>,
    prepared: &Prepared,
) -> FoldUpdate {
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
