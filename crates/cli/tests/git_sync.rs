//! Git sync end to end through the real binary: devices converging through a
//! bare repository, the merge driver under a real `git merge`, an unreachable
//! remote, `todos --as-of` and `rollback`.

mod common;

use common::git_daemon::GitDaemon;
use common::{todo_list, Sandbox};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// A sandbox whose config names the device (and adds `extra`).
fn device(name: &str, extra: &str) -> Sandbox {
    let sb = Sandbox::new();
    std::fs::write(
        sb.home().join("config.toml"),
        format!("device = \"{name}\"\n{extra}"),
    )
    .unwrap();
    sb
}

/// Runs the git CLI (to build scenarios; chittysync itself uses libgit2).
fn git(dir: &Path, args: &[&str], home: Option<&Path>) -> Output {
    let mut cmd = Command::new("git");
    cmd.current_dir(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.com")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.com")
        .env_remove("CHITTYSYNC_HOME");
    if let Some(home) = home {
        cmd.env("CHITTYSYNC_HOME", home);
    }
    cmd.output().expect("run git")
}

fn git_ok(dir: &Path, args: &[&str]) -> String {
    let out = git(dir, args, None);
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn bare_remote(root: &Path) -> PathBuf {
    let path = root.join("remote.git");
    git_ok(root, &["init", "-q", "--bare", "-b", "main", "remote.git"]);
    path
}

fn read(path: &Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn json_file(path: &Path) -> Value {
    serde_json::from_slice(&read(path)).unwrap()
}

#[test]
fn two_devices_syncing_concurrently_converge_without_losing_anything() {
    const ROUNDS: usize = 8;
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let url = remote.to_str().unwrap();
    let devices = [device("laptop", ""), device("desktop", "")];
    for d in &devices {
        d.ok(&["git", "init", "--remote", url]);
    }
    let statuses = ["pending", "in_progress", "completed"];
    let written: usize = std::thread::scope(|scope| {
        let handles: Vec<_> = devices
            .iter()
            .zip(["laptop", "desktop"])
            .map(|(d, name)| {
                scope.spawn(move || {
                    let mut written = 0;
                    let list = |round: usize, shift: usize| {
                        todo_list(&[
                            ("Shared plan", statuses[(round + shift) % 3]),
                            (&format!("{name} task {round}"), statuses[shift % 3]),
                            (&format!("{name} extra {round}"), "pending"),
                        ])
                    };
                    for round in 0..ROUNDS {
                        let file = |r: usize| format!("todos/{name}-{r}-agent-{name}-{r}.json");
                        d.write(&file(round), list(round, 0));
                        written += 3;
                        if round > 0 {
                            d.write(&file(round - 1), list(round - 1, 1));
                            written += 3;
                        }
                        // `sync` consolidates first, then pulls, commits and pushes.
                        d.ok(&["sync"]);
                    }
                    written
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).sum()
    });
    for d in [&devices[0], &devices[1], &devices[0], &devices[1]] {
        d.ok(&["sync"]);
    }

    let [a, b] = &devices;
    for d in &devices {
        let status = d.json(&["status"]);
        assert_eq!(status["store"]["observations"], written as u64, "{status}");
        assert_eq!(status["git"]["ahead"], 0);
    }
    let (repo_a, repo_b) = (a.home().join("git"), b.home().join("git"));
    assert_eq!(
        git_ok(&repo_a, &["rev-parse", "HEAD"]),
        git_ok(&repo_b, &["rev-parse", "HEAD"])
    );
    for file in ["todos.json", "project-coordination.json"] {
        assert_eq!(read(&repo_a.join(file)), read(&repo_b.join(file)), "{file}");
    }
    // The home outputs hold the same fold (their generated_at is the clock's).
    let todos_a = json_file(&a.home().join("todos.json"))["todos"].clone();
    assert_eq!(todos_a, json_file(&b.home().join("todos.json"))["todos"]);
    assert_eq!(todos_a, json_file(&repo_a.join("todos.json"))["todos"]);
    let shared = todos_a
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["content"] == "Shared plan")
        .unwrap();
    let sessions = shared["sessions"].as_array().unwrap();
    assert!(sessions
        .iter()
        .any(|s| s.as_str().unwrap().starts_with("laptop")));
    assert!(sessions
        .iter()
        .any(|s| s.as_str().unwrap().starts_with("desktop")));
    // Every observation is in exactly one device's log.
    let logged: usize = ["laptop", "desktop"]
        .iter()
        .flat_map(|d| std::fs::read_dir(repo_a.join("devices").join(d)).unwrap())
        .map(|f| {
            read(&f.unwrap().path())
                .split(|&c| c == b'\n')
                .filter(|l| !l.is_empty())
                .count()
        })
        .sum();
    assert_eq!(logged, written);
    let text = String::from_utf8(read(&repo_a.join("todos.json"))).unwrap();
    assert!(!text.contains("<<<<<<<") && !text.contains(">>>>>>>"));
}

#[test]
fn an_unreachable_remote_queues_commits_and_status_shows_them() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let sb = device("laptop", "");
    sb.ok(&["git", "init", "--remote", remote.to_str().unwrap()]);
    sb.write("todos/s1.json", todo_list(&[("First", "pending")]));
    sb.ok(&["sync"]);

    let away = root.path().join("elsewhere.git");
    std::fs::rename(&remote, &away).unwrap();
    sb.write("todos/s2.json", todo_list(&[("Second", "pending")]));
    let out = sb.run(&["sync"]);
    assert!(out.status.success(), "local work never fails on the remote");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unreachable") && stderr.contains("1 commit wait"),
        "{stderr}"
    );
    let status = sb.json(&["status"]);
    assert_eq!(status["git"]["ahead"], 1, "{status}");
    assert!(
        status["git"]["last_error"]["detail"].is_string(),
        "{status}"
    );
    assert!(sb.ok(&["status"]).contains("1 commit waiting"));

    std::fs::rename(&away, &remote).unwrap();
    let report = sb.json(&["sync"]);
    assert_eq!(report["pushed"], true, "{report}");
    assert_eq!(sb.json(&["status"])["git"]["ahead"], 0);
    let log = git_ok(&remote, &["log", "--format=%s", "main"]);
    assert!(
        log.starts_with("laptop: 1 new observation (general 1)"),
        "{log}"
    );
}

/// A repository holding `todos.json`, with the driver installed through the CLI.
fn merge_repo(sb: &Sandbox) -> PathBuf {
    let repo = sb.dir.path().join("project");
    std::fs::create_dir_all(&repo).unwrap();
    git_ok(&repo, &["init", "-q", "-b", "main"]);
    sb.ok(&[
        "git",
        "install-merge-driver",
        "--repo",
        repo.to_str().unwrap(),
    ]);
    repo
}

/// Commits `todos.json` on `main` (base), on `other` (theirs) and on `main` again
/// (ours), then merges `other` into `main` with the real git.
fn merge_versions(sb: &Sandbox, repo: &Path, base: &str, ours: &str, theirs: &str) -> Output {
    let commit = |text: &str, message: &str| {
        std::fs::write(repo.join("todos.json"), text).unwrap();
        git_ok(repo, &["add", "-A"]);
        git_ok(repo, &["commit", "-q", "-m", message]);
    };
    commit(base, "base");
    git_ok(repo, &["checkout", "-q", "-b", "other"]);
    commit(theirs, "theirs");
    git_ok(repo, &["checkout", "-q", "main"]);
    commit(ours, "ours");
    git(repo, &["merge", "other", "-m", "merge"], Some(&sb.home()))
}

fn document(todos: &[(&str, &str, &str)]) -> String {
    let items: Vec<String> = todos
        .iter()
        .map(|(content, status, at)| {
            format!(
                r#"{{"id": "", "content": "{content}", "status": "{status}", "project": "api", "sessions": [], "updated_at": "{at}"}}"#
            )
        })
        .collect();
    format!(
        "{{\"version\": 1, \"generated_at\": \"2026-01-01T00:00:00.000Z\",\n \"todos\": [\n  {}\n]}}\n",
        items.join(",\n  ")
    )
}

#[test]
fn a_real_git_merge_of_todos_json_goes_through_the_driver() {
    let sb = Sandbox::new();
    let repo = merge_repo(&sb);
    let t1 = "2026-01-01T00:00:00.000Z";
    let (t2, t3) = ("2026-01-02T00:00:00.000Z", "2026-01-03T00:00:00.000Z");
    let out = merge_versions(
        &sb,
        &repo,
        &document(&[
            ("Alpha", "pending", t1),
            ("Beta", "pending", t1),
            ("Gamma", "pending", t1),
        ]),
        &document(&[
            ("Alpha", "in_progress", t3),
            ("Beta", "pending", t1),
            ("Gamma", "completed", t3),
            ("Epsilon", "pending", t3),
        ]),
        &document(&[
            ("Alpha", "completed", t2),
            ("Beta", "in_progress", t2),
            ("Gamma", "pending", t1),
            ("Delta", "pending", t2),
        ]),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "git merge failed: {stderr}");
    assert!(
        stderr.contains(
            "\"Alpha\" [api]: ours in_progress, theirs completed → completed (completed-wins)"
        ),
        "{stderr}"
    );

    let text = String::from_utf8(read(&repo.join("todos.json"))).unwrap();
    assert!(!text.contains("<<<<<<<"), "{text}");
    assert!(text.starts_with(
        "{\"version\": 1, \"generated_at\": \"2026-01-01T00:00:00.000Z\",\n \"todos\": [\n"
    ));
    let merged: Value = serde_json::from_str(&text).unwrap();
    let summary: Vec<(String, String)> = merged["todos"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["content"].as_str().unwrap().into(),
                t["status"].as_str().unwrap().into(),
            )
        })
        .collect();
    let expected = [
        ("Alpha", "completed"),  // both changed: completed wins
        ("Beta", "in_progress"), // only theirs changed
        ("Delta", "pending"),    // only theirs has it
        ("Epsilon", "pending"),  // only ours has it
        ("Gamma", "completed"),  // only ours changed
    ];
    let expected: Vec<(String, String)> = expected
        .iter()
        .map(|(c, s)| (c.to_string(), s.to_string()))
        .collect();
    assert_eq!(summary, expected);
    assert!(git_ok(&repo, &["status", "--porcelain"]).is_empty());

    let conflicts = json_file(&sb.home().join("conflicts.json"));
    let recorded = conflicts["merge_conflicts"].as_array().unwrap();
    assert_eq!(recorded.len(), 1, "{conflicts}");
    assert_eq!(recorded[0]["content"], "Alpha");
    assert_eq!(recorded[0]["file"], "todos.json");
    assert_eq!(recorded[0]["rule"], "completed-wins");
    // Consolidation rewrites conflicts.json from the fold and keeps them.
    sb.ok(&["consolidate"]);
    assert_eq!(
        json_file(&sb.home().join("conflicts.json"))["merge_conflicts"],
        conflicts["merge_conflicts"]
    );
}

#[test]
fn the_driver_merges_seed_arrays_in_their_own_shape() {
    let sb = Sandbox::new();
    let repo = merge_repo(&sb);
    let out = merge_versions(
        &sb,
        &repo,
        r#"[{"content": "A", "status": "pending", "activeForm": "Doing A"}, {"content": "B", "status": "pending", "activeForm": "Doing B"}]"#,
        r#"[{"content": "B", "status": "completed", "activeForm": "Doing B"}, {"content": "A", "status": "pending", "activeForm": "Doing A"}, {"content": "Mine", "status": "pending", "activeForm": "Doing mine"}]"#,
        r#"[{"content": "A", "status": "in_progress", "activeForm": "Doing A"}, {"content": "B", "status": "in_progress", "activeForm": "Doing B"}, {"content": "Theirs", "status": "pending", "activeForm": "Doing theirs"}]"#,
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: Value = json_file(&repo.join("todos.json"));
    let expected = serde_json::json!([
        {"content": "B", "status": "completed", "activeForm": "Doing B"},
        {"content": "A", "status": "in_progress", "activeForm": "Doing A"},
        {"content": "Mine", "status": "pending", "activeForm": "Doing mine"},
        {"content": "Theirs", "status": "pending", "activeForm": "Doing theirs"}
    ]);
    assert_eq!(merged, expected);
}

#[test]
fn an_unreadable_side_is_left_to_git_as_a_conflict() {
    let sb = Sandbox::new();
    let repo = merge_repo(&sb);
    let out = merge_versions(
        &sb,
        &repo,
        "[]",
        r#"[{"content": "A", "status": "pending"}]"#,
        "not json at all",
    );
    assert!(!out.status.success(), "git must report the conflict");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("theirs (%B): not JSON"), "{stderr}");
}

/// Projects by keyword, so one Claude folder holds two projects.
const PROJECT_RULES: &str = r#"
[[project.keyword_rules]]
contains = "api:"
project = "api"
[[project.keyword_rules]]
contains = "web:"
project = "web"
"#;

/// What a view shows of each todo: (content, status, activeForm).
fn shown(todos: &[Value]) -> Vec<(Value, Value, Value)> {
    todos
        .iter()
        .map(|t| {
            (
                t["content"].clone(),
                t["status"].clone(),
                t["activeForm"].clone(),
            )
        })
        .collect()
}

fn pause() {
    std::thread::sleep(std::time::Duration::from_millis(30));
}

#[test]
fn rollback_to_a_time_restores_one_project_and_leaves_the_others() {
    let sb = device("laptop", PROJECT_RULES);
    sb.write(
        "todos/s1.json",
        todo_list(&[
            ("api: login", "pending"),
            ("api: logout", "in_progress"),
            ("web: page", "pending"),
        ]),
    );
    sb.ok(&["consolidate"]);
    pause();
    let then = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    pause();
    sb.write(
        "todos/s1.json",
        todo_list(&[
            ("api: login", "completed"),
            ("api: logout", "completed"),
            ("web: page", "completed"),
        ]),
    );
    sb.write(
        "todos/s2.json",
        todo_list(&[
            ("api: login", "in_progress"),
            ("api: signup", "pending"),
            ("web: footer", "pending"),
        ]),
    );
    sb.ok(&["consolidate"]);
    let before = sb.todos(&[]);
    let web_before = sb.todos(&["--project", "web"]);
    let api_then = sb.todos(&["--project", "api", "--as-of", &then]);
    assert_eq!(api_then.len(), 2);

    let dry = sb.json(&["rollback", "--to", &then, "--project", "api", "--dry-run"]);
    assert_eq!(dry["changes"].as_array().unwrap().len(), 3, "{dry}");
    assert_eq!(sb.todos(&[]), before, "a dry run changes nothing");

    let done = sb.json(&["rollback", "--to", &then, "--project", "api"]);
    // The same plan as the dry run (only the new observations' stamps differ).
    let plan = |v: &Value| -> Vec<(Value, Value, Value)> {
        v["changes"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| (c["id"].clone(), c["from"].clone(), c["to"].clone()))
            .collect()
    };
    assert_eq!(plan(&done), plan(&dry));
    assert_eq!(shown(&sb.todos(&["--project", "api"])), shown(&api_then));
    assert_eq!(
        sb.todos(&["--project", "web"]),
        web_before,
        "other projects untouched"
    );
    assert_eq!(
        sb.status_of("api: signup", &["--status", "deleted"])
            .as_deref(),
        Some("deleted")
    );

    // The restoring words are by the sessions that had spoken since, from the user.
    let history = sb.json(&["history", "api: login"]);
    let sources: Vec<&str> = history[0]["observations"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["source"].as_str().unwrap())
        .collect();
    assert_eq!(
        sources.iter().filter(|s| **s == "user").count(),
        2,
        "{history}"
    );

    let text = sb.ok(&["rollback", "--to", &then, "--project", "api"]);
    assert!(
        text.starts_with("Nothing to roll back in project api"),
        "{text}"
    );
}

#[test]
fn todos_as_of_a_commit_and_rollback_to_it() {
    let sb = device("laptop", "");
    sb.ok(&["git", "init"]);
    sb.write(
        "todos/s1.json",
        todo_list(&[("Plan", "pending"), ("Build", "pending")]),
    );
    let first = sb.json(&["sync"]);
    let commit = first["commit"].as_str().unwrap().to_string();
    pause();
    sb.write(
        "todos/s1.json",
        todo_list(&[("Plan", "completed"), ("Build", "in_progress")]),
    );
    sb.write("todos/s2.json", todo_list(&[("Later", "pending")]));
    sb.ok(&["sync"]);

    let at_commit = sb.todos(&["--as-of", &commit[..10]]);
    let statuses: Vec<(&str, &str)> = at_commit
        .iter()
        .map(|t| {
            (
                t["content"].as_str().unwrap(),
                t["status"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, vec![("Build", "pending"), ("Plan", "pending")]);

    sb.ok(&["rollback", "--to", &commit]);
    assert_eq!(shown(&sb.todos(&[])), shown(&at_commit));
    let report = sb.json(&["sync"]);
    assert_eq!(
        report["exported"], 3,
        "the rollback's observations are synced too"
    );

    let out = sb.run(&["todos", "--as-of", "no-such-thing"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a commit of the sync repository"));
}

/// Installs a hook in a bare repository.
fn hook(repo: &Path, name: &str, script: &str) {
    use std::os::unix::fs::PermissionsExt;
    let path = repo.join("hooks").join(name);
    std::fs::write(&path, script).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn a_push_the_remote_refuses_is_an_error_with_the_remotes_words() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let server = GitDaemon::start(root.path());
    let sb = device("laptop", "");
    sb.ok(&["git", "init", "--remote", &server.url("remote.git")]);
    sb.write("todos/s1.json", todo_list(&[("First", "pending")]));
    sb.ok(&["sync"]);

    hook(
        &remote,
        "pre-receive",
        "#!/bin/sh\necho 'main is frozen for the release (ask #ops)' >&2\nexit 1\n",
    );
    sb.write("todos/s2.json", todo_list(&[("Second", "pending")]));
    let out = sb.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    assert!(!stdout.contains("pushed"), "{stdout}");
    for words in [
        "main is frozen for the release (ask #ops)",
        "pre-receive hook declined",
        &server.url("remote.git"),
    ] {
        assert!(stderr.contains(words), "{words:?} missing: {stderr}");
    }
    let status = sb.json(&["status"]);
    let detail = status["git"]["last_error"]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("main is frozen"), "{status}");
    assert_eq!(status["git"]["ahead"], 1, "the commit waits: {status}");
    let text = String::from_utf8_lossy(&sb.run(&["status"]).stderr).to_string();
    assert!(text.contains("main is frozen"), "{text}");

    // The remote accepts again: the waiting commit goes, the error is cleared.
    std::fs::remove_file(remote.join("hooks/pre-receive")).unwrap();
    let report = sb.json(&["sync"]);
    assert_eq!(report["pushed"], true, "{report}");
    let status = sb.json(&["status"]);
    assert!(status["git"]["last_error"].is_null(), "{status}");
    assert_eq!(status["git"]["ahead"], 0);
}

/// Someone's own history, not written by chittysync, on a new bare remote
/// `root/<name>.git`: their README.md and a todos.json. Returns the remote and
/// the work repository that pushed it.
fn foreign_remote(root: &Path, name: &str) -> (PathBuf, PathBuf) {
    let bare = root.join(format!("{name}.git"));
    git_ok(
        root,
        &["init", "-q", "--bare", "-b", "main", bare.to_str().unwrap()],
    );
    let work = root.join(format!("{name}-work"));
    git_ok(root, &["init", "-q", "-b", "main", work.to_str().unwrap()]);
    std::fs::write(work.join("README.md"), "# Team notes\n").unwrap();
    std::fs::write(
        work.join("todos.json"),
        "[{\"content\": \"Their own list\", \"status\": \"pending\"}]\n",
    )
    .unwrap();
    git_ok(&work, &["add", "-A"]);
    git_ok(&work, &["commit", "-q", "-m", "our notes"]);
    git_ok(&work, &["remote", "add", "origin", bare.to_str().unwrap()]);
    git_ok(&work, &["push", "-q", "origin", "main"]);
    (bare, work)
}

/// A file of a repository's `main` as committed.
fn committed(repo: &Path, path: &str) -> String {
    git_ok(repo, &["show", &format!("main:{path}")])
}

#[test]
fn a_history_chittysync_did_not_write_is_refused_unless_adopted_and_its_files_are_kept() {
    let root = tempfile::tempdir().unwrap();
    let (remote, work) = foreign_remote(root.path(), "notes");
    let url = remote.to_str().unwrap();
    let readme = committed(&remote, "README.md");
    let theirs = committed(&remote, "todos.json");

    // Refused, naming the remote and what it holds; nothing is left behind.
    let sb = device("laptop", "");
    let out = sb.run(&["git", "init", "--remote", url]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    for words in [url, "did not write", "README.md, todos.json", "--adopt"] {
        assert!(stderr.contains(words), "{words:?} missing: {stderr}");
    }
    assert!(!sb.home().join("git").exists());
    assert_eq!(committed(&remote, "README.md"), readme);

    // Adopted: chittysync's files go next to theirs, theirs are never written.
    sb.ok(&["git", "init", "--remote", url, "--adopt"]);
    sb.write("todos/s1.json", todo_list(&[("Mine", "pending")]));
    assert_eq!(sb.json(&["sync"])["pushed"], true);
    assert_eq!(committed(&remote, "README.md"), readme);
    assert_eq!(committed(&remote, "todos.json"), theirs);
    assert!(committed(&remote, "devices/laptop/000001.jsonl").contains("Mine"));
    assert!(committed(&remote, "project-coordination.json").contains("Mine"));
    let marker: Value = serde_json::from_str(&committed(&remote, ".chittysync")).unwrap();
    assert_eq!(
        marker["foreign"],
        serde_json::json!(["README.md", "todos.json"])
    );
    // They go on editing their file; syncs keep their version.
    git_ok(&work, &["pull", "-q", "--no-rebase", "origin", "main"]);
    std::fs::write(work.join("todos.json"), "[]\n").unwrap();
    git_ok(&work, &["commit", "-q", "-am", "clear our list"]);
    git_ok(&work, &["push", "-q", "origin", "main"]);
    sb.write("todos/s2.json", todo_list(&[("Mine too", "pending")]));
    assert_eq!(sb.json(&["sync"])["pushed"], true);
    assert_eq!(committed(&remote, "todos.json"), "[]\n");
    assert_eq!(committed(&remote, "README.md"), readme);

    // A repository already set up (with its own todos.json) meets another
    // foreign remote: `sync` refuses, `sync --adopt` keeps their files.
    let (other_remote, _) = foreign_remote(root.path(), "other");
    let other_url = other_remote.to_str().unwrap();
    let desk = device("desktop", "");
    desk.ok(&["git", "init"]);
    desk.write("todos/d1.json", todo_list(&[("Desk", "pending")]));
    desk.ok(&["sync"]);
    desk.ok(&["git", "init", "--remote", other_url]);
    let out = desk.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(other_url) && stderr.contains("--adopt"),
        "{stderr}"
    );
    let status = desk.json(&["status"]);
    let detail = status["git"]["last_error"]["detail"].as_str().unwrap_or("");
    assert!(detail.contains("did not write"), "{status}");
    assert_eq!(committed(&other_remote, "todos.json"), theirs);

    assert_eq!(desk.json(&["sync", "--adopt"])["pushed"], true);
    assert_eq!(committed(&other_remote, "todos.json"), theirs);
    assert_eq!(committed(&other_remote, "README.md"), readme);
    assert!(committed(&other_remote, "devices/desktop/000001.jsonl").contains("Desk"));
    assert!(desk.json(&["status"])["git"]["last_error"].is_null());
}

/// Lines of a committed file.
fn lines_of(repo: &Path, path: &str) -> usize {
    committed(repo, path)
        .lines()
        .filter(|l| !l.is_empty())
        .count()
}

#[test]
fn a_log_the_remote_deleted_or_shortened_is_restored_and_a_fresh_device_sees_everything() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let url = remote.to_str().unwrap();
    let a = device("laptop", "");
    let b = device("desktop", "");
    a.ok(&["git", "init", "--remote", url]);
    b.ok(&["git", "init", "--remote", url]);
    a.write(
        "todos/a.json",
        todo_list(&[("Alpha one", "pending"), ("Alpha two", "in_progress")]),
    );
    a.ok(&["sync"]);
    b.write(
        "todos/b.json",
        todo_list(&[("Beta one", "pending"), ("Beta two", "completed")]),
    );
    b.ok(&["sync"]);
    assert_eq!(lines_of(&remote, "devices/laptop/000001.jsonl"), 2);

    // A third party pushes a commit deleting laptop's log.
    let third = root.path().join("third");
    git_ok(root.path(), &["clone", "-q", url, third.to_str().unwrap()]);
    git_ok(&third, &["rm", "-q", "-r", "devices/laptop"]);
    git_ok(&third, &["commit", "-q", "-m", "tidy up"]);
    git_ok(&third, &["push", "-q", "origin", "main"]);

    let out = b.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains(
            "restored devices/laptop/000001.jsonl: 2 lines restored (the remote deleted the log)"
        ),
        "{stderr}"
    );
    assert_eq!(lines_of(&remote, "devices/laptop/000001.jsonl"), 2);
    let status = b.json(&["status"]);
    let detail = status["git"]["last_restore"]["detail"]
        .as_str()
        .unwrap_or("");
    assert!(detail.contains("devices/laptop/000001.jsonl"), "{status}");
    let text = String::from_utf8_lossy(&b.run(&["status"]).stderr).to_string();
    assert!(text.contains("were restored"), "{text}");

    // A fresh device sees every observation.
    let c = device("tablet", "");
    c.ok(&["git", "init", "--remote", url]);
    c.ok(&["sync"]);
    let mut seen: Vec<String> = c
        .todos(&[])
        .iter()
        .map(|t| t["content"].as_str().unwrap().to_string())
        .collect();
    seen.sort();
    assert_eq!(seen, ["Alpha one", "Alpha two", "Beta one", "Beta two"]);

    // Shortened: desktop's log, which laptop has seen, loses a line; laptop
    // puts it back.
    a.ok(&["sync"]);
    git_ok(&third, &["pull", "-q", "--no-rebase", "origin", "main"]);
    let log = third.join("devices/desktop/000001.jsonl");
    let first = read(&log).split(|&c| c == b'\n').next().unwrap().to_vec();
    std::fs::write(&log, [first.as_slice(), b"\n"].concat()).unwrap();
    git_ok(&third, &["commit", "-q", "-am", "shorter"]);
    git_ok(&third, &["push", "-q", "origin", "main"]);
    let out = a.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{stderr}");
    assert!(
        stderr.contains("restored devices/desktop/000001.jsonl: 1 line restored"),
        "{stderr}"
    );
    assert_eq!(lines_of(&remote, "devices/desktop/000001.jsonl"), 2);
    let d = device("phone", "");
    d.ok(&["git", "init", "--remote", url]);
    d.ok(&["sync"]);
    assert_eq!(d.todos(&[]).len(), 4);
}

#[test]
fn a_branch_that_keeps_moving_under_the_push_is_an_error_not_a_success() {
    let root = tempfile::tempdir().unwrap();
    let remote = bare_remote(root.path());
    let server = GitDaemon::start(root.path());
    let sb = device("laptop", "");
    sb.ok(&["git", "init", "--remote", &server.url("remote.git")]);
    sb.write("todos/s1.json", todo_list(&[("First", "pending")]));
    sb.ok(&["sync"]);

    // Someone else's commit lands first during every push.
    hook(
        &remote,
        "pre-receive",
        "#!/bin/sh\n\
         unset GIT_QUARANTINE_PATH GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES\n\
         tip=$(git rev-parse refs/heads/main)\n\
         new=$(echo racing | git commit-tree \"$tip^{tree}\" -p \"$tip\")\n\
         git update-ref refs/heads/main \"$new\" \"$tip\"\n",
    );
    sb.write("todos/s2.json", todo_list(&[("Second", "pending")]));
    let out = sb.run(&["sync"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}\n{stderr}");
    for words in [
        "failed to update ref",
        "after fetching, merging and pushing again 5 times",
        &server.url("remote.git"),
    ] {
        assert!(stderr.contains(words), "{words:?} missing: {stderr}");
    }
    let status = sb.json(&["status"]);
    assert!(status["git"]["last_error"]["detail"]
        .as_str()
        .is_some_and(|d| d.contains("failed to update ref")));
}
