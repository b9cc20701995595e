'use strict'
// hostBudget: slots shared with another real process (a holder killed with SIGKILL gives them
// back), Pool, ThreadPool and ProcessPool waiting for a slot without running, abort, timeout and
// maxQueue while waiting, the option's checks, the private directory, OFFLOAD_HOST_BUDGET, and
// the metrics. The fleet test (host-budget-fleet.test.js) checks the bound across processes.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn, execFileSync } = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { Pool, ThreadPool, ProcessPool, hash, metrics } = require('..')
const { spin } = require('../lib/cpu/testing')
const { until } = require('./helpers/until')

const HOLDER = path.join(__dirname, 'fixtures', 'budget-holder.js')
const THREAD_WORKER = path.join(__dirname, 'fixtures', 'thread-worker.js')
const PROCESS_WORKER = path.join(__dirname, 'fixtures', 'pool-worker.js')

function privateDir() {
  const d = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-budget-'))
  fs.chmodSync(d, 0o700)
  return d
}

// A process holding every slot of budget `name` until killed.
async function holder(dir, name, slots) {
  const child = spawn(process.execPath, [HOLDER, dir, name, String(slots)], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d) => { out += d })
  await until(() => out.includes('held') || child.exitCode !== null, 'the holder to take its slots', 20_000)
  assert.equal(child.exitCode, null, 'the holder exited')
  return child
}

async function killed(child) {
  const exit = new Promise((resolve) => child.once('exit', resolve))
  child.kill('SIGKILL')
  await exit
}

const settledWithin = (promise, ms) => Promise.race([promise.then(() => true, () => true), new Promise((resolve) => setTimeout(resolve, ms, false))])

test('a Pool task waits while another process holds every slot, and runs once that process is killed', async () => {
  const dir = privateDir()
  const other = await holder(dir, 'cpu', 2)
  const pool = new Pool({ threads: 2, hostBudget: { name: 'cpu', dir } })
  try {
    const data = crypto.randomBytes(1 << 16)
    const task = hash('sha256', data, { pool, encoding: 'hex' })
    assert.equal(await settledWithin(task, 300), false, 'it ran without a slot')
    const s = pool.stats()
    assert.equal(s.hostBudget.slots, 2, 'the count in force')
    assert.equal(s.hostBudget.heldAnywhere, 2)
    assert.equal(s.hostBudget.held, 0)
    assert.ok(s.hostBudget.waiting >= 1)
    assert.equal(s.running, 0)
    const t0 = performance.now()
    await killed(other)
    assert.equal(await task, crypto.createHash('sha256').update(data).digest('hex'))
    console.log(`# slot back and task done ${(performance.now() - t0).toFixed(1)} ms after SIGKILL`)
    assert.ok(pool.stats().hostBudget.waited >= 1)
  } finally {
    other.kill('SIGKILL')
    await pool.close()
  }
})

test('ThreadPool and ProcessPool tasks wait for a slot; abort, timeout and maxQueue end the wait', async () => {
  const dir = privateDir()
  const other = await holder(dir, 'js', 1)
  const tp = new ThreadPool({ script: THREAD_WORKER, threads: 1, maxQueue: 2, hostBudget: { name: 'js', dir } })
  const pp = new ProcessPool({ script: PROCESS_WORKER, size: 1, hostBudget: { name: 'js', dir } })
  try {
    const waiting = tp.run('first', { name: 'echo' })
    const viaProcess = pp.run('second', { name: 'echo' })
    const ac = new AbortController()
    const aborted = tp.run('never', { name: 'echo', signal: ac.signal })
    // maxQueue 2: a third waiting task of the thread pool is refused.
    await assert.rejects(tp.run('refused', { name: 'echo' }), { code: 'ERR_OFFLOAD_QUEUE_FULL' })
    ac.abort(new Error('changed my mind'))
    await assert.rejects(aborted, (err) => err.name === 'AbortError' && err.cause.message === 'changed my mind')
    await assert.rejects(tp.run('late', { name: 'echo', timeout: 50 }), { code: 'ERR_OFFLOAD_TIMEOUT' })
    assert.equal(await settledWithin(waiting, 200), false, 'it ran without a slot')
    assert.equal(tp.stats().hostBudget.waiting, 2)
    assert.equal(tp.stats().completed, 0)
    await killed(other)
    assert.equal(await waiting, 'first')
    assert.equal(await viaProcess, 'second')
    // Every slot went back after its task.
    await until(() => tp.stats().hostBudget.held === 0, 'the slots to go back', 10_000)
    assert.equal(tp.stats().hostBudget.heldAnywhere, 0)
  } finally {
    other.kill('SIGKILL')
    await tp.close()
    await pp.close()
  }
})

test('hostBudget is checked, naming the option and the value', () => {
  const dir = privateDir()
  const bad = [
    [{ hostBudget: 'web' }, 'ERR_INVALID_ARG_TYPE', /options\.hostBudget/],
    [{ hostBudget: { slots: 2 } }, 'ERR_INVALID_ARG_TYPE', /options\.hostBudget\.name/],
    [{ hostBudget: { name: '../up', dir } }, 'ERR_INVALID_ARG_VALUE', /"\.\.\/up"/],
    [{ hostBudget: { name: 'x', slots: 0, dir } }, 'ERR_OUT_OF_RANGE', /options\.hostBudget\.slots.*Received 0/],
    [{ hostBudget: { name: 'x', slots: 1.5, dir } }, 'ERR_OUT_OF_RANGE', /Received 1\.5/],
    [{ hostBudget: { name: 'x', dir: 'relative/dir' } }, 'ERR_INVALID_ARG_VALUE', /options\.hostBudget\.dir/],
  ]
  for (const [options, code, message] of bad) {
    assert.throws(() => new Pool(options), (err) => err.code === code && message.test(err.message), JSON.stringify(options))
    assert.throws(() => new ThreadPool({ script: THREAD_WORKER, ...options }), { code })
  }
})

test('the budget directory is private: a shared, foreign-mode or symlinked one is refused, and slots must agree', () => {
  const dir = privateDir()
  const pool = new Pool({ threads: 1, hostBudget: { name: 'agreed', slots: 3, dir } })
  assert.equal(fs.statSync(path.join(dir, 'agreed')).mode & 0o777, 0o700)
  assert.throws(() => new Pool({ hostBudget: { name: 'agreed', slots: 2, dir } }), (err) =>
    err.code === 'ERR_OFFLOAD_HOST_BUDGET' && /has 3 slots/.test(err.message) && /asked for 2/.test(err.message))
  assert.equal(new Pool({ threads: 1, hostBudget: { name: 'agreed', dir } }).stats().hostBudget.slots, 3)
  pool.destroy()
  fs.mkdirSync(path.join(dir, 'open'), { mode: 0o755 })
  fs.chmodSync(path.join(dir, 'open'), 0o755)
  assert.throws(() => new Pool({ hostBudget: { name: 'open', dir } }), (err) => err.code === 'ERR_OFFLOAD_HOST_BUDGET' && /mode is 755/.test(err.message))
  fs.symlinkSync(path.join(dir, 'agreed'), path.join(dir, 'link'))
  assert.throws(() => new Pool({ hostBudget: { name: 'link', dir } }), (err) => err.code === 'ERR_OFFLOAD_HOST_BUDGET' && /symlink/.test(err.message))
  assert.throws(() => new Pool({ hostBudget: { name: 'x', dir: os.tmpdir() } }), { code: 'ERR_OFFLOAD_HOST_BUDGET' })
})

test('OFFLOAD_HOST_BUDGET gives every pool without the option a budget (XDG_RUNTIME_DIR by default); hostBudget: false opts out', () => {
  const runtime = privateDir()
  const script = `
    const { Pool, defaultPool } = require(${JSON.stringify(path.join(__dirname, '..'))})
    const d = defaultPool().stats().hostBudget
    const out = new Pool({ hostBudget: false }).stats().hostBudget
    console.log(JSON.stringify({ name: d.name, slots: d.slots, dir: d.dir, out: out === undefined }))`
  const run = (env) => JSON.parse(execFileSync(process.execPath, ['-e', script], { env: { ...process.env, XDG_RUNTIME_DIR: runtime, ...env }, encoding: 'utf8' }))
  assert.deepEqual(run({ OFFLOAD_HOST_BUDGET: 'web:3' }), { name: 'web', slots: 3, dir: path.join(runtime, 'offload', 'web'), out: true })
  assert.equal(fs.statSync(path.join(runtime, 'offload')).mode & 0o777, 0o700)
  // Nobody uses it any more: a new member's count (the default) takes effect.
  assert.equal(run({ OFFLOAD_HOST_BUDGET: 'web' }).slots, os.availableParallelism())
  assert.throws(() => run({ OFFLOAD_HOST_BUDGET: 'web:many' }), /OFFLOAD_HOST_BUDGET/)
})

test('metrics() reports each budget: slots, held here and anywhere, waiting, and the wait histogram', async () => {
  const dir = privateDir()
  const other = await holder(dir, 'metered', 1)
  const pool = new Pool({ threads: 2, hostBudget: { name: 'metered', dir } })
  try {
    const task = spin(1, { pool })
    await until(() => pool.stats().hostBudget.waiting > 0, 'the task to wait for the slot', 10_000)
    let text = metrics()
    assert.match(text, /^offload_host_budget_slots\{budget="metered"\} 1$/m)
    assert.match(text, /^offload_host_budget_slots_held\{budget="metered",holder="this_process"\} 0$/m)
    assert.match(text, /^offload_host_budget_slots_held\{budget="metered",holder="any_process"\} 1$/m)
    assert.match(text, /^offload_host_budget_waiting\{budget="metered"\} [1-9]$/m)
    await new Promise((resolve) => setTimeout(resolve, 30))
    await killed(other)
    await task
    text = metrics()
    assert.match(text, /^offload_host_budget_acquired_total\{budget="metered"\} [1-9]\d*$/m)
    const count = Number(text.match(/^offload_host_budget_wait_seconds_count\{budget="metered"\} (\d+)$/m)[1])
    const inf = Number(text.match(/^offload_host_budget_wait_seconds_bucket\{budget="metered",le="\+Inf"\} (\d+)$/m)[1])
    const sum = Number(text.match(/^offload_host_budget_wait_seconds_sum\{budget="metered"\} ([\d.e-]+)$/m)[1])
    assert.equal(count, pool.stats().hostBudget.waited)
    assert.ok(count >= 1 && inf === count, `count ${count}, +Inf ${inf}`)
    assert.ok(sum >= 0.03, `the task waited at least the 30 ms the holder kept the slot (sum ${sum} s)`)
  } finally {
    other.kill('SIGKILL')
    await pool.close()
  }
})

test('close() submits the tasks still waiting for a slot before it ends; destroy() fails them', async () => {
  const dir = privateDir()
  let other = await holder(dir, 'closing', 1)
  const tp = new ThreadPool({ script: THREAD_WORKER, threads: 1, hostBudget: { name: 'closing', dir } })
  const pp = new ProcessPool({ script: PROCESS_WORKER, size: 1, hostBudget: { name: 'closing', dir } })
  try {
    const accepted = [tp.run('a', { name: 'echo' }), pp.run('b', { name: 'echo' })]
    const closed = Promise.all([tp.close(), pp.close()])
    await assert.rejects(tp.run('late', { name: 'echo' }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
    await assert.rejects(pp.run('late', { name: 'echo' }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
    assert.equal(await settledWithin(closed, 200), false, 'closed with accepted tasks still waiting')
    await killed(other)
    assert.deepEqual(await Promise.all(accepted), ['a', 'b'])
    await closed
    other = await holder(dir, 'closing', 1)
    const tp2 = new ThreadPool({ script: THREAD_WORKER, threads: 1, hostBudget: { name: 'closing', dir } })
    const pp2 = new ProcessPool({ script: PROCESS_WORKER, size: 1, hostBudget: { name: 'closing', dir } })
    const doomed = [tp2.run('x', { name: 'echo' }), pp2.run('y', { name: 'echo' })]
      .map((d) => assert.rejects(d, { code: 'ERR_OFFLOAD_POOL_DESTROYED' }))
    await Promise.all([tp2.destroy(), pp2.destroy()])
    await Promise.all(doomed)
  } finally {
    other.kill('SIGKILL')
  }
})
