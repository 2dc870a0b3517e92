//! Reading a file of lines (JSONL) a piece at a time: Claude Code's
//! transcripts, Codex CLI's rollouts, Gemini CLI's `.jsonl` chats and Qwen
//! Code's chats are all appended to while their session runs, and all are
//! read here, by one implementation (docs/SOURCES.md, "Codex CLI").
//!
//! A read starts where the last one stopped ([`ReadPosition`]) and hands the
//! complete lines it finds to a [`LineSink`], which knows the format. A
//! partial last line (being written) is left for next time. A file that
//! shrank below the stored offset, whose first bytes changed, or whose stored
//! offset no longer follows a newline is not the file the position was taken
//! from: it is read again from its start, and the read says so. A line longer
//! than the limit is skipped without being held in memory whole. Compressed
//! files, which cannot be read from the middle, are read whole through
//! [`read_stream_lines`], with the same sink.

use serde::{Deserialize, Serialize};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::path::Path;

/// How many leading bytes identify a file: enough to hold the first line's ids
/// and timestamp, so a file replaced by another session's is noticed.
const HEAD_BYTES: u64 = 4096;

/// The read buffer. Large enough that per-chunk work is negligible, small
/// enough to keep memory flat.
const CHUNK_BYTES: usize = 4 << 20;

/// Where a read of a file of lines stopped. `Default` is the start of the file.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ReadPosition {
    /// Bytes of complete lines consumed so far.
    pub offset: u64,
    /// Complete lines consumed so far (the next line is `line + 1`).
    pub line: u64,
    /// The fingerprint of the file's first bytes when this position was taken.
    pub head: Option<HeadMark>,
}

/// A fingerprint of the first `len` bytes of a file (at most 4096), so that a
/// file deleted and written anew — possibly longer than before — is read again
/// from the start instead of from the middle of unrelated content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct HeadMark {
    pub len: u32,
    /// 64-bit FNV-1a: stable across Rust versions and platforms, unlike std's
    /// `DefaultHasher`, because positions are stored on disk.
    pub hash: u64,
}

impl HeadMark {
    pub fn of(bytes: &[u8]) -> HeadMark {
        let hash = bytes.iter().fold(0xcbf2_9ce4_8422_2325_u64, |h, &b| {
            (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
        });
        HeadMark {
            len: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            hash,
        }
    }

    /// Whether `head` (the file's current first bytes, up to 4096) starts with
    /// the bytes this mark was taken from.
    pub(crate) fn matches(&self, head: &[u8]) -> bool {
        let len = self.len as usize;
        head.len() >= len && HeadMark::of(&head[..len]) == *self
    }
}

/// What a format's reader does with the lines handed to it.
pub trait LineSink {
    /// One complete line, without its `\n` (it may still end in `\r`, or start
    /// with a byte-order mark: see [`trim_line`]). `number` is 1-based.
    fn line(&mut self, number: u64, line: &[u8]);

    /// Line `number` was `len` bytes (without its newline), longer than the
    /// limit; it was skipped.
    fn overlong_line(&mut self, number: u64, len: u64);

    /// A run of complete lines, each ending in `\n`, whose first is line
    /// `first`. A sink that works on whole runs (Claude Code's transcript
    /// scanner reads session facts from the last lines of each run) takes them
    /// here and returns true, and then deals with overlong lines inside the
    /// run itself; by default the run is handed on line by line.
    fn run(&mut self, first: u64, run: &[u8]) -> bool {
        let _ = (first, run);
        false
    }
}

/// What one read of a file of lines did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineRead {
    /// The file is not the one the position was taken from (it shrank below
    /// the stored offset, its first bytes changed, or the stored offset no
    /// longer follows a newline): it was read from the start, and what was
    /// known from it before should be read again.
    pub restarted: bool,
    /// Just after the last complete line. A partial last line (being written)
    /// is left for next time.
    pub end: ReadPosition,
    /// Bytes consumed by this read (`end.offset` minus where it started).
    pub bytes_read: u64,
}

/// Reads the complete lines of the file at `path` after `from`, handing each
/// to `sink`.
///
/// Lines longer than `max_line_bytes` are skipped (reported to the sink)
/// without being held in memory whole. Only the bytes present when the read
/// starts are read, so a file being appended to is read up to a consistent
/// point. Errors are the operating system's (not found, permission denied);
/// content is the sink's business.
pub fn read_lines(
    path: &Path,
    from: &ReadPosition,
    max_line_bytes: u64,
    sink: &mut impl LineSink,
) -> io::Result<LineRead> {
    LineFile::open(path, from)?.read(max_line_bytes, sink)
}

/// A file of lines opened for a read after a stored position: whether it is
/// read on or again from its start is known once it is open, before any line
/// is read (a sink that numbers lines itself starts from [`LineFile::start_line`]).
pub struct LineFile {
    file: File,
    size: u64,
    head: Vec<u8>,
    restarted: bool,
    offset: u64,
    line: u64,
}

impl LineFile {
    pub fn open(path: &Path, from: &ReadPosition) -> io::Result<LineFile> {
        let mut file = crate::read::open_regular(path)?;
        let size = file.metadata()?.len();
        let mut head = vec![0; size.min(HEAD_BYTES) as usize];
        let head_len = read_up_to(&mut file, &mut head)?;
        head.truncate(head_len);

        let restarted = size < from.offset
            || from.head.is_some_and(|mark| !mark.matches(&head))
            || !ends_a_line(&mut file, from.offset)?;
        let (offset, line) = if restarted {
            (0, 0)
        } else {
            (from.offset, from.line)
        };
        Ok(LineFile {
            file,
            size,
            head,
            restarted,
            offset,
            line,
        })
    }

    /// Whether the file is read again from its start (see [`LineRead::restarted`]).
    pub fn restarted(&self) -> bool {
        self.restarted
    }

    /// The number of lines before the first one this read hands on.
    pub fn start_line(&self) -> u64 {
        self.line
    }

    /// Reads the complete lines present when the file was opened.
    pub fn read(mut self, max_line_bytes: u64, sink: &mut impl LineSink) -> io::Result<LineRead> {
        self.file.seek(SeekFrom::Start(self.offset))?;
        let mut lines = Lines::new(sink, max_line_bytes, self.line);
        let consumed = lines.feed(&mut self.file, self.size - self.offset)?;
        Ok(LineRead {
            restarted: self.restarted,
            end: ReadPosition {
                offset: self.offset + consumed,
                line: lines.line,
                head: Some(HeadMark::of(&self.head)),
            },
            bytes_read: consumed,
        })
    }
}

/// What a whole read of a stream of lines did.
#[derive(Debug)]
pub struct StreamRead {
    /// Complete lines handed to the sink (or skipped as overlong).
    pub lines: u64,
    /// Bytes of complete lines consumed.
    pub bytes: u64,
    /// Bytes after the last newline when the stream ended: a last line cut
    /// short (or one whose writer wrote no final newline).
    pub unterminated: u64,
    /// The error that ended the stream early (e.g. a compressed file cut
    /// short); the lines before it were handed to the sink.
    pub error: Option<io::Error>,
}

/// Reads every complete line of `reader` (a decompressing reader, say) into
/// `sink`, numbering from 1. It never fails: an error of the reader ends the
/// read and is returned with what was read before it.
pub fn read_stream_lines(
    mut reader: impl Read,
    max_line_bytes: u64,
    sink: &mut impl LineSink,
) -> StreamRead {
    let mut lines = Lines::new(sink, max_line_bytes, 0);
    let result = lines.feed(&mut reader, u64::MAX);
    let line = lines.line;
    let unterminated = lines.left;
    match result {
        Ok(bytes) => StreamRead {
            lines: line,
            bytes,
            unterminated,
            error: None,
        },
        Err(e) => StreamRead {
            lines: line,
            bytes: lines.consumed,
            unterminated,
            error: Some(e),
        },
    }
}

/// The line without a trailing `\r` (a file edited on Windows) or a leading
/// UTF-8 byte-order mark (a file saved by an editor), neither of which JSON
/// allows.
pub fn trim_line(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line)
}

/// The chunked loop shared by file and stream reads.
struct Lines<'s, S: LineSink> {
    sink: &'s mut S,
    max_line_bytes: u64,
    /// Lines consumed so far, i.e. the number of the last line seen.
    line: u64,
    /// Bytes of complete lines consumed so far.
    consumed: u64,
    /// Bytes after the last newline when the input ended.
    left: u64,
}

impl<'s, S: LineSink> Lines<'s, S> {
    fn new(sink: &'s mut S, max_line_bytes: u64, line: u64) -> Self {
        Lines {
            sink,
            max_line_bytes,
            line,
            consumed: 0,
            left: 0,
        }
    }

    /// Feeds the complete lines among the next `limit` bytes of `input` to the
    /// sink, chunk by chunk, and returns how many bytes they took.
    ///
    /// A line that outgrows `max_line_bytes` is dropped from the buffer as
    /// soon as that is known and the following bytes are discarded up to its
    /// end; it is consumed (and reported) only once its newline has arrived.
    fn feed(&mut self, input: &mut impl Read, limit: u64) -> io::Result<u64> {
        let mut buf = vec![0; usize::try_from(limit).map_or(CHUNK_BYTES, |l| l.min(CHUNK_BYTES))];
        let mut filled = 0;
        let mut remaining = limit;
        // Bytes of an overlong line discarded so far, awaiting its newline.
        let mut overlong: Option<u64> = None;
        while remaining > 0 {
            if filled == buf.len() {
                // A line longer than the buffer but within the limit: make room.
                buf.resize(buf.len().max(CHUNK_BYTES) * 2, 0);
            }
            let room = (buf.len() - filled).min(usize::try_from(remaining).unwrap_or(usize::MAX));
            let n = match input.read(&mut buf[filled..filled + room]) {
                Ok(0) => break, // the file shrank while we read; next read restarts
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => {
                    self.left = overlong.unwrap_or(0) + filled as u64;
                    return Err(e);
                }
            };
            remaining = remaining.saturating_sub(n as u64);
            filled += n;

            let mut start = 0;
            if let Some(skipped) = overlong {
                let Some(newline) = memchr::memchr(b'\n', &buf[..filled]) else {
                    overlong = Some(skipped + filled as u64);
                    filled = 0;
                    continue;
                };
                let len = skipped + newline as u64;
                self.line += 1;
                self.sink.overlong_line(self.line, len);
                self.consumed += len + 1;
                overlong = None;
                start = newline + 1;
            }
            let end = match memchr::memrchr(b'\n', &buf[start..filled]) {
                Some(last) => start + last + 1,
                None => start,
            };
            self.run(&buf[start..end]);
            self.consumed += (end - start) as u64;
            buf.copy_within(end..filled, 0);
            filled -= end;
            if filled as u64 > self.max_line_bytes {
                overlong = Some(filled as u64);
                filled = 0;
            }
        }
        self.left = overlong.unwrap_or(0) + filled as u64;
        Ok(self.consumed)
    }

    /// Complete lines, each ending in `\n` (`run` may be empty).
    fn run(&mut self, run: &[u8]) {
        if run.is_empty() {
            return;
        }
        let first = self.line + 1;
        if self.sink.run(first, run) {
            self.line += memchr::memchr_iter(b'\n', run).count() as u64;
            return;
        }
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', run) {
            let line = &run[start..newline];
            self.line += 1;
            if line.len() as u64 > self.max_line_bytes {
                self.sink.overlong_line(self.line, line.len() as u64);
            } else {
                self.sink.line(self.line, line);
            }
            start = newline + 1;
        }
    }
}

/// Whether `offset` is the start of the file or just after a newline, as every
/// position this module hands out is. If not, the file was rewritten with the
/// same first bytes but different lines, and reading on from `offset` would
/// start in the middle of one.
fn ends_a_line(file: &mut File, offset: u64) -> io::Result<bool> {
    if offset == 0 {
        return Ok(true);
    }
    file.seek(SeekFrom::Start(offset - 1))?;
    let mut byte = [0];
    Ok(read_up_to(file, &mut byte)? == 1 && byte[0] == b'\n')
}

/// Fills `buf` as far as the file allows; fewer bytes only at end of file.
fn read_up_to(file: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match file.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(filled)
}

/// Reads the first line of the file at `path` if it is at most
/// `max_line_bytes` long: formats that name their session only on the first
/// line (a Codex `session_meta`, a Gemini chat's metadata) read it again on
/// an incremental read. None when the file is empty or its first line is
/// overlong or not yet complete.
pub fn first_line(path: &Path, max_line_bytes: u64) -> io::Result<Option<Vec<u8>>> {
    let mut file = crate::read::open_regular(path)?;
    let mut buf = Vec::new();
    let mut chunk = vec![0; HEAD_BYTES as usize];
    loop {
        let n = read_up_to(&mut file, &mut chunk)?;
        let searched = buf.len();
        buf.extend_from_slice(&chunk[..n]);
        if let Some(newline) = memchr::memchr(b'\n', &buf[searched..]) {
            let end = searched + newline;
            if end as u64 > max_line_bytes {
                return Ok(None);
            }
            buf.truncate(end);
            return Ok(Some(buf));
        }
        if n < chunk.len() || buf.len() as u64 > max_line_bytes {
            return Ok(None);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Head marks are stored with read positions: the hash must never change.
    #[test]
    fn head_mark_is_fnv1a_64() {
        assert_eq!(HeadMark::of(b"").hash, 0xcbf2_9ce4_8422_2325);
        assert_eq!(HeadMark::of(b"a").hash, 0xaf63_dc4c_8601_ec8c);
        assert_eq!(HeadMark::of(b"foobar").hash, 0x8594_4171_f739_67e8);
        let mark = HeadMark::of(b"{\"a\":1}\n");
        assert_eq!(mark.len, 8);
        assert!(mark.matches(b"{\"a\":1}\n{\"b\":2}\n"));
        assert!(!mark.matches(b"{\"a\":2}\n{\"b\":2}\n"));
        assert!(!mark.matches(b"{\"a\":1}"));
    }

    #[derive(Default)]
    struct Collect {
        lines: Vec<(u64, String)>,
        overlong: Vec<(u64, u64)>,
    }

    impl LineSink for Collect {
        fn line(&mut self, number: u64, line: &[u8]) {
            self.lines
                .push((number, String::from_utf8_lossy(line).into_owned()));
        }
        fn overlong_line(&mut self, number: u64, len: u64) {
            self.overlong.push((number, len));
        }
    }

    #[test]
    fn file_is_read_on_from_where_it_stopped() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        std::fs::write(&path, "one\ntwo\npart").unwrap();
        let mut sink = Collect::default();
        let first = read_lines(&path, &ReadPosition::default(), 100, &mut sink).unwrap();
        assert_eq!(first.end.offset, 8);
        assert_eq!(first.end.line, 2);
        assert!(!first.restarted);

        std::fs::write(&path, "one\ntwo\npartial\nthree is too long\nfour\n").unwrap();
        let mut sink = Collect::default();
        let second = read_lines(&path, &first.end, 10, &mut sink).unwrap();
        assert!(!second.restarted);
        assert_eq!(
            sink.lines,
            [(3, "partial".to_string()), (5, "four".to_string())]
        );
        assert_eq!(sink.overlong, [(4, 17)]);
        assert_eq!(second.end.line, 5);

        std::fs::write(&path, "new\n").unwrap();
        let mut sink = Collect::default();
        let third = read_lines(&path, &second.end, 10, &mut sink).unwrap();
        assert!(third.restarted);
        assert_eq!(sink.lines, [(1, "new".to_string())]);
    }

    #[test]
    fn a_stream_says_where_it_broke_off() {
        struct Failing<'a>(&'a [u8]);
        impl Read for Failing<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                if self.0.is_empty() {
                    return Err(io::Error::other("cut short"));
                }
                let n = self.0.len().min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut sink = Collect::default();
        let read = read_stream_lines(Failing(b"a\nb\nhalf"), 100, &mut sink);
        assert_eq!(read.lines, 2);
        assert_eq!(read.bytes, 4);
        assert_eq!(read.unterminated, 4);
        assert_eq!(read.error.unwrap().to_string(), "cut short");
        assert_eq!(sink.lines.len(), 2);
    }

    #[test]
    fn first_line_of_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a.jsonl");
        std::fs::write(&path, "head\nbody\n").unwrap();
        assert_eq!(
            first_line(&path, 100).unwrap().as_deref(),
            Some(&b"head"[..])
        );
        assert_eq!(first_line(&path, 3).unwrap(), None);
        std::fs::write(&path, "no newline yet").unwrap();
        assert_eq!(first_line(&path, 100).unwrap(), None);
    }
}
