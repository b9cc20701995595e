'use strict'
// The JS half of the completion channel.
//
// Each accepted task has an entry keyed by the id the pool returned. The native side calls
// `dispatch` with batches of [id, code, value] triples; the entry settles its promise (unless an
// abort or timeout already did) and is dropped. An entry also holds the task's inputs: the pool
// reads them in place, so they must stay reachable until the native completion arrives, even
// when the promise was rejected early.
const binding = require('../binding.js')
const { AbortError, OffloadError, fromNative, fromTask } = require('./errors')

const entries = new Map()
let active = false

class Entry {
  constructor(resolve, reject, inputs, native, id) {
    this.resolve = resolve
    this.reject = reject
    this.inputs = inputs
    this.native = native
    this.id = id
    this.settled = false
    this.signal = undefined
    this.timer = undefined
  }

  // Called by the AbortSignal (an EventListener object, so no closure per task).
  handleEvent() {
    this.cancel(new AbortError(undefined, { cause: this.signal.reason }), 'abort')
  }

  cancel(err, reason) {
    if (this.settled) return
    this.settled = true
    this.cleanup()
    this.reject(err)
    this.native.cancel(this.id, reason)
  }

  cleanup() {
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this)
    if (this.timer !== undefined) clearTimeout(this.timer)
  }
}

function onTimeout(entry, ms) {
  entry.cancel(new OffloadError('ERR_OFFLOAD_TIMEOUT', `the task did not finish within ${ms} ms`), 'timeout')
}

function dispatch(batch) {
  for (let i = 0; i < batch.length; i += 3) {
    const entry = entries.get(batch[i])
    if (entry === undefined) continue
    entries.delete(batch[i])
    if (entry.settled) continue
    entry.settled = true
    entry.cleanup()
    const code = batch[i + 1]
    if (code === null) entry.resolve(batch[i + 2])
    else entry.reject(fromTask(code, batch[i + 2]))
  }
  if (active && entries.size === 0) {
    active = false
    binding.setActive(false)
  }
}

binding.init(dispatch)

function track(id, entry) {
  entries.set(id, entry)
  if (!active) {
    active = true
    binding.setActive(true)
  }
}

// Starts a task: `start(native, priority, cancellable)` submits it and returns its id.
// Always returns a promise; validation and admission failures become rejections.
function submit(native, opts, inputs, start) {
  const { signal, timeout, priority } = opts
  if (signal !== undefined && signal.aborted) {
    return Promise.reject(new AbortError(undefined, { cause: signal.reason }))
  }
  let id
  try {
    id = start(native, priority, signal !== undefined || timeout !== undefined)
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
  return new Promise((resolve, reject) => {
    const entry = new Entry(resolve, reject, inputs, native, id)
    track(id, entry)
    if (signal !== undefined) {
      entry.signal = signal
      // addEventListener, never `onabort`: the caller's own handler must survive.
      signal.addEventListener('abort', entry, { once: true })
    }
    if (timeout !== undefined) entry.timer = setTimeout(onTimeout, timeout, entry, timeout)
  })
}

// Waits for a native completion that is not a task (e.g. a pool becoming idle after close).
function waitFor(id) {
  return new Promise((resolve, reject) => track(id, new Entry(resolve, reject, undefined, undefined, id)))
}

function inFlight() {
  return entries.size
}

module.exports = { submit, waitFor, inFlight }
