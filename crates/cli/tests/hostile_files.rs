//! Files in the user's folders that are not what they seem: a `.git/HEAD`
//! or `.git` that is a FIFO or a link to `/dev/zero` (issue 11, item 8). The
//! hooks read them as every small file of a user's folder is read: never
//! waiting, never more than a few KiB. The real binary on real files.

mod common;
mod live;

use common::Sandbox;
use live::{hooks_log, PATIENCE};
use serde_json::json;
use std::io::{Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

#[allow(unsafe_code)]
fn mkfifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_bytes()).unwrap();
    // SAFETY: `c` is a valid NUL-terminated path for the duration of the call.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
}

/// What a guarded hook run gave.
struct HookRun {
    /// The exit code; None when killed by a signal.
    code: Option<i32>,
    stdout: String,
    stderr: String,
    /// The most memory it held at once, in KiB.
    max_rss_kib: i64,
}

/// A hook holds a todo list or two and a SQLite page cache: far below this.
const HOOK_MEMORY_KIB: i64 = 256 * 1024;

/// Runs `chittysync hook <event>` with `payload` on stdin, under a 4 GiB
/// address-space limit (a hook reading `/dev/zero` without end must not eat
/// the machine), killing it if it has not finished after [`PATIENCE`]: a
/// guard against a hang, not a measure of speed. Its peak memory comes from
/// `wait4`, for this process alone.
fn guarded_hook(sandbox: &Sandbox, event: &str, payload: &str) -> HookRun {
    guarded(sandbox, &["hook", event], payload)
}

/// `chittysync <args>` run as [`guarded_hook`] runs a hook.
#[expect(
    clippy::zombie_processes,
    reason = "the child is reaped by wait4, which also gives its peak memory"
)]
#[allow(unsafe_code)]
fn guarded(sandbox: &Sandbox, args: &[&str], payload: &str) -> HookRun {
    let what = args.join(" ");
    let base = sandbox.command();
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg("ulimit -v 4194304; exec \"$0\" \"$@\"")
        .arg(base.get_program())
        .args(base.get_args())
        .args(args)
        .env_remove("CHITTYSYNC_CONFIG")
        .env_remove("CHITTYSYNC_HOME")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CLAUDE_CODE_TASK_LIST_ID")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("spawn the hook");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(payload.as_bytes())
        .unwrap();
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: a zeroed rusage is a valid value for wait4 to fill.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let deadline = Instant::now() + PATIENCE;
    loop {
        // SAFETY: waiting for our own child, with valid pointers.
        let done = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
        assert!(done >= 0, "wait4: {}", std::io::Error::last_os_error());
        if done == pid {
            break;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("`{what}` still ran after {PATIENCE:?}: it hangs; killed");
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let mut stdout = String::new();
    let mut stderr = String::new();
    child
        .stdout
        .take()
        .unwrap()
        .read_to_string(&mut stdout)
        .unwrap();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    HookRun {
        code: libc::WIFEXITED(status).then(|| libc::WEXITSTATUS(status)),
        stdout,
        stderr,
        max_rss_kib: usage.ru_maxrss,
    }
}

fn session_start(session: &str, cwd: &Path) -> String {
    json!({"session_id": session, "transcript_path": "/x.jsonl", "cwd": cwd,
           "hook_event_name": "SessionStart", "source": "startup"})
    .to_string()
}

/// A work tree `<sandbox>/work/api` where another session has a todo open.
fn project_with_an_open_todo(sandbox: &Sandbox) -> std::path::PathBuf {
    let cwd = sandbox.dir.path().join("work/api");
    std::fs::create_dir_all(cwd.join(".git")).unwrap();
    std::fs::write(cwd.join(".git/HEAD"), "ref: refs/heads/main\n").unwrap();
    let todos = json!([{"content": "Ship the login", "status": "in_progress",
                        "activeForm": "Shipping the login"}]);
    let payload = json!({"session_id": "other-session", "transcript_path": "/o.jsonl",
        "cwd": cwd, "hook_event_name": "PostToolUse", "tool_name": "TodoWrite",
        "tool_input": {"todos": todos}, "tool_response": {"newTodos": todos}})
    .to_string();
    let out = guarded_hook(sandbox, "post-tool-use", &payload);
    assert_eq!(out.code, Some(0), "{}", out.stderr);
    cwd
}

/// The session-start hook in `cwd` finishes, exits 0 and still tells the
/// other session's open todo.
fn assert_session_start_tells(sandbox: &Sandbox, cwd: &Path, case: &str) {
    let out = guarded_hook(sandbox, "session-start", &session_start("new-session", cwd));
    assert_eq!(out.code, Some(0), "{case}: the hook failed: {}", out.stderr);
    assert!(
        out.max_rss_kib < HOOK_MEMORY_KIB,
        "{case}: the hook held {} MiB: it read without a bound",
        out.max_rss_kib / 1024
    );
    assert!(
        out.stdout.contains("Ship the login") && out.stdout.contains("project `api`"),
        "{case}: no context printed: {}\nhooks.log: {}",
        out.stdout,
        hooks_log(sandbox)
    );
}

#[test]
fn session_start_survives_a_head_linked_to_dev_zero() {
    let sandbox = Sandbox::new();
    let cwd = project_with_an_open_todo(&sandbox);
    std::fs::remove_file(cwd.join(".git/HEAD")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", cwd.join(".git/HEAD")).unwrap();
    assert_session_start_tells(&sandbox, &cwd, "HEAD -> /dev/zero");
}

#[test]
fn session_start_survives_a_head_that_is_a_fifo() {
    let sandbox = Sandbox::new();
    let cwd = project_with_an_open_todo(&sandbox);
    std::fs::remove_file(cwd.join(".git/HEAD")).unwrap();
    mkfifo(&cwd.join(".git/HEAD"));
    assert_session_start_tells(&sandbox, &cwd, "HEAD a FIFO");
}

#[test]
fn session_start_survives_a_dot_git_that_is_a_fifo_or_a_device() {
    let sandbox = Sandbox::new();
    let cwd = project_with_an_open_todo(&sandbox);
    std::fs::remove_dir_all(cwd.join(".git")).unwrap();
    mkfifo(&cwd.join(".git"));
    assert_session_start_tells(&sandbox, &cwd, ".git a FIFO");

    std::fs::remove_file(cwd.join(".git")).unwrap();
    std::os::unix::fs::symlink("/dev/zero", cwd.join(".git")).unwrap();
    assert_session_start_tells(&sandbox, &cwd, ".git -> /dev/zero");
}

#[test]
fn session_start_survives_a_gitdir_whose_head_is_a_fifo() {
    let sandbox = Sandbox::new();
    let cwd = project_with_an_open_todo(&sandbox);
    // A linked work tree: `.git` is a file naming the real git folder.
    let meta = sandbox.dir.path().join("meta");
    std::fs::create_dir_all(&meta).unwrap();
    mkfifo(&meta.join("HEAD"));
    std::fs::remove_dir_all(cwd.join(".git")).unwrap();
    std::fs::write(cwd.join(".git"), format!("gitdir: {}\n", meta.display())).unwrap();
    assert_session_start_tells(&sandbox, &cwd, "gitdir with a FIFO HEAD");
}

/// `consolidate` with no daemon keeps its rendered blocks in
/// `<home>/rendered.cache` (docs/ARCHITECTURE.md, "The outputs"): a cache
/// that is a FIFO or a link to `/dev/zero` is not read — the run renders
/// from the store, neither waiting nor reading without end — and the next
/// run's cache is a file again.
#[test]
fn consolidate_survives_a_kept_cache_that_is_a_fifo_or_dev_zero() {
    let sandbox = Sandbox::new();
    let todos = sandbox.claude().join("todos");
    std::fs::create_dir_all(&todos).unwrap();
    let write = |content: &str| {
        let list = json!([{"content": content, "status": "pending", "activeForm": content}]);
        std::fs::write(todos.join("s1-agent-s1.json"), list.to_string()).unwrap();
    };
    write("Keep the first word");
    sandbox.consolidate(&[]);
    let cache = sandbox.home().join("rendered.cache");
    assert!(cache.is_file(), "a consolidation keeps its rendered blocks");
    for (case, make) in [
        ("a FIFO", &(|p: &Path| mkfifo(p)) as &dyn Fn(&Path)),
        ("a link to /dev/zero", &|p: &Path| {
            std::os::unix::fs::symlink("/dev/zero", p).unwrap()
        }),
    ] {
        std::fs::remove_file(&cache).unwrap();
        make(&cache);
        let content = format!("Written while the cache is {case}");
        write(&content);
        let run = guarded(&sandbox, &["consolidate"], "");
        assert_eq!(run.code, Some(0), "{case}: {}{}", run.stdout, run.stderr);
        assert!(
            run.max_rss_kib < HOOK_MEMORY_KIB,
            "{case}: {} KiB",
            run.max_rss_kib
        );
        let out = std::fs::read_to_string(sandbox.home().join("todos.json")).unwrap();
        assert!(out.contains(&content), "{case}: {out}");
        assert!(cache.is_file(), "{case}: the cache is a file again");
    }
}

/// A cache that cannot be written (a folder stands where it goes) is a
/// warning naming it, not a failed run: the outputs are written, the next
/// run renders from the store again and says so again.
#[test]
fn a_cache_that_cannot_be_written_is_a_warning_not_a_failure() {
    let sandbox = Sandbox::new();
    let cache = sandbox.home().join("rendered.cache");
    std::fs::create_dir_all(&cache).unwrap();
    for content in ["The first word", "The second word"] {
        let list = json!([{"content": content, "status": "pending", "activeForm": content}]);
        sandbox.write("todos/s1-agent-s1.json", list.to_string());
        let out = sandbox.run(&["consolidate"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{stderr}");
        assert!(
            stderr.contains("rendered.cache") && stderr.contains("not kept"),
            "{stderr}"
        );
        let todos = std::fs::read_to_string(sandbox.home().join("todos.json")).unwrap();
        assert!(todos.contains(content), "{todos}");
        assert!(cache.is_dir(), "the folder is left as it was");
    }
}

/// The store's own files with something else in their place — the database
/// a folder, a FIFO or a link to `/dev/zero`; the observation log a FIFO or
/// a link — are refused naming the file and what is wrong, each cause told
/// once (the `caused by:` lines repeat nothing of the message above them),
/// never waiting on the FIFO (docs/ARCHITECTURE.md, "The store").
#[test]
fn the_stores_own_files_replaced_by_something_else_are_refused_by_name() {
    for kind in ["folder", "FIFO", "device"] {
        let sandbox = Sandbox::new();
        let db = sandbox.home().join("chittysync.db");
        std::fs::create_dir_all(sandbox.home()).unwrap();
        match kind {
            "folder" => std::fs::create_dir(&db).unwrap(),
            _ => make_odd(&db, kind),
        }
        let run = guarded(&sandbox, &["status"], "");
        assert_eq!(run.code, Some(1), "{kind}: {}", run.stderr);
        let expected = format!("{}: not a regular file", db.display());
        assert_eq!(
            run.stderr.matches(&expected).count(),
            1,
            "{kind}: {}",
            run.stderr
        );
    }
    // More observations than the log's tail holds, so they are in the file.
    let todos: Vec<_> = (0..300)
        .map(|i| json!({"content": format!("Step {i}"), "status": "pending"}))
        .collect();
    for kind in ["FIFO", "device"] {
        let sandbox = Sandbox::new();
        sandbox.write("todos/s1-agent-s1.json", json!(todos).to_string());
        sandbox.consolidate(&[]);
        let log = sandbox.home().join("chittysync.db.log");
        std::fs::remove_file(&log).unwrap();
        make_odd(&log, kind);
        let run = guarded(&sandbox, &["history", "Step 7"], "");
        assert_eq!(run.code, Some(1), "{kind}: {}", run.stderr);
        let named = format!("the observation log {}: ", log.display());
        assert_eq!(
            run.stderr.matches(&named).count(),
            1,
            "{kind}: {}",
            run.stderr
        );
        let why = if kind == "FIFO" {
            "something other than a file stands in its place"
        } else {
            "a symbolic link stands in its place"
        };
        assert!(run.stderr.contains(why), "{kind}: {}", run.stderr);
    }
}

/// `path` made a FIFO, or a link to `/dev/zero` (a device): what `kind`
/// names in the error.
fn make_odd(path: &Path, kind: &str) {
    match kind {
        "FIFO" => mkfifo(path),
        _ => std::os::unix::fs::symlink("/dev/zero", path).unwrap(),
    }
}

/// A config file that is a FIFO or a link to `/dev/zero` is refused, naming
/// it and what it is: never waited on, never read without end. A hook reads
/// the config too, and still exits 0 at once.
#[test]
fn a_config_file_that_is_a_fifo_or_a_device_is_refused() {
    for kind in ["FIFO", "device"] {
        let sandbox = Sandbox::new();
        let config = sandbox.home().join("odd.toml");
        make_odd(&config, kind);
        let config_arg = config.to_str().unwrap();
        let run = guarded(&sandbox, &["status", "--config", config_arg], "");
        assert_eq!(run.code, Some(1), "{kind}: {}", run.stderr);
        let expected = format!(
            "cannot read config file {}: not a regular file but a {kind}",
            config.display()
        );
        assert!(run.stderr.contains(&expected), "{kind}: {}", run.stderr);
        let cwd = sandbox.claude();
        let hook = guarded(
            &sandbox,
            &["hook", "session-start", "--config", config_arg],
            &session_start("s1", &cwd),
        );
        assert_eq!(hook.code, Some(0), "{kind}: {}", hook.stderr);
    }
}

/// Claude Code's `settings.json` that is a FIFO or a link to `/dev/zero` is
/// refused by `hooks install`, naming it and what it is, and left as it was:
/// neither replaced nor backed up.
#[test]
fn hooks_install_refuses_a_settings_file_that_is_a_fifo_or_a_device() {
    for kind in ["FIFO", "device"] {
        let sandbox = Sandbox::new();
        let settings = sandbox.claude().join("settings.json");
        make_odd(&settings, kind);
        let before = std::fs::symlink_metadata(&settings).unwrap().file_type();
        let run = guarded(&sandbox, &["hooks", "install"], "");
        assert_eq!(run.code, Some(1), "{kind}: {}", run.stderr);
        assert!(
            run.stderr
                .contains(&format!("cannot read {}", settings.display())),
            "{kind}: {}",
            run.stderr
        );
        assert!(
            run.stderr
                .contains(&format!("not a regular file but a {kind}")),
            "{kind}: {}",
            run.stderr
        );
        let after = std::fs::symlink_metadata(&settings).unwrap().file_type();
        assert_eq!(before, after, "{kind}: the file was replaced");
        let backups: Vec<_> = std::fs::read_dir(sandbox.claude())
            .unwrap()
            .filter_map(|e| e.ok())
            .filter(|e| {
                e.file_name()
                    .to_string_lossy()
                    .contains("chittysync-backup")
            })
            .collect();
        assert!(backups.is_empty(), "{kind}: a backup was written");
    }
}
