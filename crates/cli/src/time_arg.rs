//! Reading a time given on the command line.

use anyhow::{bail, Result};
use chittysync_core::Timestamp;

/// RFC 3339 (`2026-11-20T10:00:00Z`), a date (`2026-11-20`, midnight UTC), or
/// an age (`2h`, `3d`, `90m`: that long ago).
pub fn parse_time(text: &str, now: Timestamp) -> Result<Timestamp> {
    let text = text.trim();
    if let Some(t) = Timestamp::parse_rfc3339(text) {
        return Ok(t);
    }
    if let Ok(date) = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        let midnight = date.and_hms_opt(0, 0, 0).expect("midnight exists");
        return Ok(Timestamp(midnight.and_utc().timestamp_millis()));
    }
    let age = text.strip_suffix(" ago").unwrap_or(text);
    if let Ok(d) = humantime::parse_duration(age) {
        return Ok(Timestamp(now.millis() - d.as_millis() as i64));
    }
    bail!("`{text}` is not a time: use RFC 3339 (2026-11-20T10:00:00Z), a date (2026-11-20) or an age (2h, 3d)")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_all_three_forms() {
        let now = Timestamp::parse_rfc3339("2026-11-25T12:00:00Z").unwrap();
        assert_eq!(
            parse_time("2026-11-25T10:00:00Z", now)
                .unwrap()
                .to_rfc3339(),
            "2026-11-25T10:00:00.000Z"
        );
        assert_eq!(
            parse_time("2026-11-20", now).unwrap().to_rfc3339(),
            "2026-11-20T00:00:00.000Z"
        );
        assert_eq!(
            parse_time("2h", now).unwrap().to_rfc3339(),
            "2026-11-25T10:00:00.000Z"
        );
        assert!(parse_time("last tuesday", now).is_err());
    }
}
