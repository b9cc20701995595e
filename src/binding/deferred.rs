//! Promises created and settled natively, for tasks with no AbortSignal or timeout.
//!
//! Such a task needs nothing from the JS layer once submitted, so the binding returns a
//! promise from `napi_create_promise` and settles it itself when the task's completion is
//! delivered. That saves the JS side a promise executor, two resolving functions and a table
//! entry per task. The task's inputs are held by N-API references until then, since the pool
//! reads them in place. Everything here runs on the JS thread.

use std::ptr;

use napi::sys;

use super::value::{TaskError, Value};

/// The most inputs a natively settled task keeps alive (hmac's key and data).
const MAX_KEEP: usize = 2;

#[derive(Clone, Copy)]
pub(crate) struct Deferred {
    deferred: sys::napi_deferred,
    refs: [sys::napi_ref; MAX_KEEP],
}

// SAFETY: the handles are only passed back to N-API on the JS thread that created them (in
// `settle` or `abandon`); other threads merely move them along inside a completion.
unsafe impl Send for Deferred {}

impl Deferred {
    /// Creates the promise and references `keep` (the task's inputs, at most two) until it
    /// settles.
    pub(crate) unsafe fn create(
        env: sys::napi_env,
        keep: &[sys::napi_value],
    ) -> napi::Result<(Self, sys::napi_value)> {
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        unsafe {
            if sys::napi_create_promise(env, &mut deferred, &mut promise) != sys::Status::napi_ok {
                return Err(napi::Error::from_reason("could not create a promise"));
            }
            let mut refs = [ptr::null_mut(); MAX_KEEP];
            for (r, &v) in refs.iter_mut().zip(keep) {
                sys::napi_create_reference(env, v, 1, r);
            }
            Ok((Self { deferred, refs }, promise))
        }
    }

    /// Settles the promise; `make_error(code, message)` builds rejection values in JS so they
    /// have the same classes as everywhere else.
    pub(crate) unsafe fn settle(
        self,
        env: sys::napi_env,
        result: Result<Value, TaskError>,
        make_error: sys::napi_value,
    ) {
        unsafe {
            let error = match result {
                Ok(v) => {
                    let value = v.into_js(env);
                    // A nested conversion may have failed (leaving an exception pending) even
                    // though the outer value was made; resolving would then fail silently.
                    let mut pending = false;
                    sys::napi_is_exception_pending(env, &mut pending);
                    if !value.is_null() && !pending {
                        sys::napi_resolve_deferred(env, self.deferred, value);
                        return self.release(env);
                    }
                    let mut ignored = ptr::null_mut();
                    sys::napi_get_and_clear_last_exception(env, &mut ignored);
                    TaskError::unconvertible()
                }
                Err(e) => e,
            };
            let args = [error.code_js(env), error.message_js(env)];
            let mut global = ptr::null_mut();
            let mut err = ptr::null_mut();
            sys::napi_get_global(env, &mut global);
            if sys::napi_call_function(env, global, make_error, 2, args.as_ptr(), &mut err)
                != sys::Status::napi_ok
            {
                // makeError threw: drop its exception so the rest of the batch can still be
                // settled, and reject with the message alone.
                let mut ignored = ptr::null_mut();
                sys::napi_get_and_clear_last_exception(env, &mut ignored);
                err = args[1];
            }
            sys::napi_reject_deferred(env, self.deferred, err);
            self.release(env);
        }
    }

    /// Resolves a promise that was never handed out (its task was rejected at admission, and
    /// the copy inside the task dropped unsettled) and drops its references.
    pub(crate) unsafe fn abandon(self, env: sys::napi_env) {
        unsafe {
            let mut undefined = ptr::null_mut();
            sys::napi_get_undefined(env, &mut undefined);
            sys::napi_resolve_deferred(env, self.deferred, undefined);
            self.release(env);
        }
    }

    unsafe fn release(self, env: sys::napi_env) {
        for r in self.refs.into_iter().filter(|r| !r.is_null()) {
            unsafe { sys::napi_delete_reference(env, r) };
        }
    }
}
