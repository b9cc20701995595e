//! Finding a CSV record's fields: delimiters, newlines and (to refuse a stray one) quotes are
//! found with `memchr`; a quoted field is read up to its closing quote, doubled quotes (or
//! `escape` + quote) unescaped into `scratch`. A record cut by the end of the buffered input is
//! `Incomplete`: the caller scans it again from its first byte once more input arrives, so the
//! scanner keeps nothing between records.

use memchr::{memchr, memchr2};

/// A field: `start..end` of the input, or of `scratch` when its quotes had to be unescaped.
#[derive(Clone, Copy)]
pub(crate) struct Field {
    start: u32,
    end: u32,
    in_scratch: bool,
    /// Where it starts in the input (for errors).
    pub(crate) at: u32,
}

pub(crate) enum Scan {
    /// A record ending before this index (its newline included).
    Record(usize),
    /// A comment or skipped empty line ending before this index.
    Skip(usize),
    Incomplete,
}

/// An error in a row: where (an index into the input) and what.
pub(crate) struct RowError {
    pub(crate) at: usize,
    pub(crate) message: String,
    /// Where scanning may resume after skipping the row, if known.
    pub(crate) resume: Option<usize>,
}

pub(crate) fn row_error(at: usize, message: impl Into<String>, resume: Option<usize>) -> RowError {
    RowError {
        at,
        message: message.into(),
        resume,
    }
}

/// What separates and quotes fields.
pub(crate) struct Dialect {
    pub(crate) delimiter: u8,
    pub(crate) quote: Option<u8>,
    pub(crate) escape: Option<u8>,
    pub(crate) comment: Option<u8>,
    pub(crate) skip_empty_lines: bool,
}

/// The fields of the last record scanned.
pub(crate) struct Scanner {
    d: Dialect,
    pub(crate) fields: Vec<Field>,
    scratch: Vec<u8>,
}

impl Scanner {
    pub(crate) fn new(d: Dialect) -> Scanner {
        Scanner {
            d,
            fields: Vec::new(),
            scratch: Vec::new(),
        }
    }

    /// Where the unquoted field at the start of `rest` stops: at the delimiter, LF or the
    /// quote. Fields are short (ten bytes on the orders data), where `memchr3`'s setup per
    /// call costs more than the search: 8 bytes at a time in a `u64` (SWAR) instead.
    #[inline]
    fn field_end(&self, rest: &[u8]) -> Option<usize> {
        let (a, c) = (self.d.delimiter, self.d.quote.unwrap_or(self.d.delimiter));
        find3(rest, a, b'\n', c)
    }

    /// Scans the record starting at `p` into `self.fields`.
    pub(crate) fn scan(&mut self, b: &[u8], p: usize, eof: bool) -> Result<Scan, RowError> {
        let (delim, quote) = (self.d.delimiter, self.d.quote);
        let escape = self.d.escape.or(quote);
        self.fields.clear();
        self.scratch.clear();
        if p < b.len() {
            if self.d.comment == Some(b[p]) {
                return Ok(match memchr(b'\n', &b[p..]) {
                    Some(i) => Scan::Skip(p + i + 1),
                    None if eof => Scan::Skip(b.len()),
                    None => Scan::Incomplete,
                });
            }
            if self.d.skip_empty_lines {
                let blank = if b[p] == b'\n' {
                    Some(p + 1)
                } else if b[p..].starts_with(b"\r\n") {
                    Some(p + 2)
                } else {
                    None
                };
                if let Some(end) = blank {
                    return Ok(Scan::Skip(end));
                }
                if b[p] == b'\r' && p + 1 == b.len() && !eof {
                    return Ok(Scan::Incomplete);
                }
            }
        }
        let mut q = p;
        loop {
            if quote.is_some() && b.get(q).copied() == quote {
                let quote = quote.unwrap_or(b'"');
                let (field, after) = match self.quoted(b, q, quote, escape.unwrap_or(quote), eof)? {
                    Some(x) => x,
                    None => return Ok(Scan::Incomplete),
                };
                self.fields.push(field);
                match b.get(after) {
                    Some(&c) if c == delim => q = after + 1,
                    Some(b'\n') => return Ok(Scan::Record(after + 1)),
                    Some(b'\r') if b.get(after + 1) == Some(&b'\n') => {
                        return Ok(Scan::Record(after + 2));
                    }
                    Some(b'\r') if after + 1 == b.len() && !eof => return Ok(Scan::Incomplete),
                    None if eof => return Ok(Scan::Record(after)),
                    None => return Ok(Scan::Incomplete),
                    Some(&c) => {
                        let resume = memchr(b'\n', &b[after..]).map(|i| after + i + 1);
                        let shown = String::from_utf8_lossy(
                            &b[after..after + utf8_len(c).min(b.len() - after)],
                        )
                        .into_owned();
                        return Err(row_error(
                            after,
                            format!(
                                "Invalid Closing Quote: got \"{shown}\" instead of delimiter or record delimiter"
                            ),
                            resume,
                        ));
                    }
                }
                continue;
            }
            let hit = self.field_end(&b[q..]);
            let Some(i) = hit else {
                if !eof {
                    return Ok(Scan::Incomplete);
                }
                self.fields.push(Field {
                    start: q as u32,
                    end: b.len() as u32,
                    in_scratch: false,
                    at: q as u32,
                });
                return Ok(Scan::Record(b.len()));
            };
            let j = q + i;
            if Some(b[j]) == quote {
                let resume = memchr(b'\n', &b[j..]).map(|k| j + k + 1);
                let field = self.fields.len();
                return Err(row_error(
                    j,
                    format!("Invalid Opening Quote: a quote is found in unquoted field {field}"),
                    resume,
                ));
            }
            let end = if b[j] == b'\n' && j > q && b[j - 1] == b'\r' {
                j - 1
            } else {
                j
            };
            self.fields.push(Field {
                start: q as u32,
                end: end as u32,
                in_scratch: false,
                at: q as u32,
            });
            if b[j] == b'\n' {
                return Ok(Scan::Record(j + 1));
            }
            q = j + 1;
        }
    }

    /// A quoted field opening at `open`: the field and the index after its closing quote, or
    /// `None` if the input ends inside it.
    fn quoted(
        &mut self,
        b: &[u8],
        open: usize,
        quote: u8,
        escape: u8,
        eof: bool,
    ) -> Result<Option<(Field, usize)>, RowError> {
        let mut q = open + 1;
        let mut seg = q;
        let scratch_start = self.scratch.len();
        let mut copied = false;
        loop {
            let hit = if escape == quote {
                memchr(quote, &b[q..])
            } else {
                memchr2(quote, escape, &b[q..])
            };
            let Some(i) = hit else {
                return if eof {
                    Err(row_error(
                        open,
                        "Quote Not Closed: the input ends inside a quoted field",
                        None,
                    ))
                } else {
                    Ok(None)
                };
            };
            let j = q + i;
            let next = b.get(j + 1).copied();
            if next.is_none() && !eof {
                return Ok(None);
            }
            // A doubled quote is one quote; another escape character takes the next byte as
            // it is (and is dropped itself), as csv-parse does inside quotes.
            let escapes_next = if escape == quote {
                next == Some(quote)
            } else {
                b[j] == escape && next.is_some()
            };
            if escapes_next {
                self.scratch.extend_from_slice(&b[seg..j]);
                self.scratch.push(next.unwrap_or(quote));
                copied = true;
                seg = j + 2;
                q = j + 2;
                continue;
            }
            if b[j] != quote {
                // An escape as the input's last byte: the quote is not closed.
                q = j + 1;
                continue;
            }
            let field = if copied {
                self.scratch.extend_from_slice(&b[seg..j]);
                Field {
                    start: scratch_start as u32,
                    end: self.scratch.len() as u32,
                    in_scratch: true,
                    at: open as u32,
                }
            } else {
                Field {
                    start: (open + 1) as u32,
                    end: j as u32,
                    in_scratch: false,
                    at: open as u32,
                }
            };
            return Ok(Some((field, j + 1)));
        }
    }

    pub(crate) fn text<'a>(&'a self, b: &'a [u8], f: Field) -> &'a [u8] {
        let (s, e) = (f.start as usize, f.end as usize);
        if f.in_scratch {
            &self.scratch[s..e]
        } else {
            &b[s..e]
        }
    }
}

const LO: u64 = 0x0101_0101_0101_0101;
const HI: u64 = 0x8080_8080_8080_8080;

/// The first index of `a`, `b` or `c` in `s`. Per word, `(y - LO) & !y & HI` flags the zero
/// bytes of `y` (and possibly bytes above a zero, through the borrow): the lowest flag is
/// always the first match.
#[inline]
pub(crate) fn find3(s: &[u8], a: u8, b: u8, c: u8) -> Option<usize> {
    let (ma, mb, mc) = (LO * u64::from(a), LO * u64::from(b), LO * u64::from(c));
    let zero = |y: u64| y.wrapping_sub(LO) & !y & HI;
    let mut words = s.chunks_exact(8);
    let mut i = 0;
    for w in &mut words {
        let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
        let hit = zero(x ^ ma) | zero(x ^ mb) | zero(x ^ mc);
        if hit != 0 {
            return Some(i + (hit.trailing_zeros() / 8) as usize);
        }
        i += 8;
    }
    words
        .remainder()
        .iter()
        .position(|&x| x == a || x == b || x == c)
        .map(|p| i + p)
}

/// Bytes of the UTF-8 sequence a lead byte starts.
fn utf8_len(c: u8) -> usize {
    match c {
        0xF0.. => 4,
        0xE0.. => 3,
        0xC0.. => 2,
        _ => 1,
    }
}

#[cfg(test)]
mod tests {
    use super::find3;

    #[test]
    fn find3_finds_the_first_of_three_bytes_anywhere() {
        let hay: Vec<u8> = (0..40u8).map(|i| b'a' + i % 20).collect();
        for at in 0..hay.len() {
            for byte in [b',', b'\n', b'"'] {
                let mut h = hay.clone();
                h[at] = byte;
                if at + 1 < h.len() {
                    h[at + 1] = b'"';
                }
                assert_eq!(find3(&h, b',', b'\n', b'"'), Some(at), "{byte} at {at}");
            }
        }
        assert_eq!(find3(&hay, b',', b'\n', b'"'), None);
        // A byte one above a match (the borrow's false flag) never wins.
        assert_eq!(find3(b"\x01,abcdefgh", 0, b',', 0), Some(1));
        assert_eq!(find3(b"x-,", b',', b',', b','), Some(2));
    }
}
