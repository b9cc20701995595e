'use strict'
// ThreadPool payloads and results that move or share memory: big views move without a copy
// (the sender's view is detached), small ones are copied, `transfer` moves or keeps what the
// caller says, SharedArrayBuffers are the same memory on both sides (Atomics work across the
// pool), MessagePorts travel when listed. Digests are checked against node:crypto.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const path = require('node:path')
const { MessageChannel } = require('node:worker_threads')
const { once } = require('node:events')
const { ThreadPool } = require('..')

const SCRIPT = path.join(__dirname, 'fixtures', 'thread-transfer.js')
const KiB = 1024
const MiB = 1024 * KiB

const sha = (view) => crypto.createHash('sha256').update(new Uint8Array(view.buffer, view.byteOffset, view.byteLength)).digest('hex')
function pattern(n, seed) {
  const b = Buffer.allocUnsafe(n)
  for (let i = 0; i < n; i++) b[i] = (i * 7 + seed) & 255
  return b
}

let pool
test.before(() => { pool = new ThreadPool({ script: SCRIPT, threads: 2 }) })
test.after(() => pool.destroy())

test('a big Buffer moves: the caller\'s view is detached, the worker gets the bytes in a buffer of its own', async () => {
  const big = pattern(MiB, 1)
  const want = sha(big)
  const running = pool.run({ big }, { name: 'inspect' })
  assert.equal(big.length, 0, 'the sender\'s view is detached at run()')
  const got = await running
  assert.deepEqual(got.big, { ctor: 'Buffer', byteOffset: 0, byteLength: MiB, bufferLength: MiB, shared: false, sha: want })
})

test('a view moves its whole ArrayBuffer: offsets kept, two views of one buffer stay one buffer', async () => {
  const ab = new ArrayBuffer(2 * MiB)
  new Uint8Array(ab).set(pattern(2 * MiB, 3))
  const f = new Float64Array(ab, 8, 100_000)
  const d = new DataView(ab, 16, 64 * KiB)
  const want = { f: sha(f), d: sha(d) }
  const got = await pool.run({ f, d }, { name: 'inspect' })
  assert.equal(ab.byteLength, 0)
  assert.deepEqual(got.f, { ctor: 'Float64Array', byteOffset: 8, byteLength: 800_000, bufferLength: 2 * MiB, shared: false, sha: want.f })
  assert.deepEqual(got.d, { ctor: 'DataView', byteOffset: 16, byteLength: 64 * KiB, bufferLength: 2 * MiB, shared: false, sha: want.d })
  const ab2 = new ArrayBuffer(MiB)
  assert.equal(await pool.run({ a: new Uint8Array(ab2, 0, MiB / 2), b: new Int32Array(ab2, MiB / 2) }, { name: 'sameBuffer' }), true)
})

test('small views are copied and stay with the caller; every typed array class round-trips', async () => {
  const values = {
    buf: pattern(100, 5),
    u8: new Uint8Array([1, 2, 255]),
    c8: new Uint8ClampedArray([0, 128, 255]),
    i16: new Int16Array([-1, 2, -3]),
    u32: new Uint32Array([2 ** 32 - 1]),
    f32: new Float32Array([1.5, -0]),
    f64: new Float64Array([Math.PI, NaN, -Infinity]),
    i64: new BigInt64Array([-(2n ** 63n)]),
    u64: new BigUint64Array([2n ** 64n - 1n]),
    dv: new DataView(new Uint8Array([9, 8, 7, 6]).buffer, 1, 2),
  }
  const oracle = structuredClone(values)
  const got = await pool.run(values, { name: 'echo' })
  assert.equal(values.buf.length, 100, 'small views are not detached')
  for (const [k, v] of Object.entries(oracle)) {
    assert.equal(got[k].constructor, k === 'buf' ? Buffer : v.constructor, k)
    assert.deepEqual(new Uint8Array(got[k].buffer, got[k].byteOffset, got[k].byteLength), new Uint8Array(v.buffer, v.byteOffset, v.byteLength), k)
  }
  // The same classes at a size that moves, both ways.
  for (const C of [Uint8Array, Int16Array, Float32Array, Float64Array, BigInt64Array]) {
    const n = (256 * KiB) / C.BYTES_PER_ELEMENT
    const v = new C(n)
    for (let i = 0; i < n; i += 997) v[i] = C === BigInt64Array ? BigInt(i) : i
    const copy = v.slice()
    const back = await pool.run(v, { name: 'echo' })
    assert.equal(v.length, 0, `${C.name} moved`)
    assert.equal(back.constructor, C)
    assert.deepEqual(back, copy)
  }
})

test('a big result moves back: a Buffer of its own, and the handler\'s view of it is detached', async () => {
  const got = await pool.run(3 * MiB + 5, { name: 'big' })
  assert.ok(Buffer.isBuffer(got))
  assert.equal(got.byteOffset, 0)
  assert.equal(got.buffer.byteLength, 3 * MiB + 5)
  const want = Buffer.alloc(3 * MiB + 5)
  for (let i = 0; i < want.length; i++) want[i] = (i * 31) & 255
  assert.ok(got.equals(want))
  const one = new ThreadPool({ script: SCRIPT, threads: 1 })
  try {
    await one.run(MiB, { name: 'big' })
    assert.equal(await one.run(undefined, { name: 'keptLength' }), 0)
    await one.run(1000, { name: 'big' })
    assert.equal(await one.run(undefined, { name: 'keptLength' }), 1000, 'small results are copied')
  } finally {
    await one.destroy()
  }
})

test('transfer: false copies big views; transfer: [ab] moves a small ArrayBuffer; bad lists are refused', async () => {
  const big = pattern(MiB, 9)
  const got = await pool.run({ big }, { name: 'inspect', transfer: false })
  assert.equal(big.length, MiB, 'kept')
  assert.equal(got.big.sha, sha(big))
  const ab = new Uint8Array([1, 2, 3, 4]).buffer
  const moved = await pool.run({ ab, view: new Uint8Array(ab, 1, 2) }, { name: 'inspect', transfer: [ab] })
  assert.equal(ab.byteLength, 0)
  assert.deepEqual(moved.ab, { ctor: 'ArrayBuffer', byteLength: 4 })
  assert.equal(moved.view.bufferLength, 4)
  for (const [transfer, code, what] of [
    ['yes', 'ERR_INVALID_ARG_TYPE', /options\.transfer/],
    [[new Uint8Array(4)], 'ERR_INVALID_ARG_TYPE', /options\.transfer\[0\]/],
    [[{}], 'ERR_INVALID_ARG_TYPE', /options\.transfer\[0\]/],
  ]) {
    await assert.rejects(pool.run({}, { name: 'echo', transfer }), (e) => e.code === code && what.test(e.message))
  }
})

test('SharedArrayBuffer: the same memory on every thread, so Atomics count across the pool', async () => {
  const counts = new Int32Array(new SharedArrayBuffer(8))
  const results = await Promise.all(Array.from({ length: 400 }, (_, k) => pool.run({ counts, i: k % 2 }, { name: 'add' })))
  assert.deepEqual([...counts], [200, 200])
  assert.deepEqual(results.filter((r) => r === 199).length, 2, 'each increment saw the others')
  const sab = new SharedArrayBuffer(4)
  await Promise.all(Array.from({ length: 50 }, () => pool.run({ sab }, { name: 'addBare' })))
  assert.equal(new Int32Array(sab)[0], 50)
  const one = new ThreadPool({ script: SCRIPT, threads: 1 })
  try {
    const mine = await one.run(undefined, { name: 'makeShared' })
    assert.equal(mine.buffer instanceof SharedArrayBuffer, true)
    await one.run(undefined, { name: 'bumpShared' })
    await one.run(undefined, { name: 'bumpShared' })
    assert.equal(Atomics.load(mine, 0), 2, 'the worker\'s shared memory, seen from here')
  } finally {
    await one.destroy()
  }
})

test('a MessagePort travels when listed in transfer, and is refused with a clear error when not', async () => {
  const { port1, port2 } = new MessageChannel()
  const heard = once(port1, 'message')
  await pool.run({ port: port2 }, { name: 'greet', transfer: [port2] })
  assert.deepEqual(await heard, ['hello from the worker'])
  port1.close()
  const c = new MessageChannel()
  await assert.rejects(pool.run({ port: c.port2 }, { name: 'greet' }), (e) => e.code === 'ERR_INVALID_ARG_VALUE' && /payload/.test(e.message))
  c.port1.close()
  c.port2.close()
})

test('the queue keeps the moved memory of tasks waiting behind busy threads, in order', async () => {
  const inputs = Array.from({ length: 40 }, (_, k) => pattern(128 * KiB + k, k))
  const want = inputs.map(sha)
  const got = await Promise.all(inputs.map((b) => pool.run({ b }, { name: 'inspect' })))
  assert.deepEqual(got.map((g) => g.b.sha), want)
  assert.ok(inputs.every((b) => b.length === 0))
})
