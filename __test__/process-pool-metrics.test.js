'use strict'
// ProcessPool accounting in stats() and metrics(): admission refusals are counted (as the CPU
// pool counts them), and pool workers are not reported as exec()/spawn() children. Values are
// read back with an independent Prometheus text parser.
const test = require('node:test')
const assert = require('node:assert/strict')
const path = require('node:path')
const parsePrometheus = require('parse-prometheus-text-format')
const { ProcessPool, exec, metrics, processStats } = require('..')
const { until } = require('./helpers/until')

const WORKER = path.join(__dirname, 'fixtures', 'pool-worker.js')

// The value of the sample of `name` whose labels include `labels`, or undefined.
function sample(text, name, labels = {}) {
  const family = parsePrometheus(text).find((f) => f.name === name)
  const s = family?.metrics.find((m) => Object.entries(labels).every(([k, v]) => m.labels?.[k] === v))
  return s === undefined ? undefined : Number(s.value)
}

test('queue-full and closed-pool refusals are counted as rejected, in stats() and metrics()', async () => {
  const p = new ProcessPool({ script: WORKER, name: 'rejecting', size: 1, maxQueue: 0, stdout: 'ignore' })
  const codes = []
  const note = (promise) => promise.then(() => 'ok', (e) => { codes.push(e.code); return e.code })
  try {
    const running = p.run(300, { name: 'slow' })
    const refused = await Promise.all([note(p.run('a', { name: 'echo' })), note(p.run('b', { name: 'echo' }))])
    assert.deepEqual(refused, ['ERR_OFFLOAD_QUEUE_FULL', 'ERR_OFFLOAD_QUEUE_FULL'])
    // Argument errors are the caller's, not admission refusals (as in the CPU pool).
    await assert.rejects(p.run(1, { priority: 'urgent' }), { code: 'ERR_INVALID_ARG_VALUE' })
    assert.equal(p.stats().rejected, 2)
    const text = metrics()
    assert.equal(sample(text, 'offload_process_pool_tasks_total', { pool: 'rejecting', outcome: 'rejected' }), 2)
    assert.equal(sample(text, 'offload_process_pool_tasks_total', { pool: 'rejecting', outcome: 'completed' }), 0)
    assert.equal(await running, 'slept 300')
  } finally {
    await p.close()
  }
  assert.equal(await note(p.run('late', { name: 'echo' })), 'ERR_OFFLOAD_POOL_CLOSED')
  const s = p.stats()
  assert.equal(s.rejected, codes.length)
  // Every call that got past argument checks is counted exactly once.
  assert.equal(s.completed + s.failed + s.cancelled + s.timedOut + s.rejected, 1 + codes.length)
})

test('offload_subprocesses_running counts exec() children, not idle pool workers', async () => {
  const p = new ProcessPool({ script: WORKER, name: 'idle-workers', size: 2, minWorkers: 2, stdout: 'ignore' })
  const ac = new AbortController()
  const child = exec('sleep', ['30'], { signal: ac.signal }).catch((e) => e)
  try {
    await until(() => p.stats().idle === 2, 'both workers to be ready')
    await until(() => processStats().running === 3, 'the exec() child to run')
    const text = metrics()
    assert.equal(sample(text, 'offload_subprocesses_running'), 1, 'one exec() child')
    assert.equal(sample(text, 'offload_process_pool_workers', { pool: 'idle-workers', state: 'idle' }), 2)
  } finally {
    ac.abort()
    await child
    await p.close()
  }
  await until(() => processStats().running === 0, 'every child to end')
  assert.equal(sample(metrics(), 'offload_subprocesses_running'), 0)
})

test('a ThreadPool shows up in metrics() with its tasks by outcome, and leaves it when closed', async () => {
  const { ThreadPool } = require('..')
  const pool = new ThreadPool({ script: path.join(__dirname, 'fixtures', 'thread-worker.js'), name: 'reports', threads: 1 })
  await Promise.all([1, 2, 3].map((n) => pool.run(n, { name: 'echo' })))
  await assert.rejects(pool.run({ message: 'x' }, { name: 'fail' }))
  // A thread hands in its last result before it parks: wait for the park.
  await until(() => pool.stats().idle === 1, 'the thread to park')
  const text = metrics()
  // Four tasks settled by the handler (three results, one thrown error); none refused or lost.
  assert.equal(sample(text, 'offload_thread_pool_tasks_total', { pool: 'reports', outcome: 'completed' }), 4)
  assert.equal(sample(text, 'offload_thread_pool_tasks_total', { pool: 'reports', outcome: 'cancelled' }), 0)
  assert.equal(sample(text, 'offload_thread_pool_tasks_total', { pool: 'reports', outcome: 'rejected' }), 0)
  assert.equal(sample(text, 'offload_thread_pool_tasks_total', { pool: 'reports', outcome: 'crashed' }), 0)
  assert.equal(sample(text, 'offload_thread_pool_queue_depth', { pool: 'reports' }), 0)
  const threads = (state) => sample(text, 'offload_thread_pool_threads', { pool: 'reports', state })
  assert.deepEqual([threads('idle'), threads('busy')], [1, 0])
  await pool.close()
  assert.equal(sample(metrics(), 'offload_thread_pool_tasks_total', { pool: 'reports', outcome: 'completed' }), undefined)
})
