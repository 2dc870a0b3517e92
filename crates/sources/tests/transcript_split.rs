//! Reading a transcript in pieces, however the writes fall, gives what one
//! read of the whole gives.

mod common;

use chittysync_sources::{read_transcript, ReadPosition, TranscriptEvent, Warning};
use common::*;
use proptest::prelude::*;
use serde_json::json;
use std::fs;
use std::path::Path;

fn transcript() -> String {
    let lines = [
        json!({"type": "summary", "summary": "s", "leafUuid": "u"}).to_string(),
        prompt(1, "plan it"),
        todo_write(2, json!([{"content": "é ünïcode", "status": "in_progress", "activeForm": "Doing"}])),
        "{\"type\":\"assistant\",\"message\":{\"content\":[{\"type\":\"tool_use\",\"name\":\"TodoWrite\"".to_string(),
        assistant_calls(3, &[("toolu_1", "TaskCreate", json!({"subject": "Task one"}))]),
        tool_result(4, "toolu_1", "Task #1 created successfully", json!({"task": {"id": "1"}})),
        assistant_calls(5, &[("toolu_2", "TaskUpdate", json!({"taskId": "1", "status": "completed"}))]),
        todo_write(6, json!([])),
    ];
    let mut text = lines.join("\n");
    text.push('\n');
    text
}

/// Reads until nothing more comes, collecting everything.
fn read_to_end(
    path: &Path,
    from: ReadPosition,
    events: &mut Vec<TranscriptEvent>,
    warnings: &mut Vec<Warning>,
) -> ReadPosition {
    let chunk = read_transcript(path, &from, 1 << 20).unwrap();
    assert!(!chunk.restarted);
    assert_eq!(chunk.bytes_read, chunk.end.offset - from.offset);
    events.extend(chunk.events);
    warnings.extend(chunk.warnings);
    chunk.end
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    #[test]
    fn any_split_reads_the_same(cut_a in 0.0f64..=1.0, cut_b in 0.0f64..=1.0) {
        let text = transcript();
        let bytes = text.as_bytes();
        let mut cuts = [
            (cut_a * bytes.len() as f64) as usize,
            (cut_b * bytes.len() as f64) as usize,
        ];
        cuts.sort_unstable();

        let tmp = tempfile::tempdir().unwrap();
        let whole_path = tmp.path().join("whole.jsonl");
        fs::write(&whole_path, bytes).unwrap();
        let (mut whole_events, mut whole_warnings) = (Vec::new(), Vec::new());
        let whole_end = read_to_end(&whole_path, ReadPosition::default(), &mut whole_events, &mut whole_warnings);

        let path = tmp.path().join("pieces.jsonl");
        fs::write(&path, &bytes[..cuts[0]]).unwrap();
        let (mut events, mut warnings) = (Vec::new(), Vec::new());
        let mut end = read_to_end(&path, ReadPosition::default(), &mut events, &mut warnings);
        append(&path, &bytes[cuts[0]..cuts[1]]);
        end = read_to_end(&path, end, &mut events, &mut warnings);
        append(&path, &bytes[cuts[1]..]);
        end = read_to_end(&path, end, &mut events, &mut warnings);

        prop_assert_eq!(events, whole_events);
        let lines = |w: &[Warning]| w.iter().map(|w| (w.line, w.message.clone())).collect::<Vec<_>>();
        prop_assert_eq!(lines(&warnings), lines(&whole_warnings));
        prop_assert_eq!(end, whole_end);
    }
}
