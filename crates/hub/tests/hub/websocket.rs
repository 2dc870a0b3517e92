//! The WebSocket route on every backend, and graceful shutdown.

use crate::common::{alices_hub, http, next_batch, now_ms, obs, send_json, Backend, TestHub, WAIT};
use chittysync_core::Status;
use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

backend_tests!(
    pushes_new_observations_and_replays_from_a_cursor,
    browsers_pass_the_token_in_the_query,
    shutdown_closes_sessions_and_drains,
);

async fn pushes_new_observations_and_replays_from_a_cursor(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let client = hub.client(&token);
    let mut live = client.subscribe(None).await.unwrap();
    assert_eq!(live.cursor, "0");

    let t = now_ms();
    let first: Vec<_> = (0..3)
        .map(|i| obs("api", &format!("First {i}"), Status::Pending, "s1", t))
        .collect();
    client.push("laptop", &first).await.unwrap();
    let batch = next_batch(&mut live).await;
    assert_eq!(batch.observations, first);
    assert_eq!(batch.cursor, "3");

    let second = vec![
        obs("api", "First 0", Status::Completed, "s2", t + 1),
        obs("web", "Second", Status::InProgress, "s2", t + 1),
    ];
    client.push("laptop", &second).await.unwrap();
    let batch = next_batch(&mut live).await;
    assert_eq!(batch.observations, second);
    assert_eq!((batch.cursor.as_str(), live.cursor.as_str()), ("5", "5"));
    // A duplicate push stores nothing and so pushes nothing.
    client.push("laptop", &second).await.unwrap();
    assert!(
        tokio::time::timeout(Duration::from_millis(500), live.next())
            .await
            .is_err()
    );

    let mut replay = client.subscribe(Some("0")).await.unwrap();
    let batch = next_batch(&mut replay).await;
    assert_eq!(batch.observations, [first.clone(), second.clone()].concat());
    let mut tail = client.subscribe(Some("3")).await.unwrap();
    let batch = next_batch(&mut tail).await;
    assert_eq!(batch.observations, second);

    let metrics = hub.metrics().await;
    assert!(metrics.contains("chittysync_hub_ws_clients 3"), "{metrics}");
    live.close().await.unwrap();
    replay.close().await.unwrap();
    tail.close().await.unwrap();
    hub.stop().await.unwrap();
}

async fn next_json(
    socket: &mut tokio_tungstenite::WebSocketStream<
        tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>,
    >,
) -> Value {
    loop {
        match tokio::time::timeout(WAIT, socket.next())
            .await
            .unwrap()
            .unwrap()
            .unwrap()
        {
            Message::Text(text) => return serde_json::from_str(text.as_str()).unwrap(),
            Message::Ping(_) | Message::Pong(_) => continue,
            other => panic!("unexpected {other:?}"),
        }
    }
}

async fn browsers_pass_the_token_in_the_query(backend: Backend) {
    let (_db, token, hub) = alices_hub(backend).await;
    let ws_url = format!("ws://{}/api/ws", hub.addr);

    let (mut socket, _) = tokio_tungstenite::connect_async(format!("{ws_url}?token={token}"))
        .await
        .unwrap();
    socket
        .send(Message::Text(r#"{"subscribe": {"since": 0}}"#.into()))
        .await
        .unwrap();
    assert_eq!(
        next_json(&mut socket).await,
        json!({"type": "subscribed", "cursor": "0"})
    );
    socket.send(Message::Text("hello".into())).await.unwrap();
    let error = next_json(&mut socket).await;
    assert_eq!(error["type"], "error");
    assert!(
        error["error"]
            .as_str()
            .unwrap()
            .starts_with("malformed JSON"),
        "{error}"
    );
    socket
        .send(Message::Text(r#"{"subscribe": {"since": "later"}}"#.into()))
        .await
        .unwrap();
    let error = next_json(&mut socket).await;
    assert!(
        error["error"].as_str().unwrap().contains("invalid cursor"),
        "{error}"
    );
    // Still subscribed after the errors.
    hub.client(&token)
        .push(
            "laptop",
            &[obs("api", "Seen", Status::Pending, "s1", now_ms())],
        )
        .await
        .unwrap();
    let pushed = next_json(&mut socket).await;
    assert_eq!(pushed["type"], "observations");
    assert_eq!(pushed["cursor"], "1");
    assert_eq!(pushed["observations"][0]["content"], "Seen");

    match tokio_tungstenite::connect_async(ws_url.as_str()).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    match tokio_tungstenite::connect_async(format!("{ws_url}?token=cst_nope")).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 401)
        }
        other => panic!("expected 401, got {:?}", other.map(|_| ())),
    }
    // A plain GET is not a WebSocket handshake.
    let (status, body) = send_json(http().get(hub.url("/api/ws")).bearer_auth(&token)).await;
    assert_eq!(status, 400);
    assert!(body["error"].is_string());
    hub.stop().await.unwrap();
}

async fn shutdown_closes_sessions_and_drains(backend: Backend) {
    let (db, token, hub) = alices_hub(backend).await;
    let addr = hub.addr;
    let mut live = hub.client(&token).subscribe(None).await.unwrap();
    tokio::time::timeout(WAIT, hub.stop())
        .await
        .expect("shutdown finishes")
        .expect("clean shutdown");
    // The session was closed by the hub, not left dangling.
    assert!(tokio::time::timeout(WAIT, live.next())
        .await
        .unwrap()
        .is_none());
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
    // The database was closed cleanly and opens again with its data.
    let hub = TestHub::start(&db.url).await;
    assert!(hub.client(&token).status().await.is_ok());
    hub.stop().await.unwrap();
}
