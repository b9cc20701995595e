'use strict'
// offload: CPU work on a dedicated Rust thread pool, so the event loop never blocks.
// Kernels read their input in place: do not modify (or transfer) an input buffer until the
// returned promise settles.
const { Pool, getDefaultPool } = require('./lib/pool')
const { taskOptions } = require('./lib/run')
const { submit } = require('./lib/tasks')
const { AbortError, OffloadError, fromNative, invalidArgType } = require('./lib/errors')
const { toBytes, validateString, optionalString, optionalInteger } = require('./lib/validate')

// Every kernel validates synchronously but reports failures through the returned promise.
function rejected(err) {
  return Promise.reject(fromNative(err))
}

function hashOptions(t) {
  return optionalString(t.options, 'encoding') === undefined ? undefined : t.options
}

/** Digest of `data` with `algorithm`. */
function hash(algorithm, data, options) {
  try {
    const t = taskOptions(options)
    validateString(algorithm, 'algorithm')
    const bytes = toBytes(data, 'data')
    const opts = hashOptions(t)
    return submit(t, bytes, (native, slot, priority, cancellable) =>
      native.hash(slot, algorithm, bytes, opts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** HMAC of `data` under `key`. */
function hmac(algorithm, key, data, options) {
  try {
    const t = taskOptions(options)
    validateString(algorithm, 'algorithm')
    const keyBytes = toBytes(key, 'key')
    const bytes = toBytes(data, 'data')
    const opts = hashOptions(t)
    return submit(t, [keyBytes, bytes], (native, slot, priority, cancellable) =>
      native.hmac(slot, algorithm, keyBytes, bytes, opts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** Digests of many inputs, spread over the pool, in input order. */
function hashMany(algorithm, datas, options) {
  try {
    const t = taskOptions(options)
    validateString(algorithm, 'algorithm')
    if (!Array.isArray(datas)) throw invalidArgType('datas', 'an instance of Array', datas)
    const list = datas.map((d, i) => toBytes(d, `datas[${i}]`))
    const opts = hashOptions(t)
    return submit(t, list, (native, slot, priority, cancellable) =>
      native.hashMany(slot, algorithm, list, opts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** Compresses `data` in `format`. */
function compress(format, data, options) {
  try {
    const t = taskOptions(options)
    validateString(format, 'format')
    const bytes = toBytes(data, 'data')
    const opts = optionalInteger(t.options, 'level') === undefined ? undefined : t.options
    return submit(t, bytes, (native, slot, priority, cancellable) =>
      native.compress(slot, format, bytes, opts, priority, cancellable))
  } catch (err) {
    return rejected(err)
  }
}

/** Decompresses `data` in `format`. */
function decompress(format, data, options) {
  try {
    const t = taskOptions(options)
    validateString(format, 'format')
    const bytes = toBytes(data, 'data')
    const opts = optionalInteger(t.options, 'maxOutputLength') === undefined ? undefined : t.options
    return submit(t, bytes, (native, slot, priority, cancellable) =>
      native.decompress(slot, format, bytes, opts, priority, cancellable))
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
