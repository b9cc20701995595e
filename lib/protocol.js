'use strict'
// The process-pool wire format (docs/protocol.md): length-prefixed frames with a JSON header
// and binary blobs. Buffers and TypedArrays anywhere in a value travel as blobs, not as JSON,
// so a 1 MiB Buffer costs one copy through a pipe. Shared by the parent and `offload/worker`.
const { withCode } = require('./errors')

const KIND = Object.freeze({ run: 1, cancel: 2, ready: 3, result: 4, error: 5 })
const PREFIX = 13 // length u32, kind u8, id u32, headerLength u32
const MAX_FRAME = 0xffffffff
// What the helpers accept by default: larger payloads belong in files, not in a task.
const DEFAULT_MAX_FRAME = 1 << 30

const TYPED = {
  Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array, Uint32Array,
  Float32Array, Float64Array, BigInt64Array, BigUint64Array,
}

// Replaces binary values with markers (collecting them in `blobs`) and escapes objects that
// carry our marker key. Plain JSON semantics otherwise: toJSON is honoured.
function pack(value, blobs) {
  if (plain(value)) return JSON.stringify(value)
  return JSON.stringify(prepare(value, '', blobs, new Set()))
}

// A copy of `v` that JSON.stringify turns into the wire form: binary values become blob
// markers *before* stringify sees them (a Buffer's own toJSON would first expand it into an
// array of numbers, milliseconds per MiB), objects with our marker key are escaped.
// `ancestors` detects cycles, which JSON.stringify would have refused too.
function prepare(v, key, blobs, ancestors) {
  if (v === null || typeof v !== 'object') return v
  if (ArrayBuffer.isView(v) || v instanceof ArrayBuffer) return blobMarker(v, blobs)
  if (typeof v.toJSON === 'function') return prepare(v.toJSON(key), key, blobs, ancestors)
  if (ancestors.has(v)) throw new TypeError('Converting circular structure to JSON')
  ancestors.add(v)
  let out
  if (Array.isArray(v)) {
    out = new Array(v.length)
    for (let i = 0; i < v.length; i++) out[i] = prepare(v[i], String(i), blobs, ancestors)
  } else {
    out = {}
    for (const k of Object.keys(v)) setOwn(out, k, prepare(v[k], k, blobs, ancestors))
    if (Object.hasOwn(v, '$offload')) out = { $offload: 'object', value: out }
  }
  ancestors.delete(v)
  return out
}

// True when plain JSON.stringify gives what `pack` would: no binary values, no objects with
// our marker key, no toJSON that could return one. A replacer function costs more than this
// walk on the small payloads that dominate task traffic; a walk that runs long (big data)
// gives up and lets the replacer do it in one pass.
function plain(value) {
  if (value === null || typeof value !== 'object') return true
  const stack = [value]
  let budget = 256
  while (stack.length > 0) {
    const v = stack.pop()
    if (--budget < 0 || ArrayBuffer.isView(v) || v instanceof ArrayBuffer || typeof v.toJSON === 'function') return false
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) {
        const x = v[i]
        if (x !== null && typeof x === 'object') stack.push(x)
      }
      continue
    }
    for (const k in v) {
      if (k === '$offload') return false
      const x = v[k]
      if (x !== null && typeof x === 'object') stack.push(x)
    }
  }
  return true
}

// `o[k] = v`, except that a key named `__proto__` (as JSON.parse creates it) stays an own
// property instead of replacing the object's prototype.
function setOwn(o, k, v) {
  if (k === '__proto__') Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true })
  else o[k] = v
}

function blobMarker(raw, blobs) {
  let type
  let bytes
  if (raw instanceof ArrayBuffer) {
    type = 'ArrayBuffer'
    bytes = new Uint8Array(raw)
  } else {
    type = Buffer.isBuffer(raw) ? 'Buffer' : raw.constructor.name
    if (type !== 'Buffer' && type !== 'DataView' && !(type in TYPED)) type = 'Uint8Array'
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

function fromBlob(bytes, type) {
  if (bytes === undefined) throw new Error('offload protocol: a blob marker points past the blobs')
  if (type === 'Buffer') return bytes
  // Copy into a fresh, aligned ArrayBuffer: the frame's memory is shared and may be misaligned.
  const copy = new Uint8Array(bytes)
  if (type === 'ArrayBuffer') return copy.buffer
  if (type === 'DataView') return new DataView(copy.buffer)
  const Typed = TYPED[type] ?? Uint8Array
  return new Typed(copy.buffer, 0, copy.byteLength / (Typed.BYTES_PER_ELEMENT ?? 1))
}

// One frame as a list of Buffers for a gathered write: the prefix and header in one Buffer,
// then the blobs (Uint8Arrays, sent in place).
function encodeFrame(kind, id, headerJson, blobs) {
  const headerLength = Buffer.byteLength(headerJson, 'utf8')
  let length = PREFIX - 4 + headerLength
  for (const b of blobs) length += b.byteLength
  if (length > MAX_FRAME) {
    throw withCode(RangeError, 'ERR_OUT_OF_RANGE', `offload protocol: a frame of ${length} bytes is over the 4 GiB limit`)
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

// Encodes `value` under `field` of a header, e.g. message(KIND.result, 7, 'value', 42).
function message(kind, id, field, value, extra) {
  const blobs = []
  const packed = value === undefined ? undefined : pack(value, blobs)
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
    if (v.$offload === 'blob') return fromBlob(blobs[v.index], v.type)
    if (v.$offload === 'object') {
      const inner = v.value
      for (const k of Object.keys(inner)) setOwn(inner, k, revive(inner[k], blobs))
      return inner
    }
  }
  for (const k of Object.keys(v)) setOwn(v, k, revive(v[k], blobs))
  return v
}

module.exports = { KIND, DEFAULT_MAX_FRAME, message, encodeFrame, FrameReader, parseFrame, valueOf, pack, unpack }
