//! Commit messages that say what changed: how many observations, from where,
//! in which projects, and what the fold now holds.

use chittysync_engine::FoldCounts;
use std::collections::BTreeMap;

/// At most this many names in a subject line; the rest are counted.
const NAMED: usize = 4;

/// What one commit records.
pub struct Change<'a> {
    pub device: &'a str,
    pub exported: &'a BTreeMap<String, u64>,
    pub imported: &'a BTreeMap<String, u64>,
    /// The commit joins two histories.
    pub merge: bool,
    /// Logs restored because the remote lost lines of them, one message each.
    pub restored: &'a [String],
    pub fold: FoldCounts,
    /// This device's log is sealed: observations exported are counted, not
    /// tallied by project, and the fold's projects are not counted.
    pub sealed: Option<u64>,
}

/// `api 8, web 4, +2 more`, largest first.
fn tally(counts: &BTreeMap<String, u64>) -> String {
    let mut sorted: Vec<(&String, &u64)> = counts.iter().collect();
    sorted.sort_by(|a, b| b.1.cmp(a.1).then(a.0.cmp(b.0)));
    let mut parts: Vec<String> = sorted
        .iter()
        .take(NAMED)
        .map(|(name, n)| format!("{name} {n}"))
        .collect();
    if sorted.len() > NAMED {
        parts.push(format!("+{} more", sorted.len() - NAMED));
    }
    parts.join(", ")
}

fn plural(n: u64, one: &str) -> String {
    format!("{n} {one}{}", if n == 1 { "" } else { "s" })
}

pub fn compose(change: &Change<'_>) -> String {
    let exported: u64 = change
        .sealed
        .unwrap_or_else(|| change.exported.values().sum());
    let imported: u64 = change.imported.values().sum();
    let subject = if exported > 0 && change.sealed.is_some() {
        format!(
            "{}: {} (encrypted)",
            change.device,
            plural(exported, "new observation")
        )
    } else if exported > 0 {
        format!(
            "{}: {} ({})",
            change.device,
            plural(exported, "new observation"),
            tally(change.exported)
        )
    } else if !change.restored.is_empty() {
        format!(
            "{}: restore {} the remote lost",
            change.device,
            plural(change.restored.len() as u64, "observation log")
        )
    } else if change.merge {
        format!("{}: merge the remote history", change.device)
    } else if imported > 0 {
        format!(
            "{}: snapshot with {} from {}",
            change.device,
            plural(imported, "observation"),
            tally(change.imported)
        )
    } else {
        format!("{}: update the snapshots", change.device)
    };
    let mut body = Vec::new();
    if exported > 0 && change.sealed.is_none() {
        body.push(format!("exported by project: {}", tally(change.exported)));
    }
    if imported > 0 {
        body.push(format!(
            "imported {} by device: {}",
            plural(imported, "observation"),
            tally(change.imported)
        ));
    }
    for restored in change.restored {
        body.push(format!("restored {restored}"));
    }
    let f = &change.fold;
    if change.sealed.is_some() {
        body.push(format!(
            "fold: {} ({} pending, {} in progress, {} completed, {} in conflict)",
            plural(f.todos, "todo"),
            f.pending,
            f.in_progress,
            f.completed,
            f.conflicts
        ));
        return format!("{subject}\n\n{}\n", body.join("\n"));
    }
    body.push(format!(
        "fold: {} in {} ({} pending, {} in progress, {} completed, {} in conflict)",
        plural(f.todos, "todo"),
        plural(f.projects, "project"),
        f.pending,
        f.in_progress,
        f.completed,
        f.conflicts
    ));
    format!("{subject}\n\n{}\n", body.join("\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_counts_and_projects() {
        let exported: BTreeMap<String, u64> = [("api".into(), 8), ("web".into(), 4)].into();
        let imported: BTreeMap<String, u64> = [("desktop".into(), 1)].into();
        let text = compose(&Change {
            device: "laptop",
            exported: &exported,
            imported: &imported,
            merge: true,
            restored: &[],
            sealed: None,
            fold: FoldCounts {
                todos: 3,
                projects: 2,
                ..FoldCounts::default()
            },
        });
        assert!(
            text.starts_with("laptop: 12 new observations (api 8, web 4)\n\n"),
            "{text}"
        );
        assert!(
            text.contains("imported 1 observation by device: desktop 1"),
            "{text}"
        );
        assert!(text.contains("fold: 3 todos in 2 projects"), "{text}");
    }
}
