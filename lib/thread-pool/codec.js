'use strict'
// How a ThreadPool's payloads and results cross between threads. The value is serialized by
// V8's ValueSerializer (structured-clone rules: Map, Set, Date, BigInt, cycles; functions and
// symbols refused) into bytes that travel through the addon's queue. Buffers and typed arrays
// are written by `_writeHostObject` in one of three ways:
//   - inline: the bytes are copied into the message (views under MOVE_MIN bytes, or all views
//     with `transfer: false`);
//   - moved: the view's ArrayBuffer is transferred, as postMessage's transfer list does it: no
//     copy, and the sender's views of that buffer are detached;
//   - shared: a view of a SharedArrayBuffer arrives as a view of the same memory.
// Moved and shared buffers ("parts") cannot ride in the addon's queue, which carries bytes: they
// travel in one postMessage through the receiving thread's port, which hands memory over between
// V8 isolates without copying. A value holding a bare SharedArrayBuffer or another host object
// (a MessagePort, a KeyObject) travels whole by postMessage, so it follows postMessage's
// structured-clone rules exactly (a Buffer inside arrives as a Uint8Array then).
//
// Values JSON carries exactly (strings, finite numbers other than -0, booleans, null, plain
// objects and dense arrays of those, nested less than JSON_DEPTH deep) skip all of that: they
// travel as JSON text, which costs the event loop's thread no serializer object and no
// ArrayBuffer per task (measured: with 64 no-ops in flight those made every young-generation
// collection take ~3 ms instead of ~0.2, and halved the rate).
//
// The last byte of every message says which: INLINE (bytes only), PARTS (bytes plus parts) or
// WHOLE (the value is in the port message). PARTS and WHOLE are preceded by the sender's thread
// id (4 bytes, little-endian), so a receiver knows whom a missing port message was due from.
const v8 = require('node:v8')

/** Views at least this long move rather than being copied: below it, a copy is cheaper than
 *  a port message (measured: a 64 KiB copy ~10 µs, a port hop ~25 µs on a 2-core EPYC). */
const MOVE_MIN = 64 * 1024

const INLINE = 0
const PARTS = 1
const WHOLE = 2

const VIEWS = [Buffer, Int8Array, Uint8Array, Uint8ClampedArray, Int16Array, Uint16Array, Int32Array,
  Uint32Array, Float32Array, Float64Array, BigInt64Array, BigUint64Array, DataView]
const KIND = new Map(VIEWS.map((c, i) => [c, i]))
// A subclass of Uint8Array other than Buffer arrives as its nearest built-in class.
const kindOf = (view) => KIND.get(view.constructor) ?? VIEWS.findIndex((c) => view instanceof c)
const HOW_INLINE = 0
const HOW_PART = 1

class Encoder extends v8.Serializer {
  /**
   * @param {boolean} move move views of at least MOVE_MIN bytes
   * @param {readonly unknown[] | null} transfer what the caller listed to move
   */
  constructor(move, transfer) {
    super()
    const host = /** @type {any} */ (this)
    host._setTreatArrayBufferViewsAsHostObjects(true)
    this.move = move
    /** @type {unknown[] | null} values for the port message */
    this.parts = null
    /** @type {Map<unknown, number> | null} part -> its index */
    this.ids = null
    this.whole = false
    this.listed = transfer
    if (transfer !== null) for (const t of transfer) if (t instanceof ArrayBuffer) this.part(t)
  }

  /** @param {ArrayBuffer | SharedArrayBuffer} buffer */
  part(buffer) {
    this.parts ??= []
    this.ids ??= new Map()
    let id = this.ids.get(buffer)
    if (id === undefined) {
      id = this.parts.push(buffer) - 1
      this.ids.set(buffer, id)
      // A bare reference to the same buffer elsewhere in the value becomes the moved one too.
      if (buffer instanceof ArrayBuffer) this.transferArrayBuffer(id, buffer)
    }
    return id
  }

  /** @param {any} obj */
  _writeHostObject(obj) {
    if (!ArrayBuffer.isView(obj)) {
      this.whole = true // a MessagePort or another host object: postMessage's rules decide
      return
    }
    const kind = kindOf(obj)
    const buffer = obj.buffer
    const shared = !(buffer instanceof ArrayBuffer)
    if (shared || (this.move && obj.byteLength >= MOVE_MIN) || (this.listed !== null && this.listed.includes(buffer))) {
      this.writeUint32(HOW_PART)
      this.writeUint32(kind)
      this.writeUint32(this.part(buffer))
      this.writeDouble(obj.byteOffset)
      this.writeDouble(obj.byteLength)
    } else {
      this.writeUint32(HOW_INLINE)
      this.writeUint32(kind)
      this.writeUint32(obj.byteLength)
      this.writeRawBytes(new Uint8Array(buffer, obj.byteOffset, obj.byteLength))
    }
  }

  _getSharedArrayBufferId() {
    this.whole = true
    return 0
  }
}

const JSON_DEPTH = 32
// Arrays longer than this are not checked for extra properties (which JSON would drop).
const JSON_ARRAY_MAX = 4096

/** True when JSON.parse(JSON.stringify(v)) is exactly structuredClone(v). @param {unknown} v @param {number} depth */
function jsonExact(v, depth) {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return true
    case 'number':
      return Number.isFinite(v) && !Object.is(v, -0)
    case 'object': {
      if (v === null) return true
      if (depth >= JSON_DEPTH) return false // deep, or a cycle: the serializer keeps its shape
      const proto = Object.getPrototypeOf(v)
      if (Array.isArray(v)) {
        if (proto !== Array.prototype || v.length > JSON_ARRAY_MAX) return false
        // A hole or an undefined reads as undefined (JSON would make it null).
        for (let i = 0; i < v.length; i++) if (!jsonExact(v[i], depth + 1)) return false
        return Object.keys(v).length === v.length
      }
      if (proto !== Object.prototype && proto !== null) return false // class instances, Date, Map, views, …
      const o = /** @type {Record<string, unknown>} */ (v)
      for (const k in o) if (!jsonExact(o[k], depth + 1)) return false
      return true
    }
    default:
      return false // undefined (JSON drops it), bigint, symbol, function
  }
}

/** `value` as JSON text when JSON carries it exactly, else undefined. @param {unknown} value */
function asJson(value) {
  if (value === null) return 'null'
  return jsonExact(value, 0) ? JSON.stringify(value) : undefined
}

/** A message with parts: `bytes` go through the addon, `message` and `transfer` through a port. */
class Outbound {
  /**
   * @param {Buffer} bytes
   * @param {{ parts?: unknown[], value?: unknown }} message
   * @param {any[]} transfer
   */
  constructor(bytes, message, transfer) {
    this.bytes = bytes
    this.message = message
    this.transfer = transfer
  }
}

const trailer = (threadId, mode) => {
  const t = Buffer.allocUnsafe(5)
  t.writeUInt32LE(threadId, 0)
  t[4] = mode
  return t
}

/**
 * Encodes `value`: its bytes when everything is inline, else an Outbound. Throws what V8's
 * serializer throws (a DataCloneError for a function or a symbol).
 * @param {unknown} value
 * @param {boolean} move
 * @param {readonly unknown[] | null} transfer
 * @param {number} threadId the sender's id, for the receiver's bookkeeping
 * @returns {Buffer | Outbound}
 */
function encode(value, move, transfer, threadId) {
  const s = new Encoder(move, transfer)
  s.writeHeader()
  s.writeValue(value)
  const explicit = transfer !== null && transfer.some((t) => !(t instanceof ArrayBuffer))
  if (s.whole || explicit) {
    // Ports and other host objects are only understood by postMessage: the whole value goes.
    const list = transfer === null ? [] : [...transfer]
    if (move && s.parts !== null) for (const p of s.parts) if (p instanceof ArrayBuffer && !list.includes(p)) list.push(p)
    return new Outbound(trailer(threadId, WHOLE), { value }, list)
  }
  if (s.parts === null) {
    s.writeUint32(INLINE)
    return s.releaseBuffer()
  }
  s.writeRawBytes(trailer(threadId, PARTS))
  return new Outbound(s.releaseBuffer(), { parts: s.parts }, s.parts.filter((p) => p instanceof ArrayBuffer))
}

/** What a received message needs: INLINE, PARTS or WHOLE. @param {Uint8Array} bytes */
const modeOf = (bytes) => bytes[bytes.length - 1]

/** The sender's thread id in a PARTS or WHOLE message. @param {Uint8Array} bytes */
const senderOf = (bytes) => (bytes[bytes.length - 5] | (bytes[bytes.length - 4] << 8) | (bytes[bytes.length - 3] << 16) | (bytes[bytes.length - 2] << 24)) >>> 0

class Decoder extends v8.Deserializer {
  /**
   * @param {Uint8Array} bytes
   * @param {unknown[] | undefined} parts
   */
  constructor(bytes, parts) {
    super(bytes)
    this.parts = parts
    if (parts !== undefined) parts.forEach((p, i) => { if (p instanceof ArrayBuffer) this.transferArrayBuffer(i, p) })
  }

  _readHostObject() {
    const how = this.readUint32()
    const Ctor = VIEWS[this.readUint32()]
    if (Ctor === undefined || (how === HOW_PART && this.parts === undefined)) throw new Error('offload: malformed thread pool message')
    const size = Ctor === DataView ? 1 : /** @type {any} */ (Ctor).BYTES_PER_ELEMENT
    let buffer, byteOffset, byteLength
    if (how === HOW_PART) {
      buffer = /** @type {ArrayBuffer} */ (/** @type {unknown[]} */ (this.parts)[this.readUint32()])
      byteOffset = this.readDouble()
      byteLength = this.readDouble()
    } else {
      byteLength = this.readUint32()
      const bytes = /** @type {any} */ (this).buffer
      byteOffset = bytes.byteOffset + /** @type {any} */ (this)._readRawBytes(byteLength)
      buffer = bytes.buffer
      if (byteOffset % size !== 0) {
        // Misaligned for its element size: the view gets a copy of its own.
        buffer = buffer.slice(byteOffset, byteOffset + byteLength)
        byteOffset = 0
      }
    }
    if (Ctor === Buffer) return Buffer.from(buffer, byteOffset, byteLength)
    if (Ctor === DataView) return new DataView(buffer, byteOffset, byteLength)
    return new /** @type {any} */ (Ctor)(buffer, byteOffset, byteLength / size)
  }
}

/**
 * Decodes a message; `port` is the port message for PARTS and WHOLE (undefined for INLINE).
 * @param {Uint8Array} bytes
 * @param {{ parts?: unknown[], value?: unknown } | undefined} port
 */
function decode(bytes, port) {
  if (modeOf(bytes) === WHOLE) return /** @type {any} */ (port).value
  const d = new Decoder(bytes, port?.parts)
  d.readHeader()
  return d.readValue()
}

/**
 * Takes ownership of an Outbound's memory now: moved buffers are detached from the caller's
 * views and later changes to the value do not reach the task (a task may wait in the queue).
 * Throws a DataCloneError where postMessage would (a MessagePort not listed in `transfer`).
 * @param {Outbound} out
 */
function detach(out) {
  const n = out.transfer.length
  const held = structuredClone([out.message, ...out.transfer], { transfer: out.transfer })
  out.message = held[0]
  out.transfer = held.slice(1, 1 + n)
  return out
}

module.exports = { asJson, INLINE, Outbound, encode, decode, detach, modeOf, senderOf }
