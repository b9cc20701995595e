//! The Node binding of offload: it converts options and errors, and moves results to
//! JavaScript through a per-environment channel. The logic lives in `offload-core`.
//!
//! Layers, each using only those before it: `errors` (codes and the one mapping from core
//! errors) → `runtime` (the raw N-API runtime, the only `unsafe` code) → `options` (JS options
//! → core types) → the entry modules, one per capability: `pool`, `kernels`, `files`, `streams`
//! (incremental kernels fed chunk by chunk), `process` and its `report`, and `testing` (test
//! kernels, behind the `test-kernels` feature).

// napi-derive registers nothing under cfg(test) and the crate needs a Node process to run, so a
// test build is empty; the JS suites in __test__/ exercise it.
#![cfg(not(test))]

// `pub` marks what JavaScript sees: napi requires its enums and object fields to be `pub`, so
// the modules holding them are `pub` and `unreachable_pub` keeps everything else `pub(crate)`.
#[cfg(target_os = "linux")]
pub mod budget;
pub mod cipher;
mod errors;
#[cfg(unix)]
pub mod files;
pub mod images;
pub mod kernels;
pub mod options;
#[cfg(unix)]
pub mod parse;
pub mod passwords;
pub mod pool;
#[cfg(target_os = "linux")]
pub mod process;
#[cfg(target_os = "linux")]
pub mod report;
mod runtime;
pub mod streams;
#[cfg(feature = "test-kernels")]
pub mod testing;
pub mod threads;

use std::sync::Arc;

use napi::Env;
use napi::bindgen_prelude::Function;
use napi_derive::napi;

use errors::{ERR_OFFLOAD_INIT, ERR_OFFLOAD_NOT_INITIALIZED, Result, coded};
use runtime::channel::{self, EnvScope};

/// Set by `init` for each environment (main thread or worker) that loads the addon.
fn env_scope(env: &Env) -> Result<Arc<EnvScope>> {
    match env.get_instance_data::<Arc<EnvScope>>() {
        Ok(Some(scope)) => Ok(scope.clone()),
        _ => Err(coded(
            ERR_OFFLOAD_NOT_INITIALIZED,
            "init() must be called before creating a pool",
        )),
    }
}

/// Opens this environment's completion channel. `makeError(code, message)` builds rejection
/// values for promises the binding settles itself. `dispatch(slots, codes, values)` is called
/// on the JS thread with batches for the other tasks: `slots` is a Uint32Array of the slots
/// given at submission; `codes[i]` is undefined for success, else an error code with
/// `values[i]` its message; otherwise `values[i]` is the result. `codes` and `values` are
/// themselves undefined when no entry needs them.
#[napi]
pub fn init(env: Env, dispatch: Function<'_>, make_error: Function<'_>) -> Result<()> {
    if env_scope(&env).is_ok() {
        return Ok(());
    }
    let scope = channel::open(&env, &dispatch, &make_error)
        .map_err(|e| coded(ERR_OFFLOAD_INIT, e.reason))?;
    env.set_instance_data(scope, (), |_| {})
        .map_err(|e| coded(ERR_OFFLOAD_INIT, e.reason))
}

/// Restarts delivery after the completion channel yielded the rest of a loop iteration
/// (called by the JS dispatcher from a `setImmediate`).
#[napi]
pub fn channel_resume(env: Env) -> Result<()> {
    env_scope(&env)?.resume();
    Ok(())
}
