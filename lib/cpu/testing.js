'use strict'
// offload/testing: test and benchmark kernels. They exercise the pool (dispatch cost,
// cancellation, panics) without doing real work; not for production use. The native halves
// exist only in builds with the cargo feature `test-kernels` (`npm run build`, `npm test`);
// release binaries leave them out, and every function here then throws
// ERR_OFFLOAD_TESTING_UNAVAILABLE rather than a TypeError from a missing function.
const binding = require('../shared/native')
const { call } = require('./run')
const { OffloadError, invalidArgType } = require('../shared/errors')
const { ERR_OFFLOAD_TESTING_UNAVAILABLE } = require('../shared/codes')

/** Throws ERR_OFFLOAD_TESTING_UNAVAILABLE when this build lacks the test kernels. */
function available() {
  if (typeof binding.submitNoop !== 'function') {
    throw new OffloadError(ERR_OFFLOAD_TESTING_UNAVAILABLE,
      'offload/testing is unavailable: this build of the native addon lacks the `test-kernels` cargo feature (release binaries leave it out; build with `npm run build`)')
  }
}

// Allocation-free on the dispatch benchmark's path.
const NOOP = [undefined, (h, slot, p, c) => binding.submitNoop(h, slot, p, c)]
const prepareNoop = () => NOOP

/** Resolves with undefined after a round trip through the pool. */
function noop(options) {
  available()
  return call(options, prepareNoop)
}

/** Busy-spins a pool thread for `ms` milliseconds, polling for cancellation like a kernel. */
function spin(ms, options) {
  available()
  return call(options, () => {
    if (typeof ms !== 'number') throw invalidArgType('ms', 'of type number', ms)
    return [undefined, (h, slot, p, c) => binding.submitSpin(h, slot, ms, p, c)]
  })
}

/** Panics on a pool thread with `message`; the promise rejects with ERR_OFFLOAD_TASK_PANICKED. */
function panic(message, options) {
  available()
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
  available()
  return binding.testExternalStringFailure(mode, text)
}

/** Runs the finalizer a `'later'` refusal kept, as Node may at teardown; false if none. */
function runKeptStringFinalizer() {
  available()
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
  available()
  return binding.testMallocInUse()
}

module.exports.mallocInUse = mallocInUse
