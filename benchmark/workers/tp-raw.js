'use strict'
// The message-passing floor for the threadpool scenario: a bare worker_threads
// worker answering { id, name, payload } on its parentPort (the Worker's own
// MessagePort) with { id, result } or { id, error }. No queue, no pool logic,
// no transfer lists: what postMessage alone costs.
const { parentPort } = require('node:worker_threads')
const handlers = require('./tp-handlers')

parentPort.on('message', ({ id, name, payload }) => {
  let reply
  try {
    reply = { id, result: handlers[name](payload) }
  } catch (err) {
    reply = { id, error: String(err && err.stack ? err.stack : err) }
  }
  parentPort.postMessage(reply)
})
