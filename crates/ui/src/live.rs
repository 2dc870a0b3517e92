//! Live updates (docs/UI.md, "Live"): one task watches the store's fold
//! generation and session count, and every open page hears of a change as a
//! server-sent event, then fetches its own view again. A page that loses its
//! stream says so and reconnects by itself (assets/app.js).

use crate::picture::Source;
use axum::response::sse::{Event, KeepAlive, Sse};
use futures_util::stream::{self, Stream, StreamExt};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::watch;

/// How often the store is asked whether the fold moved: a change reaches the
/// pages within this plus one fetch (well under the second docs/UI.md promises).
const POLL: Duration = Duration::from_millis(150);

/// Watches the store; `tx` carries a counter bumped at every change.
pub async fn watch_store(source: Arc<Source>, tx: watch::Sender<u64>) {
    let mut last = None;
    let mut ticker = tokio::time::interval(POLL);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let s = source.clone();
        let now = tokio::task::spawn_blocking(move || {
            s.with_reader(|reader| {
                Ok((
                    reader.fold_generation()?,
                    reader.fold_epoch()?,
                    reader.session_count()?,
                ))
            })
            .ok()
        })
        .await
        .ok()
        .flatten();
        if now != last {
            // Pages are open (the app keeps one receiver itself): read the
            // new picture now, so their fetches find it ready.
            if now.is_some() && tx.receiver_count() > 1 {
                let s = source.clone();
                let _ = tokio::task::spawn_blocking(move || s.picture()).await;
            }
            if last.is_some() || now.is_some() {
                tx.send_modify(|n| *n += 1);
            }
            last = now;
        }
    }
}

/// `GET /events`: `hello` at once (a reconnected page refreshes on it), then
/// `change` at every change of the picture.
pub fn events(
    rx: watch::Receiver<u64>,
) -> Sse<impl Stream<Item = Result<Event, Infallible>> + Send + 'static> {
    let first = *rx.borrow();
    let hello = Event::default()
        .event("hello")
        .retry(Duration::from_millis(1000))
        .data(first.to_string());
    let changes = stream::unfold(rx, |mut rx| async move {
        rx.changed().await.ok()?;
        let n = *rx.borrow_and_update();
        Some((Ok(Event::default().event("change").data(n.to_string())), rx))
    });
    Sse::new(stream::once(async move { Ok(hello) }).chain(changes))
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}
