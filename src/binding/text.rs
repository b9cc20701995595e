//! Large strings handed to V8 without a copy on the JS thread.
//!
//! Creating a 100 MiB string from UTF-8 makes V8 scan and transcode it on the JS thread (tens
//! of milliseconds). Instead the I/O thread prepares the string in V8's own representation,
//! Latin-1 when the text is ASCII (most tool output) or UTF-16 otherwise, and V8 adopts that
//! memory as an external string: O(1) on the JS thread. The entry points
//! (`node_api_create_external_string_*`, Node 20.4+) are looked up at run time; without them,
//! or for small strings, the text is copied as usual.

use std::ffi::c_void;
use std::ptr;
use std::sync::OnceLock;

use napi::sys;

use super::value::string;

/// Below this many bytes a plain copy is cheaper than an external string's finalizer.
pub(crate) const EXTERNAL_ABOVE: usize = 64 * 1024;

/// Text prepared off the JS thread in the representation V8 stores it in.
pub(crate) enum Prepared {
    /// Plain UTF-8, copied when converted (small strings).
    Utf8(String),
    /// ASCII bytes, adopted as a one-byte string.
    Latin1(Vec<u8>),
    Utf16(Vec<u16>),
}

impl Prepared {
    pub(crate) fn new(text: String) -> Self {
        if text.len() <= EXTERNAL_ABOVE || entry_points().is_none() {
            Prepared::Utf8(text)
        } else if text.is_ascii() {
            Prepared::Latin1(text.into_bytes())
        } else {
            Prepared::Utf16(text.encode_utf16().collect())
        }
    }
}

type CreateExternal<T> = unsafe extern "C" fn(
    sys::napi_env,
    *mut T,
    isize,
    sys::napi_finalize,
    *mut c_void,
    *mut sys::napi_value,
    *mut bool,
) -> sys::napi_status;

struct EntryPoints {
    latin1: CreateExternal<u8>, // `char*` in C; same ABI
    utf16: CreateExternal<u16>,
}

fn entry_points() -> Option<&'static EntryPoints> {
    static FOUND: OnceLock<Option<EntryPoints>> = OnceLock::new();
    FOUND
        .get_or_init(|| {
            // SAFETY: dlsym with a valid C string; a found symbol has the documented signature.
            unsafe {
                let latin1 = libc::dlsym(
                    libc::RTLD_DEFAULT,
                    c"node_api_create_external_string_latin1".as_ptr(),
                );
                let utf16 = libc::dlsym(
                    libc::RTLD_DEFAULT,
                    c"node_api_create_external_string_utf16".as_ptr(),
                );
                (!latin1.is_null() && !utf16.is_null()).then(|| EntryPoints {
                    latin1: std::mem::transmute::<*mut c_void, CreateExternal<u8>>(latin1),
                    utf16: std::mem::transmute::<*mut c_void, CreateExternal<u16>>(utf16),
                })
            }
        })
        .as_ref()
}

unsafe extern "C" fn free<T>(_env: sys::napi_env, _data: *mut c_void, hint: *mut c_void) {
    // SAFETY: `hint` is the Box<Vec<T>> leaked in `external`; Node finalizes it exactly once.
    drop(unsafe { Box::from_raw(hint.cast::<Vec<T>>()) });
}

/// Hands `v` to V8 as an external string; on refusal the memory is still ours and is copied.
unsafe fn external<T>(
    env: sys::napi_env,
    v: Vec<T>,
    create: CreateExternal<T>,
    copy: impl FnOnce(&[T]) -> sys::napi_value,
) -> sys::napi_value {
    let len = v.len();
    let boxed = Box::into_raw(Box::new(v));
    let mut out = ptr::null_mut();
    let mut copied = false;
    // SAFETY: the Vec stays alive until the finalizer frees it (also when Node copied it).
    let status = unsafe {
        create(
            env,
            (*boxed).as_mut_ptr(),
            len as isize,
            Some(free::<T>),
            boxed.cast(),
            &mut out,
            &mut copied,
        )
    };
    if status == sys::Status::napi_ok {
        return out;
    }
    // Refused (e.g. a V8 sandbox): the finalizer was not registered, so the memory is ours.
    // SAFETY: `boxed` was leaked above and not taken by Node.
    let v = unsafe { Box::from_raw(boxed) };
    copy(&v)
}

impl Prepared {
    pub(crate) unsafe fn into_js(self, env: sys::napi_env) -> sys::napi_value {
        // SAFETY: N-API calls on the JS thread with valid buffers.
        unsafe {
            match (self, entry_points()) {
                (Prepared::Utf8(s), _) => string(env, &s),
                (Prepared::Latin1(v), Some(f)) => external(env, v, f.latin1, |b| latin1(env, b)),
                (Prepared::Utf16(v), Some(f)) => external(env, v, f.utf16, |b| utf16(env, b)),
                // Never built without the entry points; copy if it somehow is.
                (Prepared::Latin1(v), None) => latin1(env, &v),
                (Prepared::Utf16(v), None) => utf16(env, &v),
            }
        }
    }
}

unsafe fn latin1(env: sys::napi_env, b: &[u8]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    unsafe { sys::napi_create_string_latin1(env, b.as_ptr().cast(), b.len() as isize, &mut out) };
    out
}

unsafe fn utf16(env: sys::napi_env, b: &[u16]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    unsafe { sys::napi_create_string_utf16(env, b.as_ptr(), b.len() as isize, &mut out) };
    out
}
