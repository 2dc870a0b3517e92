//! A typed client for the hub, for the daemon (push its observations, pull
//! others', follow the WebSocket) and for tests.
//!
//! It speaks `https://` and `wss://` (rustls; the system's roots plus
//! [`ClientOptions::ca_file`], docs/HUB_API.md#tls), and plain `http://` only
//! to this machine unless told [`ClientOptions::insecure`]: a bearer token
//! sent in the clear to another host can be read on the way. Errors keep the
//! hub's own message (`{"error": …}`) and status, so a caller can tell a bad
//! token (401) or a certificate it cannot trust (permanent) from an
//! unreachable hub (a transport error, worth retrying).

use crate::api::{
    ClientMessage, OrchestratePlan, OrchestrateRequest, ProjectsResponse, ServerMessage,
    SessionsResponse, SincePage, StatusResponse, Subscribe, SyncResponse, TodosResponse,
    TopicsResponse,
};
use chittysync_core::Observation;
use futures_util::{SinkExt, StreamExt};
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{
    connect_async_tls_with_config, Connector, MaybeTlsStream, WebSocketStream,
};

/// A request taking longer than this fails (the daemon retries later).
const TIMEOUT: Duration = Duration::from_secs(30);
/// Connecting (TCP and TLS) taking longer than this fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("invalid hub URL `{0}`: expected https://HOST[:PORT] (or http:// to this machine)")]
    Url(String),
    /// `http://` to another machine without `insecure`.
    #[error(
        "refusing plain http:// to {host} ({url}): the token and every todo would cross the \
         network unencrypted; use https://, or set `[hub] insecure = true` (or pass --insecure) \
         if the network is trusted"
    )]
    Insecure { url: String, host: String },
    /// `[hub] ca_file` cannot be used.
    #[error(transparent)]
    TlsFile(#[from] crate::tls::TlsFileError),
    /// The TLS handshake with the hub failed: a certificate problem, permanent.
    #[error("TLS handshake with {url} failed: {detail}")]
    Tls { url: String, detail: String },
    /// The cause (reqwest's) is chained, not repeated in the message.
    #[error("cannot reach the hub")]
    Transport(#[from] reqwest::Error),
    #[error("hub answered {status}: {message}")]
    Api { status: u16, message: String },
    #[error("the hub's WebSocket failed")]
    WebSocket(#[from] Box<tokio_tungstenite::tungstenite::Error>),
    #[error("unexpected message from the hub: {0}")]
    Protocol(String),
}

impl ClientError {
    /// A failed TLS handshake, plain `http://` refused, an unusable CA file:
    /// what only a change of certificate or configuration can fix.
    pub fn is_permanent_setup(&self) -> bool {
        matches!(
            self,
            ClientError::Tls { .. } | ClientError::Insecure { .. } | ClientError::TlsFile(_)
        )
    }

    /// Whether trying again later may succeed (the hub was unreachable or
    /// failed), as opposed to a request the hub will always refuse.
    pub fn is_transient(&self) -> bool {
        match self {
            ClientError::Transport(_) | ClientError::WebSocket(_) => true,
            ClientError::Api { status, .. } => *status >= 500,
            ClientError::Url(_)
            | ClientError::Protocol(_)
            | ClientError::Insecure { .. }
            | ClientError::TlsFile(_)
            | ClientError::Tls { .. } => false,
        }
    }
}

/// How a client reaches the hub: whom it trusts, and whether plain HTTP to
/// another machine is allowed (docs/HUB_API.md#tls).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientOptions {
    /// PEM certificates trusted besides the system's roots (`[hub] ca_file`).
    pub ca_file: Option<std::path::PathBuf>,
    /// Allow `http://` to a host that is not this machine (`[hub] insecure`).
    pub insecure: bool,
}

/// A connection to one hub as one tenant.
#[derive(Clone)]
pub struct HubClient {
    http: reqwest::Client,
    base: String,
    token: String,
    tls: Option<Arc<rustls::ClientConfig>>,
}

/// Never shows the token: a client printed in a log must not give it away.
impl std::fmt::Debug for HubClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubClient")
            .field("base", &self.base)
            .field("token", &"<redacted>")
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

#[derive(Serialize)]
struct SyncBody<'a> {
    device_id: &'a str,
    observations: &'a [Observation],
}

impl HubClient {
    /// `base_url` is the hub's root, e.g. `https://hub.example.org` or
    /// `http://127.0.0.1:7878`, with the default [`ClientOptions`].
    pub fn new(base_url: &str, token: &str) -> Result<HubClient, ClientError> {
        HubClient::with_options(base_url, token, &ClientOptions::default())
    }

    /// A client for `base_url` that trusts `options.ca_file` besides the
    /// system's roots, and refuses `http://` to another machine unless
    /// `options.insecure`.
    pub fn with_options(
        base_url: &str,
        token: &str,
        options: &ClientOptions,
    ) -> Result<HubClient, ClientError> {
        let base = base_url.trim().trim_end_matches('/').to_string();
        let host = crate::tls::url_host(&base);
        let secure = base.starts_with("https://");
        if !(secure || base.starts_with("http://")) || host.is_empty() {
            return Err(ClientError::Url(base_url.to_string()));
        }
        if !secure && !options.insecure && !crate::tls::is_loopback_host(host) {
            return Err(ClientError::Insecure {
                url: base.clone(),
                host: host.to_string(),
            });
        }
        crate::tls::install_default_provider();
        let tls = crate::tls::client_config(options.ca_file.as_deref())?;
        let http = reqwest::Client::builder()
            .timeout(TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .tls_backend_preconfigured(tls.clone())
            .build()?;
        Ok(HubClient {
            http,
            base,
            token: token.to_string(),
            tls: Some(Arc::new(tls)),
        })
    }

    /// The hub's root URL, as given.
    pub fn base_url(&self) -> &str {
        &self.base
    }

    /// A transport error, told apart: a failed TLS handshake is permanent.
    fn transport(&self, error: reqwest::Error) -> ClientError {
        match crate::tls::handshake_failure(&error) {
            Some(detail) => ClientError::Tls {
                url: self.base.clone(),
                detail,
            },
            None => ClientError::Transport(error),
        }
    }

    async fn decode<T: DeserializeOwned>(response: reqwest::Response) -> Result<T, ClientError> {
        let status = response.status();
        if status.is_success() {
            return Ok(response.json().await?);
        }
        let text = response.text().await.unwrap_or_default();
        let message = serde_json::from_str::<crate::api::ErrorBody>(&text)
            .map(|body| body.error)
            .unwrap_or(text);
        Err(ClientError::Api {
            status: status.as_u16(),
            message,
        })
    }

    async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ClientError> {
        let response = self
            .http
            .get(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        Self::decode(response).await
    }

    async fn post<B: Serialize + ?Sized, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ClientError> {
        let response = self
            .http
            .post(format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        Self::decode(response).await
    }

    /// `GET /api/health` (no token needed).
    pub async fn health(&self) -> Result<(), ClientError> {
        let response = self
            .http
            .get(format!("{}/api/health", self.base))
            .send()
            .await
            .map_err(|e| self.transport(e))?;
        Self::decode::<crate::api::Health>(response).await.map(drop)
    }

    /// Pushes observations; the hub stores each once, however often it is sent.
    pub async fn push(
        &self,
        device_id: &str,
        observations: &[Observation],
    ) -> Result<SyncResponse, ClientError> {
        let body = SyncBody {
            device_id,
            observations,
        };
        self.post("/api/todos/sync", &body).await
    }

    /// Observations after `cursor` (`"0"` for all), at most `limit` (the hub's
    /// default when `None`).
    pub async fn since(&self, cursor: &str, limit: Option<u32>) -> Result<SincePage, ClientError> {
        let mut request = self
            .http
            .get(format!("{}/api/todos/since/{cursor}", self.base))
            .bearer_auth(&self.token);
        if let Some(limit) = limit {
            request = request.query(&[("limit", limit)]);
        }
        Self::decode(request.send().await.map_err(|e| self.transport(e))?).await
    }

    /// The tenant's folded todos (not deleted ones) and conflicts.
    pub async fn todos(&self) -> Result<TodosResponse, ClientError> {
        self.get("/api/todos").await
    }

    pub async fn status(&self) -> Result<StatusResponse, ClientError> {
        self.get("/api/status").await
    }

    pub async fn projects(&self) -> Result<ProjectsResponse, ClientError> {
        self.get("/api/project").await
    }

    pub async fn sessions(&self) -> Result<SessionsResponse, ClientError> {
        self.get("/api/session").await
    }

    pub async fn topics(&self) -> Result<TopicsResponse, ClientError> {
        self.get("/api/topic").await
    }

    pub async fn orchestrate(&self, project: Option<&str>) -> Result<OrchestratePlan, ClientError> {
        let body = OrchestrateRequest {
            project: project.map(str::to_string),
        };
        self.post("/api/orchestrate", &body).await
    }

    /// Opens the WebSocket and subscribes from `since` (or from now); returns
    /// once the hub confirmed, so nothing stored afterwards can be missed.
    pub async fn subscribe(&self, since: Option<&str>) -> Result<Subscription, ClientError> {
        let url = format!("ws{}/api/ws", &self.base["http".len()..]);
        let mut request = url
            .as_str()
            .into_client_request()
            .map_err(|e| ClientError::WebSocket(Box::new(e)))?;
        let bearer = HeaderValue::from_str(&format!("Bearer {}", self.token))
            .map_err(|_| ClientError::Protocol("token is not a valid header value".into()))?;
        request.headers_mut().insert("authorization", bearer);
        let connector = match (&self.tls, self.base.starts_with("https://")) {
            (Some(tls), true) => Some(Connector::Rustls(tls.clone())),
            _ => Some(Connector::Plain),
        };
        let (socket, _) = connect_async_tls_with_config(request, None, false, connector)
            .await
            .map_err(|e| match e {
                tokio_tungstenite::tungstenite::Error::Http(response) => ClientError::Api {
                    status: response.status().as_u16(),
                    message: response
                        .body()
                        .as_deref()
                        .and_then(|b| serde_json::from_slice::<crate::api::ErrorBody>(b).ok())
                        .map_or_else(|| "WebSocket refused".to_string(), |b| b.error),
                },
                other => match crate::tls::handshake_failure(&other) {
                    Some(detail) => ClientError::Tls {
                        url: self.base.clone(),
                        detail,
                    },
                    None => ClientError::WebSocket(Box::new(other)),
                },
            })?;
        let mut subscription = Subscription {
            socket,
            cursor: String::new(),
            early: VecDeque::new(),
        };
        let hello = ClientMessage::Subscribe(Subscribe {
            since: since.map(str::to_string),
        });
        subscription.send(&hello).await?;
        loop {
            match subscription.receive().await {
                Some(Ok(ServerMessage::Subscribed { cursor })) => {
                    subscription.cursor = cursor;
                    return Ok(subscription);
                }
                // The hub pushes from the moment of connection until it has
                // read the subscription (docs/HUB_API.md, `GET /api/ws`): a
                // sync that landed in between comes first, and is kept.
                Some(Ok(ServerMessage::Observations {
                    cursor,
                    observations,
                })) => subscription.early.push_back(Batch {
                    cursor,
                    observations,
                }),
                Some(Ok(ServerMessage::Error { error })) => {
                    return Err(ClientError::Protocol(error))
                }
                Some(Err(error)) => return Err(error),
                None => return Err(ClientError::Protocol("connection closed".into())),
            }
        }
    }
}

/// A batch of observations pushed by the hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// The cursor after this batch: resume from it after a reconnection.
    pub cursor: String,
    pub observations: Vec<Observation>,
}

/// A live WebSocket subscription.
pub struct Subscription {
    socket: WebSocketStream<MaybeTlsStream<TcpStream>>,
    /// Where the subscription started, then the cursor of the last batch.
    pub cursor: String,
    /// Batches pushed before the hub answered the subscription, handed out
    /// first (their cursors are at or before where it started).
    early: VecDeque<Batch>,
}

impl Subscription {
    async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        let text = serde_json::to_string(message).unwrap_or_default();
        self.socket
            .send(Message::Text(text.into()))
            .await
            .map_err(|e| ClientError::WebSocket(Box::new(e)))
    }

    /// The next message from the hub; `None` once the connection closed.
    async fn receive(&mut self) -> Option<Result<ServerMessage, ClientError>> {
        loop {
            match self.socket.next().await? {
                Ok(Message::Text(text)) => {
                    return Some(
                        serde_json::from_str(text.as_str())
                            .map_err(|e| ClientError::Protocol(e.to_string())),
                    )
                }
                Ok(Message::Close(_)) => return None,
                Ok(_) => continue,
                Err(error) => return Some(Err(ClientError::WebSocket(Box::new(error)))),
            }
        }
    }

    /// The next batch of observations; `None` once the hub closed the connection
    /// (for instance because it is shutting down).
    pub async fn next(&mut self) -> Option<Result<Batch, ClientError>> {
        if let Some(batch) = self.early.pop_front() {
            return Some(Ok(batch));
        }
        match self.receive().await? {
            Ok(ServerMessage::Observations {
                cursor,
                observations,
            }) => {
                self.cursor.clone_from(&cursor);
                Some(Ok(Batch {
                    cursor,
                    observations,
                }))
            }
            Ok(ServerMessage::Error { error }) => Some(Err(ClientError::Protocol(error))),
            Ok(ServerMessage::Subscribed { cursor }) => Some(Err(ClientError::Protocol(format!(
                "unasked subscription at {cursor}"
            )))),
            Err(error) => Some(Err(error)),
        }
    }

    /// Closes the connection politely.
    pub async fn close(mut self) -> Result<(), ClientError> {
        self.socket
            .close(None)
            .await
            .map_err(|e| ClientError::WebSocket(Box::new(e)))
    }
}

#[cfg(test)]
mod tests {
    use super::{ClientError, HubClient};
    use crate::api::ServerMessage;
    use chittysync_core::{Observation, Source, Status, Timestamp};
    use futures_util::{SinkExt, StreamExt};
    use std::error::Error as _;
    use tokio_tungstenite::tungstenite::Message;

    /// A hub that, like the real one between a connection and reading its
    /// subscription, pushes a batch before answering `subscribed`: the batch
    /// is not a protocol error, and comes first from `next()`.
    #[tokio::test]
    async fn a_push_before_the_subscription_is_answered_is_kept() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let observation = Observation::new(
            "api",
            "Stored while subscribing".into(),
            None,
            Status::Pending,
            "s1".into(),
            None,
            "laptop",
            Source::File,
            Timestamp(1_700_000_000_000),
        );
        let pushed = observation.clone();
        let hub = tokio::spawn(async move {
            let (tcp, _) = listener.accept().await.unwrap();
            let mut socket = tokio_tungstenite::accept_async(tcp).await.unwrap();
            let send = |m: ServerMessage| Message::Text(serde_json::to_string(&m).unwrap().into());
            socket
                .send(send(ServerMessage::Observations {
                    cursor: "7".into(),
                    observations: vec![pushed],
                }))
                .await
                .unwrap();
            let hello = socket.next().await.unwrap().unwrap();
            assert!(hello.to_text().unwrap().contains("subscribe"), "{hello:?}");
            socket
                .send(send(ServerMessage::Subscribed { cursor: "7".into() }))
                .await
                .unwrap();
            // Held open until the client has read what it needs.
            let _ = socket.next().await;
        });
        let client = HubClient::new(&format!("http://127.0.0.1:{port}"), "token").unwrap();
        let mut subscription = client.subscribe(None).await.unwrap();
        assert_eq!(subscription.cursor, "7");
        let batch = subscription.next().await.unwrap().unwrap();
        assert_eq!(batch.cursor, "7");
        assert_eq!(batch.observations, vec![observation]);
        subscription.close().await.unwrap();
        hub.await.unwrap();
    }

    /// A cause is chained once: the message says what failed, the chain
    /// (printed as "caused by" by the CLI) says why, not both.
    #[test]
    fn a_socket_error_is_chained_not_repeated() {
        let cause = tokio_tungstenite::tungstenite::Error::ConnectionClosed;
        let why = cause.to_string();
        let error = ClientError::from(Box::new(cause));
        assert_eq!(error.to_string(), "the hub's WebSocket failed");
        assert!(!error.to_string().contains(&why));
        assert_eq!(error.source().map(|s| s.to_string()), Some(why));
    }
}
