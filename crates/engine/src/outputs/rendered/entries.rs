//! A project's entries as they are written: text in memory, or byte ranges
//! of the `todos.json` the blocks were kept with, copied file to file
//! (docs/ARCHITECTURE.md, "The outputs").

use crate::outputs::format::{separator, Block, Sink, NEXT_ENTRY};
use std::borrow::Cow;
use std::fs::File;
use std::io;
use std::ops::Range;

/// A project's entries, as a [`list_block`](crate::outputs::format::list_block): in memory, or — read
/// back from the kept blocks — partly still in the `todos.json` they were
/// kept with, copied from there file to file when written
/// (docs/ARCHITECTURE.md, "The outputs").
#[derive(Default)]
pub(super) struct Entries {
    /// The block's bytes, in order.
    pieces: Vec<Piece>,
    len: usize,
}

enum Piece {
    Text(String),
    /// These bytes of the kept `todos.json`.
    Kept(Range<u64>),
}

impl Piece {
    fn len(&self) -> usize {
        match self {
            Piece::Text(text) => text.len(),
            Piece::Kept(range) => (range.end - range.start) as usize,
        }
    }
}

/// Where an entry's bytes are.
pub(super) enum Located<'a> {
    Text(&'a str),
    Kept(Range<u64>),
}

impl Located<'_> {
    /// The entry's text; `None` when the kept file cannot be read.
    pub(super) fn text(&self, kept: Option<&File>) -> Option<Cow<'_, str>> {
        use std::os::unix::fs::FileExt;
        match self {
            Located::Text(text) => Some(Cow::Borrowed(text)),
            Located::Kept(range) => {
                let mut bytes = vec![0; usize::try_from(range.end - range.start).ok()?];
                kept?.read_exact_at(&mut bytes, range.start).ok()?;
                String::from_utf8(bytes).ok().map(Cow::Owned)
            }
        }
    }

    pub(super) fn len(&self) -> usize {
        match self {
            Located::Text(text) => str::len(text),
            Located::Kept(range) => (range.end - range.start) as usize,
        }
    }
}

impl Entries {
    /// A block lying whole in the kept `todos.json`, at `range`.
    pub(super) fn kept(range: Range<u64>) -> Entries {
        let len = (range.end - range.start) as usize;
        Entries {
            pieces: if len == 0 {
                Vec::new()
            } else {
                vec![Piece::Kept(range)]
            },
            len,
        }
    }

    /// An empty block that will take about `text` bytes of text.
    pub(super) fn with_capacity(text: usize) -> Entries {
        Entries {
            pieces: vec![Piece::Text(String::with_capacity(text))],
            len: 0,
        }
    }

    /// The block's length in bytes.
    pub(super) fn len(&self) -> usize {
        self.len
    }

    pub(super) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The bytes held in memory.
    pub(super) fn text_len(&self) -> usize {
        self.pieces
            .iter()
            .map(|p| match p {
                Piece::Text(text) => text.len(),
                Piece::Kept(_) => 0,
            })
            .sum()
    }

    /// The text piece at the end, begun if the last piece is kept.
    fn text(&mut self) -> &mut String {
        if !matches!(self.pieces.last(), Some(Piece::Text(_))) {
            self.pieces.push(Piece::Text(String::new()));
        }
        match self.pieces.last_mut() {
            Some(Piece::Text(text)) => text,
            _ => unreachable!("a text piece was just pushed"),
        }
    }

    /// What goes before the next entry.
    fn separate(&mut self) {
        let separator = separator(self.is_empty());
        self.text().push_str(separator);
        self.len += separator.len();
    }

    /// Appends an entry held in memory; returns where it lies in the block.
    pub(super) fn push_text(&mut self, entry: &str) -> Range<usize> {
        self.separate();
        self.text().push_str(entry);
        let start = self.len;
        self.len += entry.len();
        start..self.len
    }

    /// Appends an entry lying at `at` in the kept `todos.json`; returns
    /// where it lies in the block. The entry right after the last one
    /// there extends its piece: in a block, [`NEXT_ENTRY`] lies between.
    pub(super) fn push_kept(&mut self, at: Range<u64>) -> Range<usize> {
        let next = NEXT_ENTRY.len() as u64;
        match self.pieces.last_mut() {
            Some(Piece::Kept(last)) if last.end + next == at.start => {
                last.end = at.end;
                self.len += NEXT_ENTRY.len();
            }
            _ => {
                self.separate();
                self.pieces.push(Piece::Kept(at.clone()));
            }
        }
        let start = self.len;
        self.len += (at.end - at.start) as usize;
        start..self.len
    }

    /// The block written: kept bytes copied from `kept`.
    pub(super) fn out<'a>(&'a self, kept: Option<&'a File>) -> EntriesOut<'a> {
        EntriesOut {
            entries: self,
            kept,
        }
    }
}

/// Walks a block's pieces to entries asked for in order.
pub(super) struct Cursor<'a> {
    pieces: std::slice::Iter<'a, Piece>,
    piece: Option<&'a Piece>,
    /// Where `piece` begins in the block.
    start: usize,
}

impl<'a> Cursor<'a> {
    pub(super) fn new(entries: &'a Entries) -> Cursor<'a> {
        let mut pieces = entries.pieces.iter();
        let piece = pieces.next();
        Cursor {
            pieces,
            piece,
            start: 0,
        }
    }

    /// Where the entry at `range` in the block is. Entries are asked for
    /// in order, each inside one piece (so they are built, and checked
    /// when read back).
    pub(super) fn locate(&mut self, range: &Range<usize>) -> Located<'a> {
        while let Some(piece) = self.piece.filter(|p| self.start + p.len() < range.end) {
            self.start += piece.len();
            self.piece = self.pieces.next();
        }
        let inside = range
            .start
            .checked_sub(self.start)
            .zip(range.end.checked_sub(self.start));
        match (self.piece, inside) {
            (Some(Piece::Text(text)), Some((from, to))) => {
                Located::Text(text.get(from..to).expect("entries lie inside a piece"))
            }
            (Some(Piece::Kept(kept)), Some((from, to)))
                if to <= (kept.end - kept.start) as usize =>
            {
                Located::Kept(kept.start + from as u64..kept.start + to as u64)
            }
            _ => panic!("entries lie inside a piece, asked for in order"),
        }
    }
}

/// A block being written: its pieces, the kept ones copied from `kept`.
pub(super) struct EntriesOut<'a> {
    entries: &'a Entries,
    kept: Option<&'a File>,
}

impl<W: Sink> Block<W> for EntriesOut<'_> {
    fn len(&self) -> u64 {
        self.entries.len as u64
    }

    fn write_to(&self, w: &mut W) -> io::Result<()> {
        for piece in &self.entries.pieces {
            match piece {
                Piece::Text(text) => w.write_all(text.as_bytes())?,
                Piece::Kept(range) => {
                    let kept = self.kept.ok_or_else(|| {
                        io::Error::other("entries kept in todos.json, but no todos.json")
                    })?;
                    w.copy_from(kept, range.start, range.end - range.start)?;
                }
            }
        }
        Ok(())
    }
}
