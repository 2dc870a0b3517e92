use std::path::PathBuf;

/// Why the daemon could not start or had to stop. Bad source files are never
/// errors: they are warnings in the log.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    #[error("another chittysync daemon ({}) already runs for this home: it holds {}", holder(.pid), .lock.display())]
    AlreadyRunning { pid: Option<u32>, lock: PathBuf },
    #[error("cannot use the lock file {path}: {cause}")]
    Lock {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error("cannot set up logging in {path}: {message}")]
    Logging { path: PathBuf, message: String },
    #[error("invalid log filter `{filter}` (config `log.level` or RUST_LOG): {message}")]
    LogFilter { filter: String, message: String },
    #[error("cannot start the file watcher: {0}")]
    Watcher(notify::Error),
    #[error("cannot handle signals: {0}")]
    Signals(std::io::Error),
    #[error(transparent)]
    Engine(#[from] chittysync_engine::EngineError),
}

fn holder(pid: &Option<u32>) -> String {
    match pid {
        Some(pid) => format!("pid {pid}"),
        None => "pid not yet written".to_string(),
    }
}
