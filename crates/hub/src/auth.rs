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
use crate::store::TenantId;
use axum::extract::{Request, State};
use axum::http::header::AUTHORIZATION;
use axum::middleware::Next;
use axum::response::Response;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

const TOKEN_PREFIX: &str = "cst_";
/// How much of a token `hub token list` shows: the prefix and 8 hex digits.
const SHOWN_LEN: usize = TOKEN_PREFIX.len() + 8;
/// The route where browsers, which cannot set headers on a WebSocket, may pass
/// the token as `?token=`. Elsewhere a token in a URL would end up in logs.
const QUERY_TOKEN_PATH: &str = "/api/ws";

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
    let tenant = match state.store.token_tenant(&hash).await? {
        Some((tenant, stored)) if bool::from(stored.as_bytes().ct_eq(hash.as_bytes())) => tenant,
        _ => return Err(ApiError::Unauthorized("invalid or revoked token")),
    };
    request.extensions_mut().insert::<TenantId>(tenant);
    Ok(next.run(request).await)
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
