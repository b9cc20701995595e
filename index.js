'use strict'
// offload: CPU work on a dedicated Rust thread pool, so the event loop never blocks.
// Kernels read their input in place: do not modify (or transfer) an input buffer until the
// returned promise settles.
const { Pool, getDefaultPool } = require('./lib/pool')
const { run } = require('./lib/run')
const { AbortError, OffloadError } = require('./lib/errors')
const { toBytes, validateString, optionalString, optionalInteger } = require('./lib/validate')
const { invalidArgType } = require('./lib/errors')

function hashOptions(opts) {
  return { encoding: optionalString(opts, 'encoding') }
}

/** Digest of `data` with `algorithm`. */
function hash(algorithm, data, options) {
  let bytes, hashOpts
  return run(options, (opts) => {
    validateString(algorithm, 'algorithm')
    bytes = toBytes(data, 'data')
    hashOpts = hashOptions(opts)
    return bytes
  }, (native, priority, cancellable) => native.hash(algorithm, bytes, hashOpts, priority, cancellable))
}

/** HMAC of `data` under `key`. */
function hmac(algorithm, key, data, options) {
  let keyBytes, bytes, hashOpts
  return run(options, (opts) => {
    validateString(algorithm, 'algorithm')
    keyBytes = toBytes(key, 'key')
    bytes = toBytes(data, 'data')
    hashOpts = hashOptions(opts)
    return [keyBytes, bytes]
  }, (native, priority, cancellable) => native.hmac(algorithm, keyBytes, bytes, hashOpts, priority, cancellable))
}

/** Digests of many inputs, spread over the pool, in input order. */
function hashMany(algorithm, datas, options) {
  let list, hashOpts
  return run(options, (opts) => {
    validateString(algorithm, 'algorithm')
    if (!Array.isArray(datas)) throw invalidArgType('datas', 'an instance of Array', datas)
    list = datas.map((d, i) => toBytes(d, `datas[${i}]`))
    hashOpts = hashOptions(opts)
    return list
  }, (native, priority, cancellable) => native.hashMany(algorithm, list, hashOpts, priority, cancellable))
}

/** Compresses `data` in `format`. */
function compress(format, data, options) {
  let bytes, level
  return run(options, (opts) => {
    validateString(format, 'format')
    bytes = toBytes(data, 'data')
    level = optionalInteger(opts, 'level')
    return bytes
  }, (native, priority, cancellable) => native.compress(format, bytes, { level }, priority, cancellable))
}

/** Decompresses `data` in `format`. */
function decompress(format, data, options) {
  let bytes, maxOutputLength
  return run(options, (opts) => {
    validateString(format, 'format')
    bytes = toBytes(data, 'data')
    maxOutputLength = optionalInteger(opts, 'maxOutputLength')
    return bytes
  }, (native, priority, cancellable) => native.decompress(format, bytes, { maxOutputLength }, priority, cancellable))
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
