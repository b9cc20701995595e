'use strict'
// offload/bullmq against a real redis-server (helpers/redis.js) and real worker processes
// (fixtures/bullmq-worker.js). Runs are counted through a Redis counter the processors
// increment, results checked against node:crypto, job states read back from Redis.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn: spawnChild, execFileSync } = require('node:child_process')
const { createHash, randomBytes } = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { once } = require('node:events')
const { setTimeout: sleep } = require('node:timers/promises')
const IORedis = require('ioredis')
const { Queue, QueueEvents, Worker, Job } = require('bullmq')
const { createWorker } = require('../lib/integrations/bullmq')
const { Pool, ThreadPool, ProcessPool, hash, decompress } = require('..')
const { spin } = require('../lib/cpu/testing')
const { startRedis } = require('./helpers/redis')
const { children, dies } = require('./helpers/proc')

const FLEET = path.join(__dirname, 'fixtures', 'bullmq-worker.js')
// Generous: only turns a hang into a failure.
const DEADLINE = 60000

let redis
let client
let connection
let queues = 0
const cleanups = []

test.before(async () => {
  redis = await startRedis()
  connection = { ...redis.connection, maxRetriesPerRequest: null }
  client = new IORedis(connection)
})

test.after(async () => {
  for (const fn of cleanups.reverse()) await fn().catch(() => {})
  await client?.quit().catch(() => {})
  await redis?.stop()
})

function later(fn) {
  cleanups.push(fn)
}

// A fresh queue, with its events, closed at the end.
async function freshQueue() {
  const name = `q${++queues}-${process.pid}`
  const queue = new Queue(name, { connection })
  const events = new QueueEvents(name, { connection })
  await events.waitUntilReady()
  // waitUntilFinished() listens on both, once per job.
  queue.setMaxListeners(200)
  events.setMaxListeners(200)
  later(() => queue.close())
  later(() => events.close())
  return { name, queue, events }
}

// Resolves when `pred()` is true, polled; rejects past `ms`.
async function until(pred, what, ms = DEADLINE) {
  const end = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(50)
  }
}

// A fleet worker process, ready; killed at the end if still alive.
async function fleetWorker(queue, mode, env = {}) {
  const child = spawnChild(process.execPath, [FLEET, String(redis.port), queue, mode], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  later(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL')
      await once(child, 'exit')
    }
  })
  let out = ''
  await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      if (out.includes('ready\n')) resolve()
    })
    child.once('exit', (code, signal) => reject(new Error(`fleet worker exited early: ${code ?? signal}`)))
  })
  return child
}

async function runs(job) {
  return Number(await client.get(`runs:${job.queueName}:${job.id}`) ?? 0)
}

function stalledCounter(events) {
  const stalled = []
  events.on('stalled', ({ jobId }) => stalled.push(jobId))
  return stalled
}

test('a 6 s CPU job with a 2 s lock: inline BullMQ stalls and runs it again, offload runs it once', { timeout: 2 * DEADLINE }, async () => {
  const timing = { LOCK_DURATION: '2000', STALLED_INTERVAL: '1000' }
  for (const mode of ['inline', 'offload']) {
    const { name, queue, events } = await freshQueue()
    const stalled = stalledCounter(events)
    // A checker that nothing blocks: a busy worker cannot run its own.
    const observer = new Worker(name, null, { connection, autorun: false, stalledInterval: 1000 })
    observer.on('error', () => {})
    later(() => observer.close())
    observer.startStalledCheckTimer()
    const worker = await fleetWorker(name, mode, timing)
    const job = await queue.add('spin', { ms: 6000 })
    if (mode === 'inline') {
      await until(async () => (await runs(job)) >= 2, 'the inline job to run again')
      worker.kill('SIGKILL')
      assert.ok(stalled.includes(job.id), `inline: no stalled event for job ${job.id}`)
    } else {
      const done = await job.waitUntilFinished(events, DEADLINE)
      assert.equal(typeof done.pid, 'number')
      assert.equal(await runs(job), 1)
      assert.deepEqual(stalled, [])
      assert.equal(await job.getState(), 'completed')
      worker.kill('SIGTERM')
    }
    await once(worker, 'exit')
    await observer.close()
  }
})

test('120 jobs across 2 worker processes, each result checked against node:crypto', { timeout: DEADLINE }, async () => {
  const { name, queue, events } = await freshQueue()
  const workers = [await fleetWorker(name, 'offload'), await fleetWorker(name, 'offload')]
  const inputs = Array.from({ length: 120 }, (_, i) => randomBytes(1024 + i * 97))
  const jobs = await queue.addBulk(inputs.map((b) => ({ name: 'sha256', data: { b64: b.toString('base64') } })))
  const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, DEADLINE)))
  const pids = new Set()
  results.forEach((r, i) => {
    assert.equal(r.hex, createHash('sha256').update(inputs[i]).digest('hex'), `job ${i}`)
    pids.add(r.pid)
  })
  assert.deepEqual([...pids].sort(), workers.map((w) => w.pid).sort(), 'both processes took jobs')
  for (const j of jobs) assert.equal(await runs(j), 1)
  for (const w of workers) w.kill('SIGTERM')
  await Promise.all(workers.map((w) => once(w, 'exit')))
})

test('kill -9 of a fleet worker mid-job: its children die, the job completes in the other worker', { timeout: DEADLINE }, async () => {
  const { name, queue, events } = await freshQueue()
  const stalled = stalledCounter(events)
  const timing = { LOCK_DURATION: '2000', STALLED_INTERVAL: '1000' }
  const a = await fleetWorker(name, 'offload', timing)
  const b = await fleetWorker(name, 'offload', timing)
  const job = await queue.add('sleep', {}, { attempts: 2 })
  await until(async () => (await client.get(`child:${job.queueName}:${job.id}`)) !== null, 'the first run to start its child')
  const [holder, sleeper] = (await client.get(`child:${job.queueName}:${job.id}`)).split(' ').map(Number)
  const victim = holder === a.pid ? a : b
  const survivor = victim === a ? b : a
  assert.equal(victim.pid, holder)
  const kids = children(victim.pid).map((c) => c.pid)
  assert.ok(kids.includes(sleeper), `sleep ${sleeper} is a child of ${victim.pid}: ${kids}`)
  victim.kill('SIGKILL')
  await once(victim, 'exit')
  for (const pid of kids) assert.ok(await dies(pid, 5000), `child ${pid} of the killed worker is still alive`)
  const result = await job.waitUntilFinished(events, DEADLINE)
  assert.equal(result.pid, survivor.pid)
  assert.equal(await runs(job), 2)
  assert.ok(stalled.includes(job.id))
  survivor.kill('SIGTERM')
  await once(survivor, 'exit')
})

// The worker in this process: its jobs run on pools, so the loop stays free for the test.
async function localWorker(name, processor, options) {
  const worker = createWorker(name, processor, { connection, ...options })
  worker.on('error', () => {})
  later(() => worker.close())
  await worker.waitUntilReady()
  return worker
}

test('offload errors no retry can cure fail the job on its first attempt; others are retried', { timeout: DEADLINE }, async () => {
  const { name, queue, events } = await freshQueue()
  const pool = new Pool({ threads: 1 })
  const failed = new Map()
  const worker = await localWorker(name, async (job) => {
    if (job.name === 'corrupt') return decompress('gzip', Buffer.from('this is not gzip'), { pool })
    if (job.name === 'badarg') return hash('sha257', 'x', { pool })
    throw Object.assign(new Error('a plain failure'), { code: 'ERR_SOMETHING_ELSE' })
  }, { pools: [pool] })
  worker.on('failed', (job, err) => {
    if (job.attemptsMade >= (job.name === 'plain' ? 3 : 1)) failed.set(job.name, err)
  })
  const opts = { attempts: 3, backoff: { type: 'fixed', delay: 10 } }
  const jobs = await Promise.all(['corrupt', 'badarg', 'plain'].map((n) => queue.add(n, {}, opts)))
  await until(() => failed.size === 3, 'three failures')
  const expect = { corrupt: ['ERR_OFFLOAD_CORRUPT_INPUT', 1], badarg: ['ERR_INVALID_ARG_VALUE', 1], plain: ['ERR_SOMETHING_ELSE', 3] }
  for (const j of jobs) {
    const [code, attempts] = expect[j.name]
    const stored = await Job.fromId(queue, j.id)
    assert.equal(await stored.getState(), 'failed', j.name)
    assert.equal(stored.attemptsMade, attempts, j.name)
    const err = failed.get(j.name)
    assert.equal(err.code, code, j.name)
    if (attempts === 1) {
      assert.equal(err.name, 'UnrecoverableError')
      assert.equal(err.cause.code, code)
      assert.equal(stored.failedReason, err.cause.message)
    }
  }
})

test('ERR_OFFLOAD_QUEUE_FULL sends the job back without using an attempt; it completes', { timeout: DEADLINE }, async () => {
  const { name, queue, events } = await freshQueue()
  const pool = new Pool({ threads: 1, maxQueue: 0 })
  let refused = 0
  await localWorker(name, async (job, { signal }) => {
    try {
      await spin(200, { pool, signal })
    } catch (err) {
      if (err.code === 'ERR_OFFLOAD_QUEUE_FULL') refused++
      throw err
    }
    return job.data.n
  }, { pools: [pool], concurrency: 3 })
  const jobs = await queue.addBulk([1, 2, 3, 4, 5, 6].map((n) => ({ name: 'spin', data: { n } })))
  const results = await Promise.all(jobs.map((j) => j.waitUntilFinished(events, DEADLINE)))
  assert.deepEqual(results, [1, 2, 3, 4, 5, 6])
  assert.ok(refused > 0, 'no task was refused: the test did not fill the queue')
  for (const j of jobs) assert.equal((await Job.fromId(queue, j.id)).attemptsMade, 1)
})

test('close(): a running job finishes, one past the deadline is aborted and goes back, then the pools close', { timeout: DEADLINE }, async () => {
  const { name, queue, events } = await freshQueue()
  const pool = new Pool({ threads: 2 })
  const order = []
  const started = new Set()
  let abortReason
  const worker = await localWorker(name, async (job, { signal }) => {
    started.add(job.data.ms)
    signal.addEventListener('abort', () => { abortReason = signal.reason })
    await spin(job.data.ms, { pool, signal })
    return job.data.ms
  }, { pools: [pool], closeTimeout: 1500 })
  assert.equal(worker.concurrency, 2, "concurrency 'auto' = the pool's threads")
  worker.on('completed', (job) => order.push(`completed ${job.data.ms}`))
  const short = await queue.add('short', { ms: 300 })
  const long = await queue.add('long', { ms: 60000 })
  await until(() => started.size === 2, 'both jobs to start')
  await worker.close()
  order.push('closed')
  assert.deepEqual(order, ['completed 300', 'closed'])
  assert.equal(await short.getState(), 'completed')
  assert.equal(abortReason?.code, 'ERR_OFFLOAD_CANCELLED')
  const back = await Job.fromId(queue, long.id)
  assert.ok(['wait', 'delayed'].includes(await back.getState()), await back.getState())
  assert.equal(back.attemptsMade, 0)
  await assert.rejects(hash('sha256', 'x', { pool }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
  // Another worker takes it.
  await localWorker(name, async () => 'second run', { concurrency: 1 })
  assert.equal(await long.waitUntilFinished(events, DEADLINE), 'second run')
})

test('createWorker checks its arguments', () => {
  const pool = new Pool({ threads: 1 })
  later(() => pool.close())
  const ok = async () => {}
  assert.throws(() => createWorker(1, ok, { connection }), { code: 'ERR_INVALID_ARG_TYPE', message: /"queueName"/ })
  assert.throws(() => createWorker('', ok, { connection }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.throws(() => createWorker('q', 'f', { connection }), { code: 'ERR_INVALID_ARG_TYPE', message: /"processor"/ })
  assert.throws(() => createWorker('q', ok), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.connection"/ })
  assert.throws(() => createWorker('q', ok, 5), { code: 'ERR_INVALID_ARG_TYPE', message: /"options"/ })
  assert.throws(() => createWorker('q', ok, { connection, pools: pool }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options.pools"/ })
  assert.throws(() => createWorker('q', ok, { connection, pools: [pool, {}] }), { code: 'ERR_INVALID_ARG_TYPE', message: /options.pools\[1\]/ })
  assert.throws(() => createWorker('q', ok, { connection, concurrency: 'auto' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options.concurrency/ })
  assert.throws(() => createWorker('q', ok, { connection, concurrency: 'many' }), { code: 'ERR_INVALID_ARG_TYPE', message: /options.concurrency/ })
  assert.throws(() => createWorker('q', ok, { connection, concurrency: 0 }), { code: 'ERR_OUT_OF_RANGE', message: /options.concurrency/ })
  assert.throws(() => createWorker('q', ok, { connection, concurrency: 1.5 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => createWorker('q', ok, { connection, closeTimeout: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /options.closeTimeout/ })
  assert.throws(() => createWorker('q', ok, { connection, closeTimeout: '1' }), { code: 'ERR_INVALID_ARG_TYPE', message: /options.closeTimeout/ })
})

test("concurrency 'auto' sums the pools' capacity", { timeout: DEADLINE }, async () => {
  const { name } = await freshQueue()
  const pool = new Pool({ threads: 3 })
  const threads = new ThreadPool({ script: path.join(__dirname, 'fixtures', 'thread-worker.js'), threads: 2, minThreads: 0 })
  const procs = new ProcessPool({ script: path.join(__dirname, 'fixtures', 'pool-worker.js'), size: 4, minWorkers: 0 })
  const worker = createWorker(name, async () => {}, { connection, pools: [pool, threads, procs], autorun: false })
  assert.equal(worker.concurrency, 9)
  await worker.close()
  // close() closed them all.
  await assert.rejects(hash('sha256', 'x', { pool }), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
  await assert.rejects(threads.run(1), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
  await assert.rejects(procs.run(1), { code: 'ERR_OFFLOAD_POOL_CLOSED' })
})

test('without bullmq installed, require(offload/bullmq) fails with one clear line', () => {
  // A copy of the package's JS (the native file linked) where no node_modules can be found.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-nobull-'))
  try {
    const root = path.join(__dirname, '..')
    fs.cpSync(path.join(root, 'lib'), path.join(dir, 'lib'), { recursive: true })
    fs.mkdirSync(path.join(dir, 'napi'))
    fs.copyFileSync(path.join(root, 'napi', 'binding.js'), path.join(dir, 'napi', 'binding.js'))
    for (const f of fs.readdirSync(path.join(root, 'napi')).filter((f) => f.endsWith('.node'))) {
      fs.symlinkSync(path.join(root, 'napi', f), path.join(dir, 'napi', f))
    }
    fs.copyFileSync(path.join(root, 'package.json'), path.join(dir, 'package.json'))
    const script = "try { require('./lib/integrations/bullmq') } catch (e) { console.log(JSON.stringify({ message: e.message, code: e.code })); process.exit(0) } console.log('loaded')"
    const env = { PATH: process.env.PATH, HOME: dir }
    // The copy really cannot see bullmq (else the test would prove nothing).
    assert.throws(() => execFileSync(process.execPath, ['-e', "require.resolve('bullmq')"], { cwd: dir, env, stdio: 'pipe' }))
    const out = execFileSync(process.execPath, ['-e', script], { cwd: dir, env, encoding: 'utf8' })
    const { message, code } = JSON.parse(out)
    assert.equal(message, 'offload/bullmq needs the optional peer dependency bullmq: npm install bullmq ioredis')
    assert.equal(code, 'MODULE_NOT_FOUND')
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('a lost lock fires the signal; the job is left to the stalled checker and runs again', { timeout: DEADLINE }, async () => {
  const { name, queue, events } = await freshQueue()
  const pool = new Pool({ threads: 1 })
  const reasons = []
  let failed = 0
  const worker = await localWorker(name, async (job, { signal }) => {
    if (reasons.length > 0) return 'second run'
    await client.set(`started:${name}`, '1')
    try {
      await spin(60000, { pool, signal })
    } finally {
      reasons.push(signal.reason)
    }
  }, { pools: [pool], lockDuration: 1000, stalledInterval: 1000 })
  worker.on('failed', () => failed++)
  const job = await queue.add('spin', {})
  await until(async () => (await client.get(`started:${name}`)) !== null, 'the job to start')
  // Another party takes the lock away, as a stalled checker does after a long pause.
  assert.equal(await client.del(`bull:${name}:${job.id}:lock`), 1)
  assert.equal(await job.waitUntilFinished(events, DEADLINE), 'second run')
  assert.equal(reasons.length, 1)
  assert.equal(reasons[0].code, 'ERR_OFFLOAD_CANCELLED')
  assert.match(reasons[0].message, /lock/)
  assert.equal(failed, 0)
})

test('close(true) aborts running jobs at once; they go back without using an attempt', { timeout: DEADLINE }, async () => {
  const { name, queue } = await freshQueue()
  const pool = new Pool({ threads: 1 })
  let started = false
  const worker = await localWorker(name, async (job, { signal }) => {
    started = true
    await spin(60000, { pool, signal })
  }, { pools: [pool], closeTimeout: DEADLINE })
  const job = await queue.add('long', {})
  await until(() => started, 'the job to start')
  await worker.close(true)
  const back = await Job.fromId(queue, job.id)
  assert.ok(['wait', 'delayed'].includes(await back.getState()))
  assert.equal(back.attemptsMade, 0)
})
