//! Options of `parseCsv`, `parseNdjson` and `parseJson` → `offload_core::parse::{Format,
//! Limits}`. The JS layer checks types and flattens `columns`, `quote: false` and `cast`
//! (`header`/`names`, `quote: ''`, `castAll`/`cast` pairs); values are checked here.

use napi_derive::napi;

use super::{MAX_SAFE_INTEGER, count, integer};
use crate::errors::{Result, invalid_value, one_of};
use offload_core::parse::{CsvSpec, Format, Kind, Limits, Shape};

#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct ParseOptions {
    /// A batch ends after this many rows. Default: unset (`batchBytes` decides).
    pub batch_rows: Option<f64>,
    /// A batch ends at the first row end after this many input bytes. Default: 32 KiB, or no
    /// limit when `batchRows` is given.
    pub batch_bytes: Option<f64>,
    /// A longer row or line (for `parseJson`, document) is an `ERR_OFFLOAD_PARSE` error.
    /// Default: 64 MiB (`parseJson`: 1 GiB).
    pub max_row_bytes: Option<f64>,
    /// `'utf8'` (invalid UTF-8 is an error) or `'latin1'`. Default: `'utf8'`.
    pub encoding: Option<String>,
    /// `'throw'` or `'skip'` (bad rows are skipped and counted). Default: `'throw'`.
    pub on_error: Option<String>,
    /// Strip a leading UTF-8 byte order mark. Default: `true`.
    pub bom: Option<bool>,
    /// CSV: names come from the first row. Default: `false`.
    pub header: Option<bool>,
    /// CSV: the column names. Default: none.
    pub names: Option<Vec<String>>,
    /// CSV: one ASCII character. Default: `','`.
    pub delimiter: Option<String>,
    /// CSV: one ASCII character. Default: `'"'`.
    pub quote: Option<String>,
    /// CSV: no quoting (`quote: false`). Default: `false`.
    pub unquoted: Option<bool>,
    /// CSV: one ASCII character. Default: the quote (doubled quotes).
    pub escape: Option<String>,
    /// CSV: one ASCII character starting a line to skip. Default: none.
    pub comment: Option<String>,
    /// CSV: skip empty lines. Default: `false`.
    pub skip_empty_lines: Option<bool>,
    /// CSV: allow rows with another field count. Default: `false`.
    pub relax_column_count: Option<bool>,
    /// CSV: numbers and booleans become values. Default: `false`.
    pub cast_all: Option<bool>,
    /// CSV: `[column, kind]` pairs, kind `'string'`, `'number'`, `'boolean'` or `'date'`.
    /// Default: none.
    pub cast: Option<Vec<Vec<String>>>,
    /// CSV: `'objects'`, `'arrays'` or `'columns'`. Default: `'objects'` with names, else
    /// `'arrays'`.
    pub shape: Option<String>,
    /// The input is JS text the JS layer encoded as UTF-8: `encoding` is checked, not used.
    /// Default: `false`.
    pub text: Option<bool>,
}

const MIB: f64 = 1024.0 * 1024.0;

/// 32 KiB of input per batch (about 450 orders rows): every row of a batch is alive while it is
/// decoded and consumed, so batches size the young-generation GCs. On the 64 MiB orders CSV,
/// 1 MiB batches took 1.8x as long end to end with 5-10 ms scavenges, 256 KiB 1.2x with a 5 ms
/// loop p99; 64 KiB was as fast as 32 KiB with a p99 of 2.1-3.0 ms against 1.6-2.3
/// (docs/parsing.md).
const DEFAULT_BATCH_BYTES: u64 = 32 * 1024;

fn ascii_char(name: &str, v: Option<&str>, default: Option<u8>) -> Result<Option<u8>> {
    match v {
        None => Ok(default),
        Some(s) if s.len() == 1 && s.is_ascii() && !matches!(s, "\n" | "\r") => {
            Ok(Some(s.as_bytes()[0]))
        }
        Some(s) => Err(invalid_value(
            &format!("property 'options.{name}'"),
            format!("it must be one ASCII character other than CR and LF; received {s:?}"),
        )),
    }
}

fn kind(column: &str, k: &str) -> Result<Kind> {
    Ok(match k {
        "string" => Kind::String,
        "number" => Kind::Number,
        "boolean" => Kind::Boolean,
        "date" => Kind::Date,
        _ => {
            return Err(one_of(
                &format!("property 'options.cast.{column}'"),
                &["string", "number", "boolean", "date"],
                k,
            ));
        }
    })
}

/// The format named `format` (`'csv'`, `'ndjson'`, `'json'`) and its limits.
pub(crate) fn convert(format: &str, o: ParseOptions) -> Result<(Format, Limits)> {
    let latin1 = match o.encoding.as_deref() {
        None | Some("utf8" | "utf-8") => false,
        Some("latin1") => true,
        Some(e) => {
            return Err(one_of(
                "property 'options.encoding'",
                &["utf8", "latin1"],
                e,
            ));
        }
    };
    // Text from a JS string arrives as UTF-8 whatever `encoding` says.
    let latin1 = latin1 && o.text != Some(true);
    let skip_errors = match o.on_error.as_deref() {
        None | Some("throw") => false,
        Some("skip") => true,
        Some(e) => return Err(one_of("property 'options.onError'", &["throw", "skip"], e)),
    };
    let batch_rows = o
        .batch_rows
        .map(|n| count("options.batchRows", n, 1.0, false))
        .transpose()?;
    // `batchRows` alone makes batches of exactly that many rows.
    let batch_bytes = match (o.batch_bytes, batch_rows) {
        (Some(n), _) => count("options.batchBytes", n, 1.0, false)? as u64,
        (None, Some(_)) => u64::MAX,
        (None, None) => DEFAULT_BATCH_BYTES,
    };
    let max_default = if format == "json" {
        1024.0 * MIB
    } else {
        64.0 * MIB
    };
    let max_row_bytes = match o.max_row_bytes {
        Some(n) => integer(
            "options.maxRowBytes",
            n,
            1.0,
            MAX_SAFE_INTEGER,
            "an integer >= 1",
        )? as u64,
        None => max_default as u64,
    };
    let limits = Limits {
        batch_rows: batch_rows.map(|n| n as u64),
        batch_bytes,
        max_row_bytes,
        skip_errors,
        bom: o.bom.unwrap_or(true),
        latin1,
    };
    let format = match format {
        "csv" => Format::Csv(csv(o)?),
        "ndjson" => Format::Ndjson,
        "json" => Format::Json,
        f => return Err(one_of("argument 'format'", &["csv", "ndjson", "json"], f)),
    };
    Ok((format, limits))
}

fn csv(o: ParseOptions) -> Result<CsvSpec> {
    let header = o.header.unwrap_or(false);
    let named = header || o.names.is_some();
    let shape = match o.shape.as_deref() {
        None if named => Shape::Objects,
        None | Some("arrays") => Shape::Arrays,
        Some("objects") => Shape::Objects,
        Some("columns") => Shape::Columns,
        Some(s) => {
            return Err(one_of(
                "property 'options.shape'",
                &["objects", "arrays", "columns"],
                s,
            ));
        }
    };
    if shape != Shape::Arrays && !named {
        return Err(invalid_value(
            "property 'options.shape'",
            format!(
                "'{}' needs column names (options.columns)",
                o.shape.unwrap_or_default()
            ),
        ));
    }
    let mut cast = Vec::new();
    for pair in o.cast.unwrap_or_default() {
        let [column, k] = <[String; 2]>::try_from(pair).map_err(|_| {
            invalid_value(
                "property 'options.cast'",
                "each entry must be [column, kind]",
            )
        })?;
        cast.push((column.clone(), kind(&column, &k)?));
    }
    let delimiter = ascii_char("delimiter", o.delimiter.as_deref(), Some(b','))?.unwrap_or(b',');
    let quote = ascii_char("quote", o.quote.as_deref(), Some(b'"'))?;
    let quote = quote.filter(|_| o.unquoted != Some(true));
    let escape = ascii_char("escape", o.escape.as_deref(), None)?;
    let comment = ascii_char("comment", o.comment.as_deref(), None)?;
    if quote == Some(delimiter) || comment == Some(delimiter) {
        return Err(invalid_value(
            "property 'options.delimiter'",
            "it must differ from the quote and the comment character",
        ));
    }
    Ok(CsvSpec {
        delimiter,
        quote,
        escape,
        comment,
        skip_empty_lines: o.skip_empty_lines.unwrap_or(false),
        relax_column_count: o.relax_column_count.unwrap_or(false),
        header,
        names: o.names,
        default_kind: if o.cast_all.unwrap_or(false) {
            Kind::Auto
        } else {
            Kind::String
        },
        cast,
        shape,
    })
}
