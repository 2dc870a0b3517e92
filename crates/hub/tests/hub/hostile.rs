//! Tokens and limits (issue 14, docs/HUB_API.md#limits): a revoked token's
//! open WebSocket is closed and its last use is listed; observations stamped
//! far in the future are refused; clients that send half a request are cut
//! off by the deadlines while another client syncs.

use crate::common::WAIT;
use crate::common::{alices_hub, http, now_ms, obs, send_json, token, Backend, TestDb, TestHub};
use chittysync_core::Status;
use chittysync_hub::{tokens, HubConfig, Timeouts};
use chittysync_hubclient::client::ClientError;
use serde_json::json;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

backend_tests!(
    revoking_a_token_closes_its_websockets,
    far_future_observations_are_refused,
);

async fn revoking_a_token_closes_its_websockets(backend: Backend) {
    let (db, token, hub) = alices_hub(backend).await;
    let other = crate::common::token(&db.url, "alice").await;
    let mut doomed = hub.client(&token).subscribe(None).await.unwrap();
    let mut kept = hub.client(&other).subscribe(None).await.unwrap();

    let listed = tokens::list(&db.url).await.unwrap();
    assert!(
        listed.iter().all(|t| t.last_used_at.is_some()),
        "both tokens were presented: {listed:?}"
    );
    tokens::revoke(&db.url, &token).await.unwrap();

    // The revoked token's socket ends (Close 1008), with nothing pushed first…
    let ended = tokio::time::timeout(WAIT, doomed.next())
        .await
        .expect("the revoked token's socket is closed");
    assert!(ended.is_none(), "closed, not {ended:?}");
    // …while the tenant's other token keeps streaming.
    let pushed = obs(
        "api",
        "After the revocation",
        Status::Pending,
        "s1",
        now_ms(),
    );
    hub.client(&other)
        .push("laptop", std::slice::from_ref(&pushed))
        .await
        .unwrap();
    let batch = crate::common::next_batch(&mut kept).await;
    assert_eq!(batch.observations[0].id, pushed.id);
    // And the revoked token is refused from then on.
    match hub.client(&token).subscribe(None).await {
        Err(ClientError::Api { status: 401, .. }) => {}
        Err(other) => panic!("expected 401, got {other}"),
        Ok(_) => panic!("expected 401, got a subscription"),
    }
    hub.stop().await.unwrap();
}

async fn far_future_observations_are_refused(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let day = 24 * 60 * 60 * 1000;
    let batch = vec![
        obs("api", "Now", Status::Pending, "s1", now_ms()),
        obs(
            "api",
            "Next year",
            Status::Completed,
            "s1",
            now_ms() + 365 * day,
        ),
    ];
    let (status, body) = send_json(
        http()
            .post(hub.url("/api/todos/sync"))
            .bearer_auth(&token)
            .json(&json!({"device_id": "laptop", "observations": batch})),
    )
    .await;
    assert_eq!(status, 422, "{body}");
    let error = body["error"].as_str().unwrap();
    assert!(error.starts_with("observations[1].observed_at:"), "{error}");
    // Nothing of the request was stored; a little clock skew is fine.
    let skewed = vec![obs(
        "api",
        "Skewed",
        Status::Pending,
        "s1",
        now_ms() + 60_000,
    )];
    let answer = hub.client(&token).push("laptop", &skewed).await.unwrap();
    assert_eq!((answer.accepted, answer.cursor.as_str()), (1, "1"));
    hub.stop().await.unwrap();
}

/// 300 connections that send half a request head, and 5 that promise a
/// body they never send: the hub cuts every one off at its deadline, and a
/// client syncing meanwhile is served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_clients_are_cut_off_while_another_syncs() {
    let db = TestDb::new(Backend::Sqlite);
    let token = token(&db.url, "alice").await;
    let mut config = HubConfig::new("127.0.0.1:0".parse().unwrap(), db.url.clone());
    config.timeouts = Timeouts {
        headers: Duration::from_millis(500),
        body: Duration::from_millis(500),
        ..Timeouts::default()
    };
    let hub = TestHub::start_with(config).await;
    // Another tenant stalls its bodies: its sync slot is its own, not alice's.
    let mallory = crate::common::token(&db.url, "mallory").await;

    let mut slow = Vec::new();
    for _ in 0..300 {
        let mut socket = TcpStream::connect(hub.addr).await.unwrap();
        socket
            .write_all(b"POST /api/todos/sync HTTP/1.1\r\nHost: hub\r\n")
            .await
            .unwrap();
        slow.push(socket);
    }
    for _ in 0..5 {
        let mut socket = TcpStream::connect(hub.addr).await.unwrap();
        let head = format!(
            "POST /api/todos/sync HTTP/1.1\r\nHost: hub\r\nAuthorization: Bearer {mallory}\r\n\
             Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{{\"device_id\""
        );
        socket.write_all(head.as_bytes()).await.unwrap();
        slow.push(socket);
    }

    let batch = vec![obs("api", "Served", Status::Pending, "s1", now_ms())];
    let answer = hub.client(&token).push("laptop", &batch).await.unwrap();
    assert_eq!(answer.accepted, 1);

    // Every slow connection is ended by the hub: the half heads closed, the
    // stalled bodies answered (a 4xx) and closed.
    for mut socket in slow {
        let mut rest = Vec::new();
        let read = tokio::time::timeout(WAIT, socket.read_to_end(&mut rest)).await;
        assert!(read.is_ok(), "a slow connection was left open");
        if !rest.is_empty() {
            let text = String::from_utf8_lossy(&rest);
            assert!(text.starts_with("HTTP/1.1 4"), "{text}");
        }
    }
    hub.stop().await.unwrap();
}
