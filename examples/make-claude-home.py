#!/usr/bin/env python3
"""Writes examples/claude-home/, the hand-curated Claude Code home of the README.

Run from anywhere: `python3 examples/make-claude-home.py`. It deletes and rewrites
examples/claude-home/ byte for byte (fixed ids, fixed times): the committed tree is
its output, and examples/README.md describes it.

Every line is shaped like what Claude Code writes (2.0/2.1 lines, and a 1.0.x
transcript); the few broken files are broken on purpose.
"""

import hashlib
import json
import os
import random
import shutil
from datetime import datetime, timedelta, timezone

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "claude-home")
RNG = random.Random(20261101)


def uid():
    b = bytearray(RNG.getrandbits(8) for _ in range(16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def b62(prefix, n):
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return prefix + "".join(RNG.choice(alphabet) for _ in range(n))


def compact(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def pretty(obj):
    # JSON.stringify(obj, null, 2)
    return json.dumps(obj, indent=2, ensure_ascii=False)


def at(day, h, m, s=0, ms=0):
    return datetime(2026, 11, day, h, m, s, ms * 1000, tzinfo=timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def write(rel, text):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


SESSIONS = {}  # name -> session id, for the README


def stable_uid(name):
    """A v4-shaped uuid that depends on `name` only, so ids survive edits of the script."""
    b = bytearray(hashlib.sha256(name.encode()).digest()[:16])
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def session(name):
    sid = stable_uid("session " + name)
    SESSIONS[name] = sid
    return sid


class Transcript:
    """One transcript: lines with the common fields, a clock, a parent chain."""

    def __init__(self, sid, cwd, version, branch, start, agent_id=None, model="claude-sonnet-4-5-20250929"):
        self.sid, self.cwd, self.version, self.branch = sid, cwd, version, branch
        self.agent_id = agent_id
        self.model = model
        self.t = start
        self.parent = None
        self.lines = []
        self.v1 = version.startswith("1.")

    def tick(self, seconds):
        # Model turns and tools take a while; keep sessions minutes long.
        self.t += timedelta(milliseconds=int(seconds * 4000) + RNG.randint(0, 2999))
        return self.t

    def head(self):
        d = {
            "parentUuid": self.parent,
            "isSidechain": self.agent_id is not None,
            "userType": "external",
            "cwd": self.cwd,
            "sessionId": self.sid,
            "version": self.version,
            "gitBranch": self.branch,
        }
        if self.agent_id:
            d["agentId"] = self.agent_id
        return d

    def emit(self, d, chain=True):
        self.lines.append(compact(d))
        if chain and "uuid" in d:
            self.parent = d["uuid"]

    def raw(self, text):
        self.lines.append(text)

    # --- 2.x line kinds that carry no plan -------------------------------
    def summary(self, text):
        self.emit({"type": "summary", "summary": text, "leafUuid": uid()}, chain=False)

    def queue(self, op, content=None):
        d = {"type": "queue-operation", "operation": op, "timestamp": iso(self.t), "sessionId": self.sid}
        if content is not None:
            d["content"] = content
        self.emit(d, chain=False)

    def hook_progress(self, tool_id, tool_name):
        d = self.head()
        d.update({
            "type": "progress",
            "data": {"type": "hook_progress", "hookEvent": "PostToolUse",
                     "hookName": f"PostToolUse:{tool_name}",
                     "command": "~/.claude/hooks/log-tool-use.sh"},
            "parentToolUseID": tool_id, "toolUseID": tool_id,
            "timestamp": iso(self.tick(0.05)), "uuid": uid(),
        })
        self.emit(d)

    # --- conversation ------------------------------------------------------
    def prompt(self, text, wait=5):
        self.tick(wait)
        u = uid()
        if not self.v1 and self.agent_id is None:
            self.emit({"type": "file-history-snapshot", "messageId": u,
                       "snapshot": {"messageId": u, "trackedFileBackups": {}, "timestamp": iso(self.t)},
                       "isSnapshotUpdate": False}, chain=False)
        d = self.head()
        d.update({"type": "user", "message": {"role": "user", "content": text}, "uuid": u, "timestamp": iso(self.t)})
        self.emit(d)

    def _assistant(self, block, wait):
        self.tick(wait)
        d = self.head()
        usage = {"input_tokens": RNG.randint(3, 12),
                 "cache_creation_input_tokens": RNG.randint(100, 4000),
                 "cache_read_input_tokens": RNG.randint(9000, 60000)}
        if not self.v1:
            usage["cache_creation"] = {"ephemeral_5m_input_tokens": usage["cache_creation_input_tokens"],
                                       "ephemeral_1h_input_tokens": 0}
        usage["output_tokens"] = RNG.randint(20, 700)
        usage["service_tier"] = "standard"
        d.update({
            "message": {"model": self.model, "id": b62("msg_01", 22), "type": "message", "role": "assistant",
                        "content": [block], "stop_reason": None, "stop_sequence": None, "usage": usage},
            "requestId": b62("req_011C", 20), "type": "assistant", "uuid": uid(), "timestamp": iso(self.t),
        })
        self.emit(d)

    def say(self, text, wait=4):
        self._assistant({"type": "text", "text": text}, wait)

    def tool(self, name, inp, wait=3):
        tid = b62("toolu_01", 22)
        self._assistant({"type": "tool_use", "id": tid, "name": name, "input": inp}, wait)
        return tid

    def result(self, tid, content, tur, wait=0.4):
        self.tick(wait)
        d = self.head()
        d.update({"type": "user",
                  "message": {"role": "user", "content": [{"tool_use_id": tid, "type": "tool_result", "content": content}]},
                  "uuid": uid(), "timestamp": iso(self.t), "toolUseResult": tur})
        self.emit(d)

    # --- tools -----------------------------------------------------------------
    def todo_write(self, todos, prev, hook=False):
        tid = self.tool("TodoWrite", {"todos": todos})
        self.result(tid, "Todos have been modified successfully. Ensure that you continue to use the todo list "
                         "to track your progress. Please proceed with the current tasks if applicable",
                    {"oldTodos": prev, "newTodos": todos})
        if hook:
            self.hook_progress(tid, "TodoWrite")
        return todos

    def read(self, rel, lines):
        path = f"{self.cwd}/{rel}"
        tid = self.tool("Read", {"file_path": path})
        numbered = "\n".join(f"{i + 1:>6}\u2192{l}" for i, l in enumerate(lines))
        self.result(tid, numbered, {"type": "text", "file": {"filePath": path, "content": "\n".join(lines),
                                                             "numLines": len(lines), "startLine": 1,
                                                             "totalLines": len(lines)}}, wait=0.2)

    def bash(self, command, description, stdout):
        tid = self.tool("Bash", {"command": command, "description": description})
        self.result(tid, stdout, {"stdout": stdout, "stderr": "", "interrupted": False, "isImage": False}, wait=6)

    def edit(self, rel, old, new, original):
        path = f"{self.cwd}/{rel}"
        tid = self.tool("Edit", {"file_path": path, "old_string": old, "new_string": new})
        self.result(tid, f"The file {path} has been updated.",
                    {"filePath": path, "oldString": old, "newString": new, "originalFile": original,
                     "structuredPatch": [{"oldStart": 1, "oldLines": 1, "newStart": 1, "newLines": 1,
                                          "lines": [f"-{old}", f"+{new}"]}],
                     "userModified": False, "replaceAll": False})

    def task_create(self, task_id, subject, description, active):
        tid = self.tool("TaskCreate", {"subject": subject, "description": description, "activeForm": active})
        self.result(tid, f"Task #{task_id} created successfully: {subject}",
                    {"task": {"id": task_id, "subject": subject}})

    def task_update(self, task_id, frm, to):
        tid = self.tool("TaskUpdate", {"taskId": task_id, "status": to}, wait=2)
        self.result(tid, f"Updated task #{task_id} status",
                    {"success": True, "taskId": task_id, "updatedFields": ["status"],
                     "statusChange": {"from": frm, "to": to}})

    def task_agent(self, description, prompt, agent_id, report, sub_end):
        tid = self.tool("Task", {"description": description, "prompt": prompt, "subagent_type": "general-purpose"})
        self.t = max(self.t, sub_end)
        self.result(tid, [{"type": "text", "text": report}],
                    {"status": "completed", "prompt": prompt, "agentId": agent_id,
                     "content": [{"type": "text", "text": report}],
                     "totalDurationMs": RNG.randint(20000, 90000), "totalTokens": RNG.randint(9000, 40000),
                     "totalToolUseCount": RNG.randint(3, 12)}, wait=1)
        return tid

    def text(self, cut_last_at=None):
        body = "\n".join(self.lines)
        if cut_last_at is None:
            return body + "\n"
        # The last line is being written: cut, no newline.
        head, _, last = body.rpartition("\n")
        return head + "\n" + last[:cut_last_at]

    def save(self, rel, **kw):
        write(rel, self.text(**kw))


def todo(content, status, active):
    return {"content": content, "status": status, "activeForm": active}


def old_todo(content, status, priority, id_):
    return {"content": content, "status": status, "priority": priority, "id": id_}


def states(items, seq, old=False):
    """items: [(content, active-or-priority)], seq: string like 'ipp' (p/i/c)."""
    names = {"p": "pending", "i": "in_progress", "c": "completed"}
    out = []
    for k, ((content, extra), s) in enumerate(zip(items, seq)):
        if old:
            out.append(old_todo(content, names[s], extra, str(k + 1)))
        else:
            out.append(todo(content, names[s], extra))
    return out


def run_list(tx, items, seqs, old=False, hook_every=0, work=None):
    prev = []
    for n, seq in enumerate(seqs):
        cur = states(items, seq, old)
        tx.todo_write(cur, prev, hook=bool(hook_every) and n % hook_every == 0)
        prev = cur
        if work and n < len(work) and work[n]:
            work[n]()
    return prev


def todo_file(sid, agent, todos):
    write(f"todos/{sid}-agent-{agent}.json", pretty(todos))


SRC_RATE = [
    "use std::time::Duration;",
    "",
    "use crate::http::{Request, Response};",
    "use crate::store::RedisPool;",
    "",
    "pub struct RateLimit {",
    "    pool: RedisPool,",
    "    per_minute: u32,",
    "}",
    "",
    "impl RateLimit {",
    "    pub fn new(pool: RedisPool, per_minute: u32) -> Self {",
    "        Self { pool, per_minute }",
    "    }",
    "}",
]

SRC_SETTINGS = [
    "import { useState } from 'react';",
    "import { Toggle } from '../ui/Toggle';",
    "",
    "export function Settings() {",
    "  const [dark, setDark] = useState(false);",
    "  return (",
    "    <section className=\"settings\">",
    "      <Toggle label=\"Dark mode\" checked={dark} onChange={setDark} />",
    "    </section>",
    "  );",
    "}",
]


def main():
    if os.path.exists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)

    API, WEB, BILL, INFRA, DOCS = ("/home/dev/work/api", "/home/dev/src/webapp", "/home/dev/work/billing",
                                   "/home/dev/work/infra", "/home/dev/src/docs-site")
    F = {c: "projects/" + "".join(ch if ch.isalnum() else "-" for ch in c) for c in (API, WEB, BILL, INFRA, DOCS)}

    # ---------------------------------------------------------------- api
    # A3: a 1.0.x session: old todo shape (id, priority), no agentId, no 2.x kinds.
    a3 = session("api-1.0.x")
    tx = Transcript(a3, API, "1.0.112", "main", at(3, 9, 10), model="claude-sonnet-4-20250514")
    tx.prompt("The orders pagination test is flaky again and serde needs an upgrade. Also add a request id to the access logs.")
    tx.say("I'll plan this out first.")
    items = [("Fix flaky test_orders_pagination", "high"), ("Upgrade serde to 1.0.228", "medium"),
             ("Add request id to access logs", "low")]
    last = run_list(tx, items, ["ppp", "pip"], old=True,
                    work=[None, lambda: tx.bash("cargo update -p serde && cargo build 2>&1 | tail -3",
                                                "Upgrade serde",
                                                "    Updating serde v1.0.219 -> v1.0.228\n   Compiling api v0.9.0 (/home/dev/work/api)\n    Finished `dev` profile [unoptimized + debuginfo] target(s) in 41.07s")])
    tx.save(f"{F[API]}/{a3}.jsonl")
    todo_file(a3, a3, last)

    # A1: two successive lists, both finished (the file is []), and a sub-agent.
    a1 = session("api-two-lists")
    tx = Transcript(a1, API, "2.0.14", "feature/rate-limit", at(4, 10, 0))
    tx.prompt("Can you add rate limiting to the public endpoints? Use the Redis pool we already have.")
    tx.say("I'll break this into steps and track them in a todo list.")
    items1 = [("Add rate limiting middleware", "Adding rate limiting middleware"),
              ("Add Redis-backed token bucket", "Adding Redis-backed token bucket"),
              ("Write tests for rate limiting", "Writing tests for rate limiting"),
              ("Document rate limits in the README", "Documenting rate limits in the README")]
    prev = []
    cur = states(items1, "ippp")
    tx.todo_write(cur, prev, hook=True)
    prev = cur
    # The sub-agent, with its own list, in its own transcript.
    agent = "a3f9c21"
    sub = Transcript(a1, API, "2.0.14", "feature/rate-limit", tx.t + timedelta(seconds=20), agent_id=agent)
    sub_prompt = "Map the middleware chain in src/http and list every public endpoint that has no rate limit. Report file paths."
    sub.prompt(sub_prompt, wait=0)
    sub_items = [("Map the middleware chain in src/http", "Mapping the middleware chain in src/http"),
                 ("List endpoints without rate limits", "Listing endpoints without rate limits"),
                 ("Report findings to the main agent", "Reporting findings to the main agent")]
    sub_last = run_list(sub, sub_items, ["ipp", "cip", "cci"],
                        work=[lambda: sub.read("src/http/router.rs", ["pub fn router() -> Router {",
                                                                      "    Router::new()",
                                                                      "        .route(\"/v2/orders\", get(orders::list))",
                                                                      "        .route(\"/v2/login\", post(auth::login))",
                                                                      "        .layer(TraceLayer::new_for_http())",
                                                                      "}"]), None, None])
    report = "Public routes without a limit: /v2/orders (GET), /v2/login (POST). Both are mounted in src/http/router.rs; the middleware stack is trace -> auth -> handler."
    sub.say(report)
    sub.save(f"{F[API]}/{a1}/subagents/agent-{agent}.jsonl")
    todo_file(a1, agent, sub_last)
    tx.task_agent("Map middleware and unlimited endpoints", sub_prompt, agent, report, sub.t)
    tx.read("src/api/middleware/rate_limit.rs", SRC_RATE)
    for seq in ["cipp", "ccip", "ccci", "cccc"]:
        cur = states(items1, seq)
        tx.todo_write(cur, prev, hook=seq == "cccc")
        prev = cur
        if seq == "ccip":
            tx.bash("cargo test rate_limit", "Run the rate limit tests",
                    "running 4 tests\ntest rate_limit::allows_burst ... ok\ntest rate_limit::blocks_after_limit ... ok\ntest rate_limit::refills ... ok\ntest rate_limit::per_key ... ok\n\ntest result: ok. 4 passed; 0 failed")
    tx.say("Rate limiting is in place: 60 requests a minute per API key, tested and documented.")
    tx.prompt("Thanks! Next: the login redirect is broken after the token refresh, can you fix it?", wait=300)
    items2 = [("Reproduce the login redirect bug", "Reproducing the login redirect bug"),
              ("Fix token refresh ordering in the auth handler", "Fixing token refresh ordering in the auth handler"),
              ("Add a regression test for the login redirect", "Adding a regression test for the login redirect")]
    prev = []  # a new list replaces the old one
    for seq in ["ipp", "cip", "cci", "ccc"]:
        cur = states(items2, seq)
        tx.todo_write(cur, prev)
        prev = cur
        if seq == "cip":
            tx.edit("src/auth/handler.rs", "redirect(&next)?; refresh(&token)?;", "refresh(&token)?; redirect(&next)?;",
                    "redirect(&next)?; refresh(&token)?;")
    tx.say("Fixed: the token is now refreshed before the redirect. All three items are done.")
    tx.save(f"{F[API]}/{a1}.jsonl")
    todo_file(a1, a1, [])

    # A2: a later session of the same project: overlapping todos, other case/spacing, other states.
    a2 = session("api-overlap")
    tx = Transcript(a2, API, "2.0.20", "main", at(6, 14, 0))
    tx.prompt("Pick up where we left off on rate limiting tests, fix the flaky pagination test, and document /v2/orders.")
    items = [("add rate limiting middleware", "Adding rate limiting middleware"),
             ("Write tests for  rate limiting", "Writing tests for rate limiting"),
             ("Fix flaky test_orders_pagination", "Fixing flaky test_orders_pagination"),
             ("Add OpenAPI docs for /v2/orders", "Adding OpenAPI docs for /v2/orders")]
    last = run_list(tx, items, ["ppip", "picp"],
                    work=[lambda: tx.bash("cargo test orders -- --test-threads=1", "Run the orders tests",
                                          "test orders::test_orders_pagination ... ok\n\ntest result: ok. 12 passed; 0 failed"), None])
    tx.save(f"{F[API]}/{a2}.jsonl")
    todo_file(a2, a2, last)

    # A4: a session's own task list, with a deleted task (its file is gone).
    a4 = session("api-tasks-own")
    tx = Transcript(a4, API, "2.1.3", "main", at(8, 11, 0))
    tx.queue("dequeue")
    tx.prompt("Add cursor pagination to GET /v2/orders, and drop the old /v1/export endpoint if nothing uses it.")
    tasks = [("1", "Add pagination to GET /v2/orders", "Cursor-based, default page size 50.", "Adding pagination to GET /v2/orders"),
             ("2", "Add cursor support to the orders client", "The TypeScript client in clients/ts must follow next_cursor.", "Adding cursor support to the orders client"),
             ("3", "Drop the legacy /v1/export endpoint", "Only if no caller remains.", "Dropping the legacy /v1/export endpoint")]
    for t in tasks:
        tx.task_create(*t)
    tx.task_update("1", "pending", "in_progress")
    tx.read("src/handlers/orders.rs", ["pub async fn list(q: Query<ListOrders>) -> Json<Page<Order>> {",
                                       "    let page = store::orders(&q).await?;",
                                       "    Json(page)", "}"])
    tx.task_update("1", "in_progress", "completed")
    tx.bash("rg -n \"/v1/export\" --glob '!target'", "Find callers of the v1 export",
            "clients/ts/src/export.ts:12:  const url = `${base}/v1/export`;")
    tx.say("The TypeScript client still calls /v1/export, so I won't drop it now; I'll remove that task.")
    tx.task_update("3", "pending", "deleted")
    tx.task_update("2", "pending", "in_progress")
    tx.save(f"{F[API]}/{a4}.jsonl")
    write(f"tasks/{a4}/.lock", "")
    write(f"tasks/{a4}/.highwatermark", "3")
    for (tid, subject, desc, active), status in zip(tasks[:2], ["completed", "in_progress"]):
        write(f"tasks/{a4}/{tid}.json", pretty({"id": tid, "subject": subject, "description": desc,
                                                "activeForm": active, "status": status,
                                                "blocks": [], "blockedBy": []}))
    todo_file(a4, a4, [])

    # A5, A6: two sessions working on one shared task list, tasks/release-train/.
    rt = [("1", "Cut the release/2.4 branch", "From main at the last green build.", "Cutting the release/2.4 branch"),
          ("2", "Run the full regression suite", "Including the slow payment tests.", "Running the full regression suite"),
          ("3", "Write the 2.4 changelog", "Group by feature; link the PRs.", "Writing the 2.4 changelog"),
          ("4", "Tag v2.4.0 and publish images", "After QA signs off.", "Tagging v2.4.0 and publishing images")]
    a5 = session("api-release-train-1")
    tx = Transcript(a5, API, "2.1.3", "main", at(10, 9, 0))
    tx.queue("dequeue")
    tx.prompt("We're doing the 2.4 release on the shared release-train task list. Set up the tasks and cut the branch.")
    for t in rt:
        tx.task_create(*t)
    tx.task_update("1", "pending", "in_progress")
    tx.bash("git switch -c release/2.4 && git push -u origin release/2.4", "Cut the release branch",
            "Switched to a new branch 'release/2.4'\nbranch 'release/2.4' set up to track 'origin/release/2.4'.")
    tx.task_update("1", "in_progress", "completed")
    tx.say("The branch is cut. Tasks 2-4 are on the release-train list for whoever picks them up.")
    tx.save(f"{F[API]}/{a5}.jsonl")
    todo_file(a5, a5, [])

    a6 = session("api-release-train-2")
    tx = Transcript(a6, API, "2.1.5", "release/2.4", at(12, 16, 0))
    tx.queue("dequeue")
    tx.prompt("Continue the release-train list: run the regression suite and write the changelog.")
    tx.task_update("2", "pending", "in_progress")
    tx.task_update("3", "pending", "in_progress")
    tx.bash("git log --oneline v2.3.0..HEAD | wc -l", "Count commits since 2.3", "87")
    tx.task_update("3", "in_progress", "completed")
    tx.say("Changelog written; the regression suite is still running (about 40 minutes).")
    tx.save(f"{F[API]}/{a6}.jsonl")
    todo_file(a6, a6, [])
    write("tasks/release-train/.lock", "")
    write("tasks/release-train/.highwatermark", "4")
    for (tid, subject, desc, active), status in zip(rt, ["completed", "in_progress", "completed", "pending"]):
        write(f"tasks/release-train/{tid}.json", pretty({"id": tid, "subject": subject, "description": desc,
                                                         "activeForm": active, "status": status,
                                                         "blocks": [], "blockedBy": []}))

    # ---------------------------------------------------------------- webapp
    # W1: 2.x line kinds with no plan (summary, queue operations, snapshots, hook progress);
    # the queued message mentions TodoWrite in its text.
    w1 = session("webapp-line-kinds")
    tx = Transcript(w1, WEB, "2.0.31", "feat/dark-mode", at(5, 15, 0))
    tx.summary("Dark mode toggle for the settings page")
    tx.prompt("Add a dark mode toggle to the settings page and remember the choice.")
    tx.say("I'll use TodoWrite to keep track of the steps.")
    items = [("Add dark mode toggle to settings", "Adding dark mode toggle to settings"),
             ("Persist theme preference in localStorage", "Persisting theme preference in localStorage"),
             ("Fix contrast of disabled buttons", "Fixing contrast of disabled buttons"),
             ("Update snapshot tests", "Updating snapshot tests")]
    prev = []
    cur = states(items, "ippp")
    tx.todo_write(cur, prev, hook=True)
    prev = cur
    tx.read("app/components/Settings.tsx", SRC_SETTINGS)
    tx.tick(20)
    tx.queue("enqueue", "when you're done, clear the TodoWrite list and tell me what is left")
    tx.edit("app/components/Settings.tsx", "const [dark, setDark] = useState(false);",
            "const [dark, setDark] = useTheme();", "\n".join(SRC_SETTINGS))
    cur = states(items, "cipp")
    tx.todo_write(cur, prev, hook=True)
    tx.queue("remove")
    tx.say("The toggle works; next I'm persisting the preference.")
    tx.save(f"{F[WEB]}/{w1}.jsonl")
    todo_file(w1, w1, cur)

    # W2: same project, overlapping list in other states and case.
    w2 = session("webapp-overlap")
    tx = Transcript(w2, WEB, "2.0.40", "feat/dark-mode", at(7, 10, 30))
    tx.prompt("The disabled buttons are unreadable in dark mode. Fix that and update the snapshots.")
    items = [("Add Dark Mode toggle to settings", "Adding Dark Mode toggle to settings"),
             ("Fix contrast of disabled buttons", "Fixing contrast of disabled buttons"),
             ("Update snapshot tests", "Updating snapshot tests")]
    last = run_list(tx, items, ["pip", "pci"],
                    work=[lambda: tx.bash("npm test -- -u Settings", "Update snapshots",
                                          "PASS app/components/Settings.test.tsx\n  \u203a 2 snapshots updated."), None])
    tx.save(f"{F[WEB]}/{w2}.jsonl")
    todo_file(w2, w2, last)

    # W3: a corrupt (truncated) line in the middle; the list still ends completed.
    w3 = session("webapp-corrupt-line")
    tx = Transcript(w3, WEB, "2.0.40", "main", at(9, 13, 0))
    tx.prompt("Split the settings page into tabs, add keyboard shortcuts to the command palette and fix the modal focus trap.")
    items = [("Split the settings page into tabs", "Splitting the settings page into tabs"),
             ("Add keyboard shortcuts to the command palette", "Adding keyboard shortcuts to the command palette"),
             ("Fix focus trap in the modal", "Fixing focus trap in the modal")]
    prev = []
    for n, seq in enumerate(["ipp", "cip", "cci", "ccc"]):
        cur = states(items, seq)
        tx.todo_write(cur, prev)
        prev = cur
        if n == 1:
            tx.read("app/components/Settings.tsx", SRC_SETTINGS)
        if n == 2:
            # This TodoWrite line was cut in half when the disk filled up; Claude Code
            # went on, and the next write carries the whole list again.
            call = tx.lines[-2]
            tx.lines[-2] = call[: len(call) // 2]
    tx.say("All three are done.")
    tx.save(f"{F[WEB]}/{w3}.jsonl")
    todo_file(w3, w3, [])

    # W4: the session is still running: its last line is cut, with no newline.
    w4 = session("webapp-partial-last-line")
    tx = Transcript(w4, WEB, "2.0.42", "chore/vite", at(13, 8, 45))
    tx.prompt("Migrate the build from webpack to Vite.")
    items = [("Migrate webpack config to Vite", "Migrating webpack config to Vite"),
             ("Fix env var prefix for Vite", "Fixing env var prefix for Vite"),
             ("Remove unused polyfills", "Removing unused polyfills")]
    last = run_list(tx, items, ["ipp", "cip"])
    tx.read("vite.config.ts", ["import { defineConfig } from 'vite';", "import react from '@vitejs/plugin-react';", "",
                               "export default defineConfig({", "  plugins: [react()],", "  envPrefix: 'APP_',", "});"])
    tx.save(f"{F[WEB]}/{w4}.jsonl", cut_last_at=700)
    todo_file(w4, w4, last)

    # W5: the main agent made no list; its sub-agent (1.0-style uuid agent id) did.
    w5 = session("webapp-subagent-file")
    tx = Transcript(w5, WEB, "2.0.42", "main", at(14, 17, 20))
    tx.prompt("Why is the settings route bundle so big?")
    tx.say("Let me check the bundle report.")
    tx.bash("npx vite-bundle-visualizer --json | head -5", "Bundle report",
            "settings.js 412.7 kB\n  charts.js 301.2 kB\n  date-fns 48.9 kB")
    tx.say("The charts library is most of it; it should be lazy-loaded.")
    tx.save(f"{F[WEB]}/{w5}.jsonl")
    todo_file(w5, w5, [])
    todo_file(w5, stable_uid("agent of " + w5), [todo("Audit bundle size of the settings route", "completed", "Auditing bundle size of the settings route"),
                          todo("Lazy-load the charts library", "in_progress", "Lazy-loading the charts library"),
                          todo("Update snapshot tests", "pending", "Updating snapshot tests")])

    # ---------------------------------------------------------------- billing
    b1 = session("billing-1")
    tx = Transcript(b1, BILL, "2.0.14", "main", at(4, 16, 0))
    tx.prompt("Charges are sometimes created twice. Add idempotency keys, retry the failed webhooks, and backfill invoice numbers.")
    items = [("Add idempotency keys to charge requests", "Adding idempotency keys to charge requests"),
             ("Retry failed webhooks with backoff", "Retrying failed webhooks with backoff"),
             ("Backfill missing invoice numbers", "Backfilling missing invoice numbers")]
    last = run_list(tx, items, ["ipp", "cip", "cci"])
    tx.save(f"{F[BILL]}/{b1}.jsonl")
    todo_file(b1, b1, last)

    b2 = session("billing-2")
    tx = Transcript(b2, BILL, "2.0.50", "main", at(11, 9, 30))
    tx.prompt("Invoice totals are off by a cent for some currencies. Also we need proration tests.")
    items = [("Add idempotency keys to charge requests", "Adding idempotency keys to charge requests"),
             ("Handle currency rounding in invoice totals", "Handling currency rounding in invoice totals"),
             ("Write tests for proration", "Writing tests for proration")]
    last = run_list(tx, items, ["pip"])
    tx.save(f"{F[BILL]}/{b2}.jsonl")
    todo_file(b2, b2, last)

    # B3: its todo file was cut mid-write (truncated JSON); the transcript has the list.
    b3 = session("billing-broken-file")
    tx = Transcript(b3, BILL, "2.0.50", "main", at(14, 11, 0))
    tx.prompt("Let users export their invoices as CSV from the billing page.")
    items = [("Export invoices as CSV", "Exporting invoices as CSV"),
             ("Add a download button to the billing page", "Adding a download button to the billing page")]
    last = run_list(tx, items, ["ip", "ci"])
    tx.save(f"{F[BILL]}/{b3}.jsonl")
    text = pretty(last)
    write(f"todos/{b3}-agent-{b3}.json", text[: text.index("download") + 3])

    # ---------------------------------------------------------------- infra
    i1 = session("infra-finished")
    tx = Transcript(i1, INFRA, "2.0.55", "main", at(15, 10, 0))
    tx.prompt("Bump the AWS provider, fix the staging drift and rotate the CI deploy key.")
    items = [("Bump Terraform AWS provider to 6.x", "Bumping Terraform AWS provider to 6.x"),
             ("Fix drift in the staging VPC", "Fixing drift in the staging VPC"),
             ("Rotate the CI deploy key", "Rotating the CI deploy key")]
    run_list(tx, items, ["ipp", "cip", "cci", "ccc"],
             work=[lambda: tx.bash("terraform plan -chdir=envs/staging | tail -2", "Plan staging",
                                   "Plan: 0 to add, 2 to change, 0 to destroy."), None, None, None])
    tx.save(f"{F[INFRA]}/{i1}.jsonl")
    todo_file(i1, i1, [])

    i2 = session("infra-open")
    tx = Transcript(i2, INFRA, "2.0.60", "main", at(17, 14, 0))
    tx.prompt("Add disk usage alerts and write down the on-call runbook.")
    items = [("Add alerts for disk usage over 80%", "Adding alerts for disk usage over 80%"),
             ("Rotate the CI deploy key", "Rotating the CI deploy key"),
             ("Document the on-call runbook", "Documenting the on-call runbook")]
    last = run_list(tx, items, ["ppp", "ipp"])
    tx.save(f"{F[INFRA]}/{i2}.jsonl")
    todo_file(i2, i2, last)

    # ---------------------------------------------------------------- docs-site
    d1 = session("docs-open")
    tx = Transcript(d1, DOCS, "2.0.60", "main", at(18, 9, 0))
    tx.prompt("The getting started guide has broken links; also we need a webhooks page and new screenshots.")
    items = [("Fix broken links in the getting started guide", "Fixing broken links in the getting started guide"),
             ("Add a page on webhooks", "Adding a page on webhooks"),
             ("Update screenshots for the new dashboard", "Updating screenshots for the new dashboard")]
    last = run_list(tx, items, ["pip"])
    tx.save(f"{F[DOCS]}/{d1}.jsonl")
    todo_file(d1, d1, last)

    d2 = session("docs-finished")
    tx = Transcript(d2, DOCS, "2.1.5", "main", at(20, 15, 0))
    tx.queue("dequeue")
    tx.prompt("Fix the broken links in the Getting Started guide and add search to the navbar.")
    items = [("fix broken links in the Getting Started guide", "Fixing broken links in the Getting Started guide"),
             ("Add search to the docs navbar", "Adding search to the docs navbar")]
    run_list(tx, items, ["ip", "ci", "cc"],
             work=[lambda: tx.bash("npx linkinator ./build --recurse | tail -1", "Check links",
                                   "Successfully scanned 214 links."), None, None])
    tx.save(f"{F[DOCS]}/{d2}.jsonl")
    todo_file(d2, d2, [])

    # ---------------------------------------------------------------- no transcript
    # A session whose transcript is gone (no cwd known: project `general`), with an
    # unknown status and an empty content.
    g1 = session("general-no-transcript")
    todo_file(g1, g1, [todo("Reply to the security questionnaire", "pending", "Replying to the security questionnaire"),
                       todo("Review the Q4 roadmap doc", "done", "Reviewing the Q4 roadmap doc"),
                       todo("", "pending", "")])
    # Sessions that never made a list: their files stay [].
    for k in range(8):
        s = session(f"empty-{k + 1}")
        todo_file(s, s, [])

    # ---------------------------------------------------------------- other tools' files
    write("todos/coordination.json", pretty({
        "version": "1.0.0",
        "lastUpdated": "2026-11-12T16:20:00.000Z",
        "agents": {"planner": {"status": "idle"}, "reviewer": {"status": "busy", "task": "release notes"}},
        "locks": [],
    }) + "\n")
    write("todos/notes.md", "# scratch\n\n- ask Dana about the release-train list\n- the infra key rotation is done, remove the reminder\n")

    print(json.dumps(SESSIONS, indent=2))


if __name__ == "__main__":
    main()
