//! Topics: each topic's open work and the sessions on it, grouped by core's
//! `topics` exactly as `chittysync topics` and the hub group them
//! (docs/TOPICS.md; docs/UI.md, "Topics").

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
    let all = topics(rules, &picture.todos.entries);
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
        out.push_str("</p>");
        specialists(&mut out, picture, &t.project, &t.topic, now);
        out.push_str(r#"<ul class="topic-todos">"#);
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

/// The specialist agents chittysync started for a topic, oldest first, as
/// `chittysync topics` lists them (docs/TOPICS.md): when, the session each
/// became, and how it ended. Whether a running start's process is still
/// alive is the CLI's to check; the page says what the store recorded.
fn specialists(out: &mut String, picture: &Picture, project: &str, topic: &str, now: Timestamp) {
    let mut starts = picture
        .spawns
        .iter()
        .filter(|s| s.project == project && s.topic == topic)
        .peekable();
    if starts.peek().is_none() {
        return;
    }
    out.push_str(r#"<ul class="specialists">"#);
    for s in starts {
        let state = match (s.ended_at, s.failed()) {
            (None, _) => "started".to_string(),
            (Some(_), true) => format!("failed: {}", s.failure()),
            (Some(_), false) => "ended".to_string(),
        };
        let _ = write!(
            out,
            r#"<li><span class="badge b-specialist">specialist #{id}</span> {state}, started {ago}"#,
            id = s.id,
            state = esc(&state),
            ago = time_ago(Some(s.started_at), now),
        );
        if let Some(session) = &s.session {
            let _ = write!(
                out,
                r#", session <a href="/sessions{}">{}</a>"#,
                esc(&html::query(&[("session", session)])),
                short(session)
            );
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::picture::test_spawn;
    use chittysync_core::TodoEntry;
    use std::collections::HashMap;

    /// A topic lists the specialists started for it (docs/TOPICS.md), each
    /// with how it ended; another topic's are not listed.
    #[test]
    fn a_topic_lists_its_specialists() {
        let entry = |content: &str, project: &str| -> TodoEntry {
            serde_json::from_value(serde_json::json!({
                "id": format!("id-{content}"), "content": content, "status": "pending",
                "project": project, "sessions": ["s1"],
            }))
            .unwrap()
        };
        let mut picture = Picture::from_entries(
            1,
            vec![entry("Fix the router", "shop"), entry("Write docs", "blog")],
            HashMap::new(),
            Vec::new(),
        );
        let mut failed = test_spawn(8, "shop", "shop", None);
        failed.ended_at = Some(Timestamp(2_000));
        failed.exit_code = Some(3);
        picture.spawns = vec![
            test_spawn(7, "shop", "shop", Some("s-spawned")),
            failed,
            test_spawn(9, "blog", "elsewhere", None),
        ];
        let page = render(
            &picture,
            &TopicRules::default(),
            &TopicsQuery::default(),
            Timestamp(3_000),
        );
        assert!(page.contains("specialist #7</span> started"), "{page}");
        assert!(
            page.contains("session <a href=\"/sessions?session=s-spawned\">"),
            "{page}"
        );
        assert!(
            page.contains("specialist #8</span> failed: exit status 3"),
            "{page}"
        );
        assert!(!page.contains("specialist #9"), "{page}");
    }
}
