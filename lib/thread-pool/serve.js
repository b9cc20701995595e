'use strict'
// The worker-thread side of a ThreadPool: `serve(handlers)` from offload/worker lands here when
// the module runs in a pool's worker thread. Tasks do not travel through a MessagePort: one
// native call (`threadPoolNext`) hands in the last result, which the native side posts
// straight into the main thread's completion channel, and takes the next task from the
// pool's queue. Only memory that moves or is shared (codec.js) goes through this thread's
// port: a payload's, fetched once the task is taken, and a result's, posted just before it. While the queue is empty the worker is parked; the native
// side wakes it with a signal on a slot of this thread's own channel, and aborts reach a
// running handler the same way.
//
// One task at a time per worker. Synchronous handlers run back to back, yielding to the event
// loop every few milliseconds so abort signals and timers still get through.
const { parentPort, threadId } = require('node:worker_threads')
const binding = require('../shared/native')
const { listen } = require('../shared/completion')
const { describeError } = require('../shared/error-record')
const { TaskContext, handlerFor } = require('../shared/handlers')
const { kThreadPool, threadPoolOf } = require('./handshake')
const { INLINE, Outbound, asJson, encode, decode, modeOf } = require('./codec')
// How long a run of synchronous tasks may hold this worker's event loop.
const SLICE_MS = 5

// What a handler's result or error becomes: bytes for the main thread (codec.js), or null for
// `undefined` (no serializer either side). Big Buffers and typed arrays in a result move (the
// handler's views of them are detached); their memory goes ahead through this thread's port.
// A result that cannot be cloned (a function, a symbol) fails its task with a DataCloneError,
// as structuredClone names it.
let encodedOk = true
function encodeResult(taken, ok, value) {
  encodedOk = ok
  if (ok && value === undefined) return null
  if (!ok) return encodeError(value)
  try {
    const json = asJson(value)
    if (json !== undefined) return json
    const out = encode(value, true, null, threadId)
    if (!(out instanceof Outbound)) return out
    parentPort.postMessage({ [kThreadPool]: 'result', task: taken.task, slot: taken.slot, message: out.message }, out.transfer)
    return out.bytes
  } catch (err) {
    encodedOk = false
    const clone = new Error(`the result could not be cloned: ${err.message}`)
    clone.name = 'DataCloneError'
    return encodeError(clone)
  }
}

// An error record travels inline. A code or property that cannot be cloned is left out rather
// than the error being lost.
function encodeError(err) {
  const record = describeError(err)
  const inline = (v) => {
    try {
      return !(encode(v, false, null, threadId) instanceof Outbound)
    } catch {
      return false
    }
  }
  if (!inline(record)) {
    if (!inline(record.code)) record.code = undefined
    for (const key of Object.keys(record.props)) if (!inline(record.props[key])) delete record.props[key]
  }
  const out = encode(record, false, null, threadId)
  return out instanceof Outbound ? encode(describeError(new Error(String(record.message))), false, null, threadId) : out
}

// The port messages this thread waits for: a task's payload parts, by task id.
const fetching = new Map()
function fetchParts(taken) {
  const task = taken.task
  return new Promise((resolve, reject) => {
    fetching.set(task, (message) => {
      if (message === null) reject(new Error('offload: the task was cancelled before its payload arrived'))
      else resolve(message)
    })
    parentPort.postMessage({ [kThreadPool]: 'fetch', task, slot: taken.slot })
  })
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
    const bytes = taken.payload
    const handler = handlerFor(handlers, name)
    if (bytes === null || bytes === undefined) return handler(undefined, context)
    if (typeof bytes === 'string') return handler(JSON.parse(bytes), context)
    if (modeOf(bytes) === INLINE) return handler(decode(bytes, undefined), context)
    return fetchParts(taken).then((message) => handler(decode(bytes, message), context))
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
        bytes = encodeResult(taken, false, err)
        ok = encodedOk
        done = taken.task
        continue
      }
      if (result === null || typeof result !== 'object' || typeof result.then !== 'function') {
        bytes = encodeResult(taken, true, result)
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
      const finish = (settledOk, value) => {
        const b = encodeResult(taken, settledOk, value)
        busy = false
        pump(taken.task, encodedOk, b)
      }
      Promise.resolve(result).then((v) => finish(true, v), (e) => finish(false, e))
      return
    }
  }

  const wake = listen(() => pump())
  const abort = listen((task) => {
    if (task === current.task) current.context?.abort()
  })
  // Known by its threadId, which the pool has had since it created this worker.
  workerId = binding.threadPoolAttach(pool.id, threadId, wake, abort, pool.nice)
  // The port keeps this thread alive while it waits for tasks, tells the pool it serves, and
  // brings the payload parts this thread fetches.
  parentPort.on('message', (m) => {
    if (m === null || typeof m !== 'object' || m[kThreadPool] !== 'parts') return
    const take = fetching.get(m.task)
    fetching.delete(m.task)
    take?.(m.message)
  })
  parentPort.postMessage({ [kThreadPool]: 'ready' })
  pump()
}

module.exports = { serveThread }
