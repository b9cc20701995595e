//! Task inputs read from JavaScript without copying.
//!
//! The JS layer normalises every binary input (Buffer, TypedArray, DataView, ArrayBuffer,
//! SharedArrayBuffer) to a `Uint8Array` view, so this module only needs `napi_get_typedarray_info`.
//! The view's memory is borrowed, not copied: the JS layer keeps the source object referenced
//! until the task's completion is delivered, and teardown waits for running borrowers (see
//! `channel::BorrowGuard`). Strings must be transcoded, so they are copied once into a `Vec`.

use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue, sys};
use zeroize::Zeroizing;

use crate::errors::{Error, Result, arg_type, internal};

pub(crate) enum Input {
    Borrowed { ptr: *const u8, len: usize },
    Owned(Vec<u8>),
}

// SAFETY: a borrowed input is only read while its owner is kept alive by the JS layer and
// its environment is alive (`BorrowGuard`); nothing writes through it.
unsafe impl Send for Input {}
// SAFETY: shared access only reads the bytes (`as_slice`), under the same lifetime guarantee.
unsafe impl Sync for Input {}

impl AsRef<[u8]> for Input {
    fn as_ref(&self) -> &[u8] {
        self.as_slice()
    }
}

impl Input {
    pub(crate) fn as_slice(&self) -> &[u8] {
        match self {
            Input::Owned(v) => v,
            Input::Borrowed { len: 0, .. } => &[],
            // SAFETY: see the type-level comment; `ptr` is valid for `len` bytes.
            Input::Borrowed { ptr, len } => unsafe { std::slice::from_raw_parts(*ptr, *len) },
        }
    }

    /// Reads `value` (an argument of the current call) as an input: a `Uint8Array` is
    /// borrowed in place, a string copied; anything else is `ERR_INVALID_ARG_TYPE`.
    pub(crate) fn from_js(env: &Env, value: &Unknown<'_>, name: &str) -> Result<Self> {
        let env = env.raw();
        let raw = value.raw();
        let mut ty = 0;
        // Statuses: `napi_typeof` and `napi_is_typedarray` leave their outputs at values that
        // fall through to the type error if they fail. The string calls and
        // `napi_get_typedarray_info` are checked: a failure would otherwise hash an empty
        // string or borrow a null pointer as if all were well.
        //
        // SAFETY (every block below): `env` is the current call's environment and `raw` one
        // of its values; every out-pointer is a valid local.
        // SAFETY: see above.
        unsafe { sys::napi_typeof(env, raw, &mut ty) };
        if ty == sys::ValueType::napi_string {
            let mut len = 0;
            // SAFETY: see above; a null buffer asks for the length only.
            let status =
                unsafe { sys::napi_get_value_string_utf8(env, raw, ptr::null_mut(), 0, &mut len) };
            if status != sys::Status::napi_ok {
                return Err(unreadable(name));
            }
            let mut buf = vec![0u8; len + 1];
            let ptr = buf.as_mut_ptr().cast();
            // SAFETY: see above; the string is written into `buf`, `len + 1` bytes long, as
            // the call is told.
            let status =
                unsafe { sys::napi_get_value_string_utf8(env, raw, ptr, len + 1, &mut len) };
            if status != sys::Status::napi_ok {
                return Err(unreadable(name));
            }
            buf.truncate(len);
            return Ok(Input::Owned(buf));
        }
        let mut is_typed = false;
        // SAFETY: see above.
        unsafe { sys::napi_is_typedarray(env, raw, &mut is_typed) };
        if is_typed {
            let mut kind = 0;
            let mut len = 0;
            let mut data = ptr::null_mut();
            let mut ab = ptr::null_mut();
            let mut offset = 0;
            // SAFETY: see above.
            let status = unsafe {
                sys::napi_get_typedarray_info(
                    env,
                    raw,
                    &mut kind,
                    &mut len,
                    &mut data,
                    &mut ab,
                    &mut offset,
                )
            };
            if status != sys::Status::napi_ok {
                return Err(unreadable(name));
            }
            if kind == sys::TypedarrayType::uint8_array {
                return Ok(Input::Borrowed {
                    ptr: data.cast_const().cast(),
                    len,
                });
            }
        }
        Err(arg_type(name, "a string or a Uint8Array"))
    }
}

/// A string or Uint8Array N-API could not read (only in an environment being torn down).
fn unreadable(name: &str) -> Error {
    internal(format!("The \"{name}\" argument could not be read"))
}

/// A secret argument's string copy, wiped on drop. Made from an `Input`, whose owned bytes
/// (a string's UTF-8) it takes, leaving the input empty; a borrowed input is left as it is and
/// the secret empty. So exactly one of the two holds the bytes: [`Secret::or`] picks it.
pub(crate) struct Secret(Zeroizing<Vec<u8>>);

impl Secret {
    pub(crate) fn take(input: &mut Input) -> Self {
        Self(Zeroizing::new(match input {
            Input::Owned(v) => std::mem::take(v),
            Input::Borrowed { .. } => Vec::new(),
        }))
    }

    /// The secret's bytes: the copy if there is one, else the borrowed input's.
    pub(crate) fn or<'a>(&'a self, borrowed: &'a [u8]) -> &'a [u8] {
        if self.0.is_empty() { borrowed } else { &self.0 }
    }
}
