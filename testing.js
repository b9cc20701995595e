'use strict'
// Test and benchmark kernels. They exercise the pool (dispatch cost, cancellation, panics)
// without doing real work; not for production use.
const { taskOptions } = require('./lib/run')
const { submit } = require('./lib/tasks')
const binding = require('./binding.js')
const { fromNative, invalidArgType } = require('./lib/errors')

function startNoop(native, slot, priority, cancellable) {
  return binding.submitNoop(native, slot, priority, cancellable)
}

/** Resolves with undefined after a round trip through the pool. */
function noop(options) {
  try {
    return submit(taskOptions(options), undefined, startNoop)
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
}

/** Busy-spins a pool thread for `ms` milliseconds, polling for cancellation like a kernel. */
function spin(ms, options) {
  try {
    if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms)
    return submit(taskOptions(options), undefined, (native, slot, priority, cancellable) => binding.submitSpin(native, slot, ms, priority, cancellable))
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
}

/** Panics on a pool thread with `message`; the promise rejects with ERR_OFFLOAD_TASK_PANICKED. */
function panic(message, options) {
  try {
    if (typeof message !== 'string') throw invalidArgType('message', 'of type string', message)
    return submit(taskOptions(options), undefined, (native, slot, priority, cancellable) => binding.submitPanic(native, slot, message, priority, cancellable))
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
}

module.exports = { noop, spin, panic }
