'use strict'
// The worker-thread side of a ThreadPool: `serve(handlers)` from offload/worker lands here when
// the module runs in a pool's worker thread. Tasks never travel through a MessagePort: one
// native call (`threadPoolNext`) hands in the last result, which the native side posts
// straight into the main thread's completion channel, and takes the next task from the
// pool's queue. While the queue is empty the worker is parked; the native
// side wakes it with a signal on a slot of this thread's own channel, and aborts reach a
// running handler the same way.
//
// One task at a time per worker. Synchronous handlers run back to back, yielding to the event
// loop every few milliseconds so abort signals and timers still get through.
const v8 = require('node:v8')
const { parentPort, threadId } = require('node:worker_threads')
const binding = require('../shared/native')
const { listen } = require('../shared/completion')
const { describeError } = require('../shared/error-record')
const { TaskContext, handlerFor } = require('../shared/handlers')
const { kThreadPool, threadPoolOf } = require('./handshake')
// How long a run of synchronous tasks may hold this worker's event loop.
const SLICE_MS = 5

// What a handler's result or error becomes: bytes the main thread deserializes, or null for
// `undefined` (no serializer either side). Values follow v8.serialize (structured clone: Map,
// Set, Date, BigInt, cycles, typed arrays; functions and symbols are refused with a
// DataCloneError, which then is the task's error, as structuredClone names it).
let encodedOk = true
function encode(ok, value) {
  encodedOk = ok
  if (ok && value === undefined) return null
  if (!ok) return encodeError(value)
  try {
    return v8.serialize(value)
  } catch (err) {
    encodedOk = false
    const clone = new Error(`the result could not be cloned: ${err.message}`)
    clone.name = 'DataCloneError'
    return encodeError(clone)
  }
}

// A thrown error whose code or property cannot be cloned keeps the rest: those fields are
// left out rather than the error being lost.
function encodeError(err) {
  const record = describeError(err)
  try {
    return v8.serialize(record)
  } catch {}
  const clones = (v) => {
    try {
      v8.serialize(v)
      return true
    } catch {
      return false
    }
  }
  if (!clones(record.code)) record.code = undefined
  for (const key of Object.keys(record.props)) if (!clones(record.props[key])) delete record.props[key]
  return v8.serialize(record)
}

function serveThread(handlers) {
  const pool = threadPoolOf()
  const current = { task: -1, context: undefined }
  let busy = false
  let workerId = 0

  // Runs one task; returns its result, or a promise (an async handler), or throws.
  const runTask = (taken) => {
    const name = taken.name ?? null
    const context = new TaskContext(name)
    current.task = taken.task
    current.context = context
    const payload = taken.payload === null || taken.payload === undefined ? undefined : v8.deserialize(taken.payload)
    return handlerFor(handlers, name)(payload, context)
  }

  // Runs tasks until the queue is empty (the worker parks) or a handler returns a promise:
  // each call to the native side hands in the last result and takes the next task.
  const pump = (done = -1, ok = true, bytes = null) => {
    if (busy) return
    busy = true
    const start = performance.now()
    for (;;) {
      const taken = binding.threadPoolNext(pool.id, workerId, done, ok, bytes)
      done = -1
      if (taken === null) {
        busy = false
        current.task = -1
        return
      }
      let result
      try {
        result = runTask(taken)
      } catch (err) {
        bytes = encode(false, err)
        ok = encodedOk
        done = taken.task
        continue
      }
      if (result === null || typeof result !== 'object' || typeof result.then !== 'function') {
        bytes = encode(true, result)
        ok = encodedOk
        done = taken.task
        if (performance.now() - start > SLICE_MS) {
          // Let signals and timers through; the result goes in with the next call.
          busy = false
          setImmediate(pump, done, ok, bytes)
          return
        }
        continue
      }
      const task = taken.task
      Promise.resolve(result).then((v) => encode(true, v), (e) => encode(false, e)).then((b) => {
        busy = false
        pump(task, encodedOk, b)
      })
      return
    }
  }

  const wake = listen(() => pump())
  const abort = listen((task) => {
    if (task === current.task) current.context?.abort()
  })
  // Known by its threadId, which the pool has had since it created this worker.
  workerId = binding.threadPoolAttach(pool.id, threadId, wake, abort, pool.nice)
  // The port keeps this thread alive while it waits for tasks, and tells the pool it serves.
  parentPort.on('message', () => {})
  parentPort.postMessage({ [kThreadPool]: 'ready' })
  pump()
}

module.exports = { serveThread }
