//! How long the MCP tools take on a large home (docs/BENCHMARKS.md, "MCP
//! server"): a store of `N` sessions (default 20,000) in 50 projects, three
//! todos each, then `plan_list` and `sessions` called as the server calls
//! them, 200 times each; prints p50 and p95. The stdio transport is not in
//! the numbers (one JSON line each way).
//!
//! `cargo run --release -p chittysync-mcp --example tools_at_scale [N]`

use chittysync_config::{Config, LocationOverrides, Locations};
use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_engine::views::{self, TodoFilter};
use chittysync_engine::Engine;
use chittysync_mcp::tools::{call, CallEnv};
use chittysync_mcp::Caller;
use chittysync_store::{SessionUpdate, Store, Via};
use std::time::Instant;

fn main() {
    let sessions: usize = std::env::args()
        .nth(1)
        .map(|n| n.parse().expect("N is a number"))
        .unwrap_or(20_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let locations = Locations::resolve(&LocationOverrides {
        claude_dir: Some(dir.path().join("claude")),
        agents_home: Some(dir.path().to_path_buf()),
        home: Some(dir.path().join("home")),
        config: None,
    });
    let config = Config::default();
    let now = Timestamp::now();
    let started = Instant::now();
    // The home is built in the store before the engine opens it, as a
    // consolidation of that many sessions would have left it.
    {
        let mut store = Store::open(&locations.store_path()).expect("store");
        let tx = store.begin().expect("tx");
        let mut batch = Vec::new();
        for i in 0..sessions {
            let session = format!("s{i:06}");
            let project = format!("p{:02}", i % 50);
            tx.update_session(&SessionUpdate {
                id: session.clone(),
                device: "bench".into(),
                cwd: Some(format!("/work/{project}")),
                project: Some(project.clone()),
                seen_from: Some(Timestamp(now.millis() - (i as i64) * 1000)),
                seen_to: Some(Timestamp(now.millis() - (i as i64) * 1000)),
                ..SessionUpdate::default()
            })
            .expect("session");
            for (k, status) in [Status::Completed, Status::InProgress, Status::Pending]
                .into_iter()
                .enumerate()
            {
                batch.push(Observation::new(
                    &project,
                    format!("task {} of session {i}", k),
                    None,
                    status,
                    session.clone(),
                    Some(session.clone()),
                    "bench",
                    Source::Mcp,
                    Timestamp(now.millis() - (i as i64) * 1000),
                ));
            }
        }
        tx.ingest(&batch, Via::Local).expect("ingest");
        tx.commit().expect("commit");
    }
    let mut engine = Engine::open(&locations, &config).expect("engine");
    println!(
        "home of {sessions} sessions, {} todos, built in {:?}",
        sessions * 3,
        started.elapsed()
    );
    let caller = Caller {
        session: "s000007".into(),
        identified_by: "CHITTYSYNC_SESSION",
        cwd: "/work/p07".into(),
        note: None,
    };
    let env = CallEnv {
        caller: &caller,
        project: "p07",
        stale_after_ms: 7 * 24 * 3600 * 1000,
        now,
    };
    for tool in ["plan_list", "sessions"] {
        let args = serde_json::Map::new();
        let times = timed(|| {
            let answer = call(&mut engine, &env, tool, &args)
                .expect("a tool")
                .expect("an answer");
            // What the server sends: the answer serialized.
            std::hint::black_box(answer.to_string());
        });
        println!("{tool}: {}", summary(&times));
    }
    // The baseline, in the same run: what the tools read before they read by
    // project — every folded todo (and every session), filtered afterwards.
    let store = engine.reader();
    let whole_todos = timed(|| {
        let filter = TodoFilter::default();
        let todos: Vec<_> = views::todo_entries(store, &filter)
            .expect("todos")
            .into_iter()
            .filter(|t| t.project == "p07")
            .collect();
        std::hint::black_box(serde_json::to_string(&todos).expect("json"));
    });
    println!(
        "baseline plan_list (whole store read): {}",
        summary(&whole_todos)
    );
    let whole_sessions = timed(|| {
        let todos = store.folded_todos().expect("todos");
        let list: Vec<_> = views::session_views(
            &todos,
            store.sessions().expect("sessions"),
            now,
            7 * 24 * 3600 * 1000,
        )
        .into_iter()
        .filter(|v| v.session.project.as_deref() == Some("p07"))
        .collect();
        std::hint::black_box(serde_json::to_string(&list).expect("json"));
    });
    println!(
        "baseline sessions (whole store read): {}",
        summary(&whole_sessions)
    );
}

/// 200 runs of `f`, sorted.
fn timed(mut f: impl FnMut()) -> Vec<std::time::Duration> {
    let mut times: Vec<_> = (0..200)
        .map(|_| {
            let t = Instant::now();
            f();
            t.elapsed()
        })
        .collect();
    times.sort();
    times
}

fn summary(times: &[std::time::Duration]) -> String {
    format!(
        "p50 {:?}, p95 {:?}, max {:?}",
        times[times.len() / 2],
        times[times.len() * 95 / 100],
        times[times.len() - 1]
    )
}
