//! `spawnProcess`: starts a child under a supervisor and returns its handle and the promise
//! of its report.

use std::os::fd::{AsRawFd, IntoRawFd, OwnedFd};

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use super::child::{Borrowed, NativeChild};
use super::supervisor::NativeSupervisor;
use crate::env_scope;
use crate::errors::{ERR_OFFLOAD_SPAWN, Result, coded, supervisor_error};
use crate::options::process::{Call, OutputEncoding, ProcessOptions, Request};
use crate::report;
use crate::runtime::channel::{Completion, Settle};
use crate::runtime::deferred::Deferred;
use crate::runtime::input::Input as JsInput;
use crate::runtime::js::{array, to_unknown};
use offload_core::process::{self, Input, Output};

/// How `spawnProcess` starts a child, beyond its options.
#[napi(object, object_to_js = false)]
pub struct SpawnMode {
    /// `spawn()`: the output is streamed to JS and stdin defaults to a pipe, rather than
    /// `exec()`'s captured output. Default: `false`.
    pub streaming: Option<bool>,
    /// The call's AbortSignal had already fired: the child is not started, only reported as
    /// cancelled. Default: `false`.
    pub aborted: Option<bool>,
    /// A process-pool worker: also create its message pipes (fds 3 and 4) and a stderr pipe,
    /// whose parent ends are returned; its report promise does not keep the event loop alive.
    /// Default: `false`.
    pub channels: Option<bool>,
}

/// Starts a child. Returns `[handle, promise]`: the promise resolves with the raw report
/// (see `report.rs`) once the child has ended; the JS layer shapes it. With
/// `mode.channels` (a process-pool worker), also the parent's ends of its message pipes and
/// the read end of its stderr: `[handle, promise, requestsFd, repliesFd, stderrFd]`, owned by
/// the caller from then on (the spec's stderr option is overridden). `envBlock` is the
/// child's whole environment, NUL-ended `NAME=value` entries (see lib/subprocess/options.js).
#[napi]
pub fn spawn_process(
    env: Env,
    supervisor: &External<NativeSupervisor>,
    file: String,
    args: Vec<String>,
    options: Option<ProcessOptions>,
    input: Option<Unknown>,
    env_block: String,
    mode: SpawnMode,
) -> Result<Unknown<'static>> {
    let scope = env_scope(&env)?;
    let streaming = mode.streaming.unwrap_or(false);
    let request = Request {
        file,
        args,
        options: options.unwrap_or_default(),
        env_block: &env_block,
        has_input: input.is_some(),
        streaming,
    };
    let Call { mut spec, encoding } = Call::try_from(request)?;
    // A mapped capture helps only when it is handed over as is; text is copied anyway.
    spec.map_large_output = encoding == OutputEncoding::Buffer;
    spec.cancelled = mode.aborted.unwrap_or(false);
    let mut parent_ends: Option<[OwnedFd; 3]> = None;
    if mode.channels == Some(true) {
        let c = process::channels().map_err(|e| {
            coded(
                ERR_OFFLOAD_SPAWN,
                format!("could not create the worker's pipes: {e}"),
            )
        })?;
        spec.channels = c.worker_ends;
        // The stderr pipe goes onto descriptor 2: nothing else needs opening for it.
        spec.stderr = Output::Inherit;
        spec.stderr_fd = Some(c.worker_stderr);
        parent_ends = Some([c.requests, c.replies, c.stderr]);
    }
    let mut keep = Vec::new();
    if let Some(value) = &input {
        let bytes = JsInput::from_js(&env, value, "options.input")?;
        spec.stdin = Input::Bytes(Box::new(Borrowed {
            input: bytes,
            scope: scope.clone(),
        }));
        keep.push(value);
    }
    let detached = parent_ends.is_some();
    let (child, promise) = Deferred::promise(&env, &keep, |deferred| {
        let post = scope.clone();
        let settle = if detached {
            Settle::Detached(deferred)
        } else {
            Settle::Deferred(deferred)
        };
        // A refused child's closure is dropped unrun, so `Deferred::promise` settles the
        // promise nobody will see.
        supervisor
            .0
            .spawn(spec, &scope.processes, move |r| {
                post.post(Completion {
                    settle,
                    result: Ok(report::to_value(r, encoding)),
                });
            })
            .map_err(supervisor_error)
    })?;
    if !detached {
        scope.begin(&env);
    }
    let handle = to_unknown(&env, External::new(NativeChild { child, scope }))?;
    // The descriptors stay owned (closed on an early return) until the array holds them all.
    let Some(fds) = parent_ends else {
        return array(&env, [handle, promise]);
    };
    let [requests, replies, stderr] = fds.each_ref().map(|fd| to_unknown(&env, fd.as_raw_fd()));
    let out = array(&env, [handle, promise, requests?, replies?, stderr?])?;
    // JS owns them now (it closes them with the worker).
    for fd in fds {
        let _ = fd.into_raw_fd();
    }
    Ok(out)
}
