//! Hub databases for tests: a SQLite file in a temporary folder, or a
//! throwaway database on the real PostgreSQL server.
//!
//! PostgreSQL: `CHITTYSYNC_TEST_PG` names the admin URL (default
//! `postgres://postgres@127.0.0.1:5432/postgres`); each [`TestDb`] creates
//! its own database `chittysync_test_<pid>_<random>` and drops it when it is
//! dropped, even when the test fails.

use sqlx::{Connection, Executor, PgConnection};
use std::future::Future;

/// The hub's two stores; tests of shared behaviour run on each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// A hub database that lives as long as this value.
pub struct TestDb {
    /// The database URL the hub and its token commands take.
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<PgDatabase>,
}

impl TestDb {
    pub fn new(backend: Backend) -> TestDb {
        match backend {
            Backend::Sqlite => TestDb::sqlite(),
            Backend::Postgres => TestDb::postgres(),
        }
    }

    /// `hub.db` in a temporary folder of its own (the hub creates the file).
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        TestDb {
            url: format!("sqlite://{}", dir.path().join("hub.db").display()),
            _dir: Some(dir),
            _pg: None,
        }
    }

    /// A new, empty database on the PostgreSQL server. Panics, saying how to
    /// start the server, if it is not reachable: a test that needs it must
    /// fail, not pass without it.
    pub fn postgres() -> TestDb {
        let admin = std::env::var("CHITTYSYNC_TEST_PG")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_string());
        let name = format!(
            "chittysync_test_{}_{:016x}",
            std::process::id(),
            getrandom::u64().expect("random")
        );
        let create = format!("CREATE DATABASE \"{name}\"");
        let at = admin.clone();
        on_own_thread(async move {
            let mut conn = PgConnection::connect(&at).await.unwrap_or_else(|e| {
                panic!(
                    "PostgreSQL is not reachable at {at} ({e}); start it \
                     (pg_ctlcluster --skip-systemctl-redirect <version> main start) \
                     or set CHITTYSYNC_TEST_PG"
                )
            });
            conn.execute(sqlx::AssertSqlSafe(create))
                .await
                .expect("create test database");
            let _ = conn.close().await;
        })
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic));
        TestDb {
            url: with_database(&admin, &name),
            _dir: None,
            _pg: Some(PgDatabase { admin, name }),
        }
    }
}

/// Drops its database when dropped.
struct PgDatabase {
    admin: String,
    name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let admin = self.admin.clone();
        let drop = format!("DROP DATABASE IF EXISTS \"{}\" WITH (FORCE)", self.name);
        // Best effort: a panic here, while a failed test unwinds, would abort.
        let _ = on_own_thread(async move {
            if let Ok(mut conn) = PgConnection::connect(&admin).await {
                let _ = conn.execute(sqlx::AssertSqlSafe(drop)).await;
            }
        });
    }
}

/// Runs `work` on a thread and runtime of its own, so that the same code
/// serves plain `#[test]`s, `#[tokio::test]`s and `Drop` alike (blocking on a
/// future inside a runtime panics; `Drop` cannot await). Returns the thread's
/// result: the output, or the panic that stopped it.
fn on_own_thread<T: Send + 'static>(
    work: impl Future<Output = T> + Send + 'static,
) -> std::thread::Result<T> {
    std::thread::spawn(move || {
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime")
            .block_on(work)
    })
    .join()
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
