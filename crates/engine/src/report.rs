//! The daily report: per project and day, what was planned, started and
//! finished, and how long todos took from start to finish.

use chittysync_core::{Status, Timestamp, TodoEntry};
use serde::Serialize;
use std::collections::BTreeMap;

/// One project's day.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DayRow {
    pub project: String,
    /// The UTC date, `YYYY-MM-DD`.
    pub day: String,
    /// Todos first seen that day.
    pub planned: u64,
    /// Todos first seen `in_progress` that day.
    pub started: u64,
    /// Todos completed that day.
    pub completed: u64,
    /// Of the todos planned that day, those still pending or in progress.
    pub still_open: u64,
    /// Median time from started to completed of the todos completed that day, in ms.
    pub median_ms: Option<i64>,
    /// 90th percentile of the same.
    pub p90_ms: Option<i64>,
}

fn day_of(t: Timestamp) -> String {
    t.to_rfc3339()[..10].to_string()
}

/// The nearest-rank percentile of sorted values.
fn percentile(sorted: &[i64], p: f64) -> Option<i64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Builds the report from folded todos (deleted ones are left out), for days
/// from `since` on and one project if given, sorted by project then day.
pub fn daily_report(
    entries: &[TodoEntry],
    since: Option<Timestamp>,
    project: Option<&str>,
) -> Vec<DayRow> {
    #[derive(Default)]
    struct Acc {
        row: DayRow,
        durations: Vec<i64>,
    }
    let mut days: BTreeMap<(String, String), Acc> = BTreeMap::new();
    let in_range = |t: Timestamp| since.is_none_or(|s| t >= s);
    for e in entries.iter().filter(|e| e.status != Status::Deleted) {
        if project.is_some_and(|p| p != e.project) {
            continue;
        }
        let key = |t: Timestamp| (e.project.clone(), day_of(t));
        if let Some(t) = e.first_seen.filter(|t| in_range(*t)) {
            let acc = days.entry(key(t)).or_default();
            acc.row.planned += 1;
            acc.row.still_open += u64::from(e.status.is_open());
        }
        if let Some(t) = e.started_at.filter(|t| in_range(*t)) {
            days.entry(key(t)).or_default().row.started += 1;
        }
        if let Some(done) = e.completed_at.filter(|t| in_range(*t)) {
            let acc = days.entry(key(done)).or_default();
            acc.row.completed += 1;
            if let Some(start) = e.started_at.filter(|s| *s <= done) {
                acc.durations.push(done.millis() - start.millis());
            }
        }
    }
    days.into_iter()
        .map(|((project, day), mut acc)| {
            acc.durations.sort_unstable();
            DayRow {
                project,
                day,
                median_ms: percentile(&acc.durations, 50.0),
                p90_ms: percentile(&acc.durations, 90.0),
                ..acc.row
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(
        status: Status,
        first: i64,
        started: Option<i64>,
        completed: Option<i64>,
    ) -> TodoEntry {
        TodoEntry {
            id: String::new(),
            content: format!("t{first}"),
            active_form: None,
            status,
            project: "p".into(),
            sessions: vec![],
            agents: vec![],
            first_seen: Some(Timestamp(first)),
            started_at: started.map(Timestamp),
            updated_at: None,
            completed_at: completed.map(Timestamp),
        }
    }

    #[test]
    fn counts_and_durations_per_day() {
        const DAY: i64 = 86_400_000;
        let entries = vec![
            entry(Status::Completed, 0, Some(1_000), Some(61_000)),
            entry(Status::Completed, 0, Some(0), Some(600_000)),
            entry(Status::Pending, 10, None, None),
            entry(Status::InProgress, DAY, Some(DAY + 5), None),
            entry(Status::Deleted, DAY, None, None),
        ];
        let rows = daily_report(&entries, None, None);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].day, "1970-01-01");
        assert_eq!(
            (
                rows[0].planned,
                rows[0].started,
                rows[0].completed,
                rows[0].still_open
            ),
            (3, 2, 2, 1)
        );
        assert_eq!(rows[0].median_ms, Some(60_000));
        assert_eq!(rows[0].p90_ms, Some(600_000));
        assert_eq!(
            (rows[1].planned, rows[1].started, rows[1].still_open),
            (1, 1, 1)
        );
        assert!(daily_report(&entries, Some(Timestamp(2 * DAY)), None).is_empty());
        assert!(daily_report(&entries, None, Some("other")).is_empty());
    }
}
