//! The tape: parsed values in the form the JS thread decodes fastest (docs/parsing.md).
//!
//! Creating JS objects is the one part of parsing that must run on the JS thread. Measured on
//! the orders rows (7 string fields), `JSON.parse` of a prepared JSON text costs about 1 µs a
//! row there, while a tight JS loop over this tape costs 0.1–0.2 µs: values arrive as opcodes
//! (`ops`), numbers in a `Float64Array` (`nums`), and every string as a slice of one of two
//! strings per batch (`text1`, Latin-1, for strings whose characters all fit one byte; `text2`,
//! UTF-16, for the others) whose lengths are in `lens`. Objects name no keys: each ends with the
//! id of its *shape*, the sequence of its keys, so the decoder builds it with one generated
//! object literal (`{"id": v[b], ...}`), as V8 builds literals, instead of key by key.
//!
//! Shapes are the nodes of a trie of key sequences, shared by every tape of one parse. A tape
//! carries only the shapes first used in it (`shapes`: a JSON text of `[parent, key]` pairs) and
//! the trie starts afresh (`reset`) when it grows past [`MAX_SHAPES`], so an input whose every
//! object has new keys keeps a bounded table.

/// Opcodes; an op is `code | operand << 4`.
pub mod op {
    pub const STR1: u32 = 0;
    pub const STR2: u32 = 1;
    pub const NUM: u32 = 2;
    pub const TRUE: u32 = 3;
    pub const FALSE: u32 = 4;
    pub const NULL: u32 = 5;
    pub const ARR: u32 = 6;
    pub const ARR_END: u32 = 7;
    pub const OBJ: u32 = 8;
    /// Operand: the shape id.
    pub const OBJ_END: u32 = 9;
    /// A `Date` at `nums[k]` ms since the epoch.
    pub const DATE: u32 = 10;
    /// A `Date` of local time whose fields are those of `nums[k]` read as UTC (what `new Date`
    /// does with an ISO date-time without an offset).
    pub const DATE_LOCAL: u32 = 11;
}

/// The trie is dropped and started again past this many shapes (at a batch boundary).
pub(crate) const MAX_SHAPES: usize = 1 << 16;

/// The longest string V8 makes (2^29 − 24 units on 64-bit platforms).
pub(crate) const MAX_TEXT: usize = (1 << 29) - 24;

#[derive(Clone, Copy, Default)]
pub(crate) struct Mark([usize; 5]);

/// One batch of values.
#[derive(Debug, Default)]
pub struct Tape {
    pub ops: Vec<u32>,
    pub lens: Vec<u32>,
    pub nums: Vec<f64>,
    pub text1: Vec<u8>,
    pub text2: Vec<u16>,
    /// `[[parent, "key"], ...]` for shapes first used in this tape, in id order from
    /// `first_shape`; empty if none.
    pub shapes: String,
    pub first_shape: u32,
    /// The decoder must forget every shape before reading this tape's.
    pub reset: bool,
    /// Top-level values (rows) in the tape.
    pub rows: u32,
    /// `shape: 'columns'`: each numeric column's values, by column index.
    pub numbers: Vec<(u32, Vec<f64>)>,
}

impl Tape {
    #[inline]
    pub(crate) fn op(&mut self, code: u32) {
        self.ops.push(code);
    }

    #[inline]
    pub(crate) fn num(&mut self, n: f64) {
        self.ops.push(op::NUM);
        self.nums.push(n);
    }

    pub(crate) fn date(&mut self, ms: f64, local: bool) {
        self.ops.push(if local { op::DATE_LOCAL } else { op::DATE });
        self.nums.push(ms);
    }

    #[inline]
    pub(crate) fn obj_end(&mut self, shape: u32) {
        self.ops.push(op::OBJ_END | shape << 4);
    }

    /// A string from UTF-8 that may be invalid (then `Err(valid_up_to)`, and the tape is
    /// unchanged). One pass for Latin-1 text (ASCII, and `C2`/`C3` sequences); other text is
    /// validated and stored as UTF-16.
    #[inline]
    pub(crate) fn utf8(&mut self, b: &[u8]) -> Result<(), usize> {
        let start = self.text1.len();
        let mut i = 0;
        while i < b.len() {
            let run = b[i..]
                .iter()
                .position(|&c| c >= 0x80)
                .map_or(b.len(), |n| i + n);
            self.text1.extend_from_slice(&b[i..run]);
            i = run;
            if i == b.len() {
                break;
            }
            let (c, next) = (b[i], b.get(i + 1).copied().unwrap_or(0));
            if (c == 0xC2 || c == 0xC3) && next & 0xC0 == 0x80 {
                self.text1.push(((c & 0x1F) << 6) | (next & 0x3F));
                i += 2;
            } else {
                self.text1.truncate(start);
                let s = std::str::from_utf8(b).map_err(|e| e.valid_up_to())?;
                let from = self.text2.len();
                self.text2.extend(s.encode_utf16());
                self.ops.push(op::STR2);
                self.lens.push((self.text2.len() - from) as u32);
                return Ok(());
            }
        }
        self.ops.push(op::STR1);
        self.lens.push((self.text1.len() - start) as u32);
        Ok(())
    }

    /// A string whose bytes are Latin-1 characters.
    #[inline]
    pub(crate) fn latin1(&mut self, b: &[u8]) {
        self.ops.push(op::STR1);
        self.lens.push(b.len() as u32);
        self.text1.extend_from_slice(b);
    }

    /// A string of UTF-16 units (lone surrogates included).
    pub(crate) fn utf16(&mut self, u: &[u16]) {
        if u.iter().all(|&c| c < 0x100) {
            self.ops.push(op::STR1);
            self.lens.push(u.len() as u32);
            self.text1.extend(u.iter().map(|&c| c as u8));
        } else {
            self.ops.push(op::STR2);
            self.lens.push(u.len() as u32);
            self.text2.extend_from_slice(u);
        }
    }

    /// Where the tape ends now, to [`undo`](Self::undo) a row that turns out malformed.
    pub(crate) fn mark(&self) -> Mark {
        Mark([
            self.ops.len(),
            self.lens.len(),
            self.nums.len(),
            self.text1.len(),
            self.text2.len(),
        ])
    }

    /// An empty tape with room for a little more than `m` (the last batch): batches are alike,
    /// and a tape that grows by doubling copies itself several times.
    pub(crate) fn sized_like(m: Mark) -> Tape {
        let room = |n: usize| n + n / 8;
        Tape {
            ops: Vec::with_capacity(room(m.0[0])),
            lens: Vec::with_capacity(room(m.0[1])),
            nums: Vec::with_capacity(room(m.0[2])),
            text1: Vec::with_capacity(room(m.0[3])),
            text2: Vec::with_capacity(room(m.0[4])),
            ..Tape::default()
        }
    }

    pub(crate) fn undo(&mut self, m: Mark) {
        self.ops.truncate(m.0[0]);
        self.lens.truncate(m.0[1]);
        self.nums.truncate(m.0[2]);
        self.text1.truncate(m.0[3]);
        self.text2.truncate(m.0[4]);
        for (_, col) in &mut self.numbers {
            col.truncate(self.rows as usize);
        }
    }

    /// Whether the text still fits V8's strings.
    pub(crate) fn text_fits(&self) -> bool {
        self.text1.len() <= MAX_TEXT && self.text2.len() <= MAX_TEXT
    }
}

struct Node {
    parent: u32,
    key: Box<[u8]>,
    first_child: u32,
}

const NONE: u32 = u32::MAX;

/// The trie of key sequences (object shapes). Id 0 is the empty object. Keys are kept as
/// WTF-8 (UTF-8 that may hold lone surrogates), so `"\u00e9"` and `"é"` are one key.
pub(crate) struct Shapes {
    nodes: Vec<Node>,
    children: std::collections::HashMap<(u32, Box<[u8]>), u32>,
    /// Shapes not yet sent to JS start here.
    sent: usize,
    reset: bool,
}

impl Shapes {
    pub(crate) fn new() -> Self {
        let mut s = Shapes {
            nodes: Vec::new(),
            children: Default::default(),
            sent: 1,
            reset: false,
        };
        s.nodes.push(Node {
            parent: 0,
            key: Box::default(),
            first_child: NONE,
        });
        s
    }

    /// The shape of `parent`'s keys followed by `key`. Rows of one kind take the same path,
    /// so the first child is checked before the map.
    #[inline]
    pub(crate) fn child(&mut self, parent: u32, key: &[u8]) -> u32 {
        let first = self.nodes[parent as usize].first_child;
        if first != NONE && *self.nodes[first as usize].key == *key {
            return first;
        }
        if let Some(&id) = self.children.get(&(parent, Box::from(key))) {
            return id;
        }
        let id = self.nodes.len() as u32;
        self.nodes.push(Node {
            parent,
            key: key.into(),
            first_child: NONE,
        });
        if first == NONE {
            self.nodes[parent as usize].first_child = id;
        }
        self.children.insert((parent, key.into()), id);
        id
    }

    /// Starts a tape: forgets every shape if the table is full (the decoder is told).
    pub(crate) fn begin(&mut self) {
        if self.nodes.len() > MAX_SHAPES {
            *self = Shapes::new();
            self.reset = true;
        }
    }

    /// Writes the shapes first used since the last call into `tape`.
    pub(crate) fn finish(&mut self, tape: &mut Tape) {
        tape.reset = std::mem::take(&mut self.reset);
        tape.first_shape = self.sent as u32;
        if self.sent == self.nodes.len() {
            return;
        }
        let mut out = String::from("[");
        for id in self.sent..self.nodes.len() {
            let parent = self.nodes[id].parent;
            if id > self.sent {
                out.push(',');
            }
            out.push_str(&format!("[{parent},"));
            json_string(&mut out, &self.nodes[id].key);
            out.push(']');
        }
        out.push(']');
        tape.shapes = out;
        self.sent = self.nodes.len();
    }
}

/// Appends `key` (WTF-8) as a JSON string literal; lone surrogates become `\uXXXX`.
fn json_string(out: &mut String, key: &[u8]) {
    out.push('"');
    let mut i = 0;
    while i < key.len() {
        let b = key[i];
        let (cp, n) = if b < 0x80 {
            (b as u32, 1)
        } else if b < 0xE0 {
            (((b as u32 & 0x1F) << 6) | (key[i + 1] as u32 & 0x3F), 2)
        } else if b < 0xF0 {
            let c = ((b as u32 & 0x0F) << 12) | ((key[i + 1] as u32 & 0x3F) << 6);
            (c | (key[i + 2] as u32 & 0x3F), 3)
        } else {
            let c = ((b as u32 & 0x07) << 18) | ((key[i + 1] as u32 & 0x3F) << 12);
            (
                c | ((key[i + 2] as u32 & 0x3F) << 6) | (key[i + 3] as u32 & 0x3F),
                4,
            )
        };
        i += n;
        match char::from_u32(cp) {
            Some('"') => out.push_str("\\\""),
            Some('\\') => out.push_str("\\\\"),
            Some(c) if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            Some(c) => out.push(c),
            None => out.push_str(&format!("\\u{cp:04x}")),
        }
    }
    out.push('"');
}

/// Appends `u` (UTF-16, lone surrogates allowed) to `out` as WTF-8.
pub(crate) fn wtf8(u: &[u16], out: &mut Vec<u8>) {
    for r in char::decode_utf16(u.iter().copied()) {
        match r {
            Ok(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
            Err(e) => {
                let s = e.unpaired_surrogate() as u32;
                out.extend_from_slice(&[
                    0xE0 | (s >> 12) as u8,
                    0x80 | ((s >> 6) & 0x3F) as u8,
                    0x80 | (s & 0x3F) as u8,
                ]);
            }
        }
    }
}
