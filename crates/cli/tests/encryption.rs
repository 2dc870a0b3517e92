//! End-to-end encryption (docs/ENCRYPTION.md) through the real
//! binary: two devices sharing one key converge through a real hub (`serve`
//! on loopback, SQLite) and through a real git server (`git daemon` on
//! loopback), while the hub's database files and every object of the git
//! remote hold none of the todos' text; a device without the key, or with
//! another one, gets an error naming the problem and stores nothing.

mod common;

use common::git_daemon::GitDaemon;
use common::hub::{hub_token, serve};
use common::{todo_write_line, Sandbox};
use std::process::{Command, Stdio};

/// Words that appear only in the todos' text and project.
const SECRET_TEXT: [&str; 6] = [
    "zanzibar",
    "Rotate the launch codes",
    "launch codes",
    "Feed the quokkas",
    "quokkas",
    "Write the shared plan",
];

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// A device: its own home and Claude folder, its config.
fn device(name: &str, config: &str) -> Sandbox {
    let sb = Sandbox::new();
    std::fs::write(
        sb.home().join("config.toml"),
        format!("device = \"{name}\"\n{config}"),
    )
    .unwrap();
    sb
}

/// Session `session` of project zanzibar writes its plan.
fn plan(sb: &Sandbox, session: &str, at: &str, items: &[(&str, &str)]) {
    sb.write(
        &format!("projects/-work-zanzibar/{session}.jsonl"),
        todo_write_line(session, "/work/zanzibar", at, items),
    );
}

/// `todos --json` as (project, content, status), sorted.
fn shown(sb: &Sandbox) -> Vec<(String, String, String)> {
    let mut rows: Vec<_> = sb
        .todos(&[])
        .iter()
        .map(|t| {
            let field = |k: &str| t[k].as_str().unwrap_or_default().to_string();
            (field("project"), field("content"), field("status"))
        })
        .collect();
    rows.sort();
    rows
}

/// The todos both devices end with after [`write_and_sync`].
fn expected() -> Vec<(String, String, String)> {
    [
        ("Feed the quokkas", "in_progress"),
        ("Rotate the launch codes", "pending"),
        ("Write the shared plan", "completed"),
    ]
    .iter()
    .map(|(c, s)| ("zanzibar".to_string(), c.to_string(), s.to_string()))
    .collect()
}

/// A and B plan (one todo the same on both, to meet on the remote), sync
/// A, B, A, and see the same three todos.
fn write_and_sync(a: &Sandbox, b: &Sandbox) {
    plan(
        a,
        "sa",
        "2026-11-30T10:00:00.000Z",
        &[
            ("Rotate the launch codes", "pending"),
            ("Write the shared plan", "pending"),
        ],
    );
    plan(
        b,
        "sb",
        "2026-11-30T10:05:00.000Z",
        &[
            ("Feed the quokkas", "in_progress"),
            ("Write the shared plan", "completed"),
        ],
    );
    for sb in [a, b, a] {
        sb.ok(&["sync"]);
    }
    assert_eq!(shown(a), expected());
    assert_eq!(shown(b), expected());
}

/// Gives `to` the key of `from` through `key show` and `key import` (stdin).
fn share_key(from: &Sandbox, to: &Sandbox) {
    let key = from.ok(&["key", "show"]);
    let mut child = to
        .command()
        .args(["key", "import"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(key.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{}", text(&out.stderr));
}

fn assert_holds_no_text(what: &str, bytes: &[u8]) {
    let haystack = String::from_utf8_lossy(bytes).to_lowercase();
    for secret in SECRET_TEXT {
        assert!(
            !haystack.contains(&secret.to_lowercase()),
            "{what} holds {secret:?}"
        );
    }
}

/// Fails, saying `words`, and leaves the device's store without the others' todos.
fn refused(sb: &Sandbox, args: &[&str], words: &str) {
    let out = sb.run(args);
    let stderr = text(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {stderr}");
    assert!(stderr.contains(words), "{words:?} missing: {stderr}");
    assert!(stderr.contains("nothing was stored"), "{stderr}");
    assert_eq!(shown(sb), Vec::new(), "stored what it cannot read");
}

#[test]
fn key_commands_keep_one_private_key_and_refuse_to_replace_it_unasked() {
    let a = device("A", "");
    let out = a.run(&["key", "show"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out.stderr).contains("chittysync key create"));

    a.ok(&["key", "create"]);
    let path = a.home().join("sync.key");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(
        std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let key = a.ok(&["key", "show"]);
    assert!(key.starts_with("chittysync-key-1:"), "{key}");
    assert_eq!(key.trim().lines().count(), 1);

    let out = a.run(&["key", "create"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("--force"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(a.ok(&["key", "show"]), key, "the key was replaced unasked");

    let b = device("B", "");
    b.ok(&["key", "import", key.trim()]);
    assert_eq!(b.ok(&["key", "show"]), key);
    b.ok(&["key", "import", key.trim()]); // the same key again: nothing to do
    let c = device("C", "");
    c.ok(&["key", "create"]);
    let out = c.run(&["key", "import", key.trim()]);
    assert_eq!(out.status.code(), Some(1), "replaced another key unasked");
    let out = c.run(&["key", "import", "chittysync-key-1:short"]);
    assert!(text(&out.stderr).contains("not a chittysync key"));
    c.ok(&["key", "import", "--force", key.trim()]);
    assert_eq!(c.ok(&["key", "show"]), key);

    let d = device(
        "D",
        "[hub]\nurl = \"http://127.0.0.1:9\"\ntoken = \"t\"\nencrypt = true\n",
    );
    let out = d.run(&["sync"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("`[hub] encrypt` is on but this device has no key"),
        "{}",
        text(&out.stderr)
    );
}

/// A page of the hub's dashboard, signed in with the tenant's token as the
/// sign-in page's cookie would carry it (docs/UI.md, "On the hub"): its
/// status and body.
fn dashboard_get(port: u16, token: &str, path: &str) -> (u16, String) {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nCookie: chittysync_hub={token}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = Vec::new();
    stream.read_to_end(&mut response).unwrap();
    let response = String::from_utf8_lossy(&response).to_string();
    let status = response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    (status, response)
}

#[test]
fn two_devices_with_one_key_converge_through_a_hub_that_cannot_read_them() {
    let hub_home = tempfile::tempdir().unwrap();
    let (_hub, port) = serve(hub_home.path());
    let token = hub_token(hub_home.path(), &[]);
    let hub = |encrypt: bool| {
        format!(
            "[hub]\nurl = \"http://127.0.0.1:{port}\"\ntoken = \"{token}\"\nencrypt = {encrypt}\n"
        )
    };
    let (a, b) = (device("A", &hub(true)), device("B", &hub(true)));
    a.ok(&["key", "create"]);
    share_key(&a, &b);

    write_and_sync(&a, &b);

    // The hub folds what it cannot read: three todos, one of them met twice…
    let client =
        chittysync_hubclient::client::HubClient::new(&format!("http://127.0.0.1:{port}"), &token)
            .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let todos = runtime.block_on(client.todos()).unwrap();
    assert_eq!(todos.todos.len(), 3, "{:?}", todos.todos);
    assert!(todos.todos.iter().all(|t| t.content.starts_with("cs1.")));
    assert!(todos.todos.iter().any(|t| t.sessions.len() == 2));
    // …and says so where a view needs the text.
    match runtime.block_on(client.projects()) {
        Err(chittysync_hubclient::client::ClientError::Api { status, message }) => {
            assert_eq!(status, 409);
            assert!(message.contains("encrypted end to end"), "{message}");
        }
        other => panic!("projects of sealed todos: {other:?}"),
    }
    // Its status counts what it can see, and no sealed project as a project.
    let status = runtime.block_on(client.status()).unwrap();
    assert!(status.encrypted, "{status:?}");
    assert_eq!((status.projects, status.topics.categories), (None, None));
    assert_eq!((status.devices, status.todos.total), (2, 3), "{status:?}");
    assert!(status.observations >= 4, "{status:?}");
    assert_eq!(status.sessions.total, status.topics.total_conversations);
    drop(client);
    // The hub's dashboard, signed in as the tenant, says so too.
    let (status, page) = dashboard_get(port, &token, "/board");
    assert_eq!(status, 409, "{page}");
    assert!(page.contains("encrypted end to end"), "{page}");
    assert!(!page.contains("cs1."), "{page}");

    // Nothing of the text is in the hub's database files.
    let mut files = 0;
    for entry in std::fs::read_dir(hub_home.path()).unwrap() {
        let path = entry.unwrap().path();
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("hub.db")
        {
            files += 1;
            assert_holds_no_text(&path.display().to_string(), &std::fs::read(&path).unwrap());
        }
    }
    assert!(files > 0, "no hub.db in {}", hub_home.path().display());

    // A third device with no key, and a fourth with another key: refused, nothing stored.
    let c = device("C", &hub(false));
    refused(&c, &["sync"], "this device has no key");
    let d = device("D", &hub(true));
    d.ok(&["key", "create"]);
    refused(&d, &["sync"], "encrypted with another key");
    // Given the key, the third device reads everything.
    share_key(&a, &c);
    c.ok(&["sync"]);
    assert_eq!(shown(&c), expected());
}

#[test]
fn two_devices_with_one_key_converge_through_a_git_remote_that_cannot_read_them() {
    let root = tempfile::tempdir().unwrap();
    let status = Command::new("git")
        .args(["init", "-q", "--bare", "-b", "main", "remote.git"])
        .current_dir(root.path())
        .status()
        .unwrap();
    assert!(status.success());
    let server = GitDaemon::start(root.path());
    let url = server.url("remote.git");
    let git = |encrypt: bool| format!("[git]\nencrypt = {encrypt}\n");
    let (a, b) = (device("A", &git(true)), device("B", &git(true)));
    a.ok(&["key", "create"]);
    share_key(&a, &b);
    for sb in [&a, &b] {
        sb.ok(&["git", "init", "--remote", &url]);
    }
    write_and_sync(&a, &b);

    // Every object of the remote (logs, trees, commit messages), inflated: no text.
    let remote = root.path().join("remote.git");
    let objects = Command::new("git")
        .args(["cat-file", "--batch-all-objects", "--batch"])
        .current_dir(&remote)
        .output()
        .unwrap();
    assert!(objects.status.success());
    assert!(
        text(&objects.stdout).contains("\"status\":\"completed\""),
        "the logs are there, statuses in the clear"
    );
    assert_holds_no_text("the git remote's objects", &objects.stdout);
    let tree = Command::new("git")
        .args(["ls-tree", "-r", "--name-only", "main"])
        .current_dir(&remote)
        .output()
        .unwrap();
    let tree = text(&tree.stdout);
    assert!(
        !tree.contains("todos.json"),
        "a sealed history has no snapshots: {tree}"
    );
    assert!(tree.contains("devices/A/"), "{tree}");

    // Without the key, or with another: the pull is refused and nothing stored.
    let c = device("C", &git(false));
    c.ok(&["git", "init", "--remote", &url]);
    refused(&c, &["sync"], "this device has no key");
    let d = device("D", &git(true));
    d.ok(&["key", "create"]);
    d.ok(&["git", "init", "--remote", &url]);
    refused(&d, &["sync"], "encrypted with another key");
    share_key(&a, &c);
    c.ok(&["sync"]);
    assert_eq!(shown(&c), expected());

    // `todos --as-of COMMIT` opens the sealed logs of a past commit too.
    let head = Command::new("git")
        .args(["rev-parse", "HEAD"])
        .current_dir(a.home().join("git"))
        .output()
        .unwrap();
    let rows = a.todos(&["--as-of", text(&head.stdout).trim()]);
    assert_eq!(rows.len(), 3, "{rows:?}");
}
