const express = require('express')
const { hash, compress } = require('offload') // or: import { hash, compress } from 'offload'
const { errorHandler, abortOnClose } = require('offload/express')

const app = express()

// Any content type as raw bytes: curl --data-binary sends application/x-www-form-urlencoded.
app.post('/upload', express.raw({ type: () => true, limit: '50mb' }), async (req, res, next) => {
  if (!Buffer.isBuffer(req.body) || req.body.length === 0) {
    return res.status(400).json({ error: 'send the file as the request body' })
  }
  try {
    const signal = abortOnClose(req) // the client leaves: the work stops
    const digest = await hash('sha256', req.body, { encoding: 'hex', timeout: 2000, signal })
    const gz = await compress('gzip', req.body, { level: 6, signal })
    res.json({ digest, bytes: req.body.length, compressed: gz.length })
  } catch (err) { next(err) }
})
app.use(errorHandler()) // corrupt input → 400, queue full → 503 + Retry-After, timeout → 504, …

const server = app.listen(process.env.PORT ?? 3000, () => {
  console.log(`listening on http://localhost:${server.address().port}`)
})
