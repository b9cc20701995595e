'use strict'
// offload/worker: the worker side of a process pool (docs/protocol.md). A worker script calls
// `serve(handler)` or `serve({ name: handler, ... })`; each task's payload is decoded from the
// request pipe (descriptor 3), the handler runs, and its result or error goes back on the reply
// pipe (descriptor 4). The worker's own stdout and stderr stay free for logging.
const fs = require('node:fs')
const net = require('node:net')
const { KIND, message, pack, FrameReader, valueOf } = require('./protocol')
const { TaskContext, handlerFor } = require('../shared/handlers')
const { describeError } = require('../shared/error-record')
const { threadPoolOf } = require('../thread-pool/handshake')

const REQUESTS = 3
const REPLIES = 4

let serving = false

function isPipe(fd) {
  try {
    return fs.fstatSync(fd).isFIFO() || fs.fstatSync(fd).isSocket()
  } catch {
    return false
  }
}

// An error reply. Properties that cannot be encoded (a cycle, a Map, a BigInt: see
// docs/protocol.md) are left out one by one; the name, message, stack and code always go.
function errorFrame(id, err) {
  const described = describeError(err)
  try {
    return message(KIND.error, id, 'error', described)
  } catch {}
  const props = {}
  for (const key of Object.keys(described.props)) {
    try {
      pack(described.props[key], [])
      Object.defineProperty(props, key, { value: described.props[key], enumerable: true, writable: true, configurable: true })
    } catch {}
  }
  const { name, message: text, stack, code } = described
  const plainCode = typeof code === 'string' || typeof code === 'number' ? code : undefined
  try {
    return message(KIND.error, id, 'error', { name, message: text, stack, code: plainCode, props })
  } catch {
    // Too large for one frame all together: send none.
    return message(KIND.error, id, 'error', { name, message: text, stack, code: plainCode, props: {} })
  }
}

/**
 * Serves tasks from the pool that started this process. `handlers` is one function, or an
 * object of named functions (`pool.run(payload, { name })`). A handler receives
 * `(payload, { signal, name })` and may return a value or a promise.
 */
function serve(handlers) {
  if (serving) throw new Error('offload/worker: serve() was already called in this process')
  const named = typeof handlers === 'object' && handlers !== null
  if (typeof handlers !== 'function' && !named) {
    throw new TypeError('offload/worker: serve() needs a function or an object of functions')
  }
  // In a ThreadPool's worker thread the same handlers are served through the native queue.
  if (threadPoolOf() !== undefined) {
    serving = true
    return require('../thread-pool/serve').serveThread(handlers)
  }
  if (!isPipe(REQUESTS) || !isPipe(REPLIES)) {
    throw new Error('offload/worker: this process was not started by an offload ProcessPool (descriptors 3 and 4 are not its pipes)')
  }
  serving = true
  const input = new net.Socket({ fd: REQUESTS, readable: true, writable: false })
  const reader = new FrameReader()
  const running = new Map() // id -> TaskContext, for tasks still running after their first tick
  let closing = false

  // Replies are written with blocking writes on descriptor 4 (not a stream): one system call
  // for a small reply, and natural backpressure, since while the pool is not reading, this
  // process waits rather than queueing replies in memory. The pool always reads.
  const send = (frame) => {
    try {
      let parts = frame
      for (;;) {
        let n = parts.length === 1 ? fs.writeSync(REPLIES, parts[0]) : fs.writevSync(REPLIES, parts)
        let total = 0
        for (const p of parts) total += p.length
        if (n === total) return
        // A partial write (a signal arrived): send the rest.
        const rest = []
        for (const p of parts) {
          if (n >= p.length) n -= p.length
          else {
            rest.push(p.subarray(n))
            n = 0
          }
        }
        parts = rest
      }
    } catch (err) {
      if (err.code === 'EAGAIN') throw err // descriptor 4 is not ours to make non-blocking
      process.exit(0) // EPIPE: the pool is gone
    }
  }
  let keepAlive
  const finish = () => {
    if (!closing) return
    if (running.size > 0) {
      // Tasks still running must be answered even if nothing else keeps the loop alive.
      keepAlive ??= setInterval(() => {}, 1 << 30)
      return
    }
    clearInterval(keepAlive)
    process.exit(0)
  }

  const reply = (id, value) => {
    let frame
    try {
      frame = message(KIND.result, id, 'value', value)
    } catch (err) {
      err.message = `offload/worker: the result could not be sent: ${err.message}`
      send(errorFrame(id, err))
      return
    }
    send(frame)
  }

  // Runs one task. A handler that returns a plain value is answered in the same tick; only
  // promises are tracked (they are the ones a cancel frame can reach).
  function run(frame) {
    const id = frame.id
    const name = frame.header.name ?? null
    let result
    const context = new TaskContext(name)
    try {
      result = handlerFor(handlers, name)(valueOf(frame, 'payload'), context)
    } catch (err) {
      send(errorFrame(id, err))
      return
    }
    if (result === null || typeof result !== 'object' || typeof result.then !== 'function') {
      reply(id, result)
      return
    }
    running.set(id, context)
    Promise.resolve(result).then(
      (value) => reply(id, value),
      (err) => send(errorFrame(id, err)),
    ).finally(() => {
      running.delete(id)
      finish()
    })
  }

  input.on('data', (chunk) => {
    let frames
    try {
      frames = reader.push(chunk)
    } catch (err) {
      // A corrupt stream cannot be resynchronised: report and leave, so the pool replaces us.
      console.error(`offload/worker: ${err.message}`)
      process.exit(70)
    }
    for (const frame of frames) {
      if (frame.kind === KIND.run) run(frame)
      else if (frame.kind === KIND.cancel) running.get(frame.id)?.abort()
    }
  })
  // The pool closed our requests: finish what we have, reply, and exit.
  input.on('end', () => {
    closing = true
    finish()
  })
  send(message(KIND.ready, 0, 'value', undefined, { protocol: 1, pid: process.pid }))
}

module.exports = { serve }
