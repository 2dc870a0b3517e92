//! Times the phases of reading the dashboard's picture from a store:
//! `cargo run --release -p chittysync-ui --example picture_phases -- <home>/store.db`
//! (docs/BENCHMARKS.md, "Dashboard").
use chittysync_engine::{FoldRow, ReadHandle};
use chittysync_ui::Todos;
use std::time::Instant;

fn main() {
    let path = std::env::args().nth(1).expect("a store path");
    let handle = ReadHandle::open_existing(std::path::Path::new(&path))
        .expect("a store")
        .expect("a store");
    let store = handle.reader();
    for _ in 0..3 {
        let t = Instant::now();
        let sessions = store.sessions().unwrap();
        let spawns = store.spawns().unwrap();
        let sessions_ms = t.elapsed();

        let t = Instant::now();
        let stored = store.folded_todos().unwrap();
        let old_rows = t.elapsed();
        let entries: Vec<_> = stored.iter().map(|s| s.entry().unwrap()).collect();
        let old_parse = t.elapsed() - old_rows;
        let conflicts = chittysync_engine::views::conflicts(store).unwrap();
        let old_total = t.elapsed();

        let t = Instant::now();
        let rows = store.fold_rows().unwrap();
        let new_rows = t.elapsed();
        let bytes: usize = rows.iter().map(|r| r.entry_json.len()).sum();
        let parsed: Vec<_> = rows
            .into_iter()
            .map(|r| FoldRow::parse(r).unwrap())
            .collect();
        let new_parse = t.elapsed() - new_rows;
        let n = parsed.len();
        let todos = Todos::new(parsed);
        let new_total = t.elapsed();
        let index = new_total - new_rows - new_parse;

        let t = Instant::now();
        let generation = store.fold_generation().unwrap();
        let changed = store
            .fold_rows_changed_since(generation.saturating_sub(1))
            .unwrap();
        let changed: Vec<_> = changed.into_iter().map(|r| r.parse().unwrap()).collect();
        let k = changed.len();
        let read = t.elapsed();
        let t = Instant::now();
        let mut updated = todos.clone();
        let clone = t.elapsed();
        let t = Instant::now();
        updated.apply(changed);
        let apply = t.elapsed();

        println!(
            "sessions+spawns {} {:.0?} | old: {} rows {:.0?}, parse {:.0?}, conflicts {} again {:.0?}, total {:.0?} | new: rows {:.0?} ({} MB of entries), parse {:.0?}, index {:.0?}, total {:.0?} | incremental: {} changed rows read {:.0?}, apply {:.0?} (a copy of the todos, when a page holds them: {:.0?})",
            sessions.len() + spawns.len(), sessions_ms,
            stored.len(), old_rows, old_parse, conflicts.len(), old_total - old_rows - old_parse, old_total,
            new_rows, bytes / 1_000_000, new_parse, index, new_total,
            k, read, apply, clone,
        );
        assert_eq!(entries.len(), n);
        drop(stored);
    }
}
