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
    /// Mean escaped length of a line, for sizing slices.
    pub mean_len: usize,
}

impl Pool {
    pub fn new(seed: u64, n: usize) -> Pool {
        let mut rng = rng::stream(seed, 0xB0_0C, 0);
        let mut lines = Vec::with_capacity(n);
        let mut total = 0usize;
        for _ in 0..n {
            let line = crate::json::escaped(&words::code_line(&mut rng));
            total += line.len();
            lines.push(line);
        }
        let mean_len = (total / n.max(1)).max(1);
        Pool { lines, mean_len }
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

    /// One line, escaped.
    pub fn one(&self, i: usize) -> &str {
        self.line(i)
    }
}
