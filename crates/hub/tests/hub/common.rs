//! Real parts for the hub's tests: a SQLite file in a temporary folder, or a
//! throwaway database on the real PostgreSQL server, and hubs served for real
//! on 127.0.0.1 with an ephemeral port.
//!
//! PostgreSQL: `CHITTYSYNC_TEST_PG` names the admin URL (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each test creates its own
//! database `chittysync_test_<pid>_<random>` and drops it when done, even when
//! the test fails.

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_hub::client::HubClient;
use chittysync_hub::{bind, HubConfig};
use sqlx::{Connection, Executor, PgConnection};
use std::net::SocketAddr;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Declares each listed `async fn name(backend: Backend)` as two tests,
/// `sqlite::name` and `postgres::name` (taskchampion's pattern: the behaviour
/// is written once and every backend must show it).
macro_rules! backend_tests {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    super::$name(crate::common::Backend::Postgres).await
                }
            )*
        }
    };
}

pub fn pg_admin_url() -> String {
    std::env::var("CHITTYSYNC_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string())
}

/// A database that lives as long as this value.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

/// Drops its database when dropped.
struct PgDatabase {
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let sql = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Drop may run inside a runtime; do the async work on a thread of its own.
        let _ = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(mut conn) = PgConnection::connect(&admin).await {
                    let _ = conn.execute(sqlx::AssertSqlSafe(sql)).await;
                }
            });
        })
        .join();
    }
}

/// The admin URL with its database name replaced.
fn with_database(admin: &str, name: &str) -> String {
    let (base, query) = match admin.split_once('?') {
        Some((base, query)) => (base, format!("?{query}")),
        None => (admin, String::new()),
    };
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(slash) => &base[..scheme_end + slash],
        None => base,
    };
    format!("{root}/{name}{query}")
}

impl TestDb {
    pub async fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}", dir.path().join("hub.db").display());
                TestDb {
                    url,
                    _dir: Some(dir),
                    _pg: None,
                }
            }
            Backend::Postgres => {
                let admin = pg_admin_url();
                let name = format!(
                    "chittysync_test_{}_{:016x}",
                    std::process::id(),
                    getrandom::u64().expect("random")
                );
                let mut conn = PgConnection::connect(&admin).await.unwrap_or_else(|e| {
                    panic!(
                        "PostgreSQL is not reachable at {admin} ({e}); start it \
                         (pg_ctlcluster --skip-systemctl-redirect <version> main start) \
                         or set CHITTYSYNC_TEST_PG"
                    )
                });
                conn.execute(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
                    .await
                    .expect("create test database");
                let _ = conn.close().await;
                TestDb {
                    url: with_database(&admin, &name),
                    _dir: None,
                    _pg: Some(PgDatabase { admin, name }),
                }
            }
        }
    }
}

/// A hub serving on 127.0.0.1 in this process.
pub struct TestHub {
    pub addr: SocketAddr,
    pub base: String,
    stop: oneshot::Sender<()>,
    task: JoinHandle<anyhow::Result<()>>,
}

impl TestHub {
    pub async fn start(database_url: &str) -> TestHub {
        let config = HubConfig::new("127.0.0.1:0".parse().unwrap(), database_url);
        TestHub::start_with(config).await
    }

    pub async fn start_with(config: HubConfig) -> TestHub {
        let hub = bind(config).await.expect("hub binds");
        let addr = hub.local_addr();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(hub.run(async {
            let _ = stopped.await;
        }));
        TestHub {
            addr,
            base: format!("http://{addr}"),
            stop,
            task,
        }
    }

    pub fn client(&self, token: &str) -> HubClient {
        HubClient::new(&self.base, token).expect("client")
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// Shuts down gracefully and returns what `run` returned.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.stop.send(());
        self.task.await.expect("hub task")
    }
}

pub async fn token(database_url: &str, tenant: &str) -> String {
    chittysync_hub::tokens::create(database_url, tenant)
        .await
        .expect("token created")
}

pub fn now_ms() -> i64 {
    Timestamp::now().millis()
}

/// An observation by `session` (also its observer) on device `laptop`.
pub fn obs(project: &str, content: &str, status: Status, session: &str, at_ms: i64) -> Observation {
    Observation::new(
        project,
        content.to_string(),
        None,
        status,
        session.to_string(),
        Some(session.to_string()),
        "laptop",
        Source::File,
        Timestamp(at_ms),
    )
}

/// A raw HTTP client, for requests the typed client would never make.
pub fn http() -> reqwest::Client {
    reqwest::Client::new()
}

/// Status and JSON body of a response; panics if the body is not JSON.
pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

#[test]
fn database_urls_are_rewritten() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://root@localhost?sslmode=disable", "x"),
        "postgres://root@localhost/x?sslmode=disable"
    );
}
