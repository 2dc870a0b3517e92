//! `[notify]` (docs/COLLISIONS.md): tells the person when two
//! sessions collide, a session's plan completes, a session goes stale with
//! work in progress or a sync keeps failing — through a command of theirs, a
//! webhook and/or a desktop notification.
//!
//! Detecting and sending are apart. [`queue_collisions`] and [`queue_events`]
//! run where the picture changes (the daemon after a consolidation or a sync,
//! `chittysync notify`), and queue each new event in the store once per
//! channel — the store's
//! ledger, not a process's memory, is what makes "each event once" hold
//! across restarts and between the daemon and the CLI. [`deliver_due`] sends
//! what is due, at most `max_per_hour` per channel, and reschedules a failure
//! with a growing delay; the daemon runs it on a thread of its own
//! ([`Worker`]), so a slow webhook never holds up the picture.

#![forbid(unsafe_code)]

mod channel;
mod events;

pub use channel::{Channel, SendError};
pub use events::{
    failing, plans_completed, sessions_stale, syncs_failing, Event, Failing, PLAN_COMPLETED,
    RECENT, SESSION_STALE, SYNCS, SYNC_FAILING,
};

use chittysync_config::{Config, NotifyConfig};
use chittysync_core::{Collision, Timestamp};
use chittysync_engine::{Delivered, Ledger, Notice, Reader, StoreError};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::mpsc::{channel as mpsc, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum NotifyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("[notify]: {0}")]
    Config(String),
}

/// The event of a collision (the others are in [`events`]).
pub const COLLISION: &str = "collision";

/// A failed event is tried at most this many times in all.
const MAX_ATTEMPTS: u32 = 8;
/// Tries within one delivery, before the event waits for a later one.
const QUICK_TRIES: u32 = 3;

/// The channels `[notify]` configures, checked: an empty command, a webhook
/// that is not a URL or `http://` to another host are errors that say so.
pub fn channels(config: &NotifyConfig) -> Result<Vec<Channel>, NotifyError> {
    let mut out = Vec::new();
    if let Some(argv) = &config.command {
        if argv.is_empty() || argv[0].trim().is_empty() {
            return Err(NotifyError::Config(
                "`command` is empty: give the program and its arguments, e.g. [\"notify-send-wrapper\"]"
                    .into(),
            ));
        }
        out.push(Channel::Command(argv.clone()));
    }
    if let Some(url) = &config.webhook {
        out.push(Channel::webhook(url).map_err(NotifyError::Config)?);
    }
    if config.desktop {
        out.push(Channel::Desktop);
    }
    Ok(out)
}

/// The event told of a collision.
pub fn collision_event(c: &Collision, device: &str, now: Timestamp) -> Value {
    let sessions: Vec<Value> = c
        .sessions
        .iter()
        .map(|h| {
            json!({"session": h.session, "agent": h.agent, "device": h.device,
                   "since": h.since, "last_seen": h.last})
        })
        .collect();
    let names: Vec<String> = c
        .sessions
        .iter()
        .map(|h| format!("{} ({})", chittysync_core::short_id(&h.session), h.agent))
        .collect();
    json!({
        "event": COLLISION,
        "at": now,
        "device": device,
        "title": format!("chittysync: collision in {}", c.project),
        "message": format!("\"{}\" is in progress in {} sessions at once: {}",
                           c.content, c.sessions.len(), names.join(", ")),
        "project": c.project,
        "todo_id": c.todo_id,
        "content": c.content,
        "since": c.since(),
        "sessions": sessions,
    })
}

/// A collision's key in the ledger: the todo and its sessions, so a third
/// session joining is a new event and the same two sessions never are.
fn collision_key(c: &Collision) -> String {
    let mut sessions: Vec<&str> = c.sessions.iter().map(|h| h.session.as_str()).collect();
    sessions.sort_unstable();
    format!("{COLLISION}:{}:{}", c.todo_id, sessions.join(","))
}

/// Queues each collision not queued before, once per channel; returns how
/// many events are new. Nothing when `[notify]` is off.
pub fn queue_collisions(
    ledger: &mut Ledger,
    config: &NotifyConfig,
    collisions: &[Collision],
    device: &str,
    now: Timestamp,
) -> Result<usize, NotifyError> {
    queue_events(
        ledger,
        config,
        &collision_events(collisions, device, now),
        now,
    )
}

/// The events of these collisions.
pub fn collision_events(collisions: &[Collision], device: &str, now: Timestamp) -> Vec<Event> {
    collisions
        .iter()
        .map(|c| Event {
            key: collision_key(c),
            kind: COLLISION,
            body: collision_event(c, device, now),
        })
        .collect()
}

/// What the picture has to tell now: its collisions, the plans of this
/// device's sessions just completed, its sessions just gone stale with work
/// in progress, and the syncs failing for `sync_failing_after` (as
/// their sync state records them).
pub fn picture_events(
    reader: Reader<'_>,
    config: &Config,
    device: &str,
    now: Timestamp,
) -> Result<Vec<Event>, NotifyError> {
    let stale_after = config.sessions.stale_after;
    let collisions = chittysync_engine::collisions_in(reader, None, now, stale_after)?;
    let mut events = collision_events(&collisions, device, now);
    let stored = reader.folded_todos()?;
    let todos = stored
        .iter()
        .map(|t| t.entry())
        .collect::<Result<Vec<_>, _>>()?;
    let sessions = chittysync_engine::views::session_views(
        &stored,
        reader.sessions()?,
        now,
        stale_after.as_millis() as i64,
    );
    events.extend(plans_completed(&todos, &sessions, device, now));
    events.extend(sessions_stale(&todos, &sessions, device, stale_after, now));
    events.extend(syncs_failing(
        reader,
        config.notify.sync_failing_after,
        device,
        now,
    )?);
    Ok(events)
}

/// Queues what the picture has to tell ([`picture_events`]) not queued
/// before; returns how many events are new. Nothing when `[notify]` is off.
pub fn queue_picture(
    ledger: &mut Ledger,
    config: &Config,
    device: &str,
    now: Timestamp,
) -> Result<usize, NotifyError> {
    if !config.notify.enabled {
        return Ok(0);
    }
    let events = picture_events(ledger.reader(), config, device, now)?;
    queue_events(ledger, &config.notify, &events, now)
}

/// Queues each event whose key was not queued before, once per channel;
/// returns how many events are new. Nothing when `[notify]` is off.
pub fn queue_events(
    ledger: &mut Ledger,
    config: &NotifyConfig,
    events: &[Event],
    now: Timestamp,
) -> Result<usize, NotifyError> {
    if !config.enabled || events.is_empty() {
        return Ok(0);
    }
    let channels = channels(config)?;
    if channels.is_empty() {
        return Ok(0);
    }
    // One row per event and channel, each event's channels together.
    let bodies: Vec<String> = events.iter().map(|e| e.body.to_string()).collect();
    let rows: Vec<(String, &str, &str)> = events
        .iter()
        .zip(&bodies)
        .flat_map(|(event, body)| {
            channels.iter().map(move |channel| {
                let key = format!("{}|{}", channel.name(), event.key);
                (key, event.kind, body.as_str())
            })
        })
        .collect();
    let notices: Vec<Notice<'_>> = rows
        .iter()
        .map(|(key, kind, body)| Notice { key, kind, body })
        .collect();
    let fresh = ledger.queue_notices(&notices, now)?;
    // An event is new when any of its channels' rows was.
    Ok(fresh
        .chunks(channels.len())
        .filter(|rows| rows.contains(&true))
        .count())
}

/// What one delivery did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Delivery {
    pub sent: usize,
    pub failed: Vec<String>,
    /// Held back by the rate limit.
    pub waiting: usize,
}

/// Sends the events due at `now`, each to its channel; a failure is tried
/// again a few times at once, then later with a growing delay, and dropped
/// after [`MAX_ATTEMPTS`].
pub fn deliver_due(
    ledger: &mut Ledger,
    config: &NotifyConfig,
    now: Timestamp,
) -> Result<Delivery, NotifyError> {
    let channels = channels(config)?;
    let mut out = Delivery::default();
    let hour_ago = Timestamp(now.millis() - 3_600_000);
    for event in ledger.due_notices(now)? {
        let Some((name, _)) = event.key.split_once('|') else {
            continue;
        };
        let Some(channel) = channels.iter().find(|c| c.name() == name) else {
            // A channel no longer configured: its events wait for it.
            continue;
        };
        let prefix = format!("{name}|");
        if ledger.notices_sent_since(&prefix, hour_ago)? >= u64::from(config.max_per_hour) {
            out.waiting += 1;
            continue;
        }
        match send_with_retries(channel, event.body.as_bytes()) {
            Ok(()) => {
                ledger.delivered(
                    &event.key,
                    Delivered::Sent {
                        at: Timestamp::now(),
                    },
                )?;
                out.sent += 1;
            }
            Err(e) => {
                let message = format!("{}: {e}", channel.describe());
                tracing::warn!(event = %event.key, "notify: {message}");
                let attempts = event.attempts + 1;
                let how = if attempts >= MAX_ATTEMPTS {
                    Delivered::Dropped {
                        error: &message,
                        at: Timestamp::now(),
                    }
                } else {
                    Delivered::Failed {
                        error: &message,
                        next_try: Timestamp(
                            Timestamp::now().millis() + backoff(attempts).as_millis() as i64,
                        ),
                    }
                };
                ledger.delivered(&event.key, how)?;
                out.failed.push(message);
            }
        }
    }
    Ok(out)
}

/// The wait before try `attempts + 1` of an event: 30 s, 2 min, 8 min… up to an hour.
pub fn backoff(attempts: u32) -> Duration {
    let secs = 30u64.saturating_mul(4u64.saturating_pow(attempts.saturating_sub(1)));
    Duration::from_secs(secs.min(3600))
}

/// One delivery: up to [`QUICK_TRIES`] tries, 0.5 s then 1 s apart, for
/// the blips (a receiver restarting); only a client error (4xx) is final.
fn send_with_retries(channel: &Channel, body: &[u8]) -> Result<(), SendError> {
    let mut delay = Duration::from_millis(500);
    let mut tries = 0;
    loop {
        tries += 1;
        match channel.send(body) {
            Ok(()) => return Ok(()),
            Err(e) if tries >= QUICK_TRIES || !e.is_transient() => return Err(e),
            Err(_) => {
                std::thread::sleep(delay);
                delay *= 2;
            }
        }
    }
}

/// A sample event for `chittysync notify --test`.
pub fn test_event(device: &str, now: Timestamp) -> Value {
    json!({
        "event": "test",
        "at": now,
        "device": device,
        "title": "chittysync: test notification",
        "message": "This is how chittysync tells you when two sessions take the same todo, a plan completes, a session goes stale with work in progress, or a sync keeps failing.",
    })
}

/// Per channel (described), what sending to it did.
pub type Outcomes = Vec<(String, Result<(), SendError>)>;

/// Sends the sample event to every channel now; per channel, what happened.
pub fn send_test(
    config: &NotifyConfig,
    device: &str,
    now: Timestamp,
) -> Result<Outcomes, NotifyError> {
    let body = test_event(device, now).to_string();
    Ok(channels(config)?
        .into_iter()
        .map(|c| (c.describe(), send_with_retries(&c, body.as_bytes())))
        .collect())
}

/// The daemon's sender: a thread with its own store connection (a
/// [`Ledger`]) that sends
/// what is due whenever woken, and retries on its own schedule.
pub struct Worker {
    wake: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

/// How often the worker looks for events due for a retry.
const RETRY_CHECK: Duration = Duration::from_secs(15);

impl Worker {
    /// Starts the worker, or None when `[notify]` is off.
    pub fn start(store_path: PathBuf, config: NotifyConfig) -> Result<Option<Worker>, NotifyError> {
        if !config.enabled {
            return Ok(None);
        }
        channels(&config)?;
        let mut ledger = Ledger::open(&store_path)?;
        let (wake, rx) = mpsc::<()>();
        let thread = std::thread::Builder::new()
            .name("notify".into())
            .spawn(move || loop {
                if let Err(e) = deliver_due(&mut ledger, &config, Timestamp::now()) {
                    tracing::error!("notify: {e}");
                }
                match rx.recv_timeout(RETRY_CHECK) {
                    Ok(()) | Err(RecvTimeoutError::Timeout) => {
                        // Many wakes in a row are one delivery.
                        while rx.try_recv().is_ok() {}
                    }
                    Err(RecvTimeoutError::Disconnected) => return,
                }
            })
            .map_err(|e| NotifyError::Config(format!("cannot start its thread: {e}")))?;
        Ok(Some(Worker {
            wake: Some(wake),
            thread: Some(thread),
        }))
    }

    /// Asks for a delivery now (events were queued).
    pub fn wake(&self) {
        if let Some(wake) = &self.wake {
            let _ = wake.send(());
        }
    }
}

impl Drop for Worker {
    /// Lets the delivery under way finish, then stops the thread.
    fn drop(&mut self) {
        self.wake.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_to_an_hour() {
        assert_eq!(backoff(1), Duration::from_secs(30));
        assert_eq!(backoff(2), Duration::from_secs(120));
        assert_eq!(backoff(3), Duration::from_secs(480));
        assert_eq!(backoff(7), Duration::from_secs(3600));
    }

    #[test]
    fn bad_channels_are_refused_with_what_to_do() {
        let config = |command: Option<Vec<String>>, webhook: Option<&str>| NotifyConfig {
            enabled: true,
            command,
            webhook: webhook.map(str::to_string),
            ..NotifyConfig::default()
        };
        let err = channels(&config(Some(vec![]), None))
            .unwrap_err()
            .to_string();
        assert!(err.contains("`command` is empty"), "{err}");
        let err = channels(&config(None, Some("ftp://x")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("https://"), "{err}");
        let err = channels(&config(None, Some("http://example.org/x")))
            .unwrap_err()
            .to_string();
        assert!(err.contains("loopback"), "{err}");
        assert_eq!(
            channels(&config(None, Some("http://127.0.0.1:9/x")))
                .unwrap()
                .len(),
            1
        );
        assert_eq!(
            channels(&config(
                Some(vec!["cat".into()]),
                Some("https://example.org/x")
            ))
            .unwrap()
            .len(),
            2
        );
    }
}
