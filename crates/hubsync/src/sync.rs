//! One sync with the hub: push what this device observed, pull what the
//! others did, refold, rewrite the outputs.

use crate::error::HubSyncError;
use crate::state::{self, Cursors, LastError, LastSync};
use chittysync_config::{Config, Locations};
use chittysync_core::Timestamp;
use chittysync_crypt::Encryption;
use chittysync_engine::Engine;
use chittysync_hubclient::client::{ClientOptions, HubClient};
use chittysync_store::Via;
use serde::Serialize;
use std::time::{Duration, Instant};
use tokio::runtime::Runtime;

/// Observations per push request.
pub const DEFAULT_PUSH_BATCH: usize = 1_000;
/// Observations per pull page (the hub allows up to 10,000).
pub const DEFAULT_PULL_PAGE: u32 = 5_000;

/// How far ahead of the clock an observation may be stamped and still be
/// pushed: the hub's own limit (docs/HUB_API.md#limits).
const FUTURE_LIMIT_MS: i64 = 24 * 60 * 60 * 1000;

/// What one [`HubSync::sync_once`] did.
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

    /// Pushes every local observation the hub has not acknowledged (in
    /// batches, the cursor moving after each acknowledged batch), pulls every
    /// observation the hub stored since the last pull (page by page, each
    /// page and the cursor after it committed together), and rewrites the
    /// outputs if the fold changed. A failure is recorded for `status` and
    /// returned; what was done before it stays done.
    pub fn sync_once(&self, engine: &mut Engine) -> Result<HubSyncReport, HubSyncError> {
        match self.sync_inner(engine) {
            Ok(report) => {
                let last = LastSync {
                    at: Timestamp::now(),
                    pushed: report.pushed,
                    pulled: report.pulled,
                };
                state::record_success(engine, &last)?;
                Ok(report)
            }
            Err(error) => {
                let record = LastError {
                    at: Timestamp::now(),
                    message: error.to_string(),
                };
                if let Err(e) = state::record_error(engine, &record) {
                    tracing::warn!("cannot record the hub error: {e}");
                }
                Err(error)
            }
        }
    }

    fn sync_inner(&self, engine: &mut Engine) -> Result<HubSyncReport, HubSyncError> {
        let started = Instant::now();
        let mut report = HubSyncReport {
            url: self.url.clone(),
            ..HubSyncReport::default()
        };
        let mut cursors = Cursors::load(engine.store())?;
        if cursors.url.as_deref().map(state::normalize_url) != Some(state::normalize_url(&self.url))
        {
            if cursors.url.is_some() {
                tracing::info!(
                    from = cursors.url.as_deref().unwrap_or(""),
                    to = %self.url,
                    "another hub: pushing and pulling everything again"
                );
                report.restarted = true;
            }
            cursors = Cursors {
                url: Some(self.url.clone()),
                push_seq: 0,
                pull_cursor: "0".to_string(),
            };
        }
        self.push(engine, &mut cursors, &mut report)?;
        self.pull(engine, &mut cursors, &mut report)?;
        report.cursor = cursors.pull_cursor.clone();
        report.outputs_written = engine.refresh_outputs()?;
        report.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(report)
    }

    fn push(
        &self,
        engine: &mut Engine,
        cursors: &mut Cursors,
        report: &mut HubSyncReport,
    ) -> Result<(), HubSyncError> {
        let mut restarted_here = false;
        loop {
            let batch =
                engine
                    .store()
                    .observations_after(cursors.push_seq, Via::Local, self.push_batch)?;
            let Some(last_seq) = batch.last().map(|l| l.seq) else {
                return Ok(());
            };
            let latest = Timestamp(Timestamp::now().millis() + FUTURE_LIMIT_MS);
            let (observations, ahead): (Vec<_>, Vec<_>) = batch
                .into_iter()
                .map(|l| l.observation)
                .partition(|o| o.observed_at <= latest);
            if let Some(first) = ahead.first() {
                tracing::warn!(
                    skipped = ahead.len(),
                    first = %first.observed_at.to_rfc3339(),
                    "not pushing observations stamped more than a day ahead: the hub refuses them"
                );
                report.skipped_future += ahead.len() as u64;
            }
            if observations.is_empty() {
                cursors.push_seq = last_seq;
                cursors.save(engine)?;
                continue;
            }
            let observations = self.encryption.outgoing(&observations)?;
            let answer = self
                .runtime
                .block_on(self.client.push(&self.device, &observations))
                .map_err(|e| HubSyncError::from_client(&self.url, e))?;
            report.batches += 1;
            report.pushed += answer.accepted;
            report.duplicates += answer.duplicates;
            // The hub's count fell behind what was already pulled from it: it
            // lost data (restored from a backup, recreated). Push and pull
            // everything again; ids make that idempotent.
            if !restarted_here && hub_went_back(&answer.cursor, &cursors.pull_cursor) {
                tracing::warn!(
                    hub_cursor = %answer.cursor,
                    pulled_to = %cursors.pull_cursor,
                    "the hub holds less than was pulled from it: pushing everything again"
                );
                restarted_here = true;
                report.restarted = true;
                cursors.push_seq = 0;
                cursors.pull_cursor = "0".to_string();
            } else {
                cursors.push_seq = last_seq;
            }
            cursors.save(engine)?;
        }
    }

    fn pull(
        &self,
        engine: &mut Engine,
        cursors: &mut Cursors,
        report: &mut HubSyncReport,
    ) -> Result<(), HubSyncError> {
        loop {
            let page = self
                .runtime
                .block_on(
                    self.client
                        .since(&cursors.pull_cursor, Some(self.pull_page)),
                )
                .map_err(|e| HubSyncError::from_client(&self.url, e))?;
            report.received += page.observations.len() as u64;
            // Sealed ones are opened, or the page fails whole: nothing this
            // device cannot read is stored, and the cursor stays.
            let observations = self
                .encryption
                .incoming(page.observations, &format!("the hub at {}", self.url))?;
            let moved = page.cursor != cursors.pull_cursor;
            cursors.pull_cursor = page.cursor;
            // This device's own observations come back too: the store keeps
            // them once (by id), so ingesting them is a no-op. The page and
            // the cursor after it are committed together.
            report.pulled += engine.ingest_remote(&observations, Via::Hub, &cursors.meta())?;
            if !page.more || !moved {
                return Ok(());
            }
        }
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

/// The hub as a [`chittysync_engine::Remote`]: a push is one `POST
/// /api/todos/sync` (sealed when `[hub] encrypt`), a pull one page of `GET
/// /api/todos/since/{cursor}` (opened, or refused whole).
impl chittysync_engine::Remote for HubSync {
    type Cursor = HubCursor;
    type Error = HubSyncError;

    fn push(&mut self, batch: &[chittysync_core::Observation]) -> Result<u64, HubSyncError> {
        if batch.is_empty() {
            return Ok(0);
        }
        let sealed = self.encryption.outgoing(batch)?;
        let answer = self
            .runtime
            .block_on(self.client.push(&self.device, &sealed))
            .map_err(|e| HubSyncError::from_client(&self.url, e))?;
        Ok(answer.accepted)
    }

    fn pull(
        &mut self,
        after: &HubCursor,
    ) -> Result<chittysync_engine::Pulled<HubCursor>, HubSyncError> {
        let page = self
            .runtime
            .block_on(self.client.since(&after.0, Some(self.pull_page)))
            .map_err(|e| HubSyncError::from_client(&self.url, e))?;
        let observations = self
            .encryption
            .incoming(page.observations, &format!("the hub at {}", self.url))?;
        Ok(chittysync_engine::Pulled {
            observations,
            cursor: HubCursor(page.cursor),
            more: page.more,
        })
    }
}
