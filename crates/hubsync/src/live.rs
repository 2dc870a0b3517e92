//! Live mode for the daemon: a WebSocket subscription that wakes a pull when
//! another device posts, and retries with backoff while the hub is away.
//!
//! The subscription runs on a thread of its own; it never touches the store.
//! It only calls the `wake` function it was given (the daemon posts to its
//! event channel), and the daemon then calls [`LiveHub::sync`] on its own
//! thread, where its engine lives. Wakes are coalesced: one is outstanding at
//! a time until the next sync.

use crate::error::HubSyncError;
use crate::sync::{HubSync, HubSyncReport};
use chittysync_config::{Config, Locations};
use chittysync_engine::{Backoff, Engine};
use chittysync_hubclient::client::{HubClient, Subscription};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::sync::mpsc;
use tokio::time::Instant;

/// How long a WebSocket handshake may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

type WakeFn = Arc<dyn Fn() + Send + Sync>;

enum Control {
    /// Wake once after this long (a sync failed and backs off).
    RetryIn(Duration),
}

/// The subscription thread. Dropping it stops the thread.
pub struct Live {
    control: Option<mpsc::UnboundedSender<Control>>,
    thread: Option<JoinHandle<()>>,
    pending: Arc<AtomicBool>,
}

impl Live {
    /// Subscribes to the hub's WebSocket on a new thread. `wake` is called
    /// once the subscription is in place (to catch up on what was missed
    /// while it was not), when the hub pushes another device's observations,
    /// and when a retry asked for by [`Live::retry_in`] is due. `device`'s own
    /// observations, echoed back by the hub, wake nothing.
    pub fn spawn(
        client: HubClient,
        device: &str,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<Live, HubSyncError> {
        let pending = Arc::new(AtomicBool::new(false));
        let wake: WakeFn = {
            let pending = pending.clone();
            Arc::new(move || {
                if !pending.swap(true, Ordering::AcqRel) {
                    wake();
                }
            })
        };
        let (control, rx) = mpsc::unbounded_channel();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(HubSyncError::Runtime)?;
        let device = device.to_string();
        let thread = std::thread::Builder::new()
            .name("chittysync-hub-live".into())
            .spawn(move || runtime.block_on(follow(client, device, wake, rx)))
            .map_err(HubSyncError::Runtime)?;
        Ok(Live {
            control: Some(control),
            thread: Some(thread),
            pending,
        })
    }

    /// Asks for a wake after `delay` (replacing an earlier request).
    pub fn retry_in(&self, delay: Duration) {
        if let Some(control) = &self.control {
            let _ = control.send(Control::RetryIn(delay));
        }
    }

    /// Marks the outstanding wake as handled: the next event wakes again.
    pub fn take_wake(&self) {
        self.pending.store(false, Ordering::Release);
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Closing the channel stops the thread at its next turn.
        self.control.take();
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

enum Event {
    Stop,
    Retry(Duration),
    RetryDue,
    Batch { others: bool },
    Lost(String),
    Reconnect,
}

async fn follow(
    client: HubClient,
    device: String,
    wake: WakeFn,
    mut control: mpsc::UnboundedReceiver<Control>,
) {
    let mut backoff = Backoff::new(Duration::from_millis(250), Duration::from_secs(30));
    let mut subscription: Option<Subscription> = None;
    let mut reconnect_at = Instant::now();
    let mut retry_at: Option<Instant> = None;
    // A certificate the hub cannot be trusted with, or a URL refused as
    // insecure, does not get better by retrying (docs/HUB_API.md#tls).
    let mut given_up = false;
    loop {
        let event = tokio::select! {
            message = control.recv() => match message {
                Some(Control::RetryIn(delay)) => Event::Retry(delay),
                None => Event::Stop,
            },
            () = sleep_until(retry_at) => Event::RetryDue,
            () = sleep_until((subscription.is_none() && !given_up).then_some(reconnect_at)) => Event::Reconnect,
            event = next_batch_of_others(&mut subscription, &device) => event,
        };
        match event {
            Event::Stop => {
                if let Some(s) = subscription.take() {
                    let _ = s.close().await;
                }
                return;
            }
            Event::Retry(delay) => retry_at = Some(Instant::now() + delay),
            Event::RetryDue => {
                retry_at = None;
                wake();
            }
            Event::Batch { others } => {
                if others {
                    wake();
                }
            }
            Event::Lost(why) => {
                subscription = None;
                let delay = backoff.fail();
                tracing::warn!(
                    "hub WebSocket lost ({why}); reconnecting in {} ms",
                    delay.as_millis()
                );
                reconnect_at = Instant::now() + delay;
            }
            Event::Reconnect => {
                match tokio::time::timeout(CONNECT_TIMEOUT, client.subscribe(None)).await {
                    Ok(Ok(s)) => {
                        tracing::info!("hub WebSocket subscribed at cursor {}", s.cursor);
                        subscription = Some(s);
                        backoff.reset();
                        // Whatever was posted while unsubscribed is pulled now.
                        wake();
                    }
                    Ok(Err(e)) if e.is_permanent_setup() => {
                        tracing::error!("cannot subscribe to the hub, not retrying: {e}");
                        given_up = true;
                    }
                    failed => {
                        let why = match failed {
                            Ok(Err(e)) => e.to_string(),
                            _ => "timed out".to_string(),
                        };
                        let delay = backoff.fail();
                        if backoff.failures() <= 1 || backoff.at_ceiling() {
                            tracing::warn!(
                                "cannot subscribe to the hub ({why}); retrying in {} ms",
                                delay.as_millis()
                            );
                        } else {
                            tracing::debug!("cannot subscribe to the hub ({why})");
                        }
                        reconnect_at = Instant::now() + delay;
                    }
                }
            }
        }
    }
}

/// The next batch, marked by whether another device's observation is in it.
async fn next_batch_of_others(subscription: &mut Option<Subscription>, device: &str) -> Event {
    match subscription {
        Some(s) => match s.next().await {
            Some(Ok(batch)) => Event::Batch {
                others: batch.observations.iter().any(|o| o.device != device),
            },
            Some(Err(e)) => Event::Lost(e.to_string()),
            None => Event::Lost("the hub closed the connection".to_string()),
        },
        None => std::future::pending().await,
    }
}

async fn sleep_until(at: Option<Instant>) {
    match at {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// What the daemon holds: the link to the hub and its live subscription.
///
/// ```no_run
/// # fn demo(config: &chittysync_config::Config, locations: &chittysync_config::Locations,
/// #         engine: &mut chittysync_engine::Engine,
/// #         tx: std::sync::mpsc::Sender<()>) -> Result<(), chittysync_hubsync::HubSyncError> {
/// use chittysync_hubsync::LiveHub;
/// // Once, at start: `None` when `[hub] url` is not configured.
/// let mut hub = LiveHub::start(config, locations, move || { let _ = tx.send(()); })?;
/// // After each consolidation, and whenever the wake function was called:
/// if let Some(hub) = hub.as_mut() {
///     if let Err(e) = hub.sync(engine) {
///         tracing::warn!("hub sync failed: {e}"); // a retry wake is scheduled
///     }
/// }
/// # Ok(()) }
/// ```
pub struct LiveHub {
    sync: HubSync,
    live: Live,
    backoff: Backoff,
}

impl LiveHub {
    /// Starts following the hub `config` names; `None` when no hub is configured.
    pub fn start(
        config: &Config,
        locations: &Locations,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<Option<LiveHub>, HubSyncError> {
        match HubSync::from_config(config, locations)? {
            Some(sync) => LiveHub::with(sync, wake).map(Some),
            None => Ok(None),
        }
    }

    /// Starts following the hub of `sync`.
    pub fn with(
        sync: HubSync,
        wake: impl Fn() + Send + Sync + 'static,
    ) -> Result<LiveHub, HubSyncError> {
        let live = Live::spawn(sync.client().clone(), sync.device(), wake)?;
        Ok(LiveHub {
            sync,
            live,
            backoff: Backoff::new(Duration::from_millis(250), Duration::from_secs(30)),
        })
    }

    /// One [`HubSync::sync_once`]. On failure a wake is scheduled after a
    /// backoff (250 ms doubling to 30 s), so an offline hub is retried
    /// without the caller keeping time; once it answers, the backlog is pushed.
    pub fn sync(&mut self, engine: &mut Engine) -> Result<HubSyncReport, HubSyncError> {
        self.live.take_wake();
        match self.sync.sync_once(engine) {
            Ok(report) => {
                self.backoff.reset();
                Ok(report)
            }
            Err(error) => {
                // A certificate problem, a refused URL or a key problem waits
                // for a fix, not a timer.
                if !error.needs_setup() {
                    self.live.retry_in(self.backoff.fail());
                }
                Err(error)
            }
        }
    }

    pub fn hub(&self) -> &HubSync {
        &self.sync
    }
}
