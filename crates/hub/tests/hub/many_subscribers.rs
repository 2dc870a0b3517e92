//! A thousand WebSocket subscribers held at once, every one of them told of a push.

use crate::common::{alices_hub, now_ms, obs, Backend};
use chittysync_core::Status;
use std::time::Duration;

const SUBSCRIBERS: usize = 1000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_subscribers_all_hear_a_push() {
    let (_db, token, hub) = alices_hub(Backend::Sqlite).await;
    let client = hub.client(&token);
    let mut subscriptions = Vec::with_capacity(SUBSCRIBERS);
    for _ in 0..SUBSCRIBERS {
        subscriptions.push(client.subscribe(None).await.unwrap());
    }
    let pushed = vec![obs(
        "api",
        "Told to everyone",
        Status::Pending,
        "s1",
        now_ms(),
    )];
    client.push("laptop", &pushed).await.unwrap();
    let heard = futures_util::future::join_all(subscriptions.iter_mut().map(|s| async {
        tokio::time::timeout(Duration::from_secs(60), s.next())
            .await
            .ok()
            .flatten()
            .and_then(Result::ok)
            .map(|batch| batch.observations)
    }))
    .await;
    let told = heard.iter().filter(|h| h.as_ref() == Some(&pushed)).count();
    assert_eq!(told, SUBSCRIBERS);
}
