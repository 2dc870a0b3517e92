//! What bounds the hub under hostile load (docs/HUB_API.md#limits), besides
//! the per-phase deadlines of [`crate::server::Timeouts`] and the body limit:
//!
//! - **Ingests**: a sync holds a slot of its tenant (one at a time: a
//!   tenant's syncs are serialized by the database anyway) and one of the
//!   hub's few (four on PostgreSQL, one on SQLite, whose writes are serial),
//!   taken *before* its body is read. So the memory that bodies
//!   and their parsed observations take is bounded by the number of slots,
//!   however many pushes arrive at once, and a tenant that floods the hub
//!   queues behind itself, not in front of the others.
//! - **Time**: observations stamped further in the future than
//!   [`FUTURE_SKEW`] are refused (422): they would outrank every honest
//!   observation of their todo until then.

use crate::error::ApiError;
use crate::server::AppState;
use crate::store::{StoreError, TenantId};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Syncs of one tenant stored at once.
const PER_TENANT: usize = 1;
/// Syncs stored at once in the whole hub on PostgreSQL, where syncs of
/// different tenants write in parallel. SQLite has one writer: there a second
/// slot would only hold a second body in memory while it waits for the lock
/// (and, behind a big batch, past the busy timeout).
const GLOBAL_POSTGRES: usize = 4;
const GLOBAL_SQLITE: usize = 1;
/// How far ahead of the hub's clock an observation may be stamped.
pub(crate) const FUTURE_SKEW_MS: i64 = 24 * 60 * 60 * 1000;

/// The hub's ingest slots.
pub(crate) struct IngestSlots {
    global: Arc<Semaphore>,
    tenants: Mutex<HashMap<TenantId, Arc<Semaphore>>>,
}

impl IngestSlots {
    /// The slots of a hub on the database `url` names.
    pub(crate) fn for_database(url: &str) -> IngestSlots {
        let postgres = url.starts_with("postgres://") || url.starts_with("postgresql://");
        let global = if postgres {
            GLOBAL_POSTGRES
        } else {
            GLOBAL_SQLITE
        };
        IngestSlots {
            global: Arc::new(Semaphore::new(global)),
            tenants: Mutex::new(HashMap::new()),
        }
    }

    fn tenant(&self, tenant: TenantId) -> Arc<Semaphore> {
        let mut tenants = self.tenants.lock().unwrap_or_else(|e| e.into_inner());
        // Forget idle tenants' semaphores so the map stays small.
        if tenants.len() > 1024 {
            tenants.retain(|_, s| s.available_permits() < PER_TENANT);
        }
        tenants
            .entry(tenant)
            .or_insert_with(|| Arc::new(Semaphore::new(PER_TENANT)))
            .clone()
    }
}

/// An extractor holding a sync's slots; it must come before the body's.
pub(crate) struct IngestPermit {
    _tenant: OwnedSemaphorePermit,
    _global: OwnedSemaphorePermit,
}

impl FromRequestParts<AppState> for IngestPermit {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let tenant = *parts
            .extensions
            .get::<TenantId>()
            .ok_or_else(|| internal("an ingest slot asked for without a tenant"))?;
        let closed = |_| internal("the ingest slots are closed");
        // The tenant's slot first: a flooding tenant then waits on itself
        // without holding a slot the others need.
        let tenant_slot = state
            .ingests
            .tenant(tenant)
            .acquire_owned()
            .await
            .map_err(closed)?;
        let global = state
            .ingests
            .global
            .clone()
            .acquire_owned()
            .await
            .map_err(closed)?;
        Ok(IngestPermit {
            _tenant: tenant_slot,
            _global: global,
        })
    }
}

/// Never happens (the route requires a tenant; the semaphores are never
/// closed), but answers 500 rather than panicking if it does.
fn internal(what: &str) -> ApiError {
    ApiError::Internal(StoreError::Corrupt(what.to_string()))
}
