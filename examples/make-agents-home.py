#!/usr/bin/env python3
"""Writes examples/agents-home/, the other agents' side of the bundled example.

Run from anywhere: `python3 examples/make-agents-home.py`. It deletes and rewrites
examples/agents-home/ (fixed ids, fixed times): the committed tree is its output,
and examples/README.md ("examples/agents-home") describes it. Python's standard
library only, plus the `zstd` command (/usr/bin/zstd) for the compressed Codex
rollout. The SQLite database and the `.zst` file are byte for byte the same on
every run with the same SQLite and zstd versions (the database's header records
the SQLite version that wrote it).

The folder is a user's home as the agents leave it (SPEC §3b):

    .claude              -> ../claude-home (the Claude Code example)
    .codex/              Codex CLI rollouts
    .gemini/             Gemini CLI chats
    .qwen/               Qwen Code todo files and chats
    .local/share/opencode/  OpenCode's database and its older JSON files

Every session ran in one of the Claude example's folders (/home/dev/work/api,
/home/dev/src/webapp, ...) and shares some todos with its Claude sessions, in
other words (case, spacing) and other states. Each file is shaped as the agent's
own code writes it (see crates/sources/src/agents/ and their tests); the few
broken files are broken on purpose.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from datetime import datetime, timedelta, timezone
from pathlib import Path

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "agents-home")
ZSTD = "/usr/bin/zstd"

API, WEB, BILL, INFRA, DOCS = ("/home/dev/work/api", "/home/dev/src/webapp", "/home/dev/work/billing",
                               "/home/dev/work/infra", "/home/dev/src/docs-site")

SESSIONS = {}  # name -> (agent, session id), printed for the README


# ---------------------------------------------------------------------- helpers
def digest(name, n=32):
    return hashlib.sha256(name.encode()).digest()[:n]


def stable_uid(name):
    """A v4-shaped uuid that depends on `name` only."""
    b = bytearray(digest(name, 16))
    b[6] = (b[6] & 0x0F) | 0x40
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def uuid7(name, t):
    """A v7 uuid (as Codex names sessions): the time's milliseconds, then bits from `name`."""
    b = bytearray(digest(name, 16))
    ms = int(t.timestamp() * 1000)
    b[0:6] = ms.to_bytes(6, "big")
    b[6] = (b[6] & 0x0F) | 0x70
    b[8] = (b[8] & 0x3F) | 0x80
    h = b.hex()
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def hexid(name, n):
    return hashlib.sha256(name.encode()).hexdigest()[:n]


def b62(name, n):
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    out = []
    block = 0
    while len(out) < n:
        raw = int.from_bytes(digest(f"{name}#{block}"), "big")
        for _ in range(40):
            raw, k = divmod(raw, 62)
            out.append(alphabet[k])
        block += 1
    return "".join(out[:n])


def compact(obj):
    # serde_json / JSON.stringify without indentation
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def pretty(obj):
    # JSON.stringify(obj, null, 2)
    return json.dumps(obj, indent=2, ensure_ascii=False)


def at(year, month, day, h, m, s=0, ms=0):
    return datetime(year, month, day, h, m, s, ms * 1000, tzinfo=timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.") + f"{t.microsecond // 1000:03d}Z"


def millis(t):
    return int(t.timestamp() * 1000)


def write(rel, data):
    path = os.path.join(OUT, rel)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    mode = "wb" if isinstance(data, bytes) else "w"
    with open(path, mode, **({} if mode == "wb" else {"encoding": "utf-8", "newline": ""})) as f:
        f.write(data)
    return path


def lines_text(lines, cut_last_at=None):
    if cut_last_at is None:
        return "\n".join(lines) + "\n"
    # The last line was being written when the process died: cut, no newline.
    return "\n".join(lines[:-1]) + "\n" + lines[-1][:cut_last_at]


class Clock:
    def __init__(self, start):
        self.t = start
        self.n = 0

    def tick(self, seconds):
        # A deterministic jitter, so that lines do not land on round seconds.
        self.n += 1
        self.t += timedelta(milliseconds=int(seconds * 1000) + (self.n * 397) % 1000)
        return self.t


# ======================================================================= Codex CLI
class Rollout:
    """One Codex rollout: `{"timestamp", ["ordinal"], "type", "payload"}` lines
    (codex-rs RolloutLine), or the bare items of September 2025."""

    def __init__(self, name, cwd, start, version, model, bare=False, ordinals=False, branch="main",
                 repo=None, workdir=None):
        self.name, self.cwd, self.version, self.model = name, cwd, version, model
        self.workdir = workdir or cwd
        self.clock = Clock(start)
        self.start = start
        self.bare, self.ordinals = bare, ordinals
        self.id = uuid7("codex " + name, start)
        self.lines = []
        self.calls = 0
        self.branch = branch
        self.repo = repo
        SESSIONS[name] = ("codex", self.id)

    def line(self, kind, payload, wait=1.0):
        t = self.clock.tick(wait)
        if self.bare:
            # September 2025: the item itself, no timestamp, no wrapper.
            self.lines.append(compact(payload))
            return
        head = '{"timestamp":"%s"' % iso(t)
        if self.ordinals:
            head += ',"ordinal":%d' % len(self.lines)
        self.lines.append(head + ',"type":"%s","payload":%s}' % (kind, compact(payload)))

    def call_id(self):
        self.calls += 1
        return "call_" + b62(f"{self.name} call {self.calls}", 24)

    # --- the session's first lines ---------------------------------------------
    def meta(self):
        git = {"commit_hash": hexid(self.name + " head", 40), "branch": self.branch,
               "repository_url": self.repo or f"git@github.com:dev/{os.path.basename(self.cwd or 'x')}.git"}
        if self.bare:
            self.lines.append(compact({"id": self.id, "timestamp": iso(self.start), "instructions": None,
                                       "git": git}))
            self.lines.append(compact({"record_type": "state"}))
            return
        self.line("session_meta", {
            "id": self.id, "timestamp": iso(self.start), "cwd": self.cwd, "originator": "codex_cli_rs",
            "cli_version": self.version, "source": "cli", "model_provider": "openai",
            "base_instructions": {"text": "You are Codex, based on GPT-5. You are running as a coding agent in "
                                          "the Codex CLI on a user's computer."},
            "git": git,
        }, wait=0)

    def environment(self, cwd_text):
        text = ("<environment_context>\n  <cwd>%s</cwd>\n  <approval_policy>on-request</approval_policy>\n"
                "  <sandbox_mode>workspace-write</sandbox_mode>\n  <network_access>restricted</network_access>\n"
                "  <shell>bash</shell>\n</environment_context>" % cwd_text)
        self.line("response_item", {"type": "message", "role": "user",
                                    "content": [{"type": "input_text", "text": text}]}, wait=0.01)

    def prompt(self, text):
        self.line("response_item", {"type": "message", "role": "user",
                                    "content": [{"type": "input_text", "text": text}]}, wait=5)
        if not self.bare:
            self.line("event_msg", {"type": "user_message", "message": text, "images": []}, wait=0.01)
            self.line("turn_context", {
                "cwd": self.cwd, "approval_policy": "on-request",
                "sandbox_policy": {"type": "workspace-write", "network_access": False,
                                   "exclude_tmpdir_env_var": False, "exclude_slash_tmp": False},
                "model": self.model, "effort": "medium", "summary": "auto",
            }, wait=0.01)

    # --- the model's turns --------------------------------------------------------
    def reasoning(self, summary):
        item = {"type": "reasoning", "summary": [{"type": "summary_text", "text": summary}],
                "content": None, "encrypted_content": "gAAAAA" + b62(self.name + summary, 80)}
        if self.bare:
            item = {"type": "reasoning", "id": "rs_" + hexid(self.name + summary, 48),
                    "summary": item["summary"], "encrypted_content": item["encrypted_content"]}
        self.line("response_item", item, wait=4)

    def _call(self, name, arguments, output, wait):
        cid = self.call_id()
        item = {"type": "function_call", "name": name, "arguments": arguments, "call_id": cid}
        if self.bare:
            item = {"type": "function_call", "id": "fc_" + hexid(cid, 48), "name": name,
                    "arguments": arguments, "call_id": cid}
        self.line("response_item", item, wait=wait)
        self.line("response_item", {"type": "function_call_output", "call_id": cid, "output": output}, wait=0.2)
        return item

    def update_plan(self, steps, explanation=None, raw_arguments=None, output="Plan updated"):
        """`update_plan` as the model calls it: `arguments` is the JSON text the model wrote."""
        args = {}
        if explanation:
            args["explanation"] = explanation
        args["plan"] = [{"step": s, "status": st} for s, st in steps]
        arguments = raw_arguments if raw_arguments is not None else json.dumps(args, ensure_ascii=False)
        return self._call("update_plan", arguments, output, wait=3)

    def shell(self, command, stdout, exit_code=0):
        arguments = compact({"command": ["bash", "-lc", command], "workdir": self.workdir})
        output = compact({"output": stdout, "metadata": {"exit_code": exit_code, "duration_seconds": 1.2}})
        self._call("shell", arguments, output, wait=3)

    def tokens(self):
        if self.bare:
            return
        self.line("event_msg", {"type": "token_count", "info": {
            "total_token_usage": {"input_tokens": 18211, "cached_input_tokens": 12800, "output_tokens": 1432,
                                  "reasoning_output_tokens": 704, "total_tokens": 19643},
            "last_token_usage": {"input_tokens": 4120, "cached_input_tokens": 3968, "output_tokens": 221,
                                 "reasoning_output_tokens": 128, "total_tokens": 4341},
            "model_context_window": 272000}, "rate_limits": None}, wait=0.05)

    def say(self, text):
        if not self.bare:
            self.line("event_msg", {"type": "agent_message", "message": text}, wait=2)
        self.line("response_item", {"type": "message", "role": "assistant",
                                    "content": [{"type": "output_text", "text": text}]}, wait=0.01)

    def state(self):
        if self.bare:
            self.lines.append(compact({"record_type": "state"}))

    def file_name(self):
        return f"rollout-{self.start.strftime('%Y-%m-%dT%H-%M-%S')}-{self.id}.jsonl"

    def folder(self):
        return f".codex/sessions/{self.start.strftime('%Y/%m/%d')}"


def zstd_compress(text):
    # As Codex compresses a finished rollout: one zstd frame of the whole file.
    done = subprocess.run([ZSTD, "-q", "-c", "-3"], input=text.encode("utf-8"), stdout=subprocess.PIPE,
                          check=True)
    return done.stdout


def codex():
    # C1 (api): the current format; several update_plan calls, the last one completing two steps.
    r = Rollout("api-request-id", API, at(2026, 11, 7, 10, 15, 2, 412), "0.150.0", "gpt-5-codex")
    r.meta()
    r.environment(API)
    r.prompt("Add a request ID to the access logs and pass it on to downstream calls. "
             "Then finish the OpenAPI docs for /v2/orders.")
    r.reasoning("**Planning request ID propagation**")
    steps = ["Add request ID to access logs", "Add OpenAPI docs for /v2/orders",
             "Propagate the request ID to downstream calls"]
    r.update_plan(list(zip(steps, ["in_progress", "pending", "pending"])),
                  explanation="Logs first, then docs, then propagation.")
    r.shell("rg -n \"request_id|x-request-id\" src", "src/http/trace.rs:14:    // TODO: request_id\n")
    r.shell("cargo test -p api access_log", "running 3 tests\ntest access_log::has_request_id ... ok\n"
                                            "test access_log::format ... ok\ntest access_log::skips_health ... ok\n\n"
                                            "test result: ok. 3 passed; 0 failed")
    r.update_plan(list(zip(steps, ["completed", "in_progress", "pending"])))
    r.tokens()
    r.shell("npx @redocly/cli lint openapi.yaml", "openapi.yaml: validated in 212ms\n\nWoohoo! Your API description is valid.")
    r.update_plan(list(zip(steps, ["completed", "completed", "in_progress"])),
                  explanation="Docs validate; propagating the ID to the HTTP client next.")
    r.tokens()
    r.say("The access logs carry `request_id`, and /v2/orders is documented. Propagation to the "
          "downstream client is in progress.")
    write(f"{r.folder()}/{r.file_name()}", lines_text(r.lines))

    # C2 (webapp): 0.154 (ordinals), finished and compressed to .jsonl.zst; a compaction
    # restates the plan call in its replacement history, which is not a plan write.
    r = Rollout("webapp-theme", WEB, at(2026, 11, 12, 16, 40, 11, 87), "0.154.0", "gpt-5.1-codex",
                ordinals=True, branch="feat/dark-mode")
    r.meta()
    r.environment(WEB)
    r.prompt("Persist the theme preference in localStorage and get rid of the polyfills we no longer need.")
    r.reasoning("**Checking the theme hook**")
    steps = ["persist theme preference in  localStorage", "Remove unused polyfills",
             "Add an e2e test for the theme switch"]
    first = r.update_plan(list(zip(steps, ["in_progress", "pending", "pending"])))
    r.shell("rg -n \"useTheme\" app", "app/hooks/useTheme.ts:3:export function useTheme() {\n")
    r.update_plan(list(zip(steps, ["completed", "in_progress", "pending"])))
    r.line("compacted", {"message": "Theme persisted via useTheme + localStorage; removing polyfills.",
                         "replacement_history": [first]}, wait=30)
    r.shell("npx depcheck --json | jq -r '.dependencies[]'", "core-js\nwhatwg-fetch\n")
    r.tokens()
    r.say("The theme is remembered across reloads. core-js and whatwg-fetch are unused; removing them now.")
    write(f"{r.folder()}/{r.file_name()}.zst", zstd_compress(lines_text(r.lines)))

    # C3: a rollout of September 2025: a bare first line, bare items, no timestamps on
    # lines, `record_type: state` lines, no session_meta, so no cwd that chittysync reads.
    r = Rollout("sept-2025-docker-prune", None, at(2025, 9, 12, 19, 41, 7, 512), None, "gpt-5",
                bare=True, repo="git@github.com:dev/dotfiles.git", workdir="/home/dev/dotfiles")
    r.meta()
    r.environment("/home/dev/dotfiles")
    r.prompt("write a script that prunes docker images older than two weeks, and run it every night")
    r.reasoning("**Planning prune script**")
    steps = ["Write a script to prune old Docker images", "Add a cron entry for the prune script"]
    r.update_plan(list(zip(steps, ["in_progress", "pending"])))
    r.state()
    r.shell("docker image prune --all --filter until=336h --force --dry-run 2>&1 | tail -1",
            "Total reclaimed space: 0B")
    r.update_plan(list(zip(steps, ["completed", "in_progress"])))
    r.say("bin/docker-prune is written and tested. Tell me which crontab to use and I'll add the entry.")
    write(f"{r.folder()}/{r.file_name()}", lines_text(r.lines))

    # C4 (billing): broken. One update_plan whose arguments the model cut off (not valid
    # JSON: Codex answered with a parse error), and a last line cut short when the
    # process was killed (no newline).
    r = Rollout("billing-rounding-broken", BILL, at(2026, 11, 16, 11, 20, 45, 903), "0.154.0", "gpt-5.1-codex",
                ordinals=True)
    r.meta()
    r.environment(BILL)
    r.prompt("Invoice totals are still off by one cent for JPY. Fix the rounding and add a regression test.")
    r.reasoning("**Investigating zero-decimal currencies**")
    steps = ["handle currency rounding in invoice totals", "Add a regression test for JPY rounding"]
    r.update_plan(list(zip(steps, ["in_progress", "pending"])))
    r.shell("rg -n \"round\" src/invoice", "src/invoice/total.rs:41:    (amount * 100.0).round() / 100.0\n")
    good = json.dumps({"plan": [{"step": s, "status": st} for s, st in zip(steps, ["completed", "in_progress"])]})
    cut = good[:good.index("in_progress") - 2]
    r.update_plan([], raw_arguments=cut,
                  output="failed to parse function arguments: EOF while parsing a string at line 1 column %d"
                         % len(cut))
    r.update_plan(list(zip(steps, ["completed", "in_progress"])))
    r.tokens()
    r.update_plan(list(zip(steps, ["completed", "completed"])))
    # Keep only the call of that last write, and cut it.
    r.lines.pop()
    write(f"{r.folder()}/{r.file_name()}", lines_text(r.lines, cut_last_at=97))


# ====================================================================== Gemini CLI
def gemini_call(cid, t, todos, status="success"):
    """A completed write_todos call as chatRecordingService records it."""
    listing = "\n".join(f"{k + 1}. [{td['status']}] {td['description']}" for k, td in enumerate(todos))
    return {
        "id": cid, "name": "write_todos", "args": {"todos": todos},
        "result": [{"functionResponse": {"id": cid, "name": "write_todos", "response": {
            "output": "Successfully updated the todo list. The current list is now:\n" + listing}}}],
        "status": status, "timestamp": iso(t),
        "resultDisplay": {"todos": todos}, "displayName": "WriteTodos",
        "description": "Set " + str(len(todos)) + " todo(s)", "renderOutputAsMarkdown": False,
    }


def gtodos(items, seq):
    names = {"p": "pending", "i": "in_progress", "c": "completed", "x": "cancelled", "b": "blocked"}
    return [{"description": d, "status": names[s]} for d, s in zip(items, seq)]


class GeminiChat:
    def __init__(self, name, folder, start, model):
        self.name, self.folder, self.model = name, folder, model
        self.id = stable_uid("gemini " + name)
        self.clock = Clock(start)
        self.start = start
        self.messages = []
        self.calls = 0
        SESSIONS[name] = ("gemini", self.id)

    def meta(self):
        return {"sessionId": self.id, "projectHash": hashlib.sha256(self.folder.encode()).hexdigest(),
                "startTime": iso(self.start), "lastUpdated": iso(self.clock.t)}

    def user(self, text):
        t = self.clock.tick(6)
        m = {"id": stable_uid(f"{self.name} m{len(self.messages)}"), "timestamp": iso(t), "type": "user",
             "content": [{"text": text}]}
        self.messages.append(m)
        return m

    def write_todos(self, lists, thought, text="", status="success"):
        """One model turn: one message, one write_todos call per list."""
        t = self.clock.tick(5)
        calls = []
        for todos in lists:
            self.calls += 1
            ct = self.clock.tick(1)
            cid = f"write_todos-{millis(ct)}-{hexid(self.name + str(self.calls), 13)}"
            calls.append(gemini_call(cid, ct, todos, status))
        m = {"id": stable_uid(f"{self.name} m{len(self.messages)}"), "timestamp": iso(t), "type": "gemini",
             "content": text, "toolCalls": calls,
             "thoughts": [{"subject": thought, "description": thought + ".", "timestamp": iso(t)}],
             "model": self.model}
        self.messages.append(m)
        return m

    def say(self, text):
        t = self.clock.tick(4)
        m = {"id": stable_uid(f"{self.name} m{len(self.messages)}"), "timestamp": iso(t), "type": "gemini",
             "content": text, "thoughts": [], "model": self.model}
        self.messages.append(m)
        return m

    def file_name(self, ext):
        return f"session-{self.start.strftime('%Y-%m-%dT%H-%M')}-{self.id[:8]}.{ext}"


def with_tokens(m, n):
    m = dict(m)
    m["tokens"] = {"input": 9000 + n * 311, "output": 120 + n * 7, "cached": 6144, "thoughts": 88,
                   "tool": 0, "total": 9208 + n * 318}
    return m


def gemini():
    # Project ids: projectRegistry.ts gives each folder a short id (its base name) and
    # records it in projects.json and in tmp/<id>/.project_root.
    registry = {API: "api", WEB: "webapp", BILL: "billing"}
    write(".gemini/projects.json", pretty({"projects": registry}))
    for folder, pid in registry.items():
        write(f".gemini/tmp/{pid}/.project_root", folder)

    # G1 (webapp): the current .jsonl chat (since April 2026). A message is appended again
    # when its tokens arrive, `$set` lines move lastUpdated; statuses cancelled and blocked.
    g = GeminiChat("webapp-bundle", WEB, at(2026, 11, 11, 14, 5, 9, 301), "gemini-3-pro-preview")
    items = ["Update snapshot tests", "Lazy-load the charts library", "Drop the moment.js dependency",
             "Add a bundle size budget to CI"]
    out = [compact(dict(g.meta(), kind="main"))]
    out.append(compact(g.user("The settings bundle is still 400 kB. Lazy-load the charts and see what else "
                              "we can drop; the snapshot tests need updating after.")))
    out.append(compact({"$set": {"lastUpdated": iso(g.clock.t)}}))
    m = g.write_todos([gtodos(items, "ippp")], "Planning the bundle work")
    out.append(compact(m))
    out.append(compact(with_tokens(m, 1)))
    out.append(compact({"$set": {"lastUpdated": iso(g.clock.t)}}))
    m = g.write_todos([gtodos(items, "cipp"), gtodos(items, "cixb")], "Dropping moment.js is not possible yet",
                      text="date-fns-tz still needs moment-timezone data, so I cancelled that item; the CI "
                           "budget waits on the bundle report job.")
    out.append(compact(m))
    out.append(compact(with_tokens(m, 2)))
    m = g.write_todos([gtodos(items, "ccxb")], "Charts are lazy now")
    out.append(compact(m))
    out.append(compact(with_tokens(m, 3)))
    out.append(compact({"$set": {"lastUpdated": iso(g.clock.t)}}))
    out.append(compact(g.say("The charts load on demand (settings.js is 118 kB now) and the snapshots are "
                             "updated. The CI budget is blocked until the bundle report job exists.")))
    write(f".gemini/tmp/webapp/chats/{g.file_name('jsonl')}", "\n".join(out) + "\n")
    write(".gemini/tmp/webapp/logs.json", pretty([
        {"sessionId": g.id, "messageId": 0, "type": "user", "message": g.messages[0]["content"][0]["text"],
         "timestamp": g.messages[0]["timestamp"]}]))

    # A checkpoint of that session (/restore): it holds the conversation, write_todos
    # included, but it is not a chat and must be ignored.
    ct = g.clock.t
    write(f".gemini/tmp/webapp/checkpoints/{iso(ct).replace(':', '-').replace('.', '_')}-Settings.tsx-replace.json",
          pretty({
              "history": [{"type": "user", "text": g.messages[0]["content"][0]["text"], "id": 1}],
              "clientHistory": [
                  {"role": "user", "parts": [{"text": g.messages[0]["content"][0]["text"]}]},
                  {"role": "model", "parts": [{"functionCall": {"name": "write_todos",
                                                                "args": {"todos": gtodos(items, "pppp")}}}]},
              ],
              "toolCall": {"name": "replace", "args": {
                  "file_path": WEB + "/app/components/Settings.tsx",
                  "old_string": "import { Chart } from '../charts';",
                  "new_string": "const Chart = lazy(() => import('../charts'));"}},
              "commitHash": hexid("webapp checkpoint", 40),
              "filePath": WEB + "/app/components/Settings.tsx",
          }))

    # G2 (docs-site): an early-2026 chat, one pretty-printed document rewritten whole, in
    # the folder an older install names by the SHA-256 of the project's path (not in
    # projects.json). Two lists in one turn; a cancelled call wrote nothing.
    g = GeminiChat("docs-search-2026-03", DOCS, at(2026, 3, 9, 17, 22, 40, 5), "gemini-2.5-pro")
    items = ["Set up redirects for the old /guide URLs", "Add a page on webhooks", "add search to the docs navbar"]
    g.user("Old /guide links 404 since the move. Add redirects, then a webhooks page and search in the navbar.")
    g.write_todos([gtodos(items, "ipp"), gtodos(items, "cpi")], "Redirects first",
                  text="Redirects are in `_redirects`. Search needs an Algolia key before it can go further.")
    m = g.write_todos([gtodos(items, "cpp")], "Search is waiting for a key", status="cancelled")
    g.say("Redirects are done. The webhooks page and navbar search are still to do; I need an Algolia "
          "application id for the search.")
    doc = dict(g.meta())
    doc["messages"] = g.messages
    doc["summary"] = "Docs redirects, webhooks page and navbar search"
    write(f".gemini/tmp/{hashlib.sha256(DOCS.encode()).hexdigest()}/chats/{g.file_name('json')}", pretty(doc))

    # G3 (billing): broken. Line 5 was cut short when the CLI crashed mid-write; the
    # resumed session appended after it.
    g = GeminiChat("billing-proration-broken", BILL, at(2026, 11, 18, 9, 30, 2, 640), "gemini-3-pro-preview")
    items = ["Write tests for proration", "retry failed webhooks with backoff", "Add a test for partial refunds"]
    out = [compact(dict(g.meta(), kind="main"))]
    out.append(compact(g.user("Write the proration tests; also check whether the webhook retries still work.")))
    m = g.write_todos([gtodos(items, "ipp")], "Proration first")
    out.append(compact(m))
    out.append(compact({"$set": {"lastUpdated": iso(g.clock.t)}}))
    m = g.write_todos([gtodos(items, "ipi")], "Partial refunds share the fixture")
    full = compact(m)
    out.append(full[: len(full) * 2 // 3])
    out.append(compact(g.user("(resumed) go on with the proration tests")))
    m = g.write_todos([gtodos(items, "ipp")], "Back to proration")
    out.append(compact(m))
    out.append(compact({"$set": {"lastUpdated": iso(g.clock.t)}}))
    write(f".gemini/tmp/billing/chats/{g.file_name('jsonl')}", "\n".join(out) + "\n")


# ======================================================================= Qwen Code
class QwenChat:
    def __init__(self, name, cwd, start, version="0.18.1", model="qwen3-coder-plus", branch="main"):
        self.name, self.cwd, self.version, self.model, self.branch = name, cwd, version, model, branch
        self.id = stable_uid("qwen " + name)
        self.clock = Clock(start)
        self.lines = []
        self.parent = None
        self.calls = 0
        SESSIONS[name] = ("qwen", self.id)

    def record(self, kind, provenance, wait, **rest):
        """The fields createBaseRecord gives every record, then the record's own."""
        t = self.clock.tick(wait)
        u = stable_uid(f"{self.name} r{len(self.lines)}")
        r = {"uuid": u, "parentUuid": self.parent, "sessionId": self.id, "timestamp": iso(t), "type": kind,
             "provenance": provenance, "cwd": self.cwd, "version": self.version, "gitBranch": self.branch}
        r.update(rest)
        self.parent = u
        self.lines.append(compact(r))
        return t

    def user(self, text):
        self.record("user", "real_user", 8, message={"role": "user", "parts": [{"text": text}]})

    def say(self, text):
        self.record("assistant", "assistant_output", 5, model=self.model,
                    message={"role": "model", "parts": [{"text": text}]},
                    usageMetadata={"promptTokenCount": 14210, "candidatesTokenCount": 96,
                                   "totalTokenCount": 14306, "cachedContentTokenCount": 12032})

    def todo_write(self, todos, text=None):
        """The call, its telemetry echo and its result echo (only the first is a plan write)."""
        self.calls += 1
        cid = f"call_{hexid(self.name + str(self.calls), 24)}"
        parts = ([{"text": text}] if text else []) + [
            {"functionCall": {"id": cid, "name": "todo_write", "args": {"todos": todos}}}]
        t = self.record("assistant", "assistant_output", 4, model=self.model,
                        message={"role": "model", "parts": parts},
                        usageMetadata={"promptTokenCount": 13100 + self.calls * 420, "candidatesTokenCount": 180,
                                       "totalTokenCount": 13280 + self.calls * 420,
                                       "cachedContentTokenCount": 11264})
        self.record("system", "system", 0.05, subtype="ui_telemetry", systemPayload={"uiEvent": {
            "event.name": "qwen-code.tool_call", "event.timestamp": iso(t + timedelta(milliseconds=40)),
            "function_name": "todo_write", "function_args": {"todos": todos}, "duration_ms": 6,
            "success": True, "decision": "auto_accept", "prompt_id": f"{self.id}########{self.calls}",
            "tool_type": "native"}})
        self.record("tool_result", "tool_result", 0.05,
                    message={"role": "user", "parts": [{"functionResponse": {
                        "id": cid, "name": "todo_write",
                        "response": {"output": "Todos have been modified successfully. Ensure that you continue "
                                               "to use the todo list to track your progress. Please proceed "
                                               "with the current tasks if applicable"}}}]},
                    toolCallResult={"callId": cid, "status": "success",
                                    "resultDisplay": {"type": "todo_list", "todos": todos}})
        return todos

    def shell(self, command, output):
        self.calls += 1
        cid = f"call_{hexid(self.name + str(self.calls), 24)}"
        self.record("assistant", "assistant_output", 3, model=self.model,
                    message={"role": "model", "parts": [{"functionCall": {
                        "id": cid, "name": "run_shell_command", "args": {"command": command}}}]})
        self.record("tool_result", "tool_result", 2,
                    message={"role": "user", "parts": [{"functionResponse": {
                        "id": cid, "name": "run_shell_command", "response": {"output": output}}}]},
                    toolCallResult={"callId": cid, "status": "success", "resultDisplay": output})

    def folder(self):
        return "".join(ch if ch.isalnum() else "-" for ch in self.cwd)


def qtodos(items, seq):
    names = {"p": "pending", "i": "in_progress", "c": "completed"}
    return [{"id": i, "content": c, "status": names[s]} for (i, c), s in zip(items, seq)]


def qwen_todo_file(q, plan_name, todos):
    """todos/<session>.json as todoWrite.ts writes it: planId first, entries content/status/id."""
    doc = {"planId": stable_uid(plan_name),
           "todos": [{"content": t["content"], "status": t["status"], "id": t["id"]} for t in todos],
           "sessionId": q.id}
    write(f".qwen/todos/{q.id}.json", pretty(doc))


def qwen():
    # Q1 (infra): the chat and the todo file of one session.
    q = QwenChat("infra-runbook", INFRA, at(2026, 11, 17, 15, 2, 30, 118))
    items = [("document-runbook", "Document the on-call  runbook"),
             ("disk-alerts", "Add alerts for disk usage over 80%"),
             ("pagerduty-link", "Add a runbook link to the PagerDuty alert")]
    q.user("Write the on-call runbook in docs/oncall.md and link it from the disk usage alert.")
    q.todo_write(qtodos(items, "ipp"), text="I'll plan this with todo_write first.")
    q.shell("ls docs && grep -rn disk_usage alerts/", "oncall.md\nalerts/disk.yaml:4:  expr: disk_usage > 0.8")
    last = q.todo_write(qtodos(items, "cip"))
    q.say("The runbook is written. The disk usage alert is half done: the rule exists, the routing does not.")
    write(f".qwen/projects/{q.folder()}/chats/{q.id}.jsonl", lines_text(q.lines))
    qwen_todo_file(q, "plan infra-runbook", last)

    # Q2 (api): broken. The chat's line 6 was cut short when the terminal was closed;
    # the resumed session appended after it. Its todo file holds the last list.
    q = QwenChat("api-serde-broken", API, at(2026, 11, 9, 13, 4, 51, 770))
    items = [("upgrade-serde", "Upgrade serde to 1.0.228"), ("cargo-audit", "Run cargo audit and fix advisories")]
    q.user("Upgrade serde and run cargo audit.")
    q.todo_write(qtodos(items, "ip"))
    q.shell("cargo update -p serde --precise 1.0.228", "    Updating serde v1.0.219 -> v1.0.228")
    q.lines[-1] = q.lines[-1][: len(q.lines[-1]) // 2]
    q.user("(resumed) continue")
    last = q.todo_write(qtodos(items, "ci"))
    q.shell("cargo audit", "Crate:     time\nVersion:   0.1.45\nWarning:   unsound")
    write(f".qwen/projects/{q.folder()}/chats/{q.id}.jsonl", lines_text(q.lines))
    qwen_todo_file(q, "plan api-serde-broken", last)


# ======================================================================== OpenCode
# The tables a 1.2 database holds that chittysync reads, as OpenCode's first
# migration creates them: the same file the sources' tests and the corpus use.
SCHEMA_V12 = (Path(__file__).resolve().parent.parent
              / "crates/sources/testdata/opencode-1.2-schema.sql").read_text()


def oc_session_id(name, t):
    # Identifier.descending("session"): the low 48 bits of ~(time * 0x1000), then 14 random base62.
    sid = "ses_" + f"{~(millis(t) * 0x1000) & ((1 << 48) - 1):012x}" + b62("opencode " + name, 14)
    SESSIONS[name] = ("opencode", sid)
    return sid


def oc_project_id(folder):
    # OpenCode names a git project by its root commit.
    return hexid("root commit of " + folder, 40)


def todowrite(conn, session, todos, t):
    """What Todo.update does on every todowrite (session/todo.ts): in one transaction,
    delete the session's rows and insert the new list, position by position, stamped now."""
    now = millis(t)
    conn.execute("BEGIN")
    conn.execute("DELETE FROM todo WHERE session_id = ?", (session,))
    for position, (content, status, priority) in enumerate(todos):
        conn.execute("INSERT INTO todo (session_id, content, status, priority, position, time_created, "
                     "time_updated) VALUES (?, ?, ?, ?, ?, ?, ?)", (session, content, status, priority, position,
                                                                   now, now))
    conn.execute("UPDATE session SET time_updated = ? WHERE id = ?", (now, session))
    conn.execute("COMMIT")


def opencode():
    base = ".local/share/opencode"
    os.makedirs(os.path.join(OUT, base), exist_ok=True)

    # --- before 1.2: storage/ JSON files -------------------------------------------
    # A session of January 2026 (1.1.x), its todo file and its info; and a session
    # whose todo file was cut short when the disk filled up.
    api_project = oc_project_id(API)
    old_created = at(2026, 1, 21, 10, 2, 14, 380)
    old = oc_session_id("api-redis-2026-01", old_created)
    old_todos = [("Test the Redis connection from the API container", "completed", "high", "test_connection"),
                 ("Add Redis-backed token bucket", "in_progress", "high", "redis_token_bucket"),
                 ("Benchmark the rate limiter", "pending", "medium", "benchmark_limiter")]
    old_updated = at(2026, 1, 21, 10, 48, 3, 902)
    write(f"{base}/storage/project/{api_project}.json", pretty({
        "id": api_project, "worktree": API, "vcs": "git", "sandboxes": [],
        "time": {"created": millis(at(2025, 11, 2, 9, 0, 12, 4)), "updated": millis(old_updated)}}))
    write(f"{base}/storage/session/{api_project}/{old}.json", pretty({
        "id": old, "slug": "brave-otter", "version": "1.1.20", "projectID": api_project, "directory": API,
        "title": "Redis token bucket for the public API",
        "time": {"created": millis(old_created), "updated": millis(old_updated)},
        "summary": {"additions": 142, "deletions": 9, "files": 4}}))
    write(f"{base}/storage/todo/{old}.json",
          pretty([{"content": c, "status": s, "priority": p, "id": i} for c, s, p, i in old_todos]))

    cut_created = at(2026, 1, 27, 16, 30, 0, 118)
    cut = oc_session_id("api-cut-todo-file", cut_created)
    write(f"{base}/storage/session/{api_project}/{cut}.json", pretty({
        "id": cut, "slug": "quiet-harbor", "version": "1.1.25", "projectID": api_project, "directory": API,
        "title": "Rename the orders tables",
        "time": {"created": millis(cut_created), "updated": millis(cut_created + timedelta(minutes=12))}}))
    text = pretty([{"content": "Rename orders_v1 to orders", "status": "in_progress", "priority": "high",
                    "id": "rename_table"},
                   {"content": "Update the queries in src/store", "status": "pending", "priority": "high",
                    "id": "update_queries"}])
    write(f"{base}/storage/todo/{cut}.json", text[: text.index("Update the") + 6])
    write(f"{base}/storage/migration", "2")

    # --- since 1.2: opencode.db ----------------------------------------------------------
    db = os.path.join(OUT, base, "opencode.db")
    conn = sqlite3.connect(db, isolation_level=None)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.executescript(SCHEMA_V12)

    def project(folder, t):
        conn.execute("INSERT INTO project VALUES (?, ?, 'git', NULL, ?, ?, '[]')",
                     (oc_project_id(folder), folder, millis(t), millis(t)))

    def session(sid, folder, slug, title, version, t):
        conn.execute("INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, "
                     "time_created, time_updated) VALUES (?, ?, NULL, ?, ?, ?, ?, ?, ?)",
                     (sid, oc_project_id(folder), slug, folder, title, version, millis(t), millis(t)))

    # 1.2's first run (2026-02-16) copied storage/ into the database (json-migration.ts):
    # the project, both sessions, and the todo file that could be read, stamped with the
    # time of the copy. The cut one could not be read and was left out.
    migrated = at(2026, 2, 16, 8, 12, 44, 250)
    conn.execute("INSERT INTO project VALUES (?, ?, 'git', NULL, ?, ?, '[]')",
                 (api_project, API, millis(at(2025, 11, 2, 9, 0, 12, 4)), millis(old_updated)))
    for sid, slug, title, version, created, updated in [
            (old, "brave-otter", "Redis token bucket for the public API", "1.1.20", old_created, old_updated),
            (cut, "quiet-harbor", "Rename the orders tables", "1.1.25", cut_created,
             cut_created + timedelta(minutes=12))]:
        conn.execute("INSERT INTO session (id, project_id, parent_id, slug, directory, title, version, "
                     "summary_additions, summary_deletions, summary_files, time_created, time_updated) "
                     "VALUES (?, ?, NULL, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?)",
                     (sid, api_project, slug, API, title, version, millis(created), millis(updated)))
    conn.execute("BEGIN")
    for position, (c, s, p, _) in enumerate(old_todos):
        conn.execute("INSERT INTO todo VALUES (?, ?, ?, ?, ?, ?, ?)",
                     (old, c, s, p, position, millis(migrated), millis(migrated)))
    conn.execute("COMMIT")

    # O1 (billing), 1.2.x.
    t = at(2026, 11, 13, 10, 4, 12, 55)
    project(BILL, t)
    o1 = oc_session_id("billing-invoices", t)
    session(o1, BILL, "swift-falcon", "Backfill invoice numbers and tell the customers", "1.2.24", t)
    todos = [["Backfill missing invoice numbers", "in_progress", "high"],
             ["Add idempotency keys to charge requests", "completed", "high"],
             ["Switch to the Stripe SDK retry helper", "pending", "medium"],
             ["Email customers about the corrected invoices", "pending", "low"]]
    todowrite(conn, o1, todos, t + timedelta(seconds=41, milliseconds=208))
    todos[2][1] = "cancelled"
    todowrite(conn, o1, todos, t + timedelta(minutes=6, seconds=2, milliseconds=771))
    todos[0][1] = "completed"
    todowrite(conn, o1, todos, t + timedelta(minutes=19, seconds=30, milliseconds=12))

    # O2 (docs-site).
    t = at(2026, 11, 19, 11, 0, 48, 612)
    project(DOCS, t)
    o2 = oc_session_id("docs-webhooks", t)
    session(o2, DOCS, "calm-meadow", "Webhooks page and new screenshots", "1.2.24", t)
    todos = [["Add a page on Webhooks", "in_progress", "high"],
             ["Update screenshots for the new dashboard", "pending", "medium"],
             ["Add alt text to the dashboard screenshots", "pending", "low"]]
    todowrite(conn, o2, todos, t + timedelta(seconds=33, milliseconds=90))
    todos[0][1], todos[1][1] = "completed", "in_progress"
    todowrite(conn, o2, todos, t + timedelta(minutes=24, seconds=9, milliseconds=404))

    # A session that made no list (most sessions): no rows in `todo`.
    t = at(2026, 11, 15, 8, 30, 5, 9)
    project(INFRA, t)
    o3 = oc_session_id("infra-question", t)
    session(o3, INFRA, "misty-river", "Which module creates the staging VPC?", "1.2.24", t)
    conn.close()  # the last connection checkpoints the WAL into the file and removes it

    # Reading a WAL database, even read-only, leaves opencode.db-wal and -shm beside it.
    write(f"{base}/.gitignore", "opencode.db-wal\nopencode.db-shm\n")


# =========================================================================== main
def main():
    if os.path.lexists(OUT):
        shutil.rmtree(OUT)
    os.makedirs(OUT)
    os.symlink("../claude-home", os.path.join(OUT, ".claude"))
    codex()
    gemini()
    qwen()
    opencode()
    print(json.dumps(SESSIONS, indent=2))


if __name__ == "__main__":
    main()
