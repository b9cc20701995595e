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
use std::sync::{Arc, Mutex, OnceLock};

use napi::sys;

use super::js::string;

/// Below this many bytes a plain copy is cheaper than an external string's finalizer.
pub(crate) const EXTERNAL_ABOVE: usize = 64 * 1024;

/// Text prepared off the JS thread in the representation V8 stores it in.
pub(crate) enum Prepared {
    /// Plain UTF-8, copied when converted (small strings).
    Utf8(String),
    /// Latin-1 bytes, adopted as a one-byte string (copied when small).
    Latin1(Vec<u8>),
    /// UTF-16 units, adopted as a two-byte string (copied when small).
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
            let find = |name: &std::ffi::CStr| {
                // SAFETY: dlsym with a valid C string; it only looks the name up.
                unsafe { libc::dlsym(libc::RTLD_DEFAULT, name.as_ptr()) }
            };
            let latin1 = find(c"node_api_create_external_string_latin1");
            let utf16 = find(c"node_api_create_external_string_utf16");
            (!latin1.is_null() && !utf16.is_null()).then(|| EntryPoints {
                // SAFETY: a non-null symbol of that name is Node's entry point, whose C
                // signature `CreateExternal` spells.
                latin1: unsafe { std::mem::transmute::<*mut c_void, CreateExternal<u8>>(latin1) },
                // SAFETY: as above.
                utf16: unsafe { std::mem::transmute::<*mut c_void, CreateExternal<u16>>(utf16) },
            })
        })
        .as_ref()
}

/// An external string's memory. V8's finalizer holds one reference and `external` another,
/// so whichever way the create call ends, nothing frees the text twice or reads it freed.
type Shared<T> = Arc<Mutex<Vec<T>>>;

/// # Safety
/// `hint` must come from `Arc::into_raw` of a `Shared<T>` in `external`, and be passed to
/// this finalizer at most once (N-API's contract for finalizers).
unsafe extern "C" fn release<T: Send + 'static>(
    _env: sys::napi_env,
    _data: *mut c_void,
    hint: *mut c_void,
) {
    // SAFETY: per the contract above, this reference is the finalizer's own.
    let shared = unsafe { Shared::<T>::from_raw(hint.cast_const().cast()) };
    // Its byte size if this was the last reference (the text may be large: freed off the JS
    // thread); 0 while `external` still holds one, or if a panic poisoned the lock.
    let len = match (Arc::strong_count(&shared), shared.lock()) {
        (1, Ok(v)) => std::mem::size_of_val(v.as_slice()),
        _ => 0,
    };
    offload_core::reclaim::release(shared, len);
}

/// Hands `v` to V8 as an external string; if that fails the text is copied.
///
/// The finalizer's reference is never reclaimed here: after a failure N-API may have run the
/// finalizer already, may never run it, or may run it at environment teardown (Node links the
/// string resource before V8 accepts it). So on failure the text is moved out, copied and
/// freed here, and the finalizer, whenever it runs, frees only the empty shell. At worst
/// that shell leaks; nothing is freed twice.
///
/// # Safety
/// `env` must be the current JS thread's environment and `create` an N-API external-string
/// entry point.
unsafe fn external<T: Send + 'static>(
    env: sys::napi_env,
    v: Vec<T>,
    create: CreateExternal<T>,
    copy: impl FnOnce(&[T]) -> sys::napi_value,
) -> sys::napi_value {
    let len = v.len();
    // The heap buffer does not move while the Vec is left alone, so the pointer stays valid
    // after the lock is released.
    let data = v.as_ptr().cast_mut();
    let ours: Shared<T> = Arc::new(Mutex::new(v));
    let hint = Arc::into_raw(ours.clone());
    let mut out = ptr::null_mut();
    let mut copied = false;
    // SAFETY: the text lives while a string refers to it (the finalizer's reference); V8 only
    // reads it. The C signature wants `*mut`; nothing writes through it.
    let status = unsafe {
        create(
            env,
            data,
            len as isize,
            Some(release::<T>),
            hint.cast_mut().cast(),
            &mut out,
            &mut copied,
        )
    };
    if status == sys::Status::napi_ok {
        return out;
    }
    // No string refers to the text, so it is ours to move out.
    let text = std::mem::take(&mut *ours.lock().unwrap_or_else(|p| p.into_inner()));
    copy(&text)
}

impl Prepared {
    /// The text as a JS string, or null if it could not be made.
    ///
    /// # Safety
    /// `env` must be the environment of the JS thread this is called on.
    pub(crate) unsafe fn into_js(self, env: sys::napi_env) -> sys::napi_value {
        // `env` is current (caller): the one obligation of `string`, `latin1` and `utf16`;
        // `external`'s other one holds because `f` came from `entry_points`, which only
        // returns the two N-API external-string entry points.
        match (self, entry_points()) {
            // SAFETY: see above.
            (Prepared::Utf8(s), _) => unsafe { string(env, &s) },
            (Prepared::Latin1(v), Some(f)) if v.len() > EXTERNAL_ABOVE => {
                // SAFETY: see above.
                let copy = |b: &[u8]| unsafe { latin1(env, b) };
                // SAFETY: see above.
                unsafe { external(env, v, f.latin1, copy) }
            }
            (Prepared::Utf16(v), Some(f)) if v.len() * 2 > EXTERNAL_ABOVE => {
                // SAFETY: see above.
                let copy = |b: &[u16]| unsafe { utf16(env, b) };
                // SAFETY: see above.
                unsafe { external(env, v, f.utf16, copy) }
            }
            // Small text (a copy costs less than a finalizer), or no entry points.
            // SAFETY: see above.
            (Prepared::Latin1(v), _) => unsafe { latin1(env, &v) },
            // SAFETY: see above.
            (Prepared::Utf16(v), _) => unsafe { utf16(env, &v) },
        }
    }
}

/// A copied Latin-1 string, or null if N-API refused (`out` is written only on success, so
/// the status is not needed).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn latin1(env: sys::napi_env, b: &[u8]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is current (caller); `b` is valid for `b.len()` bytes (at most
    // isize::MAX, so the cast is exact) and only read during the call.
    unsafe { sys::napi_create_string_latin1(env, b.as_ptr().cast(), b.len() as isize, &mut out) };
    out
}

/// A copied UTF-16 string, or null if N-API refused (as for [`latin1`]).
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on.
unsafe fn utf16(env: sys::napi_env, b: &[u16]) -> sys::napi_value {
    let mut out = ptr::null_mut();
    // SAFETY: `env` is current (caller); `b` is valid for `b.len()` code units (a length
    // that fits isize) and only read during the call.
    unsafe { sys::napi_create_string_utf16(env, b.as_ptr(), b.len() as isize, &mut out) };
    out
}

/// Test-only (`offload/testing`): drives [`external`] through a stand-in for N-API's
/// external-string entry point that fails in `mode`, and returns the string made instead:
/// `'finalized'` runs the finalizer before failing, `'unregistered'` never runs it, `'later'`
/// keeps it for [`run_kept_string_finalizer`]. A double free aborts the process.
#[cfg(feature = "test-kernels")]
pub(crate) fn external_string_failure(
    env: &napi::Env,
    mode: String,
    text: String,
) -> crate::errors::Result<napi::bindgen_prelude::Unknown<'static>> {
    use std::sync::atomic::{AtomicU8, Ordering};
    static MODE: AtomicU8 = AtomicU8::new(0);
    MODE.store(
        match mode.as_str() {
            "finalized" => 0,
            "unregistered" => 1,
            "later" => 2,
            _ => {
                return Err(crate::errors::one_of(
                    "argument 'mode'",
                    &["finalized", "unregistered", "later"],
                    &mode,
                ));
            }
        },
        Ordering::Relaxed,
    );
    /// Stands in for N-API's entry point and refuses the string as `MODE` says.
    ///
    /// # Safety
    /// Called only by `external`, with the finalizer and hint it registers.
    unsafe extern "C" fn failing(
        env: sys::napi_env,
        data: *mut u8,
        _len: isize,
        finalize: sys::napi_finalize,
        hint: *mut c_void,
        _out: *mut sys::napi_value,
        _copied: *mut bool,
    ) -> sys::napi_status {
        let Some(finalize) = finalize else {
            return sys::Status::napi_invalid_arg;
        };
        match MODE.load(Ordering::Relaxed) {
            // SAFETY: the finalizer with the data and hint it was given, once.
            0 => unsafe { finalize(env, data.cast(), hint) },
            1 => {}
            _ => {
                *KEPT.lock().unwrap_or_else(|p| p.into_inner()) =
                    Some((finalize, data as usize, hint as usize))
            }
        }
        sys::Status::napi_generic_failure
    }
    let raw = env.raw();
    // SAFETY: `raw` is the current call's env (a `&Env` exists only inside one).
    let copy = |b: &[u8]| unsafe { latin1(raw, b) };
    // SAFETY: on the JS thread; `failing` has the entry point's signature.
    let value = unsafe { external(raw, text.into_bytes(), failing, copy) };
    // SAFETY: a value just created in this env.
    Ok(unsafe { super::js::unknown(raw, value) })
}

#[cfg(feature = "test-kernels")]
type KeptFinalizer = (
    unsafe extern "C" fn(sys::napi_env, *mut c_void, *mut c_void),
    usize,
    usize,
);
#[cfg(feature = "test-kernels")]
static KEPT: Mutex<Option<KeptFinalizer>> = Mutex::new(None);

#[cfg(feature = "test-kernels")]
/// Test-only: runs the finalizer kept by a `'later'` failure, as Node may at teardown.
pub(crate) fn run_kept_string_finalizer(env: &napi::Env) -> bool {
    let kept = KEPT.lock().unwrap_or_else(|p| p.into_inner()).take();
    match kept {
        Some((f, data, hint)) => {
            // SAFETY: the finalizer `external` registered, called once (it was taken out of
            // KEPT) with its own data and hint.
            unsafe { f(env.raw(), data as *mut c_void, hint as *mut c_void) };
            true
        }
        None => false,
    }
}
