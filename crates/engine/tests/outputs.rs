//! A long-lived engine keeps the outputs rendered per project and re-renders
//! only what changed, whoever changed it: its files must always equal the
//! files rendered from scratch from the same store.

mod common;

use chittysync_core::Timestamp;
use chittysync_engine::{Engine, HookEnv, HookInput};
use common::engine;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn write_task(claude: &Path, list: &str, id: &str, subject: &str, status: &str) -> PathBuf {
    let path = claude.join("tasks").join(list).join(format!("{id}.json"));
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let task = serde_json::json!({
        "id": id, "subject": subject, "description": "", "activeForm": subject,
        "status": status, "blocks": [], "blockedBy": []
    });
    std::fs::write(&path, task.to_string()).unwrap();
    path
}

/// The three output files, each without its first line (which holds the time
/// it was written).
fn output_bodies(engine: &Engine) -> Vec<String> {
    let paths = engine.outputs();
    [&paths.todos, &paths.coordination, &paths.conflicts]
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).unwrap();
            text.split_once('\n').unwrap().1.to_string()
        })
        .collect()
}

/// What `live` wrote equals what a fresh engine renders from the same store.
fn assert_matches_a_fresh_render(live: &Engine, claude: &Path, home: &Path) -> Vec<String> {
    let incremental = output_bodies(live);
    let mut fresh = engine(claude, home);
    fresh.write_outputs().unwrap();
    assert_eq!(incremental, output_bodies(&fresh));
    incremental
}

#[test]
fn outputs_re_rendered_per_project_equal_a_full_render() {
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    let home = dir.path().join("home");
    write_task(&claude, "alpha", "1", "Draft the plan", "completed");
    let alpha_2 = write_task(&claude, "alpha", "2", "Ship the plan", "in_progress");
    let beta_1 = write_task(&claude, "beta", "1", "Only beta task", "pending");
    write_task(&claude, "zeta", "1", "Zeta task", "pending");

    let mut live = engine(&claude, &home);
    let first = live.consolidate(false).unwrap();
    assert_eq!(first.summary.projects, 3);
    let bodies = assert_matches_a_fresh_render(&live, &claude, &home);
    assert!(bodies[0].contains("Only beta task"));

    // One project changes, one loses its only todo, one appears in between.
    write_task(&claude, "alpha", "2", "Ship the plan", "completed");
    write_task(&claude, "beta", "1", "Only beta task", "deleted");
    let gamma_1 = write_task(&claude, "gamma", "1", "Gamma task", "pending");
    // Around alpha's todos: one sorting before them, one after.
    let alpha_4 = write_task(&claude, "alpha", "4", "Aardvark the first", "pending");
    let alpha_5 = write_task(&claude, "alpha", "5", "Zebra the last", "in_progress");
    let report = live
        .consolidate_paths(&[alpha_2, beta_1, gamma_1, alpha_4, alpha_5])
        .unwrap();
    assert!(report.outputs_written);
    assert_eq!(report.summary.projects, 3, "alpha, gamma, zeta");
    assert_eq!(report.summary.unique_todos, 6);
    let bodies = assert_matches_a_fresh_render(&live, &claude, &home);
    assert!(!bodies[0].contains("Only beta task"));
    assert!(bodies[1].contains("\"project_name\": \"gamma\""));

    // Another process (a hook) changes the store; the live engine sees it.
    let mut hook = engine(&claude, &home);
    let payload = serde_json::json!({
        "session_id": "5e1f0c2a-0000-4000-8000-000000000001",
        "cwd": dir.path().join("work/delta").to_string_lossy(),
        "hook_event_name": "PostToolUse",
        "tool_name": "TodoWrite",
        "tool_input": {"todos": [{"content": "Delta todo", "status": "in_progress", "activeForm": "Doing delta"}]},
        "tool_response": {}
    });
    let env = HookEnv {
        now: Timestamp::now(),
        task_list: None,
        stale_after: Duration::from_secs(3600),
        plan_tools_on: true,
    };
    let input = HookInput::parse(payload.to_string().as_bytes()).unwrap();
    hook.hook_post_tool_use(&input, &env).unwrap();
    assert!(
        live.refresh_outputs().unwrap(),
        "the fold changed elsewhere"
    );
    let bodies = assert_matches_a_fresh_render(&live, &claude, &home);
    assert!(bodies[0].contains("Delta todo"));
    assert!(
        !live.refresh_outputs().unwrap(),
        "nothing changed since the last write"
    );
}

/// Files left in the home by unfinished atomic writes.
fn temporary_files(home: &Path) -> Vec<String> {
    std::fs::read_dir(home)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".tmp"))
        .collect()
}

#[test]
fn staged_outputs_change_nothing_until_published_and_never_replace_newer_ones() {
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    let home = dir.path().join("home");
    let task = write_task(&claude, "alpha", "1", "First task", "pending");
    let mut daemon = engine(&claude, &home);
    daemon.consolidate(false).unwrap();
    let todos_json = daemon.outputs().todos.clone();
    let before = std::fs::read_to_string(&todos_json).unwrap();

    write_task(&claude, "alpha", "1", "First task", "completed");
    let staged = daemon.stage_paths(std::slice::from_ref(&task)).unwrap();
    assert_eq!(
        std::fs::read_to_string(&todos_json).unwrap(),
        before,
        "staging leaves the outputs in place"
    );
    let report = daemon.publish(staged).unwrap();
    assert!(report.outputs_written);
    let published = std::fs::read_to_string(&todos_json).unwrap();
    assert!(published.contains("\"status\":\"completed\""));
    assert_eq!(temporary_files(&home), Vec::<String>::new());

    // Staged, then overtaken: another process publishes a newer fold first.
    let second = write_task(&claude, "alpha", "2", "Second task", "pending");
    let stale = daemon.stage_paths(std::slice::from_ref(&second)).unwrap();
    write_task(&claude, "alpha", "3", "Third task", "pending");
    let mut other = engine(&claude, &home);
    other.consolidate(false).unwrap();
    let newest = std::fs::read_to_string(&todos_json).unwrap();
    assert!(newest.contains("Third task"));
    let report = daemon.publish(stale).unwrap();
    assert!(
        !report.outputs_written,
        "older outputs never replace newer ones"
    );
    assert_eq!(std::fs::read_to_string(&todos_json).unwrap(), newest);

    // A superseded stage leaves no file behind either.
    write_task(&claude, "alpha", "2", "Second task", "completed");
    let superseded = daemon.stage_paths(std::slice::from_ref(&second)).unwrap();
    assert!(
        !temporary_files(&home).is_empty(),
        "staged beside the outputs"
    );
    drop(superseded.into_report());
    assert_eq!(temporary_files(&home), Vec::<String>::new());
}

#[test]
fn temporary_files_abandoned_by_killed_writers_are_removed_young_ones_kept() {
    let dir = tempfile::tempdir().unwrap();
    let abandoned = dir.path().join(".chittysync-abc123.tmp");
    let in_flight = dir.path().join(".chittysync-def456.tmp");
    let unrelated = dir.path().join("notes.tmp");
    for path in [&abandoned, &in_flight, &unrelated] {
        std::fs::write(path, "{").unwrap();
    }
    let an_hour_ago = std::time::SystemTime::now() - Duration::from_secs(3600);
    for path in [&abandoned, &unrelated] {
        let file = std::fs::File::options().write(true).open(path).unwrap();
        file.set_modified(an_hour_ago).unwrap();
    }
    let removed = chittysync_engine::remove_abandoned_temporaries(dir.path()).unwrap();
    assert_eq!(removed, 1);
    assert!(!abandoned.exists());
    assert!(
        in_flight.exists(),
        "another process may still be writing it"
    );
    assert!(unrelated.exists(), "not ours");
}

/// Writes `ids` of one task list, as (id, subject, status).
fn write_tasks(claude: &Path, list: &str, tasks: &[(&str, &str, &str)]) {
    for (id, subject, status) in tasks {
        write_task(claude, list, id, subject, status);
    }
}

#[test]
fn processes_that_run_once_copy_the_kept_entries_into_the_same_files() {
    let dir = tempfile::tempdir().unwrap();
    let claude = dir.path().join("claude");
    let home = dir.path().join("home");
    // A long-lived engine in a home of its own renders every run from
    // scratch: what the processes that run once must write, byte for byte.
    let reference_home = dir.path().join("reference");
    let once = || {
        let mut engine = engine(&claude, &home);
        engine.runs_once();
        engine.consolidate(false).unwrap();
        engine
    };
    let same_as_a_full_render = |once: &Engine| {
        let mut reference = engine(&claude, &reference_home);
        reference.consolidate(false).unwrap();
        reference.write_outputs().unwrap();
        assert_eq!(output_bodies(once), output_bodies(&reference));
    };
    let tasks: Vec<(String, String)> = (0..40)
        .map(|i| (i.to_string(), format!("Task number {i:02}")))
        .collect();
    let all: Vec<(&str, &str, &str)> = tasks
        .iter()
        .map(|(id, subject)| (id.as_str(), subject.as_str(), "pending"))
        .collect();
    write_tasks(&claude, "alpha", &all);
    write_tasks(&claude, "beta", &all[..5]);
    let first = once();
    same_as_a_full_render(&first);
    assert!(home.join("rendered.cache").exists(), "the blocks are kept");
    drop(first);

    // One status in the middle of a block: the entries around it are
    // copied from the previous todos.json. No conflict moved, so
    // conflicts.json is left as it was — the kept blocks were taken.
    let conflicts_before = inode(&home.join("conflicts.json"));
    write_task(&claude, "alpha", "17", "Task number 17", "in_progress");
    let second = once();
    same_as_a_full_render(&second);
    assert_eq!(inode(&home.join("conflicts.json")), conflicts_before);
    let todos = std::fs::read_to_string(&second.outputs().todos).unwrap();
    assert!(todos.contains("\"status\":\"in_progress\""));
    drop(second);

    // Run after run, each from the todos.json the last one wrote: a todo
    // sorting first, one last, one deleted, a longer entry, a new project.
    let changes: [(&str, &str, &str, &str); 5] = [
        ("alpha", "100", "Aardvark first", "pending"),
        ("alpha", "101", "Zebra last", "completed"),
        ("alpha", "3", "Task number 03", "deleted"),
        (
            "alpha",
            "20",
            "Task number 20, now with a much longer subject",
            "pending",
        ),
        ("gamma", "1", "Gamma's only task", "pending"),
    ];
    for (list, id, subject, status) in changes {
        write_task(&claude, list, id, subject, status);
        let run = once();
        same_as_a_full_render(&run);
    }
    // Two changes in one run, around kept entries on both sides.
    write_task(&claude, "alpha", "5", "Task number 05", "completed");
    write_task(&claude, "alpha", "30", "Task number 30", "completed");
    write_task(&claude, "beta", "2", "Task number 02", "in_progress");
    let last = once();
    same_as_a_full_render(&last);
}

fn inode(path: &Path) -> u64 {
    use std::os::unix::fs::MetadataExt;
    std::fs::metadata(path).unwrap().ino()
}
