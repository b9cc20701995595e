'use strict'
// What native code may read, and when: a settled promise means the pool no longer touches the
// caller's memory (abort and timeout included), inputs whose memory can shrink under a running
// task are refused, a caller's AbortSignal cannot disturb other tasks, and numeric options are
// refused rather than wrapped.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const path = require('node:path')
const { execFile } = require('node:child_process')
const { promisify } = require('node:util')
const zlib = require('node:zlib')
const { hash, hmac, compress, Pool } = require('..')
const testing = require('offload/testing')
const { within } = require('./helpers/until')

const run = promisify(execFile)
const fixture = path.join(__dirname, 'fixtures', 'abort-then-transfer.js')

for (const mode of ['abort', 'timeout']) {
  test(`after an ${mode} rejects, the input's ArrayBuffer can be transferred and collected`, async () => {
    // A crash (SIGSEGV) here means the kernel read the input after the promise settled.
    const { stdout } = await run(process.execPath, ['--expose-gc', fixture, mode, '12'], { timeout: 60_000 })
    const { latencies } = JSON.parse(stdout)
    assert.ok(latencies.length >= 6, `most rounds were cancelled mid-run: ${latencies.length}`)
    // The extra wait is at most one 256 KiB chunk of sha3-512 (about 1 ms at full speed; a
    // debug build or a loaded machine is several times slower): bounded, not a hang.
    assert.ok(Math.max(...latencies) < 500, latencies.join(', '))
  })
}

test('a task aborted while queued rejects at once: it never ran, so its input is free', async () => {
  const pool = new Pool({ threads: 1, name: 'queued' })
  // A 60 s blocker, aborted at the end: a stalled test thread cannot outlast it.
  const stop = new AbortController()
  const blocker = testing.spin(60_000, { pool, signal: stop.signal }).catch((e) => e.name)
  const ac = new AbortController()
  const p = hash('sha256', Buffer.alloc(1 << 20), { pool, signal: ac.signal })
  let settled = false
  p.catch(() => { settled = true })
  ac.abort(new Error('stop'))
  // Settled within a microtask turn, not after the blocker.
  await new Promise((r) => setImmediate(r))
  assert.equal(settled, true)
  const err = await p.catch((e) => e)
  assert.equal(err.name, 'AbortError')
  assert.equal(err.cause.message, 'stop')
  stop.abort()
  assert.equal(await within(blocker, 5000, 'the aborted blocker'), 'AbortError')
  await pool.close()
})

test('views of resizable ArrayBuffers are refused; growable SharedArrayBuffers are read at their length at the call', async () => {
  const rab = new ArrayBuffer(1024, { maxByteLength: 1 << 20 })
  for (const input of [rab, new Uint8Array(rab), new Uint8Array(rab, 16), new DataView(rab), new Float64Array(rab)]) {
    const err = await hash('sha256', input).catch((e) => e)
    assert.equal(err.code, 'ERR_INVALID_ARG_TYPE', String(input))
    assert.match(err.message, /resizable/)
  }
  const err = await compress('gzip', new Uint8Array(rab), { timeout: 1000 }).catch((e) => e)
  assert.equal(err.code, 'ERR_INVALID_ARG_TYPE')
  const keyErr = await hmac('sha256', new Uint8Array(rab), 'data').catch((e) => e)
  assert.equal(keyErr.code, 'ERR_INVALID_ARG_TYPE')
  assert.match(keyErr.message, /"key"/)

  const gsab = new SharedArrayBuffer(1000, { maxByteLength: 4000 })
  new Uint8Array(gsab).fill(3)
  const p = hash('sha256', new Uint8Array(gsab), { encoding: 'hex' })
  gsab.grow(4000)
  assert.equal(await p, crypto.createHash('sha256').update(Buffer.alloc(1000, 3)).digest('hex'))
})

test('a signal without removeEventListener is refused like Node refuses a non-signal', async () => {
  const fake = { aborted: false, addEventListener() {} }
  const err = await hash('sha256', 'x', { signal: fake }).catch((e) => e)
  assert.equal(err.code, 'ERR_INVALID_ARG_TYPE')
  assert.match(err.message, /options\.signal/)
})

test("a signal whose removeEventListener throws costs no other task its settlement", async () => {
  const pool = new Pool({ threads: 1, name: 'batch' })
  const warnings = []
  const onWarning = (w) => warnings.push(w)
  process.on('warning', onWarning)
  const real = new AbortController().signal
  const hostile = {
    aborted: false,
    addEventListener: real.addEventListener.bind(real),
    removeEventListener() { throw new Error('polyfill bug') },
  }
  // Queued behind a spin, so all of them complete in one batch.
  const blocker = testing.spin(30, { pool })
  const inputs = Array.from({ length: 8 }, (_, i) => `input ${i}`)
  const all = inputs.map((s, i) => hash('sha256', s, { pool, encoding: 'hex', signal: i === 3 ? hostile : undefined, timeout: i === 5 ? 10_000 : undefined }))
  await blocker
  const results = await Promise.race([
    Promise.all(all),
    new Promise((_, reject) => setTimeout(() => reject(new Error('some tasks never settled')), 5000)),
  ])
  assert.deepEqual(results, inputs.map((s) => crypto.createHash('sha256').update(s).digest('hex')))
  await new Promise((r) => setImmediate(r))
  process.off('warning', onWarning)
  assert.ok(warnings.some((w) => w.code === 'OFFLOAD_SIGNAL_CLEANUP'), 'the failure is reported as a warning')
  await pool.close()
})

test('numeric options are refused, never wrapped: compression level', async () => {
  for (const level of [1e300, 2 ** 32 + 9, -1, 9.5, NaN, Infinity]) {
    const err = await compress('gzip', 'data', { level }).catch((e) => e)
    assert.equal(err.code, 'ERR_OUT_OF_RANGE', `level ${level}`)
    assert.match(err.message, /options\.level/)
  }
  for (const level of [0, 9]) {
    const out = await compress('gzip', 'data', { level })
    assert.equal(zlib.gunzipSync(out).toString(), 'data')
  }
})

test('an external string that V8 refuses is copied, and its memory freed exactly once, whichever way the refusal goes', () => {
  // A double free aborts the process (glibc detects it), so a pass here means each failure
  // mode is handled: the finalizer ran before the failure, was never registered, or runs later.
  const text = 'x'.repeat(1000)
  for (const mode of ['finalized', 'unregistered', 'later']) {
    assert.equal(testing.externalStringFailure(mode, text), text, mode)
  }
  assert.equal(testing.runKeptStringFinalizer(), true)
  assert.equal(testing.runKeptStringFinalizer(), false)
})
