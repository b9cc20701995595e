'use strict'
// CPU tasks on the completion channel (shared/completion.js).
//
// A task with no signal or timeout needs nothing from JS after submission: the binding
// returns a promise it creates and settles itself (slot NATIVE_PROMISE) and holds the inputs
// alive natively. Every other task owns a slot in the completion table. An entry also holds
// the task's inputs: the pool reads them in place, so they stay reachable until the native
// completion arrives, even when the promise was rejected early.
const binding = require('../shared/native')
const { fromNative } = require('../shared/errors')
const { CancellableTask, abortError } = require('../shared/cancellable')
const { captured, capture, reserve, track, release } = require('../shared/completion')

// Asks an entry point for a natively settled promise (u32::MAX in the binding).
const NATIVE_PROMISE = 0xffffffff
// `cancelTask`'s answer for a task that is running (see napi/src/pool.rs).
const RUNNING = 2

// A pending task. Most tasks have no signal or timeout, so they use this lean shape; the
// fields for cancellation live on `CancellableEntry`.
class Entry {
  constructor(resolve, reject, inputs) {
    this.resolve = resolve
    this.reject = reject
    this.inputs = inputs
    this.settled = false
  }

  cleanup() {}
}

class CancellableEntry extends CancellableTask {
  constructor(resolve, reject, inputs, native) {
    super(resolve, reject)
    this.inputs = inputs
    this.native = native
    this.taskId = undefined
    // The abort or timeout error, once cancelled while running; the rejection waits for the
    // task's completion.
    this.error = undefined
  }

  /**
   * @param {Error} err
   * @param {'abort' | 'timeout'} why
   */
  cancel(err, why) {
    // A signal that fires while the task is being submitted has nothing to cancel yet.
    if (this.taskId === undefined || this.settled || this.error !== undefined) return
    this.cleanup()
    if (binding.cancelTask(this.native, this.taskId, why) === RUNNING) {
      // The kernel reads the inputs until it next polls its cancel flag (at most one chunk
      // later): the promise settles when its completion arrives, so that once it has settled
      // the caller may transfer, resize or free the memory.
      this.error = err
      return
    }
    // It never ran, or has finished: nothing native reads the inputs any more.
    this.settled = true
    this.reject(err)
  }
}

// Starts a task: `start(native, slot, priority, cancellable)` submits it and returns the
// pool's task id, or the promise itself when `slot` is NATIVE_PROMISE. `inputs` are kept alive
// while JS tracks the task; `nativeOk` is false for kernels whose inputs the binding cannot
// hold itself (hashMany). Always returns a promise.
function submit(native, signal, timeout, priority, inputs, start, nativeOk) {
  if (signal === undefined && timeout === undefined && nativeOk) {
    try {
      return start(native, NATIVE_PROMISE, priority, false)
    } catch (err) {
      return Promise.reject(fromNative(err))
    }
  }
  if (signal !== undefined && signal.aborted) return Promise.reject(abortError(signal))
  const promise = new Promise(capture)
  const cancellable = signal !== undefined || timeout !== undefined
  const entry = cancellable
    ? new CancellableEntry(captured.resolve, captured.reject, inputs, native)
    : new Entry(captured.resolve, captured.reject, inputs)
  // Subscribed before submitting (a throw rejects the call, with nothing submitted).
  if (signal !== undefined) /** @type {CancellableEntry} */ (entry).listen(signal)
  const slot = reserve()
  try {
    const taskId = start(native, slot, priority, cancellable)
    // Only a cancellable entry has the field: the lean shape stays lean.
    if (cancellable) /** @type {CancellableEntry} */ (entry).taskId = taskId
  } catch (err) {
    release(slot)
    entry.cleanup()
    return Promise.reject(fromNative(err))
  }
  track(slot, entry)
  if (timeout !== undefined) /** @type {CancellableEntry} */ (entry).startTimer(timeout)
  return promise
}

module.exports = { submit }
