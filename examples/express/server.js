'use strict'
// An Express server that keeps answering while it hashes, compresses, runs external tools
// and user code (in worker processes and on worker threads): the patterns to copy.
//
//   node examples/express/server.js            # PORT=3000 by default; PORT=0 picks a free one
//   curl --data-binary @big.log localhost:3000/compress > big.log.gz
//   curl localhost:3000/sales-report/7?rows=5000 > report.html
//   curl --data-binary @photo.jpg 'localhost:3000/thumbnail?width=320&format=webp' > thumb.webp
//   curl -H 'Content-Type: application/json' -d '{"user":"alice","password":"correct horse battery staple"}' localhost:3000/login
//   curl -H 'Accept-Encoding: br' localhost:3000/sales-report/7?rows=5000 | brotli -d   # compressed on the pool
//
// `?inline=1` on /hash and /compress does the same work on the event loop instead, as the
// blocking example in most tutorials does, and `?zlib=1` on /compress uses async node:zlib;
// `npm run demo` compares them under load.
const crypto = require('node:crypto')
const path = require('node:path')
const zlib = require('node:zlib')
const { promisify } = require('node:util')
const { monitorEventLoopDelay } = require('node:perf_hooks')
const express = require('express')
const offload = require('offload')
const { errorHandler, abortOnClose, compression } = require('offload/express')

const gzip = promisify(zlib.gzip)

// A pool of its own for request work, with a short queue: past it, clients get a 503 with
// Retry-After (errorHandler) instead of waiting behind minutes of work.
const pool = new offload.Pool({ name: 'http', maxQueue: 64 })
// User code that must not share this heap runs in worker processes.
const reports = new offload.ProcessPool({ script: path.join(__dirname, 'report-worker.js'), size: 2, maxQueue: 64, timeout: 10_000 })
// Pure-JS CPU work we trust runs on worker threads: the same kind of serve() module, cheaper
// to start and to message than a process, but a native crash there would take the server down.
const salesReports = new offload.ThreadPool({ script: path.join(__dirname, 'report-thread-worker.js'), threads: 2, maxQueue: 64, name: 'sales' })

const app = express()
const body = express.raw({ type: () => true, limit: '64mb' })
// Responses still being worked on, so a shutdown can ask each to close its connection.
const inFlight = new Set()
let closing = false
app.use((req, res, next) => {
  if (closing) res.setHeader('Connection', 'close')
  inFlight.add(res)
  // The socket's 'close' too: a pipelined response whose client left never emits its own.
  const forget = () => {
    inFlight.delete(res)
    req.socket.removeListener('close', forget)
    // Shutting down: a keep-alive connection that just went idle is not needed any more.
    if (closing) server.closeIdleConnections()
  }
  res.once('close', forget)
  req.socket.once('close', forget)
  next()
})
// Responses compressed on `pool` (zstd, br, gzip or deflate, as the client accepts), not with
// node:zlib on libuv's threads: text, JSON and HTML over 1 KiB; images and the gzip files
// /compress returns are left alone. When the pool's queue is full, a response goes out
// uncompressed rather than failing.
app.use(compression({ pool }))
const loop = monitorEventLoopDelay({ resolution: 1 })
loop.enable()

app.get('/health', (req, res) => res.json({ status: 'ok' }))

app.post('/hash', body, async (req, res, next) => {
  try {
    const data = req.body ?? Buffer.alloc(0) // Express 5 leaves an empty body undefined
    if (req.query.inline) return res.send(crypto.createHash('sha256').update(data).digest('hex'))
    const digest = await offload.hash('sha256', data, { encoding: 'hex', pool, signal: abortOnClose(req) })
    res.send(digest)
  } catch (err) {
    next(err)
  }
})

app.post('/compress', body, async (req, res, next) => {
  try {
    res.type('application/gzip')
    const data = req.body ?? Buffer.alloc(0)
    if (req.query.inline) return res.send(zlib.gzipSync(data, { level: 6 }))
    // Node's own async gzip (libuv's threadpool), one 1 MiB output chunk at a time.
    if (req.query.zlib) return res.send(await gzip(data, { level: 6, chunkSize: 1 << 20 }))
    res.send(await offload.compress('gzip', data, { level: 6, pool, timeout: 5000, signal: abortOnClose(req) }))
  } catch (err) {
    next(err)
  }
})

// An external tool (a stand-in for ffmpeg or ImageMagick): no shell, a timeout, and the whole
// process tree killed on timeout or when the client leaves.
app.post('/gzip-tool', body, async (req, res, next) => {
  try {
    const { stdout } = await offload.exec('gzip', ['-9', '-c'], {
      input: req.body ?? Buffer.alloc(0), encoding: 'buffer', timeout: 10_000, killTree: true, signal: abortOnClose(req),
    })
    res.type('application/gzip').send(stdout)
  } catch (err) {
    next(err)
  }
})

// JavaScript that runs in an isolated worker process: a crash or a leak there costs one
// request, not the server.
app.post('/report', body, async (req, res, next) => {
  try {
    res.json(await reports.run(req.body ?? Buffer.alloc(0), { name: 'words', signal: abortOnClose(req) }))
  } catch (err) {
    next(err)
  }
})

// A generated HTML sales report, rendered on a worker thread: GET /sales-report/7?rows=5000.
// `deadline` (ms, default 5000) is how long this client will wait: past it, a 504.
app.get('/sales-report/:id', async (req, res, next) => {
  try {
    const rows = Number(req.query.rows ?? 1000)
    const deadline = Number(req.query.deadline ?? 5000)
    if (!Number.isInteger(rows) || rows < 0 || rows > 1_000_000) return res.status(400).json({ error: 'rows: an integer from 0 to 1000000' })
    if (!Number.isInteger(deadline) || deadline < 1 || deadline > 60_000) return res.status(400).json({ error: 'deadline: milliseconds from 1 to 60000' })
    const html = await salesReports.run({ id: req.params.id, rows }, { name: 'sales', timeout: deadline, signal: abortOnClose(req) })
    res.type('html').send(html)
  } catch (err) {
    next(err)
  }
})

// An uploaded photo to a thumbnail, decoded, turned upright and encoded on the CPU pool (not
// on libuv's threads, which fs and dns need): POST /thumbnail?width=320&format=webp. A file
// that is not an image is a 415, a corrupt one a 400, one over 50 megapixels a 413.
const THUMBNAIL_FORMATS = new Set(['jpeg', 'png', 'webp'])
app.post('/thumbnail', body, async (req, res, next) => {
  try {
    const width = Number(req.query.width ?? 320)
    const format = String(req.query.format ?? 'jpeg')
    if (!Number.isInteger(width) || width < 1 || width > 4096) return res.status(400).json({ error: 'width: an integer from 1 to 4096' })
    if (!THUMBNAIL_FORMATS.has(format)) return res.status(400).json({ error: 'format: jpeg, png or webp' })
    const thumb = await offload.transformImage(req.body ?? Buffer.alloc(0), {
      resize: { width, fit: 'inside', withoutEnlargement: true }, format, maxPixels: 50_000_000, pool, timeout: 10_000, signal: abortOnClose(req),
    })
    res.type(format).send(thumb)
  } catch (err) {
    next(err)
  }
})

// Logins: verifyPassword on the CPU pool (argon2id with OWASP's parameters, ~15 ms of one core
// each), so a burst of logins neither blocks the loop nor takes libuv's threads from fs and dns.
// Past the pool's queue (a login storm) errorHandler answers 503 with Retry-After. The store is
// a demo: its passwords are hashed at startup (on the default pool, leaving `pool`'s counters to
// requests); a real one keeps only the hashes.
const DEMO_USERS = { alice: 'correct horse battery staple', bob: 'hunter2' }
const users = (async () => {
  const store = new Map()
  for (const [name, password] of Object.entries(DEMO_USERS)) store.set(name, await offload.hashPassword(password))
  // Unknown names are verified against this, so the time taken does not tell which names exist.
  store.set('', await offload.hashPassword(crypto.randomBytes(16)))
  return store
})()
const credentials = express.json({ limit: '4kb' })
app.post('/login', credentials, async (req, res, next) => {
  try {
    const { user, password } = req.body ?? {}
    if (typeof user !== 'string' || typeof password !== 'string') return res.status(400).json({ error: 'user and password: strings' })
    const store = await users
    const known = user !== '' && store.has(user)
    const stored = store.get(known ? user : '')
    const ok = await offload.verifyPassword(stored, password, { pool, signal: abortOnClose(req) })
    if (!ok || !known) return res.status(401).json({ error: 'wrong user or password' })
    // Parameters raised since this hash was made: store a new one while the password is at hand.
    if (offload.needsRehash(stored)) store.set(user, await offload.hashPassword(password, { pool }))
    res.json({ user })
  } catch (err) {
    next(err)
  }
})

app.get('/metrics', (req, res) => {
  res.type(offload.metrics.contentType).send(offload.metrics())
})

// Event-loop delay since the last call, for the demo: GET /loop?reset=1.
app.get('/loop', (req, res) => {
  res.json({ p50: loop.percentile(50) / 1e6, p99: loop.percentile(99) / 1e6, max: loop.max / 1e6 })
  if (req.query.reset) loop.reset()
})

app.use(errorHandler({ retryAfter: 1 }))

const server = app.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  console.log(`listening on http://127.0.0.1:${server.address().port}`)
})

// Graceful shutdown: stop accepting connections, let accepted requests finish (their work is
// in the pools), then close the pools and exit.
process.once('SIGTERM', () => {
  closing = true
  for (const res of inFlight) if (!res.headersSent) res.setHeader('Connection', 'close')
  // A request that is still being uploaded, or work that hangs, must not keep the process
  // alive forever: after the deadline, connections are cut and the exit code says so.
  const deadline = setTimeout(() => {
    console.error(`shutdown deadline passed with ${inFlight.size} requests in flight`)
    server.closeAllConnections()
    process.exit(1)
  }, Number(process.env.SHUTDOWN_DEADLINE_MS ?? 30_000))
  deadline.unref()
  server.close(async () => {
    await Promise.all([pool.close(), reports.close(), salesReports.close()])
    console.log('shut down cleanly')
    process.exit(0)
  })
})
