//! Starting and stopping a hub: configuration, binding, graceful shutdown.
//!
//! Shutdown drains: the listener stops accepting, requests in flight finish,
//! WebSocket sessions are told to close (with a Close frame) and awaited, and
//! only then is the database closed.

use crate::metrics::Metrics;
use crate::routes;
use crate::store::{self, Store};
use anyhow::Context;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where the CLI's `serve` listens unless told otherwise (SPEC §2's `[hub] url`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// The largest request body accepted unless configured otherwise: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How to run a hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    pub listen: SocketAddr,
    /// `postgres://…` / `postgresql://…`, or a SQLite file as `sqlite:///path/hub.db`,
    /// `sqlite:path` or a plain path.
    pub database_url: String,
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
}

impl HubConfig {
    /// A configuration with the default body limit.
    pub fn new(listen: SocketAddr, database_url: impl Into<String>) -> HubConfig {
        HubConfig {
            listen,
            database_url: database_url.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
        }
    }
}

/// What every handler shares.
#[derive(Clone)]
pub(crate) struct AppState {
    pub store: Arc<dyn Store>,
    pub metrics: Arc<Metrics>,
    /// Cancelled when the hub begins to shut down; WebSocket sessions watch it.
    pub shutdown: CancellationToken,
    /// The WebSocket sessions, awaited on shutdown.
    pub sessions: TaskTracker,
}

/// A hub whose socket is bound and database open, not yet serving. Binding
/// first lets a caller listen on port 0 and learn the port before serving.
pub struct BoundHub {
    listener: TcpListener,
    state: AppState,
    app: axum::Router,
}

/// Opens the database (creating and migrating it as needed), binds the socket.
pub async fn bind(config: HubConfig) -> anyhow::Result<BoundHub> {
    let store = store::open(&config.database_url)
        .await
        .with_context(|| format!("opening the hub database {}", redact(&config.database_url)))?;
    store
        .start_feed()
        .await
        .context("listening for changes from other hub processes")?;
    let listener = match TcpListener::bind(config.listen).await {
        Ok(listener) => listener,
        Err(error) => {
            store.close().await;
            return Err(error).with_context(|| format!("listening on {}", config.listen));
        }
    };
    let state = AppState {
        store,
        metrics: Arc::new(Metrics::new()),
        shutdown: CancellationToken::new(),
        sessions: TaskTracker::new(),
    };
    let app = routes::app(state.clone(), config.max_body_bytes);
    Ok(BoundHub {
        listener,
        state,
        app,
    })
}

impl BoundHub {
    /// The address actually bound (with the real port when asked for port 0).
    pub fn local_addr(&self) -> SocketAddr {
        // A bound TCP listener always knows its address.
        self.listener
            .local_addr()
            .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
    }

    /// Serves until `shutdown` completes, then drains and closes.
    pub async fn run(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> anyhow::Result<()> {
        let BoundHub {
            listener,
            state,
            app,
        } = self;
        tracing::info!(addr = %listener.local_addr()?, "hub serving");
        let cancel = state.shutdown.clone();
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                shutdown.await;
                cancel.cancel();
            })
            .await;
        state.shutdown.cancel();
        state.sessions.close();
        state.sessions.wait().await;
        state.store.close().await;
        served.context("serving HTTP")
    }
}

/// Binds, serves until `shutdown` completes, drains and closes.
pub async fn serve(
    config: HubConfig,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    bind(config).await?.run(shutdown).await
}

/// A database URL fit for a message: without its password.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A hub's state over a SQLite file in a fresh temporary folder.
    pub(crate) async fn state() -> (AppState, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hub.db");
        let state = AppState {
            store: store::open(path.to_str().unwrap()).await.unwrap(),
            metrics: Arc::new(Metrics::new()),
            shutdown: CancellationToken::new(),
            sessions: TaskTracker::new(),
        };
        (state, dir)
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            super::redact("postgres://me:secret@db/hub"),
            "postgres://me:***@db/hub"
        );
        assert_eq!(
            super::redact("postgres://me@db/hub"),
            "postgres://me@db/hub"
        );
        assert_eq!(super::redact("/var/lib/hub.db"), "/var/lib/hub.db");
    }
}
