//! Building HTML safely: every piece of text that comes from the picture goes
//! through [`esc`] (or [`q`] for a URL's query value) before it meets markup,
//! so a todo titled `<script>` is shown as text (docs/UI.md, "Escaping").

use chittysync_core::{Status, Timestamp};
use std::fmt::Write;

/// Text made safe for an element's content or a quoted attribute value.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            // Control characters other than tab and newline draw nothing
            // useful and may confuse a reader of the source: shown escaped.
            c if c.is_control() && c != '\n' && c != '\t' => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
}

/// A value percent-encoded for a URL's query (then escaped for the attribute).
pub fn q(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

/// A query string from pairs, leaving out empty values; `""` when none remain.
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
        any = true;
    }
    if any {
        format!("?{}", s.finish())
    } else {
        String::new()
    }
}

/// `5m ago`, with the exact time in a tooltip and a machine-readable attribute.
pub fn time_ago(t: Option<Timestamp>, now: Timestamp) -> String {
    match t {
        Some(t) => format!(
            r#"<time datetime="{iso}" title="{iso}">{age}</time>"#,
            iso = esc(&t.to_rfc3339()),
            age = esc(&t.age(now)),
        ),
        None => "—".to_string(),
    }
}

/// The words a status is shown with.
pub fn status_label(status: Status) -> &'static str {
    match status {
        Status::Pending => "pending",
        Status::InProgress => "in progress",
        Status::Completed => "completed",
        Status::Deleted => "deleted",
    }
}

/// A status as a small coloured label.
pub fn status_badge(status: Status) -> String {
    format!(
        r#"<span class="status s-{}">{}</span>"#,
        status.as_str(),
        status_label(status)
    )
}

/// The first eight characters of an id, the whole id in a tooltip.
pub fn short(id: &str) -> String {
    let cut: String = id.chars().take(8).collect();
    if cut.len() == id.len() {
        esc(id)
    } else {
        format!(r#"<span title="{}">{}…</span>"#, esc(id), esc(&cut))
    }
}

/// Which view a page belongs to, for the navigation's current mark.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Board,
    Sessions,
    Conflicts,
    Todo,
    Report,
    Topics,
    SignIn,
}

const NAV: [(View, &str, &str); 5] = [
    (View::Board, "/board", "Board"),
    (View::Sessions, "/sessions", "Sessions"),
    (View::Conflicts, "/conflicts", "Conflicts"),
    (View::Report, "/report", "Report"),
    (View::Topics, "/topics", "Topics"),
];

/// A whole page: the layout around `main` (already safe HTML).
pub fn page(view: View, title: &str, main: &str) -> String {
    let mut nav = String::new();
    if view != View::SignIn {
        for (v, href, label) in NAV {
            let current = if v == view {
                r#" aria-current="page""#
            } else {
                ""
            };
            let _ = write!(nav, r#"<a href="{href}"{current}>{label}</a>"#);
        }
    }
    format!(
        r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>{title} · chittysync</title>
<link rel="stylesheet" href="/assets/app.css">
<script src="/assets/app.js" defer></script>
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header>
<a class="brand" href="/board">chittysync</a>
<nav aria-label="Views">{nav}</nav>
<p id="live" role="status" aria-live="polite" data-state="connecting">connecting…</p>
</header>
<main id="main" tabindex="-1">{main}</main>
</body>
</html>
"##,
        title = esc(title),
    )
}

/// A `<select>` of choices, the current one selected, the first meaning "any".
pub fn select<S: AsRef<str>>(
    name: &str,
    label: &str,
    any: &str,
    choices: &[S],
    current: &str,
) -> String {
    let mut out = format!(
        r#"<label>{label} <select name="{name}"><option value="">{any}</option>"#,
        label = esc(label),
        name = esc(name),
        any = esc(any),
    );
    for c in choices.iter().map(AsRef::as_ref) {
        let selected = if c == current { " selected" } else { "" };
        let _ = write!(
            out,
            r#"<option value="{v}"{selected}>{v}</option>"#,
            v = esc(c)
        );
    }
    out.push_str("</select></label>");
    out
}

/// The start of a table up to its body: `class` (may be empty), a caption
/// (may be empty) and the column headings. The caller writes the rows and
/// [`TABLE_END`].
pub fn table_start(class: &str, caption: &str, columns: &[&str]) -> String {
    let mut out = String::from("<table");
    if !class.is_empty() {
        let _ = write!(out, r#" class="{}""#, esc(class));
    }
    out.push('>');
    if !caption.is_empty() {
        let _ = write!(out, "<caption>{}</caption>", esc(caption));
    }
    out.push_str("<thead><tr>");
    for c in columns {
        let _ = write!(out, r#"<th scope="col">{}</th>"#, esc(c));
    }
    out.push_str("</tr></thead><tbody>");
    out
}

/// What ends a table [`table_start`] began.
pub const TABLE_END: &str = "</tbody></table>";

/// One page of a long list: which page is shown (from 1) of how many.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pager {
    pub page: usize,
    pub pages: usize,
    per_page: usize,
}

impl Pager {
    /// The page `asked` (from 1; anything else: the first, past the end:
    /// the last) of `total` rows, `per_page` a page.
    pub fn new(total: usize, per_page: usize, asked: &str) -> Pager {
        let pages = total.div_ceil(per_page).max(1);
        let page = asked.parse::<usize>().unwrap_or(1).clamp(1, pages);
        Pager {
            page,
            pages,
            per_page,
        }
    }

    /// The rows of this page.
    pub fn slice<'a, T>(&self, rows: &'a [T]) -> &'a [T] {
        let start = ((self.page - 1) * self.per_page).min(rows.len());
        &rows[start..(start + self.per_page).min(rows.len())]
    }

    /// The links to the pages before and after (`path` with `pairs` and
    /// `page`); empty when everything is one page.
    pub fn nav(&self, path: &str, pairs: &[(&str, &str)], prev: &str, next: &str) -> String {
        if self.pages <= 1 {
            return String::new();
        }
        let link = |n: usize| {
            let n = n.to_string();
            let mut all = pairs.to_vec();
            all.push(("page", &n));
            esc(&query(&all))
        };
        let mut out = format!(
            r#"<nav class="pages" aria-label="Pages">page {} of {} "#,
            self.page, self.pages
        );
        if self.page > 1 {
            let _ = write!(
                out,
                r#"<a href="{path}{}" rel="prev">{}</a> "#,
                link(self.page - 1),
                esc(prev)
            );
        }
        if self.page < self.pages {
            let _ = write!(
                out,
                r#"<a href="{path}{}" rel="next">{}</a>"#,
                link(self.page + 1),
                esc(next)
            );
        }
        out.push_str("</nav>");
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_text_is_shown_as_text() {
        assert_eq!(
            esc(r#"<script>alert("1")</script> & 'x'"#),
            "&lt;script&gt;alert(&quot;1&quot;)&lt;/script&gt; &amp; &#39;x&#39;"
        );
        assert_eq!(esc("a\u{1b}[31mb"), "a\\u{1b}[31mb");
    }

    #[test]
    fn query_values_are_percent_encoded_and_empty_ones_left_out() {
        assert_eq!(
            query(&[("project", "a&b c"), ("q", ""), ("agent", "<x>")]),
            "?project=a%26b+c&agent=%3Cx%3E"
        );
        assert_eq!(query(&[("q", "")]), "");
    }

    #[test]
    fn a_pager_clamps_the_page_and_links_its_neighbours() {
        let p = Pager::new(250, 100, "9");
        assert_eq!((p.page, p.pages), (3, 3));
        let rows: Vec<usize> = (0..250).collect();
        assert_eq!(p.slice(&rows), &rows[200..]);
        assert_eq!(Pager::new(250, 100, "x").page, 1);
        let nav =
            Pager::new(250, 100, "2").nav("/sessions", &[("agent", "a&b")], "← newer", "older →");
        assert!(
            nav.contains(r#"href="/sessions?agent=a%26b&amp;page=1" rel="prev">← newer</a>"#),
            "{nav}"
        );
        assert!(nav.contains("page 2 of 3"), "{nav}");
        assert_eq!(Pager::new(5, 100, "1").nav("/x", &[], "p", "n"), "");
        assert_eq!(
            table_start("t", "", &["A", "<B>"]),
            r#"<table class="t"><thead><tr><th scope="col">A</th><th scope="col">&lt;B&gt;</th></tr></thead><tbody>"#
        );
    }
}
