'use strict'
// The front half of every kernel call: validate the options every kernel shares
// ({ pool, signal, timeout, priority }), let the kernel validate its own arguments, submit.
const { fromNative } = require('../shared/errors')
const { nativeOf } = require('./pool')
const { submit } = require('./tasks')
const { validateOptions, optionalString, optionalSignal, optionalTimeout } = require('../shared/validate')

// `prepare(opts)` validates the kernel's arguments and returns [inputs, start], where `start`
// is as in `tasks.submit`. Kernel arguments are checked first, the shared options last, so
// nothing the caller controls (a getter) runs between reading them and submitting.
// Validation failures are returned as rejected promises, never thrown.
function call(options, prepare, nativeOk = true) {
  try {
    const opts = validateOptions(options)
    const [inputs, start] = prepare(opts)
    const native = nativeOf(opts.pool)
    const signal = optionalSignal(opts)
    const timeout = optionalTimeout(opts)
    const priority = optionalString(opts, 'priority')
    return submit(native, signal, timeout, priority, inputs, start, nativeOk)
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
}

module.exports = { call }
