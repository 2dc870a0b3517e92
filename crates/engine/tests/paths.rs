//! Consolidating only the paths a watcher named gives what a full run gives.

mod common;

use chittysync_engine::Engine;
use common::engine;

fn list(items: &[(&str, &str)]) -> String {
    let items: Vec<_> = items
        .iter()
        .map(|(c, s)| serde_json::json!({"content": c, "status": s, "activeForm": c}))
        .collect();
    serde_json::to_string(&items).unwrap()
}

fn todos(engine: &Engine) -> Vec<String> {
    engine
        .reader()
        .folded_todos()
        .unwrap()
        .into_iter()
        .map(|t| format!("{} {}", t.entry().unwrap().content, t.status))
        .collect()
}

#[test]
fn only_the_named_paths_are_read_and_the_fold_matches_a_full_run() {
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    std::fs::create_dir_all(claude.join("todos")).unwrap();
    let a = claude.join("todos/a-agent-a.json");
    let b = claude.join("todos/b-agent-b.json");
    std::fs::write(&a, list(&[("Alpha", "pending")])).unwrap();
    std::fs::write(&b, list(&[("Beta", "pending")])).unwrap();
    let mut watched = engine(&claude, &dir.path().join("home"));
    watched.consolidate(false).unwrap();

    std::fs::write(&a, list(&[("Alpha", "completed")])).unwrap();
    let c = claude.join("todos/c-agent-c.json");
    std::fs::write(&c, list(&[("Gamma", "in_progress")])).unwrap();
    std::fs::remove_file(&b).unwrap();
    let named = [
        a.clone(),
        c.clone(),
        b.clone(),
        a.clone(),
        claude.join("settings.json"),
    ];
    let report = watched.consolidate_paths(&named).unwrap();
    assert_eq!(
        report.summary.files_scanned, 2,
        "a and c; b is gone, settings.json is no source"
    );
    assert_eq!(report.summary.files_changed, 2);
    assert_eq!(report.summary.observations, 2);
    assert!(report.outputs_written);
    // The file index is the engine's own bookkeeping: read from the store itself.
    let index = chittysync_store::Store::open(&dir.path().join("home").join("chittysync.db"))
        .unwrap()
        .file_index()
        .unwrap();
    assert!(
        !index.contains_key(&*b.to_string_lossy()),
        "a vanished file is forgotten"
    );

    let mut full = engine(&claude, &dir.path().join("home-full"));
    full.consolidate(false).unwrap();
    let mut expected = todos(&full);
    expected.push("Beta pending".to_string()); // b's todo is kept: nothing is lost
    expected.sort();
    let mut got = todos(&watched);
    got.sort();
    assert_eq!(got, expected);

    let again = watched.consolidate_paths(&[a]).unwrap();
    assert_eq!(
        again.summary.files_changed, 0,
        "unchanged since the last read"
    );
}
