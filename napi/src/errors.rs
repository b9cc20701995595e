//! Node-style coded errors, the binding's only source of them.
//!
//! Every code the addon hands to JavaScript is a constant here, and every core error
//! (`PoolError`, `KernelError`, `SupervisorError`, `SpawnError`, pool outcomes) is mapped to its
//! code in this one file. Errors thrown synchronously are `napi::Error`s whose status is the
//! code; the JS layer turns `ERR_INVALID_ARG_*` into `TypeError` and `ERR_OUT_OF_RANGE` into
//! `RangeError`, as Node does. Failures of a task travel as [`TaskError`] through the channel.
//! This module sits below everything else in the crate and imports nothing from it.

use std::fmt::Display;

use offload_core::images::ImageError;
use offload_core::kernels::KernelError;
use offload_core::pool::{CancelReason, Outcome, PoolError};

pub(crate) const ERR_INVALID_ARG_TYPE: &str = "ERR_INVALID_ARG_TYPE";
pub(crate) const ERR_INVALID_ARG_VALUE: &str = "ERR_INVALID_ARG_VALUE";
pub(crate) const ERR_OUT_OF_RANGE: &str = "ERR_OUT_OF_RANGE";
pub(crate) const ERR_UNKNOWN_SIGNAL: &str = "ERR_UNKNOWN_SIGNAL";
pub(crate) const ABORT_ERR: &str = "ABORT_ERR";
pub(crate) const EPIPE: &str = "EPIPE";
pub(crate) const ENOENT: &str = "ENOENT";
pub(crate) const EACCES: &str = "EACCES";
pub(crate) const ENOTDIR: &str = "ENOTDIR";
pub(crate) const ERR_OFFLOAD_QUEUE_FULL: &str = "ERR_OFFLOAD_QUEUE_FULL";
pub(crate) const ERR_OFFLOAD_POOL_CLOSED: &str = "ERR_OFFLOAD_POOL_CLOSED";
pub(crate) const ERR_OFFLOAD_POOL_SPAWN: &str = "ERR_OFFLOAD_POOL_SPAWN";
pub(crate) const ERR_OFFLOAD_POOL_DESTROYED: &str = "ERR_OFFLOAD_POOL_DESTROYED";
pub(crate) const ERR_OFFLOAD_OUTPUT_TOO_LARGE: &str = "ERR_OFFLOAD_OUTPUT_TOO_LARGE";
pub(crate) const ERR_OFFLOAD_CORRUPT_INPUT: &str = "ERR_OFFLOAD_CORRUPT_INPUT";
pub(crate) const ERR_OFFLOAD_UNSUPPORTED_FORMAT: &str = "ERR_OFFLOAD_UNSUPPORTED_FORMAT";
pub(crate) const ERR_OFFLOAD_IMAGE_TOO_LARGE: &str = "ERR_OFFLOAD_IMAGE_TOO_LARGE";
pub(crate) const ERR_OFFLOAD_TASK_PANICKED: &str = "ERR_OFFLOAD_TASK_PANICKED";
pub(crate) const ERR_OFFLOAD_TIMEOUT: &str = "ERR_OFFLOAD_TIMEOUT";
pub(crate) const ERR_OFFLOAD_CANCELLED: &str = "ERR_OFFLOAD_CANCELLED";
pub(crate) const ERR_OFFLOAD_NOT_INITIALIZED: &str = "ERR_OFFLOAD_NOT_INITIALIZED";
pub(crate) const ERR_OFFLOAD_INIT: &str = "ERR_OFFLOAD_INIT";
pub(crate) const ERR_OFFLOAD_INTERNAL: &str = "ERR_OFFLOAD_INTERNAL";
pub(crate) const ERR_OFFLOAD_SPAWN: &str = "ERR_OFFLOAD_SPAWN";
pub(crate) const ERR_OFFLOAD_IO: &str = "ERR_OFFLOAD_IO";
pub(crate) const ERR_OFFLOAD_WORKER_CRASHED: &str = "ERR_OFFLOAD_WORKER_CRASHED";
pub(crate) const ERR_OFFLOAD_WORKER_START: &str = "ERR_OFFLOAD_WORKER_START";
pub(crate) const ERR_OFFLOAD_HOST_BUDGET: &str = "ERR_OFFLOAD_HOST_BUDGET";
// Encryption and key derivation (issue 16): ours, then node's crypto codes, with node's classes
// (lib/shared/errors.js).
pub(crate) const ERR_OFFLOAD_AUTH_FAILED: &str = "ERR_OFFLOAD_AUTH_FAILED";
pub(crate) const ERR_CRYPTO_INVALID_KEYLEN: &str = "ERR_CRYPTO_INVALID_KEYLEN";
pub(crate) const ERR_CRYPTO_INVALID_IV: &str = "ERR_CRYPTO_INVALID_IV";
pub(crate) const ERR_CRYPTO_INVALID_AUTH_TAG: &str = "ERR_CRYPTO_INVALID_AUTH_TAG";
pub(crate) const ERR_CRYPTO_INVALID_DIGEST: &str = "ERR_CRYPTO_INVALID_DIGEST";
pub(crate) const ERR_CRYPTO_INVALID_SCRYPT_PARAMS: &str = "ERR_CRYPTO_INVALID_SCRYPT_PARAMS";
pub(crate) const ERR_CRYPTO_SCRYPT_INVALID_PARAMETER: &str = "ERR_CRYPTO_SCRYPT_INVALID_PARAMETER";

pub(crate) type Error = napi::Error<String>;
pub(crate) type Result<T> = std::result::Result<T, Error>;

/// A synchronous error with `code`.
pub(crate) fn coded(code: &str, message: impl Into<String>) -> Error {
    napi::Error::new(code.to_owned(), message.into())
}

/// `ERR_OFFLOAD_INTERNAL`: an N-API call that cannot fail in a live environment did.
pub(crate) fn internal(message: impl Into<String>) -> Error {
    coded(ERR_OFFLOAD_INTERNAL, message)
}

/// `ERR_INVALID_ARG_TYPE`, worded like Node's.
pub(crate) fn arg_type(name: &str, expected: &str) -> Error {
    coded(
        ERR_INVALID_ARG_TYPE,
        format!("The \"{name}\" argument must be {expected}"),
    )
}

/// `ERR_INVALID_ARG_VALUE` for a name outside a fixed set.
pub(crate) fn one_of(what: &str, allowed: &[&str], received: &str) -> Error {
    let list = allowed
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    coded(
        ERR_INVALID_ARG_VALUE,
        format!("The {what} must be one of: {list}. Received '{received}'"),
    )
}

pub(crate) fn invalid_value(what: &str, why: impl Display) -> Error {
    coded(
        ERR_INVALID_ARG_VALUE,
        format!("The {what} is invalid: {why}"),
    )
}

/// `ERR_OUT_OF_RANGE`, worded like Node's.
pub(crate) fn out_of_range(name: &str, range: impl Display, received: impl Display) -> Error {
    coded(
        ERR_OUT_OF_RANGE,
        format!("The value of \"{name}\" is out of range. It must be {range}. Received {received}"),
    )
}

/// `ERR_UNKNOWN_SIGNAL` for the option or argument `name`; `shown` is the value as received.
pub(crate) fn unknown_signal(name: &str, shown: impl Display) -> Error {
    coded(
        ERR_UNKNOWN_SIGNAL,
        format!("Unknown signal for \"{name}\": {shown}"),
    )
}

/// A task failure with the `code` the JS error will carry.
#[derive(Debug)]
pub(crate) struct TaskError {
    pub(crate) code: &'static str,
    pub(crate) message: String,
}

impl TaskError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
        }
    }

    /// For a result that could not be converted (only one longer than the largest Buffer).
    pub(crate) fn unconvertible() -> Self {
        Self::new(
            ERR_OFFLOAD_OUTPUT_TOO_LARGE,
            "the result could not be handed to JavaScript (larger than a Buffer can be)",
        )
    }
}

pub(crate) fn pool_error(e: PoolError) -> Error {
    let code = match e {
        PoolError::QueueFull { .. } => ERR_OFFLOAD_QUEUE_FULL,
        PoolError::Closed => ERR_OFFLOAD_POOL_CLOSED,
        PoolError::Spawn(_) => ERR_OFFLOAD_POOL_SPAWN,
    };
    coded(code, e.to_string())
}

/// A host budget that cannot be joined: an unsafe directory, a slot count other members
/// disagree with, or a system call the kernel refused.
#[cfg(target_os = "linux")]
pub(crate) fn host_budget_error(e: offload_core::budget::host::HostBudgetError) -> Error {
    coded(ERR_OFFLOAD_HOST_BUDGET, e.to_string())
}

pub(crate) fn kernel_error(e: KernelError) -> TaskError {
    let code = match e {
        KernelError::Cancelled => ABORT_ERR,
        KernelError::OutputTooLarge { .. } => ERR_OFFLOAD_OUTPUT_TOO_LARGE,
        KernelError::CorruptInput { .. } => ERR_OFFLOAD_CORRUPT_INPUT,
        KernelError::Unsupported(_) => ERR_INVALID_ARG_VALUE,
        KernelError::Image(ImageError::Unsupported) => ERR_OFFLOAD_UNSUPPORTED_FORMAT,
        KernelError::Image(ImageError::Corrupt { .. }) => ERR_OFFLOAD_CORRUPT_INPUT,
        KernelError::Image(ImageError::TooLarge { .. } | ImageError::OverBudget { .. }) => {
            ERR_OFFLOAD_IMAGE_TOO_LARGE
        }
        KernelError::Image(ImageError::BadRequest(_)) => ERR_INVALID_ARG_VALUE,
        KernelError::OutOfRange(_) => ERR_OUT_OF_RANGE,
        KernelError::Malformed(_) => ERR_INVALID_ARG_VALUE,
        KernelError::Internal(_) => ERR_OFFLOAD_INTERNAL,
        KernelError::AuthFailed => ERR_OFFLOAD_AUTH_FAILED,
    };
    TaskError::new(code, e.to_string())
}

/// A file kernel's failure: a failed file call keeps node's errno name as its code and node's
/// message (`ENOENT: no such file or directory, open '/x'`), from which the JS layer rebuilds
/// an fs-style error (`errno`, `syscall`, `path`); the rest is a kernel error.
pub(crate) fn file_error(e: offload_core::files::Error) -> TaskError {
    match e {
        offload_core::files::Error::File(f) => TaskError::new(f.code, f.to_string()),
        offload_core::files::Error::Kernel(k) => kernel_error(k),
    }
}

/// A parse step's failure: a file error, or a cancel. Malformed input is not one: the step
/// returns it with the rows before it, and the JS layer raises `ERR_OFFLOAD_PARSE`.
#[cfg(unix)]
pub(crate) fn parse_error(e: offload_core::parse::Error) -> TaskError {
    match e {
        offload_core::parse::Error::File(f) => TaskError::new(f.code, f.to_string()),
        offload_core::parse::Error::Kernel(k) => kernel_error(k),
    }
}

/// How a finished task settles its promise.
pub(crate) fn settle<V>(outcome: Outcome<V, TaskError>) -> std::result::Result<V, TaskError> {
    match outcome {
        Outcome::Ok(v) => Ok(v),
        Outcome::Err(e) => Err(e),
        Outcome::Panicked(msg) => Err(TaskError::new(
            ERR_OFFLOAD_TASK_PANICKED,
            format!("task panicked: {msg}"),
        )),
        Outcome::Cancelled(reason) => Err(match reason {
            CancelReason::Aborted => TaskError::new(ABORT_ERR, "The operation was aborted"),
            CancelReason::TimedOut => TaskError::new(ERR_OFFLOAD_TIMEOUT, "the task timed out"),
            CancelReason::PoolDestroyed => TaskError::new(
                ERR_OFFLOAD_POOL_DESTROYED,
                "the pool was destroyed before the task finished",
            ),
            CancelReason::ScopeClosed => TaskError::new(
                ERR_OFFLOAD_CANCELLED,
                "the environment that submitted the task was torn down",
            ),
        }),
    }
}

#[cfg(target_os = "linux")]
pub(crate) use self::process::*;

/// The subprocess supervisor's errors (Linux only, as the supervisor is).
#[cfg(target_os = "linux")]
mod process {
    use offload_core::process::{SpawnError, SupervisorError};

    use super::*;

    pub(crate) fn supervisor_error(e: SupervisorError) -> Error {
        let code = match e {
            SupervisorError::QueueFull { .. } => ERR_OFFLOAD_QUEUE_FULL,
            SupervisorError::Closed => ERR_OFFLOAD_CANCELLED,
            SupervisorError::Start(_) => ERR_OFFLOAD_SPAWN,
        };
        coded(code, e.to_string())
    }

    /// A stdin write or output read that failed.
    pub(crate) fn io_error(e: std::io::Error) -> TaskError {
        match e.raw_os_error() {
            Some(libc::EPIPE) => TaskError::new(EPIPE, "write EPIPE: the child closed its stdin"),
            _ => TaskError::new(ERR_OFFLOAD_IO, e.to_string()),
        }
    }

    /// The Node-style code of a spawn failure.
    pub(crate) fn spawn_code(e: &SpawnError) -> &'static str {
        match e {
            SpawnError::NotFound { .. } => ENOENT,
            SpawnError::PermissionDenied { .. } => EACCES,
            SpawnError::Nul { .. } => ERR_INVALID_ARG_VALUE,
            SpawnError::Cwd { errno, .. } => match *errno {
                libc::ENOENT => ENOENT,
                libc::ENOTDIR => ENOTDIR,
                libc::EACCES => EACCES,
                _ => ERR_OFFLOAD_SPAWN,
            },
            SpawnError::Exec { .. }
            | SpawnError::Clone(_)
            | SpawnError::Stdio(_)
            | SpawnError::Limit { .. }
            | SpawnError::ExtraFds
            | SpawnError::Setup { .. } => ERR_OFFLOAD_SPAWN,
            SpawnError::Internal => ERR_OFFLOAD_INTERNAL,
        }
    }
}
