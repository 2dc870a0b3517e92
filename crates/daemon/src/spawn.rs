//! Specialist agents (docs/TOPICS.md): when a topic has
//! `[spawn] threshold` pending todos, start `[spawn] command` in the folder of
//! the topic's most recent session — once per `cooldown`, at most
//! `max_running` at a time, a failing command backed off — and record the
//! start, its pid, its end and the session it became.
//!
//! The command is an argv list run without a shell: each placeholder is
//! replaced inside its own argument, so a topic or a prompt holding spaces,
//! quotes or `;` stays one argument. Its stdout and stderr go to a log file
//! that keeps at most `log_max_bytes`. Nothing here runs unless
//! `[spawn] enabled = true` (the callers check; [`start`] refuses too).

use chittysync_config::SpawnConfig;
use chittysync_core::topic::{topics, Topic, TopicRules};
use chittysync_core::{Timestamp, TodoEntry};
use chittysync_engine::{Ledger, NewSpawn, Reader, SessionRecord, SpawnRecord, StoreError};
use serde::Serialize;
use std::collections::{BTreeSet, HashMap};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};

/// Backoff after failed starts doubles the cooldown per failure, up to this factor.
const MAX_BACKOFF_FACTOR: u32 = 64;
/// A session first seen this long before a start can still be the one it became
/// (clocks of a transcript's lines and of this process differ slightly).
const SESSION_SLACK_MS: i64 = 2_000;
/// A start recorded without a pid yet is taken for running this long.
const STARTING_MS: i64 = 60_000;

/// What the decision says of one topic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "verdict", rename_all = "snake_case")]
pub enum Verdict {
    /// Start it now, for this reason.
    Start { reason: String },
    /// Not now, and why.
    Wait { why: String },
}

/// One topic at or over the threshold, and what to do about it.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub project: String,
    pub topic: String,
    pub pending: usize,
    /// The folder it would start in: the cwd of the topic's most recent session.
    pub cwd: Option<String>,
    #[serde(flatten)]
    pub verdict: Verdict,
    /// The argv it would run (placeholders filled; `{todos_file}` where it will be).
    pub command: Vec<String>,
    #[serde(skip)]
    pub todos: Vec<TodoEntry>,
}

/// What is read from the store to decide.
pub struct Picture {
    pub todos: Vec<TodoEntry>,
    pub sessions: Vec<SessionRecord>,
    pub spawns: Vec<SpawnRecord>,
}

impl Picture {
    pub fn read(reader: Reader<'_>) -> Result<Picture, StoreError> {
        let todos = reader
            .folded_todos()?
            .iter()
            .map(|t| t.entry())
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Picture {
            todos,
            sessions: reader.sessions()?,
            spawns: reader.spawns()?,
        })
    }
}

/// Whether a process is alive (signal 0 reaches it).
#[allow(unsafe_code)]
pub fn alive(pid: u32) -> bool {
    // SAFETY: kill with signal 0 only checks that the process exists.
    pid > 0 && unsafe { libc::kill(pid as libc::pid_t, 0) } == 0
}

/// Whether a recorded start is running now.
fn running(s: &SpawnRecord, now: Timestamp) -> bool {
    if s.ended_at.is_some() {
        return false;
    }
    match s.pid {
        Some(pid) => alive(pid),
        None => now.millis() - s.started_at.millis() < STARTING_MS,
    }
}

/// The decision for one topic with `pending` pending todos, given its
/// previous starts (oldest first). Pure but for `alive` (through `running`).
pub fn decide(
    config: &SpawnConfig,
    pending: usize,
    history: &[SpawnRecord],
    now: Timestamp,
) -> Verdict {
    let wait = |why: String| Verdict::Wait { why };
    if pending < config.threshold {
        return wait(format!(
            "{pending} pending, below the threshold of {}",
            config.threshold
        ));
    }
    let running_now = history.iter().filter(|s| running(s, now)).count();
    if running_now >= config.max_running.max(1) {
        return wait(format!(
            "{running_now} running (max_running = {})",
            config.max_running
        ));
    }
    if let Some(last) = history.last() {
        let cooldown = config.cooldown.as_millis() as i64;
        let failures = history.iter().rev().take_while(|s| s.failed()).count() as u32;
        if failures > 0 {
            let factor = 2u32.saturating_pow(failures).min(MAX_BACKOFF_FACTOR) as i64;
            let from = last.ended_at.unwrap_or(last.started_at);
            let until = Timestamp(from.millis() + cooldown * factor);
            if now < until {
                return wait(format!(
                    "backed off until {} after {failures} failed start{}: {}",
                    until.to_rfc3339(),
                    if failures == 1 { "" } else { "s" },
                    last.failure()
                ));
            }
        } else {
            let until = Timestamp(last.started_at.millis() + cooldown);
            if now < until {
                return wait(format!(
                    "cooldown until {} (last start {})",
                    until.to_rfc3339(),
                    last.started_at.to_rfc3339()
                ));
            }
        }
    }
    Verdict::Start {
        reason: format!("{pending} pending todos (threshold {})", config.threshold),
    }
}

/// The folder of a topic's most recent session that still exists.
fn cwd_of(topic: &Topic, sessions: &HashMap<&str, &SessionRecord>) -> Option<String> {
    let mut known: Vec<&SessionRecord> = topic
        .sessions
        .iter()
        .filter_map(|s| sessions.get(s.as_str()).copied())
        .filter(|s| s.cwd.as_deref().is_some_and(|c| Path::new(c).is_dir()))
        .collect();
    known.sort_by(|a, b| {
        (b.last_seen, b.first_seen, &a.id).cmp(&(a.last_seen, a.first_seen, &b.id))
    });
    known.first().and_then(|s| s.cwd.clone())
}

/// Fills the placeholders of one argument.
fn fill(text: &str, values: &[(&str, &str)]) -> String {
    // One pass, so a value holding `{topic}` is never filled again.
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    'outer: while !rest.is_empty() {
        for (key, value) in values {
            if let Some(after) = rest.strip_prefix(key) {
                out.push_str(value);
                rest = after;
                continue 'outer;
            }
        }
        let c = rest.chars().next().expect("not empty");
        out.push(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

/// The argv with every placeholder filled; each element stays one argument.
pub fn argv(
    config: &SpawnConfig,
    topic: &str,
    project: &str,
    cwd: &str,
    todos_file: &str,
) -> Vec<String> {
    let base = [
        ("{topic}", topic),
        ("{project}", project),
        ("{cwd}", cwd),
        ("{todos_file}", todos_file),
    ];
    let prompt = fill(&config.prompt, &base);
    let mut values = base.to_vec();
    values.push(("{prompt}", prompt.as_str()));
    config.command.iter().map(|a| fill(a, &values)).collect()
}

/// Where a start's files go.
fn spawn_dir(home: &Path, id: i64) -> PathBuf {
    home.join("spawns").join(id.to_string())
}

/// Every topic at or over the threshold, with what to do about it.
pub fn candidates(
    config: &SpawnConfig,
    rules: &TopicRules,
    picture: &Picture,
    project: Option<&str>,
    home: &Path,
    now: Timestamp,
) -> Vec<Candidate> {
    let sessions: HashMap<&str, &SessionRecord> = picture
        .sessions
        .iter()
        .map(|s| (s.id.as_str(), s))
        .collect();
    let mut out = Vec::new();
    for topic in topics(rules, &picture.todos) {
        if project.is_some_and(|p| p != topic.project) || topic.pending.len() < config.threshold {
            continue;
        }
        let history: Vec<SpawnRecord> = picture
            .spawns
            .iter()
            .filter(|s| s.project == topic.project && s.topic == topic.topic)
            .cloned()
            .collect();
        let cwd = cwd_of(&topic, &sessions);
        let mut verdict = decide(config, topic.pending.len(), &history, now);
        if cwd.is_none() && matches!(verdict, Verdict::Start { .. }) {
            verdict = Verdict::Wait {
                why: "no folder known: none of its sessions' folders exists here".into(),
            };
        }
        let todos_file = spawn_dir(home, 0)
            .with_file_name("<id>")
            .join("todos.json")
            .display()
            .to_string();
        let command = argv(
            config,
            &topic.topic,
            &topic.project,
            cwd.as_deref().unwrap_or(""),
            &todos_file,
        );
        let open: BTreeSet<&str> = topic.open().map(|t| t.id.as_str()).collect();
        out.push(Candidate {
            todos: picture
                .todos
                .iter()
                .filter(|t| open.contains(t.id.as_str()))
                .cloned()
                .collect(),
            project: topic.project,
            topic: topic.topic,
            pending: topic.pending.len(),
            cwd,
            verdict,
            command,
        });
    }
    out
}

/// A started specialist.
pub struct Started {
    pub id: i64,
    pub pid: u32,
    pub child: std::process::Child,
    /// The threads copying its output into the log.
    copiers: Vec<std::thread::JoinHandle<()>>,
}

/// Starts a candidate whose verdict is `Start`: records it (deciding again
/// under the store's write lock, so two deciders never start a topic twice),
/// writes its todos file, runs its command. `Ok(None)` when, deciding again,
/// it is not due any more. A command that cannot be run is recorded as a
/// failed start (and so backed off) and returned as an error.
pub fn start(
    ledger: &mut Ledger,
    config: &SpawnConfig,
    home: &Path,
    device: &str,
    candidate: &Candidate,
    now: Timestamp,
) -> Result<Option<Started>, SpawnError> {
    if !config.enabled {
        return Err(SpawnError::Disabled);
    }
    if let Some(problem) = config.problem() {
        return Err(SpawnError::Config(problem));
    }
    let Some(cwd) = candidate.cwd.clone() else {
        return Ok(None);
    };
    let recorded = ledger.record_spawn(
        &candidate.project,
        &candidate.topic,
        |history| {
            let Verdict::Start { reason } = decide(config, candidate.pending, history, now) else {
                return None;
            };
            Some(NewSpawn {
                project: candidate.project.clone(),
                topic: candidate.topic.clone(),
                device: device.to_string(),
                command: Vec::new(),
                cwd: cwd.clone(),
                pending: candidate.pending,
                reason,
                todos_file: String::new(),
                log_file: String::new(),
                started_at: now,
            })
        },
        |id| {
            let dir = spawn_dir(home, id);
            (
                dir.join("todos.json").display().to_string(),
                dir.join("log").display().to_string(),
            )
        },
    )?;
    let Some(id) = recorded else {
        return Ok(None);
    };
    let dir = spawn_dir(home, id);
    let todos_file = dir.join("todos.json");
    let log_file = dir.join("log");
    let command = argv(
        config,
        &candidate.topic,
        &candidate.project,
        &cwd,
        &todos_file.display().to_string(),
    );
    ledger.set_spawn_command(id, &command)?;
    let run = || -> Result<Started, String> {
        std::fs::create_dir_all(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let body = serde_json::to_vec_pretty(&serde_json::json!({
            "project": candidate.project,
            "topic": candidate.topic,
            "todos": candidate.todos,
        }))
        .map_err(|e| e.to_string())?;
        std::fs::write(&todos_file, body).map_err(|e| format!("{}: {e}", todos_file.display()))?;
        let log =
            std::fs::File::create(&log_file).map_err(|e| format!("{}: {e}", log_file.display()))?;
        let mut cmd = Command::new(&command[0]);
        cmd.args(&command[1..])
            .current_dir(&cwd)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .env("CHITTYSYNC_SPAWN_ID", id.to_string())
            .env("CHITTYSYNC_TOPIC", &candidate.topic)
            .env("CHITTYSYNC_PROJECT", &candidate.project);
        // Its own process group: a Ctrl-C meant for chittysync does not reach it.
        std::os::unix::process::CommandExt::process_group(&mut cmd, 0);
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot run `{}`: {e}", command[0]))?;
        let log = Arc::new(Mutex::new(BoundedLog {
            file: log,
            left: config.log_max_bytes,
            cut: false,
        }));
        let mut copiers = Vec::new();
        if let Some(out) = child.stdout.take() {
            copiers.push(copy_into(out, log.clone()));
        }
        if let Some(err) = child.stderr.take() {
            copiers.push(copy_into(err, log));
        }
        Ok(Started {
            id,
            pid: child.id(),
            child,
            copiers,
        })
    };
    match run() {
        Ok(started) => {
            ledger.spawn_started(id, started.pid)?;
            Ok(Some(started))
        }
        Err(e) => {
            ledger.spawn_ended(id, Timestamp::now(), None, Some(&e))?;
            Err(SpawnError::Start(e))
        }
    }
}

impl Started {
    /// Waits for the process to end and records how it ended.
    pub fn wait_and_record(mut self, ledger: &Ledger) -> Result<SpawnEnd, StoreError> {
        let status = self.child.wait();
        for c in self.copiers.drain(..) {
            let _ = c.join();
        }
        let end = match status {
            Ok(s) => {
                use std::os::unix::process::ExitStatusExt;
                SpawnEnd {
                    exit_code: s.code(),
                    error: s.signal().map(|sig| format!("killed by signal {sig}")),
                }
            }
            Err(e) => SpawnEnd {
                exit_code: None,
                error: Some(format!("cannot wait for it: {e}")),
            },
        };
        ledger.spawn_ended(
            self.id,
            Timestamp::now(),
            end.exit_code,
            end.error.as_deref(),
        )?;
        Ok(end)
    }
}

/// How a specialist ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SpawnEnd {
    pub exit_code: Option<i32>,
    pub error: Option<String>,
}

/// A log file that keeps at most so many bytes, then says it was cut.
struct BoundedLog {
    file: std::fs::File,
    left: u64,
    cut: bool,
}

fn copy_into(
    mut from: impl Read + Send + 'static,
    log: Arc<Mutex<BoundedLog>>,
) -> std::thread::JoinHandle<()> {
    std::thread::spawn(move || {
        let mut buf = [0u8; 8192];
        // Read to the end whatever is kept, so the process never blocks on a full pipe.
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 {
                break;
            }
            let Ok(mut log) = log.lock() else { break };
            let keep = (n as u64).min(log.left) as usize;
            if keep > 0 {
                let _ = log.file.write_all(&buf[..keep]);
                log.left -= keep as u64;
            }
            if keep < n && !log.cut {
                log.cut = true;
                let _ = log
                    .file
                    .write_all(b"\n[chittysync: log cut at log_max_bytes]\n");
            }
        }
    })
}

/// Links each start to the session it became: the first session in its
/// folder first seen after it started (and before it ended), not already
/// another start's. Returns how many were linked.
pub fn link_sessions(ledger: &Ledger, picture: &Picture) -> Result<usize, StoreError> {
    let mut taken: BTreeSet<&str> = picture
        .spawns
        .iter()
        .filter_map(|s| s.session.as_deref())
        .collect();
    let canonical = |p: &str| std::fs::canonicalize(p).unwrap_or_else(|_| PathBuf::from(p));
    let mut linked = 0;
    for spawn in picture.spawns.iter().filter(|s| s.session.is_none()) {
        let folder = canonical(&spawn.cwd);
        let from = spawn.started_at.millis() - SESSION_SLACK_MS;
        let to = spawn.ended_at.map(|t| t.millis() + SESSION_SLACK_MS);
        let mut found: Vec<&SessionRecord> = picture
            .sessions
            .iter()
            .filter(|s| !taken.contains(s.id.as_str()))
            .filter(|s| {
                s.cwd
                    .as_deref()
                    .is_some_and(|c| c == spawn.cwd || canonical(c) == folder)
            })
            .filter(|s| {
                s.started_at
                    .or(s.first_seen)
                    .is_some_and(|t| t.millis() >= from && to.is_none_or(|to| t.millis() <= to))
            })
            .collect();
        found.sort_by_key(|s| (s.started_at.or(s.first_seen), s.id.clone()));
        if let Some(session) = found.first() {
            ledger.link_spawn_session(spawn.id, &session.id)?;
            taken.insert(session.id.as_str());
            linked += 1;
        }
    }
    Ok(linked)
}

/// Starts recorded as running whose process is gone without its end being
/// seen (the process that waited for it stopped first): recorded as ended.
pub fn reap_lost(ledger: &Ledger, picture: &Picture, mine: &[i64]) -> Result<(), StoreError> {
    for s in &picture.spawns {
        if s.ended_at.is_none() && !mine.contains(&s.id) {
            if let Some(pid) = s.pid {
                if !alive(pid) {
                    ledger.spawn_ended(
                        s.id,
                        Timestamp::now(),
                        None,
                        Some("ended; exit not seen"),
                    )?;
                }
            }
        }
    }
    Ok(())
}

/// Why a start failed.
#[derive(Debug, thiserror::Error)]
pub enum SpawnError {
    #[error(
        "specialist agents are off: set `[spawn] enabled = true` in the config (docs/TOPICS.md)"
    )]
    Disabled,
    #[error("[spawn]: {0}")]
    Config(String),
    #[error("{0}")]
    Start(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The daemon's specialist starter: decides after each consolidation,
/// waits for its children on threads of their own, and stops them with the
/// daemon only when `stop_with_daemon` says so.
pub struct Spawner {
    config: SpawnConfig,
    rules: TopicRules,
    home: PathBuf,
    store_path: PathBuf,
    device: String,
    /// The starts this process waits for: (id, pid).
    children: Arc<Mutex<Vec<(i64, u32)>>>,
}

impl Spawner {
    /// `None` unless `[spawn] enabled = true`.
    pub fn new(
        config: &SpawnConfig,
        rules: TopicRules,
        home: &Path,
        store_path: &Path,
        device: &str,
    ) -> Option<Spawner> {
        if !config.enabled {
            return None;
        }
        if let Some(problem) = config.problem() {
            tracing::error!("specialist agents off: {problem}");
            return None;
        }
        Some(Spawner {
            config: config.clone(),
            rules,
            home: home.to_path_buf(),
            store_path: store_path.to_path_buf(),
            device: device.to_string(),
            children: Arc::default(),
        })
    }

    /// After a consolidation: link sessions, note lost starts, start what is due.
    pub fn after_consolidation(&self, ledger: &mut Ledger) {
        if let Err(e) = self.decide_and_start(ledger) {
            tracing::error!("specialist agents: {e}");
        }
    }

    fn decide_and_start(&self, ledger: &mut Ledger) -> Result<(), SpawnError> {
        let picture = Picture::read(ledger.reader())?;
        link_sessions(ledger, &picture)?;
        let mine: Vec<i64> = self
            .children
            .lock()
            .map_or_else(|_| Vec::new(), |c| c.iter().map(|(id, _)| *id).collect());
        reap_lost(ledger, &picture, &mine)?;
        let now = Timestamp::now();
        for c in candidates(&self.config, &self.rules, &picture, None, &self.home, now) {
            if !matches!(c.verdict, Verdict::Start { .. }) {
                continue;
            }
            match start(ledger, &self.config, &self.home, &self.device, &c, now) {
                Ok(Some(started)) => {
                    tracing::info!(
                        project = %c.project, topic = %c.topic, pid = started.pid,
                        id = started.id, "specialist started"
                    );
                    self.watch(started);
                }
                Ok(None) => {}
                Err(e) => {
                    tracing::error!(project = %c.project, topic = %c.topic, "specialist not started: {e}")
                }
            }
        }
        Ok(())
    }

    fn watch(&self, started: Started) {
        let (id, pid) = (started.id, started.pid);
        if let Ok(mut c) = self.children.lock() {
            c.push((id, pid));
        }
        let children = self.children.clone();
        let store_path = self.store_path.clone();
        std::thread::spawn(move || {
            let ended = Ledger::open(&store_path)
                .map_err(|e| e.to_string())
                .and_then(|ledger| started.wait_and_record(&ledger).map_err(|e| e.to_string()));
            match ended {
                Ok(end) => {
                    tracing::info!(id, pid, exit = ?end.exit_code, error = ?end.error, "specialist ended")
                }
                Err(e) => tracing::error!(id, pid, "specialist's end not recorded: {e}"),
            }
            if let Ok(mut c) = children.lock() {
                c.retain(|(i, _)| *i != id);
            }
        });
    }

    /// At the daemon's stop: SIGTERM to its specialists if configured so.
    pub fn stop(&self) {
        if !self.config.stop_with_daemon {
            return;
        }
        let Ok(children) = self.children.lock() else {
            return;
        };
        for (id, pid) in children.iter() {
            tracing::info!(id, pid, "stopping specialist");
            #[allow(unsafe_code)]
            // SAFETY: signals the process group this process started.
            unsafe {
                libc::kill(-(*pid as libc::pid_t), libc::SIGTERM)
            };
        }
    }
}

/// For `status`: how many starts are running now.
pub fn running_count(spawns: &[SpawnRecord]) -> usize {
    let now = Timestamp::now();
    spawns.iter().filter(|s| running(s, now)).count()
}

/// For `status`: the topics backed off — those whose last start failed, as
/// the spawner decides it — each as `project / topic: why`.
pub fn backed_off(spawns: &[SpawnRecord]) -> Vec<String> {
    let mut last: std::collections::BTreeMap<(&str, &str), &SpawnRecord> = Default::default();
    for s in spawns {
        last.insert((s.project.as_str(), s.topic.as_str()), s);
    }
    last.values()
        .filter(|s| s.failed())
        .map(|s| format!("{} / {}: {}", s.project, s.topic, s.failure()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn record(id: i64, started: i64, ended: Option<i64>, exit: Option<i32>) -> SpawnRecord {
        SpawnRecord {
            id,
            project: "api".into(),
            topic: "router".into(),
            device: "d".into(),
            command: vec![],
            cwd: "/".into(),
            pending: 3,
            reason: String::new(),
            todos_file: String::new(),
            log_file: String::new(),
            started_at: Timestamp(started),
            pid: Some(0),
            ended_at: ended.map(Timestamp),
            exit_code: exit,
            error: None,
            session: None,
        }
    }

    fn config() -> SpawnConfig {
        SpawnConfig {
            enabled: true,
            cooldown: Duration::from_secs(60),
            ..SpawnConfig::default()
        }
    }

    /// A topic is backed off when its last start failed, whatever came
    /// before; `status` names it with why.
    #[test]
    fn backed_off_topics_are_those_whose_last_start_failed() {
        let topic = |mut r: SpawnRecord, name: &str| {
            r.topic = name.into();
            r
        };
        let spawns = vec![
            topic(record(1, 0, Some(1), Some(2)), "router"),
            topic(record(2, 2, Some(3), Some(0)), "router"),
            topic(record(3, 4, Some(5), Some(0)), "billing"),
            topic(record(4, 6, Some(7), Some(3)), "billing"),
        ];
        assert_eq!(backed_off(&spawns), vec!["api / billing: exit status 3"]);
        assert!(backed_off(&spawns[..3]).is_empty());
    }

    #[test]
    fn threshold_cooldown_and_backoff() {
        let c = config();
        let now = Timestamp(1_000_000);
        assert!(matches!(decide(&c, 2, &[], now), Verdict::Wait { .. }));
        assert!(matches!(decide(&c, 3, &[], now), Verdict::Start { .. }));
        // Started 30 s ago and done: cooldown holds.
        let ok = record(1, now.0 - 30_000, Some(now.0 - 20_000), Some(0));
        let Verdict::Wait { why } = decide(&c, 3, std::slice::from_ref(&ok), now) else {
            panic!()
        };
        assert!(why.contains("cooldown"), "{why}");
        let later = Timestamp(now.0 + 31_000);
        assert!(matches!(decide(&c, 3, &[ok], later), Verdict::Start { .. }));
        // Two failures in a row: 4 × cooldown after the last end.
        let f1 = record(1, 0, Some(10), Some(1));
        let f2 = record(2, 100_000, Some(100_000), Some(2));
        let at = |ms: i64| decide(&c, 3, &[f1.clone(), f2.clone()], Timestamp(ms));
        let Verdict::Wait { why } = at(100_000 + 239_000) else {
            panic!()
        };
        assert!(
            why.contains("backed off") && why.contains("exit status 2"),
            "{why}"
        );
        assert!(matches!(at(100_000 + 240_000), Verdict::Start { .. }));
    }

    #[test]
    fn placeholders_stay_single_arguments() {
        let c = SpawnConfig {
            command: vec!["agent".into(), "{prompt}".into(), "--in={cwd}".into()],
            prompt: "You are {topic} of {project}: {todos_file}".into(),
            ..config()
        };
        let argv = argv(&c, "a b; \"c\" {project}", "p'q", "/w d", "/t.json");
        assert_eq!(
            argv,
            vec![
                "agent".to_string(),
                "You are a b; \"c\" {project} of p'q: /t.json".to_string(),
                "--in=/w d".to_string()
            ]
        );
    }
}
