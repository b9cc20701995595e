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

test('a second copy of the JS modules (as Jest loads them per test file) shares the channel', async () => {
  const root = path.join(__dirname, '..')
  const first = require('..')
  const ours = (f) => f.startsWith(root) && f.endsWith('.js') && !f.includes('node_modules')
  for (const f of Object.keys(require.cache)) if (ours(f)) delete require.cache[f]
  const second = require('..')
  assert.notEqual(first.hash, second.hash, 'really a second copy')
  const signal = new AbortController().signal // forces the JS-tracked path
  const expected = crypto.createHash('sha256').update('twice').digest('hex')
  const results = await Promise.all([
    first.hash('sha256', 'twice', { encoding: 'hex', signal }),
    second.hash('sha256', 'twice', { encoding: 'hex', signal }),
    first.hash('sha256', 'twice', { encoding: 'hex' }),
    second.hash('sha256', 'twice', { encoding: 'hex' }),
    second.hashMany('sha256', ['twice'], { encoding: 'hex' }).then((r) => r[0]),
  ])
  assert.deepEqual(results, Array(5).fill(expected))
})

test('a getter on the options that calls offload cannot steal the outer call\'s slot', async () => {
  const signal = new AbortController().signal
  let inner
  const options = {
    signal,
    get encoding() {
      inner ??= hash('md5', 'inner', { encoding: 'hex', signal })
      return 'hex'
    },
  }
  const outer = await hash('sha1', 'outer', options)
  assert.equal(outer, crypto.createHash('sha1').update('outer').digest('hex'))
  assert.equal(await inner, crypto.createHash('md5').update('inner').digest('hex'))
})
