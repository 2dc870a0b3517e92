// Issue 13's baseline as a process: a naive single-threaded Node reader that
// parses every todo file and task file under a Claude Code folder and folds
// them in memory (one entry per normalized content, the newest word of each
// session, the highest status winning), writing nothing. Compared with the
// real `chittysync consolidate` on a fresh home, process start included
// (docs/BENCHMARKS.md, "Consolidation"):
//
//   node crates/engine/benches/naive_reader.js CLAUDE_DIR
"use strict";
const fs = require("fs");
const path = require("path");

const claude = process.argv[2];
if (!claude) {
  console.error("usage: naive_reader.js CLAUDE_DIR");
  process.exit(2);
}

const RANK = { pending: 1, in_progress: 2, completed: 3, deleted: 0 };
const todos = new Map();

function observe(content, status, observer, at) {
  const key = content.trim().toLowerCase().replace(/\s+/g, " ");
  let todo = todos.get(key);
  if (!todo) {
    todo = { content, latest: new Map() };
    todos.set(key, todo);
  }
  const last = todo.latest.get(observer);
  if (!last || last.at <= at) todo.latest.set(observer, { status, at });
}

function readJson(file) {
  try {
    return JSON.parse(fs.readFileSync(file, "utf8"));
  } catch {
    return null;
  }
}

function list(dir) {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

const todoDir = path.join(claude, "todos");
for (const name of list(todoDir)) {
  if (!name.endsWith(".json")) continue;
  const file = path.join(todoDir, name);
  const items = readJson(file);
  if (!Array.isArray(items)) continue;
  const at = fs.statSync(file).mtimeMs;
  for (const item of items) {
    if (item && typeof item.content === "string" && item.content) {
      observe(item.content, item.status, name, at);
    }
  }
}

const taskDir = path.join(claude, "tasks");
for (const list_ of list(taskDir)) {
  for (const name of list(path.join(taskDir, list_))) {
    if (!name.endsWith(".json")) continue;
    const file = path.join(taskDir, list_, name);
    const task = readJson(file);
    if (task && typeof task.subject === "string") {
      observe(task.subject, task.status, `task:${list_}/${name}`, fs.statSync(file).mtimeMs);
    }
  }
}

let conflicts = 0;
for (const todo of todos.values()) {
  let status = 0;
  const seen = new Set();
  for (const word of todo.latest.values()) {
    status = Math.max(status, RANK[word.status] ?? 1);
    seen.add(word.status);
  }
  todo.status = status;
  if (seen.size > 1) conflicts += 1;
}
console.log(JSON.stringify({ todos: todos.size, conflicts }));
