//! Loosely-typed JSON read into typed values without building a
//! [`serde_json::Value`] of it: strings borrowed from the input where they
//! have no escapes, the values a reader does not need parsed through and
//! dropped (docs/SOURCES.md, "Transcripts").
//!
//! Every type here reads the way a lookup in a `Value` does: a field of
//! another JSON type than the one wanted reads as absent, an object's repeated
//! key keeps its last value, and anything other than an object has no fields.
//! Each also reads from a `Value` (`from_value`), so a reader written over
//! these types serves both.
//!
//! Every value is read with `deserialize_any`, even the ones skipped: the
//! input is checked as fully as a parse into a `Value` checks it (string
//! escapes and surrogates, numbers out of range, nesting deeper than
//! serde_json's limit of 128), so a typed read succeeds exactly when a parse
//! into a `Value` would. (`serde::de::IgnoredAny` is not used for that reason:
//! serde_json skips it without those checks.)

use serde::de::value::{MapAccessDeserializer, SeqAccessDeserializer};
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Number, Value};
use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;

/// How a type reads each kind of JSON value. What a type does not take reads
/// as [`Shape::other`]; arrays and objects it does not take are parsed
/// through with [`Skip`].
pub(crate) trait Shape<'de>: Sized {
    /// Absent, or a value of a type this one does not take.
    fn other() -> Self;

    fn string(_: Cow<'de, str>) -> Self {
        Self::other()
    }

    /// Built as serde_json builds the number of a `Value`.
    fn number(_: Number) -> Self {
        Self::other()
    }

    fn boolean(_: bool) -> Self {
        Self::other()
    }

    fn null() -> Self {
        Self::other()
    }

    fn array<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        while seq.next_element::<Any<Skip>>()?.is_some() {}
        Ok(Self::other())
    }

    fn object<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        while map.next_key::<Any<Skip>>()?.is_some() {
            map.next_value::<Any<Skip>>()?;
        }
        Ok(Self::other())
    }
}

/// A [`Shape`] read from any JSON value.
pub(crate) struct Any<T>(pub(crate) T);

impl<'de, T: Shape<'de>> Deserialize<'de> for Any<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_any(ShapeVisitor(PhantomData))
            .map(Any)
    }
}

/// Reads `T` from the JSON text `line`; None where a parse into a `Value`
/// fails. The text's UTF-8 is checked once, whole, rather than string by
/// string: JSON outside its strings is ASCII, so a line that is not UTF-8
/// fails either way.
pub(crate) fn parse<'de, T: Shape<'de>>(line: &'de [u8]) -> Option<T> {
    let text = std::str::from_utf8(line).ok()?;
    serde_json::from_str::<Any<T>>(text).ok().map(|any| any.0)
}

/// The value of the entry whose key was just read, as `T`.
pub(crate) fn value<'de, T: Shape<'de>, A: MapAccess<'de>>(map: &mut A) -> Result<T, A::Error> {
    Ok(map.next_value::<Any<T>>()?.0)
}

struct ShapeVisitor<T>(PhantomData<T>);

impl<'de, T: Shape<'de>> Visitor<'de> for ShapeVisitor<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_borrowed_str<E: de::Error>(self, v: &'de str) -> Result<T, E> {
        Ok(T::string(Cow::Borrowed(v)))
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        Ok(T::string(Cow::Owned(v.to_string())))
    }

    fn visit_string<E: de::Error>(self, v: String) -> Result<T, E> {
        Ok(T::string(Cow::Owned(v)))
    }

    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        Ok(T::boolean(v))
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        Ok(T::number(v.into()))
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        Ok(T::number(v.into()))
    }

    /// A float that is not finite is null in a `Value` (serde_json never
    /// parses one, but its `Value` says so).
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        Ok(Number::from_f64(v).map_or_else(T::null, T::number))
    }

    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        Ok(T::null())
    }

    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        Ok(T::null())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<T, A::Error> {
        T::array(seq)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
        T::object(map)
    }
}

/// The same read from a parsed `Value` (the value of a key, None when absent):
/// a field of an object found with `Value::get`, so a value that is not an
/// object has none.
pub(crate) trait FromValue<'a> {
    fn from_value(value: Option<&'a Value>) -> Self;
}

/// A value parsed through and dropped.
pub(crate) struct Skip;

impl Shape<'_> for Skip {
    fn other() -> Self {
        Skip
    }
}

/// A string as written (borrowed where it has no escapes); None when absent
/// or not a string.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Text<'a>(pub(crate) Option<Cow<'a, str>>);

impl<'de> Shape<'de> for Text<'de> {
    fn other() -> Self {
        Text(None)
    }

    fn string(s: Cow<'de, str>) -> Self {
        Text(Some(s))
    }
}

impl<'a> FromValue<'a> for Text<'a> {
    fn from_value(value: Option<&'a Value>) -> Text<'a> {
        Text(value.and_then(Value::as_str).map(Cow::Borrowed))
    }
}

impl Text<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        self.0.as_deref()
    }

    /// The string if it has some non-whitespace text: whitespace-only text
    /// would normalize to an empty todo, so it counts as absent.
    pub(crate) fn non_blank(&self) -> Option<String> {
        self.as_str()
            .filter(|s| !s.trim().is_empty())
            .map(str::to_string)
    }
}

/// An id that Claude Code wrote as a string (`"3"`) or, in some versions and
/// hand-made files, as a number (`3`).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) enum Id<'a> {
    #[default]
    None,
    Str(Cow<'a, str>),
    Num(Number),
}

impl<'de> Shape<'de> for Id<'de> {
    fn other() -> Self {
        Id::None
    }

    fn string(s: Cow<'de, str>) -> Self {
        Id::Str(s)
    }

    fn number(n: Number) -> Self {
        Id::Num(n)
    }
}

impl<'a> FromValue<'a> for Id<'a> {
    fn from_value(value: Option<&'a Value>) -> Id<'a> {
        match value {
            Some(Value::String(s)) => Id::Str(Cow::Borrowed(s)),
            Some(Value::Number(n)) => Id::Num(n.clone()),
            _ => Id::None,
        }
    }
}

impl Id<'_> {
    /// The id as text: a string trimmed (None if blank), a number as JSON
    /// writes it.
    pub(crate) fn text(&self) -> Option<String> {
        match self {
            Id::Str(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
            Id::Num(n) => Some(n.to_string()),
            _ => None,
        }
    }
}

/// A value kept to be told in a message: a string borrowed, any other value
/// but null built whole (rare: a field that should be a string). Null and
/// absent are [`Kept::Absent`].
#[derive(Debug, Default, Clone, PartialEq)]
pub(crate) enum Kept<'a> {
    #[default]
    Absent,
    Str(Cow<'a, str>),
    Other(Value),
}

impl<'de> Shape<'de> for Kept<'de> {
    fn other() -> Self {
        Kept::Absent
    }

    fn string(s: Cow<'de, str>) -> Self {
        Kept::Str(s)
    }

    fn number(n: Number) -> Self {
        Kept::Other(Value::Number(n))
    }

    fn boolean(b: bool) -> Self {
        Kept::Other(Value::Bool(b))
    }

    fn array<A: SeqAccess<'de>>(seq: A) -> Result<Self, A::Error> {
        Value::deserialize(SeqAccessDeserializer::new(seq)).map(Kept::Other)
    }

    fn object<A: MapAccess<'de>>(map: A) -> Result<Self, A::Error> {
        Value::deserialize(MapAccessDeserializer::new(map)).map(Kept::Other)
    }
}

impl<'a> FromValue<'a> for Kept<'a> {
    fn from_value(value: Option<&'a Value>) -> Kept<'a> {
        match value {
            None | Some(Value::Null) => Kept::Absent,
            Some(Value::String(s)) => Kept::Str(Cow::Borrowed(s)),
            Some(other) => Kept::Other(other.clone()),
        }
    }
}

impl Kept<'_> {
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Kept::Str(s) => Some(s),
            _ => None,
        }
    }
}

/// As JSON (a string quoted and escaped), as a `Value` displays.
impl fmt::Display for Kept<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Kept::Absent => Value::Null.fmt(f),
            Kept::Str(s) => Value::String(s.to_string()).fmt(f),
            Kept::Other(value) => value.fmt(f),
        }
    }
}

/// `true` only where the value is the JSON `true`.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct IsTrue(pub(crate) bool);

impl FromValue<'_> for IsTrue {
    fn from_value(value: Option<&Value>) -> IsTrue {
        IsTrue(value == Some(&Value::Bool(true)))
    }
}

impl Shape<'_> for IsTrue {
    fn other() -> Self {
        IsTrue(false)
    }

    fn boolean(b: bool) -> Self {
        IsTrue(b)
    }
}

/// The elements of an array; None when absent or not an array.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct List<T>(pub(crate) Option<Vec<T>>);

impl<T> Default for List<T> {
    fn default() -> Self {
        List(None)
    }
}

impl<'de, T: Shape<'de>> Shape<'de> for List<T> {
    fn other() -> Self {
        List(None)
    }

    fn array<A: SeqAccess<'de>>(mut seq: A) -> Result<Self, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(Any(item)) = seq.next_element::<Any<T>>()? {
            items.push(item);
        }
        Ok(List(Some(items)))
    }
}

impl<'a, T: FromValue<'a>> FromValue<'a> for List<T> {
    fn from_value(value: Option<&'a Value>) -> List<T> {
        match value {
            Some(Value::Array(items)) => {
                List(Some(items.iter().map(|v| T::from_value(Some(v))).collect()))
            }
            _ => List(None),
        }
    }
}

impl<T> List<T> {
    /// The elements, none when it is not an array.
    pub(crate) fn items(&self) -> &[T] {
        self.0.as_deref().unwrap_or_default()
    }
}

/// An object read field by field. Anything other than an object reads as the
/// default (as `Value::get` finds nothing in it).
pub(crate) trait Fields<'de>: Default {
    /// Reads the value of `key` if the type takes it and says whether it did;
    /// a value not taken is skipped. A repeated key is read again, so the last
    /// one counts, as in a `Value`.
    fn field<A: MapAccess<'de>>(&mut self, key: &str, map: &mut A) -> Result<bool, A::Error>;
}

impl<'de, T: Fields<'de>> Shape<'de> for T {
    fn other() -> Self {
        T::default()
    }

    fn object<A: MapAccess<'de>>(mut map: A) -> Result<Self, A::Error> {
        let mut object = T::default();
        while let Some(Any(Text(key))) = map.next_key::<Any<Text<'de>>>()? {
            if !object.field(key.as_deref().unwrap_or_default(), &mut map)? {
                map.next_value::<Any<Skip>>()?;
            }
        }
        Ok(object)
    }
}

/// Implements [`Fields`] and [`FromValue`] for a struct of loose values, each
/// read from the value of its key: `fields!(Entry { "content" => content, … })`.
macro_rules! fields {
    ($type:ident { $($key:literal => $field:ident),+ $(,)? }) => {
        impl<'a> $crate::loose::FromValue<'a> for $type<'a> {
            fn from_value(value: Option<&'a serde_json::Value>) -> Self {
                let get = |key| value.and_then(|value| value.get(key));
                $type {
                    $($field: $crate::loose::FromValue::from_value(get($key)),)+
                }
            }
        }

        impl<'de> $crate::loose::Fields<'de> for $type<'de> {
            fn field<A: serde::de::MapAccess<'de>>(
                &mut self,
                key: &str,
                map: &mut A,
            ) -> Result<bool, A::Error> {
                match key {
                    $($key => self.$field = $crate::loose::value(map)?,)+
                    _ => return Ok(false),
                }
                Ok(true)
            }
        }
    };
}

pub(crate) use fields;

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Default, Debug, PartialEq)]
    struct Pair<'a> {
        name: Text<'a>,
        id: Id<'a>,
    }

    fields!(Pair {
        "name" => name,
        "id" => id,
    });

    fn pair(json: &str) -> Option<Pair<'_>> {
        parse(json.as_bytes())
    }

    #[test]
    fn reads_as_a_value_lookup_does() {
        let p = pair(r#"{"name":"a\"b","id":3,"x":[1,{"y":null}]}"#).unwrap();
        assert_eq!(p.name.as_str(), Some("a\"b"));
        assert_eq!(p.id.text().as_deref(), Some("3"));
        // Borrowed where there is no escape.
        let p = pair(r#"{"name":"ab","id":" 7 "}"#).unwrap();
        assert!(matches!(p.name.0, Some(Cow::Borrowed("ab"))));
        assert_eq!(p.id.text().as_deref(), Some("7"));
        // Wrong types read as absent; the last of a repeated key counts.
        let p = pair(r#"{"name":1,"id":"1","id":true}"#).unwrap();
        assert_eq!(p, Pair::default());
        // Not an object: nothing.
        assert_eq!(pair(r#"["ab",3]"#).unwrap(), Pair::default());
        assert_eq!(pair("1.5e3").unwrap(), Pair::default());
    }

    #[test]
    fn fails_where_a_value_fails() {
        let deep = format!("{}{}", "[".repeat(200), "]".repeat(200));
        for bad in [
            r#"{"x":1e999,"name":"a"}"#.to_string(),
            r#"{"x":"\ud800","name":"a"}"#.to_string(),
            format!(r#"{{"x":{deep},"name":"a"}}"#),
            r#"{"name":"a"} x"#.to_string(),
            r#"{"name":"a""#.to_string(),
        ] {
            assert!(serde_json::from_str::<Value>(&bad).is_err(), "{bad}");
            assert!(pair(&bad).is_none(), "{bad}");
        }
        let bytes = b"{\"x\":\"\xff\",\"name\":\"a\"}";
        assert!(serde_json::from_slice::<Value>(bytes).is_err());
        assert!(parse::<Pair<'_>>(bytes).is_none());
    }

    #[test]
    fn kept_values_display_as_json() {
        let kept = |json: &str| {
            let value: Value = serde_json::from_str(json).unwrap();
            let typed = parse::<Kept<'_>>(json.as_bytes()).unwrap();
            assert_eq!(typed, Kept::from_value(Some(&value)));
            typed.to_string()
        };
        assert_eq!(kept(r#""a\"b""#), r#""a\"b""#);
        assert_eq!(kept(r#"{"b":[1,2.5,-3]}"#), r#"{"b":[1,2.5,-3]}"#);
        assert_eq!(kept("null"), "null");
    }
}
