//! One batch of slotted completions handed to the JS dispatcher: `dispatch(slots, codes,
//! values)`, with the slots in a Uint32Array filled without a N-API call per element, and
//! `codes` and `values` sparse arrays created only if some entry needs them.

use std::ptr;

use napi::sys;

use super::value::{Value, error_js};
use crate::errors::TaskError;

/// A failed conversion (e.g. a result longer than the largest Buffer) leaves an exception
/// pending, which would make every later N-API call in the batch fail; drop it.
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
pub(crate) unsafe fn clear_exception(env: sys::napi_env) {
    // SAFETY: `env` is current (caller).
    if unsafe { exception_pending(env) } {
        let mut ignored = ptr::null_mut();
        // Its status is not needed: with an exception pending in a live env it cannot fail.
        // SAFETY: `env` is current (caller); `ignored` a valid out-pointer.
        unsafe { sys::napi_get_and_clear_last_exception(env, &mut ignored) };
    }
}

/// Whether an exception is pending (false if it cannot be told: a broken env).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn exception_pending(env: sys::napi_env) -> bool {
    let mut pending = false;
    // SAFETY: `env` is current (caller); `pending` a valid out-pointer, left false on failure.
    unsafe { sys::napi_is_exception_pending(env, &mut pending) };
    pending
}

/// A fresh array of length `n`, or null. The status is not needed: this does not fail in a
/// live env (V8 aborts on out-of-memory), and a null array makes the later calls fail
/// harmlessly with a status.
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn new_array(env: sys::napi_env, n: usize) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is current (caller); `out` a valid out-pointer.
    unsafe { sys::napi_create_array_with_length(env, n, &mut out) };
    out
}

/// `undefined`, or null if the env is broken (its status is not needed for that reason).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn undefined(env: sys::napi_env) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is current (caller); `out` a valid out-pointer.
    unsafe { sys::napi_get_undefined(env, &mut out) };
    out
}

/// A Uint32Array of `n` elements and its backing store, or `None` if it could not be made
/// (only in an env being torn down; both statuses are checked).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on. The slice is valid
/// while the array is (the caller's stack frame holds it).
unsafe fn u32_array<'a>(env: sys::napi_env, n: usize) -> Option<(sys::napi_value, &'a mut [u32])> {
    let mut data = ptr::null_mut();
    let mut buffer = ptr::null_mut();
    let mut array = ptr::null_mut();
    // SAFETY: `env` is current (caller); the out-pointers are valid locals.
    let status = unsafe { sys::napi_create_arraybuffer(env, n * 4, &mut data, &mut buffer) };
    if status != sys::Status::napi_ok {
        return None;
    }
    // SAFETY: as above; `buffer` is the ArrayBuffer just made, `n * 4` bytes long.
    let status = unsafe {
        sys::napi_create_typedarray(
            env,
            sys::TypedarrayType::uint32_array,
            n,
            buffer,
            0,
            &mut array,
        )
    };
    if status != sys::Status::napi_ok {
        return None;
    }
    // SAFETY: `data` is the new ArrayBuffer's store, `n * 4` bytes, u32-aligned (Node
    // allocates backing stores with calloc), written only through this slice while `array`
    // keeps it alive on the caller's frame.
    Some((array, unsafe {
        std::slice::from_raw_parts_mut(data.cast::<u32>(), n)
    }))
}

/// Converts `batch` and calls `js_cb(slots, codes, values)`.
///
/// Statuses not checked, and why: `napi_set_element` fails only with an exception pending
/// (each failed conversion clears it) or a null value (a short code or message string that
/// could not be made: the env is going away); the dispatch call's exception, if any, is left
/// pending, and Node reports it as uncaught once `call_js` returns, as for any throwing
/// callback; `napi_get_global` does not fail in a live env.
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on, and `js_cb` a function
/// of it.
pub(crate) unsafe fn dispatch(
    env: sys::napi_env,
    js_cb: sys::napi_value,
    batch: Vec<(u32, Result<Value, TaskError>)>,
) {
    let n = batch.len();
    // SAFETY: `env` is current (caller), for this and every call below; the slice lives
    // no longer than this frame, which holds `slots_js`.
    let Some((slots_js, slots)) = (unsafe { u32_array(env, n) }) else {
        return; // the batch cannot be handed over: only in an env being torn down
    };
    // SAFETY: as above.
    let mut codes = unsafe { undefined(env) };
    let mut values = codes;
    let (mut have_codes, mut have_values) = (false, false);
    for (i, (slot, result)) in (0..).zip(batch) {
        slots[i as usize] = slot;
        let (code, value) = match result {
            Ok(Value::Undefined) => continue,
            // SAFETY: as above.
            Ok(v) => match unsafe { v.into_js(env) } {
                // SAFETY: as above.
                converted if !converted.is_null() && !unsafe { exception_pending(env) } => {
                    (None, converted)
                }
                _ => {
                    // SAFETY: as above.
                    unsafe { clear_exception(env) };
                    // SAFETY: as above.
                    let [code, message] = unsafe { error_js(env, &TaskError::unconvertible()) };
                    (Some(code), message)
                }
            },
            Err(e) => {
                // SAFETY: as above.
                let [code, message] = unsafe { error_js(env, &e) };
                (Some(code), message)
            }
        };
        if let Some(code) = code {
            if !have_codes {
                have_codes = true;
                // SAFETY: as above.
                codes = unsafe { new_array(env, n) };
            }
            // SAFETY: `codes` is an array of `env` and `code` a value of it (or null, which
            // N-API refuses with a status).
            unsafe { sys::napi_set_element(env, codes, i, code) };
        }
        if !have_values {
            have_values = true;
            // SAFETY: `env` is current (caller).
            values = unsafe { new_array(env, n) };
        }
        // SAFETY: as for `codes`.
        unsafe { sys::napi_set_element(env, values, i, value) };
    }
    let mut global = ptr::null_mut();
    // SAFETY: `env` is current (caller); `global` a valid out-pointer.
    unsafe { sys::napi_get_global(env, &mut global) };
    let args = [slots_js, codes, values];
    let mut ignored = ptr::null_mut();
    // SAFETY: `env` is current, `js_cb` its function (caller), `args` three values of it.
    unsafe { sys::napi_call_function(env, global, js_cb, 3, args.as_ptr(), &mut ignored) };
}

/// Calls `dispatch()` with no arguments: the JS dispatcher then schedules `channelResume` with
/// `setImmediate`. False if the call failed (nothing will resume the channel).
///
/// # Safety
/// `env` must be current and `js_cb` its dispatch function.
pub(crate) unsafe fn request_resume(env: sys::napi_env, js_cb: sys::napi_value) -> bool {
    let mut global = ptr::null_mut();
    // SAFETY: `env` is current (caller); `global` a valid out-pointer.
    unsafe { sys::napi_get_global(env, &mut global) };
    let mut ignored = ptr::null_mut();
    // SAFETY: `env` is current and `js_cb` its function (caller); no arguments.
    let status =
        unsafe { sys::napi_call_function(env, global, js_cb, 0, ptr::null(), &mut ignored) };
    if status != sys::Status::napi_ok {
        // SAFETY: `env` is current (caller).
        unsafe { clear_exception(env) };
        return false;
    }
    true
}
