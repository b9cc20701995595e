'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const { execFileSync } = require('node:child_process')
const { Pool, defaultPool, hash, AbortError, OffloadError } = require('..')
const { noop, spin, panic } = require('../testing')

async function rejectsWith(promise, props) {
  await assert.rejects(promise, (err) => {
    for (const [k, v] of Object.entries(props)) assert.deepEqual(err[k], v, `${k}: ${err.stack}`)
    return true
  })
}

// Resolves once `pool` has `n` tasks running (spin tasks start within microseconds).
async function waitRunning(pool, n) {
  for (let i = 0; i < 2000 && pool.stats().running < n; i++) await new Promise((r) => setTimeout(r, 1))
  assert.equal(pool.stats().running, n)
}

test('threads default to OFFLOAD_THREADS, else availableParallelism', () => {
  assert.equal(new Pool().threads, os.availableParallelism())
  const out = execFileSync(process.execPath, ['-p', "new (require('.').Pool)().threads"], {
    cwd: `${__dirname}/..`, env: { ...process.env, OFFLOAD_THREADS: '3' }, encoding: 'utf8',
  })
  assert.equal(out.trim(), '3')
})

test('pool threads are named offload-<name>-<n>, the name cut short so the number survives 15 bytes', async () => {
  const threadNames = () => fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim())
  const pool = new Pool({ threads: 2, name: 'naming' })
  const short = new Pool({ threads: 1, name: 'io' })
  await Promise.all([spin(20, { pool }), spin(20, { pool }), spin(5, { pool: short })])
  const names = threadNames()
  // Linux keeps 15 bytes of a thread name: `offload-naming-0` would lose its number.
  assert.ok(names.includes('offload-namin-0') && names.includes('offload-namin-1'), names.join(','))
  assert.ok(names.includes('offload-io-0'), names.join(','))
  await Promise.all([pool.close(), short.close()])
})

test('pool threads run at the configured niceness (default 10), below the event loop', async () => {
  const niceOf = (name) => fs.readdirSync('/proc/self/task')
    .filter((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim().startsWith(name))
    .map((t) => Number(fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' ')[16]))
  const a = new Pool({ threads: 2, name: 'nice5', nice: 5 })
  const b = new Pool({ threads: 1, name: 'nicedef' })
  const c = new Pool({ threads: 1, name: 'nice0', nice: 0 })
  await Promise.all([spin(5, { pool: a }), spin(5, { pool: a }), spin(5, { pool: b }), spin(5, { pool: c })])
  assert.deepEqual(niceOf('offload-nice5-'), [5, 5])
  assert.deepEqual(niceOf('offload-niced-'), [10])
  assert.deepEqual(niceOf('offload-nice0-'), [0])
  assert.equal(Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[16]), 0, 'the JS thread is untouched')
  await Promise.all([a.close(), b.close(), c.close()])
})

test('a free thread takes new work while another runs a long task', async () => {
  const pool = new Pool({ threads: 2, name: 'free' })
  const ac = new AbortController()
  const long = spin(60_000, { pool, signal: ac.signal })
  await waitRunning(pool, 1)
  const t0 = Date.now()
  for (let i = 0; i < 5; i++) await spin(1, { pool })
  assert.ok(Date.now() - t0 < 5000, 'did not wait for the long task')
  ac.abort()
  await assert.rejects(long, { name: 'AbortError' })
  await pool.close()
})

test('maxQueue counts only tasks that must wait for a thread', async () => {
  const pool = new Pool({ threads: 2, maxQueue: 0, name: 'q0' })
  const first = spin(100, { pool })
  const second = spin(100, { pool })
  await rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_QUEUE_FULL' })
  await Promise.all([first, second])
  await noop({ pool })
})

test('a full queue rejects at once with ERR_OFFLOAD_QUEUE_FULL and counts it', async () => {
  const pool = new Pool({ threads: 1, maxQueue: 2, name: 'full' })
  const blocker = spin(200, { pool })
  await waitRunning(pool, 1)
  const queued = [noop({ pool }), noop({ pool })]
  const t0 = Date.now()
  await rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_QUEUE_FULL', name: 'OffloadError' })
  assert.ok(Date.now() - t0 < 100, 'rejected without waiting')
  assert.equal(pool.stats().rejected, 1)
  assert.equal(pool.stats().queued, 2)
  await Promise.all([blocker, ...queued])
  assert.equal(pool.maxQueue, 2)
})

test('priority: higher levels first, FIFO within a level', async () => {
  const pool = new Pool({ threads: 1, name: 'prio' })
  const blocker = spin(100, { pool })
  await waitRunning(pool, 1)
  const order = []
  const plan = [['low', 1], ['normal', 2], ['high', 3], ['normal', 4], ['high', 5], ['low', 6]]
  await Promise.all([blocker, ...plan.map(([priority, n]) => noop({ pool, priority }).then(() => order.push(n)))])
  assert.deepEqual(order, [3, 5, 2, 4, 1, 6])
})

test('abort of a queued task rejects at once with AbortError and cause', async () => {
  const pool = new Pool({ threads: 1, name: 'abortq' })
  const blocker = spin(300, { pool })
  await waitRunning(pool, 1)
  const ac = new AbortController()
  const p = noop({ pool, signal: ac.signal })
  const reason = new Error('user left')
  const t0 = Date.now()
  ac.abort(reason)
  await rejectsWith(p, { name: 'AbortError', code: 'ABORT_ERR', cause: reason })
  assert.ok(Date.now() - t0 < 100)
  assert.equal(pool.stats().queued, 0)
  await blocker
  assert.equal(pool.stats().cancelled, 1)
})

test('abort of a running task stops the work cooperatively', async () => {
  const pool = new Pool({ threads: 1, name: 'abortr' })
  const ac = new AbortController()
  const p = spin(60_000, { pool, signal: ac.signal })
  await waitRunning(pool, 1)
  ac.abort()
  await rejectsWith(p, { name: 'AbortError', code: 'ABORT_ERR' })
  // The thread is free again well before the 60 s spin would have ended.
  await noop({ pool, timeout: 5000 })
  assert.equal(pool.stats().cancelled, 1)
})

test('an already-aborted signal rejects at once, without running', async () => {
  const pool = new Pool({ threads: 1, name: 'pre' })
  const signal = AbortSignal.abort('nope')
  await rejectsWith(panic('must not run', { pool, signal }), { name: 'AbortError', cause: 'nope' })
  const s = pool.stats()
  assert.equal(s.completed + s.failed + s.queued + s.running, 0)
})

test("the caller's own onabort handler and listeners still run", async () => {
  const ac = new AbortController()
  let onabort = 0
  let listener = 0
  ac.signal.onabort = () => onabort++
  ac.signal.addEventListener('abort', () => listener++)
  const p = spin(60_000, { signal: ac.signal })
  ac.abort()
  await assert.rejects(p, { name: 'AbortError' })
  assert.equal(onabort, 1)
  assert.equal(listener, 1)
  assert.equal(typeof ac.signal.onabort, 'function')
})

test('timeout rejects with ERR_OFFLOAD_TIMEOUT and cancels the work', async () => {
  const pool = new Pool({ threads: 1, name: 'timeout' })
  const t0 = Date.now()
  await rejectsWith(spin(60_000, { pool, timeout: 50 }), { code: 'ERR_OFFLOAD_TIMEOUT', name: 'OffloadError' })
  assert.ok(Date.now() - t0 < 5000)
  await noop({ pool })
  assert.equal(pool.stats().timedOut, 1)
  // A task that finishes in time resolves normally; timeout 0 means none.
  await spin(1, { pool, timeout: 10_000 })
  await spin(1, { pool, timeout: 0 })
})

test('a panic rejects with ERR_OFFLOAD_TASK_PANICKED and the pool keeps serving', async () => {
  const pool = new Pool({ threads: 2, name: 'panic' })
  for (let i = 0; i < 5; i++) {
    await rejectsWith(panic(`boom ${i}`, { pool }), { code: 'ERR_OFFLOAD_TASK_PANICKED', message: `task panicked: boom ${i}` })
  }
  assert.equal((await hash('sha256', 'abc', { pool, encoding: 'hex' })).length, 64)
  assert.equal(pool.stats().failed, 5)
})

test('close stops admission and resolves after every accepted task settled', async () => {
  const pool = new Pool({ threads: 1, name: 'close' })
  const settled = []
  const tasks = [spin(50, { pool }), noop({ pool }), noop({ pool })].map((p, i) => p.then(() => settled.push(i)))
  const closed = pool.close()
  assert.equal(pool.close(), closed, 'close is idempotent')
  await rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
  await closed
  assert.deepEqual(settled.sort(), [0, 1, 2])
  await Promise.all(tasks)
  assert.equal(pool.stats().rejected, 1)
})

test('destroy rejects queued tasks and cancels running ones', async () => {
  const pool = new Pool({ threads: 1, name: 'destroy' })
  const running = spin(60_000, { pool })
  await waitRunning(pool, 1)
  const queued = [noop({ pool }), noop({ pool })]
  pool.destroy()
  const results = await Promise.allSettled([running, ...queued])
  assert.deepEqual(results.map((r) => r.status === 'rejected' && r.reason.code), Array(3).fill('ERR_OFFLOAD_POOL_DESTROYED'))
  await rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
  await pool.close()
})

test('Symbol.asyncDispose closes the pool', async () => {
  const pool = new Pool({ threads: 1, name: 'dispose' })
  const p = spin(20, { pool })
  await pool[Symbol.asyncDispose]()
  await p
  await rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
})

test('stats reports counters and latency percentiles', async () => {
  const pool = new Pool({ threads: 2, name: 'stats' })
  await Promise.all(Array.from({ length: 10 }, () => spin(5, { pool })))
  await assert.rejects(panic('x', { pool }))
  const s = pool.stats()
  assert.deepEqual(Object.keys(s).sort(), ['busySeconds', 'cancelled', 'completed', 'failed', 'queued', 'rejected', 'runTime', 'running', 'threads', 'timedOut', 'utilization', 'waitTime'].sort())
  assert.equal(s.threads, 2)
  assert.equal(s.completed, 10)
  assert.equal(s.failed, 1)
  assert.ok(s.runTime.p50 >= 4 && s.runTime.p50 <= 50, JSON.stringify(s.runTime))
  assert.ok(s.runTime.p50 <= s.runTime.p90 && s.runTime.p90 <= s.runTime.p99 && s.runTime.p99 <= s.runTime.max)
  assert.ok(s.utilization > 0 && s.utilization <= 1)
  assert.ok(s.busySeconds > 0 && s.busySeconds < 60, `busySeconds ${s.busySeconds}`)
  assert.ok(s.waitTime.max >= 0)
})

test('every promise settles under a mixed storm of work, aborts, timeouts and panics', async () => {
  const pool = new Pool({ threads: 2, maxQueue: 5000, name: 'storm' })
  const n = 4000
  let settled = 0
  const outcomes = { ok: 0, abort: 0, timeout: 0, panic: 0, full: 0 }
  const all = []
  for (let i = 0; i < n; i++) {
    const ac = new AbortController()
    let p
    switch (i % 5) {
      case 0: p = noop({ pool }); break
      case 1: p = spin(0.05, { pool, signal: ac.signal }); ac.abort(); break
      case 2: p = spin(0.05, { pool, timeout: 1 }); break
      case 3: p = panic('storm', { pool }); break
      default: p = hash('md5', 'x', { pool, priority: 'low' })
    }
    all.push(p.then(() => { outcomes.ok++ }, (e) => {
      if (e.code === 'ABORT_ERR') outcomes.abort++
      else if (e.code === 'ERR_OFFLOAD_TIMEOUT') outcomes.timeout++
      else if (e.code === 'ERR_OFFLOAD_TASK_PANICKED') outcomes.panic++
      else if (e.code === 'ERR_OFFLOAD_QUEUE_FULL') outcomes.full++
      else throw e
    }).finally(() => settled++))
  }
  await Promise.all(all)
  assert.equal(settled, n)
  assert.equal(outcomes.abort, n / 5)
  assert.equal(outcomes.panic, n / 5)
  assert.equal(outcomes.ok + outcomes.timeout, (3 * n) / 5)
  await pool.close()
  const s = pool.stats()
  assert.equal(s.queued + s.running, 0)
  assert.equal(s.completed + s.failed + s.cancelled + s.timedOut, n)
})

test('the default pool is shared and lazily created', () => {
  assert.equal(defaultPool(), defaultPool())
  assert.ok(defaultPool() instanceof Pool)
  assert.equal(defaultPool().name, 'default')
})

test('OffloadError and AbortError are exported classes', () => {
  const e = new OffloadError('ERR_OFFLOAD_X', 'm')
  assert.equal(e.code, 'ERR_OFFLOAD_X')
  assert.ok(e instanceof Error)
  assert.equal(new AbortError().name, 'AbortError')
})
