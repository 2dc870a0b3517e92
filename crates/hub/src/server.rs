//! Starting and stopping a hub: configuration, binding, serving (plain HTTP
//! or TLS), graceful shutdown.
//!
//! Each connection is served by its own task, so a slow client holds only
//! itself up; every phase has a deadline (docs/HUB_API.md#limits): the TLS
//! handshake, the request head, the body, the handler.
//!
//! Shutdown drains: the listener stops accepting, requests in flight finish,
//! WebSocket sessions are told to close (with a Close frame) and awaited, and
//! only then is the database closed.

use crate::auth::TokenWatch;
use crate::limits::IngestSlots;
use crate::metrics::Metrics;
use crate::routes;
use crate::store::{self, Store};
use anyhow::Context;
use chittysync_core::topic::TopicRules;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where the CLI's `serve` listens unless told otherwise (docs/CONFIG.md, "Locations"; 's `[hub] url`).
pub const DEFAULT_LISTEN: &str = "127.0.0.1:7878";
/// The largest request body accepted unless configured otherwise: 16 MiB.
pub const DEFAULT_MAX_BODY_BYTES: usize = 16 * 1024 * 1024;

/// How to run a hub.
#[derive(Debug, Clone)]
pub struct HubConfig {
    pub listen: SocketAddr,
    /// `postgres://…` / `postgresql://…`, or a SQLite file as `sqlite:///path/hub.db`,
    /// `sqlite:path` or a plain path.
    pub database_url: String,
    /// Larger request bodies are refused with 413.
    pub max_body_bytes: usize,
    /// Serve TLS with this certificate and key (`serve --tls-cert --tls-key`).
    pub tls: Option<ServerTls>,
    /// How long each phase of a request may take.
    pub timeouts: Timeouts,
    /// `[[topics.rules]]` of the hub's config: how `GET /api/topic` groups
    /// todos (docs/TOPICS.md); none, a project is one topic.
    pub topic_rules: TopicRules,
}

/// The PEM files a TLS hub serves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerTls {
    /// The certificate chain, leaf first.
    pub cert: PathBuf,
    /// Its private key.
    pub key: PathBuf,
}

/// Deadlines per phase of a connection (docs/HUB_API.md#limits). A client
/// that misses one is disconnected (or answered 408 once its request is read).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// The TLS handshake.
    pub handshake: Duration,
    /// A request's head (its line and headers), and an idle keep-alive
    /// connection's next request.
    pub headers: Duration,
    /// Reading the request body.
    pub body: Duration,
    /// The whole request, handler included (not a WebSocket once upgraded).
    pub request: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            handshake: Duration::from_secs(10),
            headers: Duration::from_secs(10),
            body: Duration::from_secs(30),
            request: Duration::from_secs(120),
        }
    }
}

impl HubConfig {
    /// A plain-HTTP configuration with the default body limit and deadlines.
    pub fn new(listen: SocketAddr, database_url: impl Into<String>) -> HubConfig {
        HubConfig {
            listen,
            database_url: database_url.into(),
            max_body_bytes: DEFAULT_MAX_BODY_BYTES,
            tls: None,
            timeouts: Timeouts::default(),
            topic_rules: TopicRules::default(),
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
    /// Last uses and revocations of tokens.
    pub tokens: Arc<TokenWatch>,
    /// Slots bounding concurrent ingests, per tenant and in all.
    pub ingests: Arc<IngestSlots>,
    /// How `GET /api/topic` groups todos ([`HubConfig::topic_rules`]).
    pub topic_rules: Arc<TopicRules>,
}

impl AppState {
    pub(crate) fn new(store: Arc<dyn Store>, database_url: &str) -> AppState {
        let shutdown = CancellationToken::new();
        let sessions = TaskTracker::new();
        let tokens = TokenWatch::start(store.clone(), sessions.clone(), shutdown.clone());
        AppState {
            store,
            metrics: Arc::new(Metrics::new()),
            shutdown,
            sessions,
            tokens: Arc::new(tokens),
            ingests: Arc::new(IngestSlots::for_database(database_url)),
            topic_rules: Arc::default(),
        }
    }
}

/// A hub whose socket is bound and database open, not yet serving. Binding
/// first lets a caller listen on port 0 and learn the port before serving.
pub struct BoundHub {
    listener: TcpListener,
    state: AppState,
    app: axum::Router,
    tls: Option<TlsAcceptor>,
    timeouts: Timeouts,
}

/// Opens the database (creating and migrating it as needed), binds the socket.
pub async fn bind(config: HubConfig) -> anyhow::Result<BoundHub> {
    // The certificate first: a bad file is reported before anything is opened.
    let tls = match &config.tls {
        Some(files) => Some(TlsAcceptor::from(Arc::new(crate::tls::server_config(
            &files.cert,
            &files.key,
        )?))),
        None => None,
    };
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
    let mut state = AppState::new(store, &config.database_url);
    state.topic_rules = Arc::new(config.topic_rules);
    let app = routes::app(state.clone(), config.max_body_bytes, config.timeouts);
    Ok(BoundHub {
        listener,
        state,
        app,
        tls,
        timeouts: config.timeouts,
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
            tls,
            timeouts,
        } = self;
        tracing::info!(addr = %listener.local_addr()?, tls = tls.is_some(), "hub serving");
        let graceful = hyper_util::server::graceful::GracefulShutdown::new();
        // HTTP/1.1 only (what ALPN offers); the head of each request, and the
        // wait for the next one on a kept-alive connection, has a deadline.
        let mut http =
            hyper_util::server::conn::auto::Builder::new(TokioExecutor::new()).http1_only();
        http.http1()
            .timer(TokioTimer::new())
            .header_read_timeout(timeouts.headers)
            .keep_alive(true);
        let http = Arc::new(http);
        let service = TowerToHyperService::new(app);
        tokio::pin!(shutdown);
        loop {
            let (tcp, peer) = tokio::select! {
                () = &mut shutdown => break,
                accepted = listener.accept() => match accepted {
                    Ok(accepted) => accepted,
                    Err(error) => {
                        // Out of file descriptors and the like: pause, don't spin.
                        tracing::warn!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                        continue;
                    }
                },
            };
            let _ = tcp.set_nodelay(true);
            let watcher = graceful.watcher();
            let http = http.clone();
            let service = service.clone();
            let tls = tls.clone();
            tokio::spawn(async move {
                let served = match tls {
                    None => {
                        let connection =
                            http.serve_connection_with_upgrades(TokioIo::new(tcp), service);
                        watcher.watch(connection).await
                    }
                    Some(acceptor) => {
                        let stream =
                            match tokio::time::timeout(timeouts.handshake, acceptor.accept(tcp))
                                .await
                            {
                                Ok(Ok(stream)) => stream,
                                Ok(Err(error)) => {
                                    tracing::debug!(%peer, %error, "TLS handshake failed");
                                    return;
                                }
                                Err(_) => {
                                    tracing::debug!(%peer, "TLS handshake timed out");
                                    return;
                                }
                            };
                        let connection =
                            http.serve_connection_with_upgrades(TokioIo::new(stream), service);
                        watcher.watch(connection).await
                    }
                };
                if let Err(error) = served {
                    tracing::debug!(%peer, %error, "connection ended");
                }
            });
        }
        drop(listener);
        state.shutdown.cancel();
        graceful.shutdown().await;
        state.sessions.close();
        state.sessions.wait().await;
        state.store.close().await;
        Ok(())
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
        let url = path.to_str().unwrap();
        let state = AppState::new(store::open(url).await.unwrap(), url);
        (state, dir)
    }

    #[test]
    fn redacts_passwords_only() {
        assert_eq!(
            redact("postgres://me:secret@db/hub"),
            "postgres://me:***@db/hub"
        );
        assert_eq!(redact("postgres://me@db/hub"), "postgres://me@db/hub");
        assert_eq!(redact("/var/lib/hub.db"), "/var/lib/hub.db");
    }
}
