//! JSON output through serde_json.
//!
//! Claude Code writes its files with `JSON.stringify` — keys in insertion order,
//! non-ASCII left as is, control characters escaped, pretty files indented by
//! two spaces — and serde_json writes the same bytes: structs serialize their
//! fields in declaration order, and its pretty printer indents by two spaces.
//! Transcript lines are small templates around serde_json-written values,
//! assembled in one byte buffer per line (the fast path for a gigabyte of lines).

use serde::Serialize;

/// Appends `value` as compact JSON (a `&str` as a quoted, escaped string).
pub fn value_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, value: &T) {
    serde_json::to_writer(out, value).expect("serializing into memory cannot fail");
}

/// Appends `"key":` followed by `value` as compact JSON.
pub fn kv_into<T: Serialize + ?Sized>(out: &mut Vec<u8>, key: &str, value: &T) {
    value_into(out, key);
    out.push(b':');
    value_into(out, value);
}

/// Appends `s` as an opened JSON string: the quote and the escaped text, so
/// that the caller can add text already escaped before closing it with `"`.
pub fn open_str_into(out: &mut Vec<u8>, s: &str) {
    value_into(out, s);
    out.pop();
}

/// `s` escaped as the inside of a JSON string (no quotes).
pub fn escaped(s: &str) -> String {
    let quoted = serde_json::to_string(s).expect("serializing a string cannot fail");
    quoted[1..quoted.len() - 1].to_string()
}

/// `value` as compact JSON.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).expect("serializing into memory cannot fail")
}

/// `value` as `JSON.stringify(value, null, 2)` writes it.
pub fn to_pretty<T: Serialize + ?Sized>(value: &T) -> String {
    serde_json::to_string_pretty(value).expect("serializing into memory cannot fail")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_json_stringify() {
        // What `JSON.stringify` gives for the same string.
        let s = "a\"b\\c\nd\te\u{1}\u{7f}é→/";
        assert_eq!(escaped(s), "a\\\"b\\\\c\\nd\\te\\u0001\u{7f}é→/");
        let mut out = Vec::new();
        open_str_into(&mut out, s);
        out.extend_from_slice(b"\\n\"");
        assert_eq!(
            String::from_utf8(out).unwrap(),
            format!("\"{}\\n\"", escaped(s))
        );
        let mut out = Vec::new();
        kv_into(&mut out, "k", "v");
        assert_eq!(out, b"\"k\":\"v\"");
    }

    #[test]
    fn pretty_like_json_stringify() {
        #[derive(Serialize)]
        struct T {
            a: &'static str,
            b: &'static [u32],
        }
        let v = [T { a: "x", b: &[] }];
        assert_eq!(
            to_pretty(&v),
            "[\n  {\n    \"a\": \"x\",\n    \"b\": []\n  }\n]"
        );
    }
}
