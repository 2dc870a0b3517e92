//! Claude Code's hooks (docs/HOOKS.md): a session tells chittysync as it starts, as it
//! uses a plan tool, and as it ends.
//!
//! Each hook is one short store transaction in a fresh process that Claude Code
//! waits for, so nothing here scans the Claude folder or writes the outputs: a
//! `TodoWrite` goes straight into the fold (visible to `todos` at once) and the
//! daemon rewrites the output files when it sees the same write on disk. The
//! payload's tool calls go through the same [`Ingest`] steps as transcript
//! lines, so a hook and the transcript telling of one call agree.

mod context;
mod payload;

pub use payload::HookInput;

use crate::collisions;
use crate::ingest::{Ingest, Moved, Placer, Sightings, TaskCall};
use crate::project_lookup::work_tree_of;
use crate::summary::Report;
use crate::Engine;
use chittysync_core::{Source, Timestamp};
use chittysync_sources::read_limited;
use chittysync_store::{SessionUpdate, StoreError, Tx};
use payload::PlanCall;
use std::path::Path;
use std::time::Duration;

/// Why a hook could not be taken in. The hook command logs it and still exits 0.
#[derive(Debug, thiserror::Error)]
pub enum HookError {
    #[error("hook payload: {0}")]
    Payload(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// What a hook knows besides its payload.
#[derive(Debug, Clone)]
pub struct HookEnv {
    /// When the hook runs: the time of what it records.
    pub now: Timestamp,
    /// `CLAUDE_CODE_TASK_LIST_ID` from the hook's environment: the session's
    /// shared task list (only hooks and transcripts can tell it).
    pub task_list: Option<String>,
    /// Open todos not updated for this long are not worth telling a new session.
    pub stale_after: Duration,
    /// Whether the session has Claude Code's plan tools whatever its model:
    /// `CLAUDE_CODE_ENABLE_TODO_TOOLS` on in its settings or environment.
    pub plan_tools_on: bool,
}

/// What a session started without the plan tools is told, once (docs/SOURCES.md, "Claude Code"; docs/HOOKS.md).
const PLAN_TOOLS_OFF: &str = "chittysync: Claude Code's plan tools (TodoWrite, TaskCreate, TaskUpdate) are not turned on for this session, so on the newer Claude models its plan is not recorded and other sessions cannot see it. The user can turn them on for every session with `chittysync hooks install` (it sets CLAUDE_CODE_ENABLE_TODO_TOOLS=1 in settings.json).";

/// What a `post-tool-use` hook took in.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToolReport {
    /// Observations new to the store.
    pub observations: u64,
    /// Parts of the call that could not be used (entries without content…).
    pub warnings: Vec<String>,
    /// The collisions this write is in that the session was not told of yet
    /// (docs/COLLISIONS.md).
    pub collisions: Vec<chittysync_core::Collision>,
    /// What to tell the session of them, as Claude Code's
    /// `additionalContext` (None: nothing new).
    pub context: Option<String>,
}

/// How many open todos a starting session is told about, at most.
const CONTEXT_LINES: usize = 10;

impl Engine {
    /// `SessionStart`: records the session, and returns what other sessions of
    /// its project have open, as the text to hand Claude Code (None: nothing).
    pub fn hook_session_start(
        &mut self,
        input: &HookInput,
        env: &HookEnv,
    ) -> Result<Option<String>, HookError> {
        let session = input.session()?;
        let tx = self.store.begin()?;
        let mut placer = Placer::new(&self.rules);
        let mut facts = session_facts(input, session, &self.device, env, &mut placer);
        facts.git_branch = input
            .cwd
            .as_deref()
            .and_then(|cwd| git_branch(Path::new(cwd)));
        facts.started_at = Some(env.now);
        facts.start_source = input.source.clone();
        tx.update_session(&facts)?;
        let project = tx.session(session)?.and_then(|s| s.project);
        tx.commit()?;
        // Said once: when the session starts, not when it resumes or compacts.
        let starting = matches!(input.source.as_deref(), None | Some("startup"));
        let note = (!env.plan_tools_on && starting).then(|| PLAN_TOOLS_OFF.to_string());
        let Some(project) = project else {
            return Ok(note);
        };
        let since = Timestamp(env.now.millis() - env.stale_after.as_millis() as i64);
        // One read transaction: one snapshot, and SQLite's locks taken once
        // rather than for each of the many reads (docs/BENCHMARKS.md, "The
        // log's tail").
        let ((todos, total), collisions) = self.store.read_consistent(|store| {
            Ok((
                store.open_todos_of_others(&project, session, since, CONTEXT_LINES)?,
                collisions::collisions_in(
                    crate::Reader::new(store),
                    Some(&project),
                    env.now,
                    env.stale_after,
                )?,
            ))
        })?;
        let others = context::render(&project, session, &todos, total, env.now)?;
        let collisions = collisions::render_for_start(&collisions, &project, env.now);
        let parts: Vec<String> = [others, collisions, note].into_iter().flatten().collect();
        Ok((!parts.is_empty()).then(|| parts.join("\n\n")))
    }

    /// `PostToolUse` of `TodoWrite`, `TaskCreate` or `TaskUpdate`: takes the
    /// call in as the session's (or its task's) word, stamped now. Other tools
    /// are ignored.
    pub fn hook_post_tool_use(
        &mut self,
        input: &HookInput,
        env: &HookEnv,
    ) -> Result<ToolReport, HookError> {
        let session = input.session()?;
        let Some(call) = input.plan_call()? else {
            return Ok(ToolReport::default());
        };
        let mut report = Report::default();
        let mut warnings = Vec::new();
        let tx = self.store.begin()?;
        let before = tx.last_seq()?;
        let mut placer = Placer::new(&self.rules);
        tx.update_session(&session_facts(
            input,
            session,
            &self.device,
            env,
            &mut placer,
        ))?;
        let list = task_list_of(&tx, session, env)?;
        let mut ingest = Ingest {
            tx: &tx,
            device: &self.device,
            placer,
            sightings: Sightings::default(),
            report: &mut report,
            moved: Moved::default(),
        };
        let task = |task_id| TaskCall {
            list: &list,
            task_id,
            session,
            source: Source::Hook,
            at: env.now,
        };
        match &call {
            PlanCall::TodoWrite(todos) => {
                ingest.sightings.push_list(
                    &todos.items,
                    session,
                    input.agent_id.as_deref(),
                    Source::Hook,
                    env.now,
                );
            }
            PlanCall::TaskCreate {
                task_id,
                subject,
                active_form,
            } => ingest.task_created(&task(task_id), subject.clone(), active_form.clone())?,
            PlanCall::TaskUpdate {
                task_id,
                status,
                subject,
                active_form,
            } => {
                if !ingest.task_updated(
                    &task(task_id),
                    status.map(|s| s.status),
                    subject.clone(),
                    active_form.clone(),
                )? {
                    warnings.push(format!(
                        "TaskUpdate of task {task_id} in list {list}, whose subject is not known; skipped"
                    ));
                }
            }
        }
        let observations = ingest.finish()?;
        // In the same transaction: two hooks racing cannot both warn of one collision.
        let new = tx.words_after(before)?;
        let collisions = collisions::warn_writer(&tx, session, &new, env.now, env.stale_after)?;
        tx.commit()?;
        warnings.extend(call.problems());
        let context = (!collisions.is_empty())
            .then(|| collisions::render_warning(&collisions, session, env.now));
        Ok(ToolReport {
            observations,
            warnings,
            collisions,
            context,
        })
    }

    /// `SessionEnd`: records when and why the session ended.
    pub fn hook_session_end(&mut self, input: &HookInput, env: &HookEnv) -> Result<(), HookError> {
        let session = input.session()?;
        let tx = self.store.begin()?;
        let mut placer = Placer::new(&self.rules);
        let mut facts = session_facts(input, session, &self.device, env, &mut placer);
        facts.ended_at = Some(env.now);
        facts.end_reason = input.reason.clone();
        tx.update_session(&facts)?;
        // The daemon's git timer syncs when this changes (crates/daemon/src/git_timer.rs).
        tx.set_meta("sessions.last_ended_at", &env.now.to_rfc3339())?;
        tx.commit()?;
        Ok(())
    }
}

/// What every hook tells of its session: seen now, on this device, in this
/// cwd (hence project), on this task list, by this agent.
fn session_facts(
    input: &HookInput,
    session: &str,
    device: &str,
    env: &HookEnv,
    placer: &mut Placer<'_>,
) -> SessionUpdate {
    SessionUpdate {
        id: session.to_string(),
        device: device.to_string(),
        cwd: input.cwd.clone(),
        project: input.cwd.as_deref().map(|cwd| placer.project_of_cwd(cwd)),
        task_list: env.task_list.clone(),
        agent: input.agent_id.clone(),
        seen_from: Some(env.now),
        seen_to: Some(env.now),
        ..SessionUpdate::default()
    }
}

/// The list a session's task calls belong to: the shared one it reported
/// (now or earlier), else its own.
fn task_list_of(tx: &Tx<'_>, session: &str, env: &HookEnv) -> Result<String, StoreError> {
    if let Some(list) = &env.task_list {
        return Ok(list.clone());
    }
    Ok(tx
        .session(session)?
        .and_then(|s| s.task_list)
        .unwrap_or_else(|| session.to_string()))
}

/// The most read of a `.git` file or a `HEAD`: both hold one short line.
const GIT_FILE_BYTES: u64 = 4096;

/// The branch checked out in the work tree holding `cwd`, from `.git/HEAD`
/// (no `git` process: a hook must stay fast). `HEAD` when detached, as Claude
/// Code's transcripts say. These files are in the user's folder and may be
/// anything (a FIFO, a link to `/dev/zero`): they are read as any small file
/// of a user's folder is, never waiting and never past a few KiB
/// (docs/HOOKS.md, "Files read from your folders").
fn git_branch(cwd: &Path) -> Option<String> {
    let root = work_tree_of(cwd)?;
    let dot_git = root.join(".git");
    let git_dir = if dot_git.is_dir() {
        dot_git
    } else {
        // A linked work tree or submodule: `gitdir: <path>`.
        let text = read_git_file(&dot_git)?;
        root.join(text.strip_prefix("gitdir:")?.trim())
    };
    let head = read_git_file(&git_dir.join("HEAD"))?;
    Some(match head.trim().strip_prefix("ref:") {
        Some(reference) => {
            let reference = reference.trim();
            reference
                .strip_prefix("refs/heads/")
                .unwrap_or(reference)
                .to_string()
        }
        None => "HEAD".to_string(),
    })
}

fn read_git_file(path: &Path) -> Option<String> {
    String::from_utf8(read_limited(path, GIT_FILE_BYTES).ok()?).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branch_from_head_of_plain_and_linked_work_trees() {
        let dir = tempfile::tempdir().unwrap();
        let repo = dir.path().join("repo");
        std::fs::create_dir_all(repo.join(".git")).unwrap();
        std::fs::create_dir_all(repo.join("src")).unwrap();
        std::fs::write(repo.join(".git/HEAD"), "ref: refs/heads/feature/x\n").unwrap();
        assert_eq!(git_branch(&repo.join("src")).as_deref(), Some("feature/x"));

        let linked = dir.path().join("linked");
        std::fs::create_dir_all(&linked).unwrap();
        let meta = dir.path().join("meta");
        std::fs::create_dir_all(&meta).unwrap();
        std::fs::write(meta.join("HEAD"), "0123456789abcdef\n").unwrap();
        std::fs::write(linked.join(".git"), format!("gitdir: {}\n", meta.display())).unwrap();
        assert_eq!(git_branch(&linked).as_deref(), Some("HEAD"));

        assert_eq!(git_branch(Path::new("/no/such/dir")), None);
    }
}
