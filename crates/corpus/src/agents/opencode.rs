//! OpenCode (v1.2 and later): one SQLite database,
//! `<data dir>/opencode.db`, in WAL mode. Tables as OpenCode's first
//! migration creates them (the statements are those of
//! crates/sources/tests/opencode.rs); a session's plan is its rows in `todo`,
//! replaced whole on every `todowrite`, so the database holds each session's
//! last list, stamped with the time of that write.

use super::{lists, prompt, stream_of};
use crate::claude::{Session, St, World};
use crate::rng::RngExt;
use crate::CorpusStats;
use anyhow::{Context, Result};
use rand::Rng as _;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::path::Path;

/// The tables a 1.2 database holds that chittysync reads.
const SCHEMA_V12: &str = include_str!("../../../sources/testdata/opencode-1.2-schema.sql");

const VERSIONS: &[&str] = &["1.2.6", "1.2.15", "1.2.24"];
const ADJECTIVES: &[&str] = &[
    "brave", "quiet", "swift", "calm", "misty", "bright", "gentle", "bold",
];
const NOUNS: &[&str] = &[
    "otter", "harbor", "falcon", "meadow", "river", "comet", "forest", "canyon",
];

/// One session's rows.
pub(crate) struct SessionRows {
    id: String,
    project: usize,
    slug: String,
    title: String,
    version: &'static str,
    created: i64,
    updated: i64,
    /// (content, status, priority); all stamped `updated`.
    todos: Vec<(String, &'static str, &'static str)>,
}

/// Plans session `s`'s rows (in parallel with the others; the database is
/// written once, in session order, by [`write_db`]).
pub(crate) fn plan(world: &World, s: &Session) -> SessionRows {
    let mut rng = stream_of(world, s);
    // Identifier.descending("session"): the low 48 bits of ~(time * 0x1000)
    // in hex, then 14 random base-62 characters.
    let descending = !(s.start.wrapping_mul(0x1000)) & ((1 << 48) - 1);
    let id = rng.base62_id(&format!("ses_{descending:012x}"), 14);
    let version = *rng.pick(VERSIONS);
    let slug = format!("{}-{}", rng.pick(ADJECTIVES), rng.pick(NOUNS));
    let title = prompt(s, 0)
        .split(['.', ','])
        .next()
        .unwrap_or_default()
        .chars()
        .take(60)
        .collect();
    let mut clock = s.start + rng.random_range(5_000..=60_000);
    let mut todos = Vec::new();
    for (k, list) in lists(s).iter().enumerate() {
        if k > 0 {
            clock += rng.random_range(20_000..=600_000);
        }
        // Each write stamps the rows; the database keeps the last.
        clock += list.states.len() as i64 * rng.random_range(20_000..=120_000);
        let last = list.states.last().expect("a list has writes");
        let cancel_rest = !list.finished() && rng.random_bool(0.1);
        todos = list
            .items
            .iter()
            .zip(last)
            .map(|(item, &st)| {
                let status = match st {
                    St::Pending if cancel_rest => "cancelled",
                    _ => st.as_str(),
                };
                (item.content.clone(), status, item.priority)
            })
            .collect();
    }
    SessionRows {
        id,
        project: s.project,
        slug,
        title,
        version,
        created: s.start,
        updated: clock,
        todos,
    }
}

/// OpenCode names a git project by its root commit.
fn project_id(cwd: &str) -> String {
    let digest = Sha256::digest(format!("root commit of {cwd}").as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// Writes `<data_dir>/opencode.db` holding `sessions`, in their order.
pub(crate) fn write_db(
    data_dir: &Path,
    world: &World,
    sessions: &[SessionRows],
) -> Result<CorpusStats> {
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("creating {}", data_dir.display()))?;
    let path = data_dir.join("opencode.db");
    let mut conn = rusqlite::Connection::open(&path)
        .with_context(|| format!("creating {}", path.display()))?;
    conn.pragma_update(None, "journal_mode", "wal")?;
    conn.execute_batch(SCHEMA_V12)?;
    let tx = conn.transaction()?;
    let mut raw_todos = 0u64;
    let mut last = crate::WINDOW_START_MS;
    {
        // Each project once, created with its first session.
        let mut projects: BTreeMap<usize, (i64, i64)> = BTreeMap::new();
        for s in sessions {
            let span = projects.entry(s.project).or_insert((s.created, s.updated));
            span.0 = span.0.min(s.created);
            span.1 = span.1.max(s.updated);
        }
        let mut insert = tx.prepare(
            "INSERT INTO project (id, worktree, vcs, name, time_created, time_updated, sandboxes) VALUES (?1, ?2, 'git', NULL, ?3, ?4, '[]')",
        )?;
        for (&p, &(created, updated)) in &projects {
            let cwd = &world.projects[p].cwd;
            insert.execute(rusqlite::params![project_id(cwd), cwd, created, updated])?;
        }
        let mut session = tx.prepare(
            "INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, time_created, time_updated) VALUES (?1, ?2, NULL, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?;
        let mut todo = tx.prepare(
            "INSERT INTO todo (session_id, content, status, priority, position, time_created, time_updated) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?6)",
        )?;
        for s in sessions {
            let cwd = &world.projects[s.project].cwd;
            session.execute(rusqlite::params![
                s.id,
                project_id(cwd),
                s.slug,
                cwd,
                s.title,
                s.version,
                s.created,
                s.updated
            ])?;
            for (position, (content, status, priority)) in s.todos.iter().enumerate() {
                todo.execute(rusqlite::params![
                    s.id,
                    content,
                    status,
                    priority,
                    position as i64,
                    s.updated
                ])?;
            }
            raw_todos += s.todos.len() as u64;
            last = last.max(s.updated);
        }
    }
    tx.commit()?;
    // The last connection checkpoints the WAL into the file and removes it.
    conn.close().map_err(|(_, e)| e)?;
    let f = std::fs::OpenOptions::new().write(true).open(&path)?;
    crate::claude::set_mtime(&f, last)?;
    let bytes = f.metadata()?.len();
    Ok(CorpusStats {
        sessions: sessions.len() as u64,
        files: 1,
        raw_todos,
        bytes,
        ..CorpusStats::default()
    })
}
