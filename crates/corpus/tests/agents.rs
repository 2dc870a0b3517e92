//! A home mixing every agent's records, read back by the real readers (an
//! `Engine` over the home, as `chittysync consolidate --agents-home` runs it).

use chittysync_config::{Config, Locations};
use chittysync_corpus::{
    agent_dir, generate, generate_home, parse_agents, Agent, CorpusSpec, HomeStats, TranscriptSize,
};
use chittysync_engine::Engine;
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// A hash of every file's relative path, bytes and mtime.
fn tree_hash(dir: &Path) -> String {
    let mut h = Sha256::new();
    for p in files(dir) {
        h.update(p.strip_prefix(dir).unwrap().to_string_lossy().as_bytes());
        h.update(std::fs::read(&p).unwrap());
        let m = std::fs::metadata(&p).unwrap().modified().unwrap();
        h.update(format!("{m:?}").as_bytes());
    }
    hex::encode(h.finalize())
}

fn engine(root: &Path, home: &Path) -> Engine {
    let locations = Locations {
        claude_dir: root.join(".claude"),
        agents_home: Some(root.to_path_buf()),
        home: home.to_path_buf(),
        config: None,
    };
    Engine::open(&locations, &Config::default()).unwrap()
}

fn mixed(sessions: usize, seed: u64) -> CorpusSpec {
    CorpusSpec::new(sessions, seed).with_agents(parse_agents("all").unwrap())
}

/// The sessions with a list in OpenCode's database.
fn opencode_sessions_with_lists(root: &Path) -> u64 {
    let db = agent_dir(root, Agent::OpenCode).join("opencode.db");
    let flags = rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY;
    let conn = rusqlite::Connection::open_with_flags(db, flags).unwrap();
    conn.query_row("SELECT COUNT(DISTINCT session_id) FROM todo", [], |r| {
        r.get::<_, i64>(0).map(|n| n as u64)
    })
    .unwrap()
}

#[test]
fn every_agent_is_read_back_by_the_engine() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("home");
    let stats: HomeStats = generate_home(&root, &mixed(400, 11)).unwrap();
    assert_eq!(stats.total.sessions, 400);
    for agent in Agent::ALL {
        let n = stats.agents[agent.as_str()].sessions;
        // Spread evenly at random: 80 each, give or take.
        assert!((40..=130).contains(&n), "{agent}: {n} sessions");
    }
    // Each agent's files are where the agent keeps them.
    let rel: Vec<String> = files(&root)
        .iter()
        .map(|p| {
            p.strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    let under = |prefix: &str| rel.iter().filter(|p| p.starts_with(prefix)).count();
    assert!(under(".claude/todos/") > 0);
    assert!(rel
        .iter()
        .any(|p| p.starts_with(".codex/sessions/2026/") && p.ends_with(".jsonl")));
    assert!(rel
        .iter()
        .any(|p| p.starts_with(".codex/sessions/2026/") && p.ends_with(".jsonl.zst")));
    assert!(rel
        .iter()
        .any(|p| p.starts_with(".gemini/tmp/") && p.contains("/chats/session-")));
    assert!(rel.contains(&".gemini/projects.json".to_string()));
    assert!(under(".qwen/todos/") > 0);
    assert!(rel
        .iter()
        .any(|p| p.starts_with(".qwen/projects/") && p.contains("/chats/")));
    assert!(rel.contains(&".local/share/opencode/opencode.db".to_string()));

    // Counted first: a reader of a WAL database leaves `-wal` and `-shm` beside it.
    let opencode_lists = opencode_sessions_with_lists(&root);
    let home = tempfile::tempdir().unwrap();
    let mut engine = engine(&root, home.path());
    let report = engine.consolidate(false).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert_eq!(report.summary.files_skipped, 0);
    assert_eq!(report.skipped_entries, 0);
    assert_eq!(report.unknown_statuses, 0);

    let mut by_agent: BTreeMap<&str, u64> = BTreeMap::new();
    for s in engine.reader().sessions().unwrap() {
        *by_agent
            .entry(chittysync_core::agent::agent_of(&s.id))
            .or_default() += 1;
    }
    // Every rollout, chat and Qwen session is a session; OpenCode's are the
    // sessions with a list (the database is read by its lists).
    for agent in ["codex", "gemini", "qwen"] {
        assert_eq!(by_agent[agent], stats.agents[agent].sessions, "{agent}");
    }
    assert_eq!(by_agent["opencode"], opencode_lists);
    assert!(by_agent["opencode"] > 0);
    assert!(by_agent["claude"] >= stats.agents["claude"].sessions);

    // The agents share projects and todos: some todos were written by several.
    let todos: Value =
        serde_json::from_slice(&std::fs::read(home.path().join("todos.json")).unwrap()).unwrap();
    let mut shared = 0;
    let mut seen: BTreeSet<String> = BTreeSet::new();
    for t in todos["todos"].as_array().unwrap() {
        let agents = t["agents"].as_array().unwrap();
        for a in agents {
            seen.insert(a.as_str().unwrap().to_string());
        }
        if agents.len() >= 2 {
            shared += 1;
        }
    }
    assert_eq!(seen.len(), 5, "{seen:?}");
    assert!(shared >= 20, "only {shared} todos shared across agents");

    // Nothing changed: nothing is read again.
    let again = engine.consolidate(false).unwrap();
    assert_eq!(again.summary.files_changed, 0);
    assert_eq!(again.summary.observations, 0);
}

#[test]
fn same_seed_same_home() {
    let spec = mixed(120, 5).with_transcripts(TranscriptSize::Realistic {
        target_total_bytes: 2 << 20,
    });
    let tmp = tempfile::tempdir().unwrap();
    let a = generate_home(&tmp.path().join("a"), &spec).unwrap();
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let b = one
        .install(|| generate_home(&tmp.path().join("b"), &spec))
        .unwrap();
    assert_eq!(a, b);
    assert_eq!(
        tree_hash(&tmp.path().join("a")),
        tree_hash(&tmp.path().join("b"))
    );
    let c = generate_home(&tmp.path().join("c"), &CorpusSpec { seed: 6, ..spec }).unwrap();
    assert_ne!(a, c);
}

#[test]
fn claude_alone_is_the_claude_folder() {
    // Without other agents `generate` writes the Claude folder itself, and a
    // home of Claude alone holds the same files under `.claude`.
    let tmp = tempfile::tempdir().unwrap();
    let spec = CorpusSpec::new(60, 3);
    let folder = generate(&tmp.path().join("claude"), &spec).unwrap();
    let home = generate_home(&tmp.path().join("home"), &spec).unwrap();
    assert_eq!(home.total, folder);
    assert_eq!(home.agents.keys().collect::<Vec<_>>(), ["claude"]);
    assert_eq!(
        tree_hash(&tmp.path().join("claude")),
        tree_hash(&tmp.path().join("home/.claude"))
    );
}

#[test]
fn without_transcripts_the_plan_records_remain() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("home");
    let spec = mixed(150, 2).with_transcripts(TranscriptSize::None);
    let stats = generate_home(&root, &spec).unwrap();
    // Qwen keeps its todo files; the rollouts and chats hold the plans alone.
    assert_eq!(stats.agents["qwen"].transcripts, 0);
    assert!(stats.agents["qwen"].todo_files > 0);
    let home = tempfile::tempdir().unwrap();
    let report = engine(&root, home.path()).consolidate(false).unwrap();
    assert!(report.warnings.is_empty(), "{:?}", report.warnings);
    assert!(report.summary.observations > 0);
}
