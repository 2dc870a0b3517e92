//! The board: per project, the todos in columns pending / in progress /
//! completed (and deleted when asked), filtered on the server by project,
//! agent, device and text (docs/UI.md, "Board").

use crate::html::{self, esc, short, time_ago};
use crate::picture::{Picture, COLUMNS};
use chittysync_core::{Conflict, Status, Timestamp, TodoEntry};
use chittysync_engine::views::{StatusSet, TodoFilter};
use serde::{Deserialize, Serialize};
use std::fmt::Write;

/// Cards shown per column unless `limit` says otherwise: a busy project's
/// board stays quick to draw; the rest is one click (or a filter) away.
const DEFAULT_LIMIT: usize = 60;

/// The board's filters, as the URL carries them.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(default)]
pub struct BoardQuery {
    pub project: String,
    pub agent: String,
    pub device: String,
    /// A session id or a prefix of it (four characters or more).
    pub session: String,
    /// Text contained in the content or the active form (any case), or an id prefix.
    pub q: String,
    /// `1`: show deleted todos too, in a column of their own.
    pub deleted: String,
    /// Cards per column: a number, or `all`.
    pub limit: String,
}

impl BoardQuery {
    fn show_deleted(&self) -> bool {
        !self.deleted.is_empty() && self.deleted != "0"
    }

    fn limit(&self) -> usize {
        match self.limit.as_str() {
            "all" => usize::MAX,
            n => n.parse().unwrap_or(DEFAULT_LIMIT),
        }
    }

    fn pairs(&self) -> Vec<(&'static str, &str)> {
        vec![
            ("project", &self.project),
            ("agent", &self.agent),
            ("device", &self.device),
            ("session", &self.session),
            ("q", &self.q),
            ("deleted", if self.show_deleted() { "1" } else { "" }),
        ]
    }
}

/// One card: a todo and what the board says about it.
#[derive(Debug, Serialize)]
pub struct Card<'a> {
    #[serde(flatten)]
    pub entry: &'a TodoEntry,
    pub devices: Vec<&'a str>,
    /// Its sessions disagree (docs/DESIGN.md, "Conflicts"): the conflict, resolved.
    pub conflict: Option<&'a Conflict>,
}

/// One column: the cards shown and how many match in all.
#[derive(Debug, Serialize)]
pub struct Column<'a> {
    pub status: Status,
    pub total: usize,
    pub cards: Vec<Card<'a>>,
}

/// One project's board.
#[derive(Debug, Serialize)]
pub struct ProjectBoard<'a> {
    pub project: &'a str,
    pub columns: Vec<Column<'a>>,
}

/// The whole board as `/api/board` gives it.
#[derive(Debug, Serialize)]
pub struct Board<'a> {
    pub generation: u64,
    pub todos: usize,
    pub conflicts: usize,
    pub projects: Vec<ProjectBoard<'a>>,
}

fn non_empty(s: &str) -> Option<String> {
    (!s.is_empty()).then(|| s.to_string())
}

/// The todos the filters want, laid out per project and column. Without a
/// filter but the project, a column's first cards are taken from the
/// picture's columns as they are; a filter looks at each todo of the
/// columns shown.
pub fn board<'a>(picture: &'a Picture, query: &BoardQuery) -> Board<'a> {
    let todos = &picture.todos;
    let session = query.session.trim();
    let text = query.q.trim().to_lowercase();
    let filtered = !query.agent.is_empty()
        || !session.is_empty()
        || !query.device.is_empty()
        || !text.is_empty();
    let limit = query.limit();
    let mut shown = 0;
    let mut conflicts = 0;
    let mut projects = Vec::new();
    for (project, cols) in &todos.columns {
        if !query.project.is_empty() && *project != query.project {
            continue;
        }
        let mut columns = Vec::new();
        for (col, status) in cols.iter().zip(COLUMNS) {
            if status == Status::Deleted && !query.show_deleted() {
                continue;
            }
            // Agent and session are the engine's filter, as `todos` applies it.
            let wanted = TodoFilter {
                project: None,
                agent: non_empty(&query.agent),
                session: non_empty(session),
                status: Some(StatusSet::One(status)),
            };
            let card = |entry: &'a TodoEntry, devices: Vec<&'a str>| Card {
                conflict: todos.conflicts.get(&entry.id),
                entry,
                devices,
            };
            let mut column = Column {
                status,
                total: 0,
                cards: Vec::new(),
            };
            let entries = col.order.iter().map(|&i| &todos.entries[i as usize]);
            if !filtered {
                column.total = col.order.len();
                conflicts += col.conflicts;
                column.cards = entries
                    .take(limit)
                    .map(|e| card(e, picture.devices_of(e)))
                    .collect();
            } else {
                for entry in entries {
                    if !wanted.wants(entry) || !matches_text(entry, &text) {
                        continue;
                    }
                    let devices = picture.devices_of(entry);
                    if !query.device.is_empty() && !devices.contains(&query.device.as_str()) {
                        continue;
                    }
                    column.total += 1;
                    let card = card(entry, devices);
                    conflicts += usize::from(card.conflict.is_some());
                    if column.cards.len() < limit {
                        column.cards.push(card);
                    }
                }
            }
            shown += column.total;
            columns.push(column);
        }
        // A project is on the board when any of its todos passes the filters.
        if columns.iter().any(|c| c.total > 0) {
            projects.push(ProjectBoard { project, columns });
        }
    }
    Board {
        generation: picture.generation,
        todos: shown,
        conflicts,
        projects,
    }
}

/// Whether a todo's content or active form contains `text` (lowercase; any
/// case), or its id starts with it; an empty `text` matches every todo.
fn matches_text(entry: &TodoEntry, text: &str) -> bool {
    text.is_empty()
        || entry.content.to_lowercase().contains(text)
        || entry
            .active_form
            .as_deref()
            .is_some_and(|a| a.to_lowercase().contains(text))
        || entry.id.starts_with(text)
}

/// The filter form: every project, agent and device the picture knows.
fn filters(picture: &Picture, query: &BoardQuery) -> String {
    let projects: Vec<&str> = picture.todos.projects().collect();
    format!(
        r#"<form class="filters" method="get" action="/board" role="search">
{project}{agent}{device}
<label>Text <input type="search" name="q" value="{q}" placeholder="words or id"></label>{session}
<label class="check"><input type="checkbox" name="deleted" value="1"{deleted}> deleted</label>
<button type="submit">Filter</button> <a href="/board">Clear</a>
</form>"#,
        project = html::select(
            "project",
            "Project",
            "all projects",
            &projects,
            &query.project
        ),
        agent = html::select(
            "agent",
            "Agent",
            "all agents",
            &picture.todos.agents,
            &query.agent
        ),
        device = html::select(
            "device",
            "Device",
            "all devices",
            &picture.devices,
            &query.device
        ),
        q = esc(&query.q),
        session = if query.session.is_empty() {
            String::new()
        } else {
            format!(
                r#"<label>Session <input type="search" name="session" value="{}"></label>"#,
                esc(&query.session)
            )
        },
        deleted = if query.show_deleted() { " checked" } else { "" },
    )
}

fn card_html(out: &mut String, card: &Card<'_>, now: Timestamp) {
    let e = card.entry;
    let conflict_class = if card.conflict.is_some() {
        " has-conflict"
    } else {
        ""
    };
    let _ = write!(
        out,
        r#"<li class="card{conflict_class}" data-id="{id}"><a class="title" href="/todo/{id}">{content}</a>"#,
        id = esc(&e.id),
        content = esc(&e.content),
    );
    if e.status == Status::InProgress {
        if let Some(active) = e.active_form.as_deref().filter(|a| *a != e.content) {
            let _ = write!(out, r#"<p class="active-form">{}</p>"#, esc(active));
        }
    }
    out.push_str(r#"<p class="meta">"#);
    if let Some(c) = card.conflict {
        let _ = write!(
            out,
            r#"<a class="conflict-mark" href="/conflicts{q}#c-{id}" title="its sessions disagree: {sides} sides, resolved {res} by {rule}">⚠ conflict</a> "#,
            q = esc(&html::query(&[("project", &e.project)])),
            id = esc(&e.id),
            sides = c.sides.len(),
            res = html::status_label(c.resolution),
            rule = esc(&c.rule),
        );
    }
    for agent in &e.agents {
        let _ = write!(out, r#"<span class="agent">{}</span> "#, esc(agent));
    }
    for device in &card.devices {
        let _ = write!(out, r#"<span class="device">{}</span> "#, esc(device));
    }
    let _ = write!(
        out,
        r#"<span class="age">{}</span>"#,
        time_ago(e.updated_at, now)
    );
    out.push_str("</p>");
    if !e.sessions.is_empty() {
        out.push_str(r#"<p class="sessions">"#);
        for (i, s) in e.sessions.iter().enumerate() {
            if i == 3 {
                let _ = write!(out, "+{} more", e.sessions.len() - 3);
                break;
            }
            let _ = write!(
                out,
                r#"<a href="/sessions{}">{}</a> "#,
                esc(&html::query(&[("session", s)])),
                short(s)
            );
        }
        out.push_str("</p>");
    }
    out.push_str("</li>");
}

/// The board's `main`.
pub fn render(picture: &Picture, query: &BoardQuery, now: Timestamp) -> String {
    let b = board(picture, query);
    let mut out = String::from("<h1>Board</h1>");
    out.push_str(&filters(picture, query));
    let _ = write!(
        out,
        r#"<p class="summary" id="board-summary">{} todos in {} projects · {} with conflicts</p>"#,
        b.todos,
        b.projects.len(),
        b.conflicts
    );
    if b.projects.is_empty() {
        out.push_str(r#"<p class="empty">No todo matches.</p>"#);
    }
    for p in &b.projects {
        let _ = write!(
            out,
            r#"<section class="project" aria-labelledby="p-{pid}"><h2 id="p-{pid}"><a href="/board{href}">{name}</a></h2><div class="columns">"#,
            pid = esc(&p.project.replace(|c: char| !c.is_alphanumeric(), "-")),
            href = esc(&html::query(&[("project", p.project)])),
            name = esc(p.project),
        );
        for col in &p.columns {
            let _ = write!(
                out,
                r#"<div class="column col-{s}"><h3>{label} <span class="count">{n}</span></h3><ol class="cards">"#,
                s = col.status.as_str(),
                label = html::status_label(col.status),
                n = col.total,
            );
            for card in &col.cards {
                card_html(&mut out, card, now);
            }
            out.push_str("</ol>");
            if col.total > col.cards.len() {
                let mut pairs = query.pairs();
                pairs[0] = ("project", p.project);
                pairs.push(("limit", "all"));
                let _ = write!(
                    out,
                    r#"<p class="more"><a href="/board{}">{} more…</a></p>"#,
                    esc(&html::query(&pairs)),
                    col.total - col.cards.len()
                );
            }
            out.push_str("</div>");
        }
        out.push_str("</div></section>");
    }
    out
}
