//! The sync hub's client side, apart from the server
//! docs/HUB_API.md): the wire types both sides speak ([`api`], with their
//! OpenAPI [`schemas`]), the typed [`client`], and [`tls`] (rustls, shared
//! with the server). The daemon and the CLI talk to a hub through this crate
//! and do not link the server (`crates/hub`), which depends on it.

#![forbid(unsafe_code)]

pub mod api;
pub mod client;
pub mod schemas;
pub mod tls;
