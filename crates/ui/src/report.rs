//! The report: per project and day, todos planned, started and completed, and
//! the time from start to finish (median, p90), as charts drawn on the
//! server in SVG (no script, no library) over a chosen period. The numbers
//! are the engine's `daily_report`, as `chittysync report` prints them
//! (docs/UI.md, "Report").

use crate::html::{self, esc};
use crate::picture::Picture;
use chittysync_core::Timestamp;
use chittysync_engine::{daily_report, DayRow};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::fmt::Write;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ReportQuery {
    pub project: String,
    /// The period: the last `7`, `30` or `90` days, or `all` (the default).
    pub days: String,
}

impl ReportQuery {
    fn since(&self, now: Timestamp) -> Option<Timestamp> {
        let days: i64 = self.days.parse().ok().filter(|d| *d > 0)?;
        // From midnight UTC, `days` days back counting today.
        let today = now.millis() - now.millis().rem_euclid(DAY_MS);
        Some(Timestamp(today - (days - 1) * DAY_MS))
    }
}

pub fn rows(picture: &Picture, query: &ReportQuery, now: Timestamp) -> Vec<DayRow> {
    let project = (!query.project.is_empty()).then_some(query.project.as_str());
    daily_report(&picture.todos.entries, query.since(now), project)
}

fn duration(ms: Option<i64>) -> String {
    let Some(ms) = ms else {
        return "—".into();
    };
    let s = ms / 1000;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m", s / 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d {}h", s / 86_400, s % 86_400 / 3600),
    }
}

/// Bars of planned, started and completed per day.
fn chart(project: &str, days: &[&DayRow]) -> String {
    let max = days
        .iter()
        .map(|d| d.planned.max(d.started).max(d.completed))
        .max()
        .unwrap_or(0)
        .max(1);
    let (w, h, pad) = (24.0_f64, 120.0_f64, 18.0_f64);
    // Never narrower than 25 days' worth: a few days stay bars, not walls.
    let width = (days.len().max(25) as f64 * w) + 8.0;
    let mut out = format!(
        r#"<svg class="chart" viewBox="0 0 {width} {vh}" role="img" aria-label="{label}"><title>{label}</title>"#,
        vh = h + pad,
        label = esc(&format!(
            "{project}: planned, started and completed per day, at most {max} a day"
        )),
    );
    for (i, d) in days.iter().enumerate() {
        let x0 = 4.0 + i as f64 * w;
        for (k, (n, class)) in [
            (d.planned, "planned"),
            (d.started, "started"),
            (d.completed, "completed"),
        ]
        .into_iter()
        .enumerate()
        {
            let bh = (n as f64 / max as f64) * h;
            let _ = write!(
                out,
                r#"<rect class="bar {class}" x="{x:.1}" y="{y:.1}" width="6" height="{bh:.1}"><title>{day}: {n} {class}</title></rect>"#,
                x = x0 + k as f64 * 7.0,
                y = h - bh,
                day = esc(&d.day),
            );
        }
        if days.len() <= 14 || i % (days.len() / 7).max(1) == 0 {
            let _ = write!(
                out,
                r#"<text x="{x:.1}" y="{y}" class="tick">{label}</text>"#,
                x = x0,
                y = h + 13.0,
                label = esc(d.day.get(5..).unwrap_or(&d.day)),
            );
        }
    }
    out.push_str("</svg>");
    out
}

pub fn render(picture: &Picture, query: &ReportQuery, now: Timestamp) -> String {
    let rows = rows(picture, query, now);
    let projects: Vec<&str> = picture.todos.projects().collect();
    let periods: Vec<String> = ["7", "30", "90"].iter().map(|s| s.to_string()).collect();
    let mut out = String::from("<h1>Report</h1>");
    let _ = write!(
        out,
        r#"<form class="filters" method="get" action="/report" role="search">{}{}<button type="submit">Show</button></form>"#,
        html::select(
            "project",
            "Project",
            "all projects",
            &projects,
            &query.project
        ),
        html::select("days", "Last days", "all time", &periods, &query.days),
    );
    let mut by_project: BTreeMap<&str, Vec<&DayRow>> = BTreeMap::new();
    for r in &rows {
        by_project.entry(&r.project).or_default().push(r);
    }
    if by_project.is_empty() {
        out.push_str(r#"<p class="empty">Nothing planned in this period.</p>"#);
    }
    out.push_str(r#"<p class="legend"><span class="key planned"></span> planned <span class="key started"></span> started <span class="key completed"></span> completed</p>"#);
    for (project, days) in by_project {
        let (planned, started, completed) = days.iter().fold((0, 0, 0), |a, d| {
            (a.0 + d.planned, a.1 + d.started, a.2 + d.completed)
        });
        let _ = write!(
            out,
            r#"<section class="report"><h2>{name}</h2><p class="summary">{planned} planned · {started} started · {completed} completed</p>{chart}<details><summary>Per day, with time to finish</summary><div class="scroll">{table}"#,
            name = esc(project),
            chart = chart(project, &days),
            table = html::table_start(
                "",
                "",
                &[
                    "Day",
                    "Planned",
                    "Started",
                    "Completed",
                    "Still open",
                    "Median to finish",
                    "p90",
                ],
            ),
        );
        for d in days {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                esc(&d.day),
                d.planned,
                d.started,
                d.completed,
                d.still_open,
                duration(d.median_ms),
                duration(d.p90_ms)
            );
        }
        out.push_str(html::TABLE_END);
        out.push_str("</div></details></section>");
    }
    out
}
