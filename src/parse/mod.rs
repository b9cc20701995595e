//! Huge CSV, NDJSON and JSON inputs parsed on the pool, handed to JavaScript in batches it can
//! afford (docs/parsing.md).
//!
//! A [`Session`] owns one parse: its buffered input (pieces the caller feeds, or a file it reads
//! itself with `pread`), the format's parser and the tape being filled. Each [`Session::step`]
//! runs as one pool task and returns at most one batch: rows are parsed until the batch holds
//! `batch_rows` rows or `batch_bytes` of input, so the work and memory of a step are bounded by
//! the batch, whatever the input's size. Only whole rows reach a tape; a malformed row stops the
//! parse with a [`ParseError`] (line, column, byte offset) after the rows before it, or is
//! skipped and counted.
//!
//! - `tape`: the batch format and the trie of object shapes;
//! - `csv`: RFC 4180 records, `cast`: field conversions;
//! - `json`: one JSON value, `JSON.parse`'s semantics;
//! - `session`: input, batching, errors' positions.

#![forbid(unsafe_code)]

mod cast;
mod csv;
mod json;
mod session;
pub mod tape;
#[cfg(test)]
mod tests;

pub use session::{Session, Step};
pub use tape::Tape;

use crate::files::FileError;
use crate::kernels::KernelError;

/// What a CSV field becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    String,
    /// `cast: true`: a decimal number, `true`/`false`, else the string.
    Auto,
    Number,
    Boolean,
    Date,
}

/// The form of a CSV batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Objects,
    Arrays,
    /// One array (or `Float64Array` for numbers) per column.
    Columns,
}

/// CSV dialect and conversions.
#[derive(Clone, Debug)]
pub struct CsvSpec {
    pub delimiter: u8,
    pub quote: Option<u8>,
    /// `None`: the quote, doubled.
    pub escape: Option<u8>,
    /// A line starting with it is skipped.
    pub comment: Option<u8>,
    pub skip_empty_lines: bool,
    pub relax_column_count: bool,
    /// Names come from the first record.
    pub header: bool,
    /// Names given by the caller.
    pub names: Option<Vec<String>>,
    /// `cast: true` gives `Auto`, else `String`.
    pub default_kind: Kind,
    /// Per-column kinds by name, or by index written in decimal when there are no names.
    pub cast: Vec<(String, Kind)>,
    pub shape: Shape,
}

impl CsvSpec {
    /// Each column's kind; a cast entry naming no column is an error.
    fn kinds_for(&self, names: Option<&[String]>) -> Result<Vec<Kind>, String> {
        let width = names.map_or(0, <[String]>::len);
        let mut kinds = vec![self.default_kind; width];
        for (key, kind) in &self.cast {
            let index = match names {
                Some(names) => names.iter().rposition(|n| n == key),
                None => key.parse::<usize>().ok(),
            };
            match index {
                Some(i) if names.is_some() => kinds[i] = *kind,
                Some(i) => {
                    if kinds.len() <= i {
                        kinds.resize(i + 1, self.default_kind);
                    }
                    kinds[i] = *kind;
                }
                None => {
                    return Err(format!(
                        "options.cast names column {key:?}, which the columns do not have"
                    ));
                }
            }
        }
        Ok(kinds)
    }
}

/// The input formats.
#[derive(Clone, Debug)]
pub enum Format {
    Csv(CsvSpec),
    /// One JSON value per line; blank lines skipped.
    Ndjson,
    /// One JSON document, parsed whole.
    Json,
}

/// Batch and safety limits of a session.
#[derive(Clone, Debug)]
pub struct Limits {
    pub batch_rows: Option<u64>,
    pub batch_bytes: u64,
    /// A longer row (or line) is an error; for `Json`, the whole document's limit.
    pub max_row_bytes: u64,
    pub skip_errors: bool,
    /// Strip a leading UTF-8 byte order mark.
    pub bom: bool,
    /// The input is Latin-1 (every byte a character), not UTF-8.
    pub latin1: bool,
}

/// Malformed input: where (1-based line and column in characters, 0-based byte offset) and why.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message} (line {line}, column {column}, offset {offset})")]
pub struct ParseError {
    pub message: String,
    pub line: u64,
    pub column: u64,
    pub offset: u64,
}

/// Why a step failed (malformed input is not a failure: a step returns it with the rows before
/// it, in [`Step::error`]).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Kernel(#[from] KernelError),
}
