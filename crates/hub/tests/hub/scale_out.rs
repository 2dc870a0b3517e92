//! Several hub processes on one PostgreSQL database (here: two hubs in this
//! process, each with its own pool and its own LISTEN connection).

use crate::common::{next_batch, now_ms, obs, token, Backend, TestDb, TestHub};
use chittysync_core::Status;
use std::collections::BTreeSet;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_push_to_one_hub_reaches_websocket_clients_of_the_other() {
    let db = TestDb::new(Backend::Postgres);
    let other_tenant = token(&db.url, "bob").await;
    let token = token(&db.url, "alice").await;
    let one = TestHub::start(&db.url).await;
    let two = TestHub::start(&db.url).await;

    let mut on_two = two.client(&token).subscribe(None).await.unwrap();
    let mut on_one = one.client(&token).subscribe(None).await.unwrap();
    let mut bob_on_two = two.client(&other_tenant).subscribe(None).await.unwrap();

    let t = now_ms();
    let first = vec![obs("api", "Pushed to one", Status::Pending, "s1", t)];
    one.client(&token).push("laptop", &first).await.unwrap();
    let heard = next_batch(&mut on_two).await;
    assert_eq!(heard.observations, first);
    let heard = next_batch(&mut on_one).await;
    assert_eq!(heard.observations, first);

    let second = vec![obs("api", "Pushed to two", Status::Completed, "s2", t)];
    two.client(&token).push("laptop", &second).await.unwrap();
    let heard = next_batch(&mut on_one).await;
    assert_eq!(
        (heard.observations, heard.cursor.as_str()),
        (second.clone(), "2")
    );
    let heard = next_batch(&mut on_two).await;
    assert_eq!(heard.observations, second);
    // The other tenant, on the hub that relayed both, heard nothing.
    assert!(
        tokio::time::timeout(Duration::from_millis(500), bob_on_two.next())
            .await
            .is_err()
    );

    // Both hubs serve the same fold.
    assert_eq!(
        one.client(&token).todos().await.unwrap(),
        two.client(&token).todos().await.unwrap()
    );
    one.stop().await.unwrap();
    two.stop().await.unwrap();
}

/// Concurrent syncs of one tenant through both hubs: every observation gets
/// its own place in the tenant's sequence, none is lost, and a subscriber
/// hears each exactly once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_syncs_on_two_hubs_keep_one_gapless_sequence() {
    let db = TestDb::new(Backend::Postgres);
    let token = token(&db.url, "alice").await;
    let one = TestHub::start(&db.url).await;
    let two = TestHub::start(&db.url).await;
    let mut listener = one.client(&token).subscribe(None).await.unwrap();

    let t = now_ms();
    let batches: Vec<Vec<_>> = (0..8)
        .map(|b| {
            (0..25)
                .map(|i| {
                    obs(
                        "api",
                        &format!("todo {}", (b * 7 + i) % 40),
                        Status::Pending,
                        &format!("s{b}"),
                        t + i,
                    )
                })
                .collect()
        })
        .collect();
    let pushes = batches.iter().enumerate().map(|(i, batch)| {
        let client = if i % 2 == 0 {
            one.client(&token)
        } else {
            two.client(&token)
        };
        let batch = batch.clone();
        async move { client.push("laptop", &batch).await.unwrap() }
    });
    let answers = futures_util::future::join_all(pushes).await;
    let accepted: u64 = answers.iter().map(|a| a.accepted).sum();
    assert_eq!(accepted, 200);

    let page = two.client(&token).since("0", Some(10_000)).await.unwrap();
    assert_eq!(
        (page.observations.len(), page.cursor.as_str()),
        (200, "200")
    );
    let mut heard = BTreeSet::new();
    while heard.len() < 200 {
        let batch = next_batch(&mut listener).await;
        for o in batch.observations {
            assert!(heard.insert(o.id), "heard twice");
        }
    }
    let expected: BTreeSet<_> = batches.concat().into_iter().map(|o| o.id).collect();
    assert_eq!(heard, expected);
    // Both hubs agree on the fold of it all.
    let folded = one.client(&token).todos().await.unwrap();
    assert_eq!(folded.todos.len(), 40);
    assert_eq!(folded, two.client(&token).todos().await.unwrap());
    one.stop().await.unwrap();
    two.stop().await.unwrap();
}
