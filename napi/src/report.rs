//! A finished child's report as the positional array the JS layer (`rawReport` in
//! lib/subprocess/process.js) turns into a `Result` or an error. Built on the I/O thread, so decoding
//! output to text costs the event loop nothing beyond creating the string.
//!
//! The slots are [`ReportField`], exported to JS as an enum: both sides index the array by
//! the same definition, so they cannot drift. An array, not an object: one allocation and no
//! property lookups by name on the hot path.

use napi_derive::napi;

use crate::errors::spawn_code;
use crate::options::process::OutputEncoding;
use crate::runtime::text::Prepared;
use crate::runtime::value::Value;
use offload_core::process::{Captured, Report, SpawnError, Stream, signal};

/// The slots of a child's raw report (the array `spawnProcess`'s promise resolves with).
#[napi]
pub enum ReportField {
    /// The child's pid, or null if it never started.
    Pid,
    /// Exit code, or null if it was killed by a signal or never ran.
    ExitCode,
    /// The signal that killed it (`'SIGTERM'`...), or null.
    Signal,
    /// Captured stdout (string or Buffer), or undefined when not captured.
    Stdout,
    /// Captured stderr, as `Stdout`.
    Stderr,
    /// Milliseconds from start to end.
    DurationMs,
    /// Stopped by its `timeout`.
    TimedOut,
    /// Stopped by an AbortSignal.
    Cancelled,
    /// Signalled by the supervisor (kill, timeout, abort, maxBuffer, teardown).
    Killed,
    /// `'stdout'` or `'stderr'` if that stream passed `maxBuffer`, else null.
    MaxBufferExceeded,
    /// The limit (`'memoryBytes'`, ...) that killed it, or null.
    KilledByLimit,
    /// Whether it ran (an exit status exists).
    Ran,
    /// Peak RSS in bytes, or null if not measured.
    MaxRssBytes,
    /// User CPU time in milliseconds, or null.
    UserCpuMs,
    /// System CPU time in milliseconds, or null.
    SystemCpuMs,
    /// The Node-style code of a spawn failure, or null.
    ErrorCode,
    /// The message of a spawn failure, or null.
    ErrorMessage,
    /// The PATH searched when the program was not found, or null.
    SearchedPath,
    /// Bytes of `input` written to stdin, or null.
    InputWritten,
    /// Why writing `input` failed, or null.
    InputError,
}

/// Slots in a report: one past the last field.
const FIELDS: usize = ReportField::InputError as usize + 1;

fn output(o: Option<Captured>, encoding: OutputEncoding) -> Value {
    match (o, encoding) {
        (None, _) => Value::Undefined,
        (Some(Captured::Heap(v)), OutputEncoding::Buffer) => Value::Bytes(v),
        (Some(Captured::Mapped(m)), OutputEncoding::Buffer) => Value::Mapped(m),
        (Some(c), OutputEncoding::Utf8) => {
            Value::BigText(Prepared::new(match String::from_utf8(c.into_vec()) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            }))
        }
    }
}

fn opt(v: Option<f64>) -> Value {
    v.map_or(Value::Null, Value::Number)
}

fn text(v: Option<String>) -> Value {
    v.map_or(Value::Null, Value::Text)
}

/// The report as the positional list [`ReportField`] describes.
pub(crate) fn to_value(r: Report, encoding: OutputEncoding) -> Value {
    use ReportField as F;
    let status = r.status;
    let ms = |us: u64| us as f64 / 1000.0;
    let mut slots: [Value; FIELDS] = std::array::from_fn(|_| Value::Null);
    let mut set = |field: F, value: Value| slots[field as usize] = value;
    set(F::Pid, opt(r.pid.map(f64::from)));
    set(F::ExitCode, opt(status.and_then(|s| s.code).map(f64::from)));
    set(
        F::Signal,
        text(status.and_then(|s| s.signal).map(signal::name)),
    );
    set(F::Stdout, output(r.stdout, encoding));
    set(F::Stderr, output(r.stderr, encoding));
    set(
        F::DurationMs,
        Value::Number(r.duration.as_secs_f64() * 1000.0),
    );
    set(F::TimedOut, Value::Bool(r.timed_out));
    set(F::Cancelled, Value::Bool(r.cancelled));
    set(F::Killed, Value::Bool(r.killed));
    let exceeded = r.max_buffer_exceeded.map(|s| match s {
        Stream::Stdout => "stdout".to_owned(),
        Stream::Stderr => "stderr".to_owned(),
    });
    set(F::MaxBufferExceeded, text(exceeded));
    set(F::KilledByLimit, text(r.killed_by_limit.map(str::to_owned)));
    set(F::Ran, Value::Bool(status.is_some()));
    set(F::MaxRssBytes, opt(r.max_rss_bytes.map(|b| b as f64)));
    set(F::UserCpuMs, opt(status.map(|s| ms(s.user_cpu_us))));
    set(F::SystemCpuMs, opt(status.map(|s| ms(s.system_cpu_us))));
    let error = r.spawn_error.as_ref();
    set(F::ErrorCode, text(error.map(|e| spawn_code(e).to_owned())));
    set(F::ErrorMessage, text(error.map(|e| e.to_string())));
    let searched = match r.spawn_error {
        Some(SpawnError::NotFound { path, .. }) => Some(path),
        _ => None,
    };
    set(F::SearchedPath, text(searched));
    set(F::InputWritten, opt(r.input_written.map(|n| n as f64)));
    set(F::InputError, text(r.input_error));
    Value::List(slots.into())
}
