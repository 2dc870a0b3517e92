//! `[notify]`'s desktop channel and its events besides collisions
//! docs/COLLISIONS.md): the real binary and daemon, a real D-Bus session bus
//! (`dbus-daemon`) with a notification server served here by zbus, and a
//! real command (`tee -a`) that keeps the events it is given.

mod common;
mod live;

use common::{free_port, json_lines, todo_list, Sandbox};
use live::{runs, wait_for, write_by_rename, Daemon};
use serde_json::Value;
use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};

/// A notification as the server was asked to show it.
#[derive(Debug, Clone)]
struct Shown {
    app: String,
    summary: String,
    body: String,
}

/// `org.freedesktop.Notifications`, keeping what it is asked to show.
struct Server {
    shown: Arc<Mutex<Vec<Shown>>>,
}

#[zbus::interface(name = "org.freedesktop.Notifications")]
impl Server {
    #[allow(clippy::too_many_arguments)]
    fn notify(
        &self,
        app_name: String,
        _replaces_id: u32,
        _app_icon: String,
        summary: String,
        body: String,
        _actions: Vec<String>,
        _hints: HashMap<String, zbus::OwnedVariant>,
        _expire_timeout: i32,
    ) -> u32 {
        let mut shown = self.shown.lock().unwrap();
        shown.push(Shown {
            app: app_name,
            summary,
            body,
        });
        shown.len() as u32
    }

    fn get_capabilities(&self) -> Vec<String> {
        vec!["body".into()]
    }

    fn get_server_information(&self) -> (String, String, String, String) {
        ("test".into(), "chittysync".into(), "1".into(), "1.2".into())
    }

    fn close_notification(&self, _id: u32) {}
}

/// A private session bus, killed when the test ends, with (or without) a
/// notification server on it.
struct Desktop {
    bus: Child,
    address: String,
    shown: Arc<Mutex<Vec<Shown>>>,
}

impl Desktop {
    /// None, with the reason printed, when `dbus-daemon` is not installed
    /// (outside CI: there it fails).
    fn start(serve: bool) -> Option<Desktop> {
        let bus = Command::new("dbus-daemon")
            .args(["--session", "--nofork", "--print-address=1"])
            .stdout(Stdio::piped())
            .spawn();
        let mut bus = match bus {
            Ok(bus) => bus,
            Err(e) => {
                // In CI (`.ci/run` installs it) a missing bus is a failure, not a skip.
                assert!(
                    std::env::var_os("CI").is_none(),
                    "cannot run dbus-daemon ({e}); .ci/run installs the dbus-daemon package"
                );
                eprintln!("skipped: cannot run dbus-daemon ({e}); install the dbus-daemon package (CI has it)");
                return None;
            }
        };
        let mut address = String::new();
        BufReader::new(bus.stdout.take().unwrap())
            .read_line(&mut address)
            .unwrap();
        let address = address.trim().to_string();
        assert!(!address.is_empty(), "dbus-daemon printed no address");
        let shown = Arc::new(Mutex::new(Vec::new()));
        if serve {
            let (ready, is_ready) = std::sync::mpsc::channel();
            let server = Server {
                shown: shown.clone(),
            };
            let at = address.clone();
            std::thread::spawn(move || {
                zbus::block_on(async move {
                    let _connection = zbus::conn::Builder::address(at.as_str())
                        .name("org.freedesktop.Notifications")
                        .serve_at("/org/freedesktop/Notifications", server)
                        .build()
                        .await
                        .expect("serve org.freedesktop.Notifications");
                    ready.send(()).unwrap();
                    std::future::pending::<()>().await;
                })
            });
            is_ready
                .recv_timeout(live::PATIENCE)
                .expect("the notification server is on the bus");
        }
        Some(Desktop {
            bus,
            address,
            shown,
        })
    }

    fn shown(&self) -> Vec<Shown> {
        self.shown.lock().unwrap().clone()
    }
}

impl Drop for Desktop {
    fn drop(&mut self) {
        let _ = self.bus.kill();
        let _ = self.bus.wait();
    }
}

fn config(sandbox: &Sandbox, text: &str) {
    std::fs::write(
        sandbox.home().join("config.toml"),
        format!("device = \"laptop\"\n{text}"),
    )
    .unwrap();
}

fn tee(events: &std::path::Path) -> String {
    format!(
        "command = [\"tee\", \"-a\", {:?}]\n",
        events.to_str().unwrap()
    )
}

#[test]
fn notify_test_shows_a_desktop_notification_on_a_real_session_bus() {
    let Some(desktop) = Desktop::start(true) else {
        return;
    };
    let sandbox = Sandbox::new();
    let events = sandbox.dir.path().join("events.jsonl");
    // `--test` sends whether or not `enabled` is set.
    config(
        &sandbox,
        &format!("[notify]\ndesktop = true\n{}", tee(&events)),
    );
    let out = sandbox
        .command()
        .args(["notify", "--test"])
        .env("DBUS_SESSION_BUS_ADDRESS", &desktop.address)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("sent    command tee"), "{stdout}");
    assert!(stdout.contains("sent    desktop (D-Bus"), "{stdout}");
    let shown = desktop.shown();
    assert_eq!(shown.len(), 1, "{shown:?}");
    assert_eq!(shown[0].app, "chittysync");
    assert_eq!(shown[0].summary, "chittysync: test notification");
    assert!(
        shown[0].body.contains("two sessions take the same todo"),
        "{shown:?}"
    );
    let sent = json_lines(&events);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0]["event"], "test");

    // A bus where no notification server runs: that channel fails, and says so.
    let bare = Desktop::start(false).unwrap();
    let out = sandbox
        .command()
        .args(["notify", "--test"])
        .env("DBUS_SESSION_BUS_ADDRESS", &bare.address)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("FAILED  desktop (D-Bus org.freedesktop.Notifications): cannot show a desktop notification"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("1 of 2 channels failed"));
}

/// How many events of `kind` the command was given.
fn count(events: &[Value], kind: &str) -> usize {
    events.iter().filter(|e| e["event"] == kind).count()
}

#[test]
fn the_daemon_tells_a_completed_plan_a_stale_session_and_a_failing_sync_once_each() {
    let desktop = Desktop::start(true);
    let sandbox = Sandbox::new();
    let events = sandbox.dir.path().join("events.jsonl");
    // Nothing listens on this port: every hub sync fails.
    let dead = free_port();
    config(
        &sandbox,
        &format!(
            "[daemon]\ndebounce_ms = 20\nrescan_interval = \"1s\"\n\
             [sessions]\nstale_after = \"3s\"\n\
             [hub]\nurl = \"http://127.0.0.1:{dead}\"\ntoken = \"not-a-token\"\n\
             [notify]\nenabled = true\ndesktop = {}\nsync_failing_after = \"2s\"\n{}",
            desktop.is_some(),
            tee(&events)
        ),
    );
    let mut command = sandbox.command();
    if let Some(desktop) = &desktop {
        command.env("DBUS_SESSION_BUS_ADDRESS", &desktop.address);
    }
    let _daemon = Daemon::start_as(&sandbox, command);
    let file = |session: &str| {
        sandbox
            .claude()
            .join(format!("todos/{session}-agent-{session}.json"))
    };
    // A session works through its plan and completes it; another takes a
    // todo in progress and goes quiet.
    write_by_rename(
        &file("11111111-done"),
        &todo_list(&[("Write the parser", "in_progress"), ("Test it", "pending")]),
    );
    write_by_rename(
        &file("22222222-quiet"),
        &todo_list(&[("Migrate the billing tables", "in_progress")]),
    );
    // Written again and again, as a session does: one event all the same.
    for _ in 0..5 {
        write_by_rename(
            &file("11111111-done"),
            &todo_list(&[("Write the parser", "completed"), ("Test it", "completed")]),
        );
    }
    wait_for("the three events", || {
        let got = json_lines(&events);
        ["plan_completed", "session_stale", "sync_failing"]
            .iter()
            .all(|kind| count(&got, kind) > 0)
    });
    // More rescans and failed syncs: nothing is told twice.
    let after = runs(&sandbox);
    write_by_rename(
        &file("11111111-done"),
        &todo_list(&[("Write the parser", "completed"), ("Test it", "completed")]),
    );
    wait_for("three more consolidations", || runs(&sandbox) >= after + 3);
    let got = json_lines(&events);
    for kind in ["plan_completed", "session_stale", "sync_failing"] {
        assert_eq!(count(&got, kind), 1, "{kind}: {got:#?}");
    }
    let plan = got.iter().find(|e| e["event"] == "plan_completed").unwrap();
    assert_eq!(plan["session"]["session"], "11111111-done");
    assert_eq!(plan["todos"], 2);
    let stale = got.iter().find(|e| e["event"] == "session_stale").unwrap();
    assert_eq!(stale["session"]["session"], "22222222-quiet");
    assert_eq!(
        stale["in_progress"],
        serde_json::json!(["Migrate the billing tables"])
    );
    let sync = got.iter().find(|e| e["event"] == "sync_failing").unwrap();
    assert_eq!(sync["sync"], "hub");
    assert_eq!(sync["device"], "laptop");

    // The desktop was told the same, once each.
    if let Some(desktop) = &desktop {
        wait_for("the desktop notifications", || desktop.shown().len() >= 3);
        let shown = desktop.shown();
        let summaries: Vec<&str> = shown.iter().map(|s| s.summary.as_str()).collect();
        assert_eq!(shown.len(), 3, "{summaries:?}");
        assert!(summaries.contains(&"chittysync: the hub sync is failing"));
        assert!(summaries
            .iter()
            .any(|s| s.starts_with("chittysync: a plan completed")));
        assert!(summaries
            .iter()
            .any(|s| s.starts_with("chittysync: a session went stale")));
    }
}
