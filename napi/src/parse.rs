//! Entry module of parsing: a native parser (`NativeParser`, held by JS in an `External`) keeps
//! an `offload_core::parse::Session` between steps, and `submitParseStep` runs one step on the
//! pool: it takes an optional piece of input (read in place, copied into the session), parses
//! up to `BATCHES_PER_TASK` batches and settles with a list of one result per batch (the last may
//! only ask for input):
//!
//! `[bin, [ops, lens, nums], text1, text2, shapes, firstShape, reset, rows, numericColumns,
//! names, needInput, done, error, totalRows, skipped, bytes]`
//!
//! `bin` is one Buffer owning the numbers (f64: `nums`, then each numeric column's `rows`
//! values), then the opcodes and the string lengths (u32), so the JS layer views it as typed
//! arrays without a copy; `text1`/`text2` are external Latin-1/UTF-16 strings made off the JS
//! thread. `error` is `[message, line, column, offset]` or null. Tape fields are null when the
//! step only asks for input. The session moves out of its slot for a step and back after, as
//! `streams.rs` does, so `closeParser` never waits: closing while a step runs drops the
//! session (and its file) when the step ends.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};

use napi::Env;
use napi::bindgen_prelude::{External, Uint8Array, Unknown};
use napi_derive::napi;

use crate::errors::{self, Result};
use crate::options::files::path;
use crate::options::parse::{ParseOptions, convert};
use crate::pool::NativePool;
use crate::runtime::input::Input;
use crate::runtime::text::Prepared;
use crate::runtime::value::Value;
use offload_core::parse::{Error, Session, Step, Tape};

/// One parse, inside an `External` (declared to napi only for the typings).
#[napi]
pub struct NativeParser {
    slot: Arc<(Mutex<Slot>, Condvar)>,
}

struct Slot {
    session: Option<Box<Session>>,
    closed: bool,
    /// A step is copying its piece (the caller's memory) into the session.
    reading: bool,
}

fn lock(slot: &Mutex<Slot>) -> MutexGuard<'_, Slot> {
    // Nothing panics while the lock is held (two moves of an Option).
    slot.lock().unwrap_or_else(PoisonError::into_inner)
}

/// A parser of `format` (`'csv'`, `'ndjson'`, `'json'`); with `file` (an absolute path's
/// bytes) it reads the file itself, opened by its first step. `priority` is each step's.
#[napi]
pub fn create_parser(
    format: String,
    options: Option<ParseOptions>,
    file: Option<Uint8Array>,
    priority: Option<String>,
) -> Result<External<NativeParser>> {
    // Checked here so a bad value throws at the call, not from the first batch.
    crate::options::pool::priority(priority.as_deref())?;
    let options = options.unwrap_or_default();
    let (format, limits) = convert(&format, options)?;
    let session = match file {
        Some(f) => Session::reading(format, limits, &path("path", &f)?),
        None => Session::new(format, limits),
    };
    let session = session.map_err(|m| errors::invalid_value("property 'options.cast'", m))?;
    let slot = Slot {
        session: Some(Box::new(session)),
        closed: false,
        reading: false,
    };
    Ok(External::new(NativeParser {
        slot: Arc::new((Mutex::new(slot), Condvar::new())),
    }))
}

/// Frees the session (and closes its file) now, or (returns false) when its step ends.
#[napi]
///
/// Waits (on the JS thread) while a step copies its piece: at most one memcpy of 1 MiB, tens
/// of microseconds. After that no step reads a piece again (each finds the slot closed), so the
/// JS layer, which closes before a parse's promise or iterator rejects, hands the caller's
/// memory back settled, an abort included.
pub fn close_parser(parser: &External<NativeParser>) -> bool {
    let (slot, copied) = &*parser.slot;
    let session = {
        let mut slot = lock(slot);
        slot.closed = true;
        while slot.reading {
            slot = copied.wait(slot).unwrap_or_else(PoisonError::into_inner);
        }
        slot.session.take()
    };
    session.is_some()
}

/// One step: feeds `piece` (if given), marks the end of input (`eof`), parses up to a batch.
#[napi]
pub fn submit_parse_step(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    parser: &External<NativeParser>,
    piece: Option<Unknown>,
    eof: bool,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    let input = piece
        .as_ref()
        .map(|p| Input::from_js(&env, p, "piece"))
        .transpose()?;
    let state = parser.slot.clone();
    let work = pool.guarded_by(
        move |token| {
            let cancel = &|| token.is_cancelled();
            let (slot, copied) = &*state;
            let taken = {
                let mut slot = lock(slot);
                let session = slot.session.take();
                // Only with the session in hand: a flag left set would hang `closeParser`.
                slot.reading = input.is_some() && session.is_some();
                session
            };
            let Some(mut session) = taken else {
                return Err(Error::Kernel(
                    offload_core::kernels::KernelError::Unsupported(
                        "the parser has ended or was closed".into(),
                    ),
                ));
            };
            // The piece is copied under `reading`, so `closeParser` waits for the copy.
            if let Some(piece) = &input {
                session.feed(piece.as_slice());
                lock(slot).reading = false;
                copied.notify_all();
            }
            let result = steps(&mut session, eof, cancel);
            let mut slot = lock(slot);
            if !slot.closed && result.as_ref().is_ok_and(|(open, _)| *open) {
                slot.session = Some(session);
            }
            drop(slot);
            result.map(|(_, list)| Value::List(list))
        },
        errors::parse_error,
    );
    let keep: Vec<&Unknown<'_>> = piece.iter().collect();
    pool.submit(&env, slot, &keep, priority, cancellable, work)
}

/// Batches a step returns at most: a task's fixed costs (a wake-up, a completion) are shared
/// by several small batches, and JS decodes one while the pool parses the next ones.
const BATCHES_PER_TASK: usize = 4;

/// Steps the session until it needs input, ends, fails, or gave `BATCHES_PER_TASK` batches;
/// returns whether it may step again, and each step's value.
fn steps(
    session: &mut Session,
    eof: bool,
    cancel: offload_core::kernels::Cancel,
) -> std::result::Result<(bool, Vec<Value>), Error> {
    let mut list = Vec::new();
    loop {
        let step = session.step(eof, cancel)?;
        let open = !step.done && step.error.is_none();
        let more = open && !step.need_input;
        list.push(step_value(step));
        if !more || list.len() == BATCHES_PER_TASK {
            return Ok((open, list));
        }
    }
}

fn step_value(step: Step) -> Value {
    let n = |v: u64| Value::Number(v as f64);
    let mut list = match step.tape {
        Some(tape) => tape_values(tape),
        None => (0..10).map(|_| Value::Null).collect(),
    };
    if let Some(names) = step.names {
        list[9] = Value::List(names.into_iter().map(Value::Text).collect());
    }
    list.push(Value::Bool(step.need_input));
    list.push(Value::Bool(step.done));
    list.push(match step.error {
        Some(e) => Value::List(vec![
            Value::Text(e.message),
            n(e.line),
            n(e.column),
            n(e.offset),
        ]),
        None => Value::Null,
    });
    list.extend([n(step.rows), n(step.skipped), n(step.bytes)]);
    Value::List(list)
}

/// The tape's first ten fields (see the module's doc).
fn tape_values(t: Tape) -> Vec<Value> {
    let columns: usize = t.numbers.iter().map(|(_, c)| c.len()).sum();
    let mut bin =
        Vec::with_capacity((t.nums.len() + columns) * 8 + (t.ops.len() + t.lens.len()) * 4);
    bin.extend(t.nums.iter().flat_map(|v| v.to_ne_bytes()));
    for (_, col) in &t.numbers {
        bin.extend(col.iter().flat_map(|v| v.to_ne_bytes()));
    }
    bin.extend(t.ops.iter().flat_map(|v| v.to_ne_bytes()));
    bin.extend(t.lens.iter().flat_map(|v| v.to_ne_bytes()));
    let counts = [t.ops.len(), t.lens.len(), t.nums.len()].map(|c| Value::Number(c as f64));
    vec![
        Value::Bytes(bin),
        Value::List(counts.into()),
        Value::BigText(Prepared::Latin1(t.text1)),
        Value::BigText(Prepared::Utf16(t.text2)),
        if t.shapes.is_empty() {
            Value::Null
        } else {
            Value::Text(t.shapes)
        },
        Value::Number(f64::from(t.first_shape)),
        Value::Bool(t.reset),
        Value::Number(f64::from(t.rows)),
        Value::List(
            t.numbers
                .iter()
                .map(|(i, _)| Value::Number(f64::from(*i)))
                .collect(),
        ),
        Value::Null,
    ]
}
