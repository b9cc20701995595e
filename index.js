'use strict'
// offload: CPU work on a dedicated Rust thread pool, so the event loop never blocks.
// Kernels read their input in place: do not modify (or transfer) an input buffer until the
// returned promise settles.
const { Pool, getDefaultPool } = require('./lib/pool')
const { taskOptions } = require('./lib/run')
const { submit } = require('./lib/tasks')
const binding = require('./binding.js')
const { AbortError, OffloadError, fromNative, invalidArgType } = require('./lib/errors')
const { toBytes, validateString, validateOptions, optionalString, optionalInteger } = require('./lib/validate')

// Every kernel validates synchronously but reports failures through the returned promise.
// Kernel-specific arguments are checked first; `taskOptions` comes last, right before `submit`.
function rejected(err) {
  return Promise.reject(fromNative(err))
}

// The binding gets a fresh object holding the validated value, never the caller's object:
// reading it again could run a getter (user code) in the middle of a submission.
function withField(opts, check, key) {
  const value = check(opts, key)
  return value === undefined ? undefined : { [key]: value }
}

/** Digest of `data` with `algorithm`. */
function hash(algorithm, data, options) {
  try {
    const opts = validateOptions(options)
    validateString(algorithm, 'algorithm')
    const bytes = toBytes(data, 'data')
    const kernelOpts = withField(opts, optionalString, 'encoding')
    return submit(taskOptions(opts), bytes, (handle, slot, priority, cancellable) =>
      binding.submitHash(handle, slot, algorithm, bytes, kernelOpts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** HMAC of `data` under `key`. */
function hmac(algorithm, key, data, options) {
  try {
    const opts = validateOptions(options)
    validateString(algorithm, 'algorithm')
    const keyBytes = toBytes(key, 'key')
    const bytes = toBytes(data, 'data')
    const kernelOpts = withField(opts, optionalString, 'encoding')
    return submit(taskOptions(opts), [keyBytes, bytes], (handle, slot, priority, cancellable) =>
      binding.submitHmac(handle, slot, algorithm, keyBytes, bytes, kernelOpts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** Digests of many inputs, spread over the pool, in input order. */
function hashMany(algorithm, datas, options) {
  try {
    const opts = validateOptions(options)
    validateString(algorithm, 'algorithm')
    if (!Array.isArray(datas)) throw invalidArgType('datas', 'an instance of Array', datas)
    const list = datas.map((d, i) => toBytes(d, `datas[${i}]`))
    const kernelOpts = withField(opts, optionalString, 'encoding')
    return submit(taskOptions(opts), list, (handle, slot, priority, cancellable) =>
      binding.submitHashMany(handle, slot, algorithm, list, kernelOpts, priority, cancellable), false)
  } catch (err) {
    return rejected(err)
  }
}

/** Compresses `data` in `format`. */
function compress(format, data, options) {
  try {
    const opts = validateOptions(options)
    validateString(format, 'format')
    const bytes = toBytes(data, 'data')
    const kernelOpts = withField(opts, optionalInteger, 'level')
    return submit(taskOptions(opts), bytes, (handle, slot, priority, cancellable) =>
      binding.submitCompress(handle, slot, format, bytes, kernelOpts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** Decompresses `data` in `format`. */
function decompress(format, data, options) {
  try {
    const opts = validateOptions(options)
    validateString(format, 'format')
    const bytes = toBytes(data, 'data')
    const kernelOpts = withField(opts, optionalInteger, 'maxOutputLength')
    return submit(taskOptions(opts), bytes, (handle, slot, priority, cancellable) =>
      binding.submitDecompress(handle, slot, format, bytes, kernelOpts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

module.exports = {
  Pool,
  defaultPool: getDefaultPool,
  hash,
  hmac,
  hashMany,
  compress,
  decompress,
  AbortError,
  OffloadError,
}
