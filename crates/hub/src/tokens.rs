//! Token administration, for `chittysync hub token create|list|revoke`.
//!
//! These work on the database directly (no running hub needed), take the same
//! database URL as [`serve`](crate::serve), and create and migrate the database
//! if it does not exist yet, so the first token can be made before the first
//! start.

use crate::auth::{generate_token, hash_token, is_full_token, shown_prefix};
use crate::store::{self, Store, StoreError};
use chittysync_core::Timestamp;
use std::sync::Arc;

pub use crate::store::TokenInfo;

/// Why a token command failed.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("tenant name must be 1 to 200 printable characters, got `{0}`")]
    InvalidTenant(String),
    #[error("no token matches `{0}` (give its id, its prefix as listed, or the token itself)")]
    NotFound(String),
    #[error("`{0}` matches {1} tokens; give its id or a longer prefix")]
    Ambiguous(String, usize),
    #[error("cannot generate a random token: {0}")]
    Random(getrandom::Error),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// Runs `work` on the store, closing it afterwards whatever happened.
async fn with_store<T>(
    database_url: &str,
    work: impl AsyncFnOnce(&Arc<dyn Store>) -> Result<T, TokenError>,
) -> Result<T, TokenError> {
    let store = store::open(database_url).await?;
    let result = work(&store).await;
    store.close().await;
    result
}

/// Creates a token for `tenant` (creating the tenant if it is new) and returns
/// the token. It is shown only this once: the database keeps its hash.
pub async fn create(database_url: &str, tenant: &str) -> Result<String, TokenError> {
    let tenant = tenant.trim();
    if tenant.is_empty() || tenant.chars().count() > 200 || tenant.chars().any(char::is_control) {
        return Err(TokenError::InvalidTenant(tenant.to_string()));
    }
    let token = generate_token().map_err(TokenError::Random)?;
    with_store(database_url, async |store| {
        store
            .create_token(
                tenant,
                &hash_token(&token),
                &shown_prefix(&token),
                Timestamp::now(),
            )
            .await?;
        Ok(token.clone())
    })
    .await
}

/// Every token of every tenant, oldest first.
pub async fn list(database_url: &str) -> Result<Vec<TokenInfo>, TokenError> {
    with_store(database_url, async |store| Ok(store.list_tokens().await?)).await
}

/// Revokes one token, named by its id, a prefix of it as `list` shows it
/// (starting with `cst_`), or the token itself. Revoking a revoked token
/// changes nothing and is not an error. Returns the token as it now is.
pub async fn revoke(database_url: &str, id_or_prefix: &str) -> Result<TokenInfo, TokenError> {
    let selector = id_or_prefix.trim();
    with_store(database_url, async |store| {
        let id = match selector.parse::<i64>() {
            Ok(id) => id,
            Err(_) => {
                let prefix = if is_full_token(selector) {
                    shown_prefix(selector)
                } else {
                    selector.to_string()
                };
                let tokens = store.list_tokens().await?;
                let matching: Vec<&TokenInfo> = tokens
                    .iter()
                    .filter(|t| prefix.starts_with("cst_") && t.prefix.starts_with(&prefix))
                    .collect();
                match matching.as_slice() {
                    [one] => one.id,
                    [] => return Err(TokenError::NotFound(selector.to_string())),
                    many => return Err(TokenError::Ambiguous(selector.to_string(), many.len())),
                }
            }
        };
        store
            .revoke_token(id, Timestamp::now())
            .await?
            .ok_or_else(|| TokenError::NotFound(selector.to_string()))
    })
    .await
}
