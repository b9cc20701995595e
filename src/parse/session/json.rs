//! The JSON formats of a session: NDJSON line by line (blank lines skipped, a bad line undone
//! from the tape and, if allowed, skipped), and one whole document, parsed once the input ends.

use std::borrow::Cow;

use memchr::memchr;

use super::super::csv::RowError;
use super::super::json;
use super::{Long, Outcome, Session};
use crate::kernels::{Cancel, KernelError};
use crate::parse::Error;
use crate::parse::tape::Tape;

impl Session {
    pub(super) fn ndjson(&mut self, cancel: Cancel) -> Result<Outcome, Error> {
        loop {
            if let Some(stop) = self.before_row() {
                return Ok(stop);
            }
            let start = self.pos;
            let end = match memchr(b'\n', &self.buf[start..]) {
                Some(i) => start + i,
                None if self.eof => self.buf.len(),
                None => match self.too_long() {
                    Long::Skipped => continue,
                    Long::Failed(e) => return Ok(Outcome::Failed(e)),
                    Long::Fits => return Ok(Outcome::NeedInput),
                },
            };
            let next = (end + 1).min(self.buf.len());
            if let Some(e) = self.over_limit(start, end - start, Some(next)) {
                match self.bad_row(e) {
                    Some(e) => return Ok(Outcome::Failed(e)),
                    None => continue,
                }
            }
            let line = &self.buf[start..end];
            if line.iter().all(|c| matches!(c, b' ' | b'\t' | b'\r')) {
                self.pos = next;
                continue;
            }
            let mark = self.tape.mark();
            let parsed = self.value(start, end, cancel);
            match parsed {
                Ok(()) => {
                    self.tape.rows += 1;
                    self.pos = next;
                }
                Err(e) if cancel() => return Err(cancelled(e)),
                Err(e) => {
                    self.tape.undo(mark);
                    let e = RowError {
                        at: start + e.at,
                        message: e.message,
                        resume: Some(next),
                    };
                    if let Some(e) = self.bad_row(e) {
                        return Ok(Outcome::Failed(e));
                    }
                }
            }
        }
    }

    /// Parses `buf[start..end]` as one value followed by blanks only.
    fn value(&mut self, start: usize, end: usize, cancel: Cancel) -> Result<(), json::Syntax> {
        let text: Cow<[u8]> = if self.limits.latin1 {
            latin1_to_utf8(&self.buf[start..end]).into()
        } else {
            self.buf[start..end].into()
        };
        let p = json::value(
            &text,
            0,
            &mut self.tape,
            &mut self.shapes,
            &mut self.scratch,
            cancel,
        )?;
        json::rest_is_blank(&text, p)
    }

    pub(super) fn json(&mut self, cancel: Cancel) -> Result<Outcome, Error> {
        if (self.buf.len() - self.pos) as u64 > self.limits.max_row_bytes {
            let limit = self.limits.max_row_bytes;
            return Ok(Outcome::Failed(self.error_at(
                self.pos,
                format!("Document longer than maxBytes ({limit} bytes)"),
            )));
        }
        if !self.eof {
            return Ok(Outcome::NeedInput);
        }
        let (start, end) = (self.pos, self.buf.len());
        match self.value(start, end, cancel) {
            Ok(()) => {
                self.tape.rows = 1;
                self.pos = end;
                if !self.tape.text_fits() {
                    return Ok(Outcome::Failed(self.error_at(
                        start,
                        "Document's text longer than V8's longest string".into(),
                    )));
                }
                Ok(Outcome::End)
            }
            Err(e) if cancel() => Err(cancelled(e)),
            Err(e) => {
                self.tape = Tape::default();
                Ok(Outcome::Failed(self.error_at(start + e.at, e.message)))
            }
        }
    }
}

fn cancelled(_: json::Syntax) -> Error {
    Error::Kernel(KernelError::Cancelled)
}

fn latin1_to_utf8(b: &[u8]) -> Vec<u8> {
    b.iter()
        .map(|&c| c as char)
        .collect::<String>()
        .into_bytes()
}
