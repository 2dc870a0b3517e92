//! The chittysync daemon (docs/DAEMON.md): watches Claude Code's `todos/`, `tasks/`
//! and `projects/` with the OS notifier and consolidates each burst of changes
//! at once, so `todos.json` is current within milliseconds; rescans on an
//! interval as a safety net; one per home (a lock); a heartbeat file and
//! rotated logs tell what it does. Also the service files (systemd, launchd)
//! that keep it running.

pub mod control;
mod error;
mod git_timer;
mod heartbeat;
mod lock;
mod logging;
mod notify_events;
mod run;
pub mod service;
mod signals;
pub mod spawn;
mod wake;
mod watch;

pub use error::DaemonError;
pub use heartbeat::{heartbeat_path, Counters, DaemonStatus, Heartbeat, LastError};
pub use lock::{lock_path, DaemonLock};
pub use logging::init_logging;
pub use run::run;
