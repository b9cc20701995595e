//! The Node binding of offload: it converts options and errors, and moves results to
//! JavaScript through a per-environment channel. The logic lives in `offload-core`.

// napi-derive registers nothing under cfg(test) and the crate needs a Node process to run, so a
// test build is empty; the JS suites in __test__/ exercise it.
#![cfg(not(test))]

mod channel;
mod deferred;
mod errors;
mod input;
mod kernels;
mod pool;
#[cfg(target_os = "linux")]
mod process;
#[cfg(target_os = "linux")]
mod report;
mod text;
mod value;

use std::sync::Arc;

use napi::bindgen_prelude::Function;
use napi::{Env, JsValue};
use napi_derive::napi;

use channel::EnvScope;
use errors::Result;

/// Set by `init` for each environment (main thread or worker) that loads the addon.
fn env_scope(env: &Env) -> Result<Arc<EnvScope>> {
    match env.get_instance_data::<Arc<EnvScope>>() {
        Ok(Some(scope)) => Ok(scope.clone()),
        _ => Err(napi::Error::new(
            "ERR_OFFLOAD_NOT_INITIALIZED".to_owned(),
            "init() must be called before creating a pool".to_owned(),
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
    let scope = channel::open(env.raw(), dispatch.raw(), make_error.raw())
        .map_err(|e| napi::Error::new("ERR_OFFLOAD_INIT".to_owned(), e.reason.clone()))?;
    env.set_instance_data(scope, (), |_| {})
        .map_err(|e| napi::Error::new("ERR_OFFLOAD_INIT".to_owned(), e.reason.clone()))
}

/// Test-only (`offload/testing`): bytes the C allocator has handed out and not had back, over
/// every arena and mmapped block (glibc's `mallinfo2`: `uordblks + hblkhd`), or -1 where that
/// is not known. Unlike RSS it does not move when the allocator keeps or returns free memory,
/// so leak tests can compare it before and after many calls.
#[napi]
pub fn test_malloc_in_use() -> f64 {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        // SAFETY: mallinfo2 only reads the allocator's counters (under its arena locks).
        let m = unsafe { libc::mallinfo2() };
        (m.uordblks + m.hblkhd) as f64
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    {
        -1.0
    }
}
