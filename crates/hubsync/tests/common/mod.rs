//! Real parts for the client's tests and benchmark: a hub served for real on
//! 127.0.0.1 over a [`TestDb`] (SQLite in a temporary folder, or a throwaway
//! database on the PostgreSQL server; see `chittysync-testkit`), and
//! chittysync homes with their own Claude folder and `config.toml` naming a
//! device and the hub.
#![allow(dead_code)]

pub use chittysync_testkit::TestDb;

use chittysync_config::{Config, LocationOverrides, Locations};
use chittysync_engine::Engine;
use chittysync_hub::{bind, HubConfig};
use chittysync_hubsync::HubSync;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::runtime::Runtime;

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime")
}

/// A hub serving on 127.0.0.1 on a runtime of its own, so that it can be
/// killed (its runtime dropped, requests in flight cut) as a crash would.
pub struct TestHub {
    pub addr: SocketAddr,
    pub url: String,
    runtime: Option<Runtime>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestHub {
    /// Serves `database_url` on `addr` (port 0: any free port).
    pub fn start(database_url: &str, addr: SocketAddr) -> TestHub {
        let runtime = runtime();
        let hub = runtime.block_on(async {
            let mut tries = 0;
            loop {
                match bind(HubConfig::new(addr, database_url)).await {
                    Ok(hub) => break hub,
                    // The port of a hub just killed may take a moment to free.
                    Err(e) if tries < 50 => {
                        tries += 1;
                        let _ = e;
                        tokio::time::sleep(Duration::from_millis(100)).await;
                    }
                    Err(e) => panic!("hub binds: {e:#}"),
                }
            }
        });
        let addr = hub.local_addr();
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        runtime.spawn(hub.run(async {
            let _ = stopped.await;
        }));
        TestHub {
            addr,
            url: format!("http://{addr}"),
            runtime: Some(runtime),
            stop: Some(stop),
        }
    }

    pub fn start_any(database_url: &str) -> TestHub {
        TestHub::start(database_url, "127.0.0.1:0".parse().unwrap())
    }

    /// Drops the hub's runtime at once: requests in flight are cut, nothing
    /// is drained — as when the process is killed.
    pub fn kill(mut self) {
        self.stop.take();
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::ZERO);
        }
    }

    /// A graceful stop.
    pub fn stop(mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

impl Drop for TestHub {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_timeout(Duration::from_secs(5));
        }
    }
}

pub fn token(database_url: &str, tenant: &str) -> String {
    runtime().block_on(async {
        chittysync_hub::tokens::create(database_url, tenant)
            .await
            .expect("token created")
    })
}

/// A free port on 127.0.0.1 (bound, then released).
pub fn free_addr() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// A chittysync home with its own Claude folder, its `config.toml` naming
/// the device and the hub, as a user would set it up.
pub struct Home {
    _dir: tempfile::TempDir,
    pub device: String,
    pub locations: Locations,
    pub config: Config,
    pub engine: Engine,
    written: usize,
}

impl Home {
    pub fn new(device: &str, hub_url: &str, token: &str) -> Home {
        let dir = tempfile::tempdir().expect("temp dir");
        let claude = dir.path().join("claude");
        let home = dir.path().join("home");
        std::fs::create_dir_all(claude.join("todos")).unwrap();
        std::fs::create_dir_all(&home).unwrap();
        std::fs::write(
            home.join("config.toml"),
            format!("device = \"{device}\"\n\n[hub]\nurl = \"{hub_url}\"\ntoken = \"{token}\"\n"),
        )
        .unwrap();
        let locations = Locations::resolve(&LocationOverrides {
            claude_dir: Some(claude),
            home: Some(home),
            ..LocationOverrides::default()
        });
        assert!(locations.config.is_some(), "<home>/config.toml is found");
        let config = Config::load(locations.config.as_deref()).unwrap();
        let engine = Engine::open(&locations, &config).unwrap();
        Home {
            _dir: dir,
            device: device.to_string(),
            locations,
            config,
            engine,
            written: 0,
        }
    }

    pub fn claude_dir(&self) -> &Path {
        &self.locations.claude_dir
    }

    /// Writes a session's todo list as Claude Code does: `todos/<session>-agent-<session>.json`.
    pub fn write_todos(&mut self, session: &str, todos: &[(&str, &str)]) -> PathBuf {
        let list: Vec<serde_json::Value> = todos
            .iter()
            .map(|(content, status)| {
                serde_json::json!({"content": content, "status": status, "activeForm": format!("Doing {content}")})
            })
            .collect();
        let path = self
            .claude_dir()
            .join("todos")
            .join(format!("{session}-agent-{session}.json"));
        std::fs::write(&path, serde_json::to_vec(&list).unwrap()).unwrap();
        self.written += 1;
        path
    }

    pub fn consolidate(&mut self) {
        self.engine.consolidate(false).expect("consolidates");
    }

    /// The link `config.toml` describes.
    pub fn hub(&self) -> HubSync {
        HubSync::from_config(&self.config, &self.locations)
            .expect("hub configured")
            .expect("a [hub] url")
    }

    /// `todos.json` as written in the home: content → status.
    pub fn todos_json(&self) -> Vec<(String, String)> {
        read_todos_json(&self.engine.outputs().todos)
    }

    pub fn status_of(&self, content: &str) -> Option<String> {
        self.todos_json()
            .into_iter()
            .find(|(c, _)| c == content)
            .map(|(_, s)| s)
    }

    /// Stores `count` local observations at once, as a big consolidation would.
    pub fn observe_many(&mut self, count: usize) {
        let observations = chittysync_testkit::bulk_observations(&self.device, "bulk", 0..count);
        chittysync_testkit::store_local(&mut self.engine, &observations);
    }

    pub fn observations(&self) -> u64 {
        self.engine.reader().observation_count().unwrap()
    }
}

pub fn read_todos_json(path: &Path) -> Vec<(String, String)> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) else {
        return Vec::new();
    };
    value["todos"]
        .as_array()
        .map(|todos| {
            todos
                .iter()
                .map(|t| {
                    (
                        t["content"].as_str().unwrap_or_default().to_string(),
                        t["status"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// How many observations the hub holds for the token's tenant, and how many
/// distinct ids among them.
pub fn hub_counts(url: &str, token: &str) -> (usize, usize) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let client = chittysync_hubclient::client::HubClient::new(url, token).unwrap();
        let mut cursor = "0".to_string();
        let mut total = 0;
        let mut ids = std::collections::HashSet::new();
        loop {
            let page = client.since(&cursor, Some(10_000)).await.unwrap();
            total += page.observations.len();
            ids.extend(page.observations.into_iter().map(|o| o.id));
            cursor = page.cursor;
            if !page.more {
                return (total, ids.len());
            }
        }
    })
}
