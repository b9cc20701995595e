'use strict'
// examples/bullmq end to end: a private redis-server, the Express server and a worker process;
// POST a body, follow the status URL until the job completes, check the result against
// node:crypto and a count made here, and read both processes' metrics.
const test = require('node:test')
const assert = require('node:assert/strict')
const { spawn } = require('node:child_process')
const { createHash, randomBytes } = require('node:crypto')
const { once } = require('node:events')
const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { startRedis } = require('./helpers/redis')

const DIR = path.join(__dirname, '..', 'examples', 'bullmq')
const DEADLINE = 60000

// Starts `file` and resolves with the first number it prints matching `pattern`.
async function start(file, env, pattern, cleanups) {
  const child = spawn(process.execPath, [path.join(DIR, file)], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'inherit'] })
  cleanups.push(async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM')
      const timer = setTimeout(() => child.kill('SIGKILL'), 15000)
      await once(child, 'exit')
      clearTimeout(timer)
    }
  })
  let out = ''
  const port = await new Promise((resolve, reject) => {
    child.stdout.on('data', (d) => {
      out += d
      const m = pattern.exec(out)
      if (m) resolve(Number(m[1]))
    })
    child.once('exit', (code, signal) => reject(new Error(`${file} exited: ${code ?? signal}\n${out}`)))
  })
  return { child, port }
}

test('examples/bullmq: POST enqueues (202 + status URL), the worker completes it, both expose metrics', { timeout: 2 * DEADLINE }, async (t) => {
  // Undone last-in first-out: the processes stop while Redis still answers.
  const cleanups = []
  t.after(async () => {
    for (const fn of cleanups.reverse()) await fn()
  })
  const redis = await startRedis()
  cleanups.push(() => redis.stop())
  const env = { REDIS_URL: redis.url }
  const server = await start('server.js', { ...env, PORT: '0' }, /listening on (\d+)/, cleanups)
  const worker = await start('worker.js', { ...env, METRICS_PORT: '0' }, /metrics on (\d+)/, cleanups)
  const base = `http://127.0.0.1:${server.port}`

  const lines = Array.from({ length: 500 }, (_, i) => `${i} ${randomBytes(8).toString('hex')}`)
  const body = Buffer.from(`${lines.join('\n')}\n`)
  const posted = await fetch(`${base}/jobs`, { method: 'POST', body, headers: { 'content-type': 'application/octet-stream' } })
  assert.equal(posted.status, 202)
  const { id, status } = await posted.json()
  assert.equal(id, createHash('sha256').update(body).digest('hex'))
  assert.equal(posted.headers.get('location'), status)

  let job
  const end = Date.now() + DEADLINE
  for (;;) {
    job = await (await fetch(`${base}${status}`)).json()
    if (job.state === 'completed' || job.state === 'failed') break
    if (Date.now() > end) throw new Error(`job still ${job.state}`)
    await sleep(50)
  }
  assert.equal(job.state, 'completed', job.failedReason)
  assert.equal(job.result.sha256, id)
  assert.equal(job.result.bytes, body.length)
  assert.equal(job.result.lines, lines.length)
  assert.ok(job.result.gzipBytes > 0 && job.result.gzipBytes < body.length, `gzip ${job.result.gzipBytes} of ${body.length}`)

  assert.equal((await fetch(`${base}/jobs/nope`)).status, 404)
  const serverMetrics = await (await fetch(`${base}/metrics`)).text()
  assert.match(serverMetrics, /offload_pool_tasks_total\{pool="http",outcome="completed"\} [1-9]/)
  const workerMetrics = await (await fetch(`http://127.0.0.1:${worker.port}/metrics`)).text()
  assert.match(workerMetrics, /offload_pool_tasks_total\{pool="jobs",outcome="completed"\} [1-9]/)
  assert.match(workerMetrics, /pool="lines"/)
})
