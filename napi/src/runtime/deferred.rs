//! Promises created and settled natively, for tasks with no AbortSignal or timeout.
//!
//! Such a task needs nothing from the JS layer once submitted, so the binding returns a
//! promise from `napi_create_promise` and settles it itself when the task's completion is
//! delivered. That saves the JS side a promise executor, two resolving functions and a table
//! entry per task. The task's inputs are held by N-API references until then, since the pool
//! reads them in place. Everything here runs on the JS thread.

use std::cell::Cell;
use std::mem::ManuallyDrop;
use std::ptr;

use napi::bindgen_prelude::Unknown;
use napi::{Env, JsValue, sys};

use super::js::unknown;
use super::value::{Value, error_js};
use crate::errors::{Result as JsResult, TaskError, internal};

/// The most inputs a natively settled task keeps alive (hmac's key and data).
const MAX_KEEP: usize = 2;

/// A promise's settling end and its inputs' references.
#[derive(Clone, Copy)]
struct Handles {
    deferred: sys::napi_deferred,
    refs: [sys::napi_ref; MAX_KEEP],
}

/// The owner of a natively created promise: whoever holds it settles the promise, once. Not
/// `Copy`; dropping it unsettled records its handle in [`DROPPED`] (and otherwise leaves the
/// promise to the environment's cleanup), which is how [`Deferred::promise`] knows it may
/// settle a refused task's promise itself.
pub(crate) struct Deferred(Handles);

// SAFETY: the handles are only passed back to N-API on the JS thread that created them (in
// `settle` or `abandon`); other threads merely move them along inside a completion.
unsafe impl Send for Deferred {}

thread_local! {
    /// The handle of the last `Deferred` dropped unsettled on this thread.
    static DROPPED: Cell<sys::napi_deferred> = const { Cell::new(ptr::null_mut()) };
}

impl Drop for Deferred {
    fn drop(&mut self) {
        DROPPED.with(|d| d.set(self.0.deferred));
    }
}

impl Deferred {
    /// Creates a promise that holds `keep` (the task's inputs, at most two) until it settles,
    /// and hands its `Deferred` to `start`, which sends it on with the task; returns `start`'s
    /// value and the promise. If `start` fails having dropped the `Deferred` (the core's
    /// `submit` and `spawn` drop their completion closures unrun when they refuse), the
    /// promise, never handed out, is settled here and its references deleted. If it fails
    /// having sent the `Deferred` on, whoever holds it settles it: nothing is settled twice.
    pub(crate) fn promise<T>(
        env: &Env,
        keep: &[&Unknown<'_>],
        start: impl FnOnce(Deferred) -> JsResult<T>,
    ) -> JsResult<(T, Unknown<'static>)> {
        let raw = env.raw();
        let keep: [sys::napi_value; MAX_KEEP] =
            std::array::from_fn(|i| keep.get(i).map_or(ptr::null_mut(), |v| v.raw()));
        // SAFETY: `raw` is the current call's env (a `&Env` exists only inside one) and
        // `keep` values of it (the call's arguments) or null, which `create` skips.
        let (handles, promise) = unsafe { Handles::create(raw, &keep) }?;
        DROPPED.with(|d| d.set(ptr::null_mut()));
        match start(Deferred(handles)) {
            Ok(v) => {
                // SAFETY: `promise` was made in `raw` just above.
                Ok((v, unsafe { unknown(raw, promise) }))
            }
            Err(e) => {
                if DROPPED.with(|d| d.replace(ptr::null_mut())) == handles.deferred {
                    // SAFETY: on `raw`'s JS thread, which made the handles; the `Deferred`
                    // was dropped unsettled during `start`, so no copy is left to settle them.
                    unsafe { handles.abandon(raw) };
                }
                Err(e)
            }
        }
    }

    /// Settles the promise (see [`Handles::settle`]).
    ///
    /// # Safety
    /// As [`Handles::settle`]: `env` must be the environment of the JS thread this is called
    /// on and the one the promise was created in, and `make_error` a function of `env` or
    /// null. (Settling consumes `self`, so it cannot happen twice.)
    pub(crate) unsafe fn settle(
        self,
        env: sys::napi_env,
        result: Result<Value, TaskError>,
        make_error: sys::napi_value,
    ) {
        // Settled, not dropped: `DROPPED` must not record it.
        let handles = ManuallyDrop::new(self).0;
        // SAFETY: the caller's obligations are `Handles::settle`'s; these handles have not
        // been settled (a `Deferred` is settled only by consuming it).
        unsafe { handles.settle(env, result, make_error) };
    }
}

impl Handles {
    /// Creates the promise and references the objects among `keep` (the task's inputs, at
    /// most two) until it settles.
    ///
    /// # Safety
    /// `env` must be the environment of the JS thread this is called on, and `keep` values
    /// of that environment (at most [`MAX_KEEP`]; more are not referenced).
    unsafe fn create(
        env: sys::napi_env,
        keep: &[sys::napi_value],
    ) -> JsResult<(Self, sys::napi_value)> {
        let mut deferred = ptr::null_mut();
        let mut promise = ptr::null_mut();
        // SAFETY: `env` is current (caller); both are valid out-pointers.
        if unsafe { sys::napi_create_promise(env, &mut deferred, &mut promise) }
            != sys::Status::napi_ok
        {
            return Err(internal("could not create a promise"));
        }
        let mut this = Self {
            deferred,
            refs: [ptr::null_mut(); MAX_KEEP],
        };
        for (r, &v) in this.refs.iter_mut().zip(keep) {
            if v.is_null() {
                continue;
            }
            // Only objects (typed arrays, read in place) need holding: a string input was
            // copied when it was read, and Node 20 refuses references to strings anyway.
            let mut ty = sys::ValueType::napi_object;
            // SAFETY: `env` is current and `v` one of its values (caller); `ty` a valid
            // out-pointer. If the query fails, `ty` stays "object" and a reference is tried.
            unsafe { sys::napi_typeof(env, v, &mut ty) };
            if ty != sys::ValueType::napi_object {
                continue;
            }
            // SAFETY: `env` is current and `v` one of its values (caller); `r` a valid
            // out-pointer, written only on success.
            let status = unsafe { sys::napi_create_reference(env, v, 1, r) };
            if status != sys::Status::napi_ok {
                // An input left unreferenced could be collected while the pool reads it in
                // place: refuse the task. The promise was never handed out; settle it so
                // its deferred is freed, and drop the references already made.
                // SAFETY: `env` is current; `this` holds this env's deferred and references
                // (null ones are skipped).
                unsafe { this.abandon(env) };
                return Err(internal("could not reference a task input"));
            }
        }
        Ok((this, promise))
    }

    /// Settles the promise; `make_error(code, message)` builds rejection values in JS so they
    /// have the same classes as everywhere else.
    ///
    /// # Safety
    /// `env` must be the environment of the JS thread this is called on and the one `self`
    /// was created in, `self` not settled before (no copy of it), and `make_error` a function
    /// of `env` (or null: the rejection then carries the message alone).
    unsafe fn settle(
        self,
        env: sys::napi_env,
        result: Result<Value, TaskError>,
        make_error: sys::napi_value,
    ) {
        let error = match result {
            Ok(v) => {
                // SAFETY: `env` is current (caller).
                let value = unsafe { v.into_js(env) };
                // A nested conversion may have failed (leaving an exception pending) even
                // though the outer value was made; resolving would then fail silently.
                // (`pending` stays false only if the query itself fails, which needs a
                // broken env; the resolve below then fails too, and is retried as a reject.)
                let mut pending = false;
                // SAFETY: `env` is current; `pending` a valid out-pointer.
                unsafe { sys::napi_is_exception_pending(env, &mut pending) };
                if !value.is_null() && !pending {
                    // SAFETY: `self.deferred` is this env's and unsettled (caller); `value`
                    // was made in this env just above.
                    let status = unsafe { sys::napi_resolve_deferred(env, self.deferred, value) };
                    if status == sys::Status::napi_ok {
                        // SAFETY: `env` is the env of `self`'s references (caller).
                        return unsafe { self.release(env) };
                    }
                }
                let mut ignored = ptr::null_mut();
                // SAFETY: `env` is current; `ignored` a valid out-pointer. Its status is not
                // needed: with no exception pending it just yields undefined.
                unsafe { sys::napi_get_and_clear_last_exception(env, &mut ignored) };
                TaskError::unconvertible()
            }
            Err(e) => e,
        };
        // SAFETY: `env` is current (caller).
        let args = unsafe { error_js(env, &error) };
        let mut global = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: `env` is current; `global` a valid out-pointer. If this failed, `global`
        // would stay null and the call below fail, taking the fallback.
        unsafe { sys::napi_get_global(env, &mut global) };
        // SAFETY: `env` is current; `make_error` a function of it or null (caller), `args`
        // two values of it (or null, which N-API rejects with a status) and `err` a valid
        // out-pointer.
        let called =
            unsafe { sys::napi_call_function(env, global, make_error, 2, args.as_ptr(), &mut err) };
        if called != sys::Status::napi_ok {
            // makeError threw: drop its exception so the rest of the batch can still be
            // settled, and reject with the message alone.
            let mut ignored = ptr::null_mut();
            // SAFETY: as above; status not needed for the same reason.
            unsafe { sys::napi_get_and_clear_last_exception(env, &mut ignored) };
            err = args[1];
        }
        // The status is not checked: with no exception pending (cleared above) this fails
        // only for a null `err` (the message could not be made either, i.e. the env is going
        // away) and there is nothing left to reject with; the references are released all
        // the same.
        // SAFETY: `self.deferred` is this env's and unsettled (caller); `err` of this env.
        unsafe { sys::napi_reject_deferred(env, self.deferred, err) };
        // SAFETY: `env` is the env of `self`'s references (caller).
        unsafe { self.release(env) };
    }

    /// Resolves a promise that was never handed out (its task was rejected at admission, and
    /// the copy inside the task dropped unsettled) and drops its references.
    ///
    /// # Safety
    /// `env` must be the environment of the JS thread this is called on and the one `self`
    /// was created in, and `self` not settled before (no other copy settles it).
    unsafe fn abandon(self, env: sys::napi_env) {
        let mut undefined = ptr::null_mut();
        // SAFETY: `env` is current (caller); `undefined` a valid out-pointer.
        unsafe { sys::napi_get_undefined(env, &mut undefined) };
        // Nobody awaits this promise, so a failed resolve (only in an env going away) loses
        // nothing; its status is not needed.
        // SAFETY: `self.deferred` is this env's and unsettled (caller).
        unsafe { sys::napi_resolve_deferred(env, self.deferred, undefined) };
        // SAFETY: `env` is the env of `self`'s references (caller).
        unsafe { self.release(env) };
    }

    /// Deletes the input references (null slots are unused).
    ///
    /// # Safety
    /// `env` must be the current JS thread's environment, the one the references were made
    /// in, and they must not have been deleted before.
    unsafe fn release(self, env: sys::napi_env) {
        for r in self.refs.into_iter().filter(|r| !r.is_null()) {
            // SAFETY: `r` is a live reference of `env` (caller). A failure (an env going
            // away) leaves it to the env's own cleanup, so the status is not needed.
            unsafe { sys::napi_delete_reference(env, r) };
        }
    }
}
