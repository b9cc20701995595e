'use strict'
// The pool reads inputs in place, so an input must stay alive until its task settles even when
// the caller keeps no reference to it. These tests drop every reference, force full GCs while
// the task runs, and check the result against a digest computed beforehand.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { Worker } = require('node:worker_threads')
const { hash, hmac, hashMany, compress } = require('..')
const { random } = require('./helpers/data')
const { gc } = require('./helpers/gc')
const { threadTicks, ticksSince } = require('./helpers/proc')
const { until } = require('./helpers/until')

async function churn(promise) {
  let done = false
  promise.finally(() => { done = true }).catch(() => {})
  while (!done) {
    gc()
    // Fresh allocations likely land where a wrongly freed input used to be.
    for (let i = 0; i < 8; i++) random(1 << 20, i + 1).fill(0xee)
    await new Promise((r) => setImmediate(r))
  }
  return promise
}

test('inputs dropped by the caller stay alive until the task settles', async () => {
  const expected = []
  const pending = []
  for (let i = 0; i < 4; i++) {
    const data = random(48 << 20, 100 + i)
    expected.push(crypto.createHash('sha256').update(data).digest('hex'))
    // Natively settled (no signal) and JS-tracked (with a signal) paths both hold inputs.
    pending.push(i % 2 ? hash('sha256', data, { encoding: 'hex' }) : hash('sha256', new Uint8Array(data.buffer, data.byteOffset, data.length), { encoding: 'hex', signal: new AbortController().signal }))
  }
  const got = await churn(Promise.all(pending))
  assert.deepEqual(got, expected)
})

// Builds the inputs inside, so nothing outside this function can keep them alive.
function startWithoutKeepingInputs() {
  const key = random(1 << 20, 7)
  const data = random(32 << 20, 8)
  const parts = [random(8 << 20, 9), random(8 << 20, 10)]
  const text = Buffer.alloc(16 << 20, 'offload ')
  const expected = [
    crypto.createHmac('sha512', key).update(data).digest('hex'),
    parts.map((p) => crypto.createHash('sha1').update(p).digest('hex')),
  ]
  const promise = Promise.all([
    hmac('sha512', key, data, { encoding: 'hex' }),
    hashMany('sha1', parts, { encoding: 'hex' }),
    compress('gzip', text, { level: 1 }),
  ])
  return { promise, expected }
}

test('hmac keys, hashMany lists and compress inputs are held too', async () => {
  const { promise, expected } = startWithoutKeepingInputs()
  const results = await churn(promise)
  assert.equal(results[0], expected[0])
  assert.deepEqual(results[1], expected[1])
  assert.ok(require('node:zlib').gunzipSync(results[2]).equals(Buffer.alloc(16 << 20, 'offload ')))
})

test("terminating a worker mid-task cancels its work: terminate() is quick and the worker's pool threads go idle", async () => {
  // The fixture's pool runs a hash over 1 GiB of the worker's own memory (seconds of work) and
  // a 60 s spin, with 7 more spins queued. Teardown must stop the hash before V8 frees that
  // memory (so terminate() waits for it) and cancel the spins.
  const name = 'wterm'
  const prefix = `offload-${name}-`
  const w = new Worker(path.join(__dirname, 'fixtures', 'worker-hash.js'), { workerData: { text: 'mid-task', name } })
  const messages = []
  const started = await new Promise((resolve, reject) => {
    w.on('message', (m) => { messages.push(m); if (m.started) resolve(m) })
    w.on('error', reject)
  })
  assert.equal(messages[0].digest, crypto.createHash('sha256').update('mid-task').digest('hex'))
  const { running, queued, completed } = started.stats
  assert.deepEqual({ running, queued, completed }, { running: 2, queued: 7, completed: 0 })
  // The samples below can see these threads: their CPU time grows while they work.
  const working = threadTicks(prefix)
  assert.equal(working.size, 2, 'the worker pool has two threads')
  await until(() => ticksSince(working, threadTicks(prefix)) >= 4, "the worker pool's threads to use CPU", 20_000)

  const t0 = performance.now()
  assert.equal(await w.terminate(), 1)
  const terminateMs = performance.now() - t0
  assert.ok(!messages.some((m) => m.hashed), 'the hash was still running when terminate() was called')
  // Uncancelled, the hash alone would hold terminate() for seconds (teardown waits for it).
  assert.ok(terminateMs < 2000, `terminate() took ${terminateMs.toFixed(0)} ms`)

  // Idle threads use no CPU at all. A spin left running at nice 0 uses most of a core even on
  // a loaded 2-core machine, 25+ ticks per thread in this window; 10 ticks (100 ms) over both
  // threads leaves room for stray accounting, not for a spinning thread.
  const before = threadTicks(prefix)
  await sleep(1000) // the measurement window, not sequencing
  const used = ticksSince(before, threadTicks(prefix))
  assert.ok(used <= 10, `the worker's pool threads used ${used} ticks of CPU in the second after terminate()`)
})
