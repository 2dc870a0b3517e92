//! The git merge driver: the three-way merge (docs/DESIGN.md) for files shaped like our
//! `todos.json` (`{"version": 1, …, "todos": [...]}`) and for the seed's plain
//! arrays of `{content, status, activeForm}`.
//!
//! The merged file keeps the shape of ours. A `todos.json` comes out sorted
//! and laid out as chittysync writes it; a plain array keeps our order (then
//! theirs for todos only they have) and each todo's other fields (`id`,
//! `priority`, …) from the side whose version won. A side that is not JSON of
//! either shape is an error, so git reports a conflict instead of losing data.

use chittysync_core::{merge_snapshots, normalize, Conflict, Timestamp, TodoEntry};
use chittysync_engine::render_todos_file;
use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use std::fmt;

/// Why a side could not be merged.
#[derive(Debug, thiserror::Error)]
pub enum MergeDriverError {
    #[error("{side}: not JSON: {cause}")]
    Json {
        side: &'static str,
        cause: serde_json::Error,
    },
    #[error("{side}: expected a todos.json object with a `todos` array, or an array of todos")]
    Shape { side: &'static str },
    #[error("{side}: todo #{index}: {cause}")]
    Entry {
        side: &'static str,
        index: usize,
        cause: serde_json::Error,
    },
}

/// The merged file and the conflicts resolved on the way.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MergedFile {
    pub bytes: Vec<u8>,
    pub conflicts: Vec<Conflict>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `{"version": 1, "generated_at": …, "todos": [...]}`
    Document,
    /// `[{"content", "status", "activeForm"}, …]`
    List,
}

/// A JSON object with its keys in the order written, so a todo merged back
/// into a seed array keeps the layout its tool gave it.
#[derive(Debug, Clone, Default, PartialEq)]
struct Ordered(Vec<(String, Value)>);

impl Ordered {
    fn set(&mut self, key: &str, value: Option<Value>) {
        let at = self.0.iter().position(|(k, _)| k == key);
        match (at, value) {
            (Some(i), Some(v)) => self.0[i].1 = v,
            (None, Some(v)) => self.0.push((key.to_string(), v)),
            (Some(i), None) => {
                self.0.remove(i);
            }
            (None, None) => {}
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct OrderedVisitor;
        impl<'de> Visitor<'de> for OrderedVisitor {
            type Value = Ordered;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Ordered, A::Error> {
                let mut pairs = Vec::new();
                while let Some(pair) = map.next_entry::<String, Value>()? {
                    pairs.push(pair);
                }
                Ok(Ordered(pairs))
            }
        }
        deserializer.deserialize_map(OrderedVisitor)
    }
}

impl Serialize for Ordered {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// One side, read.
struct Side {
    /// `None` for an empty file (the side has no such file).
    shape: Option<Shape>,
    entries: Vec<TodoEntry>,
    raw: Vec<Ordered>,
    generated_at: Option<Timestamp>,
    ends_with_newline: bool,
}

type Key = (String, String);

fn key(entry: &TodoEntry) -> Key {
    (entry.project.clone(), normalize(&entry.content))
}

fn parse(side: &'static str, bytes: &[u8]) -> Result<Side, MergeDriverError> {
    let mut parsed = Side {
        shape: None,
        entries: Vec::new(),
        raw: Vec::new(),
        generated_at: None,
        ends_with_newline: bytes.ends_with(b"\n"),
    };
    if bytes.iter().all(u8::is_ascii_whitespace) {
        return Ok(parsed);
    }
    let value: Value =
        serde_json::from_slice(bytes).map_err(|cause| MergeDriverError::Json { side, cause })?;
    let shape_error = || MergeDriverError::Shape { side };
    let items: Vec<Ordered> = match value {
        // Read again to keep each todo's keys in their written order.
        Value::Array(_) => {
            parsed.shape = Some(Shape::List);
            serde_json::from_slice(bytes).map_err(|_| shape_error())?
        }
        Value::Object(mut doc) => match doc.remove("todos") {
            Some(Value::Array(items)) => {
                parsed.shape = Some(Shape::Document);
                parsed.generated_at = doc
                    .get("generated_at")
                    .and_then(Value::as_str)
                    .and_then(Timestamp::parse_rfc3339);
                items
                    .into_iter()
                    .map(|item| match item {
                        Value::Object(map) => Ok(Ordered(map.into_iter().collect())),
                        _ => Err(shape_error()),
                    })
                    .collect::<Result<_, _>>()?
            }
            _ => return Err(shape_error()),
        },
        _ => return Err(shape_error()),
    };
    for (index, raw) in items.into_iter().enumerate() {
        let object: Map<String, Value> = raw.0.iter().cloned().collect();
        let entry =
            serde_json::from_value::<TodoEntry>(Value::Object(object)).map_err(|cause| {
                MergeDriverError::Entry {
                    side,
                    index: index + 1,
                    cause,
                }
            })?;
        parsed.entries.push(entry);
        parsed.raw.push(raw);
    }
    Ok(parsed)
}

/// Merges `ours` and `theirs`, which descend from `base`.
pub fn merge_files(
    base: &[u8],
    ours: &[u8],
    theirs: &[u8],
) -> Result<MergedFile, MergeDriverError> {
    let base = parse("base (%O)", base)?;
    let ours = parse("ours (%A)", ours)?;
    let theirs = parse("theirs (%B)", theirs)?;
    let outcome = merge_snapshots(&base.entries, &ours.entries, &theirs.entries);
    let shape = ours
        .shape
        .or(theirs.shape)
        .or(base.shape)
        .unwrap_or(Shape::Document);
    let bytes = match shape {
        Shape::Document => document(&outcome.todos, &ours, &theirs),
        Shape::List => list(&outcome.todos, &ours, &theirs),
    };
    Ok(MergedFile {
        bytes,
        conflicts: outcome.conflicts,
    })
}

/// Our layout: sorted, one todo a line, stamped with the newer side's stamp.
fn document(todos: &[TodoEntry], ours: &Side, theirs: &Side) -> Vec<u8> {
    let stamp = ours
        .generated_at
        .max(theirs.generated_at)
        .or_else(|| todos.iter().filter_map(|t| t.updated_at).max())
        .unwrap_or_default();
    let lines: Vec<String> = todos
        .iter()
        .map(|t| serde_json::to_string(t).expect("a todo entry serializes"))
        .collect();
    render_todos_file(lines.iter().map(String::as_str), stamp).into_bytes()
}

/// The seed's layout: our order, then theirs; each todo as its winning side
/// wrote it, with the merged content, status and activeForm.
fn list(todos: &[TodoEntry], ours: &Side, theirs: &Side) -> Vec<u8> {
    let merged: BTreeMap<Key, &TodoEntry> = todos.iter().map(|t| (key(t), t)).collect();
    let mut emitted: HashSet<Key> = HashSet::new();
    let mut out: Vec<Ordered> = Vec::with_capacity(todos.len());
    for side in [ours, theirs] {
        for entry in &side.entries {
            let k = key(entry);
            let Some(&winner) = merged.get(&k) else {
                continue;
            };
            if emitted.insert(k.clone()) {
                out.push(seed_object(winner, &k, ours, theirs));
            }
        }
    }
    let mut text = serde_json::to_string_pretty(&out).expect("JSON values serialize");
    if ours.ends_with_newline || ours.shape.is_none() {
        text.push('\n');
    }
    text.into_bytes()
}

/// The raw object of the side whose version won (else ours, else theirs),
/// carrying the merged values.
fn seed_object(winner: &TodoEntry, k: &Key, ours: &Side, theirs: &Side) -> Ordered {
    let find = |side: &Side, exact: bool| {
        side.entries
            .iter()
            .zip(&side.raw)
            .find(|(e, _)| key(e) == *k && (!exact || *e == winner))
            .map(|(_, raw)| raw.clone())
    };
    let mut object = find(ours, true)
        .or_else(|| find(theirs, true))
        .or_else(|| find(ours, false))
        .or_else(|| find(theirs, false))
        .unwrap_or_default();
    object.set("content", Some(Value::String(winner.content.clone())));
    object.set("status", Some(Value::String(winner.status.to_string())));
    object.set("activeForm", winner.active_form.clone().map(Value::String));
    object
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A seed array, its keys in Claude Code's order (not serde_json's sorted one).
    fn seed(items: &[(&str, &str)]) -> Vec<u8> {
        let list: Vec<String> = items
            .iter()
            .map(|(c, s)| {
                format!(r#"{{"content": "{c}", "status": "{s}", "activeForm": "Doing {c}", "priority": "high"}}"#)
            })
            .collect();
        format!("[{}]", list.join(",")).into_bytes()
    }

    #[test]
    fn seed_arrays_merge_in_our_order_keeping_fields() {
        let base = seed(&[("a", "pending"), ("b", "pending")]);
        let ours = seed(&[("b", "completed"), ("a", "pending"), ("mine", "pending")]);
        let theirs = seed(&[
            ("a", "in_progress"),
            ("b", "in_progress"),
            ("theirs", "pending"),
        ]);
        let merged = merge_files(&base, &ours, &theirs).unwrap();
        let out: Vec<Value> = serde_json::from_slice(&merged.bytes).unwrap();
        let summary: Vec<(String, String)> = out
            .iter()
            .map(|v| {
                (
                    v["content"].as_str().unwrap().into(),
                    v["status"].as_str().unwrap().into(),
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("b".into(), "completed".into()),
                ("a".into(), "in_progress".into()),
                ("mine".into(), "pending".into()),
                ("theirs".into(), "pending".into()),
            ]
        );
        assert!(out.iter().all(|v| v["priority"] == "high"));
        let text = String::from_utf8(merged.bytes.clone()).unwrap();
        assert!(text.starts_with("[\n  {\n    \"content\": \"b\",\n    \"status\": \"completed\",\n    \"activeForm\""), "{text}");
        // b changed on both sides: reported; a changed on one side only: not.
        assert_eq!(merged.conflicts.len(), 1);
        assert_eq!(merged.conflicts[0].rule, "completed-wins");
    }

    #[test]
    fn documents_stay_documents_and_garbage_is_refused() {
        let doc = |status: &str, at: &str| {
            format!(
                r#"{{"version": 1, "generated_at": "{at}", "todos": [{{"id": "x", "content": "Ship", "status": "{status}", "project": "p", "updated_at": "{at}"}}]}}"#
            )
            .into_bytes()
        };
        let merged = merge_files(
            &doc("pending", "2026-01-01T00:00:00.000Z"),
            &doc("pending", "2026-01-01T00:00:00.000Z"),
            &doc("completed", "2026-01-02T00:00:00.000Z"),
        )
        .unwrap();
        let text = String::from_utf8(merged.bytes).unwrap();
        assert!(text.starts_with(
            "{\"version\": 1, \"generated_at\": \"2026-01-02T00:00:00.000Z\",\n \"todos\": [\n  {"
        ), "{text}");
        let value: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["todos"][0]["status"], "completed");
        assert!(merged.conflicts.is_empty());

        assert!(matches!(
            merge_files(b"", b"{\"todos\": 3}", b"[]"),
            Err(MergeDriverError::Shape { .. })
        ));
        assert!(matches!(
            merge_files(b"", b"<<<<<<< ours", b"[]"),
            Err(MergeDriverError::Json { .. })
        ));
        assert!(merge_files(b"", b"[{\"status\": \"pending\"}]", b"[]").is_err());
    }
}
