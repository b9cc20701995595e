'use strict'
// One measured BullMQ round in a process of its own (so the worker's event loop is measured
// alone): adds `jobs` jobs carrying `bytes` of base64 data to a fresh queue, then runs one
// worker over them, `inline` (node:crypto's sha256 on the event loop, what a plain BullMQ
// processor does) or `offload` (createWorker, hash on an offload Pool), and reports jobs/s
// from the worker's start to its last `completed` event, with the loop's delay meanwhile.
// Every result is checked against node:crypto; a wrong one fails the round.
const { createHash, randomBytes } = require('node:crypto')
const { monitorEventLoopDelay, performance } = require('node:perf_hooks')
const { Queue, Worker } = require('bullmq')
const { createWorker } = require('../../lib/integrations/bullmq')
const { Pool, hash } = require('../..')
const { helperMain } = require('../lib')

helperMain(async () => {
  const { port, mode, bytes, jobs, concurrency, threads } = JSON.parse(process.argv[2])
  const connection = { host: '127.0.0.1', port, maxRetriesPerRequest: null }
  const name = `bench-${mode}-${bytes}-${process.pid}`
  const queue = new Queue(name, { connection })
  const b64 = randomBytes(bytes).toString('base64')
  const expected = createHash('sha256').update(Buffer.from(b64, 'base64')).digest('hex')
  for (let i = 0; i < jobs; i += 500) {
    const n = Math.min(500, jobs - i)
    await queue.addBulk(Array.from({ length: n }, () => ({ name: 'sha256', data: { b64 }, opts: { removeOnComplete: true } })))
  }

  const opts = { connection, concurrency, autorun: false }
  let worker
  if (mode === 'offload') {
    const pool = new Pool({ threads })
    worker = createWorker(name, (job, { signal }) => hash('sha256', Buffer.from(job.data.b64, 'base64'), { pool, signal, encoding: 'hex' }), { ...opts, pools: [pool] })
  } else {
    worker = new Worker(name, async (job) => createHash('sha256').update(Buffer.from(job.data.b64, 'base64')).digest('hex'), opts)
  }
  let done = 0
  let wrong = 0
  const finished = new Promise((resolve) => {
    worker.on('completed', (job, result) => {
      if (result !== expected) wrong++
      if (++done === jobs) resolve()
    })
  })
  worker.on('error', (err) => console.error(`bullmq bench worker: ${err.message}`))
  await worker.waitUntilReady()
  const loop = monitorEventLoopDelay({ resolution: 1 })
  loop.enable()
  const cpu0 = process.cpuUsage()
  const t0 = performance.now()
  worker.run().catch((err) => console.error(err))
  await finished
  const elapsedMs = performance.now() - t0
  const cpu = process.cpuUsage(cpu0)
  loop.disable()
  await worker.close()
  await queue.obliterate({ force: true })
  await queue.close()
  if (wrong > 0) throw new Error(`${mode}: ${wrong} of ${jobs} digests wrong`)
  return {
    jobsPerSec: jobs / (elapsedMs / 1000),
    elapsedMs,
    loop: { p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 },
    cpu: { self: (cpu.user + cpu.system) / 1000 / elapsedMs },
  }
})
