//! chittysync's home and everything in it are the user's alone (issue 11,
//! item 13): folders 0700, files 0600, whatever the umask the binary is
//! started with — here 022, the usual one, under which a plain create gives
//! 0755 and 0644. The real binary, started by `sh` after `umask 022`.

mod common;
mod live;

use common::{todo_list, Sandbox};
use live::{wait_for, Daemon};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// `chittysync` with the sandbox's folders, `home` as its home, started
/// under umask 022.
fn under_umask_022(sandbox: &Sandbox, home: &Path) -> Command {
    let base = Sandbox::bare_command();
    let mut cmd = Command::new("/bin/sh");
    cmd.arg("-c")
        .arg("umask 022; exec \"$0\" \"$@\"")
        .arg(base.get_program())
        .args(base.get_args())
        .arg("--claude-dir")
        .arg(sandbox.claude())
        .arg("--home")
        .arg(home)
        .env_remove("CHITTYSYNC_CONFIG")
        .env_remove("CHITTYSYNC_HOME")
        .env_remove("CLAUDE_CONFIG_DIR")
        .env_remove("CHITTYSYNC_HUB_DATABASE");
    cmd
}

fn run_ok(mut cmd: Command, args: &[&str]) -> String {
    let out = cmd.args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stderr).into_owned()
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Every folder under `home` (itself included) is 0700 and every file 0600;
/// returns the files seen, relative to `home`.
fn assert_private(home: &Path) -> Vec<String> {
    assert_eq!(mode(home), 0o700, "{}", home.display());
    let mut files = Vec::new();
    let mut stack = vec![home.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let rel = path.strip_prefix(home).unwrap().display().to_string();
            if std::fs::symlink_metadata(&path).is_err() {
                continue; // removed meanwhile (a temporary file)
            }
            if path.is_dir() {
                assert_eq!(mode(&path), 0o700, "folder {rel}");
                stack.push(path);
            } else {
                assert_eq!(mode(&path), 0o600, "file {rel}");
                files.push(rel);
            }
        }
    }
    files.sort();
    files
}

/// The sandbox's home, not made yet: the binary makes it.
fn fresh_home(sandbox: &Sandbox) -> PathBuf {
    let home = sandbox.home();
    std::fs::remove_dir(&home).unwrap();
    home
}

#[test]
fn consolidate_makes_a_private_home_store_and_outputs() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "todos/s1.json",
        todo_list(&[("Keep it private", "pending")]),
    );
    let home = fresh_home(&sandbox);
    run_ok(under_umask_022(&sandbox, &home), &["consolidate"]);
    let files = assert_private(&home);
    assert!(files.contains(&"chittysync.db".to_string()), "{files:?}");
    assert!(files.contains(&"todos.json".to_string()), "{files:?}");
}

#[test]
fn the_daemon_keeps_its_store_logs_heartbeat_and_lock_private() {
    let sandbox = Sandbox::new();
    sandbox.write(
        "todos/s1.json",
        todo_list(&[("Keep it private", "pending")]),
    );
    let home = fresh_home(&sandbox);
    let mut daemon = Daemon::start_as(&sandbox, under_umask_022(&sandbox, &home));
    let store = home.join("chittysync.db");
    wait_for("the store's WAL files", || {
        store.with_extension("db-wal").exists() && store.with_extension("db-shm").exists()
    });
    let files = assert_private(&home);
    for expected in [
        "chittysync.db",
        "chittysync.db-wal",
        "chittysync.db-shm",
        "daemon.json",
        "daemon.lock",
    ] {
        assert!(files.contains(&expected.to_string()), "{files:?}");
    }
    assert!(
        files
            .iter()
            .any(|f| f.starts_with("logs/daemon") && f.ends_with(".log")),
        "{files:?}"
    );
    daemon.signal(libc::SIGTERM);
    assert!(daemon.wait().success());
}

#[test]
fn a_hook_logs_to_a_private_hooks_log() {
    let sandbox = Sandbox::new();
    let home = fresh_home(&sandbox);
    let mut hook = under_umask_022(&sandbox, &home)
        .args(["hook", "post-tool-use"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    // Not JSON: the hook logs the problem and exits 0.
    std::io::Write::write_all(&mut hook.stdin.take().unwrap(), b"not json").unwrap();
    assert!(hook.wait().unwrap().success());
    let files = assert_private(&home);
    assert!(files.contains(&"logs/hooks.log".to_string()), "{files:?}");
}

#[test]
fn the_hub_database_is_private() {
    let sandbox = Sandbox::new();
    let home = fresh_home(&sandbox);
    run_ok(
        under_umask_022(&sandbox, &home),
        &["hub", "token", "create", "--tenant", "me"],
    );
    assert!(assert_private(&home).contains(&"hub.db".to_string()));

    // While the hub serves, SQLite's -wal and -shm are there: they take the
    // database file's mode.
    let mut serve = under_umask_022(&sandbox, &home)
        .args(["serve", "--listen", "127.0.0.1:0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let wal = home.join("hub.db-wal");
    let shm = home.join("hub.db-shm");
    wait_for("the hub's WAL files", || wal.exists() && shm.exists());
    let files = assert_private(&home);
    let _ = serve.kill();
    let _ = serve.wait();
    assert!(files.contains(&"hub.db-wal".to_string()), "{files:?}");
}

#[test]
fn service_install_makes_its_log_files_private() {
    let sandbox = Sandbox::new();
    let home = fresh_home(&sandbox);
    let user_home = sandbox.dir.path().join("user");
    let no_bin = sandbox.dir.path().join("no-bin");
    std::fs::create_dir_all(&user_home).unwrap();
    std::fs::create_dir_all(&no_bin).unwrap();
    let mut cmd = under_umask_022(&sandbox, &home);
    cmd.env("HOME", &user_home)
        .env_remove("XDG_CONFIG_HOME")
        .env("PATH", &no_bin);
    run_ok(cmd, &["service", "install"]);
    let files = assert_private(&home);
    assert!(files.contains(&"logs/daemon.out".to_string()), "{files:?}");
    assert!(files.contains(&"logs/daemon.err".to_string()), "{files:?}");
}

#[test]
fn an_existing_home_others_can_read_is_made_private_once() {
    let sandbox = Sandbox::new();
    let home = sandbox.home();
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o755)).unwrap();
    let stderr = run_ok(under_umask_022(&sandbox, &home), &["status"]);
    assert_eq!(mode(&home), 0o700);
    assert!(
        stderr.contains("was readable by others (mode 755); it is now private to you (700)"),
        "{stderr}"
    );
    let again = run_ok(under_umask_022(&sandbox, &home), &["status"]);
    assert!(!again.contains("readable by others"), "said twice: {again}");
}

/// A file given as the home by mistake is the user's: it is refused as a
/// home, its mode and bytes left as they were (not "made private"), and
/// nothing is created beside it.
#[test]
fn a_file_given_as_the_home_is_refused_and_left_as_it_was() {
    let sandbox = Sandbox::new();
    let home = sandbox.write("notes.txt", "my notes\n");
    std::fs::set_permissions(&home, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = under_umask_022(&sandbox, &home)
        .arg("consolidate")
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "chittysync's home {} is not a folder",
            home.display()
        )),
        "{stderr}"
    );
    assert!(!stderr.contains("readable by others"), "{stderr}");
    assert_eq!(mode(&home), 0o644);
    assert_eq!(std::fs::read_to_string(&home).unwrap(), "my notes\n");
}

/// `hooks install` before anything else made the home: the record of what it
/// added is kept in a home it makes private, as every command does (it
/// was made 0755 under umask 022).
#[test]
fn hooks_install_makes_a_private_home_for_its_record() {
    let sandbox = Sandbox::new();
    let home = fresh_home(&sandbox);
    run_ok(under_umask_022(&sandbox, &home), &["hooks", "install"]);
    let files = assert_private(&home);
    assert_eq!(files, vec!["hooks-install.json".to_string()]);
}

/// `git init` before anything else made the home: the repository (every
/// device's observations) is in a folder only the user may enter, under a
/// home made private (both were made 0755 under umask 022).
#[test]
fn git_init_makes_a_private_home_and_repository_folder() {
    let sandbox = Sandbox::new();
    let home = fresh_home(&sandbox);
    run_ok(under_umask_022(&sandbox, &home), &["git", "init"]);
    assert_eq!(mode(&home), 0o700);
    assert_eq!(mode(&home.join("git")), 0o700);
}
