//! Real parts for the hub's tests: a [`TestDb`] (a SQLite file in a temporary
//! folder, or a throwaway database on the real PostgreSQL server; see
//! `chittysync-testkit`), and hubs served for real on 127.0.0.1 with an
//! ephemeral port.

pub use chittysync_testkit::{Backend, TestDb};

use chittysync_core::{Observation, Source, Status, Timestamp};
use chittysync_hub::{bind, HubConfig};
use chittysync_hubclient::client::{Batch, HubClient, Subscription};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

/// How long a test waits for what the hub must send.
pub const WAIT: Duration = Duration::from_secs(10);

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

    /// The Prometheus text of `/metrics`.
    pub async fn metrics(&self) -> String {
        http()
            .get(self.url("/metrics"))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
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

/// What most tests start from: a new database of `backend`, a token of tenant
/// `alice` on it, and a hub serving it. Hold the database as long as the hub.
pub async fn alices_hub(backend: Backend) -> (TestDb, String, TestHub) {
    let db = TestDb::new(backend);
    let token = token(&db.url, "alice").await;
    let hub = TestHub::start(&db.url).await;
    (db, token, hub)
}

/// The subscription's next batch; panics if none comes within [`WAIT`], the
/// hub closed the connection, or it sent an error.
pub async fn next_batch(subscription: &mut Subscription) -> Batch {
    tokio::time::timeout(WAIT, subscription.next())
        .await
        .expect("a batch in time")
        .expect("the connection is open")
        .expect("a batch, not an error")
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
    chittysync_hubclient::tls::install_default_provider();
    reqwest::Client::new()
}

/// Status and JSON body of a response; panics if the body is not JSON.
pub async fn json_of(response: reqwest::Response) -> (u16, serde_json::Value) {
    let status = response.status().as_u16();
    let text = response.text().await.expect("body");
    let value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"));
    (status, value)
}

/// Sends `request` and returns the status and JSON body of the response.
pub async fn send_json(request: reqwest::RequestBuilder) -> (u16, serde_json::Value) {
    json_of(request.send().await.unwrap()).await
}
