'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const path = require('node:path')
const { execFileSync } = require('node:child_process')
const { Worker } = require('node:worker_threads')
const { hash } = require('..')

const fixture = (name) => path.join(__dirname, 'fixtures', name)

test('works inside worker_threads, and terminating a worker with work in flight is safe', async () => {
  for (let round = 0; round < 3; round++) {
    const w = new Worker(fixture('worker-hash.js'), { workerData: { text: `round ${round}` } })
    const messages = []
    await new Promise((resolve, reject) => {
      w.on('message', (m) => { messages.push(m); if (m.started) resolve() })
      w.on('error', reject)
    })
    assert.equal(messages[0].digest, crypto.createHash('sha256').update(`round ${round}`).digest('hex'))
    assert.equal(await w.terminate(), 1)
  }
  // The main thread's pool is unaffected.
  assert.equal(await hash('sha256', 'after', { encoding: 'hex' }), crypto.createHash('sha256').update('after').digest('hex'))
})

test('the process exits by itself once its tasks settle', () => {
  const out = execFileSync(process.execPath, [fixture('exit-with-pending.js')], { encoding: 'utf8', timeout: 20_000 })
  assert.equal(out.trim(), crypto.createHash('sha256').update('x').digest('hex'))
})

test('loads from ESM with named imports', () => {
  const script = "import { hash, Pool } from 'offload'; import * as t from 'offload/testing'; " +
    "const d = await hash('sha256', 'esm', { encoding: 'hex' }); await t.noop(); console.log(d, typeof Pool)"
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], { cwd: path.join(__dirname, '..'), encoding: 'utf8' })
  assert.equal(out.trim(), `${crypto.createHash('sha256').update('esm').digest('hex')} function`)
})
