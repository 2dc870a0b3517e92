//! The hub as real processes: two daemons syncing through one `serve`, and two
//! `serve` processes on one PostgreSQL database pushing to each other's
//! WebSocket clients.

mod common;

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_hubclient::client::HubClient;
use common::hub::{hub_token, serve_on, Running};
use common::{todo_list, Sandbox};
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(60);

/// `--database URL`, or nothing for SQLite in the hub's home.
fn database_args(database: Option<&str>) -> Vec<&str> {
    database
        .map(|url| vec!["--database", url])
        .unwrap_or_default()
}

/// Waits until `done`; on a timeout fails with the text of the `logs` (the
/// files in folders among them), which say how far the processes got.
fn wait_for(what: &str, logs: &[PathBuf], mut done: impl FnMut() -> bool) {
    let started = Instant::now();
    while !done() {
        if started.elapsed() >= WAIT {
            panic!("timed out waiting for {what}\n{}", read_logs(logs));
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn read_logs(logs: &[PathBuf]) -> String {
    let mut files: Vec<PathBuf> = Vec::new();
    for path in logs {
        match std::fs::read_dir(path) {
            Ok(entries) => files.extend(entries.flatten().map(|e| e.path())),
            Err(_) => files.push(path.clone()),
        }
    }
    files
        .iter()
        .map(|f| {
            let text = std::fs::read_to_string(f).unwrap_or_else(|e| format!("({e})"));
            format!("--- {}\n{text}", f.display())
        })
        .collect()
}

#[test]
fn a_todo_written_on_one_machine_reaches_the_other_through_daemons_and_a_hub() {
    two_daemons_through_a_hub(None);
}

#[test]
fn the_same_with_the_hub_on_postgresql() {
    let db = TestDatabase::create();
    two_daemons_through_a_hub(Some(&db.url()));
}

/// Two machines (homes, Claude folders, device names), each with its daemon,
/// and one hub process on `database` (SQLite in its home by default).
fn two_daemons_through_a_hub(database: Option<&str>) {
    let hub_home = tempfile::tempdir().unwrap();
    let hub = serve_on(hub_home.path(), &database_args(database));
    let port = hub.port;
    let token = hub_token(hub_home.path(), &database_args(database));

    let (a, b) = (Sandbox::new(), Sandbox::new());
    for (sandbox, device) in [(&a, "A"), (&b, "B")] {
        std::fs::write(
            sandbox.home().join("config.toml"),
            format!("device = \"{device}\"\n[hub]\nurl = \"http://127.0.0.1:{port}\"\ntoken = \"{token}\"\n"),
        )
        .unwrap();
    }
    let daemons: Vec<Running> = [&a, &b]
        .iter()
        .map(|s| {
            let child = s
                .command()
                .arg("daemon")
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            Running(child)
        })
        .collect();
    let logs = [
        hub.log.clone(),
        a.home().join("logs"),
        b.home().join("logs"),
    ];
    wait_for("both daemons' first runs", &logs, || {
        a.home().join("daemon.json").exists() && b.home().join("daemon.json").exists()
    });

    a.write(
        "todos/5e55a0b1-agent-5e55a0b1.json",
        todo_list(&[("Shared through the hub", "in_progress")]),
    );
    let on_b = b.home().join("todos.json");
    wait_for("the todo on machine B", &logs, || {
        std::fs::read_to_string(&on_b).is_ok_and(|t| t.contains("Shared through the hub"))
    });
    let listed = b.todos(&[]);
    let todo = listed
        .iter()
        .find(|t| t["content"] == "Shared through the hub")
        .unwrap();
    assert_eq!(todo["status"], "in_progress");
    assert_eq!(todo["sessions"], serde_json::json!(["5e55a0b1"]));
    let history = b.json(&["history", "Shared through the hub"]);
    let step = &history[0]["observations"][0];
    assert_eq!(step["device"], "A");
    assert_eq!(step["via"], "hub");
    drop(daemons);
}

/// A throwaway database on the local PostgreSQL server, dropped at the end.
struct TestDatabase {
    admin: String,
    name: String,
}

impl TestDatabase {
    fn create() -> TestDatabase {
        let admin = std::env::var("CHITTYSYNC_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let name = format!(
            "chittysync_cli_{}_{}",
            std::process::id(),
            Timestamp::now().millis()
        );
        let out = Command::new("psql")
            .args([admin.as_str(), "-c", &format!("CREATE DATABASE {name}")])
            .output()
            .expect("psql (PostgreSQL's client) is needed for this test");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        TestDatabase { admin, name }
    }

    fn url(&self) -> String {
        let base = self
            .admin
            .rsplit_once('/')
            .map_or(self.admin.as_str(), |(b, _)| b);
        format!("{base}/{}", self.name)
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .args([
                self.admin.as_str(),
                "-c",
                &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
            ])
            .output();
    }
}

#[test]
fn two_hub_processes_on_postgresql_push_to_each_others_websocket_clients() {
    let db = TestDatabase::create();
    let url = db.url();
    let home = tempfile::tempdir().unwrap();
    let token = hub_token(home.path(), &database_args(Some(&url)));
    let one = serve_on(home.path(), &database_args(Some(&url)));
    let two = serve_on(home.path(), &database_args(Some(&url)));
    let (port_one, port_two) = (one.port, two.port);

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let on_two = HubClient::new(&format!("http://127.0.0.1:{port_two}"), &token).unwrap();
        let mut subscription = on_two.subscribe(None).await.unwrap();
        let observation = Observation::new(
            "api",
            "Posted to hub one".into(),
            None,
            Status::Pending,
            "s1".into(),
            Some("s1".into()),
            "laptop",
            Source::File,
            Timestamp::now(),
        );
        let on_one = HubClient::new(&format!("http://127.0.0.1:{port_one}"), &token).unwrap();
        on_one
            .push("laptop", std::slice::from_ref(&observation))
            .await
            .unwrap();
        let batch = tokio::time::timeout(WAIT, subscription.next())
            .await
            .expect("hub two's client heard nothing")
            .expect("the subscription ended")
            .unwrap();
        assert_eq!(batch.observations, vec![observation]);
    });
}
