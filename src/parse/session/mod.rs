//! One parse: buffered input, batching, and where errors are.
//!
//! Input is fed in pieces (copied: the caller's memory is free once the step returns) or read
//! from a file by the step itself, `READ_CHUNK` at a time. Consumed bytes are dropped whenever
//! more input arrives, so the buffer holds at most the unconsumed tail (one partial row, at most
//! `max_row_bytes`) plus one piece. Newlines are counted as bytes are dropped, so an error's line
//! is exact without keeping the input. (`json`: the NDJSON and JSON formats.)

mod json;
mod rows;

use std::fs::File;
use std::path::{Path, PathBuf};

use memchr::memchr_iter;

use super::csv::{Csv, Scan};
use super::json::Scratch;
use super::tape::{Mark, Shapes, Tape};
use super::{Error, Format, Limits, ParseError, Shape};
use crate::files::{FileError, READ_CHUNK, fill, open};
use crate::kernels::{Cancel, check};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Parser {
    Csv,
    Ndjson,
    Json,
}

/// What one step produced.
#[derive(Debug, Default)]
pub struct Step {
    /// A batch (possibly empty at the end of the input).
    pub tape: Option<Tape>,
    /// The step stopped for more input: feed a piece, or `eof`.
    pub need_input: bool,
    /// No more batches follow.
    pub done: bool,
    /// The parse stopped here, after the rows in `tape`.
    pub error: Option<ParseError>,
    /// CSV column names, once, with the first batch after they are known.
    pub names: Option<Vec<String>>,
    pub rows: u64,
    pub skipped: u64,
    pub bytes: u64,
}

pub struct Session {
    parser: Parser,
    /// The CSV parser, taken out while it runs (it borrows the buffer and the tape).
    csv: Option<Box<Csv>>,
    limits: Limits,
    shapes: Shapes,
    scratch: Scratch,
    buf: Vec<u8>,
    pos: usize,
    /// Input offset of `buf[0]`.
    base: u64,
    /// Newlines before `buf[counted]`.
    lines: u64,
    counted: usize,
    eof: bool,
    /// The file the session reads itself: its path until the first read opens it.
    file: Option<Source>,
    tape: Tape,
    batch_start: u64,
    names_sent: bool,
    /// Skipping a bad row whose end has not arrived yet.
    skip_line: bool,
    /// The last batch's size, to size the next one.
    last_size: Mark,
    done: bool,
    rows: u64,
    skipped: u64,
}

enum Source {
    Path(PathBuf),
    Open(File, PathBuf, u64),
}

enum Long {
    Fits,
    Skipped,
    Failed(ParseError),
}

enum Outcome {
    Full,
    NeedInput,
    End,
    Failed(ParseError),
}

impl Session {
    /// A session fed by the caller; fails on a `cast` map naming a column the names lack.
    pub fn new(format: Format, limits: Limits) -> Result<Session, String> {
        let (parser, csv) = match format {
            Format::Csv(spec) => (Parser::Csv, Some(Box::new(Csv::new(spec, limits.latin1)?))),
            Format::Ndjson => (Parser::Ndjson, None),
            Format::Json => (Parser::Json, None),
        };
        let mut s = Session {
            parser,
            csv,
            limits,
            shapes: Shapes::new(),
            scratch: Scratch::default(),
            buf: Vec::new(),
            pos: 0,
            base: 0,
            lines: 0,
            counted: 0,
            eof: false,
            file: None,
            tape: Tape::default(),
            batch_start: 0,
            names_sent: false,
            skip_line: false,
            last_size: Mark::default(),
            done: false,
            rows: 0,
            skipped: 0,
        };
        s.tape = s.fresh_tape();
        Ok(s)
    }

    /// A session that reads `path` itself, opening it at its first step (on the pool).
    pub fn reading(format: Format, limits: Limits, path: &Path) -> Result<Session, String> {
        let mut s = Session::new(format, limits)?;
        s.file = Some(Source::Path(path.to_owned()));
        Ok(s)
    }

    /// Copies `piece` into the session's input.
    pub fn feed(&mut self, piece: &[u8]) {
        self.compact();
        self.buf.extend_from_slice(piece);
    }

    /// Marks the end of input (`eof`) and parses up to one batch of what was fed.
    pub fn step(&mut self, eof: bool, cancel: Cancel) -> Result<Step, Error> {
        if self.done {
            return Ok(self.finish(None, true));
        }
        self.eof |= eof;
        loop {
            check(cancel)?;
            match self.parse(cancel)? {
                Outcome::Full => return Ok(self.finish(None, false)),
                Outcome::Failed(e) => {
                    self.done = true;
                    return Ok(self.finish(Some(e), true));
                }
                Outcome::End => {
                    self.done = true;
                    return Ok(self.finish(None, true));
                }
                Outcome::NeedInput if self.file.is_some() => self.read_more()?,
                Outcome::NeedInput => {
                    return Ok(Step {
                        need_input: true,
                        ..self.counts()
                    });
                }
            }
        }
    }

    fn read_more(&mut self) -> Result<(), Error> {
        self.compact();
        if let Some(Source::Path(path)) = &self.file {
            let file = open(path)?;
            self.file = Some(Source::Open(file, path.clone(), 0));
        }
        let Some(Source::Open(file, path, offset)) = &mut self.file else {
            return Ok(());
        };
        let len = self.buf.len();
        self.buf.resize(len + READ_CHUNK, 0);
        let n = fill(file, &mut self.buf[len..], *offset)
            .map_err(|e| FileError::new(&e, "read", path))?;
        self.buf.truncate(len + n);
        *offset += n as u64;
        if n < READ_CHUNK {
            self.eof = true;
            self.file = None;
        }
        Ok(())
    }

    /// Drops consumed input, counting its newlines first.
    fn compact(&mut self) {
        if self.pos == 0 {
            return;
        }
        self.lines +=
            memchr_iter(b'\n', &self.buf[self.counted.min(self.pos)..self.pos]).count() as u64;
        self.buf.drain(..self.pos);
        self.base += self.pos as u64;
        self.pos = 0;
        self.counted = 0;
    }

    fn fresh_tape(&mut self) -> Tape {
        let mut tape = Tape::sized_like(self.last_size);
        match &self.csv {
            Some(csv) if csv.shape() == Shape::Columns => {
                tape.numbers = csv.numeric_columns().map(|i| (i, Vec::new())).collect();
            }
            Some(_) => {}
            None => self.shapes.begin(),
        }
        tape
    }

    fn finish(&mut self, error: Option<ParseError>, done: bool) -> Step {
        let mut step = self.counts();
        let mut tape = std::mem::take(&mut self.tape);
        self.last_size = tape.mark();
        self.shapes.finish(&mut tape);
        self.rows += u64::from(tape.rows);
        step.rows = self.rows;
        if let Some(csv) = &self.csv
            && !self.names_sent
            && let Some(names) = csv.names()
        {
            self.names_sent = true;
            step.names = Some(names.to_vec());
        }
        step.tape = Some(tape);
        step.error = error;
        step.done = done;
        self.batch_start = self.base + self.pos as u64;
        if !done {
            self.tape = self.fresh_tape();
        }
        step
    }

    fn counts(&self) -> Step {
        Step {
            rows: self.rows,
            skipped: self.skipped,
            bytes: self.base + self.pos as u64,
            ..Step::default()
        }
    }

    fn batch_full(&self) -> bool {
        let rows = u64::from(self.tape.rows);
        rows > 0
            && (self.limits.batch_rows.is_some_and(|n| rows >= n)
                || self.base + self.pos as u64 - self.batch_start >= self.limits.batch_bytes
                || !self.tape.text_fits())
    }

    fn skip_bom(&mut self) -> bool {
        if self.base + self.pos as u64 != 0 || !self.limits.bom {
            return true;
        }
        let rest = &self.buf[self.pos..];
        if rest.len() < 3 && !self.eof && b"\xEF\xBB\xBF".starts_with(rest) {
            return false;
        }
        if rest.starts_with(b"\xEF\xBB\xBF") {
            self.pos += 3;
        }
        true
    }

    fn parse(&mut self, cancel: Cancel) -> Result<Outcome, Error> {
        if !self.skip_bom() {
            return Ok(Outcome::NeedInput);
        }
        match self.parser {
            Parser::Csv => Ok(self.csv()),
            Parser::Ndjson => self.ndjson(cancel),
            Parser::Json => self.json(cancel),
        }
    }

    /// What ends a step before the next row, if anything: a full batch, or the end of the
    /// buffered input (once a skipped row's rest is dropped).
    fn before_row(&mut self) -> Option<Outcome> {
        if self.batch_full() {
            return Some(Outcome::Full);
        }
        self.skip_rest_of_line();
        if self.pos < self.buf.len() {
            None
        } else if self.eof {
            Some(Outcome::End)
        } else {
            Some(Outcome::NeedInput)
        }
    }

    fn csv(&mut self) -> Outcome {
        let Some(mut csv) = self.csv.take() else {
            return Outcome::End;
        };
        let outcome = loop {
            if let Some(stop) = self.before_row() {
                break stop;
            }
            let start = self.pos;
            let scanned = csv.scan(&self.buf, start, self.eof);
            let result = match scanned {
                Ok(Scan::Record(end)) => match self.over_limit(start, end - start, Some(end)) {
                    Some(e) => Err(e),
                    None => csv
                        .emit(&self.buf, start, end, &mut self.tape, &mut self.shapes)
                        .map(|_| end),
                },
                Ok(Scan::Skip(end)) => Ok(end),
                Ok(Scan::Incomplete) => match self.too_long() {
                    Long::Skipped => continue,
                    Long::Failed(e) => break Outcome::Failed(e),
                    Long::Fits => break Outcome::NeedInput,
                },
                Err(e) => Err(e),
            };
            match result {
                Ok(end) => self.pos = end,
                Err(e) => {
                    if let Some(e) = self.bad_row(e) {
                        break Outcome::Failed(e);
                    }
                }
            }
        };
        self.csv = Some(csv);
        outcome
    }
}
