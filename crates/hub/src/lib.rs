//! The chittysync sync hub (docs/HUB_API.md), and a typed client for it.
//!
//! The hub stores every tenant's observations — append-only, idempotent by id —
//! and serves their fold, computed by `chittysync_core` exactly as the daemon
//! computes it. Bearer tokens, stored hashed, map to tenants; every query is
//! scoped by the caller's tenant. SQLite is the default store; a PostgreSQL URL
//! lets several hub processes serve the same tenants, their WebSocket clients
//! kept current through LISTEN/NOTIFY.
//!
//! ```no_run
//! # async fn run() -> anyhow::Result<()> {
//! use chittysync_hub::{serve, HubConfig};
//! let config = HubConfig::new("127.0.0.1:7878".parse()?, "sqlite:///var/lib/chittysync/hub.db");
//! let token = chittysync_hub::tokens::create(&config.database_url, "me").await?;
//! println!("{token}");
//! // Any future serves as the shutdown signal: ctrl-c, SIGTERM, a channel.
//! serve(config, std::future::pending()).await
//! # }
//! ```
//!
//! Layout: [`server`] starts and stops; `routes` is the HTTP surface (with
//! `auth`, `ws`, `metrics`, `openapi` beside it); `views` computes what the
//! views show; `store` is the storage trait and its SQLite and PostgreSQL
//! backends; [`api`] holds the bodies shared with [`client`].

#![forbid(unsafe_code)]

mod auth;
mod error;
mod limits;
mod metrics;
mod openapi;
mod routes;
pub mod server;
mod store;
pub mod tokens;
mod views;
mod ws;

// The client and the wire types live apart from the server (crates/hubclient),
// so the daemon and the CLI talk to a hub without linking it; the server uses
// the same wire types and TLS set-up, and its tests the same client.
use chittysync_hubclient::{api, tls};
pub use server::{
    bind, serve, BoundHub, HubConfig, ServerTls, Timeouts, DEFAULT_LISTEN, DEFAULT_MAX_BODY_BYTES,
};
pub use store::StoreError;
