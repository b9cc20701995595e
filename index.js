'use strict'
// offload: CPU work on a dedicated Rust thread pool, so the event loop never blocks.
// Kernels read their input in place: do not modify (or transfer) an input buffer until the
// returned promise settles.
const binding = require('./lib/native.js')
const { Pool, getDefaultPool } = require('./lib/pool')
const { call } = require('./lib/run')
const { AbortError, OffloadError, invalidArgType } = require('./lib/errors')
const { toBytes, validateString, optionalString, optionalInteger } = require('./lib/validate')
const { Supervisor, SubprocessError, exec, processStats } = require('./lib/process')
const { Subprocess, spawn } = require('./lib/subprocess')
const { ProcessPool } = require('./lib/process-pool')
const { pythonPath } = require('./lib/process-pool-options')
const { metrics } = require('./lib/metrics')

// The binding gets a fresh object holding the validated value, never the caller's object:
// reading it again could run a getter (user code) in the middle of a submission.
function only(opts, check, key) {
  const value = check(opts, key)
  return value === undefined ? undefined : { [key]: value }
}

/** Digest of `data` with `algorithm`. */
function hash(algorithm, data, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const bytes = toBytes(data, 'data')
    const o = only(opts, optionalString, 'encoding')
    return [bytes, (h, slot, p, c) => binding.submitHash(h, slot, algorithm, bytes, o, p, c)]
  })
}

/** HMAC of `data` under `key`. */
function hmac(algorithm, key, data, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const k = toBytes(key, 'key')
    const bytes = toBytes(data, 'data')
    const o = only(opts, optionalString, 'encoding')
    return [[k, bytes], (h, slot, p, c) => binding.submitHmac(h, slot, algorithm, k, bytes, o, p, c)]
  })
}

/** Digests of many inputs, spread over the pool, in input order. */
function hashMany(algorithm, datas, options) {
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    if (!Array.isArray(datas)) throw invalidArgType('datas', 'an instance of Array', datas)
    const list = datas.map((d, i) => toBytes(d, `datas[${i}]`))
    const o = only(opts, optionalString, 'encoding')
    return [list, (h, slot, p, c) => binding.submitHashMany(h, slot, algorithm, list, o, p, c)]
  }, false)
}

/** Compresses `data` in `format`. */
function compress(format, data, options) {
  return call(options, (opts) => {
    validateString(format, 'format')
    const bytes = toBytes(data, 'data')
    const o = only(opts, optionalInteger, 'level')
    return [bytes, (h, slot, p, c) => binding.submitCompress(h, slot, format, bytes, o, p, c)]
  })
}

/** Decompresses `data` in `format`. */
function decompress(format, data, options) {
  return call(options, (opts) => {
    validateString(format, 'format')
    const bytes = toBytes(data, 'data')
    const o = only(opts, optionalInteger, 'maxOutputLength')
    return [bytes, (h, slot, p, c) => binding.submitDecompress(h, slot, format, bytes, o, p, c)]
  })
}

module.exports = {
  Pool,
  defaultPool: getDefaultPool,
  hash,
  hmac,
  hashMany,
  compress,
  decompress,
  exec,
  spawn,
  Supervisor,
  Subprocess,
  processStats,
  ProcessPool,
  pythonPath,
  metrics,
  AbortError,
  OffloadError,
  SubprocessError,
}
