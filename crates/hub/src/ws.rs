//! `GET /api/ws`: pushes a tenant's new observations as they arrive.
//!
//! A session keeps a cursor. Whenever the store hints that the tenant has
//! something new (a sync on this process, or on another one through
//! PostgreSQL's NOTIFY), the session reads everything after its cursor from
//! the database and sends it. The database, not the hint, is the source of
//! truth: a lost or coalesced hint costs latency, never data, and a periodic
//! re-read covers hints that never came (another process on one SQLite file).
//!
//! Protocol: the client may send `{"subscribe": {"since": "<cursor>"}}` to
//! (re)start from a cursor, or without `since` to start from now; the hub
//! answers `{"type": "subscribed", "cursor": …}`. Until then it pushes from the
//! moment of connection. Pushes are `{"type": "observations", "cursor": …,
//! "observations": […]}`; a message it cannot read gets `{"type": "error"}`.

use crate::api::{ClientMessage, ErrorBody, ServerMessage};
use crate::auth::TokenId;
use crate::error::ApiError;
use crate::routes::{parse_cursor, parse_json};
use crate::server::AppState;
use crate::store::{StoreError, TenantId};
use axum::extract::ws::rejection::WebSocketUpgradeRejection;
use axum::extract::ws::{close_code, CloseFrame, Message, WebSocket, WebSocketUpgrade};
use axum::extract::State;
use axum::response::Response;
use axum::Extension;
use std::time::Duration;
use tokio::sync::broadcast::error::RecvError;

/// Observations per pushed message.
const PUSH_PAGE: u32 = 1000;
/// How often a session rereads even without a hint.
const RESYNC_EVERY: Duration = Duration::from_secs(15);

/// Upgrades to a WebSocket for the caller's tenant.
#[utoipa::path(
    get,
    path = "/api/ws",
    tag = "ws",
    params(("token" = Option<String>, Query, description = "The bearer token, for browsers that cannot set the header")),
    security(("bearer" = [])),
    responses(
        (status = 101, description = "WebSocket: pushes the tenant's new observations"),
        (status = 400, description = "Not a WebSocket request", body = ErrorBody),
        (status = 401, description = "Missing, unknown or revoked token", body = ErrorBody),
    )
)]
pub(crate) async fn connect(
    State(state): State<AppState>,
    Extension(tenant): Extension<TenantId>,
    Extension(token): Extension<TokenId>,
    upgrade: Result<WebSocketUpgrade, WebSocketUpgradeRejection>,
) -> Result<Response, ApiError> {
    let upgrade = upgrade.map_err(|r| ApiError::BadRequest(r.body_text()))?;
    let sessions = state.sessions.clone();
    Ok(upgrade
        .on_upgrade(move |socket| sessions.track_future(session(socket, state, tenant, token))))
}

#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Socket(#[from] axum::Error),
}

async fn session(mut socket: WebSocket, state: AppState, tenant: TenantId, token: TokenId) {
    state.metrics.ws_clients.inc();
    if let Err(error) = run(&mut socket, &state, tenant, token).await {
        tracing::debug!(%error, "WebSocket session ended");
    }
    state.metrics.ws_clients.dec();
}

async fn run(
    socket: &mut WebSocket,
    state: &AppState,
    tenant: TenantId,
    token: TokenId,
) -> Result<(), SessionError> {
    let mut revoked = state.tokens.revoked();
    // Subscribe before reading the cursor, so nothing falls between the two.
    let mut changes = state.store.changes();
    let mut position = state.store.cursor(tenant).await?;
    let mut resync =
        tokio::time::interval_at(tokio::time::Instant::now() + RESYNC_EVERY, RESYNC_EVERY);
    loop {
        tokio::select! {
            _ = state.shutdown.cancelled() => {
                let frame = CloseFrame { code: close_code::AWAY, reason: "hub shutting down".into() };
                let _ = socket.send(Message::Close(Some(frame))).await;
                return Ok(());
            }
            Ok(()) = revoked.changed() => {
                if revoked.borrow_and_update().contains(&token.0) {
                    // `hub token revoke`: this socket's token is no longer good.
                    let frame = CloseFrame { code: close_code::POLICY, reason: "token revoked".into() };
                    let _ = socket.send(Message::Close(Some(frame))).await;
                    return Ok(());
                }
            }
            message = socket.recv() => match message {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return Ok(()),
                Some(Ok(Message::Text(text))) => {
                    match subscription(state, tenant, text.as_str()).await? {
                        Ok(start) => {
                            position = start;
                            send(socket, &ServerMessage::Subscribed { cursor: start.to_string() }).await?;
                            push(socket, state, tenant, &mut position).await?;
                        }
                        Err(error) => send(socket, &ServerMessage::Error { error }).await?,
                    }
                }
                // Pings are answered by the library; binary frames mean nothing here.
                Some(Ok(_)) => {}
            },
            change = changes.recv() => match change {
                Ok(change) if !change.concerns(tenant) => {}
                Ok(_) | Err(RecvError::Lagged(_)) => push(socket, state, tenant, &mut position).await?,
                Err(RecvError::Closed) => return Ok(()),
            },
            _ = resync.tick() => push(socket, state, tenant, &mut position).await?,
        }
    }
}

/// Reads a client message: the cursor to start from, or what was wrong. A
/// cursor beyond the tenant's (from another hub, say) starts from now.
async fn subscription(
    state: &AppState,
    tenant: TenantId,
    text: &str,
) -> Result<Result<i64, String>, StoreError> {
    let since = match parse_json::<ClientMessage>(text.as_bytes()) {
        Ok(ClientMessage::Subscribe(subscribe)) => subscribe.since,
        Err(error) => return Ok(Err(error.to_string())),
    };
    let now = state.store.cursor(tenant).await?;
    Ok(match since.as_deref().map(parse_cursor) {
        None => Ok(now),
        Some(Ok(since)) => Ok(since.min(now)),
        Some(Err(error)) => Err(error.to_string()),
    })
}

/// Sends everything after `position`, advancing it.
async fn push(
    socket: &mut WebSocket,
    state: &AppState,
    tenant: TenantId,
    position: &mut i64,
) -> Result<(), SessionError> {
    loop {
        let page = state.store.since(tenant, *position, PUSH_PAGE).await?;
        if page.observations.is_empty() {
            return Ok(());
        }
        *position = page.cursor;
        let message = ServerMessage::Observations {
            cursor: page.cursor.to_string(),
            observations: page.observations,
        };
        send(socket, &message).await?;
        if !page.more {
            return Ok(());
        }
    }
}

async fn send(socket: &mut WebSocket, message: &ServerMessage) -> Result<(), SessionError> {
    // These messages are plain data; serializing them cannot fail.
    let text = serde_json::to_string(message).unwrap_or_default();
    socket.send(Message::Text(text.into())).await?;
    Ok(())
}
