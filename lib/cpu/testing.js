'use strict'
// Test and benchmark kernels. They exercise the pool (dispatch cost, cancellation, panics)
// without doing real work; not for production use.
const binding = require('../shared/native')
const { call } = require('./run')
const { invalidArgType } = require('../shared/errors')

// Allocation-free on the dispatch benchmark's path.
const NOOP = [undefined, (h, slot, p, c) => binding.submitNoop(h, slot, p, c)]
const prepareNoop = () => NOOP

/** Resolves with undefined after a round trip through the pool. */
function noop(options) {
  return call(options, prepareNoop)
}

/** Busy-spins a pool thread for `ms` milliseconds, polling for cancellation like a kernel. */
function spin(ms, options) {
  return call(options, () => {
    if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms)
    return [undefined, (h, slot, p, c) => binding.submitSpin(h, slot, ms, p, c)]
  })
}

/** Panics on a pool thread with `message`; the promise rejects with ERR_OFFLOAD_TASK_PANICKED. */
function panic(message, options) {
  return call(options, () => {
    if (typeof message !== 'string') throw invalidArgType('message', 'of type string', message)
    return [undefined, (h, slot, p, c) => binding.submitPanic(h, slot, message, p, c)]
  })
}

module.exports = { noop, spin, panic }

/**
 * Makes an external string through a stand-in for N-API that refuses it in `mode`
 * (`'finalized'`, `'unregistered'` or `'later'`); returns the string made instead.
 */
function externalStringFailure(mode, text) {
  return binding.testExternalStringFailure(mode, text)
}

/** Runs the finalizer a `'later'` refusal kept, as Node may at teardown; false if none. */
function runKeptStringFinalizer() {
  return binding.runKeptStringFinalizer()
}

module.exports.externalStringFailure = externalStringFailure
module.exports.runKeptStringFinalizer = runKeptStringFinalizer

/**
 * Bytes the C allocator has handed out and not had back (glibc's mallinfo2), or -1 where that
 * is not known: a measure of native memory that, unlike RSS, free memory kept by the allocator
 * does not move. For leak tests.
 */
function mallocInUse() {
  return binding.testMallocInUse()
}

module.exports.mallocInUse = mallocInUse
