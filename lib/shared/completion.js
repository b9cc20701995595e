'use strict'
// The JS half of the native completion channel, shared by every feature: CPU tasks
// (cpu/tasks.js), a pool's close, and the children of exec()/spawn(), whose promises the
// binding settles through the same channel once `binding.init` has run (requiring this module
// runs it).
//
// A pending completion owns a slot in `entries`; the slot number travels with the work to the
// native side and back, so settling is an array index, not a hash lookup. The native side
// calls `dispatch` with batches of completions; an entry settles its promise (unless an abort
// or timeout already did) and frees its slot. An entry is any object with `settled`,
// `resolve`, `reject`, `cleanup()` and, for one cancelled while running, `error` (the error to
// reject with once the native side is done with its inputs). The binding keeps the event loop
// alive while any completion is owed.
const binding = require('./native')
const { fromNative, fromTask } = require('./errors')

// The table lives on the native binding object, which is shared by every copy of this module
// in one environment: test runners such as Jest evaluate JS modules once per test file but load
// the addon only once, and its single completion channel must reach every copy's promises.
const kState = Symbol.for('offload.tasks')
const state = binding[kState] ??= { entries: [], freeSlots: [], initialized: false }
const { entries, freeSlots } = state

// One shared executor instead of a closure per promise: `new Promise` calls it synchronously,
// so the resolvers are read back from `captured` right after.
const captured = { resolve: undefined, reject: undefined }
function capture(resolve, reject) {
  captured.resolve = resolve
  captured.reject = reject
}

// Called by the native channel with a batch: the work in slots[i] finished with values[i], or
// failed with codes[i] (message in values[i]); `codes`/`values` are undefined when unused.
function dispatch(slots, codes, values) {
  // No batch: the channel spent this loop iteration's budget; it resumes in the next one.
  if (slots === undefined) {
    setImmediate(resume)
    return
  }
  for (let i = 0; i < slots.length; i++) {
    const slot = slots[i]
    const entry = entries[slot]
    if (entry === undefined) continue
    // A slot kept open for signals (a thread-pool worker's wake-ups and aborts).
    if (entry.persistent === true) {
      entry.deliver(values === undefined ? undefined : values[i])
      continue
    }
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

function resume() {
  binding.channelResume()
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

// Waits for a native completion that is not a task (a pool becoming idle after close).
// `start(slot)` asks for it.
/** @param {(slot: number) => void} start */
function waitFor(start) {
  const slot = reserve()
  try {
    start(slot)
  } catch (err) {
    release(slot)
    return Promise.reject(fromNative(err))
  }
  const promise = new Promise(capture)
  track(slot, { settled: false, resolve: captured.resolve, reject: captured.reject, inputs: undefined, cleanup() {} })
  return promise
}

// Keeps `slot` open: every signal posted to it calls `deliver(value)`.
/** @param {(value: unknown) => void} deliver */
function listen(deliver) {
  const slot = reserve()
  track(slot, { persistent: true, deliver })
  return slot
}

module.exports = { captured, capture, reserve, track, release, waitFor, listen }
