'use strict'
// The pool reads inputs in place, so an input must stay alive until its task settles even when
// the caller keeps no reference to it. These tests drop every reference, force full GCs while
// the task runs, and check the result against a digest computed beforehand.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const { hash, hmac, hashMany, compress } = require('..')
const { random } = require('./helpers/data')
const { gc } = require('./helpers/gc')

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
