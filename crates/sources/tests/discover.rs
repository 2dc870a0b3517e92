mod common;

use chittysync_sources::{discover, SourceKind};
use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

fn touch(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

fn todo(session: &str, agent: Option<&str>) -> SourceKind {
    SourceKind::TodoFile {
        session: session.into(),
        agent: agent.map(Into::into),
    }
}

fn task(list: &str, id: &str) -> SourceKind {
    SourceKind::TaskFile {
        list: list.into(),
        task_id: id.into(),
    }
}

fn transcript(folder: &str, session: &str, agent: Option<&str>) -> SourceKind {
    SourceKind::Transcript {
        folder: folder.into(),
        session: session.into(),
        agent: agent.map(Into::into),
    }
}

#[test]
fn finds_all_three_kinds_and_ignores_the_rest() {
    let tmp = tempfile::tempdir().unwrap();
    let claude = tmp.path();
    // todos/
    touch(&claude.join("todos/s1-agent-s1.json"), b"[]");
    touch(&claude.join("todos/s1-agent-a7.json"), b"[{}]");
    touch(&claude.join("todos/s2.json"), b"");
    touch(&claude.join("todos/coordination.json"), b"{}"); // a candidate by name; its content decides
    touch(&claude.join("todos/NOTES.md"), b"# notes");
    touch(&claude.join("todos/sync.sh"), b"#!/bin/sh");
    touch(&claude.join("todos/.hidden.json"), b"[]");
    fs::create_dir_all(claude.join("todos/archive.json")).unwrap(); // a folder, even named .json
    fs::create_dir_all(claude.join("todos/old")).unwrap();
    // tasks/
    touch(&claude.join("tasks/s1/1.json"), b"{}");
    touch(&claude.join("tasks/s1/2.json"), b"{}");
    touch(&claude.join("tasks/s1/.lock"), b"");
    touch(&claude.join("tasks/s1/.highwatermark"), b"2");
    touch(&claude.join("tasks/s1/notes.txt"), b"");
    touch(&claude.join("tasks/team-alpha/7.json"), b"{}");
    touch(&claude.join("tasks/stray.json"), b"{}");
    // projects/
    let folder = "-home-me-work-api";
    let project = claude.join("projects").join(folder);
    touch(&project.join("s1.jsonl"), b"{}\n");
    touch(&project.join("s1/subagents/agent-a1b2c3.jsonl"), b"{}\n");
    touch(&project.join("s1/subagents/agent-a1b2c3.meta.json"), b"{}");
    touch(&project.join("s1/tool-results/toolu_1.txt"), b"big output");
    touch(&project.join("agent-9f8e7d6c.jsonl"), b"{}\n"); // 2.0.x sub-agent layout
    touch(&project.join("s2.jsonl"), b"");
    touch(&project.join("settings.json"), b"{}");
    touch(&claude.join("projects/loose.jsonl"), b"");
    fs::create_dir_all(claude.join("projects/empty-folder")).unwrap();

    let found = discover(claude);
    assert!(found.warnings.is_empty(), "{:?}", found.warnings);
    let kinds: Vec<(String, SourceKind)> = found
        .files
        .iter()
        .map(|f| {
            let rel = f.path.strip_prefix(claude).unwrap();
            (rel.to_string_lossy().into_owned(), f.kind.clone())
        })
        .collect();
    // Sorted by path bytes (so `s1.jsonl` before `s1/…`).
    let expected = vec![
        (
            format!("projects/{folder}/agent-9f8e7d6c.jsonl"),
            transcript(folder, "agent-9f8e7d6c", Some("9f8e7d6c")),
        ),
        (
            format!("projects/{folder}/s1.jsonl"),
            transcript(folder, "s1", None),
        ),
        (
            format!("projects/{folder}/s1/subagents/agent-a1b2c3.jsonl"),
            transcript(folder, "s1", Some("a1b2c3")),
        ),
        (
            format!("projects/{folder}/s2.jsonl"),
            transcript(folder, "s2", None),
        ),
        ("tasks/s1/1.json".into(), task("s1", "1")),
        ("tasks/s1/2.json".into(), task("s1", "2")),
        ("tasks/team-alpha/7.json".into(), task("team-alpha", "7")),
        ("todos/NOTES.md".into(), todo("NOTES.md", None)),
        ("todos/coordination.json".into(), todo("coordination", None)),
        ("todos/s1-agent-a7.json".into(), todo("s1", Some("a7"))),
        ("todos/s1-agent-s1.json".into(), todo("s1", None)),
        ("todos/s2.json".into(), todo("s2", None)),
        ("todos/sync.sh".into(), todo("sync.sh", None)),
    ];
    assert_eq!(kinds, expected);
    // todos: .hidden.json, archive.json/, old/ (other tools' files are
    // candidates, so their content can be named in a warning);
    // tasks: .lock, .highwatermark, notes.txt, stray.json;
    // projects: agent-a1b2c3.meta.json, settings.json, loose.jsonl.
    assert_eq!(found.ignored, 10);

    let s1 = found
        .files
        .iter()
        .find(|f| f.path.ends_with("s1.jsonl"))
        .unwrap();
    assert_eq!(s1.size, 3);
    let mtime = fs::metadata(&s1.path).unwrap().modified().unwrap();
    let expected_ms = mtime
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    assert_eq!(s1.mtime_ms, expected_ms);
}

#[test]
fn missing_folders_are_normal() {
    let tmp = tempfile::tempdir().unwrap();
    let found = discover(tmp.path());
    assert!(found.files.is_empty());
    assert!(found.warnings.is_empty());
    assert_eq!(found.ignored, 0);

    touch(&tmp.path().join("todos/s.json"), b"[]");
    let found = discover(tmp.path());
    assert_eq!(found.files.len(), 1);
    assert!(found.warnings.is_empty());
}

#[test]
fn missing_claude_dir_is_one_warning_naming_it() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("no-such-claude");
    let found = discover(&missing);
    assert!(found.files.is_empty());
    assert_eq!(found.warnings.len(), 1);
    assert_eq!(found.warnings[0].path, missing);
    assert!(found.warnings[0].to_string().contains("does not exist"));

    let file = tmp.path().join("a-file");
    touch(&file, b"");
    let found = discover(&file);
    assert_eq!(found.warnings.len(), 1);
    assert!(found.warnings[0].message.contains("not a folder"));
}

#[test]
fn unreadable_folder_is_a_warning_and_the_rest_is_scanned() {
    let tmp = tempfile::tempdir().unwrap();
    let claude = tmp.path();
    touch(&claude.join("todos/s1.json"), b"[]");
    touch(&claude.join("tasks/s1/1.json"), b"{}");
    let locked = claude.join("todos");
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let denied = fs::read_dir(&locked).is_err();
    let found = discover(claude);
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o755)).unwrap();

    assert!(found
        .files
        .iter()
        .any(|f| f.path.ends_with("tasks/s1/1.json")));
    if denied {
        assert_eq!(found.warnings.len(), 1, "{:?}", found.warnings);
        assert_eq!(found.warnings[0].path, locked);
        assert!(found.warnings[0].message.contains("ermission denied"));
        assert_eq!(found.files.len(), 1);
    } else {
        // Running as root: the folder stays readable, so there is nothing to
        // warn about; the scan must simply not break.
        assert!(found.warnings.is_empty());
        assert_eq!(found.files.len(), 2);
    }
}

#[test]
fn symlinked_sources_are_followed() {
    let tmp = tempfile::tempdir().unwrap();
    let claude = tmp.path().join("claude");
    let elsewhere = tmp.path().join("elsewhere");
    touch(&elsewhere.join("real.json"), b"[]");
    touch(&elsewhere.join("list/1.json"), b"{}");
    fs::create_dir_all(claude.join("todos")).unwrap();
    fs::create_dir_all(claude.join("tasks")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("real.json"), claude.join("todos/s9.json")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("list"), claude.join("tasks/shared")).unwrap();
    std::os::unix::fs::symlink(elsewhere.join("gone.json"), claude.join("todos/s8.json")).unwrap();

    let found = discover(&claude);
    let kinds: Vec<&SourceKind> = found.files.iter().map(|f| &f.kind).collect();
    assert_eq!(kinds, [&task("shared", "1"), &todo("s9", None)]);
    assert_eq!(found.files[1].size, 2);
    // A dangling link is worth telling: someone meant it to be there.
    assert_eq!(found.warnings.len(), 1);
    assert!(found.warnings[0].path.ends_with("todos/s8.json"));
}

/// Discovery stats on every core (docs/ARCHITECTURE.md, "A re-run with
/// nothing changed"); what it finds, warns of and ignores, and in which order,
/// must not depend on how many threads did it.
#[test]
fn the_scan_is_the_same_on_one_thread_and_on_many() {
    let tmp = tempfile::tempdir().unwrap();
    let claude = tmp.path();
    for i in 0..600 {
        touch(&claude.join(format!("todos/s{i}.json")), b"[]");
    }
    for list in 0..80 {
        for task in 0..3 {
            touch(&claude.join(format!("tasks/l{list}/{task}.json")), b"{}");
        }
        touch(&claude.join(format!("tasks/l{list}/.lock")), b"");
    }
    for folder in 0..40 {
        for session in 0..5 {
            touch(
                &claude.join(format!("projects/-f{folder}/s{session}.jsonl")),
                b"",
            );
        }
        touch(
            &claude.join(format!("projects/-f{folder}/s0/subagents/agent-a.jsonl")),
            b"",
        );
    }
    // Links to nothing: each one a warning, spread over every part of the scan.
    for i in (0..600).step_by(50) {
        std::os::unix::fs::symlink("/nonexistent", claude.join(format!("todos/gone{i}.json")))
            .unwrap();
    }
    for list in (0..80).step_by(10) {
        std::os::unix::fs::symlink(
            "/nonexistent",
            claude.join(format!("tasks/l{list}/gone.json")),
        )
        .unwrap();
    }

    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| discover(claude))
    };
    let one = on(1);
    assert_eq!(one.files.len(), 600 + 80 * 3 + 40 * 6);
    assert_eq!(one.warnings.len(), 12 + 8, "{:?}", one.warnings);
    assert_eq!(one.ignored, 80);
    for threads in [2, 4, 7] {
        assert_eq!(on(threads), one, "{threads} threads");
    }
}
