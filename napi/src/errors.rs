//! Node-style errors. Everything thrown synchronously carries a `code`; the JS layer turns
//! `ERR_INVALID_ARG_*` into `TypeError` and `ERR_OUT_OF_RANGE` into `RangeError`, as Node does.

use std::fmt::Display;

use offload_core::kernels::KernelError;
use offload_core::pool::{CancelReason, Outcome, PoolError};

use super::value::{TaskError, Value};

pub(crate) type Error = napi::Error<String>;
pub(crate) type Result<T> = std::result::Result<T, Error>;

fn coded(code: &str, message: String) -> Error {
    napi::Error::new(code.to_owned(), message)
}

/// `ERR_INVALID_ARG_VALUE` for a name outside a fixed set.
pub(crate) fn one_of(what: &str, allowed: &[&str], received: &str) -> Error {
    let list = allowed
        .iter()
        .map(|a| format!("'{a}'"))
        .collect::<Vec<_>>()
        .join(", ");
    coded(
        "ERR_INVALID_ARG_VALUE",
        format!("The {what} must be one of: {list}. Received '{received}'"),
    )
}

pub(crate) fn invalid_value(what: &str, why: impl Display) -> Error {
    coded(
        "ERR_INVALID_ARG_VALUE",
        format!("The {what} is invalid: {why}"),
    )
}

/// `ERR_OUT_OF_RANGE`, worded like Node's.
pub(crate) fn out_of_range(name: &str, range: impl Display, received: impl Display) -> Error {
    coded(
        "ERR_OUT_OF_RANGE",
        format!("The value of \"{name}\" is out of range. It must be {range}. Received {received}"),
    )
}

pub(crate) fn pool_error(e: PoolError) -> Error {
    let code = match e {
        PoolError::QueueFull { .. } => "ERR_OFFLOAD_QUEUE_FULL",
        PoolError::Closed => "ERR_OFFLOAD_POOL_CLOSED",
        PoolError::Spawn(_) => "ERR_OFFLOAD_POOL_SPAWN",
    };
    coded(code, e.to_string())
}

pub(crate) fn kernel_error(e: KernelError) -> TaskError {
    let code = match e {
        KernelError::Cancelled => "ABORT_ERR",
        KernelError::OutputTooLarge { .. } => "ERR_OFFLOAD_OUTPUT_TOO_LARGE",
        KernelError::CorruptInput { .. } => "ERR_OFFLOAD_CORRUPT_INPUT",
        KernelError::Unsupported(_) => "ERR_INVALID_ARG_VALUE",
    };
    TaskError::new(code, e.to_string())
}

/// How a finished task settles its promise.
pub(crate) fn settle(outcome: Outcome<Value, TaskError>) -> std::result::Result<Value, TaskError> {
    match outcome {
        Outcome::Ok(v) => Ok(v),
        Outcome::Err(e) => Err(e),
        Outcome::Panicked(msg) => Err(TaskError::new(
            "ERR_OFFLOAD_TASK_PANICKED",
            format!("task panicked: {msg}"),
        )),
        Outcome::Cancelled(reason) => Err(match reason {
            CancelReason::Aborted => TaskError::new("ABORT_ERR", "The operation was aborted"),
            CancelReason::TimedOut => TaskError::new("ERR_OFFLOAD_TIMEOUT", "the task timed out"),
            CancelReason::PoolDestroyed => TaskError::new(
                "ERR_OFFLOAD_POOL_DESTROYED",
                "the pool was destroyed before the task finished",
            ),
            CancelReason::ScopeClosed => TaskError::new(
                "ERR_OFFLOAD_CANCELLED",
                "the environment that submitted the task was torn down",
            ),
        }),
    }
}
