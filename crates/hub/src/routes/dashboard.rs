//! The dashboard on the hub (docs/UI.md, "On the hub"): the same
//! pages as `chittysync ui` (the `chittysync_ui` crate renders them), over a
//! tenant's picture read from the hub's store, so every device's sessions
//! and todos are seen in one place.
//!
//! - Sign-in: `/signin` takes the tenant's token (a form, never a URL) and
//!   keeps it in a cookie that no script can read (`HttpOnly`), that is sent
//!   only by this site's own pages (`SameSite=Strict`) and only over TLS
//!   (`Secure`) unless the sign-in form itself was an `http://` page (a
//!   loopback hub; behind a TLS proxy the browser's origin is `https://`). Every dashboard request shows it
//!   again; it is checked as a bearer token is ([`crate::auth`]), so a
//!   revoked token signs its pages out at once.
//! - A request sees its own tenant's data only: the pages read a
//!   [`TenantSource`], which asks the store with that tenant's id alone.
//! - Live: each tenant's source follows the store's change feed (the pushes
//!   of every device, from this process and, on PostgreSQL, from others) and
//!   the pages' `/events` streams hear of each change.
//! - At each change only the observations stored since the last picture are
//!   read and folded into the todos they touch (docs/UI.md, "On the hub").

use crate::auth::hash_token;
use crate::server::AppState;
use crate::store::{Change, SessionRecord as HubSession, Store, TenantId};
use crate::views::ACTIVE_WINDOW_MS;
use axum::extract::{Form, Query, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::Router;
use chittysync_core::agent::agent_of;
use chittysync_core::topic::TopicRules;
use chittysync_core::{TodoId, TodoState};
use chittysync_engine::views::{sub_agent_of, HistoryStep, TodoHistory};
use chittysync_ui::{DataSource, Picture, ReadError, Shared, Todos};
use serde::Deserialize;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex};
use subtle::ConstantTimeEq;
use tokio::sync::{broadcast, watch};
use tokio_util::sync::CancellationToken;

/// The cookie holding a signed-in tenant's token.
const COOKIE: &str = "chittysync_hub";

/// Which token the hub's sign-in asks for (safe HTML).
const HINT: &str = "The token is your tenant's hub token (<code>chittysync hub token create --tenant NAME</code>), the one your devices' <code>[hub] token</code> holds.";

/// The dashboard's routes, each behind the tenant's sign-in.
pub(crate) fn router(state: AppState) -> Router<AppState> {
    let sources = Arc::new(Sources::default());
    let guarded = chittysync_ui::pages()
        .layer(axum::middleware::from_fn_with_state(
            (state.clone(), sources),
            guard,
        ))
        .with_state(());
    Router::new()
        .route("/signin", get(sign_in_form).post(sign_in))
        .merge(guarded)
        .layer(axum::middleware::map_response(
            chittysync_ui::security_headers,
        ))
}

/// Every tenant's source, made when its dashboard is first looked at.
#[derive(Default)]
struct Sources {
    by_tenant: Mutex<HashMap<TenantId, Arc<TenantSource>>>,
}

impl Sources {
    fn of(&self, tenant: TenantId, state: &AppState) -> Arc<TenantSource> {
        let mut map = self.by_tenant.lock().unwrap_or_else(|p| p.into_inner());
        map.entry(tenant)
            .or_insert_with(|| {
                TenantSource::start(state.store.clone(), tenant, state.shutdown.clone())
            })
            .clone()
    }
}

/// The tenant a request's cookie signs in, if its token is live.
async fn tenant_of(state: &AppState, headers: &HeaderMap) -> Result<Option<TenantId>, Response> {
    let Some(token) = cookie_token(headers) else {
        return Ok(None);
    };
    let hash = hash_token(&token);
    match state.store.token_tenant(&hash).await {
        Ok(Some(live)) if bool::from(live.hash.as_bytes().ct_eq(hash.as_bytes())) => {
            Ok(Some(live.tenant))
        }
        Ok(_) => Ok(None),
        Err(error) => {
            tracing::warn!(%error, "cannot look up a dashboard token");
            Err((
                StatusCode::SERVICE_UNAVAILABLE,
                "the hub's database cannot be read\n",
            )
                .into_response())
        }
    }
}

fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, v)| *k == COOKIE && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// Lets a signed-in request through with its tenant's source; sends others
/// to the sign-in page (the event stream and the assets: see below).
async fn guard(
    State((state, sources)): State<(AppState, Arc<Sources>)>,
    mut req: Request,
    next: Next,
) -> Response {
    let path = req.uri().path().to_string();
    // The stylesheet and the script are the same for everyone.
    if path.starts_with("/assets/") {
        return next.run(req).await;
    }
    let tenant = match tenant_of(&state, req.headers()).await {
        Ok(t) => t,
        Err(refused) => return refused,
    };
    let Some(tenant) = tenant else {
        if path == "/events" {
            return (StatusCode::UNAUTHORIZED, "sign in first: /signin\n").into_response();
        }
        return chittysync_ui::to_sign_in(req.uri());
    };
    let source: Shared = sources.of(tenant, &state);
    req.extensions_mut().insert(source);
    next.run(req).await
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInQuery {
    next: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct SignInForm {
    token: String,
    next: String,
}

async fn sign_in_form(Query(q): Query<SignInQuery>) -> Response {
    Html(chittysync_ui::sign_in_page(&q.next, false, HINT)).into_response()
}

async fn sign_in(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<SignInForm>,
) -> Response {
    let token = form.token.trim();
    let hash = hash_token(token);
    let live = match state.store.token_tenant(&hash).await {
        Ok(live) => live.filter(|l| bool::from(l.hash.as_bytes().ct_eq(hash.as_bytes()))),
        Err(error) => {
            tracing::warn!(%error, "cannot look up a dashboard token");
            None
        }
    };
    // A token that would end or split the cookie is no hub token either.
    let cookie_safe = token
        .chars()
        .all(|c| c.is_ascii_graphic() && !matches!(c, ';' | ',' | '"' | '\\'));
    if live.is_none() || !cookie_safe {
        return (
            StatusCode::UNAUTHORIZED,
            Html(chittysync_ui::sign_in_page(&form.next, true, HINT)),
        )
            .into_response();
    }
    // The browser names the page the form was on: plain HTTP only there.
    let plain = headers
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .is_some_and(|o| o.starts_with("http://"));
    let secure = if plain { "" } else { "; Secure" };
    let mut res = Redirect::to(chittysync_ui::safe_next(&form.next)).into_response();
    if let Ok(v) = HeaderValue::from_str(&format!(
        "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict{secure}"
    )) {
        res.headers_mut().insert(header::SET_COOKIE, v);
    }
    res
}

/// One tenant's picture, read from the hub's store when it changed.
pub(crate) struct TenantSource {
    store: Arc<dyn Store>,
    tenant: TenantId,
    runtime: tokio::runtime::Handle,
    changes: watch::Receiver<u64>,
    cached: Mutex<Option<Folding>>,
    topic_rules: TopicRules,
}

/// The last picture of a tenant and what it was folded from: every todo's
/// fold state, with the observations stored up to `cursor` in them.
struct Folding {
    cursor: i64,
    states: BTreeMap<TodoId, TodoState>,
    picture: Arc<Picture>,
}

/// Observations read per page when catching up.
const CATCH_UP_PAGE: u32 = 1000;

impl TenantSource {
    /// A source for `tenant`, following the store's change feed until the
    /// hub shuts down (then its pages' event streams end, and the hub's
    /// connections drain).
    fn start(store: Arc<dyn Store>, tenant: TenantId, shutdown: CancellationToken) -> Arc<Self> {
        let (tx, rx) = watch::channel(0u64);
        let mut feed = store.changes();
        tokio::spawn(async move {
            loop {
                let change = tokio::select! {
                    () = shutdown.cancelled() => return,
                    change = feed.recv() => change,
                };
                match change {
                    Ok(Change { tenant: t }) if t.is_some_and(|t| t != tenant) => {}
                    // Ours, anyone's (a reconnected feed), or missed ones.
                    Ok(_) | Err(broadcast::error::RecvError::Lagged(_)) => {
                        tx.send_modify(|n| *n += 1)
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                }
            }
        });
        Arc::new(TenantSource {
            store,
            tenant,
            runtime: tokio::runtime::Handle::current(),
            changes: rx,
            cached: Mutex::new(None),
            topic_rules: TopicRules::default(),
        })
    }

    fn block_on<T>(
        &self,
        f: impl std::future::Future<Output = crate::store::Result<T>>,
    ) -> Result<T, ReadError> {
        self.runtime
            .block_on(f)
            .map_err(|e| ReadError::Other(Box::new(e)))
    }
}

/// A hub session as the dashboard's sessions are.
fn session_record(s: HubSession) -> chittysync_engine::SessionRecord {
    chittysync_engine::SessionRecord {
        id: s.session,
        device: s.device,
        cwd: None,
        project: Some(s.project),
        git_branch: None,
        task_list: None,
        version: None,
        model: None,
        agents: Vec::new(),
        first_seen: Some(s.first_observed),
        last_seen: Some(s.last_observed),
        started_at: None,
        start_source: None,
        ended_at: None,
        end_reason: None,
    }
}

impl TenantSource {
    /// Every todo's state and the sessions, read whole.
    fn read(&self, generation: u64) -> Result<Folding, ReadError> {
        // The cursor first: what is stored after it is read again next time
        // (folding an observation twice changes nothing), never missed.
        let cursor = self.block_on(self.store.cursor(self.tenant))?;
        let (states, sessions) = self.block_on(async {
            tokio::try_join!(
                self.store.todo_states(self.tenant),
                self.store.sessions(self.tenant)
            )
        })?;
        let todos = resolved(&states, states.keys())?;
        Ok(Folding {
            cursor,
            picture: picture(generation, Todos::new(todos), sessions),
            states,
        })
    }

    /// `last` brought up to date with the observations stored since it was
    /// read: only the todos they touch are resolved again.
    fn catch_up(&self, last: Folding, generation: u64) -> Result<Folding, ReadError> {
        let Folding {
            mut cursor,
            mut states,
            picture: last,
        } = last;
        let mut touched = BTreeSet::new();
        loop {
            let page = self.block_on(self.store.since(self.tenant, cursor, CATCH_UP_PAGE))?;
            for obs in &page.observations {
                states.entry(obs.todo_id.clone()).or_default().apply(obs);
                touched.insert(obs.todo_id.clone());
            }
            cursor = page.cursor;
            if !page.more {
                break;
            }
        }
        let changed = resolved(&states, touched.iter())?;
        let sessions = self.block_on(self.store.sessions(self.tenant))?;
        let mut todos = last.into_todos();
        todos.apply(changed);
        Ok(Folding {
            cursor,
            states,
            picture: picture(generation, todos, sessions),
        })
    }
}

/// The todos `ids` name, resolved by the core's rule.
fn resolved<'a>(
    states: &BTreeMap<TodoId, TodoState>,
    ids: impl Iterator<Item = &'a TodoId>,
) -> Result<Vec<chittysync_engine::FoldedTodo>, ReadError> {
    let mut out = Vec::new();
    for resolved in ids.filter_map(|id| states.get(id)?.resolve()) {
        // Sealed todos have no text the pages could show (docs/ENCRYPTION.md),
        // as the API's views answer 409 for them.
        if chittysync_crypt::is_sealed_text(&resolved.entry.project) {
            return Err(ReadError::Encrypted);
        }
        out.push(chittysync_ui::folded(resolved.entry, resolved.conflict));
    }
    Ok(out)
}

fn picture(generation: u64, todos: Todos, sessions: Vec<HubSession>) -> Arc<Picture> {
    let sessions = sessions.into_iter().map(session_record).collect();
    Arc::new(Picture::from_todos(generation, Arc::new(todos), sessions))
}

impl DataSource for TenantSource {
    fn picture(&self) -> Result<Arc<Picture>, ReadError> {
        // One read at a time: pages asking together wait for the same one.
        let mut cached = self.cached.lock().unwrap_or_else(|p| p.into_inner());
        let generation = *self.changes.borrow();
        if let Some(c) = cached
            .as_ref()
            .filter(|c| c.picture.generation == generation)
        {
            return Ok(c.picture.clone());
        }
        let next = match cached.take() {
            Some(last) => self.catch_up(last, generation)?,
            None => self.read(generation)?,
        };
        let picture = next.picture.clone();
        *cached = Some(next);
        Ok(picture)
    }

    /// The hub keeps each observer's latest word on a todo in its fold: the
    /// history shows those, oldest first (docs/UI.md, "On the hub").
    fn history(&self, id: &str) -> Result<Option<TodoHistory>, ReadError> {
        let states = self.block_on(self.store.todo_states(self.tenant))?;
        let Some(state) = states.get(id) else {
            return Ok(None);
        };
        Ok(history_of(state))
    }

    fn changes(&self) -> watch::Receiver<u64> {
        self.changes.clone()
    }

    fn stale_after_ms(&self) -> i64 {
        ACTIVE_WINDOW_MS
    }

    fn topic_rules(&self) -> &TopicRules {
        &self.topic_rules
    }
}

/// A todo's history from its fold state: each observer's latest word.
fn history_of(state: &TodoState) -> Option<TodoHistory> {
    let todo = state.resolve()?.entry;
    let mut words: Vec<_> = state.latest.values().cloned().collect();
    words.sort_by_key(|o| (o.observed_at, o.observer.clone()));
    let observations = words
        .into_iter()
        .map(|o| HistoryStep {
            agent: agent_of(&o.observer),
            sub_agent: sub_agent_of(&o.observer),
            via: "hub".to_string(),
            change: true,
            observation: o,
        })
        .collect();
    Some(TodoHistory { todo, observations })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_core::Status;

    #[test]
    fn the_cookie_is_found_among_others() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; chittysync_hub=cst_abc; b=2"),
        );
        assert_eq!(cookie_token(&headers).as_deref(), Some("cst_abc"));
        headers.insert(header::COOKIE, HeaderValue::from_static("chittysync_hub="));
        assert_eq!(cookie_token(&headers), None);
    }

    #[test]
    fn a_history_lists_each_observers_latest_word_oldest_first() {
        use chittysync_core::{Observation, Source, Timestamp};
        let obs = |observer: &str, status, t| {
            Observation::new(
                "api",
                "Ship it".into(),
                None,
                status,
                observer.to_string(),
                Some(observer.to_string()),
                "laptop",
                Source::Hook,
                Timestamp(t),
            )
        };
        let mut state = TodoState::default();
        state.apply(&obs("s2", Status::InProgress, 20));
        state.apply(&obs("s1", Status::Pending, 10));
        let h = history_of(&state).unwrap();
        assert_eq!(h.todo.status, Status::InProgress);
        let who: Vec<&str> = h
            .observations
            .iter()
            .map(|s| s.observation.observer.as_str())
            .collect();
        assert_eq!(who, ["s1", "s2"]);
        assert!(h.observations.iter().all(|s| s.via == "hub"));
    }

    /// A picture caught up with the observations stored since it was read
    /// equals one read whole, after each of a run of pushes: sessions
    /// revisiting todos with other statuses (conflicts), a deletion, a push
    /// of nothing new, and more than one page of observations at once.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_caught_up_picture_equals_a_whole_read() {
        use chittysync_core::Timestamp;
        use chittysync_testkit::bulk_observations;
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite:{}", dir.path().join("hub.db").display());
        let store = crate::store::open(&url).await.unwrap();
        store
            .create_token("acme", "hash", "cst_", Timestamp(1))
            .await
            .unwrap();
        let tenant = store.token_tenant("hash").await.unwrap().unwrap().tenant;
        let source = TenantSource::start(store.clone(), tenant, CancellationToken::new());
        // Phone's todo 1, deleted a minute after it is pushed.
        let mut deleted = bulk_observations("phone", "web", 1..2).remove(0);
        deleted.status = Status::Deleted;
        deleted.observed_at = Timestamp(deleted.observed_at.millis() + 60_000);
        deleted.id = deleted.computed_id();
        let pushes = vec![
            bulk_observations("laptop", "api", 0..5),
            bulk_observations("phone", "web", 0..3),
            vec![deleted],
            vec![],
            bulk_observations("laptop", "api", 5..2_505),
            bulk_observations("phone", "web", 3..4),
        ];
        let mut last = {
            let source = source.clone();
            tokio::task::spawn_blocking(move || source.read(0).map_err(|e| e.to_string()))
                .await
                .unwrap()
                .unwrap()
        };
        for (generation, push) in (1..).zip(pushes) {
            store.ingest(tenant, push, Timestamp(1)).await.unwrap();
            let source = source.clone();
            last = tokio::task::spawn_blocking(move || {
                let caught = source.catch_up(last, generation).unwrap();
                let whole = source.read(generation).unwrap();
                assert_eq!(caught.cursor, whole.cursor);
                assert_eq!(caught.states, whole.states);
                assert_eq!(*caught.picture.todos, *whole.picture.todos);
                assert_eq!(caught.picture.sessions, whole.picture.sessions);
                caught
            })
            .await
            .unwrap();
        }
        let todos = &last.picture.todos;
        assert_eq!(todos.entries.len(), 504, "laptop's 500 todos, phone's 4");
        assert!(!todos.conflicts.is_empty(), "sessions disagree");
        assert!(todos.entries.iter().any(|e| e.status == Status::Deleted));
    }
}
