'use strict'
// The fleet side: run as many of these as you like, on as many machines. Each job's CPU work
// runs on offload's pools (a SHA-256 and a gzip on the Rust pool, the line count in a worker
// process), so the event loop stays free to renew BullMQ's locks. GET /metrics on
// METRICS_PORT is offload's Prometheus text for this process.
//
//   REDIS_URL=redis://127.0.0.1:6379 METRICS_PORT=9100 node examples/bullmq/worker.js
const http = require('node:http')
const path = require('node:path')
const offload = require('offload')
const { createWorker } = require('offload/bullmq')
const { connection, QUEUE } = require('./connection')

const pool = new offload.Pool({ name: 'jobs', threads: 2 })
const lines = new offload.ProcessPool({ name: 'lines', script: path.join(__dirname, 'lines-worker.js'), size: 1 })

const worker = createWorker(QUEUE, async (job, { signal }) => {
  const data = Buffer.from(job.data.b64, 'base64')
  const [sha256, gzipped, lineCount] = await Promise.all([
    offload.hash('sha256', data, { pool, signal, encoding: 'hex' }),
    offload.compress('gzip', data, { pool, signal, level: 6 }),
    lines.run(data, { signal }),
  ])
  return { bytes: data.length, sha256, gzipBytes: gzipped.length, lines: lineCount }
}, { connection, pools: [pool, lines], closeTimeout: 10_000 })

worker.on('failed', (job, err) => console.error(`job ${job?.id} failed: ${err.message}`))
worker.on('error', (err) => console.error(`worker: ${err.message}`))

const metrics = http.createServer((req, res) => {
  if (req.url !== '/metrics') return res.writeHead(404).end()
  res.writeHead(200, { 'Content-Type': offload.metrics.contentType }).end(offload.metrics())
})
metrics.listen(Number(process.env.METRICS_PORT ?? 9100), '127.0.0.1', () => {
  console.log(`worker ready, metrics on ${metrics.address().port}`)
})

// Running jobs get closeTimeout to finish; the rest go back to the queue for other workers.
process.once('SIGTERM', async () => {
  metrics.close()
  await worker.close()
  process.exit(0)
})
