#!/usr/bin/env python3
"""Hook latency at scale with and without collisions, measured in one run
(docs/BENCHMARKS.md, "The hooks with collisions"): whole `chittysync hook`
processes as Claude Code runs them, wall and CPU (the process's user + sys).

The baseline, timed in the same run (one before each hook of the run, so a
change of load hits both alike): `chittysync --version`, the same binary's
process start with no store opened. Each hook's figures are also given as a
ratio to the baseline's median.

usage: hook_collisions_bench.py <chittysync> <claude dir> <consolidated home> <runs> [label]"""
import json, os, resource, subprocess, sys, time
bin_, claude, home, n = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
base = [bin_, "--claude-dir", claude, "--home", home]
env = {k: v for k, v in os.environ.items() if k not in ("CHITTYSYNC_CONFIG", "CHITTYSYNC_SPAWN_ID")}
sessions = json.loads(subprocess.run(base + ["sessions", "--json"], capture_output=True, check=True, env=env).stdout)
by = {}
for s in sessions:
    if s.get("cwd"):
        by[s["cwd"]] = by.get(s["cwd"], 0) + 1
cwd = max(by.items(), key=lambda kv: (kv[1], kv[0]))[0]
print(f"sessions {len(sessions)}, busiest cwd {cwd} ({by[cwd]} sessions)")

def timed(args, stdin=b""):
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    out = subprocess.run(args, input=stdin, capture_output=True, env=env)
    wall = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall * 1000, cpu * 1000, out.stdout

baseline = []
def hook(event, payload):
    baseline.append(timed([bin_, "--version"]))
    return timed(base + ["hook", event], json.dumps(payload).encode())

def pct(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, int(round(p / 100 * (len(xs) - 1))))]

def report(what, runs, warned=None):
    wall = [r[0] for r in runs]; cpu = [r[1] for r in runs]
    extra = f", warned {warned}/{len(runs)}" if warned is not None else ""
    bw = pct([r[0] for r in baseline], 50); bc = pct([r[1] for r in baseline], 50)
    ratios = f" (× baseline: wall {pct(wall,50)/bw:.2f}/{pct(wall,95)/bw:.2f}, CPU {pct(cpu,50)/bc:.2f}/{pct(cpu,95)/bc:.2f})" if what != "baseline" else ""
    print(f"{what}: wall p50 {pct(wall,50):.1f} ms p95 {pct(wall,95):.1f} ms; CPU p50 {pct(cpu,50):.1f} ms p95 {pct(cpu,95):.1f} ms{extra}{ratios}")

label = sys.argv[5] if len(sys.argv) > 5 else "run"
def start(tag, i):
    return hook("session-start", {"session_id": f"bench-start-{label}-{tag}-{i}", "cwd": cwd,
        "hook_event_name": "SessionStart", "source": "startup"})

# session-start before any collision of the bench exists in the project.
before = [start("before", i) for i in range(n)]
# post-tool-use with and without a collision, interleaved so load changes hit both alike.
plain, colliding = [], []
warned = 0
for i in range(n):
    plain.append(hook("post-tool-use", {"session_id": f"bench-plain-{label}-{i % 20}", "cwd": cwd,
        "hook_event_name": "PostToolUse", "tool_name": "TodoWrite",
        "tool_input": {"todos": [{"content": f"Bench plain {label} {i}", "status": "in_progress", "activeForm": "B"},
                                  {"content": "Bench shared pending", "status": "pending", "activeForm": "B"}]}, "tool_response": {}}))
    r = hook("post-tool-use", {"session_id": f"bench-collide-{label}-{i % 4}", "cwd": cwd,
        "hook_event_name": "PostToolUse", "tool_name": "TodoWrite",
        "tool_input": {"todos": [{"content": f"Bench collision {label} {i // 4}", "status": "in_progress", "activeForm": "B"}]},
        "tool_response": {}})
    warned += b"collision" in r[2]
    colliding.append(r)
after = [start("after", i) for i in range(n)]
listing = sum(b"collisions" in r[2] for r in after)
print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
report("baseline", baseline)
report("post-tool-use TodoWrite, no collision", plain)
report("post-tool-use TodoWrite, colliding (every write but a todo's first)", colliding, warned)
report(f"session-start, before the bench's collisions (listing collisions: {sum(b'collisions' in r[2] for r in before)}/{n})", before)
report(f"session-start, listing the project's collisions ({listing}/{n})", after)
