//! Cross-device latency through the hub, without the debounce: a todo file
//! written in home A's Claude folder → A consolidates and pushes → the hub
//! tells B over its WebSocket → B pulls, refolds and rewrites `todos.json` →
//! the todo is in B's `todos.json`. Hub on SQLite, loopback, all in one
//! process but each home on its own thread with its own store.
//!
//! `cargo bench -p chittysync-hubsync --bench latency [-- ITERATIONS [--postgres]]`

#[path = "../tests/common/mod.rs"]
mod common;

use chittysync_hubsync::LiveHub;
use common::{token, Home, TestDb, TestHub};
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let iterations: usize = args.iter().find_map(|a| a.parse().ok()).unwrap_or(50);
    let postgres = args.iter().any(|a| a == "--postgres");
    let db = if postgres {
        TestDb::postgres()
    } else {
        TestDb::sqlite()
    };
    let hub = TestHub::start_any(&db.url);
    let token = token(&db.url, "bench");
    let mut a = Home::new("A", &hub.url, &token);
    let b = Home::new("B", &hub.url, &token);
    let b_todos = b.engine.outputs().todos.clone();

    // B as the daemon runs it: its own thread, woken by the hub's WebSocket.
    let (wake_tx, wakes) = mpsc::channel::<Option<()>>();
    let stop_tx = wake_tx.clone();
    let b_thread = std::thread::spawn(move || {
        let mut b = b;
        let mut live = LiveHub::start(&b.config, &b.locations, move || {
            let _ = wake_tx.send(Some(()));
        })
        .expect("hub link")
        .expect("configured");
        let _ = live.sync(&mut b.engine);
        let mut syncs = 0u64;
        while let Ok(Some(())) = wakes.recv() {
            if let Err(e) = live.sync(&mut b.engine) {
                eprintln!("B: {e}");
            }
            syncs += 1;
        }
        syncs
    });
    std::thread::sleep(Duration::from_millis(500));

    let mut a_hub = a.hub();
    let warmup = 5;
    let mut total = Vec::with_capacity(iterations);
    let mut a_side = Vec::with_capacity(iterations);
    for i in 0..warmup + iterations {
        let content = format!("bench todo {i}");
        let started = Instant::now();
        a.write_todos(&format!("bench-{i}"), &[(&content, "in_progress")]);
        a.engine.consolidate(false).expect("A consolidates");
        let report = a_hub.sync_once(&mut a.engine).expect("A pushes");
        assert_eq!(report.pushed, 1);
        let pushed = started.elapsed();
        let needle = format!("\"content\":\"{content}\"");
        let needle_spaced = format!("\"content\": \"{content}\"");
        loop {
            if let Ok(text) = std::fs::read_to_string(&b_todos) {
                if text.contains(&needle) || text.contains(&needle_spaced) {
                    break;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "B never saw {content}"
            );
            std::thread::sleep(Duration::from_micros(200));
        }
        if i >= warmup {
            total.push(started.elapsed());
            a_side.push(pushed);
        }
    }
    let _ = stop_tx.send(None);
    let syncs = b_thread.join().unwrap();

    println!(
        "cross-device latency, hub on {}, {iterations} iterations (after {warmup} warm-up), B synced {syncs} times",
        if postgres { "PostgreSQL" } else { "SQLite" }
    );
    println!(
        "| file written on A → todo in B's todos.json | {} |",
        figures(&mut total)
    );
    println!(
        "| of which A: consolidate + push (acknowledged) | {} |",
        figures(&mut a_side)
    );
}

/// `p50 | p99 | max` in milliseconds.
fn figures(samples: &mut [Duration]) -> String {
    samples.sort();
    let at = |q: f64| {
        let i = ((samples.len() as f64 - 1.0) * q).round() as usize;
        samples[i].as_secs_f64() * 1000.0
    };
    format!("{:.1} ms | {:.1} ms | {:.1} ms", at(0.5), at(0.99), at(1.0))
}
