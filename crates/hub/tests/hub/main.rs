//! The hub's integration tests, one binary: shared behaviour run against
//! SQLite and PostgreSQL, scale-out over two hubs on one PostgreSQL database,
//! and an ingest benchmark (ignored by default; run with `--ignored
//! --nocapture`).

#[macro_use]
mod common;
mod behaviour;
mod bench;
mod hostile;
mod many_subscribers;
mod postgres_tls;
mod scale_out;
mod websocket;
