//! `todos/<session>-agent-<agent>.json`: a session agent's whole todo list.

use crate::error::ParseError;
use crate::json;
use crate::loose::{fields, FromValue, Text};
use chittysync_core::Status;
use serde_json::Value;

/// One todo as a list (a todo file or a `TodoWrite` call) holds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RawTodo {
    pub content: String,
    pub active_form: Option<String>,
    pub status: Status,
}

/// A todo list, with counts of what in it could not be read as a todo.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TodoList {
    pub items: Vec<RawTodo>,
    /// Entries that were not objects or had no non-empty string `content`.
    pub skipped_entries: usize,
    /// Items whose status was missing or unknown, read as pending.
    pub unknown_statuses: usize,
}

/// Parses the content of a todo file.
///
/// Every shape Claude Code has written is read: `{"content","status","activeForm"}`
/// (current), `{"id","content","status","priority"}` (1.0.x), and either without
/// its optional fields; other fields are ignored. `[]` is a valid, empty list.
pub fn parse_todo_list(bytes: &[u8]) -> Result<TodoList, ParseError> {
    match json::parse_document(bytes)? {
        Value::Array(entries) => Ok(todos_from_entries(&entries)),
        other => Err(ParseError::NotAList {
            found: json::kind_of(&other),
        }),
    }
}

/// Reads the entries of a list.
pub(crate) fn todos_from_entries(entries: &[Value]) -> TodoList {
    let entries: Vec<TodoEntry<'_>> = entries
        .iter()
        .map(|entry| TodoEntry::from_value(Some(entry)))
        .collect();
    todo_list(&entries)
}

/// The fields of an entry of a list, shared with `TodoWrite` calls in
/// transcripts, whose `input.todos` has exactly the shapes of a todo file.
/// An entry that is not an object has none.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TodoEntry<'a> {
    content: Text<'a>,
    status: Text<'a>,
    active_form: Text<'a>,
}

fields!(TodoEntry {
    "content" => content,
    "status" => status,
    "activeForm" => active_form,
});

/// The list of the entries, read either way.
pub(crate) fn todo_list(entries: &[TodoEntry<'_>]) -> TodoList {
    let mut list = TodoList {
        items: Vec::with_capacity(entries.len()),
        ..TodoList::default()
    };
    for entry in entries {
        let Some(content) = entry.content.non_blank() else {
            list.skipped_entries += 1;
            continue;
        };
        let (status, unknown) = json::status_text(entry.status.as_str());
        list.unknown_statuses += usize::from(unknown);
        list.items.push(RawTodo {
            content,
            active_form: entry.active_form.non_blank(),
            status,
        });
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    fn todo(content: &str, active_form: Option<&str>, status: Status) -> RawTodo {
        RawTodo {
            content: content.into(),
            active_form: active_form.map(Into::into),
            status,
        }
    }

    #[test]
    fn reads_every_shape() {
        let list = parse_todo_list(
            br#"[
              {"content":"Current","status":"in_progress","activeForm":"Doing current"},
              {"id":"1","content":"Old","status":"completed","priority":"high"},
              {"id":"2","content":"Old, no priority","status":"pending"},
              {"content":"Bare","status":"deleted"},
              {"content":"Extra","status":"pending","activeForm":"","color":"red"}
            ]"#,
        )
        .unwrap();
        assert_eq!(
            list.items,
            vec![
                todo("Current", Some("Doing current"), Status::InProgress),
                todo("Old", None, Status::Completed),
                todo("Old, no priority", None, Status::Pending),
                todo("Bare", None, Status::Deleted),
                todo("Extra", None, Status::Pending),
            ]
        );
        assert_eq!((list.skipped_entries, list.unknown_statuses), (0, 0));
    }

    #[test]
    fn empty_array_is_an_empty_list() {
        assert_eq!(parse_todo_list(b"[]").unwrap(), TodoList::default());
        assert_eq!(parse_todo_list(b" [ ]\n").unwrap(), TodoList::default());
    }

    #[test]
    fn zero_bytes_and_whitespace_are_a_write_under_way() {
        assert_eq!(parse_todo_list(b""), Err(ParseError::Empty));
        assert_eq!(parse_todo_list(b" \n\t"), Err(ParseError::Empty));
        assert_eq!(parse_todo_list(b"\xEF\xBB\xBF"), Err(ParseError::Empty));
    }

    #[test]
    fn byte_order_mark_is_tolerated() {
        let list = parse_todo_list(b"\xEF\xBB\xBF[{\"content\":\"a\",\"status\":\"pending\"}]");
        assert_eq!(list.unwrap().items.len(), 1);
    }

    #[test]
    fn truncated_json_reports_where() {
        let err = parse_todo_list(b"[{\"content\":\"a\",\n\"status\":\"pend").unwrap_err();
        let ParseError::Json {
            line,
            column,
            message,
        } = &err
        else {
            panic!("expected a JSON error, got {err:?}");
        };
        assert_eq!(*line, 2);
        assert!(*column > 0);
        assert!(message.contains("EOF"), "{message}");
        assert!(!message.contains(" at line "), "{message}");
        assert!(err.to_string().contains("line 2, column"), "{err}");
    }

    #[test]
    fn other_documents_are_not_lists() {
        let cases: [(&[u8], &str); 5] = [
            (br#"{"sessions":{}}"#, "an object"),
            (br#""text""#, "a string"),
            (b"42", "a number"),
            (b"true", "a boolean"),
            (b"null", "null"),
        ];
        for (bytes, found) in cases {
            assert_eq!(parse_todo_list(bytes), Err(ParseError::NotAList { found }));
        }
        let err = parse_todo_list(br#"{"a":1}"#).unwrap_err();
        assert_eq!(
            err.to_string(),
            "not a list of todos: the file holds an object"
        );
    }

    #[test]
    fn entries_without_content_are_skipped_and_counted() {
        let list = parse_todo_list(
            br#"[
              {"status":"pending"},
              {"content":"","status":"pending"},
              {"content":"   ","status":"pending"},
              {"content":42,"status":"pending"},
              {"content":null},
              "just a string",
              7,
              ["nested"],
              {"content":"kept","status":"completed"}
            ]"#,
        )
        .unwrap();
        assert_eq!(list.items, vec![todo("kept", None, Status::Completed)]);
        assert_eq!(list.skipped_entries, 8);
        assert_eq!(list.unknown_statuses, 0);
    }

    #[test]
    fn unknown_statuses_read_as_pending_and_are_counted() {
        let list = parse_todo_list(
            br#"[
              {"content":"a","status":"done"},
              {"content":"b"},
              {"content":"c","status":3},
              {"content":"d","status":"COMPLETED"},
              {"content":"e","status":"in_progress"}
            ]"#,
        )
        .unwrap();
        let statuses: Vec<Status> = list.items.iter().map(|t| t.status).collect();
        use Status::*;
        assert_eq!(statuses, [Pending, Pending, Pending, Pending, InProgress]);
        assert_eq!(list.unknown_statuses, 4);
        assert_eq!(list.skipped_entries, 0);
    }

    fn any_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            prop_oneof![
                Just("pending"),
                Just("in_progress"),
                Just("completed"),
                Just("done"),
                Just(""),
                Just("x")
            ]
            .prop_map(Value::from),
        ];
        leaf.prop_recursive(3, 24, 4, |inner| {
            let key = prop_oneof![
                Just("content"),
                Just("status"),
                Just("activeForm"),
                Just("id")
            ];
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
                proptest::collection::btree_map(key.prop_map(String::from), inner, 0..4)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        /// Whatever an array holds, every entry is either a todo or counted as skipped.
        #[test]
        fn every_entry_is_read_or_counted(entries in proptest::collection::vec(any_json(), 0..8)) {
            let bytes = serde_json::to_vec(&entries).unwrap();
            let list = parse_todo_list(&bytes).unwrap();
            proptest::prop_assert_eq!(list.items.len() + list.skipped_entries, entries.len());
            proptest::prop_assert!(list.unknown_statuses <= list.items.len());
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..64)) {
            let _ = parse_todo_list(&bytes);
            let _ = crate::parse_task(&bytes);
        }
    }

    #[test]
    fn content_keeps_its_text_as_written() {
        let list = parse_todo_list(br#"[{"content":"  Fix \"it\"\n","status":"pending"}]"#);
        assert_eq!(list.unwrap().items[0].content, "  Fix \"it\"\n");
    }
}
