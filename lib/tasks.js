'use strict'
// The JS half of the completion channel.
//
// A task with no signal or timeout needs nothing from JS after submission: the binding
// returns a promise it creates and settles itself (slot NATIVE_PROMISE) and holds the inputs
// alive natively. Every other task owns a slot in `entries`; the slot number travels with the
// task to the pool and back, so settling is an array index, not a hash lookup. The native
// side calls `dispatch` with batches of completions; an entry settles its promise (unless an
// abort or timeout already did) and frees its slot. An entry also holds the task's inputs: the
// pool reads them in place, so they stay reachable until the native completion arrives, even
// when the promise was rejected early. The binding keeps the event loop alive while any
// completion is owed.
const binding = require('./native.js')
const { AbortError, OffloadError, fromNative, fromTask } = require('./errors')
const { unlisten } = require('./validate')

// The table lives on the native binding object, which is shared by every copy of this module
// in one environment: test runners such as Jest evaluate JS modules once per test file but load
// the addon only once, and its single completion channel must reach every copy's promises.
const kState = Symbol.for('offload.tasks')
const state = binding[kState] ??= { entries: [], freeSlots: [], initialized: false }
const { entries, freeSlots } = state
// Asks an entry point for a natively settled promise (u32::MAX in the binding).
const NATIVE_PROMISE = 0xffffffff
// `cancelTask`'s answer for a task that is running (see src/binding/pool.rs).
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

class CancellableEntry extends Entry {
  constructor(resolve, reject, inputs, native) {
    super(resolve, reject, inputs)
    this.native = native
    this.taskId = undefined
    this.signal = undefined
    this.timer = undefined
    // The abort or timeout error, once cancelled while running; the rejection waits for the
    // task's completion.
    this.error = undefined
  }

  // Called by the AbortSignal (an EventListener object, so no closure per task).
  handleEvent() {
    // A signal that fires while the task is being submitted has nothing to cancel yet.
    if (this.taskId === undefined) return
    this.cancel(new AbortError(undefined, { cause: this.signal.reason }), 'abort')
  }

  cancel(err, reason) {
    if (this.settled || this.error !== undefined) return
    this.cleanup()
    if (binding.cancelTask(this.native, this.taskId, reason) === RUNNING) {
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

  cleanup() {
    if (this.signal !== undefined) unlisten(this.signal, this)
    if (this.timer !== undefined) clearTimeout(this.timer)
  }
}

// One shared executor instead of a closure per promise: `new Promise` calls it synchronously,
// so the resolvers are read back from `captured` right after.
const captured = { resolve: undefined, reject: undefined }
function capture(resolve, reject) {
  captured.resolve = resolve
  captured.reject = reject
}

function onTimeout(entry, ms) {
  entry.cancel(new OffloadError('ERR_OFFLOAD_TIMEOUT', `the task did not finish within ${ms} ms`), 'timeout')
}

// Called by the native channel with a batch: the task in slots[i] finished with values[i], or
// failed with codes[i] (message in values[i]); `codes`/`values` are undefined when unused.
function dispatch(slots, codes, values) {
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]
    const entry = entries[slot]
    if (entry === undefined) continue
    entries[slot] = undefined
    freeSlots.push(slot)
    if (entry.settled) continue
    entry.settled = true
    if (entry.error !== undefined) {
      entry.reject(entry.error)
      continue
    }
    const code = codes === undefined ? undefined : codes[i]
    const value = values === undefined ? undefined : values[i]
    entry.cleanup()
    if (code === undefined) entry.resolve(value)
    else entry.reject(fromTask(code, value))
  }
}

if (!state.initialized) {
  binding.init(dispatch, fromTask)
  state.initialized = true
}

// Claims a slot at once (a placeholder holds it), so a re-entrant call made while this one is
// submitting cannot be given the same slot.
const RESERVED = Object.freeze({ settled: true, cleanup() {} })

function reserve() {
  if (freeSlots.length > 0) {
    const slot = freeSlots.pop()
    entries[slot] = RESERVED
    return slot
  }
  entries.push(RESERVED)
  return entries.length - 1
}

function track(slot, entry) {
  entries[slot] = entry
}

function release(slot) {
  entries[slot] = undefined
  freeSlots.push(slot)
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
  if (signal !== undefined && signal.aborted) {
    return Promise.reject(new AbortError(undefined, { cause: signal.reason }))
  }
  const promise = new Promise(capture)
  const cancellable = signal !== undefined || timeout !== undefined
  const entry = cancellable
    ? new CancellableEntry(captured.resolve, captured.reject, inputs, native)
    : new Entry(captured.resolve, captured.reject, inputs)
  if (signal !== undefined) {
    // Subscribed before submitting: the signal is the caller's object and may throw, and
    // once the task is submitted its promise must follow it to the end.
    // addEventListener, never `onabort`: the caller's own handler must survive.
    signal.addEventListener('abort', entry, { once: true })
    entry.signal = signal
  }
  const slot = reserve()
  try {
    const taskId = start(native, slot, priority, cancellable)
    // Only a cancellable entry has the field: the lean shape stays lean.
    if (cancellable) entry.taskId = taskId
  } catch (err) {
    release(slot)
    entry.cleanup()
    return Promise.reject(fromNative(err))
  }
  track(slot, entry)
  if (timeout !== undefined) entry.timer = setTimeout(onTimeout, timeout, entry, timeout)
  return promise
}

// Waits for a native completion that is not a task (a pool becoming idle after close).
// `start(slot)` asks for it.
function waitFor(start) {
  const slot = reserve()
  try {
    start(slot)
  } catch (err) {
    release(slot)
    return Promise.reject(fromNative(err))
  }
  const promise = new Promise(capture)
  track(slot, new Entry(captured.resolve, captured.reject, undefined))
  return promise
}

module.exports = { submit, waitFor }
