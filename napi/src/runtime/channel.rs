//! The per-environment completion channel.
//!
//! Pool threads never touch JavaScript. They push finished tasks onto a lock-free queue and,
//! only when the queue goes from idle to busy, poke one long-lived threadsafe function. Its
//! callback runs on the JS thread and drains up to [`MAX_BATCH`] completions: promises the
//! binding created are settled right there, the rest go to the JS dispatcher in one call. If
//! more remain it reschedules itself. One wake-up can settle thousands of promises.
//!
//! Node runs up to 1000 queued threadsafe-function calls in one go, so each loop iteration has
//! a delivery budget (see `turn`): past it, delivery stops with `scheduled` left set, the JS
//! dispatcher is asked for a `setImmediate`, and its `channelResume` wakes the channel again. The threadsafe function is referenced (keeps the
//! process alive) exactly while some completion is owed to JS.
//!
//! The channel also owns the environment's [`CancelGroup`]: when a Node environment (the main
//! thread or a worker) is torn down, its queued and running tasks are cancelled, and teardown
//! waits until no task is still reading JS-owned memory.

use std::ffi::c_void;
use std::ptr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use crossbeam_queue::SegQueue;
use napi::bindgen_prelude::Function;
use napi::{Env, JsValue, sys};

use super::batch::{clear_exception, dispatch, request_resume};
use super::deferred::Deferred;
use super::turn::Turn;
use super::value::Value;
use crate::errors::{Result as JsResult, TaskError, internal};
use offload_core::pool::CancelGroup;

/// Completions converted per JS callback; bounds the time one batch holds the event loop.
const MAX_BATCH: usize = 4096;

/// Where a finished task's result goes.
pub(crate) enum Settle {
    /// The JS layer's handle for the task (an index into its table of pending promises).
    Slot(u32),
    /// A promise the binding created and settles itself.
    Deferred(Deferred),
    /// The same, but not owed in the sense of keeping the event loop alive: the exit of a
    /// process-pool worker, which lives as long as its pool and must not pin the process
    /// (the pool keeps the loop alive itself while tasks are in flight).
    Detached(Deferred),
    /// A message for a slot the JS layer keeps open (a thread-pool worker's wake-up or abort):
    /// delivered like `Slot`, but nothing was owed, so it does not count towards `pending`.
    Signal(u32),
}

pub(crate) struct Completion {
    pub(crate) settle: Settle,
    pub(crate) result: Result<Value, TaskError>,
}

struct FnRef(sys::napi_ref);
// SAFETY: only dereferenced on the JS thread (in `deliver`).
unsafe impl Send for FnRef {}
// SAFETY: a shared `&FnRef` only allows reading the handle; using it needs the env, which
// only the JS thread has (see Send above).
unsafe impl Sync for FnRef {}

struct Tsfn(sys::napi_threadsafe_function);
// SAFETY: napi_call_threadsafe_function is documented as callable from any thread; the handle is
// only used under `EnvScope::tsfn`'s lock and cleared (under it) before Node frees it.
unsafe impl Send for Tsfn {}

pub(crate) struct EnvScope {
    queue: SegQueue<Completion>,
    scheduled: AtomicBool,
    tsfn: Mutex<Option<Tsfn>>,
    pub(crate) group: Arc<CancelGroup>,
    /// Tasks currently reading borrowed JS memory (see [`BorrowGuard`]).
    borrowers: AtomicUsize,
    /// Completions owed to JS (tasks and close waits); the loop is kept alive while non-zero.
    /// Only the JS thread changes it.
    pending: AtomicUsize,
    /// `makeError(code, message)`, for rejecting natively created promises.
    make_error: FnRef,
    /// The delivery budget of the current event-loop iteration.
    turn: Turn,
    /// Children started from this environment, killed when it is torn down.
    #[cfg(target_os = "linux")]
    pub(crate) processes: Arc<offload_core::process::Owner>,
}

/// Held by a running task while it reads memory owned by this environment's JS heap.
pub(crate) struct BorrowGuard<'a>(&'a EnvScope);

impl Drop for BorrowGuard<'_> {
    fn drop(&mut self) {
        self.0.borrowers.fetch_sub(1, Ordering::SeqCst);
    }
}

impl EnvScope {
    /// Enters a borrow, or `None` if the environment is gone and its memory must not be read.
    /// The count is raised before the check so teardown cannot miss a task that passed it.
    pub(crate) fn borrow(&self) -> Option<BorrowGuard<'_>> {
        self.borrowers.fetch_add(1, Ordering::SeqCst);
        let guard = BorrowGuard(self);
        (!self.group.is_cancelled()).then_some(guard)
    }

    pub(crate) fn post(&self, completion: Completion) {
        self.queue.push(completion);
        if !self.scheduled.swap(true, Ordering::SeqCst) {
            self.wake();
        }
    }

    /// Called from a `setImmediate` after a yield: a new iteration, a new budget.
    pub(crate) fn resume(&self) {
        if self.turn.resume() {
            // `scheduled` stayed set through the yield: nobody else will wake us.
            self.wake();
        }
    }

    fn wake(&self) {
        let tsfn = self.tsfn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tsfn.as_ref() {
            // SAFETY: the handle is live while it is Some (see `finalize`), and this call may
            // be made from any thread. Its status is not needed: the queue is unbounded (max
            // size 0) and the call is non-blocking, so it fails only with napi_closing, once
            // the env is being torn down and nothing could be delivered anyway.
            unsafe { sys::napi_call_threadsafe_function(t.0, ptr::null_mut(), 0) };
        }
    }

    /// Counts a completion JS now waits for; the first keeps the event loop alive.
    pub(crate) fn begin(&self, env: &Env) {
        if self.pending.fetch_add(1, Ordering::Relaxed) == 0 {
            self.set_ref(env.raw(), true);
        }
    }

    /// `n` completions were delivered; with none left the event loop may exit.
    fn end(&self, env: sys::napi_env, n: usize) {
        if n > 0 && self.pending.fetch_sub(n, Ordering::Relaxed) == n {
            self.set_ref(env, false);
        }
    }

    fn set_ref(&self, env: sys::napi_env, active: bool) {
        let tsfn = self.tsfn.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(t) = tsfn.as_ref() {
            // The statuses are not needed: these fail only for invalid arguments, and
            // (un)refing a live handle on its own thread cannot.
            if active {
                // SAFETY: called on the JS thread that owns the handle (`begin` and `end` run
                // there only); the handle is live while it is Some.
                unsafe { sys::napi_ref_threadsafe_function(env, t.0) };
            } else {
                // SAFETY: as above.
                unsafe { sys::napi_unref_threadsafe_function(env, t.0) };
            }
        }
    }
}

/// Creates the environment's channel; `dispatch` receives batches (see [`deliver`]) and
/// `make_error` builds rejection values for natively settled promises.
pub(crate) fn open(
    env: &Env,
    dispatch: &Function<'_>,
    make_error: &Function<'_>,
) -> JsResult<Arc<EnvScope>> {
    let (env, dispatch, make_error) = (env.raw(), dispatch.raw(), make_error.raw());
    let mut make_error_ref = ptr::null_mut();
    // SAFETY: on the JS thread; the reference lives as long as the environment.
    check(unsafe { sys::napi_create_reference(env, make_error, 1, &mut make_error_ref) })?;
    let mut uv_loop = ptr::null_mut();
    // SAFETY: `env` is current; `uv_loop` a valid out-pointer.
    check(unsafe { sys::napi_get_uv_event_loop(env, &mut uv_loop) })?;
    // SAFETY: `uv_loop` is this environment's loop, which outlives its channel.
    let turn = unsafe { Turn::new(uv_loop) };
    let scope = Arc::new(EnvScope {
        queue: SegQueue::new(),
        scheduled: AtomicBool::new(false),
        tsfn: Mutex::new(None),
        group: Arc::new(CancelGroup::default()),
        borrowers: AtomicUsize::new(0),
        pending: AtomicUsize::new(0),
        make_error: FnRef(make_error_ref),
        turn,
        #[cfg(target_os = "linux")]
        processes: Arc::default(),
    });
    let context = Arc::into_raw(scope.clone()) as *mut c_void;
    let mut name = ptr::null_mut();
    let mut raw = ptr::null_mut();
    // SAFETY: `env` is current (`open` runs inside a #[napi] call); the name is 7 bytes of
    // UTF-8 read during the call; `name` is a valid out-pointer.
    check(unsafe { sys::napi_create_string_utf8(env, c"offload".as_ptr(), 7, &mut name) })?;
    // SAFETY: `env` is current and `dispatch` its function; `raw` is a valid out-pointer;
    // `context` is an Arc leaked for the tsfn, reclaimed by `finalize` or, if creation
    // fails, just below.
    let status = unsafe {
        sys::napi_create_threadsafe_function(
            env,
            dispatch,
            ptr::null_mut(),
            name,
            0,
            1,
            context,
            Some(finalize),
            context,
            Some(call_js),
            &mut raw,
        )
    };
    if status != sys::Status::napi_ok {
        // SAFETY: creation failed, so no finalizer will reclaim `context`: this is its owner.
        drop(unsafe { Arc::from_raw(context as *const EnvScope) });
        check(status)?;
    }
    // Cannot fail for the live handle just made; the status is not needed.
    // SAFETY: `env` is current and `raw` the live handle made above on this thread.
    unsafe { sys::napi_unref_threadsafe_function(env, raw) };
    *scope.tsfn.lock().unwrap_or_else(|p| p.into_inner()) = Some(Tsfn(raw));
    let hook = Arc::into_raw(scope.clone()) as *mut c_void;
    // SAFETY: `env` is current; `hook` is an Arc leaked for the hook, reclaimed by `teardown`.
    let status = unsafe { sys::napi_add_env_cleanup_hook(env, Some(teardown), hook) };
    if status != sys::Status::napi_ok {
        // SAFETY: the hook was not added, so `teardown` will not reclaim `hook`.
        drop(unsafe { Arc::from_raw(hook as *const EnvScope) });
        check(status)?;
    }
    Ok(scope)
}

fn check(status: sys::napi_status) -> JsResult<()> {
    if status == sys::Status::napi_ok {
        Ok(())
    } else {
        Err(internal(format!(
            "N-API call failed while opening the completion channel ({status})"
        )))
    }
}

/// The tsfn's call_js: drains the queue on the JS thread.
///
/// # Safety
/// Only for N-API to call: `env` the tsfn's env (or null when it is going away), `js_cb` the
/// dispatch function, `context` the `EnvScope` Arc leaked in `open`, not yet finalized.
unsafe extern "C" fn call_js(
    env: sys::napi_env,
    js_cb: sys::napi_value,
    context: *mut c_void,
    _data: *mut c_void,
) {
    if env.is_null() {
        return; // the environment is going away; nothing can be delivered
    }
    // SAFETY: `context` is the Arc leaked in `open`, alive until `finalize`.
    let scope = unsafe { &*(context as *const EnvScope) };
    if scope.turn.yielding() {
        return; // a resume is scheduled; `scheduled` stays set until then
    }
    // SAFETY: on the JS thread of the env whose loop `turn` watches.
    if unsafe { scope.turn.spent() } {
        // SAFETY: on the JS thread with a live env; `js_cb` is its dispatch function.
        if unsafe { request_resume(env, js_cb) } {
            scope.turn.yield_now();
            return;
        }
        // The dispatcher could not be asked: deliver on rather than stall.
    }
    // Clear first: a completion posted after this point schedules a new call.
    scope.scheduled.store(false, Ordering::SeqCst);
    let mut batch = Vec::with_capacity(64);
    while batch.len() < MAX_BATCH {
        match scope.queue.pop() {
            Some(c) => batch.push(c),
            None => break,
        }
    }
    if !scope.queue.is_empty() && !scope.scheduled.swap(true, Ordering::AcqRel) {
        scope.wake();
    }
    if batch.is_empty() {
        return;
    }
    // SAFETY: on the JS thread with a live env, as N-API guarantees for call_js callbacks.
    unsafe { deliver(env, scope, js_cb, batch) };
}

/// Settles natively created promises directly, then calls `dispatch(slots, codes, values)`
/// for the rest: slots in a Uint32Array (filled without a N-API call per element); `codes`
/// and `values` are sparse arrays, created only if some entry needs them.
///
/// # Safety
/// `env` must be the environment of the JS thread this is called on and `scope`'s; `js_cb`
/// the dispatch function of that env.
unsafe fn deliver(
    env: sys::napi_env,
    scope: &EnvScope,
    js_cb: sys::napi_value,
    batch: Vec<Completion>,
) {
    let mut delivered = batch.len();
    let mut slotted = Vec::new();
    let mut make_error = ptr::null_mut();
    // Its status is not needed: on failure `make_error` stays null, which `Deferred::settle`
    // accepts (the rejection then carries the message alone).
    // SAFETY: `env` is current (caller); `scope.make_error` is a live reference of `env`
    // (never deleted: it lives with the env); `make_error` a valid out-pointer.
    unsafe { sys::napi_get_reference_value(env, scope.make_error.0, &mut make_error) };
    for c in batch {
        let d = match c.settle {
            Settle::Deferred(d) => d,
            Settle::Detached(d) => {
                delivered -= 1;
                d
            }
            Settle::Slot(slot) => {
                slotted.push((slot, c.result));
                continue;
            }
            Settle::Signal(slot) => {
                delivered -= 1;
                slotted.push((slot, c.result));
                continue;
            }
        };
        // SAFETY: `env` is current (caller) and the env every deferred in the batch was
        // created in (a scope belongs to one env); each deferred reaches here once, in its
        // completion; `make_error` is a function of `env` or null.
        unsafe { d.settle(env, c.result, make_error) };
        // SAFETY: `env` is current (caller).
        unsafe { clear_exception(env) };
    }
    if !slotted.is_empty() {
        // SAFETY: `env` is current and `js_cb` its dispatch function (caller).
        unsafe { dispatch(env, js_cb, slotted) };
    }
    scope.end(env, delivered);
}

/// The tsfn's finalizer.
///
/// # Safety
/// Only for N-API to call, once: `data` must be the `EnvScope` Arc leaked for the tsfn in
/// `open`.
unsafe extern "C" fn finalize(_env: sys::napi_env, data: *mut c_void, _hint: *mut c_void) {
    // SAFETY: `data` is the Arc leaked in `open`; Node calls this exactly once.
    let scope = unsafe { Arc::from_raw(data as *const EnvScope) };
    *scope.tsfn.lock().unwrap_or_else(|p| p.into_inner()) = None;
}

/// The env cleanup hook.
///
/// # Safety
/// Only for Node to call, once, on the JS thread: `arg` must be the `EnvScope` Arc leaked for
/// the hook in `open`.
unsafe extern "C" fn teardown(arg: *mut c_void) {
    // SAFETY: `arg` is the Arc leaked for this hook in `open`; Node runs the hook once.
    let scope = unsafe { Arc::from_raw(arg as *const EnvScope) };
    scope.group.cancel();
    // Children must not outlive the environment that started them (a worker, or the main
    // thread at exit); this also stops their stdin writers reading JS memory.
    #[cfg(target_os = "linux")]
    scope.processes.kill_all();
    // Running kernels poll their token every few milliseconds, so this wait is short; it must
    // finish before V8 frees the buffers those kernels borrow.
    while scope.borrowers.load(Ordering::SeqCst) != 0 {
        std::thread::yield_now();
    }
    if let Some(t) = scope.tsfn.lock().unwrap_or_else(|p| p.into_inner()).take() {
        // Teardown: its status is not needed, as nothing is left to do if the release fails
        // (the env frees the handle itself as it goes away).
        // SAFETY: still live (finalize had not run, or it would be None).
        unsafe { sys::napi_release_threadsafe_function(t.0, 1) };
    }
}
