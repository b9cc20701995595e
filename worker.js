'use strict'
// offload/worker: the worker side of a process pool (docs/protocol.md). A worker script calls
// `serve(handler)` or `serve({ name: handler, ... })`; each task's payload is decoded from the
// request pipe (descriptor 3), the handler runs, and its result or error goes back on the reply
// pipe (descriptor 4). The worker's own stdout and stderr stay free for logging.
const fs = require('node:fs')
const net = require('node:net')
const { KIND, message, FrameReader, valueOf } = require('./lib/protocol')

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

// What a thrown value becomes on the wire: name, message, stack, code, and the error's other
// own enumerable properties.
function describeError(err) {
  if (!(err instanceof Error)) {
    return { name: 'Error', message: typeof err === 'string' ? err : `non-error thrown: ${String(err)}`, props: {} }
  }
  const props = {}
  for (const key of Object.keys(err)) {
    if (key !== 'name' && key !== 'message' && key !== 'stack' && key !== 'code') props[key] = err[key]
  }
  return { name: err.name, message: err.message, stack: err.stack, code: err.code, props }
}

// An error reply; an error whose properties cannot be serialised (a cycle, a BigInt, a
// throwing getter) still goes back with its name, message, stack and code.
function errorFrame(id, err) {
  const described = describeError(err)
  try {
    return message(KIND.error, id, 'error', described)
  } catch {
    const { name, message: text, stack, code } = described
    return message(KIND.error, id, 'error', { name, message: text, stack, code: typeof code === 'string' || typeof code === 'number' ? code : undefined, props: {} })
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
  if (!isPipe(REQUESTS) || !isPipe(REPLIES)) {
    throw new Error('offload/worker: this process was not started by an offload ProcessPool (descriptors 3 and 4 are not its pipes)')
  }
  serving = true
  const input = new net.Socket({ fd: REQUESTS, readable: true, writable: false })
  const output = new net.Socket({ fd: REPLIES, readable: false, writable: true })
  const reader = new FrameReader()
  const running = new Map() // id -> AbortController
  let closing = false

  // Backpressure: while the pool is not reading our replies, stop reading its requests.
  const send = (frame) => {
    let ok = true
    if (frame.length > 1) output.cork() // one writev for the header and its blobs
    for (const part of frame) ok = output.write(part)
    if (frame.length > 1) output.uncork()
    if (!ok && !input.isPaused()) {
      input.pause()
      output.once('drain', () => input.resume())
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
    output.end(() => process.exit(0))
  }

  async function run(frame) {
    const controller = new AbortController()
    running.set(frame.id, controller)
    const name = frame.header.name ?? null
    try {
      const key = name ?? 'default'
      const handler = named ? (Object.hasOwn(handlers, key) ? handlers[key] : undefined) : name === null ? handlers : undefined
      if (typeof handler !== 'function') {
        const err = new Error(`offload/worker: no task named ${JSON.stringify(name)}`)
        err.code = 'ERR_OFFLOAD_UNKNOWN_TASK'
        throw err
      }
      const value = await handler(valueOf(frame, 'payload'), { signal: controller.signal, name })
      let reply
      try {
        reply = message(KIND.result, frame.id, 'value', value)
      } catch (err) {
        err.message = `offload/worker: the result could not be sent: ${err.message}`
        throw err
      }
      send(reply)
    } catch (err) {
      send(errorFrame(frame.id, err))
    } finally {
      running.delete(frame.id)
      finish()
    }
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
  output.on('error', () => process.exit(0)) // the pool is gone
  send(message(KIND.ready, 0, 'value', undefined, { protocol: 1, pid: process.pid }))
}

module.exports = { serve }
