'use strict'
// Validation of the options every kernel shares: { pool, signal, timeout, priority }.
const { nativeOf } = require('./pool')
const { validateOptions, optionalString, optionalSignal, optionalTimeout } = require('./validate')

// Returns { native, signal, timeout, priority, options } with `options` the caller's object
// (or an empty one), so kernels can read their own fields from it. Throws on bad input.
function taskOptions(options) {
  const opts = validateOptions(options)
  return {
    native: nativeOf(opts.pool),
    signal: optionalSignal(opts),
    timeout: optionalTimeout(opts),
    priority: optionalString(opts, 'priority'),
    options: opts,
  }
}

module.exports = { taskOptions }
