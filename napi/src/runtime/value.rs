//! Task results as they travel from a pool thread to JavaScript.
//!
//! Byte results become Buffers that own the Rust allocation (no copy); only tiny ones, such as
//! digests, are copied, because an external buffer's finalizer costs more than 64 bytes do.

use std::ffi::c_void;
use std::ptr;

use napi::sys;

use super::js::string;
use super::text::Prepared;
use crate::errors::TaskError;
#[cfg(target_os = "linux")]
use offload_core::process::Mapped;

/// Results at or below this size are copied into a fresh Buffer instead of handed over.
const COPY_BELOW: usize = 64;

pub(crate) enum Value {
    Undefined,
    Null,
    Bool(bool),
    Number(f64),
    Bytes(Vec<u8>),
    /// Bytes in a memory mapping (a large captured output), handed over without a copy.
    #[cfg(target_os = "linux")]
    Mapped(Mapped),
    Text(String),
    /// Text prepared for V8 off the JS thread (see `text.rs`).
    BigText(Prepared),
    List(Vec<Value>),
}

/// `e`'s code and message as JS strings (each null if it could not be made).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
pub(crate) unsafe fn error_js(env: sys::napi_env, e: &TaskError) -> [sys::napi_value; 2] {
    // SAFETY: the caller's obligation is `string`'s.
    let code = unsafe { string(env, e.code) };
    // SAFETY: as above.
    let message = unsafe { string(env, &e.message) };
    [code, message]
}

impl Value {
    /// Converts on the JS thread. Failures (a string or Buffer longer than V8 allows, or an
    /// env that is exiting) yield null; the statuses of the getters below need no check
    /// because N-API writes `out` only on success, so a failure is that null.
    ///
    /// # Safety
    /// `env` must be the environment of the JS thread this is called on.
    pub(crate) unsafe fn into_js(self, env: sys::napi_env) -> sys::napi_value {
        let mut out = ptr::null_mut();
        match self {
            Value::Undefined => {
                // SAFETY: `env` is current (caller) and `out` a valid out-pointer.
                unsafe { sys::napi_get_undefined(env, &mut out) };
            }
            Value::Null => {
                // SAFETY: as above.
                unsafe { sys::napi_get_null(env, &mut out) };
            }
            Value::Bool(b) => {
                // SAFETY: as above.
                unsafe { sys::napi_get_boolean(env, b, &mut out) };
            }
            Value::Number(n) => {
                // SAFETY: as above.
                unsafe { sys::napi_create_double(env, n, &mut out) };
            }
            // SAFETY: `env` is current, the callee's only obligation.
            Value::Text(s) => out = unsafe { string(env, &s) },
            // SAFETY: as above.
            Value::BigText(t) => out = unsafe { t.into_js(env) },
            // SAFETY: as above.
            Value::Bytes(v) => out = unsafe { bytes(env, v) },
            #[cfg(target_os = "linux")]
            // SAFETY: as above.
            Value::Mapped(m) => out = unsafe { adopt(env, m) },
            Value::List(items) => {
                let Ok(len) = u32::try_from(items.len()) else {
                    return ptr::null_mut();
                };
                // SAFETY: `env` is current; `out` a valid out-pointer.
                let status =
                    unsafe { sys::napi_create_array_with_length(env, items.len(), &mut out) };
                if status != sys::Status::napi_ok {
                    return ptr::null_mut();
                }
                for (i, item) in (0..len).zip(items) {
                    // SAFETY: `env` is current.
                    let value = unsafe { item.into_js(env) };
                    // A failed item fails the list: a hole would resolve as a silently
                    // wrong result. (N-API rejects a null value with a status.)
                    // SAFETY: `out` is the array just made in this env; `value` a value of
                    // this env or null.
                    let status = unsafe { sys::napi_set_element(env, out, i, value) };
                    if status != sys::Status::napi_ok {
                        return ptr::null_mut();
                    }
                }
            }
        }
        out
    }
}

/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn bytes(env: sys::napi_env, v: Vec<u8>) -> sys::napi_value {
    if v.len() > COPY_BELOW {
        // SAFETY: `env` is current (caller), `adopt`'s only obligation.
        return unsafe { adopt(env, v) };
    }
    // SAFETY: `env` is current (caller), `copy`'s only obligation.
    let out = unsafe { copy(env, &v) };
    // A small result may be a derived key or a plaintext (lib/crypto): JS has its copy now, and
    // ours is wiped before it is freed (64 bytes at most).
    let mut v = v;
    zeroize::Zeroize::zeroize(&mut v);
    out
}

/// Memory a Buffer can adopt: owned bytes at an address that stays put while the owner lives.
trait Owner: Send + 'static {
    fn bytes(&mut self) -> &mut [u8];
}

impl Owner for Vec<u8> {
    fn bytes(&mut self) -> &mut [u8] {
        self
    }
}

#[cfg(target_os = "linux")]
impl Owner for Mapped {
    fn bytes(&mut self) -> &mut [u8] {
        let len = self.as_slice().len();
        // SAFETY: the mapping is writable and `len` bytes long; `self` is borrowed mutably.
        unsafe { std::slice::from_raw_parts_mut(self.as_mut_ptr(), len) }
    }
}

/// A Buffer over `owner`'s memory, freed (dropped) by V8's finalizer: no copy. Null if it
/// could not be made.
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn adopt<T: Owner>(env: sys::napi_env, mut owner: T) -> sys::napi_value {
    let mut out = ptr::null_mut();
    let (data, len) = {
        let b = owner.bytes();
        (b.as_mut_ptr(), b.len())
    };
    // Moving `owner` into the Box moves the handle, not the memory `data` points at (a
    // Vec's heap buffer or a mapping), so `data` stays valid while the Box lives.
    let boxed = Box::into_raw(Box::new(owner));
    // SAFETY: `env` is current (caller). `data` is valid for reads and writes of `len` bytes
    // until `free_owner::<T>` drops `boxed`, the hint it receives; nothing else touches the
    // memory meanwhile (`owner` was moved into the Box).
    let status = unsafe {
        sys::napi_create_external_buffer(
            env,
            len,
            data.cast(),
            Some(free_owner::<T>),
            boxed.cast(),
            &mut out,
        )
    };
    if still_ours(status) {
        // Refused before Node took the memory (a V8 sandbox, or an env that can no longer
        // run JS): it is still ours; copy it.
        // SAFETY: `boxed` came from Box::into_raw above and, per `still_ours`, no finalizer
        // was registered, so this is its only owner.
        let mut owner = unsafe { Box::from_raw(boxed) };
        // SAFETY: `env` is current (caller).
        return unsafe { copy(env, owner.bytes()) };
    }
    // A generic failure (longer than the largest Buffer) has already handed the memory to
    // the finalizer, so it must not be touched here; the caller sees null.
    out
}

/// A fresh Buffer holding a copy of `bytes`, or null if N-API refused (its status is not
/// needed: `out` is only written on success).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn copy(env: sys::napi_env, bytes: &[u8]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    let mut data = ptr::null_mut();
    // SAFETY: `env` is current (caller); `bytes` is valid for `bytes.len()` bytes and only
    // read during the call; `data` and `out` are valid out-pointers.
    unsafe {
        sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut out)
    };
    out
}

/// The external buffer's finalizer.
///
/// # Safety
/// `hint` must be a `Box<T>` leaked by `adopt`, passed here once (N-API finalizes once).
unsafe extern "C" fn free_owner<T: Owner>(
    _env: sys::napi_env,
    _data: *mut c_void,
    hint: *mut c_void,
) {
    // SAFETY: `hint` is the Box<T> leaked in `adopt`; V8 finalizes each buffer once.
    let mut owner = unsafe { Box::from_raw(hint.cast::<T>()) };
    let len = owner.bytes().len();
    // A large free (an munmap) goes to the reclaim thread, off the JS thread.
    offload_core::reclaim::release(owner, len);
}

/// Whether memory offered to `napi_create_external_buffer` is still ours after `status`.
/// Node registers the finalizer only past its argument checks; of the failures after that,
/// the only one (a Buffer too long) has already run it.
fn still_ours(status: sys::napi_status) -> bool {
    status != sys::Status::napi_ok && status != sys::Status::napi_generic_failure
}
