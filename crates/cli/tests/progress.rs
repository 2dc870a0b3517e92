//! A long `consolidate` shows its progress on a terminal and prints nothing
//! of it when stderr is not one (issue 13).

mod common;

use chittysync_corpus::{generate, CorpusSpec, TranscriptSize};
use common::Sandbox;
use std::process::Command;

/// A Claude folder of more files than one step of reading takes (2,048).
fn long_run_sandbox() -> Sandbox {
    let sb = Sandbox::new();
    std::fs::remove_dir_all(sb.claude()).unwrap();
    let spec = CorpusSpec::new(1400, 5).with_transcripts(TranscriptSize::None);
    generate(&sb.claude(), &spec).expect("generate a Claude folder");
    sb
}

#[test]
fn no_progress_when_stderr_is_not_a_terminal() {
    let sb = long_run_sandbox();
    let out = sb.run(&["consolidate"]);
    assert!(out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr),
        "",
        "nothing on stderr"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("files:"), "{text}");
    assert!(
        !text.contains("[0"),
        "no progress bar on stdout either: {text}"
    );
    assert!(!text.contains('\u{1b}'), "no terminal codes: {text:?}");
}

#[test]
fn progress_on_a_terminal() {
    let sb = long_run_sandbox();
    // `script` runs the command on a pseudo-terminal and copies what it shows.
    let command = format!(
        "{} --claude-dir {} --agents-home {} --home {} consolidate",
        env!("CARGO_BIN_EXE_chittysync"),
        sb.claude().display(),
        sb.dir.path().display(),
        sb.home().display()
    );
    let out = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env("TERM", "xterm")
        .output()
        .expect("run script(1)");
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{shown}");
    assert!(
        shown.contains(" files ["),
        "a progress bar was shown: {shown:?}"
    );
    assert!(
        shown.contains("files:"),
        "and the summary after it: {shown:?}"
    );
}
