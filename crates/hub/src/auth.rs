//! Bearer tokens: how they are made, stored and checked.
//!
//! A token is `cst_` and 64 random hex digits. The database keeps only its
//! SHA-256, found by an indexed lookup and then compared in constant time, so
//! neither a leaked database nor response timing gives a usable token away.
//! Every `/api/*` route but health and the OpenAPI description goes through
//! [`require_tenant`], which puts the caller's [`TenantId`] in the request's
//! extensions; handlers take it from there and never from the client.

use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{Store, TenantId};
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use chittysync_core::Timestamp;
use sha2::{Digest, Sha256};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

const TOKEN_PREFIX: &str = "cst_";
/// How much of a token `hub token list` shows: the prefix and 8 hex digits.
const SHOWN_LEN: usize = TOKEN_PREFIX.len() + 8;
/// The route where browsers, which cannot set headers on a WebSocket, may pass
/// the token as `?token=`. Elsewhere a token in a URL would end up in logs.
const QUERY_TOKEN_PATH: &str = "/api/ws";

/// How often revocations are looked for while WebSocket sessions are open:
/// a revoked token's socket is closed within this (and a query's time).
const REVOCATION_POLL: Duration = Duration::from_millis(500);
/// A token's last use is recorded to this precision (one write per token per
/// this, not one per request).
const LAST_USE_PRECISION: Duration = Duration::from_secs(60);

/// A new random token.
pub(crate) fn generate_token() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{TOKEN_PREFIX}{}", hex::encode(bytes)))
}

/// The stored form of a token.
pub(crate) fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// The part of a token that may be shown.
pub(crate) fn shown_prefix(token: &str) -> String {
    token.chars().take(SHOWN_LEN).collect()
}

/// Whether text looks like a whole token (rather than an id or a prefix).
pub(crate) fn is_full_token(text: &str) -> bool {
    text.len() == TOKEN_PREFIX.len() + 64 && text.starts_with(TOKEN_PREFIX)
}

/// The token a request carries: `Authorization: Bearer …`, or `?token=` on the
/// WebSocket route.
fn presented_token(request: &Request) -> Option<String> {
    if let Some(value) = request.headers().get(AUTHORIZATION) {
        let value = value.to_str().ok()?;
        let (scheme, token) = value.split_once(' ')?;
        return scheme
            .eq_ignore_ascii_case("bearer")
            .then(|| token.trim().to_string());
    }
    if request.uri().path() != QUERY_TOKEN_PATH {
        return None;
    }
    let query = request.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .find(|(key, _)| key == "token")
        .map(|(_, value)| value.into_owned())
}

/// Middleware: lets the request through with its tenant, or answers 401.
pub(crate) async fn require_tenant(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Result<Response, ApiError> {
    let token = presented_token(&request)
        .filter(|t| !t.is_empty())
        .ok_or(ApiError::Unauthorized("missing bearer token"))?;
    let hash = hash_token(&token);
    let live = match state.store.token_tenant(&hash).await? {
        Some(live) if bool::from(live.hash.as_bytes().ct_eq(hash.as_bytes())) => live,
        _ => return Err(ApiError::Unauthorized("invalid or revoked token")),
    };
    if state.tokens.use_is_news(live.id) {
        // Off the request's path: the answer does not wait for this write.
        let store = state.store.clone();
        tokio::spawn(async move {
            if let Err(error) = store.touch_token(live.id, Timestamp::now()).await {
                tracing::debug!(%error, "cannot record a token's last use");
            }
        });
    }
    request.extensions_mut().insert::<TenantId>(live.tenant);
    request.extensions_mut().insert(TokenId(live.id));
    Ok(next.run(request).await)
}

/// The token a request was authenticated with (its row id).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub(crate) struct TokenId(pub i64);

/// What the hub follows of its tokens while it runs: when each was last
/// recorded as used, and which are revoked (a revocation is made by `hub
/// token revoke` in the database, possibly by another process).
pub(crate) struct TokenWatch {
    recorded: Mutex<HashMap<i64, Instant>>,
    revoked: watch::Receiver<Arc<HashSet<i64>>>,
}

impl TokenWatch {
    /// Starts following revocations while WebSocket sessions are open: the
    /// revoked ids are read every [`REVOCATION_POLL`] and sessions of a newly
    /// revoked token are closed (docs/HUB_API.md#get-apiws).
    pub(crate) fn start(
        store: Arc<dyn Store>,
        sessions: TaskTracker,
        shutdown: CancellationToken,
    ) -> TokenWatch {
        let (tx, revoked) = watch::channel(Arc::new(HashSet::new()));
        tokio::spawn(async move {
            let mut every = tokio::time::interval(REVOCATION_POLL);
            every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = every.tick() => {}
                }
                if sessions.is_empty() {
                    continue;
                }
                match store.revoked_tokens().await {
                    Ok(ids) => {
                        let ids: HashSet<i64> = ids.into_iter().collect();
                        tx.send_if_modified(|current| {
                            let changed = **current != ids;
                            if changed {
                                *current = Arc::new(ids);
                            }
                            changed
                        });
                    }
                    Err(error) => tracing::debug!(%error, "cannot read revoked tokens"),
                }
            }
        });
        TokenWatch {
            recorded: Mutex::new(HashMap::new()),
            revoked,
        }
    }

    /// Whether this use of token `id` should be written down: the first one
    /// since the start, then at most one per [`LAST_USE_PRECISION`].
    fn use_is_news(&self, id: i64) -> bool {
        let now = Instant::now();
        let mut recorded = self.recorded.lock().unwrap_or_else(|e| e.into_inner());
        match recorded.get(&id) {
            Some(at) if now.duration_since(*at) < LAST_USE_PRECISION => false,
            _ => {
                recorded.insert(id, now);
                true
            }
        }
    }

    /// The revoked token ids, changing as tokens are revoked.
    pub(crate) fn revoked(&self) -> watch::Receiver<Arc<HashSet<i64>>> {
        self.revoked.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_and_recognisable() {
        let a = generate_token().unwrap();
        let b = generate_token().unwrap();
        assert_ne!(a, b);
        assert!(is_full_token(&a));
        assert!(!is_full_token(&shown_prefix(&a)));
        assert_eq!(shown_prefix(&a).len(), 12);
        assert_eq!(hash_token(&a).len(), 64);
        assert_ne!(hash_token(&a), hash_token(&b));
    }
}
