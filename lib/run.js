'use strict'
// The shared front half of every kernel call: validate the common task options, normalise
// inputs, and submit. Any synchronous failure is returned as a rejected promise.
const { fromNative } = require('./errors')
const { nativeOf } = require('./pool')
const tasks = require('./tasks')
const { validateOptions, optionalString, optionalSignal, optionalTimeout } = require('./validate')

// `prepare(options)` validates kernel arguments and returns the inputs to keep alive;
// `start(native, priority, cancellable)` submits and returns the task id.
function run(options, prepare, start) {
  let opts, native, inputs
  try {
    opts = validateOptions(options)
    native = nativeOf(opts.pool)
    opts = {
      signal: optionalSignal(opts),
      timeout: optionalTimeout(opts),
      priority: optionalString(opts, 'priority'),
      raw: opts,
    }
    inputs = prepare(opts.raw)
  } catch (err) {
    return Promise.reject(fromNative(err))
  }
  return tasks.submit(native, opts, inputs, start)
}

module.exports = { run }
