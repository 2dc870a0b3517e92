//! The web dashboard (docs/UI.md): the local picture in a browser,
//! live.
//!
//! Pages are HTML rendered here, on the server, from the store the daemon
//! keeps current, read through the engine's views; every piece of text from
//! the picture is escaped on the way ([`html::esc`]). Filters are query
//! parameters, so every view has a URL of its own. The only script
//! (`assets/app.js`) listens to `/events` and, at each change, fetches the
//! same URL again as a fragment (`X-Fragment: 1`) and swaps it in: no reload.
//! The assets are compiled into the binary (`include_str!`): no CDN, no
//! network, no Node.

#![forbid(unsafe_code)]

mod access;
mod board;
mod conflicts;
pub mod html;
mod live;
mod picture;
mod report;
mod sessions;
mod topics;

pub use access::{
    check_bind, safe_next, security_headers, sign_in_page, to_sign_in, BindRefused, MIN_TOKEN_LEN,
};
pub use picture::{folded, DataSource, Picture, ReadError, Shared, Todos};

use axum::extract::{Path as UrlPath, Query};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Json, Router};
use chittysync_core::topic::TopicRules;
use chittysync_core::Timestamp;
use html::{esc, page, View};
use picture::{LocalSource, Source};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;
use tokio::sync::watch;

const APP_CSS: &str = include_str!("../assets/app.css");
const APP_JS: &str = include_str!("../assets/app.js");

/// What the dashboard serves, and to whom.
pub struct UiConfig {
    /// The store file (`<home>/store.db`); it need not exist yet.
    pub store_path: PathBuf,
    /// `sessions.stale_after`, in milliseconds.
    pub stale_after_ms: i64,
    /// `[[topics.rules]]`.
    pub topic_rules: TopicRules,
    /// Required of every request when set (docs/UI.md, "Who may look").
    pub token: Option<String>,
}

/// The local dashboard's own: who may look.
pub struct App {
    token: Option<String>,
}

/// Serves the dashboard on `listener` until `shutdown` completes. The caller
/// binds (and so knows the port) after [`check_bind`].
/// `ready` is called once the first picture is read (or could not be): a
/// browser opened then finds the board ready to draw.
pub async fn serve(
    config: UiConfig,
    listener: tokio::net::TcpListener,
    shutdown: impl Future<Output = ()> + Send + 'static,
    ready: impl FnOnce() + Send + 'static,
) -> std::io::Result<()> {
    let source = Arc::new(Source::new(config.store_path, config.stale_after_ms));
    // The picture is read now, while the first page is on its way, so that
    // page finds it ready (docs/UI.md, "Reading the store").
    let warm = source.clone();
    tokio::task::spawn_blocking(move || {
        let _ = warm.picture();
        ready();
    });
    let (tx, rx) = watch::channel(0u64);
    let watcher = tokio::spawn(live::watch_store(source.clone(), tx));
    let data: Shared = Arc::new(LocalSource {
        source,
        topic_rules: config.topic_rules,
        changes: rx,
    });
    let app = Arc::new(App {
        token: config.token,
    });
    let stop = Arc::new(tokio::sync::Notify::new());
    let stopping = stop.clone();
    let server = axum::serve(listener, router(app, data)).with_graceful_shutdown(async move {
        shutdown.await;
        stopping.notify_one();
    });
    // Open pages hold their event streams forever: once asked to stop, the
    // requests under way get a moment to finish, then the streams are cut.
    let result = tokio::select! {
        r = server => r,
        _ = async {
            stop.notified().await;
            tokio::time::sleep(std::time::Duration::from_millis(500)).await;
        } => Ok(()),
    };
    watcher.abort();
    result
}

/// Every route of the local dashboard: the pages over the local picture,
/// their JSON, and who may look.
pub fn router(app: Arc<App>, data: Shared) -> Router {
    pages()
        .route("/api/board", get(board_json))
        .route("/api/sessions", get(sessions_json))
        .route("/api/conflicts", get(conflicts_json))
        .route("/api/todo/{id}", get(todo_json))
        .route("/api/report", get(report_json))
        .route(
            "/signin",
            get(access::sign_in_form)
                .post(access::sign_in)
                .with_state(app.clone()),
        )
        .layer(Extension(data))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn_with_state(app, access::guard))
}

/// The pages and their live updates, over the [`DataSource`] each request
/// carries as an extension ([`Shared`]): the local dashboard's, and each hub
/// tenant's (docs/UI.md, "On the hub"). Who may look is the caller's layer.
pub fn pages() -> Router {
    Router::new()
        .route("/", get(|| async { Redirect::to("/board") }))
        .route("/board", get(board_page))
        .route("/sessions", get(sessions_page))
        .route("/conflicts", get(conflicts_page))
        .route("/todo/{id}", get(todo_page))
        .route("/report", get(report_page))
        .route("/topics", get(topics_page))
        .route("/events", get(events))
        .route("/assets/app.css", get(|| asset(APP_CSS, "text/css")))
        .route("/assets/app.js", get(|| asset(APP_JS, "text/javascript")))
}

async fn asset(body: &'static str, content_type: &'static str) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

async fn events(Extension(data): Extension<Shared>) -> Response {
    live::events(data.changes()).into_response()
}

/// What a view could not show.
enum PageError {
    NotFound(String),
    Read(ReadError),
}

impl From<ReadError> for PageError {
    fn from(e: ReadError) -> Self {
        PageError::Read(e)
    }
}

type Rendered = Result<(String, String), PageError>;

/// Renders a view on a blocking thread: the whole page, or only its `main`
/// when the page's script asks for a fragment (`X-Fragment`).
async fn render_view(
    data: Shared,
    headers: HeaderMap,
    view: View,
    f: impl FnOnce(&dyn DataSource, &Picture, Timestamp) -> Rendered + Send + 'static,
) -> Response {
    let fragment = headers.contains_key("x-fragment");
    let result = tokio::task::spawn_blocking(move || -> Rendered {
        let picture = data.picture()?;
        f(data.as_ref(), &picture, Timestamp::now())
    })
    .await
    .unwrap_or_else(|e| {
        Err(PageError::NotFound(format!(
            "the page could not be drawn: {e}"
        )))
    });
    let (status, title, main) = match result {
        Ok((title, main)) => (StatusCode::OK, title, main),
        Err(PageError::NotFound(what)) => (
            StatusCode::NOT_FOUND,
            "Not found".to_string(),
            format!(r#"<h1>Not found</h1><p class="empty">{}</p>"#, esc(&what)),
        ),
        // No store yet is a state, not a failure: the page says what to run
        // and fills in by itself once the daemon has written the store.
        Err(PageError::Read(e @ ReadError::NoStore(_))) => (
            StatusCode::OK,
            "Nothing yet".to_string(),
            format!(
                r#"<h1>Nothing yet</h1><p class="empty">{}</p>"#,
                esc(&e.to_string())
            ),
        ),
        Err(PageError::Read(e @ ReadError::Encrypted)) => (
            StatusCode::CONFLICT,
            "Encrypted".to_string(),
            format!(
                r#"<h1>Encrypted end to end</h1><p class="empty">{}</p>"#,
                esc(&e.to_string())
            ),
        ),
        Err(PageError::Read(e)) => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "Error".to_string(),
            format!(
                r#"<h1>The store could not be read</h1><p class="error">{}</p>"#,
                esc(&e.to_string())
            ),
        ),
    };
    let body = if fragment {
        main
    } else {
        page(view, &title, &main)
    };
    (status, [(header::VARY, "X-Fragment")], Html(body)).into_response()
}

/// Serializes what `f` reads, on a blocking thread.
async fn render_json(
    data: Shared,
    f: impl FnOnce(&dyn DataSource, &Picture, Timestamp) -> Result<serde_json::Value, PageError>
        + Send
        + 'static,
) -> Response {
    let result = tokio::task::spawn_blocking(move || {
        let picture = data.picture()?;
        f(data.as_ref(), &picture, Timestamp::now())
    })
    .await
    .unwrap_or_else(|e| Err(PageError::NotFound(e.to_string())));
    let error = |status: StatusCode, msg: String| {
        (status, Json(serde_json::json!({ "error": msg }))).into_response()
    };
    match result {
        Ok(value) => Json(value).into_response(),
        Err(PageError::NotFound(what)) => error(StatusCode::NOT_FOUND, what),
        Err(PageError::Read(e @ ReadError::NoStore(_))) => {
            error(StatusCode::SERVICE_UNAVAILABLE, e.to_string())
        }
        Err(PageError::Read(e @ ReadError::Encrypted)) => {
            error(StatusCode::CONFLICT, e.to_string())
        }
        Err(PageError::Read(e)) => error(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    }
}

fn json_of(value: &impl serde::Serialize) -> Result<serde_json::Value, PageError> {
    serde_json::to_value(value).map_err(|e| PageError::NotFound(e.to_string()))
}

async fn board_page(
    Extension(data): Extension<Shared>,
    headers: HeaderMap,
    Query(q): Query<board::BoardQuery>,
) -> Response {
    render_view(data, headers, View::Board, move |_, p, now| {
        let title = if q.project.is_empty() {
            "Board".to_string()
        } else {
            format!("{} · Board", q.project)
        };
        Ok((title, board::render(p, &q, now)))
    })
    .await
}

async fn board_json(
    Extension(data): Extension<Shared>,
    Query(q): Query<board::BoardQuery>,
) -> Response {
    render_json(data, move |_, p, _| json_of(&board::board(p, &q))).await
}

async fn sessions_page(
    Extension(data): Extension<Shared>,
    headers: HeaderMap,
    Query(q): Query<sessions::SessionsQuery>,
) -> Response {
    render_view(data, headers, View::Sessions, move |data, p, now| {
        let stale = data.stale_after_ms();
        Ok(("Sessions".into(), sessions::render(p, &q, now, stale)))
    })
    .await
}

async fn sessions_json(
    Extension(data): Extension<Shared>,
    Query(q): Query<sessions::SessionsQuery>,
) -> Response {
    render_json(data, move |data, p, now| {
        json_of(&sessions::rows(p, &q, now, data.stale_after_ms()))
    })
    .await
}

async fn conflicts_page(
    Extension(data): Extension<Shared>,
    headers: HeaderMap,
    Query(q): Query<conflicts::ConflictsQuery>,
) -> Response {
    render_view(data, headers, View::Conflicts, move |_, p, now| {
        Ok(("Conflicts".into(), conflicts::render(p, &q, now)))
    })
    .await
}

async fn conflicts_json(
    Extension(data): Extension<Shared>,
    Query(q): Query<conflicts::ConflictsQuery>,
) -> Response {
    render_json(data, move |_, p, _| json_of(&conflicts::list(p, &q))).await
}

/// One todo's history, through the engine's `histories` (as `history --json`).
fn history_of(
    data: &dyn DataSource,
    id: &str,
) -> Result<chittysync_engine::views::TodoHistory, PageError> {
    data.history(id)?
        .ok_or_else(|| PageError::NotFound(format!("no todo has the id {id}")))
}

async fn todo_page(
    Extension(data): Extension<Shared>,
    headers: HeaderMap,
    UrlPath(id): UrlPath<String>,
) -> Response {
    render_view(data, headers, View::Todo, move |data, p, now| {
        let history = history_of(data, &id)?;
        Ok((
            history.todo.content.clone(),
            conflicts::render_history(&history, p.todos.conflicts.get(&id), now),
        ))
    })
    .await
}

async fn todo_json(Extension(data): Extension<Shared>, UrlPath(id): UrlPath<String>) -> Response {
    render_json(data, move |data, _, _| json_of(&history_of(data, &id)?)).await
}

async fn report_page(
    Extension(data): Extension<Shared>,
    headers: HeaderMap,
    Query(q): Query<report::ReportQuery>,
) -> Response {
    render_view(data, headers, View::Report, move |_, p, now| {
        Ok(("Report".into(), report::render(p, &q, now)))
    })
    .await
}

async fn report_json(
    Extension(data): Extension<Shared>,
    Query(q): Query<report::ReportQuery>,
) -> Response {
    render_json(data, move |_, p, now| json_of(&report::rows(p, &q, now))).await
}

async fn topics_page(
    Extension(data): Extension<Shared>,
    headers: HeaderMap,
    Query(q): Query<topics::TopicsQuery>,
) -> Response {
    render_view(data, headers, View::Topics, move |data, p, now| {
        Ok((
            "Topics".into(),
            topics::render(p, data.topic_rules(), &q, now),
        ))
    })
    .await
}
