'use strict'
// The process-pool wire format (docs/protocol.md): values with binary data anywhere round-trip
// exactly, frames split across arbitrary chunk boundaries reassemble, and corrupt frames are
// refused rather than misread.
const test = require('node:test')
const assert = require('node:assert/strict')
const { KIND, message, FrameReader, parseFrame, valueOf, pack, unpack } = require('../lib/process-pool/protocol')

function roundTrip(value) {
  const frame = Buffer.concat(message(KIND.run, 42, 'payload', value, { name: 'task' }))
  const [parsed] = new FrameReader().push(frame)
  assert.equal(parsed.kind, KIND.run)
  assert.equal(parsed.id, 42)
  assert.equal(parsed.header.name, 'task')
  return valueOf(parsed, 'payload')
}

test('JSON values and binary values anywhere round-trip', () => {
  const buf = Buffer.from('hello')
  const floats = new Float64Array([1.5, -2, Math.PI])
  const view = new Uint16Array(new Uint8Array([0, 1, 2, 3, 4, 5, 6]).buffer, 2, 2)
  const value = {
    n: 1, s: 'x', list: [1, 'two', null, { deep: buf }], floats, view,
    ab: new Uint8Array([9, 8]).buffer, dv: new DataView(new Uint8Array([7]).buffer),
    big: Buffer.alloc(1024 * 1024, 7), dropped: undefined,
  }
  const back = roundTrip(value)
  assert.ok(Buffer.isBuffer(back.list[3].deep) && back.list[3].deep.equals(buf))
  assert.ok(back.floats instanceof Float64Array)
  assert.deepEqual([...back.floats], [...floats])
  assert.ok(back.view instanceof Uint16Array)
  assert.deepEqual([...back.view], [...view])
  assert.ok(back.ab instanceof ArrayBuffer)
  assert.deepEqual([...new Uint8Array(back.ab)], [9, 8])
  assert.ok(back.dv instanceof DataView && back.dv.getUint8(0) === 7)
  assert.equal(back.big.length, 1024 * 1024)
  assert.ok(back.big.every((b) => b === 7))
  assert.deepEqual([back.n, back.s, back.list[2], 'dropped' in back], [1, 'x', null, false])
  assert.equal(roundTrip(undefined), undefined)
  assert.equal(roundTrip('plain'), 'plain')
  assert.ok(roundTrip(buf).equals(buf))
})

test('objects that look like markers are escaped, not misread', () => {
  const tricky = { $offload: 'blob', index: 0, type: 'Buffer', inner: { $offload: { $offload: 'object' } } }
  assert.deepEqual(roundTrip(tricky), tricky)
  const blobs = []
  assert.deepEqual(unpack(pack([tricky, Buffer.from('z')], blobs), blobs.map((b) => Buffer.from(b))), [tricky, Buffer.from('z')])
})

test('frames reassemble across any chunking, several per chunk', () => {
  const frames = [
    ...message(KIND.result, 1, 'value', { a: Buffer.from('one') }),
    ...message(KIND.error, 2, 'error', { name: 'TypeError', message: 'bad', props: { status: 422 } }),
    ...message(KIND.ready, 0, 'value', undefined, { protocol: 1, pid: 123 }),
  ]
  const bytes = Buffer.concat(frames)
  for (const size of [1, 2, 7, 13, 64, bytes.length]) {
    const reader = new FrameReader()
    const got = []
    for (let i = 0; i < bytes.length; i += size) got.push(...reader.push(bytes.subarray(i, i + size)))
    assert.deepEqual(got.map((f) => [f.kind, f.id]), [[KIND.result, 1], [KIND.error, 2], [KIND.ready, 0]])
    assert.ok(valueOf(got[0], 'value').a.equals(Buffer.from('one')))
    assert.equal(valueOf(got[1], 'error').props.status, 422)
    assert.deepEqual([got[2].header.protocol, got[2].header.pid], [1, 123])
  }
})

test('corrupt frames are refused', () => {
  const good = Buffer.concat(message(KIND.result, 1, 'value', Buffer.from('abc')))
  const shortHeader = Buffer.from(good)
  shortHeader.writeUInt32LE(10_000, 9) // header longer than the frame
  assert.throws(() => parseFrame(shortHeader), /header longer than its frame/)
  const badBlobs = Buffer.from(good)
  badBlobs.writeUInt32LE(good.readUInt32LE(0) - 1, 0)
  assert.throws(() => parseFrame(badBlobs.subarray(0, badBlobs.length - 1)), /blob lengths/)
  const extra = Buffer.concat([good, Buffer.from([0])])
  extra.writeUInt32LE(good.readUInt32LE(0) + 1, 0)
  assert.throws(() => parseFrame(extra), /left over/)
})

test('a length prefix over the limit is refused at once, not buffered towards', () => {
  const prefix = Buffer.alloc(4)
  prefix.writeUInt32LE(2 ** 31, 0)
  assert.throws(() => new FrameReader().push(prefix), /over the 1073741824-byte limit/)
  const small = new FrameReader(16)
  assert.throws(() => small.push(Buffer.concat(message(KIND.result, 1, 'value', 'x'.repeat(64)))), /over the 16-byte limit/)
})

test('binary values are never expanded through toJSON (a Buffer would become an array of numbers first)', () => {
  const buf = Buffer.from('bytes')
  buf.toJSON = () => { throw new Error('expanded through toJSON') }
  const typed = new Float32Array([1.5])
  typed.toJSON = buf.toJSON
  const frame = parseFrame(Buffer.concat(message(KIND.run, 1, 'payload', { buf, list: [typed], when: new Date(0) })))
  const back = valueOf(frame, 'payload')
  assert.deepEqual(back.buf, Buffer.from('bytes'))
  assert.deepEqual([...back.list[0]], [1.5])
  assert.equal(back.when, '1970-01-01T00:00:00.000Z')
  const cyclic = { buf }
  cyclic.self = cyclic
  assert.throws(() => message(KIND.run, 1, 'payload', cyclic), { name: 'TypeError', message: /circular/ })
})

test('a corrupt frame still hands over the good frames before it', () => {
  const good = Buffer.concat(message(KIND.result, 7, 'value', 'kept'))
  const bad = Buffer.alloc(17)
  bad.writeUInt32LE(13, 0) // a frame whose header length points past its end
  bad.writeUInt32LE(1000, 9)
  const err = (() => {
    try {
      new FrameReader().push(Buffer.concat([good, bad]))
    } catch (e) {
      return e
    }
  })()
  assert.match(err.message, /header longer than its frame/)
  assert.equal(err.frames.length, 1)
  assert.equal(valueOf(err.frames[0], 'value'), 'kept')
})

// The error message() throws for `value`, encoded under `field`.
function refusal(value, field = 'payload') {
  try {
    message(KIND.run, 1, field, value)
  } catch (err) {
    return err
  }
  return assert.fail(`${field} was encoded`)
}

test('values JSON would silently change are refused with ERR_INVALID_ARG_TYPE, naming their path', () => {
  class Point {
    constructor() { this.x = 1 }
  }
  const cases = [
    [{ items: [0, 1, 2, { cache: new Map([[1, 2]]) }] }, 'payload.items[3].cache', /an instance of Map/],
    [{ tags: new Set(['a']) }, 'payload.tags', /an instance of Set/],
    [{ shared: new SharedArrayBuffer(8) }, 'payload.shared', /SharedArrayBuffer/],
    [{ n: 10n }, 'payload.n', /type bigint/],
    [{ f() {} }, 'payload.f', /function f/],
    [{ list: [() => 1] }, 'payload.list[0]', /function/],
    [{ s: Symbol('x') }, 'payload.s', /type symbol/],
    [{ p: new Point() }, 'payload.p', /an instance of Point/],
    [{ e: new Error('x') }, 'payload.e', /an instance of Error/],
    [{ 'odd key': { r: /x/ } }, 'payload["odd key"].r', /an instance of RegExp/],
    [{ w: new WeakMap() }, 'payload.w', /an instance of WeakMap/],
    [new Map(), 'payload', /an instance of Map/],
    [10n, 'payload', /type bigint/],
    [() => {}, 'payload', /function/],
    [{ viaToJSON: { toJSON: () => new Set() } }, 'payload.viaToJSON', /an instance of Set/],
  ]
  for (const [value, path, received] of cases) {
    // Both encoders: JSON.stringify's fast path, and the walk that a Buffer elsewhere forces.
    for (const v of [value, [value, Buffer.from('b')]]) {
      const err = refusal(v)
      const where = v === value ? path : path.replace(/^payload/, 'payload[0]')
      assert.equal(err.code, 'ERR_INVALID_ARG_TYPE', `${where}: ${err.message}`)
      assert.ok(err instanceof TypeError)
      assert.ok(err.message.includes(`"${where}"`), `${where} not named in: ${err.message}`)
      assert.match(err.message, received)
    }
  }
  // Results are named as results.
  assert.ok(refusal({ m: new Map() }, 'value').message.includes('"result.m"'))
  const cyclic = { list: [] }
  cyclic.list.push(cyclic)
  const err = refusal(cyclic)
  assert.equal(err.code, 'ERR_INVALID_ARG_VALUE')
  assert.match(err.message, /'payload\.list\[0\]' is circular/)
})

test('what JSON semantics do change is documented, and pinned here', () => {
  const vm = require('node:vm')
  class Bytes extends Float64Array {}
  const shared = new Int32Array(new SharedArrayBuffer(8))
  shared[1] = -7
  const value = {
    gone: undefined, // an undefined property is left out (reads back as undefined)
    list: [undefined, NaN, Infinity, -Infinity, -0, 1.5], // undefined, NaN, ±Infinity: null; -0: 0
    holes: [1, , 3], // eslint-disable-line no-sparse-arrays
    when: new Date(0), // toJSON is honoured: an ISO string
    custom: { toJSON: () => ({ fromToJSON: true }) },
    bare: Object.assign(Object.create(null), { a: 1 }), // null-prototype objects are plain
    realm: vm.runInNewContext('({ b: [2] })'), // so are plain objects from another realm
    sub: Bytes.of(1.5, 2.5), // a TypedArray subclass travels as its built-in class
    shared, // a TypedArray over a SharedArrayBuffer travels as a copy of its bytes
  }
  for (const v of [value, { ...value, buf: Buffer.from('force the walk') }]) {
    const back = roundTrip(v)
    assert.equal('gone' in back, false)
    assert.deepEqual(back.list, [null, null, null, null, 0, 1.5])
    assert.ok(!Object.is(back.list[4], -0))
    assert.deepEqual(back.holes, [1, null, 3])
    assert.equal(back.when, '1970-01-01T00:00:00.000Z')
    assert.deepEqual(back.custom, { fromToJSON: true })
    assert.deepEqual({ ...back.bare }, { a: 1 })
    assert.deepEqual(back.realm, { b: [2] })
    assert.equal(back.sub.constructor, Float64Array)
    assert.deepEqual([...back.sub], [1.5, 2.5])
    assert.equal(back.shared.constructor, Int32Array)
    assert.ok(back.shared.buffer instanceof ArrayBuffer)
    assert.deepEqual([...back.shared], [0, -7])
  }
})

// A result frame whose header is `header` (an object) followed by `blobs`, as a worker would
// send it, decoded as the pool decodes it.
function decodeResult(header, blobs = []) {
  const frame = Buffer.concat(require('../lib/process-pool/protocol').encodeFrame(KIND.result, 1, JSON.stringify(header), blobs))
  return valueOf(parseFrame(frame), 'value')
}

test('the decoder refuses malformed blobs and unknown markers instead of guessing', () => {
  const blob = (type, bytes, index = 0) => decodeResult({ blobs: [bytes], value: { $offload: 'blob', index, type } }, [Buffer.alloc(bytes)])
  assert.deepEqual([...blob('Float64Array', 16)], [0, 0])
  assert.throws(() => blob('Float64Array', 3), /a Float64Array blob of 3 bytes is not a whole number of 8-byte elements/)
  assert.throws(() => blob('Uint32Array', 6), /Uint32Array blob of 6 bytes/)
  assert.throws(() => blob('BigInt64Array', 4), /BigInt64Array blob of 4 bytes/)
  assert.throws(() => blob('Float128Array', 16), /unknown blob type "Float128Array"/)
  assert.throws(() => blob(undefined, 1), /unknown blob type undefined/)
  assert.throws(() => blob('Buffer', 1, 1), /points past the blobs/)
  assert.throws(() => blob('Buffer', 1, 0.5), /points past the blobs/)
  assert.throws(() => decodeResult({ blobs: [], value: { $offload: 'map', entries: [] } }), /unknown marker "map"/)
  assert.throws(() => decodeResult({ blobs: [], value: { $offload: 'object', value: null } }), /escaped object/)
  // Without markers in the text, values pass as they are.
  assert.deepEqual(decodeResult({ blobs: [], value: { a: [1] } }), { a: [1] })
})
