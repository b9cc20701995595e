'use strict'
// The process-pool wire format (docs/protocol.md): length-prefixed frames with a JSON header
// and binary blobs. Buffers and TypedArrays anywhere in a value travel as blobs, not as JSON,
// so a 1 MiB Buffer costs one copy through a pipe. Shared by the parent and `offload/worker`.
// Guarantee: a value arrives as it was sent, or changed only as docs/protocol.md lists (JSON's
// own changes); what cannot be carried is refused by the encoder, naming its path, and what
// cannot be decoded exactly is refused by the decoder, never guessed at.

const { types: { isArrayBuffer, isSharedArrayBuffer } } = require('node:util')
const { invalidArgType, invalidArgValue, withCode } = require('../shared/errors')
const { ERR_OUT_OF_RANGE } = require('../shared/codes')

const KIND = Object.freeze({ run: 1, cancel: 2, ready: 3, result: 4, error: 5 })
const PREFIX = 13 // length u32, kind u8, id u32, headerLength u32
const MAX_FRAME = 0xffffffff
// What the helpers accept by default: larger payloads belong in files, not in a task.
const DEFAULT_MAX_FRAME = 1 << 30

const TYPED = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
}
if (typeof Float16Array === 'function') TYPED.Float16Array = Float16Array // eslint-disable-line no-undef

// The built-in class of a TypedArray (also of a subclass, or one from another realm).
const typedArrayName = Object.getOwnPropertyDescriptor(Object.getPrototypeOf(Uint8Array.prototype), Symbol.toStringTag).get

const CAN_CARRY = 'JSON data (null, a boolean, a string, a number, an array or a plain object), ' +
  'a Buffer, a TypedArray, a DataView or an ArrayBuffer'

// Where a value is, as a JS expression: payload.items[3].cache, payload["odd key"].
function child(path, key) {
  if (typeof key === 'number') return `${path}[${key}]`
  return /^[A-Za-z_$][\w$]*$/.test(key) ? `${path}.${key}` : `${path}[${JSON.stringify(key)}]`
}

// Values the wire cannot carry as they are: refused, never changed (docs/protocol.md, Values).
function unsupported(path, v) {
  if (isSharedArrayBuffer(v)) {
    return invalidArgType(path, 'copyable: a SharedArrayBuffer cannot be shared with another process (send a TypedArray over it to copy its bytes)', v)
  }
  return invalidArgType(path, CAN_CARRY, v)
}

function circular(path, v) {
  return invalidArgValue(path, v, 'is circular: it contains an object that contains it')
}

// A refusal found by `prepare`. The keys leading to the value are collected as it travels up
// (innermost first), so no path is built for the values that are fine: a payload of a
// million rows costs no million path strings.
class Refusal {
  constructor(make, value) {
    this.make = make
    this.value = value
    this.keys = []
  }
}

function within(err, key) {
  if (err instanceof Refusal) err.keys.push(key)
  return err
}

// Plain objects: those of Object.prototype (of any realm: its prototype is null) or of none.
function isPlainObject(v) {
  const proto = Object.getPrototypeOf(v)
  return proto === null || proto === Object.prototype || Object.getPrototypeOf(proto) === null
}

// Replaces binary values with markers (collecting them in `blobs`) and escapes objects that
// carry our marker key. JSON semantics otherwise (toJSON honoured, undefined properties left
// out, undefined/NaN/±Infinity as null), except that what JSON would silently turn into
// something else (a Map into {}, a BigInt into an exception without a path, a function into
// nothing) is refused with ERR_INVALID_ARG_TYPE naming where it is, `root` first.
function pack(value, blobs, root = 'value') {
  if (plain(value)) return JSON.stringify(value)
  let prepared
  try {
    prepared = prepare(value, '', blobs, new Set(), false)
  } catch (err) {
    if (!(err instanceof Refusal)) throw err
    throw err.make(err.keys.reduceRight(child, root), err.value)
  }
  return JSON.stringify(prepared)
}

// A copy of `v` that JSON.stringify turns into the wire form: binary values become blob
// markers *before* stringify sees them (a Buffer's own toJSON would first expand it into an
// array of numbers, milliseconds per MiB), objects with our marker key are escaped, and
// values JSON would change are refused (a `Refusal`). `key` is what JSON would pass to toJSON
// (a number for array elements); `ancestors` detects cycles, which JSON.stringify would have
// refused too. `converted`: `v` came from a toJSON, which (as in JSON) is not called again on
// its result.
function prepare(v, key, blobs, ancestors, converted) {
  switch (typeof v) {
    case 'string': case 'number': case 'boolean': case 'undefined': return v
    case 'object': if (v === null) return v; break
    default: throw new Refusal(unsupported, v) // bigint, function, symbol
  }
  if (ArrayBuffer.isView(v) || isArrayBuffer(v)) return blobMarker(v, blobs)
  if (!converted && typeof v.toJSON === 'function') return prepare(v.toJSON(String(key)), key, blobs, ancestors, true)
  const array = Array.isArray(v)
  if (!array && !isPlainObject(v)) throw new Refusal(unsupported, v)
  if (ancestors.has(v)) throw new Refusal(circular, v)
  ancestors.add(v)
  let out
  if (array) {
    out = new Array(v.length)
    for (let i = 0; i < v.length; i++) {
      try {
        out[i] = prepare(v[i], i, blobs, ancestors, false)
      } catch (err) {
        throw within(err, i)
      }
    }
  } else {
    out = {}
    for (const k of Object.keys(v)) {
      try {
        setOwn(out, k, prepare(v[k], k, blobs, ancestors, false))
      } catch (err) {
        throw within(err, k)
      }
    }
    if (Object.hasOwn(v, '$offload')) out = { $offload: 'object', value: out }
  }
  ancestors.delete(v)
  return out
}

// True when plain JSON.stringify gives what `pack` would: JSON data only (plain objects,
// arrays, strings, finite or not numbers, booleans, null, undefined), no objects with our
// marker key, no toJSON. A replacer function costs more than this walk on the small payloads
// that dominate task traffic; a walk that runs long (big data) gives up and lets `prepare` do
// it in one pass. Anything else goes to `prepare` too, which encodes it or says what is wrong.
function plain(value) {
  if (value === null || typeof value !== 'object') return !REFUSED[typeof value]
  const stack = [value]
  let budget = 256
  while (stack.length > 0) {
    const v = stack.pop()
    if (--budget < 0 || typeof v.toJSON === 'function') return false
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i]
        if (x !== null && typeof x === 'object') stack.push(x)
        else if (REFUSED[typeof x]) return false
      }
      continue
    }
    if (!isPlainObject(v)) return false // binary values among them
    for (const k in v) {
      if (k === '$offload') return false
      const x = v[k]
      if (x !== null && typeof x === 'object') stack.push(x)
      else if (REFUSED[typeof x]) return false
    }
  }
  return true
}

const REFUSED = { bigint: true, function: true, symbol: true }

// `o[k] = v`, except that a key named `__proto__` (as JSON.parse creates it) stays an own
// property instead of replacing the object's prototype.
function setOwn(o, k, v) {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true })
  else o[k] = v
}

function blobMarker(raw, blobs) {
  let type
  let bytes
  if (isArrayBuffer(raw)) {
    type = 'ArrayBuffer'
    bytes = new Uint8Array(raw)
  } else {
    // A view over a SharedArrayBuffer is sent as a copy of its bytes, like any view.
    type = Buffer.isBuffer(raw) ? 'Buffer' : typedArrayName.call(raw) ?? 'DataView'
    bytes = new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
  }
  blobs.push(bytes)
  return { $offload: 'blob', index: blobs.length - 1, type }
}

// The inverse of `pack`; `blobs` are Buffers (views into the received frame).
// Top-down, so an escaped object's own `$offload` key is never taken for a marker.
function unpack(json, blobs) {
  if (json === undefined) return undefined
  return revive(JSON.parse(json), blobs)
}

// A blob back as its type. Anything a conforming sender cannot have sent (an unknown type, a
// length that is not a whole number of elements) is an error: never a guess, never a
// truncated or empty array.
function fromBlob(bytes, type) {
  if (bytes === undefined) throw new Error('offload protocol: a blob marker points past the blobs')
  if (type === 'Buffer') return bytes
  // Copy into a fresh, aligned ArrayBuffer: the frame's memory is shared and may be misaligned.
  if (type === 'ArrayBuffer') return new Uint8Array(bytes).buffer
  if (type === 'DataView') return new DataView(new Uint8Array(bytes).buffer)
  const Typed = typeof type === 'string' && Object.hasOwn(TYPED, type) ? TYPED[type] : undefined
  if (Typed === undefined) throw new Error(`offload protocol: unknown blob type ${JSON.stringify(type)}`)
  const size = Typed.BYTES_PER_ELEMENT
  if (bytes.length % size !== 0) {
    throw new Error(`offload protocol: a ${type} blob of ${bytes.length} bytes is not a whole number of ${size}-byte elements`)
  }
  const copy = new Uint8Array(bytes)
  return new Typed(copy.buffer, 0, copy.byteLength / size)
}

// One frame as a list of Buffers for a gathered write: the prefix and header in one Buffer,
// then the blobs (Uint8Arrays, sent in place).
function encodeFrame(kind, id, headerJson, blobs) {
  const headerLength = Buffer.byteLength(headerJson, 'utf8')
  let length = PREFIX - 4 + headerLength
  for (const b of blobs) length += b.byteLength
  if (length > MAX_FRAME) {
    throw withCode(RangeError, ERR_OUT_OF_RANGE, `offload protocol: a frame of ${length} bytes is over the 4 GiB limit`)
  }
  const head = Buffer.allocUnsafe(PREFIX + headerLength)
  head.writeUInt32LE(length, 0)
  head.writeUInt8(kind, 4)
  head.writeUInt32LE(id, 5)
  head.writeUInt32LE(headerLength, 9)
  head.write(headerJson, PREFIX, 'utf8')
  if (blobs.length === 0) return [head]
  return [head, ...blobs.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength))]
}

// How errors name the value of each field: a run's payload, a reply's result or error.
const ROOT = { payload: 'payload', value: 'result', error: 'error' }

// Encodes `value` under `field` of a header, e.g. message(KIND.result, 7, 'value', 42).
function message(kind, id, field, value, extra) {
  const blobs = []
  const packed = value === undefined ? undefined : pack(value, blobs, ROOT[field] ?? field)
  // Built by hand so the packed value is not stringified twice.
  let json = blobs.length === 0 ? '{"blobs":[]' : `{"blobs":${JSON.stringify(blobs.map((b) => b.byteLength))}`
  if (extra !== undefined) {
    for (const k of Object.keys(extra)) json += `,${JSON.stringify(k)}:${JSON.stringify(extra[k])}`
  }
  if (packed !== undefined) json += `,${JSON.stringify(field)}:${packed}`
  json += '}'
  return encodeFrame(kind, id, json, blobs)
}

// Splits a byte stream into frames: push(chunk) returns the complete frames so far, each
// { kind, id, header (parsed lazily by the caller), blobs }.
class FrameReader {
  // `maxFrame`: a longer length prefix means a corrupt (or hostile) stream; refuse it rather
  // than buffer towards it.
  constructor(maxFrame = DEFAULT_MAX_FRAME) {
    this.chunks = []
    this.buffered = 0
    this.maxFrame = maxFrame
  }

  push(chunk) {
    this.chunks.push(chunk)
    this.buffered += chunk.length
    const frames = []
    for (;;) {
      if (this.buffered < 4) break
      const head = this.peek(4)
      const length = head.readUInt32LE(0)
      try {
        if (length > this.maxFrame) throw new Error(`offload protocol: a frame of ${length} bytes is over the ${this.maxFrame}-byte limit`)
        if (this.buffered < 4 + length) break
        frames.push(parseFrame(this.take(4 + length)))
      } catch (err) {
        err.frames = frames // the good frames before the corrupt one, for callers that want them
        throw err
      }
    }
    return frames
  }

  // The first `n` buffered bytes, joining chunks only as far as needed.
  peek(n) {
    if (this.chunks[0].length >= n) return this.chunks[0]
    this.chunks = [Buffer.concat(this.chunks)]
    return this.chunks[0]
  }

  take(n) {
    const first = this.peek(n)
    const frame = first.subarray(0, n)
    if (first.length === n) this.chunks.shift()
    else this.chunks[0] = first.subarray(n)
    this.buffered -= n
    return frame
  }
}

function parseFrame(frame) {
  if (frame.length < PREFIX) throw new Error('offload protocol: a frame shorter than its prefix')
  const kind = frame.readUInt8(4)
  const id = frame.readUInt32LE(5)
  const headerLength = frame.readUInt32LE(9)
  if (PREFIX + headerLength > frame.length) throw new Error('offload protocol: a header longer than its frame')
  const json = frame.toString('utf8', PREFIX, PREFIX + headerLength)
  const header = JSON.parse(json)
  const blobs = []
  let offset = PREFIX + headerLength
  for (const n of header.blobs ?? []) {
    if (!Number.isInteger(n) || n < 0 || offset + n > frame.length) throw new Error('offload protocol: blob lengths do not match the frame')
    blobs.push(frame.subarray(offset, offset + n))
    offset += n
  }
  if (offset !== frame.length) throw new Error('offload protocol: bytes left over after the blobs')
  // Values need reviving only if a marker (blob or escaped object) is in the text.
  return { kind, id, header, blobs, markers: json.includes('"$offload"') }
}

// Reads a value field of a parsed frame back (e.g. field 'payload' of a run frame).
function valueOf(frame, field) {
  const v = frame.header[field]
  if (v === undefined) return undefined
  // The header was parsed as plain JSON; revive markers in place.
  return frame.markers === false ? v : revive(v, frame.blobs)
}

function revive(v, blobs) {
  if (v === null || typeof v !== 'object') return v
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) v[i] = revive(v[i], blobs)
    return v
  }
  if (Object.hasOwn(v, '$offload')) {
    // A sender escapes every object of its own with this key, so this is a marker.
    if (v.$offload === 'blob') return fromBlob(Number.isInteger(v.index) ? blobs[v.index] : undefined, v.type)
    if (v.$offload !== 'object') throw new Error(`offload protocol: unknown marker ${JSON.stringify(v.$offload)}`)
    const inner = v.value
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) throw new Error('offload protocol: an escaped object without an object inside')
    for (const k of Object.keys(inner)) setOwn(inner, k, revive(inner[k], blobs))
    return inner
  }
  for (const k of Object.keys(v)) setOwn(v, k, revive(v[k], blobs))
  return v
}

module.exports = { KIND, DEFAULT_MAX_FRAME, message, encodeFrame, FrameReader, parseFrame, valueOf, pack, unpack }
