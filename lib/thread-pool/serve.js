'use strict'
// The worker-thread side of a ThreadPool: `serve(handlers)` from offload/worker lands here when
// the module runs in a pool's worker thread. Tasks never travel through a MessagePort: the
// worker takes them from the pool's native queue (`threadPoolTake`) whenever it is free and
// hands results to the native side (`threadPoolFinish`), which posts them straight into the
// main thread's completion channel. While the queue is empty the worker is parked; the native
// side wakes it with a signal on a slot of this thread's own channel, and aborts reach a
// running handler the same way.
//
// One task at a time per worker. Synchronous handlers run back to back, yielding to the event
// loop every few milliseconds so abort signals and timers still get through.
const v8 = require('node:v8')
const { parentPort } = require('node:worker_threads')
const binding = require('../shared/native')
const { listen } = require('../shared/completion')
const { describeError } = require('../shared/error-record')
const { ERR_OFFLOAD_UNKNOWN_TASK } = require('../shared/codes')
const { kThreadPool, threadPoolOf } = require('./handshake')
// How long a run of synchronous tasks may hold this worker's event loop.
const SLICE_MS = 5

// What a handler's result or error becomes: bytes the main thread deserializes. Values follow
// v8.serialize (structured clone: Map, Set, Date, BigInt, cycles, typed arrays; functions and
// symbols are refused with a DataCloneError, which then is the task's error).
function encode(ok, value) {
  try {
    return [ok, v8.serialize(ok ? value : describeError(value))]
  } catch (err) {
    return [false, v8.serialize(describeError(err))]
  }
}

function serveThread(handlers) {
  const pool = threadPoolOf()
  const named = typeof handlers === 'object' && handlers !== null
  const current = { task: -1, controller: undefined }
  let busy = false
  let workerId = 0

  const finish = (task, ok, value) => {
    const [isOk, bytes] = encode(ok, value)
    binding.threadPoolFinish(pool.id, workerId, task, isOk, bytes)
  }

  const handlerFor = (name) => {
    const key = name ?? 'default'
    const h = named ? (Object.hasOwn(handlers, key) ? handlers[key] : undefined) : name === null || name === undefined ? handlers : undefined
    if (typeof h === 'function') return h
    throw Object.assign(new Error(`offload/worker: no task named ${JSON.stringify(name ?? null)}`), { code: ERR_OFFLOAD_UNKNOWN_TASK })
  }

  // Runs tasks until the queue is empty (the worker parks) or a handler returns a promise.
  const pump = () => {
    if (busy) return
    busy = true
    const start = performance.now()
    for (;;) {
      if (performance.now() - start > SLICE_MS) {
        busy = false
        setImmediate(pump)
        return
      }
      const taken = binding.threadPoolTake(pool.id, workerId)
      if (taken === null) {
        busy = false
        return
      }
      const { task, payload } = taken
      let result
      const controller = new AbortController()
      current.task = task
      current.controller = controller
      try {
        const msg = v8.deserialize(payload)
        result = handlerFor(msg.name)(msg.payload, { signal: controller.signal, name: msg.name ?? null })
      } catch (err) {
        finish(task, false, err)
        continue
      }
      if (result === null || typeof result !== 'object' || typeof result.then !== 'function') {
        finish(task, true, result)
        continue
      }
      Promise.resolve(result).then((v) => finish(task, true, v), (e) => finish(task, false, e)).finally(() => {
        current.task = -1
        busy = false
        pump()
      })
      return
    }
  }

  const wake = listen(() => pump())
  const abort = listen((task) => {
    if (task === current.task) current.controller?.abort()
  })
  workerId = binding.threadPoolAttach(pool.id, wake, abort)
  // The port keeps this thread alive while it waits for tasks, and tells the pool our id.
  parentPort.on('message', () => {})
  parentPort.postMessage({ [kThreadPool]: 'ready', workerId })
  pump()
}

module.exports = { serveThread }
