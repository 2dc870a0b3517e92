use chittysync_hubclient::client::ClientError;

/// Why a sync with the hub did not finish. Nothing is lost by a failure: the
/// cursors only move after the hub acknowledged (push) or the store committed
/// (pull), so the next sync resumes where this one stopped.
#[derive(Debug, thiserror::Error)]
pub enum HubSyncError {
    /// `[hub] url` is set but no token was given.
    #[error(
        "`[hub] url` is set but there is no token: set CHITTYSYNC_HUB_TOKEN or `[hub] token` \
         (the hub's owner creates one with `chittysync hub token create --tenant NAME`)"
    )]
    NoToken,
    #[error("invalid hub URL `{0}`: expected https://HOST[:PORT] (or http:// to this machine)")]
    Url(String),
    /// A client refusal that needs a fix, not a retry: plain `http://` to
    /// another machine, an unusable `[hub] ca_file`.
    #[error(transparent)]
    Setup(ClientError),
    /// The TLS handshake failed: a certificate this device does not trust,
    /// or one made out for another name. Permanent until fixed.
    #[error("TLS handshake with {url} failed: {detail}")]
    Tls { url: String, detail: String },
    /// The hub could not be reached or timed out (worth retrying).
    #[error("cannot reach the hub at {url}: {detail}")]
    Unreachable { url: String, detail: String },
    /// 401: the token is unknown or revoked.
    #[error(
        "the hub at {url} refused the token (401: {message}); check CHITTYSYNC_HUB_TOKEN or \
         `[hub] token`, or create one with `chittysync hub token create --tenant NAME`"
    )]
    Unauthorized { url: String, message: String },
    /// Another 4xx: a request the hub will always refuse.
    #[error("the hub refused the request ({status}): {message}")]
    Refused { status: u16, message: String },
    /// 5xx: the hub failed (worth retrying).
    #[error("the hub failed ({status}): {message}")]
    Server { status: u16, message: String },
    /// The hub answered something this client cannot read.
    #[error("unexpected answer from the hub: {0}")]
    Protocol(String),
    #[error(transparent)]
    Store(#[from] chittysync_engine::StoreError),
    #[error(transparent)]
    Engine(#[from] chittysync_engine::EngineError),
    #[error("cannot start the hub client: {0}")]
    Runtime(std::io::Error),
    /// `[hub] encrypt` without a usable device key (docs/ENCRYPTION.md).
    #[error(transparent)]
    Encryption(#[from] chittysync_crypt::EncryptionError),
    /// The hub holds sealed observations this device cannot open (no key,
    /// another key, or altered): nothing was stored.
    #[error(transparent)]
    Unreadable(#[from] chittysync_crypt::OpenError),
}

impl From<chittysync_crypt::KeyError> for HubSyncError {
    fn from(error: chittysync_crypt::KeyError) -> Self {
        HubSyncError::Encryption(error.into())
    }
}

impl HubSyncError {
    /// Whether trying again later may succeed (the hub was unreachable or
    /// failed) rather than a refusal that needs a fix (token, URL).
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            HubSyncError::Unreachable { .. } | HubSyncError::Server { .. }
        )
    }

    /// Whether only a change of setup fixes it (a certificate, a refused URL,
    /// a missing or other key): the daemon does not retry it on a timer.
    pub fn needs_setup(&self) -> bool {
        matches!(
            self,
            HubSyncError::Tls { .. }
                | HubSyncError::Setup(_)
                | HubSyncError::Encryption(_)
                | HubSyncError::Unreadable(_)
        )
    }

    pub(crate) fn from_client(url: &str, error: ClientError) -> HubSyncError {
        match error {
            ClientError::Url(u) => HubSyncError::Url(u),
            e @ (ClientError::Insecure { .. } | ClientError::TlsFile(_)) => HubSyncError::Setup(e),
            ClientError::Tls { url, detail } => HubSyncError::Tls { url, detail },
            ClientError::Transport(e) => HubSyncError::Unreachable {
                url: url.to_string(),
                detail: transport_detail(&e),
            },
            ClientError::WebSocket(e) => HubSyncError::Unreachable {
                url: url.to_string(),
                detail: e.to_string(),
            },
            ClientError::Api {
                status: 401,
                message,
            } => HubSyncError::Unauthorized {
                url: url.to_string(),
                message,
            },
            ClientError::Api { status, message } if status >= 500 => {
                HubSyncError::Server { status, message }
            }
            ClientError::Api { status, message } => HubSyncError::Refused { status, message },
            ClientError::Protocol(p) => HubSyncError::Protocol(p),
        }
    }
}

/// reqwest's message for a refused connection is "error sending request";
/// the useful part is in its sources.
fn transport_detail(error: &reqwest::Error) -> String {
    let mut text = if error.is_timeout() {
        "timed out".to_string()
    } else if error.is_connect() {
        "connection failed".to_string()
    } else if error.is_decode() {
        "unreadable answer".to_string()
    } else {
        error.to_string()
    };
    let mut source = std::error::Error::source(error);
    let mut last = String::new();
    while let Some(s) = source {
        last = s.to_string();
        source = s.source();
    }
    if !last.is_empty() && !text.contains(&last) {
        text.push_str(": ");
        text.push_str(&last);
    }
    text
}
