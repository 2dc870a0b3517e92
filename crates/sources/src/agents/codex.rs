//! Codex CLI's session rollouts (docs/SOURCES.md, "Codex CLI").
//!
//! Codex records each session in `$CODEX_HOME/sessions/YYYY/MM/DD/
//! rollout-<time>-<uuid>.jsonl`, one JSON object a line, appended while the
//! session runs; newer versions compress finished rollouts to `.jsonl.zst`
//! (a plain file of the same name wins), and archived sessions move to
//! `archived_sessions/`. Every `update_plan` call is the session's whole plan
//! at that moment.
//!
//! Two generations of lines are read:
//! - since autumn 2025, `{"timestamp","type","payload"}` (0.154 adds
//!   `ordinal`): `session_meta` first (`payload.id`, `payload.cwd`,
//!   `payload.cli_version`), `turn_context` once a turn (`payload.cwd`,
//!   `payload.model`), and the call as a `response_item` whose payload is
//!   `{"type":"function_call","name":"update_plan","arguments":"<JSON>"}`;
//! - before that (September 2025), a bare first line `{"id","timestamp",
//!   "instructions","git"}`, then bare items (`{"type":"function_call",…}`)
//!   with no timestamp, and `{"record_type":"state"}` lines.
//!
//! Other lines (events, compactions, world state) are skipped with a
//! substring test; a compaction's replacement history and other echoes of a
//! plan are not plan writes.

use super::{agent_todos, FoundFile, PlanWrite, SessionRead};
use crate::error::{ParseError, Warning};
use crate::json;
use crate::lines::{self, LineFile, LineSink, ReadPosition};
use chittysync_core::Timestamp;
use memchr::memmem;
use serde_json::Value;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

const COMPRESSED: &str = ".zst";

/// Finds the rollouts under `codex_home` (`sessions/` and
/// `archived_sessions/`, at any depth up to the day folders), by name and
/// stat only. A `.jsonl.zst` whose plain `.jsonl` sibling exists is left out:
/// the plain file is the one Codex writes to. Folders that cannot be read are
/// warnings; a missing folder is not.
pub fn discover(codex_home: &Path) -> (Vec<FoundFile>, Vec<Warning>) {
    let mut found = Vec::new();
    let mut warnings = Vec::new();
    for sub in ["sessions", "archived_sessions"] {
        walk(&codex_home.join(sub), 0, &mut found, &mut warnings);
    }
    found.sort_by(|a, b| a.path.cmp(&b.path));
    (found, warnings)
}

/// `sessions/YYYY/MM/DD` is three levels; one more is tolerated.
const MAX_DEPTH: usize = 4;

fn walk(dir: &Path, depth: usize, found: &mut Vec<FoundFile>, warnings: &mut Vec<Warning>) {
    let entries = match fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == io::ErrorKind::NotFound && depth == 0 => return,
        Err(e) => return warnings.push(Warning::new(dir, format!("cannot list: {e}"))),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(e) => {
                warnings.push(Warning::new(dir, format!("cannot list: {e}")));
                continue;
            }
        };
        let path = entry.path();
        let meta = match fs::metadata(&path) {
            Ok(meta) => meta,
            Err(e) => {
                // A rollout that vanished between listing and stat (Codex
                // compressing it) is found again next time.
                if e.kind() != io::ErrorKind::NotFound {
                    warnings.push(Warning::new(&path, format!("cannot stat: {e}")));
                }
                continue;
            }
        };
        if meta.is_dir() {
            if depth < MAX_DEPTH {
                walk(&path, depth + 1, found, warnings);
            }
        } else if meta.is_file() && is_rollout_name(&path) {
            files.push(FoundFile::from_meta(path, &meta));
        }
    }
    let plain: std::collections::HashSet<PathBuf> = files
        .iter()
        .filter(|f| !is_compressed(&f.path))
        .map(|f| f.path.clone())
        .collect();
    found.extend(
        files
            .into_iter()
            .filter(|f| !is_compressed(&f.path) || !plain.contains(&plain_path(&f.path))),
    );
}

/// `rollout-*.jsonl` or `rollout-*.jsonl.zst`.
fn is_rollout_name(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    let name = name.strip_suffix(COMPRESSED).unwrap_or(name);
    name.starts_with("rollout-") && name.ends_with(".jsonl")
}

/// Whether the rollout at `path` is the compressed kind, read whole.
pub fn is_compressed(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "zst")
}

fn plain_path(path: &Path) -> PathBuf {
    path.with_extension("")
}

/// The session id in a rollout's name: the uuid that ends
/// `rollout-<time>-<uuid>.jsonl[.zst]`.
pub fn session_of_file(path: &Path) -> Option<String> {
    let name = path.file_name()?.to_str()?;
    let name = name.strip_suffix(COMPRESSED).unwrap_or(name);
    let stem = name.strip_prefix("rollout-")?.strip_suffix(".jsonl")?;
    let id = stem.get(stem.len().checked_sub(36)?..)?;
    let shaped = id.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    shaped.then(|| id.to_ascii_lowercase())
}

/// Reads the rollout at `path`.
///
/// A plain `.jsonl` is read incrementally from `from` (see [`crate::lines`]);
/// its first line, which names the session, is read again when the read
/// starts further on, so every read names its session and cwd. A `.jsonl.zst`
/// is decompressed as a stream and read whole whatever `from` says (whether
/// it changed is the caller's question: size and mtime); one cut short gives
/// the plans before the cut and a warning. Its `end` is the default position.
///
/// Errors are the operating system's (not found, permission denied); bad
/// content is never an error, only warnings.
pub fn read_rollout(
    path: &Path,
    from: &ReadPosition,
    max_line_bytes: u64,
) -> io::Result<SessionRead> {
    let mtime = fs::metadata(path)?
        .modified()
        .ok()
        .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
        .map(|d| Timestamp::from_millis(i64::try_from(d.as_millis()).unwrap_or(i64::MAX)));
    let mut rollout = Rollout::new(path, mtime);
    let mut read = SessionRead::default();
    if is_compressed(path) {
        let file = crate::read::open_regular(path)?;
        read.restarted = *from != ReadPosition::default();
        match zstd::stream::read::Decoder::new(file) {
            Ok(decoder) => {
                let stream = lines::read_stream_lines(decoder, max_line_bytes, &mut rollout);
                if let Some(e) = stream.error {
                    rollout.warnings.push(Warning::new(
                        path,
                        format!(
                            "the compressed rollout is cut short or corrupt after line {}: {e}",
                            stream.lines
                        ),
                    ));
                } else if stream.unterminated > 0 {
                    rollout.warnings.push(Warning::at_line(
                        path,
                        stream.lines + 1,
                        "the last line is cut short",
                    ));
                }
            }
            Err(e) => rollout
                .warnings
                .push(Warning::new(path, format!("not a zstd file: {e}"))),
        }
    } else {
        let file = LineFile::open(path, from)?;
        if file.start_line() > 0 {
            if let Some(head) = lines::first_line(path, max_line_bytes)? {
                rollout.head_line(lines::trim_line(&head));
            }
        }
        let line_read = file.read(max_line_bytes, &mut rollout)?;
        read.restarted = line_read.restarted;
        read.end = line_read.end;
    }
    read.session = rollout.session.or_else(|| session_of_file(path));
    read.cwd = rollout.cwd;
    read.model = rollout.model;
    read.version = rollout.version;
    read.first_at = rollout.first_at;
    read.last_at = rollout.last_at;
    read.plans = rollout.plans;
    read.warnings = rollout.warnings;
    Ok(read)
}

/// The per-line work of a rollout read.
struct Rollout<'p> {
    path: &'p Path,
    mtime: Option<Timestamp>,
    update_plan: memmem::Finder<'static>,
    session_meta: memmem::Finder<'static>,
    turn_context: memmem::Finder<'static>,
    /// Whether the session's own meta line has been read (a forked rollout
    /// holds its parent's too, after its own).
    meta_seen: bool,
    /// The session's start, from its meta line: the base of the times given
    /// to plans on lines that carry none (September 2025).
    started: Option<Timestamp>,
    session: Option<String>,
    cwd: Option<String>,
    model: Option<String>,
    version: Option<String>,
    first_at: Option<Timestamp>,
    last_at: Option<Timestamp>,
    plans: Vec<PlanWrite>,
    warnings: Vec<Warning>,
}

impl<'p> Rollout<'p> {
    fn new(path: &'p Path, mtime: Option<Timestamp>) -> Rollout<'p> {
        Rollout {
            path,
            mtime,
            update_plan: memmem::Finder::new(b"\"update_plan\""),
            session_meta: memmem::Finder::new(b"\"session_meta\""),
            turn_context: memmem::Finder::new(b"\"turn_context\""),
            meta_seen: false,
            started: None,
            session: None,
            cwd: None,
            model: None,
            version: None,
            first_at: None,
            last_at: None,
            plans: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn warn(&mut self, line: u64, message: String) {
        self.warnings
            .push(Warning::at_line(self.path, line, message));
    }

    fn saw_time(&mut self, at: Timestamp) {
        self.first_at = Some(self.first_at.map_or(at, |t| t.min(at)));
        self.last_at = Some(self.last_at.map_or(at, |t| t.max(at)));
    }

    /// The first line, read apart on an incremental read: only what it says
    /// of the session is taken (its time is not this read's, but it is the
    /// base for plans on lines without one).
    fn head_line(&mut self, line: &[u8]) {
        if let Ok(value) = serde_json::from_slice::<Value>(line) {
            self.meta(&value, true);
        }
    }

    /// A session's meta line: `{"type":"session_meta","payload":{…}}`, or
    /// the bare `{"id","timestamp",…}` first line of September 2025. Returns
    /// whether it was one.
    fn meta(&mut self, value: &Value, first_line: bool) -> bool {
        let meta = match value.get("type").and_then(Value::as_str) {
            Some("session_meta") => value.get("payload"),
            None if first_line || !self.meta_seen => {
                // The bare meta line has an id and a timestamp, and no type.
                (value.get("id").is_some_and(Value::is_string)
                    && value.get("timestamp").is_some_and(Value::is_string))
                .then_some(value)
            }
            _ => None,
        };
        let Some(meta) = meta else {
            return false;
        };
        if self.meta_seen {
            return true;
        }
        self.meta_seen = true;
        self.session = json::text(meta.get("id")).map(|s| s.trim().to_string());
        if let Some(cwd) = json::text(meta.get("cwd")) {
            self.cwd.get_or_insert(cwd);
        }
        self.version = json::text(meta.get("cli_version"));
        if let Some(model) = json::text(meta.get("model")) {
            self.model = Some(model);
        }
        self.started = meta
            .get("timestamp")
            .and_then(Value::as_str)
            .and_then(Timestamp::parse_rfc3339);
        true
    }

    fn turn_context(&mut self, value: &Value) {
        let Some(payload) = value.get("payload") else {
            return;
        };
        if let Some(cwd) = json::text(payload.get("cwd")) {
            self.cwd.get_or_insert(cwd);
        }
        if let Some(model) = json::text(payload.get("model")) {
            self.model = Some(model);
        }
    }

    /// An `update_plan` call on line `number`, wrapped in a `response_item`
    /// or bare; other lines that mention the tool are not calls.
    fn plan(&mut self, number: u64, value: &Value, at: Option<Timestamp>) {
        let call = match value.get("type").and_then(Value::as_str) {
            Some("response_item") => value.get("payload"),
            Some("function_call") => Some(value),
            _ => None,
        };
        let Some(call) = call.filter(|c| {
            c.get("type").and_then(Value::as_str) == Some("function_call")
                && c.get("name").and_then(Value::as_str) == Some("update_plan")
        }) else {
            return;
        };
        let args = match call.get("arguments") {
            Some(Value::String(text)) => match serde_json::from_str::<Value>(text) {
                Ok(args) => args,
                Err(e) => {
                    let e = ParseError::from_json(&e);
                    return self.warn(
                        number,
                        format!("update_plan call whose arguments are not valid JSON: {e}"),
                    );
                }
            },
            Some(other) => {
                let found = json::kind_of(other);
                return self.warn(
                    number,
                    format!("update_plan call whose arguments are {found}, not a JSON string"),
                );
            }
            None => return self.warn(number, "update_plan call without arguments".into()),
        };
        let Some(entries) = args.get("plan").and_then(Value::as_array) else {
            let found = args.get("plan").map_or("nothing", json::kind_of);
            return self.warn(
                number,
                format!("update_plan call whose `plan` is {found}, not a list"),
            );
        };
        let todos = agent_todos(entries, "step");
        let at = match at {
            Some(at) => at,
            None => match self.started.or(self.mtime) {
                // Lines of September 2025 carry no time: the plan is placed
                // after the session's start by its line number in
                // milliseconds, which keeps the file's order and is the same
                // on every read.
                Some(base) => Timestamp::from_millis(
                    base.millis()
                        .saturating_add(i64::try_from(number).unwrap_or(i64::MAX)),
                ),
                None => Timestamp::from_millis(0),
            },
        };
        self.saw_time(at);
        self.plans.push(PlanWrite {
            line: Some(number),
            at,
            session: None,
            todos,
        });
    }
}

/// The `timestamp` a rollout line starts with (`{"timestamp":"…"`, as Codex
/// serializes every line since autumn 2025), without parsing the line.
fn leading_timestamp(line: &[u8]) -> Option<Timestamp> {
    let rest = line.strip_prefix(b"{\"timestamp\":\"")?;
    let end = memchr::memchr(b'"', rest)?;
    Timestamp::parse_rfc3339(std::str::from_utf8(&rest[..end]).ok()?)
}

impl LineSink for Rollout<'_> {
    fn line(&mut self, number: u64, raw: &[u8]) {
        let line = lines::trim_line(raw);
        if line.iter().all(u8::is_ascii_whitespace) {
            return;
        }
        let at = leading_timestamp(line);
        if let Some(at) = at {
            self.saw_time(at);
        }
        let plan = self.update_plan.find(line).is_some();
        let facts = number == 1
            || (!self.meta_seen && self.session_meta.find(line).is_some())
            || self.turn_context.find(line).is_some();
        if !plan && !facts {
            return;
        }
        let value: Value = match serde_json::from_slice(line) {
            Ok(value) => value,
            Err(e) => {
                let e = ParseError::from_json(&e);
                return self.warn(number, format!("corrupt line: {e}"));
            }
        };
        let at = at.or_else(|| {
            value
                .get("timestamp")
                .and_then(Value::as_str)
                .and_then(Timestamp::parse_rfc3339)
        });
        if facts {
            if self.meta(&value, number == 1) {
                if number == 1 {
                    if let Some(at) = at.or(self.started) {
                        self.saw_time(at);
                    }
                }
                return;
            }
            if value.get("type").and_then(Value::as_str) == Some("turn_context") {
                return self.turn_context(&value);
            }
        }
        if plan {
            self.plan(number, &value, at);
        }
    }

    fn overlong_line(&mut self, number: u64, len: u64) {
        self.warn(
            number,
            format!("line of {len} bytes is longer than the limit; skipped"),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_from_file_name() {
        let id = |p: &str| session_of_file(Path::new(p));
        assert_eq!(
            id("/h/sessions/2025/09/10/rollout-2025-09-10T12-34-56-5973b6c0-94b8-487b-a530-2aeb6098ae0e.jsonl")
                .as_deref(),
            Some("5973b6c0-94b8-487b-a530-2aeb6098ae0e")
        );
        assert_eq!(
            id("rollout-2026-05-05T18-28-34-019df7ae-b036-76c2-a499-fe10385d955a.jsonl.zst")
                .as_deref(),
            Some("019df7ae-b036-76c2-a499-fe10385d955a")
        );
        assert_eq!(id("rollout-short.jsonl"), None);
        assert_eq!(id("other.jsonl"), None);
    }

    #[test]
    fn timestamp_read_from_the_line_start() {
        let at = leading_timestamp(br#"{"timestamp":"2026-01-02T03:04:05.678Z","type":"x"}"#);
        assert_eq!(at, Timestamp::parse_rfc3339("2026-01-02T03:04:05.678Z"));
        assert_eq!(leading_timestamp(br#"{"type":"x"}"#), None);
    }
}
