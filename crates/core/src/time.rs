//! Timestamps as milliseconds since the Unix epoch.
//!
//! Every time in chittysync has millisecond precision (the wire format is RFC 3339
//! with milliseconds), so an integer is exact, cheap to compare and to store.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// A point in time, in milliseconds since 1970-01-01T00:00:00Z.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Timestamp(pub i64);

impl Timestamp {
    pub fn from_millis(ms: i64) -> Self {
        Timestamp(ms)
    }

    pub fn millis(self) -> i64 {
        self.0
    }

    /// The current wall-clock time.
    pub fn now() -> Self {
        Timestamp(Utc::now().timestamp_millis())
    }

    /// Parses RFC 3339 (`2026-01-01T00:00:00.000Z`, any offset, any fraction).
    pub fn parse_rfc3339(text: &str) -> Option<Self> {
        DateTime::parse_from_rfc3339(text.trim())
            .ok()
            .map(|t| Timestamp(t.timestamp_millis()))
    }

    /// How long before `now` this was, as people say it: "12s ago", "5m ago",
    /// "3h ago", "2d ago" (for tables, logs and the hooks' context).
    pub fn age(self, now: Timestamp) -> String {
        let secs = (now.0 - self.0).max(0) / 1000;
        match secs {
            0..=59 => format!("{secs}s ago"),
            60..=3599 => format!("{}m ago", secs / 60),
            3600..=86_399 => format!("{}h ago", secs / 3600),
            _ => format!("{}d ago", secs / 86_400),
        }
    }

    /// RFC 3339 in UTC with exactly three fraction digits, as on the wire.
    pub fn to_rfc3339(self) -> String {
        match Utc.timestamp_millis_opt(self.0).single() {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            None => "1970-01-01T00:00:00.000Z".to_string(),
        }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_rfc3339())
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.to_rfc3339())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Timestamp::parse_rfc3339(&text)
            .ok_or_else(|| serde::de::Error::custom(format!("`{text}` is not an RFC 3339 time")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_millis() {
        let t = Timestamp::parse_rfc3339("2026-01-02T03:04:05.678Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-01-02T03:04:05.678Z");
        let offset = Timestamp::parse_rfc3339("2026-01-02T04:04:05.678+01:00").unwrap();
        assert_eq!(offset, t);
        assert!(Timestamp::parse_rfc3339("yesterday").is_none());
    }

    #[test]
    fn ages_read_like_speech() {
        let now = Timestamp(10 * 86_400_000);
        assert_eq!(Timestamp(now.0 - 5_000).age(now), "5s ago");
        assert_eq!(Timestamp(now.0 - 300_000).age(now), "5m ago");
        assert_eq!(Timestamp(now.0 - 7_200_000).age(now), "2h ago");
        assert_eq!(Timestamp(0).age(now), "10d ago");
        assert_eq!(Timestamp(now.0 + 1).age(now), "0s ago");
    }
}
