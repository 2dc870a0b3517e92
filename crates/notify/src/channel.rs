//! Where an event goes: a command of the user's (the event as JSON on its
//! stdin, no shell between), a webhook (an HTTP POST of the JSON; TLS by
//! rustls with the Mozilla roots) or the desktop (the event's title and
//! message as a notification: freedesktop D-Bus on Linux, Notification Center
//! on macOS, through notify-rust). docs/COLLISIONS.md, "Telling the person".

use std::io::Write;
use std::net::IpAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A command that has not finished after this long is killed.
const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);
/// A webhook that has not answered after this long has failed.
const HTTP_TIMEOUT: Duration = Duration::from_secs(15);

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Channel {
    /// The program and its arguments.
    Command(Vec<String>),
    Webhook(String),
    /// A desktop notification of the event's `title` and `message`.
    Desktop,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot run it: {0}")]
    Spawn(std::io::Error),
    #[error("it failed ({status}){stderr}")]
    Exit { status: String, stderr: String },
    #[error("it did not finish within {}s, and was killed", COMMAND_TIMEOUT.as_secs())]
    Timeout,
    #[error("the server answered {0}")]
    Status(u16),
    #[error("{0}")]
    Http(String),
    #[error("{0}")]
    Desktop(String),
}

impl SendError {
    /// Whether trying again may help: a client error (4xx but 408 and 429)
    /// or a program that cannot be run will not.
    pub fn is_transient(&self) -> bool {
        match self {
            SendError::Spawn(_) => false,
            SendError::Status(code) => !(400..500).contains(code) || *code == 408 || *code == 429,
            _ => true,
        }
    }
}

impl Channel {
    /// Checks a webhook URL: `https://`, or `http://` to this machine only
    /// (docs/ENCRYPTION.md: nothing leaves the machine unencrypted).
    pub fn webhook(url: &str) -> Result<Channel, String> {
        let url = url.trim();
        let (plain, rest) = if let Some(rest) = url.strip_prefix("https://") {
            (false, rest)
        } else if let Some(rest) = url.strip_prefix("http://") {
            (true, rest)
        } else {
            return Err(format!(
                "`webhook` {url:?} is not an https:// URL (http:// only to a loopback address)"
            ));
        };
        let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
        let host = host_of(authority);
        if host.is_empty() {
            return Err(format!("`webhook` {url:?} names no host"));
        }
        if plain && !is_loopback(host) {
            return Err(format!(
                "`webhook` {url:?} is plain http:// to another machine: use https:// (plain http is for loopback receivers only)"
            ));
        }
        Ok(Channel::Webhook(url.to_string()))
    }

    /// The channel's name in the ledger's keys.
    pub fn name(&self) -> &'static str {
        match self {
            Channel::Command(_) => "command",
            Channel::Webhook(_) => "webhook",
            Channel::Desktop => "desktop",
        }
    }

    /// For messages: `command notify-send-wrapper`, `webhook https://…`.
    pub fn describe(&self) -> String {
        match self {
            Channel::Command(argv) => format!("command {}", argv[0]),
            Channel::Webhook(url) => format!("webhook {url}"),
            Channel::Desktop if cfg!(target_os = "macos") => {
                "desktop (Notification Center)".to_string()
            }
            Channel::Desktop => "desktop (D-Bus org.freedesktop.Notifications)".to_string(),
        }
    }

    pub fn send(&self, body: &[u8]) -> Result<(), SendError> {
        match self {
            Channel::Command(argv) => run_command(argv, body),
            Channel::Webhook(url) => post(url, body),
            Channel::Desktop => show(body),
        }
    }
}

fn host_of(authority: &str) -> &str {
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    if let Some(rest) = host_port.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    host_port.split(':').next().unwrap_or_default()
}

fn is_loopback(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

fn run_command(argv: &[String], body: &[u8]) -> Result<(), SendError> {
    let mut child = Command::new(&argv[0])
        .args(&argv[1..])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(SendError::Spawn)?;
    if let Some(mut stdin) = child.stdin.take() {
        // A command that does not read its input is its own business.
        let _ = stdin.write_all(body).and_then(|()| stdin.write_all(b"\n"));
    }
    let started = Instant::now();
    loop {
        if child.try_wait().map_err(SendError::Spawn)?.is_some() {
            break;
        }
        if started.elapsed() > COMMAND_TIMEOUT {
            let _ = child.kill();
            let _ = child.wait();
            return Err(SendError::Timeout);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let output = child.wait_with_output().map_err(SendError::Spawn)?;
    if output.status.success() {
        return Ok(());
    }
    let stderr = String::from_utf8_lossy(&output.stderr);
    let stderr = stderr.trim();
    Err(SendError::Exit {
        status: output.status.to_string(),
        stderr: if stderr.is_empty() {
            String::new()
        } else {
            format!(": {}", stderr.chars().take(300).collect::<String>())
        },
    })
}

fn post(url: &str, body: &[u8]) -> Result<(), SendError> {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .timeout_global(Some(HTTP_TIMEOUT))
        .http_status_as_error(false)
        .user_agent(concat!("chittysync/", env!("CARGO_PKG_VERSION")))
        .build()
        .into();
    let response = agent
        .post(url)
        .header("content-type", "application/json")
        .send(body)
        .map_err(|e| SendError::Http(e.to_string()))?;
    let status = response.status().as_u16();
    if (200..300).contains(&status) {
        Ok(())
    } else {
        Err(SendError::Status(status))
    }
}

/// A desktop notification of the event: its `title` as the summary, its
/// `message` as the body. On Linux the session bus of
/// `DBUS_SESSION_BUS_ADDRESS` is asked (the daemon's user service has it).
fn show(body: &[u8]) -> Result<(), SendError> {
    let event: serde_json::Value =
        serde_json::from_slice(body).map_err(|e| SendError::Desktop(e.to_string()))?;
    let text = |key: &str| event[key].as_str().unwrap_or_default().to_string();
    notify_rust::Notification::new()
        .appname("chittysync")
        .summary(&text("title"))
        .body(&text("message"))
        .show()
        .map(drop)
        .map_err(|e| SendError::Desktop(format!("cannot show a desktop notification: {e}")))
}
