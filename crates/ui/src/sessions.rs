//! Sessions by device and agent: active, ended, stale, last activity, what is
//! in progress and how much is open; stale sessions stand out
//! (docs/UI.md, "Sessions"). States are the engine's (`views::session_views`).

use crate::html::{self, esc, short, time_ago};
use crate::picture::Picture;
use chittysync_core::{Status, Timestamp};
use chittysync_engine::views::{
    mark_spawned, session_matches, session_views_of, SessionState, SessionView,
};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fmt::Write;

/// Rows per page: 20,000 sessions are a page at a time.
const PAGE: usize = 100;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct SessionsQuery {
    pub device: String,
    pub agent: String,
    /// `active`, `ended` or `stale`.
    pub state: String,
    pub project: String,
    /// A session id or a prefix of it (four characters or more).
    pub session: String,
    /// From 1.
    pub page: String,
}

/// A session as the page and `/api/sessions` show it.
#[derive(Debug, Serialize)]
pub struct Row<'a> {
    #[serde(flatten)]
    pub view: SessionView,
    /// The contents of its todos in progress.
    pub doing: Vec<&'a str>,
}

/// Sessions the filters want, ordered: active first, then stale, then
/// ended; newest activity first within each.
pub fn rows<'a>(
    picture: &'a Picture,
    query: &SessionsQuery,
    now: Timestamp,
    stale_after_ms: i64,
) -> Vec<Row<'a>> {
    let mut doing: HashMap<&str, Vec<&'a str>> = HashMap::new();
    for e in picture
        .todos
        .entries
        .iter()
        .filter(|e| e.status == Status::InProgress)
    {
        for s in &e.sessions {
            doing
                .entry(s.as_str())
                .or_default()
                .push(e.active_form.as_deref().unwrap_or(&e.content));
        }
    }
    let todos = picture.todos.entries.iter();
    let mut views = session_views_of(
        todos.map(|e| (e.status, e.sessions.as_slice())),
        picture.sessions.clone(),
        now,
        stale_after_ms,
    );
    mark_spawned(&mut views, picture.spawns.clone());
    let mut rows: Vec<Row<'a>> = views
        .into_iter()
        .filter(|v| {
            let s = &v.session;
            (query.device.is_empty() || s.device == query.device)
                && (query.agent.is_empty() || v.agent == query.agent)
                && (query.state.is_empty() || state_word(v.state) == query.state)
                && (query.project.is_empty()
                    || s.project.as_deref().or(s.task_list.as_deref()) == Some(&query.project))
                && (query.session.is_empty() || session_matches(&query.session, &s.id))
        })
        .map(|view| Row {
            doing: doing.remove(view.session.id.as_str()).unwrap_or_default(),
            view,
        })
        .collect();
    let rank = |s: SessionState| match s {
        SessionState::Active => 0,
        SessionState::Stale => 1,
        SessionState::Ended => 2,
    };
    rows.sort_by(|a, b| {
        rank(a.view.state)
            .cmp(&rank(b.view.state))
            .then_with(|| b.view.session.last_seen.cmp(&a.view.session.last_seen))
            .then_with(|| a.view.session.id.cmp(&b.view.session.id))
    });
    rows
}

/// The mark of a session chittysync started for a topic (docs/TOPICS.md),
/// as `chittysync sessions` shows it: the topic and the start's number.
fn specialist_badge(view: &SessionView) -> String {
    match &view.spawned {
        Some(spawn) => format!(
            r#" <span class="badge b-specialist" title="started by chittysync for topic {topic} of {project}">specialist · {topic} #{id}</span>"#,
            topic = esc(&spawn.topic),
            project = esc(&spawn.project),
            id = spawn.id,
        ),
        None => String::new(),
    }
}

pub fn state_word(state: SessionState) -> &'static str {
    match state {
        SessionState::Active => "active",
        SessionState::Ended => "ended",
        SessionState::Stale => "stale",
    }
}

/// The sessions' `main`.
pub fn render(
    picture: &Picture,
    query: &SessionsQuery,
    now: Timestamp,
    stale_after_ms: i64,
) -> String {
    let rows = rows(picture, query, now, stale_after_ms);
    let mut out = String::from("<h1>Sessions</h1>");
    let agents: BTreeSet<String> = picture
        .sessions
        .iter()
        .map(|s| chittysync_core::agent::agent_of(&s.id).to_string())
        .collect();
    let _ = write!(
        out,
        r#"<form class="filters" method="get" action="/sessions" role="search">{}{}{}<label>Session <input type="search" name="session" value="{}" placeholder="id or prefix"></label><button type="submit">Filter</button> <a href="/sessions">Clear</a></form>"#,
        html::select(
            "device",
            "Device",
            "all devices",
            &picture.devices,
            &query.device
        ),
        html::select(
            "agent",
            "Agent",
            "all agents",
            &agents.into_iter().collect::<Vec<_>>(),
            &query.agent
        ),
        html::select(
            "state",
            "State",
            "any state",
            &["active", "stale", "ended"],
            &query.state
        ),
        esc(&query.session),
    );

    // By device and agent: how many sessions in each state.
    let mut groups: BTreeMap<(&str, &str), [usize; 3]> = BTreeMap::new();
    for r in &rows {
        let counts = groups
            .entry((r.view.session.device.as_str(), r.view.agent))
            .or_default();
        counts[match r.view.state {
            SessionState::Active => 0,
            SessionState::Stale => 1,
            SessionState::Ended => 2,
        }] += 1;
    }
    out.push_str(&html::table_start(
        "groups",
        "By device and agent",
        &["Device", "Agent", "Active", "Stale", "Ended"],
    ));
    for ((device, agent), [active, stale, ended]) in &groups {
        let _ = write!(
            out,
            r#"<tr><td><a href="/sessions{dq}">{d}</a></td><td>{a}</td><td>{active}</td><td class="{sc}">{stale}</td><td>{ended}</td></tr>"#,
            dq = esc(&html::query(&[("device", device), ("agent", agent)])),
            d = esc(device),
            a = esc(agent),
            sc = if *stale > 0 { "stale" } else { "" },
        );
    }
    out.push_str(html::TABLE_END);

    let pager = html::Pager::new(rows.len(), PAGE, &query.page);
    let _ = write!(
        out,
        r#"<p class="summary">{} sessions · page {} of {}</p>"#,
        rows.len(),
        pager.page,
        pager.pages
    );
    out.push_str(r#"<div class="scroll">"#);
    out.push_str(&html::table_start(
        "sessions",
        "",
        &[
            "Session",
            "State",
            "Device",
            "Agent",
            "Project",
            "Last activity",
            "Open",
            "In progress",
        ],
    ));
    for r in pager.slice(&rows) {
        let s = &r.view.session;
        let state = state_word(r.view.state);
        let project = s
            .project
            .as_deref()
            .or(s.task_list.as_deref())
            .unwrap_or("");
        let _ = write!(
            out,
            r#"<tr class="state-{state}"><td><a href="/board{bq}">{id}</a></td><td><span class="badge b-{state}">{state}</span>{specialist}</td><td>{device}</td><td>{agent}</td><td>{project}</td><td>{last}</td><td>{open}</td><td>"#,
            bq = esc(&html::query(&[("session", &s.id)])),
            id = short(&s.id),
            specialist = specialist_badge(&r.view),
            device = esc(&s.device),
            agent = esc(r.view.agent),
            project = esc(project),
            last = time_ago(s.last_seen.or(s.started_at), now),
            open = r.view.open_todos,
        );
        for (i, d) in r.doing.iter().enumerate() {
            if i > 0 {
                out.push_str("<br>");
            }
            out.push_str(&esc(d));
        }
        out.push_str("</td></tr>");
    }
    out.push_str(html::TABLE_END);
    out.push_str("</div>");
    out.push_str(&pager.nav(
        "/sessions",
        &[
            ("device", &query.device),
            ("agent", &query.agent),
            ("state", &query.state),
            ("project", &query.project),
            ("session", &query.session),
        ],
        "← newer",
        "older →",
    ));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chittysync_engine::SessionRecord;

    fn session(id: &str) -> SessionRecord {
        SessionRecord {
            id: id.to_string(),
            device: "laptop".to_string(),
            cwd: Some("/work/shop".to_string()),
            project: Some("shop".to_string()),
            git_branch: None,
            task_list: None,
            version: None,
            model: None,
            agents: Vec::new(),
            first_seen: Some(Timestamp(1_000)),
            last_seen: Some(Timestamp(2_000)),
            started_at: Some(Timestamp(1_000)),
            start_source: None,
            ended_at: None,
            end_reason: None,
        }
    }

    /// A session chittysync started for a topic is marked as `chittysync
    /// sessions` marks it (docs/TOPICS.md), with the topic escaped; the
    /// others are not.
    #[test]
    fn a_spawned_session_is_marked_with_its_topic() {
        let mut picture = Picture::from_entries(
            1,
            Vec::new(),
            HashMap::new(),
            vec![session("s-spawned"), session("s-plain")],
        );
        picture.spawns = vec![crate::picture::test_spawn(
            7,
            "shop",
            "<b>router</b>",
            Some("s-spawned"),
        )];
        let query = SessionsQuery::default();
        let rows = rows(&picture, &query, Timestamp(3_000), 60_000);
        let marked: Vec<&str> = rows
            .iter()
            .filter(|r| r.view.spawned.is_some())
            .map(|r| r.view.session.id.as_str())
            .collect();
        assert_eq!(marked, ["s-spawned"]);
        let page = render(&picture, &query, Timestamp(3_000), 60_000);
        assert_eq!(page.matches("b-specialist").count(), 1, "{page}");
        assert!(
            page.contains("specialist · &lt;b&gt;router&lt;/b&gt; #7"),
            "{page}"
        );
        assert!(!page.contains("<b>router"), "{page}");
    }
}
