//! JSON text to tape, with `JSON.parse`'s semantics: strict RFC 8259 grammar (no trailing
//! commas, comments, `NaN` or leading zeros; only space, tab, LF and CR between tokens), numbers
//! read as IEEE doubles with correct rounding (Rust's `f64` parser, as V8's; `-0` kept), lone
//! surrogate escapes kept (V8 keeps them), duplicate keys left to the decoder (its object
//! literals keep the last value at the first key's place, as `JSON.parse`) and `__proto__` an
//! ordinary key.
//!
//! The parser is iterative (an explicit stack of open containers), so nesting depth costs heap,
//! never the pool thread's stack. Strings are validated as UTF-8 in place; only strings with
//! escapes are copied (to UTF-16) before they reach the tape.

use super::tape::{Shapes, Tape, op, wtf8};
use crate::kernels::Cancel;

/// Where and why the text is not JSON; `at` is an index into the parsed bytes.
#[derive(Debug)]
pub(crate) struct Syntax {
    pub(crate) at: usize,
    pub(crate) message: String,
}

fn syntax(at: usize, message: impl Into<String>) -> Syntax {
    Syntax {
        at,
        message: message.into(),
    }
}

enum Frame {
    Array,
    Object(u32),
}

/// Reusable buffers of one parse.
#[derive(Default)]
pub(crate) struct Scratch {
    units: Vec<u16>,
    key: Vec<u8>,
    stack: Vec<Frame>,
}

#[inline]
fn skip_ws(b: &[u8], mut p: usize) -> usize {
    while p < b.len() && matches!(b[p], b' ' | b'\t' | b'\n' | b'\r') {
        p += 1;
    }
    p
}

fn unexpected(b: &[u8], p: usize) -> Syntax {
    match b.get(p) {
        None => syntax(p, "Unexpected end of JSON input"),
        Some(&c) if c.is_ascii_graphic() => syntax(p, format!("Unexpected token '{}'", c as char)),
        Some(&c) => syntax(p, format!("Unexpected byte 0x{c:02x}")),
    }
}

/// Parses one JSON value starting at `p` (after optional whitespace) into `tape`; returns the
/// index after it. `cancel` is polled every 64 Ki values.
pub(crate) fn value(
    b: &[u8],
    mut p: usize,
    tape: &mut Tape,
    shapes: &mut Shapes,
    s: &mut Scratch,
    cancel: Cancel,
) -> Result<usize, Syntax> {
    s.stack.clear();
    let mut count = 0u32;
    'value: loop {
        count = count.wrapping_add(1);
        if count & 0xFFFF == 0 && cancel() {
            return Err(syntax(p, "cancelled"));
        }
        p = skip_ws(b, p);
        match b.get(p) {
            Some(b'{') => {
                tape.op(op::OBJ);
                p = skip_ws(b, p + 1);
                if b.get(p) == Some(&b'}') {
                    tape.obj_end(0);
                    p += 1;
                } else {
                    let node = key_of(b, &mut p, 0, shapes, s)?;
                    s.stack.push(Frame::Object(node));
                    continue 'value;
                }
            }
            Some(b'[') => {
                tape.op(op::ARR);
                p = skip_ws(b, p + 1);
                if b.get(p) == Some(&b']') {
                    tape.op(op::ARR_END);
                    p += 1;
                } else {
                    s.stack.push(Frame::Array);
                    continue 'value;
                }
            }
            Some(b'"') => p = string(b, p, tape, &mut s.units)?,
            Some(b'-' | b'0'..=b'9') => p = number(b, p, tape)?,
            Some(b't') => p = literal(b, p, b"true", op::TRUE, tape)?,
            Some(b'f') => p = literal(b, p, b"false", op::FALSE, tape)?,
            Some(b'n') => p = literal(b, p, b"null", op::NULL, tape)?,
            _ => return Err(unexpected(b, p)),
        }
        // After a value: close containers or move to the next element.
        loop {
            let Some(top) = s.stack.last_mut() else {
                return Ok(p);
            };
            p = skip_ws(b, p);
            match (top, b.get(p)) {
                (Frame::Array, Some(b',')) => {
                    p += 1;
                    continue 'value;
                }
                (Frame::Array, Some(b']')) => {
                    tape.op(op::ARR_END);
                    s.stack.pop();
                    p += 1;
                }
                (Frame::Object(node), Some(b',')) => {
                    p = skip_ws(b, p + 1);
                    let parent = *node;
                    let next = key_of(b, &mut p, parent, shapes, s)?;
                    if let Some(Frame::Object(n)) = s.stack.last_mut() {
                        *n = next;
                    }
                    continue 'value;
                }
                (Frame::Object(node), Some(b'}')) => {
                    tape.obj_end(*node);
                    s.stack.pop();
                    p += 1;
                }
                _ => return Err(unexpected(b, p)),
            }
        }
    }
}

/// Reads `"key" :` at `*p` and returns the shape `parent` + key.
fn key_of(
    b: &[u8],
    p: &mut usize,
    parent: u32,
    shapes: &mut Shapes,
    s: &mut Scratch,
) -> Result<u32, Syntax> {
    if b.get(*p) != Some(&b'"') {
        return Err(unexpected(b, *p));
    }
    let start = *p + 1;
    let (end, escaped, ascii) = scan_string(b, start)?;
    if !escaped && !ascii {
        std::str::from_utf8(&b[start..end]).map_err(|e| bad_utf8(start + e.valid_up_to()))?;
    }
    let node = if escaped {
        s.units.clear();
        unescape(b, start, end, &mut s.units)?;
        s.key.clear();
        wtf8(&s.units, &mut s.key);
        shapes.child(parent, &s.key)
    } else {
        shapes.child(parent, &b[start..end])
    };
    *p = skip_ws(b, end + 1);
    if b.get(*p) != Some(&b':') {
        return Err(unexpected(b, *p));
    }
    *p += 1;
    Ok(node)
}

/// Bytes a string's fast scan stops at: the quote, the backslash, control characters and
/// non-ASCII.
const SPECIAL: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        t[c] = c == b'"' as usize || c == b'\\' as usize || c < 0x20 || c >= 0x80;
        c += 1;
    }
    t
};

/// Finds the closing quote of a string whose content starts at `start` and checks control
/// characters. Returns (index of the quote, whether it holds escapes, whether it is ASCII);
/// UTF-8 is checked by whoever reads the text (`unescape`, `Tape::utf8`, `key_of`), once.
#[inline]
fn scan_string(b: &[u8], start: usize) -> Result<(usize, bool, bool), Syntax> {
    let mut p = start;
    let mut escaped = false;
    let mut ascii = true;
    loop {
        while p < b.len() && !SPECIAL[b[p] as usize] {
            p += 1;
        }
        match b.get(p) {
            None => return Err(syntax(start - 1, "Unterminated string in JSON")),
            Some(b'"') => break,
            Some(b'\\') => {
                escaped = true;
                p += 2;
            }
            Some(&c) if c < 0x20 => {
                return Err(syntax(p, "Bad control character in string literal"));
            }
            Some(_) => {
                ascii = false;
                p += 1;
            }
        }
    }
    Ok((p, escaped, ascii))
}

fn bad_utf8(at: usize) -> Syntax {
    syntax(at, "Invalid UTF-8 in string")
}

fn string(b: &[u8], at: usize, tape: &mut Tape, units: &mut Vec<u16>) -> Result<usize, Syntax> {
    let start = at + 1;
    let (end, escaped, ascii) = scan_string(b, start)?;
    if escaped {
        units.clear();
        unescape(b, start, end, units)?;
        tape.utf16(units);
    } else if ascii {
        tape.latin1(&b[start..end]);
    } else {
        tape.utf8(&b[start..end])
            .map_err(|valid| bad_utf8(start + valid))?;
    }
    Ok(end + 1)
}

/// Decodes the escaped string `b[start..end]` into UTF-16 units.
fn unescape(b: &[u8], start: usize, end: usize, out: &mut Vec<u16>) -> Result<(), Syntax> {
    let mut p = start;
    while p < end {
        let run = b[p..end]
            .iter()
            .position(|&c| c == b'\\')
            .map_or(end, |i| p + i);
        if run > p {
            let text = std::str::from_utf8(&b[p..run])
                .map_err(|e| syntax(p + e.valid_up_to(), "Invalid UTF-8 in string"))?;
            out.extend(text.encode_utf16());
        }
        if run == end {
            break;
        }
        let unit = match b.get(run + 1) {
            Some(b'"') => 0x22,
            Some(b'\\') => 0x5C,
            Some(b'/') => 0x2F,
            Some(b'b') => 0x08,
            Some(b'f') => 0x0C,
            Some(b'n') => 0x0A,
            Some(b'r') => 0x0D,
            Some(b't') => 0x09,
            Some(b'u') => {
                let hex = b
                    .get(run + 2..run + 6)
                    .filter(|h| h.iter().all(u8::is_ascii_hexdigit));
                let hex = hex.ok_or_else(|| syntax(run, "Bad Unicode escape in JSON"))?;
                let text = std::str::from_utf8(hex)
                    .map_err(|_| syntax(run, "Bad Unicode escape in JSON"))?;
                out.push(
                    u16::from_str_radix(text, 16)
                        .map_err(|_| syntax(run, "Bad Unicode escape in JSON"))?,
                );
                p = run + 6;
                continue;
            }
            _ => return Err(syntax(run, "Bad escaped character in JSON")),
        };
        out.push(unit);
        p = run + 2;
    }
    Ok(())
}

fn literal(b: &[u8], p: usize, word: &[u8], code: u32, tape: &mut Tape) -> Result<usize, Syntax> {
    match b.get(p..p + word.len()) {
        Some(w) if w == word => {
            tape.op(code);
            Ok(p + word.len())
        }
        _ => {
            let bad = (0..word.len())
                .find(|&i| b.get(p + i) != Some(&word[i]))
                .unwrap_or(0);
            Err(unexpected(b, p + bad))
        }
    }
}

/// `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?`; integers of up to 15 digits are
/// converted exactly without the float parser.
fn number(b: &[u8], start: usize, tape: &mut Tape) -> Result<usize, Syntax> {
    let digits = |mut p: usize| {
        while p < b.len() && b[p].is_ascii_digit() {
            p += 1;
        }
        p
    };
    let mut p = start;
    let negative = b[p] == b'-';
    if negative {
        p += 1;
    }
    let int_start = p;
    match b.get(p) {
        Some(b'0') => p += 1,
        Some(b'1'..=b'9') => p = digits(p),
        _ => return Err(unexpected(b, p)),
    }
    let int_end = p;
    let mut simple = true;
    if b.get(p) == Some(&b'.') {
        simple = false;
        let q = digits(p + 1);
        if q == p + 1 {
            return Err(unexpected(b, q));
        }
        p = q;
    }
    if matches!(b.get(p), Some(b'e' | b'E')) {
        simple = false;
        p += 1;
        if matches!(b.get(p), Some(b'+' | b'-')) {
            p += 1;
        }
        let q = digits(p);
        if q == p {
            return Err(unexpected(b, q));
        }
        p = q;
    }
    if simple && int_end - int_start <= 15 {
        let v = b[int_start..int_end]
            .iter()
            .fold(0u64, |v, &d| v * 10 + u64::from(d - b'0'));
        tape.num(if negative { -(v as f64) } else { v as f64 });
        return Ok(p);
    }
    let text = std::str::from_utf8(&b[start..p]).map_err(|_| unexpected(b, start))?;
    tape.num(text.parse::<f64>().map_err(|_| unexpected(b, start))?);
    Ok(p)
}

/// Whether only JSON whitespace follows `p`.
pub(crate) fn rest_is_blank(b: &[u8], p: usize) -> Result<(), Syntax> {
    let q = skip_ws(b, p);
    if q == b.len() {
        Ok(())
    } else {
        Err(unexpected(b, q))
    }
}
