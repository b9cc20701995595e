//! Small conversions between Rust and JS values, shared by the rest of the runtime and
//! offered safely to the entry modules: a `&Env` proves the caller is on that environment's
//! JS thread (napi only hands one to a `#[napi]` call), which is every obligation the raw
//! calls here have.

use std::ptr;

use napi::bindgen_prelude::{Array, ToNapiValue, Unknown};
use napi::{Env, JsValue, sys};

use crate::errors::{Result, internal};

/// `s` as a JS string, or null if N-API refused (the status is not needed: `out` is only
/// written on success, and every caller treats null as a failed conversion).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
pub(crate) unsafe fn string(env: sys::napi_env, s: &str) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is current (caller); `s` is valid UTF-8 for `s.len()` bytes, read only
    // during the call (V8 copies it). A `&str` is at most isize::MAX bytes, so the cast is
    // exact; N-API rejects lengths over INT_MAX with a status, leaving `out` null.
    unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out) };
    out
}

/// Wraps a raw value of the current call as the `'static` `Unknown` napi's entry points
/// return (napi ties nothing to that lifetime: the value lives in the call's handle scope).
///
/// # Safety
/// `value` must be a value of `env`, made during the current call.
pub(crate) unsafe fn unknown(env: sys::napi_env, value: sys::napi_value) -> Unknown<'static> {
    // SAFETY: `value` is a live value of `env` (caller).
    unsafe { Unknown::from_raw_unchecked(env, value) }
}

/// Any value napi can convert, as the `Unknown` an entry point returns.
pub(crate) fn to_unknown<T: ToNapiValue>(env: &Env, value: T) -> Result<Unknown<'static>> {
    // SAFETY: `env` is the current call's environment (a `&Env` exists only inside one).
    let raw = unsafe { T::to_napi_value(env.raw(), value) }.map_err(|e| internal(e.reason))?;
    // SAFETY: `raw` was made in `env` just now.
    Ok(unsafe { unknown(env.raw(), raw) })
}

/// A JS array of `items`, each converted by napi; every status is checked (an element left
/// out would reach JS as a silent `undefined`).
pub(crate) fn array<const N: usize>(
    env: &Env,
    items: [Unknown<'_>; N],
) -> Result<Unknown<'static>> {
    let mut out: Array<'_> = env.create_array(N as u32).map_err(|e| internal(e.reason))?;
    for (i, item) in (0..).zip(items) {
        out.set(i, item).map_err(|e| internal(e.reason))?;
    }
    // SAFETY: the array was made in `env` just now.
    Ok(unsafe { unknown(env.raw(), out.raw()) })
}
