//! The bulk of real transcripts: file contents and command output coming back
//! from tools. A pool of plausible source lines is made once, already escaped
//! for JSON, and tool results are slices of it, so a gigabyte of transcript
//! costs little more than copying bytes.

use crate::rng;
use crate::words;
use std::io::Write;

pub struct Pool {
    /// JSON-escaped lines (no newline).
    lines: Vec<String>,
    /// The same lines as text (for records assembled by serde_json).
    raw: Vec<String>,
    /// Mean escaped length of a line, for sizing slices.
    pub mean_len: usize,
}

impl Pool {
    pub fn new(seed: u64, n: usize) -> Pool {
        let mut rng = rng::stream(seed, 0xB0_0C, 0);
        let mut lines = Vec::with_capacity(n);
        let mut raw = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let text = words::code_line(&mut rng);
            let line = crate::json::escaped(&text);
            total += line.len();
            lines.push(line);
            raw.push(text);
        }
        let mean_len = (total / n.max(1)).max(1);
        Pool {
            lines,
            raw,
            mean_len,
        }
    }

    /// How many lines make about `bytes` bytes (at least 1).
    pub fn lines_for(&self, bytes: usize) -> usize {
        (bytes / (self.mean_len + 2)).max(1)
    }

    fn line(&self, i: usize) -> &str {
        &self.lines[i % self.lines.len()]
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Lines `start..start+n` joined by an escaped newline.
    pub fn raw_into(&self, out: &mut Vec<u8>, start: usize, n: usize) {
        for k in 0..n {
            if k > 0 {
                out.extend_from_slice(b"\\n");
            }
            out.extend_from_slice(self.line(start + k).as_bytes());
        }
    }

    /// The same lines as the Read tool shows them: `     1→text`.
    pub fn numbered_into(&self, out: &mut Vec<u8>, start: usize, n: usize, first_number: usize) {
        for k in 0..n {
            if k > 0 {
                out.extend_from_slice(b"\\n");
            }
            let _ = write!(out, "{:>6}\u{2192}", first_number + k);
            out.extend_from_slice(self.line(start + k).as_bytes());
        }
    }

    /// Lines as `path:line:text`, like a grep.
    pub fn grep_into(&self, out: &mut Vec<u8>, start: usize, n: usize, path: &str) {
        for k in 0..n {
            if k > 0 {
                out.extend_from_slice(b"\\n");
            }
            let _ = write!(out, "{path}:{}:", 10 + (start + k * 7) % 900);
            out.extend_from_slice(self.line(start + k).trim_start().as_bytes());
        }
    }

    /// Lines `start..start+n` as plain text, joined by newlines, with
    /// `prefix` before each (a grep's `path:line:`, or nothing).
    pub fn text(&self, start: usize, n: usize, prefix: &str) -> String {
        let mut out = String::with_capacity(n * (self.mean_len + prefix.len() + 1));
        for k in 0..n {
            if k > 0 {
                out.push('\n');
            }
            out.push_str(prefix);
            out.push_str(&self.raw[(start + k) % self.raw.len()]);
        }
        out
    }

    /// One line, escaped.
    pub fn one(&self, i: usize) -> &str {
        self.line(i)
    }
}
