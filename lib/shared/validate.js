'use strict'
// Type checks on the JS side, where the types live; value checks (names, ranges) happen in Rust.
const { fileURLToPath } = require('node:url')
const { invalidArgType, outOfRange } = require('./errors')

const BINARY = 'of type string or an instance of Buffer, TypedArray, DataView, ArrayBuffer, or SharedArrayBuffer'

// Every binary input becomes a Uint8Array view over the same memory (O(1), no copy), so the
// binding has one zero-copy path. Strings pass through and are read as UTF-8 by the binding.
function toBytes(value, name) {
  if (typeof value === 'string') return value
  if (ArrayBuffer.isView(value)) {
    fixedLength(value.buffer, name)
    if (value instanceof Uint8Array && value.constructor !== Uint8ClampedArray) return value
    return new Uint8Array(value.buffer, value.byteOffset, value.byteLength)
  }
  if (value instanceof ArrayBuffer || isSharedArrayBuffer(value)) {
    fixedLength(value, name)
    return new Uint8Array(value)
  }
  throw invalidArgType(name, BINARY, value)
}

// Native code reads an input in place for as long as its task runs. Shrinking a resizable
// ArrayBuffer decommits the memory under it, so those are refused. A growable
// SharedArrayBuffer never shrinks (its whole maximum is reserved up front): the bytes present
// at the call are read, and growth after it is not seen.
function fixedLength(buffer, name) {
  if (buffer.resizable === true) {
    throw invalidArgType(name, `${BINARY} backed by a fixed-length ArrayBuffer (a resizable one can shrink under the running task; pass a copy, e.g. new Uint8Array(view))`, buffer)
  }
}

function isSharedArrayBuffer(value) {
  return typeof SharedArrayBuffer === 'function' && value instanceof SharedArrayBuffer
}

function validateString(value, name) {
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string', value)
  return value
}

const NO_OPTIONS = Object.freeze({})

function validateOptions(options, name = 'options') {
  if (options === undefined || options === null) return NO_OPTIONS
  if (typeof options !== 'object' || Array.isArray(options)) throw invalidArgType(name, 'of type object', options)
  return options
}

function optionalString(options, key) {
  const v = options[key]
  if (v !== undefined && typeof v !== 'string') throw invalidArgType(`options.${key}`, 'of type string', v)
  return v
}

function optionalBoolean(options, key) {
  const v = options[key]
  if (v !== undefined && typeof v !== 'boolean') throw invalidArgType(`options.${key}`, 'of type boolean', v)
  return v
}

function optionalNumber(options, key) {
  const v = options[key]
  if (v !== undefined && typeof v !== 'number') throw invalidArgType(`options.${key}`, 'of type number', v)
  return v
}

function optionalInteger(options, key) {
  const v = options[key]
  if (v === undefined) return v
  if (typeof v !== 'number') throw invalidArgType(`options.${key}`, 'of type number', v)
  if (!Number.isInteger(v)) throw outOfRange(`options.${key}`, 'an integer', v)
  return v
}

// `options[key]` as an integer in min..max (max may be Infinity, then allowed itself), or
// `fallback` when absent: ERR_INVALID_ARG_TYPE for a non-number, ERR_OUT_OF_RANGE otherwise.
function boundedInteger(options, key, min, max, fallback) {
  const v = options[key]
  if (v === undefined) return fallback
  if (typeof v !== 'number') throw invalidArgType(`options.${key}`, 'of type number', v)
  if (v === Infinity && max === Infinity) return v
  if (!Number.isInteger(v) || v < min || v > max) throw outOfRange(`options.${key}`, `an integer >= ${min} && <= ${max}`, v)
  return v
}

// Binary input only (no text): an image or another byte format, read in place as toBytes does.
function toBinary(value, name) {
  if (typeof value === 'string') throw invalidArgType(name, 'an instance of Buffer, TypedArray, DataView, ArrayBuffer, or SharedArrayBuffer', value)
  return toBytes(value, name)
}

// The longest delay Node's timers take (a signed 32-bit count of ms).
const MAX_TIMEOUT = 2 ** 31 - 1

// A duration option in milliseconds, as setTimeout accepts it; undefined when absent.
function optionalMs(options, key) {
  const v = options[key]
  if (v === undefined) return undefined
  if (typeof v !== 'number') throw invalidArgType(`options.${key}`, 'of type number', v)
  if (!(v >= 0 && v <= MAX_TIMEOUT)) throw outOfRange(`options.${key}`, `>= 0 && <= ${MAX_TIMEOUT}`, v)
  return v
}

function optionalTimeout(options) {
  const v = optionalMs(options, 'timeout')
  return v === 0 ? undefined : v
}

function optionalSignal(options) {
  const s = options.signal
  if (s === undefined) return undefined
  // Duck-typed so signals from other realms (vm contexts, polyfills) work too, but complete:
  // a signal we cannot unsubscribe from would throw later, far from the caller.
  if (s === null || typeof s !== 'object' || typeof s.aborted !== 'boolean' ||
      typeof s.addEventListener !== 'function' || typeof s.removeEventListener !== 'function') {
    throw invalidArgType('options.signal', 'an instance of AbortSignal', s)
  }
  return s
}

// Removes an abort listener. The signal is the caller's object: a throwing
// removeEventListener (a polyfill) must not escape into a completion batch or a timer, where
// it would cost other tasks their settlement or crash the process; it becomes a warning.
function unlisten(signal, listener) {
  try {
    signal.removeEventListener('abort', listener)
  } catch (err) {
    let what
    try {
      what = String(err)
    } catch {
      what = 'an unprintable value' // even describing it must not throw here
    }
    process.emitWarning(`offload: the signal's removeEventListener threw: ${what}`, { code: 'OFFLOAD_SIGNAL_CLEANUP' })
  }
}

// A path given as a string or a file: URL (as node:fs takes them), as a string.
// A fresh object of the values `checks` ([key, check] pairs) read from `opts`, added to
// `into`: the binding never gets the caller's object, whose getters could run mid-call.
function pick(opts, checks, into = {}) {
  for (const [key, check] of checks) {
    const v = check(opts, key)
    if (v !== undefined) into[key] = v
  }
  return into
}

function pathString(value, name) {
  if (value instanceof URL) return fileURLToPath(value)
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string or an instance of URL', value)
  return value
}

module.exports = { MAX_TIMEOUT, pathString, pick, unlisten, toBytes, toBinary, validateString, validateOptions, optionalString, optionalBoolean, optionalNumber, optionalInteger, boundedInteger, optionalMs, optionalTimeout, optionalSignal }
