//! Hand-written JSON output.
//!
//! Claude Code writes its files with `JSON.stringify` — keys in insertion order,
//! non-ASCII left as is, pretty files indented by two spaces — and the corpus
//! must look the same, so it writes JSON by hand rather than through a map type
//! that would sort the keys. This is also the fast path for a gigabyte of lines.

/// Appends `s` escaped as the inside of a JSON string (as `JSON.stringify` does).
pub fn escape_into(out: &mut String, s: &str) {
    let bytes = s.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let rep: &str = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0x00..=0x1f => "",
            _ => continue,
        };
        out.push_str(&s[start..i]);
        if rep.is_empty() {
            out.push_str(&format!("\\u{b:04x}"));
        } else {
            out.push_str(rep);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// Appends `s` as a quoted JSON string.
pub fn str_into(out: &mut String, s: &str) {
    out.push('"');
    escape_into(out, s);
    out.push('"');
}

/// `s` escaped (no quotes).
pub fn escaped(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 8);
    escape_into(&mut out, s);
    out
}

/// Appends `"key":` followed by the quoted string value.
pub fn kv_str(out: &mut String, key: &str, value: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\":");
    str_into(out, value);
}

/// Appends `"key": ` (with the space `JSON.stringify` puts in indented output)
/// followed by the quoted string value.
pub fn kv_pretty(out: &mut String, key: &str, value: &str) {
    out.push('"');
    out.push_str(key);
    out.push_str("\": ");
    str_into(out, value);
}

/// Milliseconds since the epoch as RFC 3339 UTC with milliseconds, like
/// JavaScript's `Date.prototype.toISOString` (`2026-11-03T09:12:44.123Z`).
pub fn iso_millis(ms: i64) -> String {
    let mut s = String::with_capacity(24);
    iso_millis_into(&mut s, ms);
    s
}

pub fn iso_millis_into(out: &mut String, ms: i64) {
    let secs = ms.div_euclid(1000);
    let milli = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    use std::fmt::Write;
    let _ = write!(
        out,
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{milli:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    );
}

/// Parses the output of [`iso_millis`] (and any `YYYY-MM-DDTHH:MM:SS[.fff]Z`).
pub fn parse_iso_millis(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || b[10] != b'T' || !s.ends_with('Z') {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> { s.get(r)?.parse().ok() };
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, se) = (num(11..13)?, num(14..16)?, num(17..19)?);
    let frac = if b.get(19) == Some(&b'.') {
        let digits = &s[20..s.len() - 1];
        let mut ms: i64 = 0;
        for (i, c) in digits.chars().take(3).enumerate() {
            ms += c.to_digit(10)? as i64 * [100, 10, 1][i];
        }
        ms
    } else {
        0
    };
    let days = days_from_civil(y, mo as u32, d as u32);
    Some(((days * 86_400 + h * 3600 + mi * 60 + se) * 1000) + frac)
}

// Howard Hinnant's algorithms.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = m as i64;
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_json_stringify() {
        let s = "a\"b\\c\nd\te\u{1}é→";
        let ours = escaped(s);
        let theirs = serde_json::to_string(s).unwrap();
        assert_eq!(format!("\"{ours}\""), theirs);
    }

    #[test]
    fn iso_round_trip() {
        let ms = 1_793_000_000_123;
        let s = iso_millis(ms);
        assert_eq!(s, "2026-10-26T07:33:20.123Z");
        assert_eq!(parse_iso_millis(&s), Some(ms));
        assert_eq!(iso_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            parse_iso_millis("2026-11-03T09:12:44Z"),
            Some(days_from_civil(2026, 11, 3) * 86_400_000 + (9 * 3600 + 12 * 60 + 44) * 1000)
        );
    }
}
