//! Topics: each topic's open work and the sessions on it, grouped by core's
//! `topics` exactly as `chittysync topics` and the hub group them
//! (SPEC §13; docs/UI.md, "Topics").

use crate::html::{self, esc, short, status_badge, time_ago};
use crate::picture::Picture;
use chittysync_core::topic::{topics, TopicRules};
use chittysync_core::Timestamp;
use serde::Deserialize;
use std::fmt::Write;

#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct TopicsQuery {
    pub project: String,
}

pub fn render(
    picture: &Picture,
    rules: &TopicRules,
    query: &TopicsQuery,
    now: Timestamp,
) -> String {
    let all = topics(rules, &picture.entries);
    let mut projects: Vec<String> = all.iter().map(|t| t.project.clone()).collect();
    projects.dedup();
    let mut out = String::from("<h1>Topics</h1>");
    let _ = write!(
        out,
        r#"<form class="filters" method="get" action="/topics" role="search">{}<button type="submit">Filter</button></form>"#,
        html::select(
            "project",
            "Project",
            "all projects",
            &projects,
            &query.project
        )
    );
    if rules.is_empty() {
        out.push_str(r#"<p class="note">No <code>[[topics.rules]]</code> in the config: each project is one topic.</p>"#);
    }
    for t in all
        .iter()
        .filter(|t| query.project.is_empty() || t.project == query.project)
        .filter(|t| t.open().next().is_some())
    {
        let _ = write!(
            out,
            r#"<section class="topic"><h2>{topic} <span class="project">{project}</span></h2><p class="meta">{open} open · {done} completed · last activity {last} · sessions: "#,
            topic = esc(&t.topic),
            project = esc(&t.project),
            open = t.pending.len() + t.in_progress.len(),
            done = t.completed,
            last = time_ago(t.last_activity, now),
        );
        for s in &t.sessions {
            let _ = write!(
                out,
                r#"<a href="/sessions{}">{}</a> "#,
                esc(&html::query(&[("session", s)])),
                short(s)
            );
        }
        out.push_str(r#"</p><ul class="topic-todos">"#);
        for todo in t.open() {
            let _ = write!(
                out,
                r#"<li>{} <a href="/todo/{}">{}</a></li>"#,
                status_badge(todo.status),
                esc(&todo.id),
                esc(&todo.content)
            );
        }
        out.push_str("</ul></section>");
    }
    out
}
