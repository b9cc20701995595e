'use strict'
// The web side of a BullMQ fleet: POST /jobs enqueues the request body and answers 202 with a
// status URL; GET /jobs/:id tells the job's state and, once done, its result; GET /metrics is
// offload's Prometheus text. The heavy work runs in worker.js, possibly on other machines.
//
//   REDIS_URL=redis://127.0.0.1:6379 PORT=3000 node examples/bullmq/server.js
//   curl -i --data-binary @big.log localhost:3000/jobs      # 202, Location: /jobs/<id>
//   curl localhost:3000/jobs/<id>                            # {"state":"completed","result":{...}}
//
// The job id is the body's SHA-256 (computed on offload's pool, not on the loop), so the same
// upload twice is one job.
const express = require('express')
const { Queue } = require('bullmq')
const offload = require('offload')
const { errorHandler, abortOnClose } = require('offload/express')
const { connection, QUEUE } = require('./connection')

const queue = new Queue(QUEUE, { connection })
const pool = new offload.Pool({ name: 'http', threads: 1, maxQueue: 64 })
const app = express()

app.post('/jobs', express.raw({ type: () => true, limit: '1mb' }), async (req, res, next) => {
  try {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0)
    const id = await offload.hash('sha256', body, { pool, signal: abortOnClose(req), encoding: 'hex' })
    // Job data lives in Redis: fine for a megabyte; put larger inputs in object storage and
    // enqueue their key.
    await queue.add('digest', { b64: body.toString('base64') }, { jobId: id, attempts: 3, backoff: { type: 'exponential', delay: 1000 } })
    res.status(202).location(`/jobs/${id}`).json({ id, status: `/jobs/${id}` })
  } catch (err) {
    next(err)
  }
})

app.get('/jobs/:id', async (req, res, next) => {
  try {
    const job = await queue.getJob(req.params.id)
    if (job === undefined) return res.status(404).json({ error: 'no such job' })
    const state = await job.getState()
    res.json({ id: job.id, state, result: job.returnvalue ?? null, failedReason: job.failedReason ?? null, attemptsMade: job.attemptsMade })
  } catch (err) {
    next(err)
  }
})

app.get('/metrics', (req, res) => {
  res.type(offload.metrics.contentType).send(offload.metrics())
})

app.use(errorHandler())

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on ${server.address().port}`)
})

process.once('SIGTERM', async () => {
  server.close()
  await queue.close()
  await pool.close()
  process.exit(0)
})
