//! The session facts of one line: a few top-level string fields, read with a
//! parse that skips everything else without building it.

use chittysync_core::Timestamp;
use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::borrow::Cow;
use std::fmt;

/// The top-level fields of a transcript line that describe its session. A
/// field of another type than string (never written by Claude Code) reads as
/// absent instead of failing the whole line.
#[derive(Deserialize)]
pub(super) struct LineFacts<'a> {
    #[serde(borrow, default)]
    timestamp: LenientStr<'a>,
    #[serde(borrow, default)]
    cwd: LenientStr<'a>,
    #[serde(rename = "gitBranch", borrow, default)]
    git_branch: LenientStr<'a>,
    #[serde(borrow, default)]
    version: LenientStr<'a>,
    #[serde(rename = "sessionId", borrow, default)]
    session_id: LenientStr<'a>,
}

impl<'a> LineFacts<'a> {
    /// None if the line is not a JSON object.
    pub(super) fn parse(line: &'a [u8]) -> Option<LineFacts<'a>> {
        serde_json::from_slice(line).ok()
    }

    pub(super) fn timestamp(&self) -> Option<Timestamp> {
        self.timestamp
            .0
            .as_deref()
            .and_then(Timestamp::parse_rfc3339)
    }

    /// The values in the order of the scanner's `FACT_KEYS`.
    pub(super) fn values(&self) -> [Option<&str>; 5] {
        [
            &self.timestamp,
            &self.cwd,
            &self.git_branch,
            &self.version,
            &self.session_id,
        ]
        .map(|field| field.0.as_deref())
    }
}

/// A string borrowed from the line where it has no escapes; anything that is
/// not a string is skipped and reads as None.
#[derive(Default)]
struct LenientStr<'a>(Option<Cow<'a, str>>);

impl<'de: 'a, 'a> Deserialize<'de> for LenientStr<'a> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(LenientStrVisitor)
    }
}

struct LenientStrVisitor;

impl<'de> Visitor<'de> for LenientStrVisitor {
    type Value = LenientStr<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(LenientStr(Some(Cow::Borrowed(v))))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(LenientStr(Some(Cow::Owned(v.to_string()))))
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(LenientStr(None))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(LenientStr(None))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(LenientStr(None))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_top_level_strings_only() {
        let line = br#"{"type":"user","message":{"cwd":"/nested","timestamp":"2020-01-01T00:00:00Z"},"cwd":"/a\"b","gitBranch":"","version":2,"sessionId":null,"timestamp":"2026-01-02T03:04:05.678Z"}"#;
        let facts = LineFacts::parse(line).unwrap();
        assert_eq!(
            facts.values(),
            [
                Some("2026-01-02T03:04:05.678Z"),
                Some("/a\"b"),
                Some(""),
                None,
                None
            ]
        );
        assert_eq!(
            facts.timestamp(),
            Timestamp::parse_rfc3339("2026-01-02T03:04:05.678Z")
        );
        let snapshot =
            br#"{"type":"file-history-snapshot","snapshot":{"timestamp":"2026-01-01T00:00:00Z"}}"#;
        assert_eq!(LineFacts::parse(snapshot).unwrap().timestamp(), None);
        assert!(LineFacts::parse(b"{\"cwd\":").is_none());
    }
}
