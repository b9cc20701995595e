'use strict'
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const { execFileSync } = require('node:child_process')
const { once } = require('node:events')
const crypto = require('node:crypto')
const { Pool, defaultPool, hash, AbortError, OffloadError } = require('..')
const { noop, spin, panic } = require('offload/testing')
const { until, within } = require('./helpers/until')

// A cancelled spin stops within microseconds of its flag firing; 5 s allows for a loaded
// machine and is still far below the 60 s that a spin ignoring its flag would take to settle.
const SETTLE_MS = 5000

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

// Occupies `n` threads of `pool` until the returned function is called: 60 s spins, so that a
// test thread stalled on a loaded machine cannot outlast them (a short spin could end before
// the tasks meant to queue behind it were submitted).
async function occupy(pool, n = 1) {
  const ac = new AbortController()
  const spins = Array.from({ length: n }, () => spin(60_000, { pool, signal: ac.signal }).then(() => 'finished', (e) => e.name))
  await waitRunning(pool, n)
  return async () => {
    ac.abort()
    assert.deepEqual(await within(Promise.all(spins), SETTLE_MS, 'the blocking spins'), Array(n).fill('AbortError'))
  }
}

test('threads default to OFFLOAD_THREADS, else availableParallelism', () => {
  assert.equal(new Pool().threads, os.availableParallelism())
  const out = execFileSync(process.execPath, ['-p', "new (require('.').Pool)().threads"], {
    cwd: `${__dirname}/..`, env: { ...process.env, OFFLOAD_THREADS: '3' }, encoding: 'utf8',
  })
  assert.equal(out.trim(), '3')
})

// The binding never reads `environ` (a SHARE_ENV worker may be rewriting it): OFFLOAD_THREADS
// comes from process.env, so a worker thread's own `env` counts, which `environ` does not hold.
test('OFFLOAD_THREADS is read from process.env: a worker thread\'s own env counts', async () => {
  const { Worker } = require('node:worker_threads')
  const code = `const { parentPort } = require('node:worker_threads')
    const { Pool } = require(${JSON.stringify(`${__dirname}/..`)})
    const pool = new Pool(); parentPort.postMessage(pool.threads); pool.close()`
  const w = new Worker(code, { eval: true, env: { ...process.env, OFFLOAD_THREADS: '3' } })
  const [threads] = await once(w, 'message')
  await once(w, 'exit')
  assert.equal(threads, 3)
})

test('pool threads are named offload-<name>-<n>, the name cut short so the number survives 15 bytes', async () => {
  const threadNames = () => fs.readdirSync('/proc/self/task').map((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim())
  const pool = new Pool({ threads: 2, name: 'naming' })
  const short = new Pool({ threads: 1, name: 'io' })
  await Promise.all([spin(20, { pool }), spin(20, { pool }), spin(5, { pool: short })])
  // A thread names itself once it first runs, which on a loaded machine may be after both
  // spins ran on its sibling.
  const want = ['offload-namin-0', 'offload-namin-1', 'offload-io-0']
  await until(() => want.every((n) => threadNames().includes(n)), 'the pool threads to name themselves').catch(() => {})
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
  // Each thread names itself and then sets its niceness when it first runs (see the test
  // above); a wrong niceness still fails below, with the values seen.
  const all = () => JSON.stringify([niceOf('offload-nice5-'), niceOf('offload-niced-'), niceOf('offload-nice0-')])
  await until(() => all() === '[[5,5],[10],[0]]', 'the pool threads to start').catch(() => {})
  assert.deepEqual(niceOf('offload-nice5-'), [5, 5])
  assert.deepEqual(niceOf('offload-niced-'), [10])
  assert.deepEqual(niceOf('offload-nice0-'), [0])
  assert.equal(Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[16]), 0, 'the JS thread is untouched')
  await Promise.all([a.close(), b.close(), c.close()])
})

test('idlePriority puts pool threads under SCHED_IDLE; a non-boolean is a type error', async () => {
  const policyOf = (name) => fs.readdirSync('/proc/self/task')
    .filter((t) => fs.readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim().startsWith(name))
    .map((t) => Number(fs.readFileSync(`/proc/self/task/${t}/stat`, 'utf8').split(') ')[1].split(' ')[38]))
  const idle = new Pool({ threads: 2, name: 'idlep', idlePriority: true })
  const plain = new Pool({ threads: 1, name: 'plain', idlePriority: false })
  await Promise.all([spin(5, { pool: idle }), spin(5, { pool: idle }), spin(5, { pool: plain })])
  const all = () => JSON.stringify([policyOf('offload-idlep-'), policyOf('offload-plain-')])
  await until(() => all() === '[[5,5],[0]]', 'the pool threads to start').catch(() => {})
  // 5 is SCHED_IDLE, 0 SCHED_OTHER (field 41 of /proc/<tid>/stat).
  assert.deepEqual(policyOf('offload-idlep-'), [5, 5])
  assert.deepEqual(policyOf('offload-plain-'), [0])
  assert.equal(Number(fs.readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ')[38]), 0, 'the JS thread is untouched')
  assert.throws(() => new Pool({ idlePriority: 1 }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.idlePriority/ })
  await Promise.all([idle.close(), plain.close()])
})

test('a free thread takes new work while another runs a long task', async () => {
  const pool = new Pool({ threads: 2, name: 'free' })
  const ac = new AbortController()
  const long = spin(60_000, { pool, signal: ac.signal })
  await waitRunning(pool, 1)
  // A task that waited for the long one would time out instead of resolving.
  for (let i = 0; i < 5; i++) await spin(1, { pool, timeout: 5000 })
  ac.abort()
  await within(assert.rejects(long, { name: 'AbortError' }), SETTLE_MS, 'the aborted 60 s spin')
  await within(pool.close(), SETTLE_MS, 'close()')
})

test('maxQueue counts only tasks that must wait for a thread', async () => {
  const pool = new Pool({ threads: 2, maxQueue: 0, name: 'q0' })
  const first = spin(1, { pool })
  const second = spin(1, { pool })
  await Promise.all([first, second]) // both were admitted: each had a free thread
  const release = await occupy(pool, 2)
  // Bounded: a noop wrongly admitted would wait for the 60 s blockers.
  await within(rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_QUEUE_FULL' }), SETTLE_MS, 'the refused noop')
  await release()
  await noop({ pool })
})

test('a full queue rejects at once with ERR_OFFLOAD_QUEUE_FULL and counts it', async () => {
  const pool = new Pool({ threads: 1, maxQueue: 2, name: 'full' })
  const release = await occupy(pool)
  const queued = [noop({ pool }), noop({ pool })]
  // Bounded: a noop wrongly admitted would wait for the 60 s blocker.
  await within(rejectsWith(noop({ pool }), { code: 'ERR_OFFLOAD_QUEUE_FULL', name: 'OffloadError' }), 2000, 'the refused noop')
  assert.equal(pool.stats().rejected, 1)
  assert.equal(pool.stats().queued, 2)
  await release()
  await Promise.all(queued)
  assert.equal(pool.maxQueue, 2)
})

test('priority: higher levels first, FIFO within a level', async () => {
  const pool = new Pool({ threads: 1, name: 'prio' })
  const release = await occupy(pool)
  const order = []
  const plan = [['low', 1], ['normal', 2], ['high', 3], ['normal', 4], ['high', 5], ['low', 6]]
  const done = plan.map(([priority, n]) => noop({ pool, priority }).then(() => order.push(n)))
  await release()
  await Promise.all(done)
  assert.deepEqual(order, [3, 5, 2, 4, 1, 6])
})

test('abort of a queued task rejects at once with AbortError and cause', async () => {
  const pool = new Pool({ threads: 1, name: 'abortq' })
  const release = await occupy(pool)
  const ac = new AbortController()
  const p = noop({ pool, signal: ac.signal })
  const reason = new Error('user left')
  ac.abort(reason)
  // At once: not after the 60 s blocker.
  await within(rejectsWith(p, { name: 'AbortError', code: 'ABORT_ERR', cause: reason }), 2000, 'the aborted queued noop')
  assert.equal(pool.stats().queued, 0)
  assert.equal(pool.stats().cancelled, 1)
  await release()
})

test('abort of a running task stops the work cooperatively', async () => {
  const pool = new Pool({ threads: 1, name: 'abortr' })
  const ac = new AbortController()
  const p = spin(60_000, { pool, signal: ac.signal })
  await waitRunning(pool, 1)
  ac.abort()
  // A running task's promise settles once its kernel has stopped: well before the 60 s spin
  // would have ended, and the thread is free again.
  await within(rejectsWith(p, { name: 'AbortError', code: 'ABORT_ERR' }), SETTLE_MS, 'the aborted 60 s spin')
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
  await within(assert.rejects(p, { name: 'AbortError' }), SETTLE_MS, 'the aborted 60 s spin')
  assert.equal(onabort, 1)
  assert.equal(listener, 1)
  assert.equal(typeof ac.signal.onabort, 'function')
})

test('timeout rejects with ERR_OFFLOAD_TIMEOUT and cancels the work', async () => {
  const pool = new Pool({ threads: 1, name: 'timeout' })
  await within(rejectsWith(spin(60_000, { pool, timeout: 50 }), { code: 'ERR_OFFLOAD_TIMEOUT', name: 'OffloadError' }), SETTLE_MS, 'the timed-out 60 s spin')
  await noop({ pool, timeout: 5000 })
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
  assert.equal(await hash('sha256', 'abc', { pool, encoding: 'hex' }), crypto.createHash('sha256').update('abc').digest('hex'))
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
  const results = await within(Promise.allSettled([running, ...queued]), SETTLE_MS, 'the destroyed tasks')
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
  const t0 = performance.now()
  const pool = new Pool({ threads: 2, name: 'stats' })
  await Promise.all(Array.from({ length: 10 }, () => spin(5, { pool })))
  await assert.rejects(panic('x', { pool }))
  const s = pool.stats()
  // Everything the pool measured happened within this span, on at most 2 threads at a time.
  const elapsedMs = performance.now() - t0
  assert.deepEqual(Object.keys(s).sort(), ['busySeconds', 'cancelled', 'completed', 'failed', 'queued', 'rejected', 'runTime', 'running', 'threads', 'timedOut', 'utilization', 'waitTime'].sort())
  assert.equal(s.threads, 2)
  assert.equal(s.completed, 10)
  assert.equal(s.failed, 1)
  const ordered = (p) => p.p50 <= p.p90 && p.p90 <= p.p99 && p.p99 <= p.max
  // 10 of the 11 runs are 5 ms spins (a spin runs for at least its wall time): the median and
  // the max are at least 5 ms, and no run outlasted the whole test.
  assert.ok(s.runTime.p50 >= 5 && s.runTime.max <= elapsedMs, JSON.stringify({ runTime: s.runTime, elapsedMs }))
  assert.ok(ordered(s.runTime), JSON.stringify(s.runTime))
  assert.ok(s.waitTime.max <= elapsedMs && ordered(s.waitTime), JSON.stringify({ waitTime: s.waitTime, elapsedMs }))
  // Busy time is at least the spins' 50 ms and at most both threads for the whole span;
  // utilization is that over the pool's (shorter) lifetime times its 2 threads.
  assert.ok(s.busySeconds >= 0.05 && s.busySeconds <= (2 * elapsedMs) / 1000, `busySeconds ${s.busySeconds}, elapsed ${elapsedMs} ms`)
  assert.ok(s.utilization >= s.busySeconds / ((2 * elapsedMs) / 1000) && s.utilization <= 1, `utilization ${s.utilization}, busySeconds ${s.busySeconds}, elapsed ${elapsedMs} ms`)
})

test('waitTime is the time a task spent queued: behind a running task of D ms it is at least D', async () => {
  const pool = new Pool({ threads: 1, name: 'wait' })
  const D = 300
  const submitted = performance.now()
  const blocker = spin(D, { pool })
  const queued = Array.from({ length: 5 }, () => noop({ pool }))
  // The blocker started no earlier than `submitted`, so it ends no earlier than `submitted`
  // + D, and each noop, enqueued by `enqueued`, waited at least D - (enqueued - submitted):
  // a bound that holds even if this thread is preempted between the submissions.
  const enqueued = performance.now()
  await Promise.all([blocker, ...queued])
  const settled = performance.now()
  const s = pool.stats()
  const floor = D - (enqueued - submitted)
  // Six waits: the blocker's (about 0) and the five noops'. p50 and p90 are noops'; a
  // percentile reports its histogram bucket's upper bound (up to 12.5% above), max is exact.
  const detail = JSON.stringify({ waitTime: s.waitTime, floor, spanMs: settled - submitted })
  assert.ok(s.waitTime.p50 >= floor && s.waitTime.max >= floor, detail)
  assert.ok(s.waitTime.max <= settled - submitted && s.waitTime.p50 <= (settled - submitted) * 1.125, detail)
  assert.ok(s.runTime.max >= D, JSON.stringify(s.runTime))
  await pool.close()
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

test('a flood of completions gives the event loop a turn: no loop iteration settles them all', async () => {
  // Node runs up to 1000 queued threadsafe-function calls in one go, so a channel that only
  // rescheduled itself would settle all of these inside one loop iteration (measured: all
  // 200 000). The channel spends about 3 ms per iteration and yields the rest.
  const pool = new Pool({ threads: 2, maxQueue: 1e6, name: 'flood' })
  await noop({ pool })
  const N = 200_000
  let settled = 0
  let last = 0
  let most = 0
  let stop = false
  const tick = () => {
    most = Math.max(most, settled - last)
    last = settled
    if (!stop) setImmediate(tick)
  }
  const all = []
  for (let i = 0; i < N; i++) all.push(noop({ pool }).then(() => { settled++ }))
  setImmediate(tick)
  await Promise.all(all)
  stop = true
  await new Promise((resolve) => setImmediate(resolve)) // the last iteration's tick
  assert.equal(settled, N)
  assert.ok(most < N / 2, `one loop iteration settled ${most} of ${N} completions`)
  await pool.close()
})
