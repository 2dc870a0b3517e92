//! One sync with the hub: push what this device observed, pull what the
//! others did, refold, rewrite the outputs.

use crate::error::HubSyncError;
use crate::state;
use chittysync_config::{Config, Locations};
use chittysync_core::{Observation, Timestamp};
use chittysync_crypt::Encryption;
use chittysync_engine::Via;
use chittysync_engine::{Engine, Pulled, Pushed, Remote, RemoteCursor};
use chittysync_hubclient::client::{ClientOptions, HubClient};
use serde::Serialize;
use std::time::Duration;
use tokio::runtime::Runtime;

/// Observations per push request.
pub const DEFAULT_PUSH_BATCH: usize = 1_000;
/// Observations per pull page (the hub allows up to 10,000).
pub const DEFAULT_PULL_PAGE: u32 = 5_000;

/// How far ahead of the clock an observation may be stamped and still be
/// pushed: the hub's own limit (docs/HUB_API.md#limits).
const FUTURE_LIMIT_MS: i64 = 24 * 60 * 60 * 1000;

/// What one [`HubSync::sync_once`] did (the engine's [`chittysync_engine::SyncOutcome`], with the hub named).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct HubSyncReport {
    /// The hub.
    pub url: String,
    /// Local observations the hub stored now.
    pub pushed: u64,
    /// Local observations the hub already had (an earlier push whose answer was lost).
    pub duplicates: u64,
    /// Push requests made.
    pub batches: u64,
    /// Observations received from the hub (this device's own included).
    pub received: u64,
    /// Of those, observations new to this store (other devices').
    pub pulled: u64,
    /// The hub's cursor after the pull.
    pub cursor: String,
    /// Whether the outputs were rewritten (the fold changed).
    pub outputs_written: bool,
    /// The cursors were for another hub, or the hub lost data: everything
    /// was pushed and pulled again (idempotent by id, so harmless).
    pub restarted: bool,
    /// Local observations stamped more than a day ahead of this machine's
    /// clock, not pushed: the hub refuses them (docs/HUB_API.md#limits), and
    /// one of them would otherwise hold back every push after it.
    pub skipped_future: u64,
    pub elapsed_ms: u64,
}

/// A device's link to one hub, as one tenant.
///
/// The calls block (an internal single-threaded runtime runs the HTTP
/// client), so call them from plain threads, not from inside an async runtime.
pub struct HubSync {
    url: String,
    device: String,
    client: HubClient,
    runtime: Runtime,
    push_batch: usize,
    pull_page: u32,
    /// Seals what is pushed and opens what is pulled (docs/ENCRYPTION.md).
    encryption: Encryption,
    /// The hub's cursor this device has pulled to (to tell a hub that lost data).
    pulled_to: String,
}

impl HubSync {
    /// A link to the hub at `url` (`http://HOST:PORT`) with `token`, pushing as `device`.
    pub fn new(url: &str, token: &str, device: &str) -> Result<HubSync, HubSyncError> {
        HubSync::with_options(url, token, device, &ClientOptions::default())
    }

    /// A link to the hub at `url` trusting `options.ca_file` besides the
    /// system's roots, allowing `http://` to another machine only with
    /// `options.insecure` (docs/HUB_API.md#tls).
    pub fn with_options(
        url: &str,
        token: &str,
        device: &str,
        options: &ClientOptions,
    ) -> Result<HubSync, HubSyncError> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(HubSyncError::Runtime)?;
        let client = {
            let _entered = runtime.enter();
            HubClient::with_options(url, token, options)
                .map_err(|e| HubSyncError::from_client(url, e))?
        };
        Ok(HubSync {
            url: url.trim().trim_end_matches('/').to_string(),
            device: device.to_string(),
            client,
            runtime,
            push_batch: DEFAULT_PUSH_BATCH,
            pull_page: DEFAULT_PULL_PAGE,
            encryption: Encryption::off(),
            pulled_to: "0".to_string(),
        })
    }

    /// The link `config` describes (`[hub] url`, the token from
    /// `CHITTYSYNC_HUB_TOKEN` or `[hub] token`, the device name, `[hub]
    /// encrypt` with the device key in the home); `None` when no hub is
    /// configured.
    pub fn from_config(
        config: &Config,
        locations: &Locations,
    ) -> Result<Option<HubSync>, HubSyncError> {
        let Some(url) = configured_url(config) else {
            return Ok(None);
        };
        let token = config.hub_token().ok_or(HubSyncError::NoToken)?;
        let encryption =
            Encryption::load(&locations.key_path(), config.hub.encrypt, "`[hub] encrypt`")?;
        Ok(Some(
            HubSync::with_options(url, &token, &config.device_name(), &client_options(config))?
                .with_encryption(encryption),
        ))
    }

    /// Seals what is pushed and opens what is pulled with `encryption`.
    pub fn with_encryption(mut self, encryption: Encryption) -> HubSync {
        self.encryption = encryption;
        self
    }

    /// Observations per push request (default 1,000).
    pub fn with_push_batch(mut self, batch: usize) -> HubSync {
        self.push_batch = batch.max(1);
        self
    }

    /// Observations per pull page (default 5,000; the hub caps it at 10,000).
    pub fn with_pull_page(mut self, page: u32) -> HubSync {
        self.pull_page = page.max(1);
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn device(&self) -> &str {
        &self.device
    }

    /// The underlying typed client, for callers that need a route this
    /// module does not wrap.
    pub fn client(&self) -> &HubClient {
        &self.client
    }

    /// `GET /api/health` within `timeout`.
    pub fn health(&self, timeout: Duration) -> Result<(), HubSyncError> {
        let url = self.url.clone();
        self.runtime.block_on(async {
            match tokio::time::timeout(timeout, self.client.health()).await {
                Ok(answer) => answer.map_err(|e| HubSyncError::from_client(&url, e)),
                Err(_) => Err(HubSyncError::Unreachable {
                    url,
                    detail: format!("no answer within {} ms", timeout.as_millis()),
                }),
            }
        })
    }

    /// One sync through the engine's loop ([`Engine::sync_remote`]): pushes
    /// every local observation the hub has not acknowledged (in batches, the
    /// cursor moving after each acknowledged batch), pulls every observation
    /// the hub stored since the last pull (page by page, each page and the
    /// cursor after it committed together), and rewrites the outputs if the
    /// fold changed. A failure is recorded in the hub's sync state (for
    /// `status` and notify) and returned; what was done before it stays done.
    pub fn sync_once(&mut self, engine: &mut Engine) -> Result<HubSyncReport, HubSyncError> {
        let batch = self.push_batch;
        let outcome = engine.sync_remote(self, batch)?;
        Ok(HubSyncReport {
            url: self.url.clone(),
            pushed: outcome.pushed,
            duplicates: outcome.duplicates,
            batches: outcome.batches,
            received: outcome.received,
            pulled: outcome.pulled,
            cursor: outcome.cursor,
            outputs_written: outcome.outputs_written,
            restarted: outcome.restarted,
            skipped_future: outcome.skipped,
            elapsed_ms: outcome.elapsed_ms,
        })
    }
}

/// The configured hub URL, if any (blank counts as none).
pub fn configured_url(config: &Config) -> Option<&str> {
    config
        .hub
        .url
        .as_deref()
        .map(str::trim)
        .filter(|u| !u.is_empty())
}

/// Whether the hub's cursor is behind one this device already pulled (both
/// read as numbers; opaque cursors never compare).
fn hub_went_back(hub: &str, pulled: &str) -> bool {
    match (hub.parse::<u64>(), pulled.parse::<u64>()) {
        (Ok(hub), Ok(pulled)) => hub < pulled,
        _ => false,
    }
}

/// How `config` says to reach the hub: `[hub] ca_file` and `[hub] insecure`.
pub fn client_options(config: &Config) -> ClientOptions {
    ClientOptions {
        ca_file: config.hub.ca_file.clone(),
        insecure: config.hub.insecure,
    }
}

/// Where a pull from the hub resumes: the hub's cursor, opaque (`"0"` before
/// the first pull).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubCursor(pub String);

impl Default for HubCursor {
    fn default() -> Self {
        HubCursor("0".to_string())
    }
}

impl chittysync_engine::RemoteError for HubSyncError {
    fn is_transient(&self) -> bool {
        HubSyncError::is_transient(self)
    }
}

impl RemoteCursor for HubCursor {
    fn to_text(&self) -> String {
        self.0.clone()
    }

    fn from_text(text: &str) -> Option<HubCursor> {
        Some(HubCursor(text.to_string()))
    }
}

/// The hub as a [`Remote`]: a push is one `POST /api/todos/sync` (sealed
/// when `[hub] encrypt`), a pull one page of `GET /api/todos/since/{cursor}`
/// (opened, or refused whole: nothing this device cannot read is stored).
impl Remote for HubSync {
    type Cursor = HubCursor;
    type Error = HubSyncError;

    fn name(&self) -> &'static str {
        state::REMOTE
    }

    fn via(&self) -> Via {
        Via::Hub
    }

    fn target(&self) -> Option<String> {
        Some(state::normalize_url(&self.url))
    }

    fn resume(&mut self, after: &HubCursor) -> bool {
        self.pulled_to = after.0.clone();
        true
    }

    fn push(&mut self, batch: &[Observation]) -> Result<Pushed, HubSyncError> {
        let latest = Timestamp(Timestamp::now().millis() + FUTURE_LIMIT_MS);
        let (observations, ahead): (Vec<&Observation>, Vec<&Observation>) =
            batch.iter().partition(|o| o.observed_at <= latest);
        let mut pushed = Pushed::default();
        if let Some(first) = ahead.first() {
            tracing::warn!(
                skipped = ahead.len(),
                first = %first.observed_at.to_rfc3339(),
                "not pushing observations stamped more than a day ahead: the hub refuses them"
            );
            pushed.skipped = ahead.len() as u64;
        }
        if observations.is_empty() {
            return Ok(pushed);
        }
        let observations: Vec<Observation> = observations.into_iter().cloned().collect();
        let sealed = self.encryption.outgoing(&observations)?;
        let answer = self
            .runtime
            .block_on(self.client.push(&self.device, &sealed))
            .map_err(|e| HubSyncError::from_client(&self.url, e))?;
        pushed.new = answer.accepted;
        pushed.already = answer.duplicates;
        // The hub's count fell behind what was already pulled from it: it
        // lost data (restored from a backup, recreated).
        pushed.remote_lost = hub_went_back(&answer.cursor, &self.pulled_to);
        Ok(pushed)
    }

    fn pull(&mut self, after: &HubCursor) -> Result<Pulled<HubCursor>, HubSyncError> {
        let page = self
            .runtime
            .block_on(self.client.since(&after.0, Some(self.pull_page)))
            .map_err(|e| HubSyncError::from_client(&self.url, e))?;
        let observations = self
            .encryption
            .incoming(page.observations, &format!("the hub at {}", self.url))?;
        self.pulled_to = page.cursor.clone();
        Ok(Pulled {
            observations,
            cursor: HubCursor(page.cursor),
            more: page.more,
        })
    }
}
