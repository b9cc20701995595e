//! Test-only entry points, exported through `offload/testing` and built only with the cargo
//! feature `test-kernels` (on for `npm test`, the benchmarks and `npm run build`; off for
//! release tarballs): kernels that make pool behaviour observable (dispatch cost,
//! cancellation, panics) and an allocator probe for leak tests.

use napi::Env;
use napi::bindgen_prelude::{External, Unknown};
use napi_derive::napi;

use crate::errors::{ABORT_ERR, Result, TaskError, out_of_range};
use crate::pool::NativePool;
use crate::runtime::value::Value;
use crate::runtime::{os, text};
use offload_core::pool::CancelToken;

/// The longest `submitSpin`: an hour.
const MAX_SPIN_MS: f64 = 3_600_000.0;

/// Does nothing; measures dispatch overhead.
#[napi]
pub fn submit_noop(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    pool.submit(&env, slot, &[], priority, cancellable, |_: &CancelToken| {
        Ok(Value::Undefined)
    })
}

/// Busy-waits `ms` milliseconds, polling the cancel token like a real kernel.
#[napi]
pub fn submit_spin(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    ms: f64,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    if !(0.0..=MAX_SPIN_MS).contains(&ms) {
        return Err(out_of_range("ms", format!(">= 0 && <= {MAX_SPIN_MS}"), ms));
    }
    let dur = std::time::Duration::from_secs_f64(ms / 1000.0);
    pool.submit(
        &env,
        slot,
        &[],
        priority,
        cancellable,
        move |token: &CancelToken| {
            let start = std::time::Instant::now();
            while start.elapsed() < dur {
                if token.is_cancelled() {
                    return Err(TaskError::new(ABORT_ERR, "cancelled"));
                }
                std::hint::spin_loop();
            }
            Ok(Value::Undefined)
        },
    )
}

/// Panics on a pool thread with `message`.
#[napi]
pub fn submit_panic(
    env: Env,
    pool: &External<NativePool>,
    slot: u32,
    message: String,
    priority: Option<String>,
    cancellable: bool,
) -> Result<Unknown<'static>> {
    pool.submit(
        &env,
        slot,
        &[],
        priority,
        cancellable,
        move |_: &CancelToken| std::panic::panic_any(message),
    )
}

/// Bytes the C allocator has handed out and not had back, over every arena and mmapped block
/// (glibc's `mallinfo2`: `uordblks + hblkhd`), or -1 where that is not known. Unlike RSS it
/// does not move when the allocator keeps or returns free memory, so leak tests can compare
/// it before and after many calls.
#[napi]
pub fn test_malloc_in_use() -> f64 {
    os::malloc_in_use()
}

/// Makes an external string through a stand-in for N-API's entry point that refuses it in
/// `mode` (`'finalized'` runs the finalizer before failing, `'unregistered'` never runs it,
/// `'later'` keeps it for `runKeptStringFinalizer`), and returns the string made instead.
#[napi]
pub fn test_external_string_failure(
    env: Env,
    mode: String,
    text: String,
) -> Result<Unknown<'static>> {
    text::external_string_failure(&env, mode, text)
}

/// Runs the finalizer a `'later'` refusal kept, as Node may at teardown; false if none.
#[napi]
pub fn run_kept_string_finalizer(env: Env) -> bool {
    text::run_kept_string_finalizer(&env)
}
