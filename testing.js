'use strict'
// Test and benchmark kernels. They exercise the pool (dispatch cost, cancellation, panics)
// without doing real work; not for production use.
const { run } = require('./lib/run')
const { invalidArgType } = require('./lib/errors')

/** Resolves with undefined after a round trip through the pool. */
function noop(options) {
  return run(options, () => undefined, (native, priority, cancellable) => native.noop(priority, cancellable))
}

/** Busy-spins a pool thread for `ms` milliseconds, polling for cancellation like a kernel. */
function spin(ms, options) {
  return run(options, () => {
    if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms)
  }, (native, priority, cancellable) => native.spin(ms, priority, cancellable))
}

/** Panics on a pool thread with `message`; the promise rejects with ERR_OFFLOAD_TASK_PANICKED. */
function panic(message, options) {
  return run(options, () => {
    if (typeof message !== 'string') throw invalidArgType('message', 'of type string', message)
  }, (native, priority, cancellable) => native.panic(message, priority, cancellable))
}

module.exports = { noop, spin, panic }
