//! A JSON text edited in place: each edit splices only the bytes it is about,
//! so key order, indentation, number spelling (`1e3`), string escapes and the
//! end of the file stay exactly as they were (docs/HOOKS.md, "Your file stays
//! yours").
//!
//! How: `jsonc-parser` (dprint's parser, also used by Deno) parses the text in
//! its strict JSON mode into a tree whose every node carries its byte range;
//! an edit replaces one range of the text and the text is parsed again. Its
//! own editing tree (the `cst` feature) was not used: it turns every object it
//! adds to into a multi-line one, so a compact file would not come back byte
//! for byte after an uninstall. Here an insertion follows the layout of the
//! container it goes into (one line or one member per line, its indentation,
//! its separators), and a removal takes out exactly what such an insertion
//! added: the member and the separator before it.

use jsonc_parser::ast::{Array, Object, Value as Node};
use jsonc_parser::common::Ranged;
use jsonc_parser::{CollectOptions, ParseOptions};
use serde_json::Value;
use std::ops::Range;

/// One step into a JSON value: a key of an object or an index of an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Key(String),
    Index(usize),
}

/// A path from the root, e.g. `hooks` / `SessionStart` / `0`.
pub type Pointer = Vec<Step>;

/// A JSON document as text, with its parsed value.
#[derive(Debug)]
pub struct JsonText {
    text: String,
    value: Value,
}

/// Why a text is not JSON, or why an edit cannot be made.
#[derive(Debug)]
pub struct JsonTextError(pub String);

impl std::fmt::Display for JsonTextError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for JsonTextError {}

impl JsonText {
    /// Parses strict JSON (no comments, no trailing commas: what Claude Code
    /// reads). Duplicate keys resolve to the last one, as `JSON.parse` does.
    pub fn parse(text: String) -> Result<JsonText, JsonTextError> {
        let value = serde_json::from_str(&text).map_err(|e| JsonTextError(e.to_string()))?;
        // Checked once here so that every later parse of the same text succeeds.
        parse_tree(&text)?;
        Ok(JsonText { text, value })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    pub fn value(&self) -> &Value {
        &self.value
    }

    /// Appends `value` (JSON text, its members in the order to write them)
    /// as the last member of the container at `container`: under `key` in an
    /// object, as the last element of an array.
    pub fn append(
        &mut self,
        container: &[Step],
        key: Option<&str>,
        value: &str,
    ) -> Result<(), JsonTextError> {
        let value_tree = parse_tree(value)?;
        let value = Piece {
            tree: &value_tree,
            text: value,
        };
        let splice = {
            let tree = parse_tree(&self.text)?;
            let node = find(&tree, container)?;
            match (node, key) {
                (Node::Object(_), Some(_)) | (Node::Array(_), None) => {}
                _ => {
                    return Err(JsonTextError(format!(
                        "{} is not an object to add a key to or a list to add to",
                        show(container)
                    )))
                }
            }
            let layout = Layout::of(&self.text, &tree);
            let members = members(node);
            let (open, close) = (node.start(), node.end() - 1);
            let member = |indent: &str| {
                let mut out = String::new();
                if let Some(key) = key {
                    out.push_str(&serde_json::to_string(key).expect("a string serializes"));
                    out.push_str(&layout.colon);
                }
                layout.render(&value, indent, &mut out);
                out
            };
            match (
                members.last(),
                layout.multiline_here(&self.text, open, close),
            ) {
                (Some(last), true) => {
                    let indent = member_indent(&self.text, members[0].start, open, &layout);
                    let text = format!(",{}{indent}{}", layout.newline, member(&indent));
                    (last.end..last.end, text)
                }
                (Some(last), false) => {
                    let comma = inline_comma(&self.text, &members, &layout);
                    let text = format!("{comma}{}", layout.compact().member(key, &value));
                    (last.end..last.end, text)
                }
                (None, true) => {
                    let outer = line_indent(&self.text, open);
                    let indent = format!("{outer}{}", layout.unit);
                    let text = format!(
                        "{nl}{indent}{}{nl}{outer}",
                        member(&indent),
                        nl = layout.newline
                    );
                    (open + 1..close, text)
                }
                (None, false) => (open + 1..close, layout.compact().member(key, &value)),
            }
        };
        self.splice(splice)
    }

    /// Removes the member at `at` with the separator before it (after it, for
    /// a first member followed by others); a sole member leaves `{}` or `[]`.
    pub fn remove(&mut self, at: &[Step]) -> Result<(), JsonTextError> {
        let Some((last, parent)) = at.split_last() else {
            return Err(JsonTextError("cannot remove the root".into()));
        };
        let range = {
            let tree = parse_tree(&self.text)?;
            let node = find(&tree, parent)?;
            let members = members(node);
            let index = member_index(node, last)
                .ok_or_else(|| JsonTextError(format!("nothing at {}", show(at))))?;
            let (open, close) = (node.start(), node.end() - 1);
            match index {
                0 if members.len() == 1 => open + 1..close,
                0 => members[0].start..members[1].start,
                i => members[i - 1].end..members[i].end,
            }
        };
        self.splice((range, String::new()))
    }

    /// Replaces the value at `at` with `value` (JSON text).
    pub fn replace(&mut self, at: &[Step], value: &str) -> Result<(), JsonTextError> {
        let value_tree = parse_tree(value)?;
        let value = Piece {
            tree: &value_tree,
            text: value,
        };
        let splice = {
            let tree = parse_tree(&self.text)?;
            let node = find(&tree, at)?;
            let layout = Layout::of(&self.text, &tree);
            let indent = line_indent(&self.text, node.start());
            let mut out = String::new();
            layout.render(&value, &indent, &mut out);
            (node.start()..node.end(), out)
        };
        self.splice(splice)
    }

    fn splice(&mut self, (range, with): (Range<usize>, String)) -> Result<(), JsonTextError> {
        let mut text = std::mem::take(&mut self.text);
        text.replace_range(range, &with);
        *self = JsonText::parse(text)?;
        Ok(())
    }
}

/// The strict JSON parse that gives every node its byte range.
fn parse_tree(text: &str) -> Result<Node<'_>, JsonTextError> {
    let strict = ParseOptions {
        allow_comments: false,
        allow_loose_object_property_names: false,
        allow_trailing_commas: false,
        allow_missing_commas: false,
        allow_single_quoted_strings: false,
        allow_hexadecimal_numbers: false,
        allow_unary_plus_numbers: false,
        allow_bare_decimal_point_numbers: false,
        allow_non_finite_numbers: false,
        allow_extended_string_escapes: false,
    };
    jsonc_parser::parse_to_ast(text, &CollectOptions::default(), &strict)
        .map_err(|e| JsonTextError(e.to_string()))?
        .value
        .ok_or_else(|| JsonTextError("there is no JSON value in it".into()))
}

fn show(at: &[Step]) -> String {
    let words: Vec<String> = at
        .iter()
        .map(|s| match s {
            Step::Key(k) => k.clone(),
            Step::Index(i) => i.to_string(),
        })
        .collect();
    format!("`{}`", words.join("."))
}

/// The node at `at`; the last of duplicate keys, as `JSON.parse` reads them.
fn find<'t, 'a>(root: &'t Node<'a>, at: &[Step]) -> Result<&'t Node<'a>, JsonTextError> {
    let mut node = root;
    for (depth, step) in at.iter().enumerate() {
        let next = match (node, step) {
            (Node::Object(object), Step::Key(key)) => last_prop(object, key).map(|p| &p.value),
            (Node::Array(array), Step::Index(i)) => array.elements.get(*i),
            _ => None,
        };
        node = next.ok_or_else(|| JsonTextError(format!("nothing at {}", show(&at[..=depth]))))?;
    }
    Ok(node)
}

fn last_prop<'t, 'a>(
    object: &'t Object<'a>,
    key: &str,
) -> Option<&'t jsonc_parser::ast::ObjectProp<'a>> {
    object
        .properties
        .iter()
        .rev()
        .find(|p| p.name.clone().into_string() == key)
}

/// The byte ranges of a container's members (whole properties of an object).
fn members(node: &Node<'_>) -> Vec<Range<usize>> {
    match node {
        Node::Object(Object { properties, .. }) => {
            properties.iter().map(|p| p.start()..p.end()).collect()
        }
        Node::Array(Array { elements, .. }) => {
            elements.iter().map(|e| e.start()..e.end()).collect()
        }
        _ => Vec::new(),
    }
}

fn member_index(node: &Node<'_>, step: &Step) -> Option<usize> {
    match (node, step) {
        (Node::Object(object), Step::Key(key)) => {
            let prop = last_prop(object, key)?;
            object.properties.iter().position(|p| std::ptr::eq(p, prop))
        }
        (Node::Array(array), Step::Index(i)) => (*i < array.elements.len()).then_some(*i),
        _ => None,
    }
}

/// The whitespace that starts the line holding byte `at`.
fn line_indent(text: &str, at: usize) -> String {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    text[line_start..]
        .chars()
        .take_while(|c| *c == ' ' || *c == '\t')
        .collect()
}

/// The indentation of a container's members: that of its first member when
/// the member starts its line, else one unit more than the container's line.
fn member_indent(text: &str, first: usize, open: usize, layout: &Layout) -> String {
    let line_start = text[..first].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..first];
    if line_start > open && before.chars().all(|c| c == ' ' || c == '\t') {
        before.to_string()
    } else {
        format!("{}{}", line_indent(text, open), layout.unit)
    }
}

/// The separator between members of a one-line container: as written
/// between its first two members, else a comma followed as the colon is.
fn inline_comma(text: &str, members: &[Range<usize>], layout: &Layout) -> String {
    if let [first, second, ..] = members {
        let between = &text[first.end..second.start];
        if !between.contains('\n') {
            return between.to_string();
        }
    }
    if layout.colon.ends_with(' ') {
        ", "
    } else {
        ","
    }
    .to_string()
}

/// How the document is written: its line ending, its indentation unit and
/// its colon, as found in its root object.
#[derive(Debug, Clone)]
struct Layout {
    newline: &'static str,
    unit: String,
    colon: String,
    /// Whether the root spans lines (or is empty): an empty container then
    /// gets its members one per line.
    multiline: bool,
    /// One line: members and nested values on the container's line.
    compact: bool,
}

impl Layout {
    fn of(text: &str, root: &Node<'_>) -> Layout {
        let newline = if text.contains("\r\n") { "\r\n" } else { "\n" };
        let (mut unit, mut colon) = (String::from("  "), String::from(": "));
        let root_members = members(root);
        if let Node::Object(object) = root {
            if let Some(prop) = object.properties.first() {
                let between = &text[prop.name.end()..prop.value.start()];
                if !between.contains('\n') {
                    colon = between.to_string();
                }
            }
        }
        let multiline = root_members.is_empty() || text[root.start()..root.end()].contains('\n');
        if let Some(first) = root_members.first() {
            let indent = member_indent(text, first.start, root.start(), &Layout::default());
            let outer = line_indent(text, root.start());
            if let Some(own) = indent.strip_prefix(&outer).filter(|u| !u.is_empty()) {
                unit = own.to_string();
            }
        }
        Layout {
            newline,
            unit,
            colon,
            multiline,
            compact: false,
        }
    }

    fn compact(&self) -> Layout {
        Layout {
            compact: true,
            ..self.clone()
        }
    }

    /// Whether members go one per line in the container between `open` and `close`.
    fn multiline_here(&self, text: &str, open: usize, close: usize) -> bool {
        let inner = &text[open + 1..close];
        if inner.trim().is_empty() {
            self.multiline
        } else {
            inner.contains('\n')
        }
    }

    /// `"key": value` (or just the value) on one line.
    fn member(&self, key: Option<&str>, value: &Piece<'_, '_>) -> String {
        let mut out = String::new();
        if let Some(key) = key {
            out.push_str(&serde_json::to_string(key).expect("a string serializes"));
            out.push_str(&self.colon);
        }
        self.render(value, "", &mut out);
        out
    }

    /// Writes `value` whose first line is indented by `indent`: its members
    /// in their order, its scalars spelled as they are.
    fn render(&self, value: &Piece<'_, '_>, indent: &str, out: &mut String) {
        let spelled = |r: &dyn Ranged| &value.text[r.start()..r.end()];
        let (open, close, items): (char, char, Vec<(Option<&str>, &Node<'_>)>) = match value.tree {
            Node::Object(object) if !object.properties.is_empty() => (
                '{',
                '}',
                object
                    .properties
                    .iter()
                    .map(|p| (Some(spelled(&p.name)), &p.value))
                    .collect(),
            ),
            Node::Array(array) if !array.elements.is_empty() => {
                ('[', ']', array.elements.iter().map(|v| (None, v)).collect())
            }
            scalar => {
                out.push_str(spelled(scalar));
                return;
            }
        };
        out.push(open);
        let inner = format!("{indent}{}", self.unit);
        let comma = if self.colon.ends_with(' ') { ", " } else { "," };
        for (i, (key, item)) in items.into_iter().enumerate() {
            if i > 0 {
                out.push_str(if self.compact { comma } else { "," });
            }
            if !self.compact {
                out.push_str(self.newline);
                out.push_str(&inner);
            }
            if let Some(key) = key {
                out.push_str(key);
                out.push_str(&self.colon);
            }
            let item = Piece {
                tree: item,
                text: value.text,
            };
            self.render(&item, &inner, out);
        }
        if !self.compact {
            out.push_str(self.newline);
            out.push_str(indent);
        }
        out.push(close);
    }
}

/// A value to write: its parsed tree and the text it was parsed from.
struct Piece<'t, 'a> {
    tree: &'t Node<'a>,
    text: &'a str,
}

impl Default for Layout {
    fn default() -> Layout {
        Layout {
            newline: "\n",
            unit: "  ".into(),
            colon: ": ".into(),
            multiline: true,
            compact: false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(k: &str) -> Step {
        Step::Key(k.into())
    }

    /// Appends then removes, checking the text in between and the round trip.
    fn round_trip(original: &str, expected: &str) {
        let mut doc = JsonText::parse(original.to_string()).unwrap();
        doc.append(&[], Some("added"), r#"{"list": [1, "two"]}"#)
            .unwrap();
        assert_eq!(doc.text(), expected);
        doc.remove(&[key("added")]).unwrap();
        assert_eq!(doc.text(), original);
    }

    #[test]
    fn appends_in_the_containers_layout_and_removes_exactly_that() {
        round_trip(
            "{\"a\":1e3,\"b\":\"\\u00e9\"}",
            "{\"a\":1e3,\"b\":\"\\u00e9\",\"added\":{\"list\":[1,\"two\"]}}",
        );
        round_trip(
            "{ \"a\": 1 }\n",
            "{ \"a\": 1, \"added\": {\"list\": [1, \"two\"]} }\n",
        );
        round_trip(
            "{\n    \"a\": 1\n}",
            "{\n    \"a\": 1,\n    \"added\": {\n        \"list\": [\n            1,\n            \"two\"\n        ]\n    }\n}",
        );
        round_trip(
            "{\r\n\t\"a\": 1\r\n}\r\n",
            "{\r\n\t\"a\": 1,\r\n\t\"added\": {\r\n\t\t\"list\": [\r\n\t\t\t1,\r\n\t\t\t\"two\"\r\n\t\t]\r\n\t}\r\n}\r\n",
        );
        round_trip(
            "{}",
            "{\n  \"added\": {\n    \"list\": [\n      1,\n      \"two\"\n    ]\n  }\n}",
        );
    }

    #[test]
    fn nested_containers_follow_their_own_line() {
        let original = "{\n  \"hooks\": {\n    \"Stop\": [{\"x\": 1}]\n  },\n  \"env\": {}\n}\n";
        let mut doc = JsonText::parse(original.to_string()).unwrap();
        doc.append(&[key("hooks"), key("Stop")], None, r#"{"y":2}"#)
            .unwrap();
        doc.append(&[key("env")], Some("K"), "\"1\"").unwrap();
        assert_eq!(
            doc.text(),
            "{\n  \"hooks\": {\n    \"Stop\": [{\"x\": 1}, {\"y\": 2}]\n  },\n  \"env\": {\n    \"K\": \"1\"\n  }\n}\n"
        );
        doc.remove(&[key("env"), key("K")]).unwrap();
        doc.remove(&[key("hooks"), key("Stop"), Step::Index(1)])
            .unwrap();
        assert_eq!(doc.text(), original);
    }

    #[test]
    fn replaces_a_value_in_place_and_removes_a_first_member() {
        let mut doc = JsonText::parse("{\"a\": \"old\", \"b\": 2e1}".into()).unwrap();
        doc.replace(&[key("a")], "\"new\"").unwrap();
        assert_eq!(doc.text(), "{\"a\": \"new\", \"b\": 2e1}");
        doc.remove(&[key("a")]).unwrap();
        assert_eq!(doc.text(), "{\"b\": 2e1}");
        assert!(doc.remove(&[key("missing")]).is_err());
        assert!(doc.append(&[key("b")], Some("x"), "1").is_err());
        assert!(doc.append(&[], None, "1").is_err());
    }

    #[test]
    fn writes_members_in_their_order_and_numbers_as_spelled() {
        let mut doc = JsonText::parse("{}".into()).unwrap();
        doc.append(&[], Some("k"), r#"{"z": 1e3, "a": "\u00e9"}"#)
            .unwrap();
        assert_eq!(
            doc.text(),
            "{\n  \"k\": {\n    \"z\": 1e3,\n    \"a\": \"\\u00e9\"\n  }\n}"
        );
    }

    #[test]
    fn refuses_what_claude_code_would_not_read() {
        for bad in ["{\"a\": 1,}", "{// c\n}", "", "{'a': 1}"] {
            assert!(JsonText::parse(bad.into()).is_err(), "{bad}");
        }
    }
}
