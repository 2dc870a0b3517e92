//! Ingest throughput through the real HTTP API, in batches of 1,000, and the
//! time to serve the fold afterwards.
//!
//! Ignored by default (it measures, it does not check). Run:
//! `cargo test -p chittysync-hub --release --test hub -- --ignored --nocapture bench`

use crate::common::{now_ms, obs, token, Backend, TestDb, TestHub};
use chittysync_core::{Observation, Status};
use std::time::Instant;

const BATCH: usize = 1000;
const BATCHES: usize = 30;

/// The shape of the observations pushed.
#[derive(Debug, Clone, Copy)]
enum Workload {
    /// As sessions write: 100 sessions, each rewriting its list of 20 todos
    /// (two of them shared with a neighbour session) as statuses progress;
    /// many observations per observer, few observers per todo.
    Sessions,
    /// Worst case for the fold tables: 2,000 todos, and nearly every
    /// observation from an observer that had not seen its todo yet.
    ManyObservers,
}

fn observation(workload: Workload, b: usize, i: usize, t0: i64) -> Observation {
    let at = t0 + (b * BATCH + i) as i64;
    let status = |n: usize| [Status::Pending, Status::InProgress, Status::Completed][n % 3];
    match workload {
        Workload::Sessions => {
            let session = (b * 10 + i / 100) % 100;
            let todo = i % 20;
            let write = (i % 100) / 20 + b;
            let content = if todo < 2 {
                format!("shared todo {}-{todo}", session / 2)
            } else {
                format!("session {session} todo {todo}")
            };
            let project = format!("project-{}", session % 10);
            obs(
                &project,
                &content,
                status(write + todo),
                &format!("session-{session}"),
                at,
            )
        }
        Workload::ManyObservers => {
            let todo = (b * 37 + i) % 2000;
            let session = format!("session-{}", (b + i) % 50);
            let project = format!("project-{}", todo % 10);
            obs(
                &project,
                &format!("todo number {todo}"),
                status(i),
                &session,
                at,
            )
        }
    }
}

async fn ingest(backend: Backend, workload: Workload) {
    let db = TestDb::new(backend);
    let token = token(&db.url, "bench").await;
    let hub = TestHub::start(&db.url).await;
    let client = hub.client(&token);
    let t0 = now_ms();
    let mut rates = Vec::with_capacity(BATCHES);
    for b in 0..BATCHES {
        let batch: Vec<_> = (0..BATCH)
            .map(|i| observation(workload, b, i, t0))
            .collect();
        let start = Instant::now();
        let answer = client.push("bench", &batch).await.unwrap();
        let elapsed = start.elapsed().as_secs_f64();
        assert_eq!(answer.accepted, BATCH as u64);
        rates.push(BATCH as f64 / elapsed);
    }
    // The fold as served, median of five.
    let mut fold_ms = Vec::new();
    let mut todos = 0;
    for _ in 0..5 {
        let start = Instant::now();
        todos = client.todos().await.unwrap().todos.len();
        fold_ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    rates.sort_by(f64::total_cmp);
    fold_ms.sort_by(f64::total_cmp);
    println!(
        "{backend:?} {workload:?}: ingest {BATCHES} batches of {BATCH}: median {:.0} obs/s \
         (min {:.0}, max {:.0}); GET /api/todos after {} observations ({todos} todos): \
         median {:.1} ms",
        rates[BATCHES / 2],
        rates[0],
        rates[BATCHES - 1],
        BATCHES * BATCH,
        fold_ms[2],
    );
    hub.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_ingest_sqlite() {
    ingest(Backend::Sqlite, Workload::Sessions).await;
    ingest(Backend::Sqlite, Workload::ManyObservers).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "benchmark: run with --ignored --nocapture"]
async fn bench_ingest_postgres() {
    ingest(Backend::Postgres, Workload::Sessions).await;
    ingest(Backend::Postgres, Workload::ManyObservers).await;
}
