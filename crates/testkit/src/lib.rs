//! Real parts for the tests of several chittysync crates, written once.
//!
//! The hub's tests, its client's (`chittysync-hubsync`) and the git sync's
//! each need the same few things, and each had its own copy of them:
//!
//! - [`TestDb`]: a hub database that exists for one test — a SQLite file in a
//!   temporary folder, or a throwaway database on the real PostgreSQL server,
//!   created for the test and dropped after it (hub, hubsync).
//! - [`bulk_observations`] and [`store_local`]: many observations stored at
//!   once, as a big consolidation would store them (hubsync, gitsync).
//!
//! Dev-only: a `[dev-dependencies]` entry of those crates, never published.
//! It depends on no crate that uses it, so each test links one copy of the
//! crate it tests. What only one crate's tests need stays in that crate's
//! `tests/common`.

#![forbid(unsafe_code)]

mod database;
mod observations;

pub use database::{Backend, TestDb};
pub use observations::{bulk_observations, store_local};
