//! The sync hub's client side, apart from the server (SPEC §10,
//! docs/HUB_API.md): the wire types both sides speak ([`api`], with their
//! OpenAPI [`schemas`]), the typed [`client`], and [`tls`] (rustls, shared
//! with the server). The daemon and the CLI talk to a hub through this crate
//! and do not link the server (`crates/hub`), which depends on it.

pub mod api;
pub mod client;
pub mod schemas;
pub mod tls;
