//! Task results as they travel from a pool thread to JavaScript.
//!
//! Byte results become Buffers that own the Rust allocation (no copy); only tiny ones, such as
//! digests, are copied, because an external buffer's finalizer costs more than 64 bytes do.

use std::ffi::c_void;
use std::ptr;

use napi::sys;

use super::text::Prepared;
#[cfg(target_os = "linux")]
use crate::process::Mapped;

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
            "ERR_OFFLOAD_OUTPUT_TOO_LARGE",
            "the result could not be handed to JavaScript (larger than a Buffer can be)",
        )
    }

    pub(crate) unsafe fn code_js(&self, env: sys::napi_env) -> sys::napi_value {
        unsafe { string(env, self.code) }
    }

    pub(crate) unsafe fn message_js(&self, env: sys::napi_env) -> sys::napi_value {
        unsafe { string(env, &self.message) }
    }
}

pub(crate) unsafe fn string(env: sys::napi_env, s: &str) -> sys::napi_value {
    let mut out = ptr::null_mut();
    unsafe { sys::napi_create_string_utf8(env, s.as_ptr().cast(), s.len() as isize, &mut out) };
    out
}

impl Value {
    /// Converts on the JS thread. Failures (only possible when the env is exiting) yield null.
    pub(crate) unsafe fn into_js(self, env: sys::napi_env) -> sys::napi_value {
        let mut out = ptr::null_mut();
        unsafe {
            match self {
                Value::Undefined => {
                    sys::napi_get_undefined(env, &mut out);
                }
                Value::Null => {
                    sys::napi_get_null(env, &mut out);
                }
                Value::Bool(b) => {
                    sys::napi_get_boolean(env, b, &mut out);
                }
                Value::Number(n) => {
                    sys::napi_create_double(env, n, &mut out);
                }
                Value::Text(s) => out = string(env, &s),
                Value::BigText(t) => out = t.into_js(env),
                Value::Bytes(v) => out = bytes(env, v),
                #[cfg(target_os = "linux")]
                Value::Mapped(m) => out = adopt(env, m),
                Value::List(items) => {
                    sys::napi_create_array_with_length(env, items.len(), &mut out);
                    for (i, item) in items.into_iter().enumerate() {
                        sys::napi_set_element(env, out, i as u32, item.into_js(env));
                    }
                }
            }
        }
        out
    }
}

unsafe fn bytes(env: sys::napi_env, v: Vec<u8>) -> sys::napi_value {
    if v.len() > COPY_BELOW {
        // SAFETY: on the JS thread, as the caller is.
        return unsafe { adopt(env, v) };
    }
    // SAFETY: as above.
    unsafe { copy(env, &v) }
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

/// A Buffer over `owner`'s memory, freed (dropped) by V8's finalizer: no copy.
unsafe fn adopt<T: Owner>(env: sys::napi_env, mut owner: T) -> sys::napi_value {
    let mut out = ptr::null_mut();
    let (data, len) = {
        let b = owner.bytes();
        (b.as_mut_ptr(), b.len())
    };
    let boxed = Box::into_raw(Box::new(owner));
    unsafe {
        let status = sys::napi_create_external_buffer(
            env,
            len,
            data.cast(),
            Some(free_owner::<T>),
            boxed.cast(),
            &mut out,
        );
        if still_ours(status) {
            // Refused before Node took the memory (a V8 sandbox, or an env that can no longer
            // run JS): it is still ours; copy it.
            let mut owner = Box::from_raw(boxed);
            return copy(env, owner.bytes());
        }
    }
    // A generic failure (longer than the largest Buffer) has already handed the memory to
    // the finalizer, so it must not be touched here; the caller sees null.
    out
}

unsafe fn copy(env: sys::napi_env, bytes: &[u8]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    let mut data = ptr::null_mut();
    unsafe {
        sys::napi_create_buffer_copy(env, bytes.len(), bytes.as_ptr().cast(), &mut data, &mut out)
    };
    out
}

unsafe extern "C" fn free_owner<T>(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<T> leaked in `adopt`; V8 finalizes each buffer once.
    drop(unsafe { Box::from_raw(hint.cast::<T>()) });
}

/// Whether memory offered to `napi_create_external_buffer` is still ours after `status`.
/// Node registers the finalizer only past its argument checks; of the failures after that,
/// the only one (a Buffer too long) has already run it.
fn still_ours(status: sys::napi_status) -> bool {
    status != sys::Status::napi_ok && status != sys::Status::napi_generic_failure
}
