//! A finished child's report as the plain object the JS layer turns into a `Result` or an
//! error. Built on the I/O thread, so decoding output to text costs the event loop nothing
//! beyond creating the string.

use super::text::Prepared;
use super::value::Value;
use offload_core::process::{Captured, Report, SpawnError, Stream, signal};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Buffer,
}

impl Encoding {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf8",
            Encoding::Buffer => "buffer",
        }
    }
}

fn output(o: Option<Captured>, encoding: Encoding) -> Value {
    match (o, encoding) {
        (None, _) => Value::Undefined,
        (Some(Captured::Heap(v)), Encoding::Buffer) => Value::Bytes(v),
        (Some(Captured::Mapped(m)), Encoding::Buffer) => Value::Mapped(m),
        (Some(c), Encoding::Utf8) => {
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

/// The Node-style code of a spawn failure.
fn spawn_code(e: &SpawnError) -> &'static str {
    match e {
        SpawnError::NotFound { .. } => "ENOENT",
        SpawnError::PermissionDenied { .. } => "EACCES",
        SpawnError::Nul { .. } => "ERR_INVALID_ARG_VALUE",
        SpawnError::Cwd { errno, .. } => match *errno {
            libc::ENOENT => "ENOENT",
            libc::ENOTDIR => "ENOTDIR",
            libc::EACCES => "EACCES",
            _ => "ERR_OFFLOAD_SPAWN",
        },
        SpawnError::Exec { .. }
        | SpawnError::Clone(_)
        | SpawnError::Stdio(_)
        | SpawnError::Limit { .. }
        | SpawnError::ExtraFds
        | SpawnError::Setup { .. } => "ERR_OFFLOAD_SPAWN",
        SpawnError::Internal => "ERR_OFFLOAD_INTERNAL",
    }
}

/// The report as a positional list, in the order `lib/process.js` (`rawReport`) reads it:
/// cheaper to build than an object with named properties, whose keys V8 would look up one by
/// one. `[pid, exitCode, signal, stdout, stderr, durationMs, timedOut, cancelled, killed,
/// maxBufferExceeded, killedByLimit, ran, maxRssBytes, userCpuMs, systemCpuMs, errorCode,
/// errorMessage, searchedPath, inputWritten, inputError]`.
pub(crate) fn to_value(r: Report, encoding: Encoding) -> Value {
    let status = r.status;
    let ms = |us: u64| us as f64 / 1000.0;
    Value::List(vec![
        opt(r.pid.map(f64::from)),
        opt(status.and_then(|s| s.code).map(f64::from)),
        text(status.and_then(|s| s.signal).map(signal::name)),
        output(r.stdout, encoding),
        output(r.stderr, encoding),
        Value::Number(r.duration.as_secs_f64() * 1000.0),
        Value::Bool(r.timed_out),
        Value::Bool(r.cancelled),
        Value::Bool(r.killed),
        text(r.max_buffer_exceeded.map(|s| match s {
            Stream::Stdout => "stdout".to_owned(),
            Stream::Stderr => "stderr".to_owned(),
        })),
        text(r.killed_by_limit.map(str::to_owned)),
        Value::Bool(status.is_some()),
        opt(r.max_rss_bytes.map(|b| b as f64)),
        opt(status.map(|s| ms(s.user_cpu_us))),
        opt(status.map(|s| ms(s.system_cpu_us))),
        text(r.spawn_error.as_ref().map(|e| spawn_code(e).to_owned())),
        text(r.spawn_error.as_ref().map(|e| e.to_string())),
        text(match r.spawn_error {
            Some(SpawnError::NotFound { path, .. }) => Some(path),
            _ => None,
        }),
        opt(r.input_written.map(|n| n as f64)),
        text(r.input_error),
    ])
}
