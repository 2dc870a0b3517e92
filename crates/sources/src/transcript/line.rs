//! What a transcript line can say about plans and its model, read with a
//! typed parse that borrows its strings and skips every other field
//! (docs/SOURCES.md, "Transcripts"), or looked up in a parsed `Value` (the
//! fallback, see `scan.rs`). One table of keys (`fields!`) serves both, and
//! both read alike (`crate::loose`).

use super::tool_call::Input;
use crate::loose::{self, fields, Id, IsTrue, List, Text};

/// The fields of a line that the plan reader and the model fact use.
#[derive(Debug, Default, PartialEq)]
pub(super) struct Line<'a> {
    /// `type`: `assistant`, `user`, `progress`…
    pub(super) kind: Text<'a>,
    pub(super) timestamp: Text<'a>,
    pub(super) agent_id: Text<'a>,
    pub(super) session_id: Text<'a>,
    /// `"isSidechain": true`.
    pub(super) sidechain: IsTrue,
    pub(super) message: Message<'a>,
    /// `toolUseResult.task.id`: a created task's id.
    pub(super) tool_use_result: ToolUseResult<'a>,
}

#[derive(Debug, Default, PartialEq)]
pub(super) struct Message<'a> {
    pub(super) model: Text<'a>,
    /// `content` when it is an array.
    pub(super) content: List<Item<'a>>,
}

/// An item of `message.content`: a `tool_use` (`id`, `name`, `input`) or a
/// `tool_result` (`tool_use_id`).
#[derive(Debug, Default, PartialEq)]
pub(super) struct Item<'a> {
    pub(super) kind: Text<'a>,
    pub(super) id: Text<'a>,
    pub(super) name: Text<'a>,
    pub(super) input: Input<'a>,
    pub(super) tool_use_id: Text<'a>,
}

#[derive(Debug, Default, PartialEq)]
pub(super) struct ToolUseResult<'a> {
    task: Task<'a>,
}

#[derive(Debug, Default, PartialEq)]
struct Task<'a> {
    id: Id<'a>,
}

impl<'a> Line<'a> {
    /// The typed parse; None exactly where a parse into a `Value` fails.
    pub(super) fn parse(line: &'a [u8]) -> Option<Line<'a>> {
        loose::parse(line)
    }

    /// `toolUseResult.task.id`.
    pub(super) fn task_id(&self) -> &Id<'a> {
        &self.tool_use_result.task.id
    }
}

fields!(Line {
    "type" => kind,
    "timestamp" => timestamp,
    "agentId" => agent_id,
    "sessionId" => session_id,
    "isSidechain" => sidechain,
    "message" => message,
    "toolUseResult" => tool_use_result,
});

fields!(Message {
    "model" => model,
    "content" => content,
});

fields!(Item {
    "type" => kind,
    "id" => id,
    "name" => name,
    "input" => input,
    "tool_use_id" => tool_use_id,
});

fields!(ToolUseResult { "task" => task });

fields!(Task { "id" => id });

#[cfg(test)]
mod tests {
    use super::*;
    use crate::loose::FromValue;
    use serde_json::Value;

    /// The typed parse and the `Value`'s agree on a line of every field.
    fn both(json: &str) -> Line<'_> {
        let value: Value = serde_json::from_str(json).unwrap();
        let typed = Line::parse(json.as_bytes()).unwrap();
        assert_eq!(typed, Line::from_value(Some(&value)), "{json}");
        typed
    }

    #[test]
    fn reads_the_fields_of_plans() {
        let line = both(
            r#"{"type":"assistant","timestamp":"t","agentId":"a","sessionId":"s","isSidechain":true,
                "message":{"model":"m","content":[{"type":"tool_use","id":"toolu_1","name":"TaskUpdate",
                "input":{"taskId":3,"status":"done"}},"text",{"type":"tool_result","tool_use_id":"toolu_0"}]},
                "toolUseResult":{"task":{"id":"7"}}}"#,
        );
        assert_eq!(line.kind.as_str(), Some("assistant"));
        assert!(line.sidechain.0);
        assert_eq!(line.message.content.items().len(), 3);
        assert_eq!(line.message.content.items()[1], Item::default());
        assert_eq!(line.task_id().text().as_deref(), Some("7"));
    }

    #[test]
    fn odd_shapes_read_as_a_value_lookup_does() {
        for json in [
            r#"{"message":["model","m"],"toolUseResult":[{"task":{"id":1}}]}"#,
            r#"{"message":{"content":"text","model":null},"isSidechain":"true"}"#,
            r#"{"type":"assistant","type":"user","toolUseResult":{"task":{"id":1.5e0}}}"#,
            r#"{"message":{"content":[{"type":"tool_use"}]},"message":{"model":"m"}}"#,
            r#"["assistant",{"message":{}}]"#,
            r#""TodoWrite""#,
            r#"{"toolUseResult":{"task":{"id":-4}},"timestamp":{"a":[1,2]}}"#,
        ] {
            both(json);
        }
    }
}
