//! The hub on PostgreSQL over TLS (docs/HUB_API.md#tls): the local server
//! serves a certificate for 127.0.0.1 made by a test CA (set up by `.ci/run`,
//! in /var/lib/postgresql/chittysync-test-tls). With `sslmode=verify-full`
//! and that CA the hub connects — encrypted — and serves; a name the
//! certificate does not carry, or another CA, is refused with the
//! certificate problem named.

use crate::common::{now_ms, obs, token, Backend, TestDb, TestHub};
use chittysync_core::Status;
use chittysync_hub::{bind, HubConfig};
use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};
use sqlx::Connection;
use std::path::Path;

const TEST_CA: &str = "/var/lib/postgresql/chittysync-test-tls/ca.crt";

fn with_params(url: &str, params: &str) -> String {
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!("{url}{joiner}{params}")
}

fn test_ca() -> &'static str {
    assert!(
        Path::new(TEST_CA).exists(),
        "{TEST_CA} is missing: run .ci/run (its PostgreSQL TLS step) to give the local \
         server a test CA and certificate"
    );
    TEST_CA
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verify_full_connects_encrypted_and_serves() {
    let db = TestDb::new(Backend::Postgres);
    let url = with_params(
        &db.url,
        &format!("sslmode=verify-full&sslrootcert={}", test_ca()),
    );
    let token = token(&url, "alice").await;
    let hub = TestHub::start(&url).await;
    let batch = vec![obs("api", "Over TLS", Status::Pending, "s1", now_ms())];
    let answer = hub.client(&token).push("laptop", &batch).await.unwrap();
    assert_eq!(answer.accepted, 1);
    hub.stop().await.unwrap();

    // The connection the hub's URL makes is encrypted.
    let mut connection = sqlx::PgConnection::connect(&url).await.unwrap();
    let ssl: bool = sqlx::query_scalar("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        .fetch_one(&mut connection)
        .await
        .unwrap();
    assert!(ssl, "the connection is not encrypted");
    connection.close().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_whose_certificate_does_not_match_is_refused() {
    let db = TestDb::new(Backend::Postgres);
    // `localhost` reaches the same server, but its certificate names 127.0.0.1 only.
    let by_name = with_params(
        &db.url.replacen("@127.0.0.1", "@localhost", 1),
        &format!("sslmode=verify-full&sslrootcert={}", test_ca()),
    );
    let error = refusal(&by_name).await;
    assert!(
        error.contains("not valid for name \"localhost\""),
        "{error}"
    );
    // verify-ca checks the CA, not the name: that passes.
    let ca_only = by_name.replace("sslmode=verify-full", "sslmode=verify-ca");
    let hub = bind(HubConfig::new("127.0.0.1:0".parse().unwrap(), ca_only))
        .await
        .expect("verify-ca ignores the name");
    hub.run(async {}).await.unwrap();

    // A CA that did not sign the server's certificate.
    let dir = tempfile::tempdir().unwrap();
    let mut params = CertificateParams::new(Vec::<String>::new()).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let other = params.self_signed(&KeyPair::generate().unwrap()).unwrap();
    let other_ca = dir.path().join("other-ca.pem");
    std::fs::write(&other_ca, other.pem()).unwrap();
    let stranger = with_params(
        &db.url,
        &format!("sslmode=verify-full&sslrootcert={}", other_ca.display()),
    );
    let error = refusal(&stranger).await;
    assert!(error.contains("UnknownIssuer"), "{error}");
    assert!(!error.contains("password"), "{error}");
}

/// Why the hub cannot open the database at `url`, as it says it.
async fn refusal(url: &str) -> String {
    match bind(HubConfig::new("127.0.0.1:0".parse().unwrap(), url)).await {
        Ok(_) => panic!("{url}: the hub connected"),
        Err(error) => format!("{error:#}"),
    }
}
