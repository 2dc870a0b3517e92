//! The daemon's log: to stderr, and to `<home>/logs/daemon.<date>.log`,
//! rotated daily and capped in number of files, so it stays bounded.

use crate::DaemonError;
use std::io::IsTerminal;
use std::os::unix::fs::DirBuilderExt;
use std::path::Path;
use tracing_appender::rolling::{RollingFileAppender, Rotation};
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;
use tracing_subscriber::{fmt, EnvFilter};

/// Daily files kept (two weeks).
const LOG_FILES_KEPT: usize = 14;

/// The level when neither `RUST_LOG` nor the config sets one: `info`, the
/// file watcher library's own lines from `error` up (it warns when a watched
/// folder is deleted, which the daemon handles: docs/DAEMON.md, "Logs").
const DEFAULT_FILTER: &str = "info,notify=error";

/// Installs the daemon's logger. The level is `RUST_LOG` if set, else the
/// config's `log.level`, else [`DEFAULT_FILTER`].
pub fn init_logging(logs_dir: &Path, configured: Option<&str>) -> Result<(), DaemonError> {
    let filter_text = std::env::var("RUST_LOG")
        .ok()
        .filter(|v| !v.trim().is_empty())
        .or_else(|| configured.map(str::to_string))
        .unwrap_or_else(|| DEFAULT_FILTER.to_string());
    let filter = EnvFilter::try_new(&filter_text).map_err(|e| DaemonError::LogFilter {
        filter: filter_text.clone(),
        message: e.to_string(),
    })?;
    let fail = |message: String| DaemonError::Logging {
        path: logs_dir.to_path_buf(),
        message,
    };
    #[allow(unsafe_code)]
    // The logs tell todos and folders: they are the user's alone, whatever
    // the umask it was started with (docs/DAEMON.md, "Files and their
    // modes"). The appender makes its daily files with the process's umask
    // and has no mode of its own, so the daemon's umask becomes 077: what it
    // creates from here on (logs, heartbeat, lock, store files) is private.
    // SAFETY: umask only sets the process's file-creation mask; it cannot fail.
    unsafe {
        libc::umask(0o077)
    };
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(logs_dir)
        .map_err(|e| fail(e.to_string()))?;
    let file = RollingFileAppender::builder()
        .rotation(Rotation::DAILY)
        .filename_prefix("daemon")
        .filename_suffix("log")
        .max_log_files(LOG_FILES_KEPT)
        .build(logs_dir)
        .map_err(|e| fail(e.to_string()))?;
    tracing_subscriber::registry()
        .with(filter)
        .with(
            fmt::layer()
                .with_ansi(std::io::stderr().is_terminal())
                .with_writer(std::io::stderr),
        )
        .with(fmt::layer().with_ansi(false).with_writer(file))
        .try_init()
        .map_err(|e| fail(e.to_string()))
}
