//! CSV records (RFC 4180) to tape rows (`scan` finds the fields).
//!
//! A record is scanned whole from its first byte: fields are found with `memchr` (delimiter,
//! newline and, to refuse a stray one, the quote), quoted fields may hold delimiters, quotes
//! (doubled, or after `escape`) and newlines. A record cut by the end of the buffered input is
//! `Incomplete` and scanned again once more input arrives, so the scanner keeps no state between
//! calls and an error can always point into the record's own bytes. Records end at LF or CRLF;
//! a lone CR is data. Strict as csv-parse is by default: a quote inside an unquoted field, a
//! character after a closing quote, a quote left open at the end and a row whose field count
//! differs from the header's (or the first row's) are errors, unless `relax_column_count`
//! allows the last.

mod scan;

use scan::{Dialect, Field, Scanner, row_error};
pub(crate) use scan::{RowError, Scan};

use super::cast;
use super::tape::{Shapes, Tape, op};
use super::{CsvSpec, Kind, Shape};

pub(crate) struct Csv {
    spec: CsvSpec,
    names: Option<Vec<String>>,
    kinds: Vec<Kind>,
    expected: Option<usize>,
    /// Shape of the first `k` names, by `k`.
    prefixes: Vec<u32>,
    scanner: Scanner,
    /// Fields are Latin-1 (the session's encoding), not UTF-8.
    latin1: bool,
}

impl Csv {
    /// Fails if `cast` names a column that the given names do not have.
    pub(crate) fn new(spec: CsvSpec, latin1: bool) -> Result<Csv, String> {
        let scanner = Scanner::new(Dialect {
            delimiter: spec.delimiter,
            quote: spec.quote,
            escape: spec.escape,
            comment: spec.comment,
            skip_empty_lines: spec.skip_empty_lines,
        });
        let mut csv = Csv {
            names: None,
            kinds: Vec::new(),
            expected: None,
            prefixes: Vec::new(),
            scanner,
            spec,
            latin1,
        };
        if let Some(names) = csv.spec.names.take() {
            csv.expected = Some(names.len());
            csv.kinds = csv.spec.kinds_for(Some(&names))?;
            csv.names = Some(names);
        } else if !csv.spec.header {
            csv.kinds = csv.spec.kinds_for(None)?;
        }
        Ok(csv)
    }

    pub(crate) fn shape(&self) -> Shape {
        self.spec.shape
    }

    /// The column names once known (sent to JS with the first tape that has them).
    pub(crate) fn names(&self) -> Option<&[String]> {
        self.names.as_deref()
    }

    /// Whether the next record is the header.
    fn wants_header(&self) -> bool {
        self.spec.header && self.names.is_none()
    }

    /// Scans the record starting at `p`.
    pub(crate) fn scan(&mut self, b: &[u8], p: usize, eof: bool) -> Result<Scan, RowError> {
        self.scanner.scan(b, p, eof)
    }

    /// Writes the scanned record as a row (or takes it as the header). `start` is where the
    /// record starts, `end` where the next begins. Returns whether a row was written.
    pub(crate) fn emit(
        &mut self,
        b: &[u8],
        start: usize,
        end: usize,
        tape: &mut Tape,
        shapes: &mut Shapes,
    ) -> Result<bool, RowError> {
        let n = self.scanner.fields.len();
        if self.wants_header() {
            let mut names = Vec::with_capacity(n);
            for &f in &self.scanner.fields {
                names.push(self.decode(b, self.scanner.text(b, f), f.at as usize, end)?);
            }
            self.expected = Some(n);
            self.kinds = self
                .spec
                .kinds_for(Some(&names))
                .map_err(|m| row_error(start, m, None))?;
            self.names = Some(names);
            self.shape_prefixes(shapes);
            if self.spec.shape == Shape::Columns {
                // The header is the first record: the tape has no rows yet.
                tape.numbers = self.numeric_columns().map(|i| (i, Vec::new())).collect();
            }
            return Ok(false);
        }
        if self.prefixes.is_empty() && self.names.is_some() && self.spec.shape == Shape::Objects {
            self.shape_prefixes(shapes);
        }
        let expected = *self.expected.get_or_insert(n);
        if n != expected && !self.spec.relax_column_count {
            let line = if self.names.is_some() {
                "columns"
            } else {
                "the first row's fields"
            };
            return Err(row_error(
                start,
                format!("Invalid Record Length: expected {expected} fields ({line}), got {n}"),
                Some(end),
            ));
        }
        let mark = tape.mark();
        let result = self.row(b, end, tape);
        if result.is_err() {
            // The tape holds only whole rows.
            tape.undo(mark);
        }
        result.map(|()| {
            tape.rows += 1;
            true
        })
    }

    fn row(&self, b: &[u8], end: usize, tape: &mut Tape) -> Result<(), RowError> {
        let n = self.scanner.fields.len();
        match self.spec.shape {
            Shape::Arrays => {
                tape.op(op::ARR);
                for (i, &f) in self.scanner.fields.iter().enumerate() {
                    self.value(b, f, self.kind(i), tape, end)?;
                }
                tape.op(op::ARR_END);
            }
            Shape::Objects => {
                let k = n.min(self.expected.unwrap_or(n));
                tape.op(op::OBJ);
                for (i, &f) in self.scanner.fields[..k].iter().enumerate() {
                    self.value(b, f, self.kind(i), tape, end)?;
                }
                tape.obj_end(self.prefixes[k]);
            }
            Shape::Columns => {
                let mut numeric = 0;
                for i in 0..self.expected.unwrap_or(n) {
                    let kind = self.kind(i);
                    let field = self.scanner.fields.get(i).copied();
                    if kind == Kind::Number {
                        let v = match field {
                            Some(f) => self.number(b, f, end)?.unwrap_or(f64::NAN),
                            None => f64::NAN,
                        };
                        if let Some((_, col)) = tape.numbers.get_mut(numeric) {
                            col.push(v);
                        }
                        numeric += 1;
                    } else if let Some(f) = field {
                        self.value(b, f, kind, tape, end)?;
                    } else {
                        tape.op(op::NULL);
                    }
                }
            }
        }
        Ok(())
    }

    fn kind(&self, i: usize) -> Kind {
        self.kinds.get(i).copied().unwrap_or(self.spec.default_kind)
    }

    /// The column indexes cast to numbers (`shape: 'columns'`).
    pub(crate) fn numeric_columns(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.expected.unwrap_or(0))
            .filter(|&i| self.kind(i) == Kind::Number)
            .map(|i| i as u32)
    }

    fn shape_prefixes(&mut self, shapes: &mut Shapes) {
        let mut node = 0;
        self.prefixes = vec![0];
        for name in self.names.iter().flatten() {
            node = shapes.child(node, name.as_bytes());
            self.prefixes.push(node);
        }
    }

    fn number(&self, b: &[u8], f: Field, end: usize) -> Result<Option<f64>, RowError> {
        let t = self.scanner.text(b, f);
        if t.is_empty() {
            return Ok(None);
        }
        cast::number(t)
            .map(Some)
            .ok_or_else(|| self.bad(b, f, "a number", end))
    }

    fn bad(&self, b: &[u8], f: Field, what: &str, end: usize) -> RowError {
        let shown = String::from_utf8_lossy(
            &self.scanner.text(b, f)[..self.scanner.text(b, f).len().min(40)],
        )
        .into_owned();
        row_error(
            f.at as usize,
            format!("Invalid value: {shown:?} is not {what}"),
            Some(end),
        )
    }

    fn value(
        &self,
        b: &[u8],
        f: Field,
        kind: Kind,
        tape: &mut Tape,
        end: usize,
    ) -> Result<(), RowError> {
        let t = self.scanner.text(b, f);
        match kind {
            Kind::String => return self.string(b, t, f.at as usize, tape, end),
            Kind::Auto => {
                if let Some(v) = cast::number(t) {
                    tape.num(v);
                } else if let Some(v) = cast::boolean(t) {
                    tape.op(if v { op::TRUE } else { op::FALSE });
                } else {
                    return self.string(b, t, f.at as usize, tape, end);
                }
            }
            _ if t.is_empty() => tape.op(op::NULL),
            Kind::Number => tape.num(self.number(b, f, end)?.unwrap_or(f64::NAN)),
            Kind::Boolean => match cast::boolean(t) {
                Some(v) => tape.op(if v { op::TRUE } else { op::FALSE }),
                None => return Err(self.bad(b, f, "a boolean", end)),
            },
            Kind::Date => match cast::date(t) {
                Some((ms, local)) => tape.date(ms, local),
                None => return Err(self.bad(b, f, "an ISO 8601 date", end)),
            },
        }
        Ok(())
    }

    /// A field's text `t` as a string; `b[at..]` holds the field as written (for errors).
    fn string(
        &self,
        b: &[u8],
        t: &[u8],
        at: usize,
        tape: &mut Tape,
        end: usize,
    ) -> Result<(), RowError> {
        if self.latin1 || t.is_ascii() {
            tape.latin1(t);
            return Ok(());
        }
        tape.utf8(t).map_err(|_| bad_utf8(b, at, end))
    }

    fn decode(&self, b: &[u8], t: &[u8], at: usize, end: usize) -> Result<String, RowError> {
        if self.latin1 {
            return Ok(t.iter().map(|&c| c as char).collect());
        }
        std::str::from_utf8(t)
            .map(str::to_owned)
            .map_err(|_| bad_utf8(b, at, end))
    }
}

/// The error of a field that is not UTF-8, at its first bad byte: found in the field as
/// written (from `at`), since an unescaped copy has other offsets; quotes are ASCII, so the
/// first bad byte there is the field's.
fn bad_utf8(b: &[u8], at: usize, end: usize) -> RowError {
    let first_bad = std::str::from_utf8(&b[at..end])
        .err()
        .map_or(at, |e| at + e.valid_up_to());
    row_error(first_bad, "Invalid UTF-8 in field", Some(end))
}
