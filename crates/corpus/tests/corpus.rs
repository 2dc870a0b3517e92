use chittysync_corpus::{
    append_one_transcript_line, append_transcript_line, appended_todos, generate,
    subagent_transcript_files, todo_files, touch_one_todo_file, transcript_files, AppendKind,
    CorpusSpec, CorpusStats, TranscriptSize,
};
use serde_json::Value;
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::UNIX_EPOCH;

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            walk(&p, out);
        } else {
            out.push(p);
        }
    }
}

fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut v = Vec::new();
    walk(dir, &mut v);
    v.sort();
    v
}

fn mtime_ms(p: &Path) -> i64 {
    std::fs::metadata(p)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// A hash of every file's relative path, bytes and mtime.
fn tree_hash(dir: &Path) -> String {
    let mut h = Sha256::new();
    for p in all_files(dir) {
        h.update(p.strip_prefix(dir).unwrap().to_string_lossy().as_bytes());
        h.update([0]);
        h.update(std::fs::read(&p).unwrap());
        h.update([0]);
        h.update(mtime_ms(&p).to_be_bytes());
    }
    hex::encode(h.finalize())
}

fn gen(spec: &CorpusSpec) -> (tempfile::TempDir, CorpusStats) {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("claude");
    let stats = generate(&dir, spec).unwrap();
    (tmp, stats)
}

fn dir_of(tmp: &tempfile::TempDir) -> PathBuf {
    tmp.path().join("claude")
}

fn iso_ms(s: &str) -> i64 {
    chittysync_core::Timestamp::parse_rfc3339(s)
        .unwrap_or_else(|| panic!("bad time {s}"))
        .millis()
}

#[test]
fn same_seed_same_tree_other_seed_other_tree() {
    let spec = CorpusSpec::new(150, 42).with_transcripts(TranscriptSize::Realistic {
        target_total_bytes: 3 << 20,
    });
    let (a, sa) = gen(&spec);
    let (b, sb) = gen(&spec);
    assert_eq!(sa, sb);
    assert_eq!(tree_hash(&dir_of(&a)), tree_hash(&dir_of(&b)));
    // The same with one thread: the output does not depend on scheduling.
    let one = tempfile::tempdir().unwrap();
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .unwrap();
    let s1 = pool
        .install(|| generate(&one.path().join("claude"), &spec))
        .unwrap();
    assert_eq!(s1, sa);
    assert_eq!(
        tree_hash(&dir_of(&a)),
        tree_hash(&one.path().join("claude"))
    );
    let (c, _) = gen(&CorpusSpec { seed: 43, ..spec });
    assert_ne!(tree_hash(&dir_of(&a)), tree_hash(&dir_of(&c)));
}

#[test]
fn refuses_a_non_empty_folder() {
    let tmp = tempfile::tempdir().unwrap();
    std::fs::write(tmp.path().join("keep.txt"), "mine").unwrap();
    let err = generate(tmp.path(), &CorpusSpec::new(3, 1)).unwrap_err();
    assert!(err.to_string().contains("not empty"), "{err}");
    assert_eq!(
        std::fs::read_to_string(tmp.path().join("keep.txt")).unwrap(),
        "mine"
    );
}

/// Checks every file and that the stats count them right; returns parsed todo files.
fn check_tree(dir: &Path, stats: &CorpusStats) -> BTreeMap<String, Vec<Value>> {
    let files = all_files(dir);
    assert_eq!(files.len() as u64, stats.files);
    let bytes: u64 = files
        .iter()
        .map(|p| std::fs::metadata(p).unwrap().len())
        .sum();
    assert_eq!(bytes, stats.bytes);

    let mut todos = BTreeMap::new();
    let mut raw = 0u64;
    let mut empty = 0u64;
    for p in todo_files(dir).unwrap() {
        let text = std::fs::read_to_string(&p).unwrap();
        let v: Value =
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", p.display()));
        let arr = v
            .as_array()
            .unwrap_or_else(|| panic!("{} is not an array", p.display()));
        if arr.is_empty() {
            assert_eq!(text, "[]");
            empty += 1;
        } else {
            // JSON.stringify(todos, null, 2)
            assert!(text.starts_with("[\n  {\n    \"content\": "), "{text}");
            assert!(!text.ends_with('\n'));
        }
        for item in arr {
            assert!(item["content"]
                .as_str()
                .is_some_and(|c| !c.trim().is_empty()));
            assert!(matches!(
                item["status"].as_str(),
                Some("pending" | "in_progress" | "completed")
            ));
        }
        raw += arr.len() as u64;
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        assert!(name.contains("-agent-"), "{name}");
        todos.insert(name, arr.clone());
    }
    assert_eq!(todos.len() as u64, stats.todo_files);
    assert_eq!(raw, stats.raw_todos);
    assert_eq!(empty, stats.empty_todo_files);

    let mut task_files = 0;
    let tasks = dir.join("tasks");
    if tasks.exists() {
        for list in std::fs::read_dir(&tasks).unwrap() {
            let list = list.unwrap().path();
            assert!(list.join(".lock").exists());
            let hwm: u32 = std::fs::read_to_string(list.join(".highwatermark"))
                .unwrap()
                .parse()
                .unwrap();
            for f in std::fs::read_dir(&list).unwrap() {
                let f = f.unwrap().path();
                let name = f.file_name().unwrap().to_string_lossy().to_string();
                if name.starts_with('.') {
                    continue;
                }
                let v: Value = serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
                let id: u32 = v["id"].as_str().unwrap().parse().unwrap();
                assert_eq!(name, format!("{id}.json"));
                assert!(id <= hwm);
                for k in ["subject", "description", "activeForm", "status"] {
                    assert!(v[k].is_string(), "{k} in {}", f.display());
                }
                assert!(v["blocks"].is_array() && v["blockedBy"].is_array());
                task_files += 1;
            }
        }
    }
    assert_eq!(task_files, stats.task_files);

    let mut transcripts = transcript_files(dir).unwrap();
    transcripts.extend(subagent_transcript_files(dir).unwrap());
    assert_eq!(transcripts.len() as u64, stats.transcripts);
    let mut tbytes = 0;
    for p in &transcripts {
        let text = std::fs::read_to_string(p).unwrap();
        tbytes += text.len() as u64;
        assert!(text.ends_with('\n'));
        let mut last_ts = i64::MIN;
        for (n, line) in text.lines().enumerate() {
            let v: Value = serde_json::from_str(line)
                .unwrap_or_else(|e| panic!("{}:{}: {e}", p.display(), n + 1));
            if let Some(ts) = v.get("timestamp").and_then(Value::as_str) {
                let ts = iso_ms(ts);
                assert!(ts >= last_ts, "{}:{}: time goes back", p.display(), n + 1);
                last_ts = ts;
            }
        }
        assert_eq!(mtime_ms(p), last_ts, "{} mtime", p.display());
    }
    assert_eq!(tbytes, stats.transcript_bytes);
    todos
}

#[test]
fn stats_count_what_is_on_disk_and_everything_parses() {
    let spec = CorpusSpec::new(300, 7);
    let (tmp, stats) = gen(&spec);
    let dir = dir_of(&tmp);
    assert_eq!(stats.sessions, 300);
    check_tree(&dir, &stats);
    assert!(stats.transcripts > 250);
    // Small transcripts: tens of KB at most on average.
    assert!(
        stats.transcript_bytes / stats.transcripts < 30_000,
        "{stats:?}"
    );
}

#[test]
fn about_half_the_todo_files_are_empty_and_the_counts_are_realistic() {
    let spec = CorpusSpec::new(2000, 1).with_transcripts(TranscriptSize::None);
    let (tmp, stats) = gen(&spec);
    let dir = dir_of(&tmp);
    let todos = check_tree(&dir, &stats);
    assert_eq!(stats.transcripts, 0);
    assert!(!dir.join("projects").read_dir().unwrap().any(|_| true));
    let share = stats.empty_todo_files as f64 / stats.todo_files as f64;
    assert!((0.4..0.6).contains(&share), "empty share {share}");
    // ≈ 5 raw todos a session (20,000 sessions ≈ 100,000 todos).
    let per_session = stats.raw_todos as f64 / 2000.0;
    assert!((4.0..6.0).contains(&per_session), "{per_session}");
    // Both shapes and all three statuses occur.
    let all: Vec<&Value> = todos.values().flatten().collect();
    assert!(all.iter().any(|t| t.get("activeForm").is_some()));
    assert!(all
        .iter()
        .any(|t| t.get("priority").is_some() && t.get("id").is_some()));
    assert!(all
        .iter()
        .any(|t| t.get("priority").is_none() && t.get("activeForm").is_none()));
    for s in ["pending", "in_progress", "completed"] {
        assert!(all.iter().any(|t| t["status"] == s), "{s}");
    }
    // Sub-agent files: more files than sessions.
    assert!(stats.todo_files > 2000 + 500);
}

#[test]
fn sessions_of_a_project_share_todos_in_different_states() {
    let spec = CorpusSpec::new(400, 5);
    let (tmp, _) = gen(&spec);
    let dir = dir_of(&tmp);
    // project folder -> sessions, from the transcripts.
    let mut project_of: HashMap<String, String> = HashMap::new();
    for p in transcript_files(&dir).unwrap() {
        let folder = p
            .parent()
            .unwrap()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .to_string();
        project_of.insert(p.file_stem().unwrap().to_string_lossy().to_string(), folder);
    }
    // (project, normalized content) -> (sessions, statuses)
    let mut seen: HashMap<(String, String), (HashSet<String>, HashSet<String>)> = HashMap::new();
    let mut raw_variants = 0;
    for p in todo_files(&dir).unwrap() {
        let name = p.file_stem().unwrap().to_string_lossy().to_string();
        let session = name.split("-agent-").next().unwrap().to_string();
        let Some(project) = project_of.get(&session) else {
            continue;
        };
        let v: Vec<Value> = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
        for t in v {
            let content = t["content"].as_str().unwrap();
            let norm = content
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
                .to_lowercase();
            if norm != content {
                let first_lower = content.chars().next().unwrap().is_lowercase();
                if first_lower || content.contains("  ") || content.ends_with(' ') {
                    raw_variants += 1;
                }
            }
            let e = seen.entry((project.clone(), norm)).or_default();
            e.0.insert(session.clone());
            e.1.insert(t["status"].as_str().unwrap().to_string());
        }
    }
    let shared = seen.values().filter(|(s, _)| s.len() >= 2).count();
    let conflicting = seen
        .values()
        .filter(|(s, st)| s.len() >= 2 && st.len() >= 2)
        .count();
    assert!(shared >= 20, "shared {shared}");
    assert!(conflicting >= 5, "conflicting {conflicting}");
    assert!(raw_variants >= 5, "variants {raw_variants}");
}

/// The last TodoWrite of each agent's transcript is its todo file (or all
/// completed when the file is `[]`), and the file's mtime is that write's time.
#[test]
fn transcripts_tell_the_history_of_the_files() {
    let spec = CorpusSpec::new(300, 11);
    let (tmp, _) = gen(&spec);
    let dir = dir_of(&tmp);
    let mut checked_finished = 0;
    let mut checked_open = 0;
    let mut mains = transcript_files(&dir).unwrap();
    mains.extend(subagent_transcript_files(&dir).unwrap());
    for p in mains {
        let text = std::fs::read_to_string(&p).unwrap();
        let mut last_write: Option<(Vec<Value>, i64)> = None;
        let mut session = String::new();
        let mut agent: Option<String> = None;
        let mut task_status: BTreeMap<String, String> = BTreeMap::new();
        let mut pending_creates: HashMap<String, ()> = HashMap::new();
        for line in text.lines() {
            let v: Value = serde_json::from_str(line).unwrap();
            if let Some(s) = v.get("sessionId").and_then(Value::as_str) {
                session = s.to_string();
            }
            if let Some(a) = v.get("agentId").and_then(Value::as_str) {
                agent = Some(a.to_string());
                assert_eq!(v["isSidechain"], true);
            }
            if v["type"] == "assistant" {
                for c in v["message"]["content"].as_array().unwrap() {
                    if c["type"] == "tool_use" && c["name"] == "TodoWrite" {
                        let ts = iso_ms(v["timestamp"].as_str().unwrap());
                        last_write = Some((c["input"]["todos"].as_array().unwrap().clone(), ts));
                    }
                    if c["type"] == "tool_use" && c["name"] == "TaskCreate" {
                        pending_creates.insert(c["id"].as_str().unwrap().to_string(), ());
                    }
                    if c["type"] == "tool_use" && c["name"] == "TaskUpdate" {
                        task_status.insert(
                            c["input"]["taskId"].as_str().unwrap().to_string(),
                            c["input"]["status"].as_str().unwrap().to_string(),
                        );
                    }
                }
            }
            if let Some(task) = v.get("toolUseResult").and_then(|t| t.get("task")) {
                task_status
                    .entry(task["id"].as_str().unwrap().to_string())
                    .or_insert_with(|| "pending".into());
            }
        }
        if !task_status.is_empty() {
            let tdir = dir.join("tasks").join(&session);
            for (id, status) in &task_status {
                let f = tdir.join(format!("{id}.json"));
                if status == "deleted" {
                    assert!(!f.exists(), "{} should be gone", f.display());
                } else {
                    let v: Value =
                        serde_json::from_str(&std::fs::read_to_string(&f).unwrap()).unwrap();
                    assert_eq!(&v["status"], status.as_str());
                }
            }
        }
        let Some((todos, ts)) = last_write else {
            continue;
        };
        let agent_id = agent.clone().unwrap_or_else(|| session.clone());
        let file = dir
            .join("todos")
            .join(format!("{session}-agent-{agent_id}.json"));
        let on_disk: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        assert_eq!(mtime_ms(&file), ts, "{}", file.display());
        if todos.iter().all(|t| t["status"] == "completed") {
            assert!(on_disk.is_empty(), "{}", file.display());
            checked_finished += 1;
        } else {
            assert_eq!(on_disk, todos, "{}", file.display());
            checked_open += 1;
        }
    }
    assert!(
        checked_finished > 20 && checked_open > 20,
        "{checked_finished} {checked_open}"
    );
}

#[test]
fn realistic_transcripts_reach_the_target_and_are_mostly_tool_results() {
    let target = 16u64 << 20;
    let spec = CorpusSpec::new(200, 3).with_transcripts(TranscriptSize::Realistic {
        target_total_bytes: target,
    });
    let (tmp, stats) = gen(&spec);
    let dir = dir_of(&tmp);
    let ratio = stats.transcript_bytes as f64 / target as f64;
    assert!((0.9..1.1).contains(&ratio), "ratio {ratio}");
    let mut sizes = Vec::new();
    let mut plan_bytes = 0u64;
    let mut kinds: HashSet<String> = HashSet::new();
    for p in transcript_files(&dir).unwrap() {
        let text = std::fs::read_to_string(&p).unwrap();
        sizes.push(text.len());
        for line in text.lines() {
            if line.contains("\"name\":\"TodoWrite\"") || line.contains("\"oldTodos\"") {
                plan_bytes += line.len() as u64 + 1;
            }
            let v: Value = serde_json::from_str(line).unwrap();
            kinds.insert(v["type"].as_str().unwrap().to_string());
        }
    }
    for k in [
        "user",
        "assistant",
        "progress",
        "queue-operation",
        "file-history-snapshot",
        "summary",
    ] {
        assert!(kinds.contains(k), "no {k} line");
    }
    assert!((plan_bytes as f64) < 0.3 * stats.transcript_bytes as f64);
    sizes.sort();
    // Heavy tail: the biggest transcript is many times the median.
    assert!(sizes[sizes.len() - 1] > 8 * sizes[sizes.len() / 2]);
    check_tree(&dir, &stats);
}

#[test]
fn touch_changes_one_status_and_bumps_mtime() {
    let (tmp, _) = gen(&CorpusSpec::new(60, 9).with_transcripts(TranscriptSize::None));
    let dir = dir_of(&tmp);
    let before: BTreeMap<PathBuf, Vec<u8>> = todo_files(&dir)
        .unwrap()
        .into_iter()
        .map(|p| (p.clone(), std::fs::read(&p).unwrap()))
        .collect();
    let old_mtime = UNIX_EPOCH;
    let touched = touch_one_todo_file(&dir, 1).unwrap();
    assert!(touched.mtime > old_mtime);
    let mut changed = 0;
    for (p, old) in &before {
        let new = std::fs::read(p).unwrap();
        if &new != old {
            changed += 1;
            assert_eq!(p, &touched.path);
            let a: Vec<Value> = serde_json::from_slice(old).unwrap();
            let b: Vec<Value> = serde_json::from_slice(&new).unwrap();
            assert_eq!(a.len(), b.len());
            let diffs: Vec<usize> = (0..a.len()).filter(|&i| a[i] != b[i]).collect();
            assert_eq!(diffs.len(), 1);
            let i = diffs[0];
            assert_eq!(a[i]["status"], touched.old_status.as_str());
            assert_eq!(b[i]["status"], touched.new_status.as_str());
            assert_eq!(b[i]["content"], touched.content.as_str());
        }
    }
    assert_eq!(changed, 1);
    assert_eq!(
        std::fs::metadata(&touched.path)
            .unwrap()
            .modified()
            .unwrap(),
        touched.mtime
    );
    assert!(touched
        .path
        .file_name()
        .unwrap()
        .to_string_lossy()
        .starts_with(&touched.session));
    // Same seed, same choice (on a fresh copy of the corpus).
    let (tmp2, _) = gen(&CorpusSpec::new(60, 9).with_transcripts(TranscriptSize::None));
    let again = touch_one_todo_file(&dir_of(&tmp2), 1).unwrap();
    assert_eq!(again.path.file_name(), touched.path.file_name());
    assert_eq!(again.content, touched.content);
}

#[test]
fn append_adds_one_complete_line_to_a_session() {
    let (tmp, _) = gen(&CorpusSpec::new(40, 2));
    let dir = dir_of(&tmp);
    let appended = append_one_transcript_line(&dir, 5).unwrap();
    let text = std::fs::read_to_string(&appended.path).unwrap();
    assert!(text.ends_with('\n'));
    let last = text.lines().last().unwrap();
    assert_eq!(last, appended.line);
    let prev: Value = serde_json::from_str(text.lines().rev().nth(1).unwrap()).unwrap();
    let v: Value = serde_json::from_str(last).unwrap();
    assert_eq!(v["type"], "assistant");
    assert_eq!(v["sessionId"], appended.session.as_str());
    assert_eq!(v["parentUuid"], prev["uuid"]);
    let tu = &v["message"]["content"][0];
    assert_eq!(tu["name"], "TodoWrite");
    let want = serde_json::to_value(appended_todos(5)).unwrap();
    assert_eq!(tu["input"]["todos"], want);
    assert!(iso_ms(v["timestamp"].as_str().unwrap()) > iso_ms(prev["timestamp"].as_str().unwrap()));
    assert_eq!(mtime_ms(&appended.path), iso_ms(&appended.timestamp));

    // A plain line on a sub-agent transcript keeps its agentId.
    let sub = subagent_transcript_files(&dir).unwrap();
    let p = sub.first().expect("some sub-agent transcript");
    let before = std::fs::metadata(p).unwrap().len();
    let a = append_transcript_line(p, &AppendKind::Text("Checked.".into())).unwrap();
    assert_eq!(std::fs::metadata(p).unwrap().len(), before + a.bytes);
    let v: Value = serde_json::from_str(&a.line).unwrap();
    assert!(v["agentId"].is_string());
    assert_eq!(v["isSidechain"], true);
    assert_eq!(a.agent_id.as_deref(), v["agentId"].as_str());
}

#[test]
fn append_never_glues_onto_a_cut_line() {
    let (tmp, _) = gen(&CorpusSpec::new(10, 4));
    let dir = dir_of(&tmp);
    let p = transcript_files(&dir).unwrap().remove(0);
    let mut text = std::fs::read_to_string(&p).unwrap();
    text.push_str("{\"type\":\"assistant\",\"mess");
    std::fs::write(&p, &text).unwrap();
    let a = append_transcript_line(&p, &AppendKind::Text("Resumed.".into())).unwrap();
    let after = std::fs::read_to_string(&p).unwrap();
    assert!(after.ends_with(&format!("{}\n", a.line)));
    assert!(after.contains("\"mess\n{"));
}
