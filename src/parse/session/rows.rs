//! Bad rows: where an error is (line and column counted from the bytes still buffered plus the
//! newlines counted as bytes were dropped), skipping a row (up to its LF, even one not yet
//! arrived), and the `max_row_bytes` limit.

use memchr::{memchr, memchr_iter, memrchr};

use super::super::ParseError;
use super::super::csv::RowError;
use super::{Long, Session};

impl Session {
    /// The position of `buf[at]` as a `ParseError`.
    pub(super) fn error_at(&self, at: usize, message: String) -> ParseError {
        let from = self.counted.min(at);
        let line = self.lines + memchr_iter(b'\n', &self.buf[from..at]).count() as u64 + 1;
        let line_start = memrchr(b'\n', &self.buf[..at]).map_or(0, |i| i + 1);
        let span = &self.buf[line_start..at];
        let chars = if self.limits.latin1 {
            span.len()
        } else {
            span.iter().filter(|&&c| (c as i8) >= -0x40).count()
        };
        ParseError {
            message,
            line,
            column: chars as u64 + 1,
            offset: self.base + at as u64,
        }
    }

    /// A bad row: skipped (and counted) if allowed and resumable, else the end of the parse.
    pub(super) fn bad_row(&mut self, e: RowError) -> Option<ParseError> {
        if !self.limits.skip_errors {
            return Some(self.error_at(e.at, e.message));
        }
        self.skipped += 1;
        match e.resume {
            Some(resume) => self.pos = resume,
            None => {
                // Its end is not buffered yet: drop what is, and the rest up to the next LF
                // as it arrives (`skip_line`), so the buffer does not grow meanwhile.
                self.pos = self.buf.len();
                self.skip_line = !self.eof;
            }
        }
        None
    }

    /// Skips to the next line while `skip_line` is set (to the end of the buffer if no LF is in
    /// it yet).
    pub(super) fn skip_rest_of_line(&mut self) {
        if !self.skip_line {
            return;
        }
        match memchr(b'\n', &self.buf[self.pos..]) {
            Some(i) => {
                self.pos += i + 1;
                self.skip_line = false;
            }
            None => self.pos = self.buf.len(),
        }
    }

    /// A row of `len` bytes longer than `max_row_bytes` (resuming at `resume`).
    pub(super) fn over_limit(
        &self,
        at: usize,
        len: usize,
        resume: Option<usize>,
    ) -> Option<RowError> {
        let limit = self.limits.max_row_bytes;
        (len as u64 > limit).then(|| RowError {
            at,
            message: format!("Row longer than maxRowBytes ({limit} bytes)"),
            resume,
        })
    }

    /// Whether the unfinished row at `pos` is already longer than `max_row_bytes`, and what
    /// follows: a failure, a skip (parse on), or waiting for its end to skip it.
    /// Whether the unfinished row at `pos` is already longer than `max_row_bytes`: then it
    /// fails, or is skipped (parse on).
    pub(super) fn too_long(&mut self) -> Long {
        let limit = self.limits.max_row_bytes as usize;
        let at = self.pos;
        let resume = memchr(b'\n', self.buf.get(at + limit..).unwrap_or_default())
            .map(|i| at + limit + i + 1);
        let Some(e) = self.over_limit(at, self.buf.len() - at, resume) else {
            return Long::Fits;
        };
        match self.bad_row(e) {
            Some(e) => Long::Failed(e),
            None => Long::Skipped,
        }
    }
}
