//! What the sync repository holds, and where.
//!
//! ```text
//! devices/<device>/000001.jsonl   this device's observations, one wire-format
//! devices/<device>/000002.jsonl   JSON object a line, in local order; append-only
//! todos.json                      the fold of every device's observations
//! project-coordination.json       the same, per project (the seed's format)
//! .chittysync                     the marker of a chittysync history (`marker`)
//! ```
//!
//! Each device appends only to its own files, so two devices never edit the
//! same file and their histories merge without textual conflicts; the
//! snapshots are regenerated from the merged fold rather than merged as text.
//! A log is split into shards of bounded length so that a commit rewrites a
//! blob of bounded size, however long the history grows.

/// The consolidated list.
pub const TODOS_FILE: &str = "todos.json";
/// The per-project view.
pub const COORDINATION_FILE: &str = "project-coordination.json";
/// Where the per-device logs live.
pub const DEVICES_DIR: &str = "devices";
/// Lines per log shard: a commit rewrites at most a shard's worth of log.
pub const SHARD_LINES: usize = 1000;

const LOG_SUFFIX: &str = ".jsonl";

/// The folder of a device's logs. Device names become one safe path segment.
pub fn device_dir(device: &str) -> String {
    let safe: String = device
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .collect();
    let safe = safe.trim_start_matches('.');
    format!("{DEVICES_DIR}/{}", if safe.is_empty() { "_" } else { safe })
}

/// The path of a device's `index`-th log shard (from 1).
pub fn shard_path(device: &str, index: u32) -> String {
    format!("{}/{index:06}{LOG_SUFFIX}", device_dir(device))
}

/// The shard number of a path in `dir`, if it is one of its shards.
pub fn shard_index(dir: &str, path: &str) -> Option<u32> {
    path.strip_prefix(dir)?
        .strip_prefix('/')?
        .strip_suffix(LOG_SUFFIX)?
        .parse()
        .ok()
}

/// Whether a path is one of the snapshots chittysync regenerates.
pub fn is_snapshot(path: &str) -> bool {
    path == TODOS_FILE || path == COORDINATION_FILE
}

/// Whether a path is an observation log.
pub fn is_log(path: &str) -> bool {
    path.starts_with(DEVICES_DIR) && path.ends_with(LOG_SUFFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn device_names_become_one_segment() {
        assert_eq!(device_dir("laptop"), "devices/laptop");
        assert_eq!(device_dir("my mac/../x"), "devices/my_mac_.._x");
        assert_eq!(device_dir(".."), "devices/_");
        let path = shard_path("laptop", 3);
        assert_eq!(path, "devices/laptop/000003.jsonl");
        assert_eq!(shard_index("devices/laptop", &path), Some(3));
        assert_eq!(shard_index("devices/lap", &path), None);
        assert!(is_log(&path));
        assert!(!is_log("todos.json"));
    }
}
