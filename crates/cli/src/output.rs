//! Printing: aligned tables, colour only on a terminal, errors to stderr.

use crate::cli::ColorChoice;
use anstyle::{AnsiColor, Style};
use chittysync_core::{Status, Timestamp};
use std::borrow::Cow;
use std::io::Write;
use unicode_width::UnicodeWidthStr;

pub fn init_color(choice: ColorChoice) {
    let choice = match choice {
        ColorChoice::Auto => anstream::ColorChoice::Auto,
        ColorChoice::Always => anstream::ColorChoice::Always,
        ColorChoice::Never => anstream::ColorChoice::Never,
    };
    choice.write_global();
}

pub const BOLD: Style = Style::new().bold();
pub const DIM: Style = Style::new().dimmed();
const RED: Style = AnsiColor::Red.on_default().bold();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const GREEN: Style = AnsiColor::Green.on_default();
const CYAN: Style = AnsiColor::Cyan.on_default();

/// Prints an error and its causes: `error: what failed` then `  caused by: why`.
pub fn print_error(err: &anyhow::Error) {
    let mut stderr = anstream::stderr().lock();
    let _ = writeln!(stderr, "{RED}error{RED:#}: {err}");
    for cause in err.chain().skip(1) {
        let _ = writeln!(stderr, "  caused by: {cause}");
    }
}

pub fn print_warning(text: &str) {
    let _ = writeln!(
        anstream::stderr().lock(),
        "{YELLOW}warning{YELLOW:#}: {text}"
    );
}

/// Prints a value as pretty JSON on stdout.
pub fn print_json(value: &impl serde::Serialize) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, value)?;
    writeln!(out)?;
    Ok(())
}

pub fn status_style(status: Status) -> Style {
    match status {
        Status::Completed => GREEN,
        Status::InProgress => CYAN,
        Status::Pending => Style::new(),
        Status::Deleted => DIM,
    }
}

/// "5m ago", or "-" when the time is unknown.
pub fn age(t: Option<Timestamp>, now: Timestamp) -> String {
    t.map_or_else(|| "-".to_string(), |t| t.age(now))
}

pub use chittysync_core::short_id;

/// Text from users and their files (todo content, project, session, cwd) as
/// it is safe to print on a terminal: every control character — C0 (`\r`,
/// `\n`, `\t`, ESC…), DEL and C1 — is written as its Rust escape (`\r`, `\n`,
/// `\t`, `\u{1b}`, `\u{7f}`), so text can neither break a table's rows nor
/// send the terminal an escape code. Colours are added after, by us; anstream
/// drops them (ours only, then) when stdout is not a terminal. `--json`
/// prints text as it is.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut shown = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() {
            shown.extend(c.escape_debug());
        } else {
            shown.push(c);
        }
    }
    Cow::Owned(shown)
}

/// A table whose columns are padded to the widest cell; the last column is
/// not. Cells are shown [`visible`]: one row is one line, whatever they hold.
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<(String, Style)>>,
}

impl Table {
    pub fn new(headers: Vec<&'static str>) -> Table {
        Table {
            headers,
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, cells: Vec<(String, Style)>) {
        let cells = cells
            .into_iter()
            .map(|(text, style)| match visible(&text) {
                Cow::Borrowed(_) => (text, style),
                Cow::Owned(shown) => (shown, style),
            })
            .collect();
        self.rows.push(cells);
    }

    /// Prints the table. On a terminal, the last column (a todo's content,
    /// a command) is cut with `…` where a row would pass the terminal's
    /// width, as `gh` and `docker ps` do, unless that leaves it fewer than
    /// [`MIN_LAST_COLUMN`] columns; piped, every cell is whole.
    pub fn print(&self) {
        let mut widths: Vec<usize> = self.headers.iter().map(|h| h.width()).collect();
        for row in &self.rows {
            for (i, (text, _)) in row.iter().enumerate() {
                if let Some(w) = widths.get_mut(i) {
                    *w = (*w).max(text.width());
                }
            }
        }
        let mut out = anstream::stdout().lock();
        let last = self.headers.len().saturating_sub(1);
        let room = terminal_columns()
            .map(|columns| {
                let before: usize = widths[..last].iter().map(|w| w + 2).sum();
                columns.saturating_sub(before)
            })
            .filter(|room| *room >= MIN_LAST_COLUMN);
        let header: Vec<(String, Style)> =
            self.headers.iter().map(|h| (h.to_string(), BOLD)).collect();
        for row in std::iter::once(&header).chain(self.rows.iter()) {
            let mut line = String::new();
            for (i, (text, style)) in row.iter().enumerate() {
                let text = match room {
                    Some(room) if i == last => cut_to_width(text, room),
                    _ => Cow::Borrowed(text.as_str()),
                };
                line.push_str(&format!("{style}{text}{style:#}"));
                if i < last {
                    line.push_str(&" ".repeat(widths[i] - text.width() + 2));
                }
            }
            let _ = writeln!(out, "{}", line.trim_end());
        }
    }
}

/// The fewest columns a table's last column is cut to; with less room the
/// rows are left to wrap.
const MIN_LAST_COLUMN: usize = 16;

/// How many columns the terminal standard output writes to has, when it is one.
fn terminal_columns() -> Option<usize> {
    terminal_size::terminal_size_of(std::io::stdout()).map(|(width, _)| usize::from(width.0))
}

/// `text` cut to at most `room` columns of the terminal, its end shown by `…`.
fn cut_to_width(text: &str, room: usize) -> Cow<'_, str> {
    if text.width() <= room {
        return Cow::Borrowed(text);
    }
    let mut cut = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = unicode_width::UnicodeWidthChar::width(c).unwrap_or(0);
        if used + w > room - 1 {
            break;
        }
        cut.push(c);
        used += w;
    }
    cut.push('…');
    Cow::Owned(cut)
}

/// A plain cell.
pub fn cell(text: impl Into<String>) -> (String, Style) {
    (text.into(), Style::new())
}

#[cfg(test)]
mod tests {
    use super::{cut_to_width, visible};

    #[test]
    fn cells_are_cut_by_the_columns_they_take() {
        assert_eq!(cut_to_width("short", 16), "short");
        assert_eq!(cut_to_width("exactly sixteen!", 16), "exactly sixteen!");
        assert_eq!(cut_to_width("seventeen columns", 16), "seventeen colum…");
        // Wide characters take two columns each: no half of one is shown.
        assert_eq!(cut_to_width("日本語のテキストです", 8), "日本語…");
        assert_eq!(cut_to_width("日本語のテキストです", 9), "日本語の…");
    }

    #[test]
    fn controls_are_escaped_and_the_rest_kept() {
        assert_eq!(visible("plain · text \\ ok"), "plain · text \\ ok");
        assert_eq!(
            visible("a\r\nb\tc\u{1b}[31md\u{7f}\u{85}\u{9b}\0"),
            r"a\r\nb\tc\u{1b}[31md\u{7f}\u{85}\u{9b}\0"
        );
    }
}
