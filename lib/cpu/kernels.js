'use strict'
// The CPU kernels: hash, hmac, hashMany, compress, decompress (hash and hmac of a Readable or
// an AsyncIterable go to streams.js). Each validates its own arguments, then hands the pool a
// `start` function that submits it (see run.js and tasks.js).
// Kernels read their input in place: an input buffer must not be modified (or transferred)
// until the returned promise settles; the task table keeps it reachable until then.
const binding = require('../shared/native')
const { invalidArgType } = require('../shared/errors')
const { toBytes, validateString, optionalString, optionalInteger } = require('../shared/validate')
const { call } = require('./run')
const { hashSource, isSource } = require('./streams')

// The binding gets a fresh object holding the validated value, never the caller's object:
// reading it again could run a getter (user code) in the middle of a submission.
function only(opts, check, key) {
  const value = check(opts, key)
  return value === undefined ? undefined : { [key]: value }
}

/** Digest of `data` (bytes, or a Readable / AsyncIterable of chunks) with `algorithm`. */
function hash(algorithm, data, options) {
  if (isSource(data)) return hashSource(algorithm, undefined, data, options)
  return call(options, (opts) => {
    validateString(algorithm, 'algorithm')
    const bytes = toBytes(data, 'data')
    const o = only(opts, optionalString, 'encoding')
    return [bytes, (h, slot, p, c) => binding.submitHash(h, slot, algorithm, bytes, o, p, c)]
  })
}

/** HMAC of `data` (bytes, or a Readable / AsyncIterable of chunks) under `key`. */
function hmac(algorithm, key, data, options) {
  if (isSource(data)) return hashSource(algorithm, key, data, options)
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

module.exports = { hash, hmac, hashMany, compress, decompress }
