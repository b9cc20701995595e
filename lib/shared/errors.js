'use strict'
// Error construction. Codes follow Node's conventions: argument problems are TypeError or
// RangeError with ERR_INVALID_ARG_* / ERR_OUT_OF_RANGE, our own failures are OffloadError with
// ERR_OFFLOAD_*, and cancellation is an AbortError whose `cause` is the signal's reason.
const { inspect } = require('node:util')
const { ABORT_ERR, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, ERR_UNKNOWN_SIGNAL } = require('./codes')
const codes = require('./codes')

// node:crypto's codes (lib/crypto) with the classes node gives them.
const CRYPTO_CLASSES = new Map([
  [codes.ERR_CRYPTO_INVALID_KEYLEN, RangeError],
  [codes.ERR_CRYPTO_INVALID_SCRYPT_PARAMS, RangeError],
  [codes.ERR_CRYPTO_INVALID_IV, TypeError],
  [codes.ERR_CRYPTO_INVALID_AUTH_TAG, TypeError],
  [codes.ERR_CRYPTO_INVALID_DIGEST, TypeError],
  [codes.ERR_CRYPTO_SCRYPT_INVALID_PARAMETER, Error],
])

class OffloadError extends Error {
  constructor(code, message, options) {
    super(message, options)
    this.name = 'OffloadError'
    this.code = code
  }
}

class AbortError extends Error {
  constructor(message = 'The operation was aborted', options) {
    super(message, options)
    this.name = 'AbortError'
    this.code = ABORT_ERR
  }
}

// Marks the Node-coded errors offload raises (ERR_INVALID_ARG_TYPE and the like), which have
// no class of their own: offload/express maps those codes only for offload's errors, not for
// the same codes from fs or a bug elsewhere in the app. Symbol.for: shared by every copy.
const kRaised = Symbol.for('offload.raised')

function withCode(Ctor, code, message) {
  const err = new Ctor(message)
  err.code = code
  Object.defineProperty(err, kRaised, { value: true })
  return err
}

// Whether offload raised `err`: its own classes, or a Node-coded error it marked.
function raisedByOffload(err) {
  return err instanceof OffloadError || err instanceof AbortError || err?.[kRaised] === true
}

// How Node describes a received value in argument errors.
function describe(value) {
  if (value == null) return ` Received ${value}`
  if (typeof value === 'function') return ` Received function ${value.name || '<anonymous>'}`
  if (typeof value === 'object') {
    const name = value.constructor && value.constructor.name
    return name ? ` Received an instance of ${name}` : ` Received ${inspect(value, { depth: -1 })}`
  }
  let shown = inspect(value, { colors: false })
  if (shown.length > 28) shown = `${shown.slice(0, 25)}...`
  return ` Received type ${typeof value} (${shown})`
}

function invalidArgType(name, expected, value) {
  const what = name.includes('.') ? `"${name}" property` : `"${name}" argument`
  return withCode(TypeError, ERR_INVALID_ARG_TYPE, `The ${what} must be ${expected}.${describe(value)}`)
}

// As Node words it: a dotted name is a property, and a long value is cut at 128 characters.
function invalidArgValue(name, value, reason) {
  let shown = inspect(value)
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  const what = name.includes('.') ? 'property' : 'argument'
  return withCode(TypeError, ERR_INVALID_ARG_VALUE, `The ${what} '${name}' ${reason}. Received ${shown}`)
}

function outOfRange(name, range, value) {
  return withCode(RangeError, ERR_OUT_OF_RANGE,
    `The value of "${name}" is out of range. It must be ${range}. Received ${inspect(value)}`)
}

// Errors thrown by the native binding carry a code; give them the class Node would use.
function fromNative(err) {
  if (!err || typeof err.code !== 'string') return err
  const { code, message } = err
  if (code === ERR_INVALID_ARG_VALUE || code === ERR_INVALID_ARG_TYPE || code === ERR_UNKNOWN_SIGNAL) return withCode(TypeError, code, message)
  if (code === ERR_OUT_OF_RANGE) return withCode(RangeError, code, message)
  const Crypto = CRYPTO_CLASSES.get(code)
  if (Crypto !== undefined) return withCode(Crypto, code, message)
  if (code.startsWith('ERR_OFFLOAD_')) return new OffloadError(code, message)
  // A napi conversion failure: the JS layer validates types first, so this is a bug guard.
  return withCode(TypeError, ERR_INVALID_ARG_TYPE, message)
}

// A failed task's error, from the code and message the pool thread reported.
function fromTask(code, message) {
  if (code === ABORT_ERR) return new AbortError()
  if (code === ERR_INVALID_ARG_VALUE) return withCode(TypeError, code, message)
  return new OffloadError(code, message)
}

module.exports = { OffloadError, AbortError, withCode, raisedByOffload, invalidArgType, invalidArgValue, outOfRange, fromNative, fromTask }
