//! Conflicts with their sides (observer, session, status, time), the
//! resolution and its rule (docs/DESIGN.md, "Conflicts"; docs/UI.md, "Conflicts"), and one
//! todo's history as a timeline (docs/UI.md, "Todo").

use crate::html::{self, esc, short, status_badge, time_ago};
use crate::picture::Picture;
use chittysync_core::{Conflict, Timestamp};
use chittysync_engine::views::TodoHistory;
use serde::Deserialize;
use std::collections::BTreeSet;
use std::fmt::Write;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct ConflictsQuery {
    pub project: String,
    /// From 1.
    pub page: String,
}

/// Conflicts per page: at 20,000 sessions there are thousands.
const PAGE: usize = 100;

/// The conflicts a query wants, in output order.
pub fn list<'a>(picture: &'a Picture, query: &ConflictsQuery) -> Vec<&'a Conflict> {
    picture
        .todos
        .entries
        .iter()
        .filter(|e| query.project.is_empty() || e.project == query.project)
        .filter_map(|e| picture.todos.conflicts.get(&e.id))
        .collect()
}

pub fn render(picture: &Picture, query: &ConflictsQuery, now: Timestamp) -> String {
    let list = list(picture, query);
    let projects: BTreeSet<String> = picture
        .todos
        .conflicts
        .values()
        .map(|c| c.project.clone())
        .collect();
    let mut out = String::from("<h1>Conflicts</h1>");
    let _ = write!(
        out,
        r#"<form class="filters" method="get" action="/conflicts" role="search">{}<button type="submit">Filter</button></form>"#,
        html::select(
            "project",
            "Project",
            "all projects",
            &projects.into_iter().collect::<Vec<_>>(),
            &query.project
        )
    );
    let _ = write!(
        out,
        r#"<p class="summary">{} todos whose sessions disagree, each resolved and reported</p>"#,
        list.len()
    );
    let pager = html::Pager::new(list.len(), PAGE, &query.page);
    let nav = pager.nav(
        "/conflicts",
        &[("project", &query.project)],
        "← previous",
        "next →",
    );
    out.push_str(&nav);
    for c in pager.slice(&list) {
        let _ = write!(
            out,
            r#"<article class="conflict" id="c-{id}"><h2><a href="/todo/{id}">{content}</a></h2><p class="meta"><span class="project">{project}</span> resolved {res} by rule <code>{rule}</code></p><div class="scroll">{table}"#,
            id = esc(&c.id),
            content = esc(&c.content),
            project = esc(&c.project),
            res = status_badge(c.resolution),
            rule = esc(&c.rule),
            table = html::table_start("", "", &["Observer", "Session", "Status", "Observed"]),
        );
        for side in &c.sides {
            let _ = write!(
                out,
                r#"<tr><td>{obs}</td><td>{session}</td><td>{status}</td><td>{at}</td></tr>"#,
                obs = esc(&side.observer),
                session = side.session.as_deref().map(short).unwrap_or_default(),
                status = status_badge(side.status),
                at = time_ago(Some(side.observed_at), now),
            );
        }
        out.push_str(html::TABLE_END);
        out.push_str("</div></article>");
    }
    out.push_str(&nav);
    out
}

/// One todo's history: every observation, oldest first.
pub fn render_history(
    history: &TodoHistory,
    conflict: Option<&Conflict>,
    now: Timestamp,
) -> String {
    let t = &history.todo;
    let mut out = format!(
        r#"<h1 class="todo-title">{content}</h1><p class="meta">{status} <span class="project">{project}</span> <code>{id}</code> first seen {first} · updated {updated}</p>"#,
        content = esc(&t.content),
        status = status_badge(t.status),
        project = esc(&t.project),
        id = esc(&t.id),
        first = time_ago(t.first_seen, now),
        updated = time_ago(t.updated_at, now),
    );
    if let Some(c) = conflict {
        let _ = write!(
            out,
            r#"<p class="conflict-note"><a href="/conflicts{q}#c-{id}">⚠ its sessions disagree</a>: resolved {res} by <code>{rule}</code></p>"#,
            q = esc(&html::query(&[("project", &c.project)])),
            id = esc(&c.id),
            res = html::status_label(c.resolution),
            rule = esc(&c.rule),
        );
    }
    let _ = write!(
        out,
        r#"<h2>History <span class="count">{}</span></h2><ol class="timeline">"#,
        history.observations.len()
    );
    for step in &history.observations {
        let o = &step.observation;
        let _ = write!(
            out,
            r#"<li class="{cls}"><p>{at} {status} <span class="agent">{agent}</span> <span class="source">{source}</span> <span class="via">via {via}</span></p><p class="meta">observer <code>{observer}</code>{session} on <span class="device">{device}</span></p>"#,
            cls = if step.change { "change" } else { "same" },
            at = time_ago(Some(o.observed_at), now),
            status = status_badge(o.status),
            agent = esc(step.agent),
            source = esc(o.source.as_str()),
            via = esc(&step.via),
            observer = esc(&o.observer),
            session = o
                .session
                .as_deref()
                .map(|s| format!(
                    r#" · session <a href="/sessions{}">{}</a>"#,
                    esc(&html::query(&[("session", s)])),
                    short(s)
                ))
                .unwrap_or_default(),
            device = esc(&o.device),
        );
        if o.content != t.content {
            let _ = write!(out, r#"<p class="was">as “{}”</p>"#, esc(&o.content));
        }
        out.push_str("</li>");
    }
    out.push_str("</ol>");
    out
}
