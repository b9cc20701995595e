'use strict'
// Validation of the options every kernel shares: { pool, signal, timeout, priority }.
const { nativeOf } = require('./pool')
const { validateOptions, optionalString, optionalSignal, optionalTimeout } = require('./validate')

// Fills and returns { native, signal, timeout, priority, options }, with `options` the caller's
// object (or an empty one) so kernels can read their own fields from it. Throws on bad input.
// The result is one reused object, which saves an allocation per call on the hottest path:
// callers must pass it straight to `tasks.submit` with no user code (getters) running between.
const scratch = { native: undefined, signal: undefined, timeout: undefined, priority: undefined, options: undefined }

function taskOptions(options) {
  const opts = validateOptions(options)
  // Read everything (getters may run user code, even offload calls) before touching `scratch`.
  const native = nativeOf(opts.pool)
  const signal = optionalSignal(opts)
  const timeout = optionalTimeout(opts)
  const priority = optionalString(opts, 'priority')
  scratch.native = native
  scratch.signal = signal
  scratch.timeout = timeout
  scratch.priority = priority
  scratch.options = opts
  return scratch
}

module.exports = { taskOptions }
