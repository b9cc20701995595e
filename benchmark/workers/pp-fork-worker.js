'use strict'
// Plain child_process.fork worker for the processpool scenario: one request
// { id, name, payload } in, one reply { id, result } or { id, error } out.
// Exits when the parent disconnects (the IPC channel is its only handle).
const handlers = require('./pp-handlers')

process.on('message', (m) => {
  let reply
  try {
    reply = { id: m.id, result: handlers[m.name](m.payload) }
  } catch (err) {
    reply = { id: m.id, error: String(err && err.stack ? err.stack : err) }
  }
  process.send(reply)
})
