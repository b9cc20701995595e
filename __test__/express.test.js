'use strict'
// offload/express and metrics() against real HTTP on loopback: a full queue is a 503 with
// Retry-After, a timeout a 504, a client that leaves cancels its task, the example server's
// ThreadPool route answers what its generator gives, the TypeScript example built to JavaScript
// serves from its TypeScript thread worker, a graceful shutdown of the example server loses no
// accepted request, its /login route verifies passwords on the CPU pool and turns a login storm
// into 503s with Retry-After, and the metrics exposition parses.
const test = require('node:test')
const assert = require('node:assert/strict')
const http = require('node:http')
const path = require('node:path')
const zlib = require('node:zlib')
const { spawn } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')
const express = require('express')
const parsePrometheus = require('parse-prometheus-text-format')
const offload = require('..')
const { spin } = require('offload/testing')
const { errorHandler, abortOnClose } = require('offload/express')
const { until } = require('./helpers/until')

function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
}

function request(port, method, url, body, { agent = false } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method, path: url, agent }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
      res.on('aborted', () => reject(new Error(`${url}: response cut short`)))
    })
    req.setTimeout(30_000, () => req.destroy(new Error(`${url}: no answer in 30 s`)))
    req.on('error', reject)
    req.end(body)
  })
}


// One pool thread and no waiting room: a second concurrent call is refused.
function spinApp(pool) {
  const app = express()
  app.get('/spin', async (req, res, next) => {
    try {
      await spin(Number(req.query.ms), { pool, signal: abortOnClose(req), timeout: req.query.timeout ? Number(req.query.timeout) : undefined })
      res.send('spun')
    } catch (err) {
      next(err)
    }
  })
  app.get('/boom', (req, res, next) => next(new Error('not ours')))
  app.get('/gzipped-full', (req, res, next) => {
    res.setHeader('Content-Encoding', 'gzip')
    res.setHeader('Cache-Control', 'public, max-age=86400')
    next(new offload.OffloadError('ERR_OFFLOAD_QUEUE_FULL', 'full'))
  })
  app.get('/late', (req, res, next) => {
    res.write('partial')
    next(new offload.OffloadError('ERR_OFFLOAD_TIMEOUT', 'too late'))
  })
  app.use(errorHandler({ retryAfter: 7 }))
  // What errorHandler passes on reaches the next error handler; once headers are sent, it
  // can only finish the response.
  app.use((err, req, res, next) => (res.headersSent ? res.end() : res.status(500).send(`fallback: ${err.message}`)))
  return app
}

// A one-thread pool behind spinApp, closed with the test; returns { pool, port }.
async function spinServer(t, poolOptions) {
  const pool = new offload.Pool({ threads: 1, ...poolOptions })
  const server = await listen(spinApp(pool))
  t.after(() => { server.close(); return pool.close() })
  return { pool, port: server.address().port }
}

// Starts a request that spins the pool's thread for `ms` until it is destroyed.
function hold(port, ms) {
  const req = http.request({ host: '127.0.0.1', port, path: `/spin?ms=${ms}` })
  req.on('error', () => {})
  req.end()
  return req
}

test('a full queue is a 503 with Retry-After; a timeout is a 504; other errors pass through', { timeout: 60_000 }, async (t) => {
  const { pool, port } = await spinServer(t, { maxQueue: 0 })
  const busy = hold(port, 30_000) // the only thread, until this client leaves
  await until(() => pool.stats().running === 1, 'the first task to run')
  const refused = await request(port, 'GET', '/spin?ms=1')
  assert.equal(refused.status, 503)
  assert.equal(refused.headers['retry-after'], '7')
  assert.equal(refused.headers['cache-control'], 'no-store')
  assert.deepEqual(JSON.parse(refused.body), { error: { code: 'ERR_OFFLOAD_QUEUE_FULL', message: 'The server is busy; retry later.' } })
  busy.destroy()
  await until(() => pool.stats().running === 0, 'the first task to be cancelled')
  // The route's own headers do not leak into the error response.
  const scrubbed = await request(port, 'GET', '/gzipped-full')
  assert.equal(scrubbed.status, 503)
  assert.equal(scrubbed.headers['content-encoding'], undefined)
  assert.equal(scrubbed.headers['cache-control'], 'no-store')
  // Headers already sent: the error goes on to the next handler, not into a 504.
  const late = await request(port, 'GET', '/late')
  assert.equal(late.status, 200)
  assert.equal(late.body.toString(), 'partial')
  const slow = await request(port, 'GET', '/spin?ms=2000&timeout=50')
  assert.equal(slow.status, 504)
  assert.equal(JSON.parse(slow.body).error.code, 'ERR_OFFLOAD_TIMEOUT')
  const other = await request(port, 'GET', '/boom')
  assert.equal(other.status, 500)
  assert.equal(other.body.toString(), 'fallback: not ours')
  assert.equal(pool.stats().rejected, 1)
  // The pool counts the timeout once its thread has seen the cancellation.
  await until(() => pool.stats().timedOut === 1, 'the timeout to be counted')
})

test('a client that disconnects cancels its running task, and nothing is sent', { timeout: 60_000 }, async (t) => {
  const { pool, port } = await spinServer(t)
  const req = hold(port, 20_000)
  await until(() => pool.stats().running === 1, 'the task to run')
  req.destroy()
  await until(() => pool.stats().cancelled === 1, 'the task to be cancelled')
  assert.equal(pool.stats().running, 0)
  assert.equal(pool.stats().completed, 0)
  // The thread is free again at once, not after 20 s.
  assert.equal((await request(port, 'GET', '/spin?ms=1')).status, 200)
})

test('abortOnClose: fires only for an abandoned response, with a coded reason', async () => {
  assert.throws(() => abortOnClose(null), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => abortOnClose({ on() {} }, 'res'), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => errorHandler({ retryAfter: -1 }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => errorHandler({ retryAfter: '1' }), { code: 'ERR_INVALID_ARG_TYPE' })
  const signals = []
  const server = http.createServer((req, res) => {
    signals.push(abortOnClose(req, res))
    if (req.url === '/answer') res.end('done')
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  await request(port, 'GET', '/answer')
  const left = http.request({ host: '127.0.0.1', port, path: '/hang' })
  left.on('error', () => {})
  left.end()
  await until(() => signals.length === 2, 'the second request')
  left.destroy()
  await until(() => signals[1].aborted, 'the abandoned request to abort')
  assert.equal(signals[0].aborted, false, 'a completed response is not an abandonment')
  assert.equal(signals[1].reason.code, 'ERR_OFFLOAD_CLIENT_GONE')

  // Two pipelined requests on one connection, then the client leaves: the second, still
  // waiting behind the first, has no socket of its own and must abort too.
  const net = require('node:net')
  const before = signals.length
  const socket = net.connect(port, '127.0.0.1')
  socket.on('error', () => {})
  socket.write('GET /hang1 HTTP/1.1\r\nHost: x\r\n\r\nGET /hang2 HTTP/1.1\r\nHost: x\r\n\r\n')
  await until(() => signals.length === before + 2, 'both pipelined requests')
  socket.destroy()
  await until(() => signals[before].aborted && signals[before + 1].aborted, 'both pipelined requests to abort')
  server.close()
})

test('abortOnClose: one signal per response, shared by its calls; a client that leaves aborts only its own', async () => {
  const seen = new Map() // url -> { res, signal, again }
  const server = http.createServer((req, res) => {
    const signal = abortOnClose(req, res)
    seen.set(req.url, { res, signal, again: abortOnClose(req, res) })
  })
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address()
  // Two clients, each on a connection of its own, both waiting for an answer.
  const leaving = http.request({ host: '127.0.0.1', port, path: '/leaving', agent: false })
  leaving.on('error', () => {})
  leaving.end()
  const staying = request(port, 'GET', '/staying')
  staying.catch(() => {}) // awaited below; cut short only if the test fails first
  try {
    await until(() => seen.size === 2, 'both requests')
    const [a, b] = [seen.get('/leaving'), seen.get('/staying')]
    assert.notEqual(a.signal, b.signal)
    assert.equal(a.again, a.signal, 'a second call for the same response returns its signal')
    assert.equal(b.again, b.signal)
    leaving.destroy()
    await until(() => a.signal.aborted, 'the abandoned request to abort')
    assert.equal(a.signal.reason.code, 'ERR_OFFLOAD_CLIENT_GONE')
    assert.equal(b.signal.aborted, false, "another client's leaving aborted this one")
    b.res.end('answered')
    assert.equal((await staying).body.toString(), 'answered')
    assert.equal(b.signal.aborted, false, 'an answered request is not abandoned')
  } finally {
    leaving.destroy()
    server.closeAllConnections()
    server.close()
  }
})

test('metrics(): destroyed and closed pools stop being reported, and free their names', async () => {
  const worker = path.join(__dirname, 'fixtures', 'pool-worker.js')
  const cpu = new offload.Pool({ name: 'doomed-cpu', threads: 1 })
  const proc = new offload.ProcessPool({ script: worker, name: 'doomed-proc', size: 1, stdout: 'ignore' })
  const closing = new offload.ProcessPool({ script: worker, name: 'closed-proc', size: 1, stdout: 'ignore' })
  const ours = /pool="(doomed-cpu|doomed-proc|closed-proc)"/
  try {
    await offload.hash('sha256', 'x', { pool: cpu })
    assert.equal(await proc.run('x', { name: 'echo' }), 'x')
    let m = samples(offload.metrics())
    assert.ok(m.has('offload_pool_threads{pool="doomed-cpu"}'))
    assert.ok(m.has('offload_process_pool_queue_depth{pool="doomed-proc"}'))
    assert.ok(m.has('offload_process_pool_queue_depth{pool="closed-proc"}'))
    cpu.destroy()
    await proc.destroy()
    await closing.close()
    m = samples(offload.metrics())
    assert.deepEqual([...m.keys()].filter((k) => ours.test(k)), [], 'still reported')
    // Their names are free again: a new pool takes the plain label, not `#2`.
    const again = new offload.Pool({ name: 'doomed-cpu', threads: 1 })
    const againProc = new offload.ProcessPool({ script: worker, name: 'doomed-proc', size: 1, stdout: 'ignore' })
    m = samples(offload.metrics())
    assert.ok(m.has('offload_pool_threads{pool="doomed-cpu"}'))
    assert.ok(m.has('offload_process_pool_queue_depth{pool="doomed-proc"}'))
    await Promise.all([again.close(), againProc.close()])
  } finally {
    cpu.destroy()
    await Promise.all([proc.destroy(), closing.close()])
  }
})

test('errorHandler drops the errors of a client that left, in both forms', async () => {
  const handler = errorHandler()
  for (const err of [Object.assign(new Error('gone'), { code: 'ERR_OFFLOAD_CLIENT_GONE' }), new offload.AbortError(undefined, { cause: { code: 'ERR_OFFLOAD_CLIENT_GONE' } })]) {
    let destroyed = false
    let passed = false
    handler(err, { socket: { destroyed: true } }, { writableEnded: false, destroy: () => { destroyed = true } }, () => { passed = true })
    assert.equal(destroyed, true)
    assert.equal(passed, false)
  }
  let passedOn
  handler('a string', { socket: {} }, { headersSent: false }, (e) => { passedOn = e })
  assert.equal(passedOn, 'a string')
})

// Routes that fail the way real offload calls do, behind errorHandler(options) and a fallback
// that shows what was passed on. Returns the port.
async function failingServer(t, options) {
  const pool = new offload.Pool({ threads: 1 })
  const closed = new offload.Pool({ threads: 1 })
  await closed.close()
  const workers = new offload.ProcessPool({ script: path.join(__dirname, 'fixtures', 'pool-worker.js'), size: 1, stdout: 'ignore' })
  const closedWorkers = new offload.ProcessPool({ script: path.join(__dirname, 'fixtures', 'pool-worker.js'), size: 1, stdout: 'ignore' })
  await closedWorkers.close()
  const calls = {
    corrupt: () => offload.decompress('gzip', Buffer.from('this is not gzip')),
    algorithm: (req) => offload.hash(req.query.alg, 'x'), // the client picks the algorithm
    level: () => offload.compress('gzip', 'x', { level: 42 }),
    // A token sealed under another key, as a client could send.
    forged: async () => offload.decrypt('aes-256-gcm', Buffer.alloc(32, 1), await offload.encrypt('aes-256-gcm', Buffer.alloc(32, 2), 'x')),
    'short-iv': () => offload.decrypt('aes-256-gcm', Buffer.alloc(32), { iv: Buffer.alloc(4), ciphertext: Buffer.alloc(1), authTag: Buffer.alloc(16) }),
    'too-large': () => offload.decompress('gzip', zlib.gzipSync(Buffer.alloc(1 << 20)), { maxOutputLength: 1024 }),
    'max-buffer': () => offload.exec('head', ['-c', '100000', '/dev/zero'], { maxBuffer: 1000 }),
    exit: () => offload.exec('sh', ['-c', 'echo internal-detail >&2; exit 3']),
    missing: () => offload.exec('offload-test-no-such-program'),
    limit: () => offload.exec('sh', ['-c', 'while :; do :; done'], { limits: { cpuSeconds: 1 } }),
    crash: () => workers.run(3, { name: 'exit' }),
    closed: () => offload.hash('sha256', 'x', { pool: closed }),
    'closed-workers': () => closedWorkers.run(1, { name: 'echo' }),
    // A process pool destroyed while the task runs.
    destroyed: () => {
      const doomed = new offload.ProcessPool({ script: path.join(__dirname, 'fixtures', 'pool-worker.js'), size: 1, stdout: 'ignore' })
      const task = doomed.run(null, { name: 'hang' })
      until(() => doomed.stats().busy === 1, 'the task to run').then(() => doomed.destroy())
      return task
    },
    deadline: () => spin(10_000, { pool, signal: AbortSignal.timeout(50) }),
    'app-abort': () => offload.hash('sha256', 'x', { signal: AbortSignal.abort(new Error('shutting down')) }),
    // The same codes from Node itself, not from offload.
    'fs-missing': () => require('node:fs/promises').readFile('/nonexistent/offload-test'),
    'node-type-error': async () => Buffer.from(42),
    mine: async () => { throw Object.assign(new Error('conflict'), { code: 'ERR_MINE' }) },
  }
  const app = express()
  app.get('/:name', async (req, res, next) => {
    try {
      await calls[req.params.name](req)
      res.send('no error')
    } catch (err) {
      next(err)
    }
  })
  app.use(errorHandler(options))
  app.use((err, req, res, next) => res.status(500).send(`fallback: ${err.code}`))
  const server = await listen(app)
  t.after(() => { server.close(); return Promise.all([pool.close(), workers.close()]) })
  return server.address().port
}

test('errorHandler maps every failure of offload calls to its status, and passes the rest on', { timeout: 60_000 }, async (t) => {
  const port = await failingServer(t)
  const messages = {
    400: 'The request could not be processed: its data or parameters are invalid.',
    413: 'The result is too large.',
    502: 'A program or worker the server relies on failed.',
    503: 'The server is busy; retry later.',
    504: 'The work did not finish in time.',
  }
  const expected = [
    ['corrupt', 400, 'ERR_OFFLOAD_CORRUPT_INPUT'],
    ['algorithm?alg=sha999', 400, 'ERR_INVALID_ARG_VALUE'],
    ['algorithm', 400, 'ERR_INVALID_ARG_TYPE'], // no ?alg: undefined
    ['level', 400, 'ERR_OUT_OF_RANGE'],
    ['forged', 400, 'ERR_OFFLOAD_AUTH_FAILED'],
    ['short-iv', 400, 'ERR_CRYPTO_INVALID_IV'],
    ['too-large', 413, 'ERR_OFFLOAD_OUTPUT_TOO_LARGE'],
    ['max-buffer', 413, 'ERR_OFFLOAD_MAX_BUFFER'],
    ['exit', 502, 'ERR_OFFLOAD_EXIT'],
    ['missing', 502, 'ENOENT'],
    ['limit', 502, 'ERR_OFFLOAD_LIMIT'],
    ['crash', 502, 'ERR_OFFLOAD_WORKER_CRASHED'],
    ['closed', 503, 'ERR_OFFLOAD_POOL_CLOSED'],
    ['closed-workers', 503, 'ERR_OFFLOAD_POOL_CLOSED'],
    ['destroyed', 503, 'ERR_OFFLOAD_POOL_DESTROYED'],
    ['app-abort', 503, 'ABORT_ERR'], // the server gave up on the work, not the client
    ['deadline', 504, 'ABORT_ERR'], // AbortSignal.timeout(): a timeout
  ]
  for (const [url, status, code] of expected) {
    const r = await request(port, 'GET', `/${url}`)
    assert.equal(r.status, status, `${url}: ${r.body}`)
    assert.deepEqual(JSON.parse(r.body), { error: { code, message: messages[status] } }, url)
    assert.equal(r.headers['cache-control'], 'no-store', url)
    assert.equal(r.headers['retry-after'], status === 503 ? '1' : undefined, url)
  }
  // Node's own errors with the same codes are not offload's to answer, nor is an unknown code.
  assert.equal((await request(port, 'GET', '/fs-missing')).body.toString(), 'fallback: ENOENT')
  assert.equal((await request(port, 'GET', '/node-type-error')).body.toString(), 'fallback: ERR_INVALID_ARG_TYPE')
  assert.equal((await request(port, 'GET', '/mine')).body.toString(), 'fallback: ERR_MINE')
})

test('errorHandler statuses: entries override the defaults, null passes a code on, new codes apply to any error', { timeout: 60_000 }, async (t) => {
  const port = await failingServer(t, { retryAfter: 3, statuses: { ERR_OFFLOAD_CORRUPT_INPUT: 422, ERR_OFFLOAD_EXIT: null, ERR_MINE: 409, ERR_OFFLOAD_POOL_CLOSED: 429 } })
  const corrupt = await request(port, 'GET', '/corrupt')
  assert.equal(corrupt.status, 422)
  assert.deepEqual(JSON.parse(corrupt.body), { error: { code: 'ERR_OFFLOAD_CORRUPT_INPUT', message: 'Unprocessable Entity' } })
  assert.equal((await request(port, 'GET', '/exit')).body.toString(), 'fallback: ERR_OFFLOAD_EXIT')
  const mine = await request(port, 'GET', '/mine')
  assert.equal(mine.status, 409)
  assert.deepEqual(JSON.parse(mine.body), { error: { code: 'ERR_MINE', message: 'Conflict' } })
  const closed = await request(port, 'GET', '/closed')
  assert.equal(closed.status, 429)
  assert.equal(closed.headers['retry-after'], '3')
  // Entries not overridden keep their defaults.
  assert.equal((await request(port, 'GET', '/max-buffer')).status, 413)
})

test('errorHandler validates its statuses', () => {
  assert.throws(() => errorHandler({ statuses: 'ERR_X' }), { code: 'ERR_INVALID_ARG_TYPE', message: /"options\.statuses" property/ })
  assert.throws(() => errorHandler({ statuses: [400] }), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => errorHandler({ statuses: { ERR_X: '400' } }), { code: 'ERR_INVALID_ARG_TYPE', message: /options\.statuses\.ERR_X/ })
  assert.throws(() => errorHandler({ statuses: { ERR_X: 200 } }), { code: 'ERR_OUT_OF_RANGE', message: /options\.statuses\.ERR_X/ })
  assert.throws(() => errorHandler({ statuses: { ERR_X: 600 } }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => errorHandler({ statuses: { ERR_X: 450.5 } }), { code: 'ERR_OUT_OF_RANGE' })
  assert.throws(() => errorHandler({ statuses: { ERR_OFFLOAD_CLIENT_GONE: 499 } }), { code: 'ERR_INVALID_ARG_VALUE' })
  assert.equal(typeof errorHandler({ statuses: { ERR_X: 599, ERR_Y: 400, ERR_Z: null, ERR_W: undefined } }), 'function')
})

// Sample values from an exposition, keyed by `name{labels}`.
function samples(text) {
  const out = new Map()
  for (const m of text.split('\n').map((l) => SAMPLE.exec(l)).filter(Boolean)) out.set(m[2] ? `${m[1]}{${m[2]}}` : m[1], Number(m[3]))
  return out
}

// Starts examples/express/server.js on a free port, killed with the test; returns { server,
// port, exited, output() }.
async function exampleServer(t, env = {}) {
  // Idle keep-alive connections never time out in this server: it exits only if it closes them.
  const preload = path.join(__dirname, 'fixtures', 'no-keepalive-timeout.js')
  const server = spawn(process.execPath, ['--require', preload, path.join(__dirname, '..', 'examples', 'express', 'server.js')], {
    env: { ...process.env, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(() => server.kill('SIGKILL'))
  const exited = new Promise((resolve) => server.once('exit', resolve))
  let out = ''
  server.stdout.on('data', (c) => { out += c })
  await until(() => /listening on/.test(out), 'the server to listen')
  return { server, port: Number(/:(\d+)/.exec(out)[1]), exited, output: () => out }
}

test('the example server renders sales reports on its ThreadPool; a missed deadline is a 504', { timeout: 60_000 }, async (t) => {
  const { salesReport, salesRows } = require('../examples/express/sales-report')
  const { port } = await exampleServer(t)
  // Concurrent requests, so both threads serve some; each body is what the generator gives
  // for that store here, in this process.
  const asks = [['7', 1000], ['42', 5000], ['a<b&c', 3], ['7', 0], ['9', 1000], ['10', 1000]]
  const got = await Promise.all(asks.map(([id, rows]) => request(port, 'GET', `/sales-report/${encodeURIComponent(id)}?rows=${rows}`)))
  for (const [i, [id, rows]] of asks.entries()) {
    assert.equal(got[i].status, 200, `${id}: ${got[i].body}`)
    assert.match(got[i].headers['content-type'], /^text\/html/)
    assert.equal(got[i].body.toString(), salesReport(id, rows), `store ${id}, ${rows} rows`)
  }
  // The generator itself, against totals summed here: the report states them.
  const sales = salesRows('42', 5000)
  const cents = sales.reduce((sum, r) => sum + r.cents, 0)
  const units = sales.reduce((sum, r) => sum + r.units, 0)
  const money = (cents / 100).toLocaleString('en-US', { minimumFractionDigits: 2 })
  assert.ok(got[1].body.toString().includes(`<p>5000 sales, ${units} units, revenue ${money}</p>`))
  assert.ok(got[2].body.toString().includes('<h1>Store a&lt;b&amp;c</h1>'), 'the id is escaped')
  // A million rows take far longer than 1 ms: errorHandler maps the ThreadPool's
  // ERR_OFFLOAD_TIMEOUT to a 504.
  const late = await request(port, 'GET', '/sales-report/7?rows=1000000&deadline=1')
  assert.equal(late.status, 504, late.body.toString())
  assert.deepEqual(JSON.parse(late.body), { error: { code: 'ERR_OFFLOAD_TIMEOUT', message: 'The work did not finish in time.' } })
  assert.equal((await request(port, 'GET', '/sales-report/7?rows=-1')).status, 400)
  // The terminated thread was replaced: the pool still answers.
  assert.equal((await request(port, 'GET', '/sales-report/8')).body.toString(), salesReport('8'))
})

test('the example server makes upright thumbnails of uploads on the CPU pool; not an image is a 415', { timeout: 60_000 }, async (t) => {
  const sharp = require('sharp')
  const { port } = await exampleServer(t)
  // A 1200 x 800 photo stored sideways (EXIF orientation 6): upright it is 800 x 1200.
  const photo = await sharp({ create: { width: 1200, height: 800, channels: 3, background: { r: 30, g: 120, b: 200 } } })
    .withMetadata({ orientation: 6 }).jpeg().toBuffer()
  const got = await request(port, 'POST', '/thumbnail?width=320&format=webp', photo)
  assert.equal(got.status, 200, got.body.toString())
  assert.equal(got.headers['content-type'], 'image/webp')
  const m = await sharp(got.body).metadata()
  assert.deepEqual([m.format, m.width, m.height, m.orientation], ['webp', 320, 480, undefined])
  const text = await request(port, 'POST', '/thumbnail', Buffer.from('not an image'))
  assert.equal(text.status, 415, text.body.toString())
  assert.equal(JSON.parse(text.body).error.code, 'ERR_OFFLOAD_UNSUPPORTED_FORMAT')
  const bomb = await sharp({ create: { width: 1, height: 1, channels: 3, background: 'red' } }).png().toBuffer()
  bomb.writeUInt32BE(100_000, 16)
  bomb.writeUInt32BE(100_000, 20)
  assert.equal((await request(port, 'POST', '/thumbnail', bomb)).status, 413)
  assert.equal((await request(port, 'POST', '/thumbnail?width=0', photo)).status, 400)
})

test('the example server checks logins with verifyPassword on its pool; a login storm gets 503s with Retry-After', { timeout: 60_000 }, async (t) => {
  const { port } = await exampleServer(t)
  const login = (user, password, body = JSON.stringify({ user, password })) => new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/login', agent: false, headers: { 'Content-Type': 'application/json' } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks).toString() }))
    })
    req.on('error', reject)
    req.end(body)
  })
  const ok = await login('alice', 'correct horse battery staple')
  assert.equal(ok.status, 200, ok.body)
  assert.deepEqual(JSON.parse(ok.body), { user: 'alice' })
  assert.equal((await login('alice', 'correct horse battery stapler')).status, 401)
  assert.equal((await login('bob', 'hunter2')).status, 200)
  assert.equal((await login('mallory', 'hunter2')).status, 401)
  assert.equal((await login('', 'anything')).status, 401)
  assert.equal((await login(undefined, undefined, '{"user":"alice"}')).status, 400)
  // More logins at once than the pool runs (2 threads) and queues (maxQueue 64): the rest are
  // refused at once, 503 with Retry-After, and every one let in is answered correctly.
  const storm = await Promise.all(Array.from({ length: 200 }, (_, i) => login('alice', i % 2 ? 'correct horse battery staple' : 'wrong')))
  const refused = storm.filter((r) => r.status === 503)
  assert.ok(refused.length > 0, 'no login was refused')
  for (const r of refused) {
    assert.equal(r.headers['retry-after'], '1')
    assert.equal(JSON.parse(r.body).error.code, 'ERR_OFFLOAD_QUEUE_FULL')
  }
  for (const [i, r] of storm.entries()) if (r.status !== 503) assert.equal(r.status, i % 2 ? 200 : 401, r.body)
  assert.ok(storm.length - refused.length >= 66, `${storm.length - refused.length} answered`)
  // After the storm, logins go through again.
  assert.equal((await login('alice', 'correct horse battery staple')).status, 200)
})

test('the TypeScript example, built to JavaScript, totals sales on its ThreadPool from the built worker', { timeout: 60_000 }, async (t) => {
  const ts = require('typescript')
  const fs = require('node:fs')
  const dir = fs.mkdtempSync(path.join(require('node:os').tmpdir(), 'offload-ts-example-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  // What tsc's emit gives, file by file (the type check is tsc -p __test__/tsconfig.json's).
  const src = path.join(__dirname, '..', 'examples', 'typescript')
  for (const file of fs.readdirSync(src)) {
    const text = fs.readFileSync(path.join(src, file), 'utf8')
    const js = file.endsWith('.ts')
      ? ts.transpileModule(text, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true } }).outputText
      : text
    fs.writeFileSync(path.join(dir, file.replace(/\.ts$/, '.js')), js)
  }
  // The built app resolves offload and express as an installed app would.
  fs.mkdirSync(path.join(dir, 'node_modules'))
  fs.symlinkSync(path.join(__dirname, '..'), path.join(dir, 'node_modules', 'offload'))
  fs.symlinkSync(path.dirname(require.resolve('express/package.json')), path.join(dir, 'node_modules', 'express'))
  const { app, analysers, pool, sales } = require(path.join(dir, 'app.js'))
  const server = await listen(app)
  t.after(() => { server.close(); return Promise.all([sales.close(), analysers.close(), pool.close()]) })
  const port = server.address().port
  // Expected totals, summed here.
  const lines = ['region,product,units,cents']
  const want = { sales: 0, units: 0, cents: 0, byRegion: {} }
  for (let i = 0; i < 500; i++) {
    const [region, units, cents] = [['North', 'South', 'East'][i % 3], 1 + (i % 7), 100 * i + 99]
    lines.push(`${region},P${i % 5},${units},${cents}`)
    want.sales++
    want.units += units
    want.cents += cents
    want.byRegion[region] ??= { units: 0, cents: 0 }
    want.byRegion[region].units += units
    want.byRegion[region].cents += cents
  }
  const got = await request(port, 'POST', '/sales', lines.join('\n'))
  assert.equal(got.status, 200, got.body.toString())
  assert.deepEqual(JSON.parse(got.body), want)
  assert.equal(sales.stats().completed, 1, 'the ThreadPool served it')
  // The worker's error keeps its code across the thread: the app maps ERR_SALES_CSV to a 400.
  const bad = await request(port, 'POST', '/sales', 'region,product,units,cents\nNorth,P1,three,100')
  assert.equal(bad.status, 400, bad.body.toString())
  assert.deepEqual(JSON.parse(bad.body), { error: { code: 'ERR_SALES_CSV', message: 'The request could not be processed: its data or parameters are invalid.' } })
  assert.deepEqual(JSON.parse((await request(port, 'POST', '/sales')).body), { sales: 0, units: 0, cents: 0, byRegion: {} })
})

test('SIGTERM on the example server finishes every accepted request, then it exits', { timeout: 60_000 }, async (t) => {
  // Its own deadline, past which it cuts connections and exits with code 1.
  const { server, port, exited, output } = await exampleServer(t, { SHUTDOWN_DEADLINE_MS: '20000' })
  const body = Buffer.from('offload '.repeat(512 * 1024)) // 4 MiB
  const agent = new http.Agent({ keepAlive: true, maxSockets: 8 })
  const requests = Array.from({ length: 8 }, (_, i) => request(port, 'POST', i % 2 ? '/compress' : '/report', body, { agent }))
  let accepted = 0
  const watch = (async () => {
    while (accepted < 8) {
      const m = samples((await request(port, 'GET', '/metrics')).body.toString())
      const get = (k) => m.get(k) ?? 0
      accepted = get('offload_pool_running{pool="http"}') + get('offload_pool_queue_depth{pool="http"}') +
        get('offload_pool_tasks_total{pool="http",outcome="completed"}') +
        get('offload_process_pool_workers{pool="report-worker.js",state="busy"}') + get('offload_process_pool_queue_depth{pool="report-worker.js"}') +
        get('offload_process_pool_tasks_total{pool="report-worker.js",outcome="completed"}')
      await sleep(10)
    }
  })()
  await watch
  // Wait until every request is with a pool (its body received), by the server's own metrics.
  await until(() => accepted === 8, 'all requests to be accepted')
  server.kill('SIGTERM')
  const responses = await Promise.all(requests)
  for (const [i, r] of responses.entries()) {
    assert.equal(r.status, 200, `request ${i}: ${r.body}`)
    if (i % 2) assert.ok(zlib.gunzipSync(r.body).equals(body))
    else assert.deepEqual(JSON.parse(r.body), { distinct: 1, top: { offload: 512 * 1024 } })
  }
  // The keep-alive agent holds its 8 connections open: the server exits only because it closes
  // each one as it goes idle (without the preload, 5 s later, when they time out).
  assert.equal(await exited, 0, 'the server hit its shutdown deadline: a connection was left open')
  assert.match(output(), /shut down cleanly/)
  agent.destroy()
  await assert.rejects(request(port, 'GET', '/health'), { code: 'ECONNREFUSED' })
})

// The text format's grammar, line by line (https://prometheus.io/docs/instrumenting/exposition_formats/).
const NAME = '[a-zA-Z_:][a-zA-Z0-9_:]*'
const HELP = new RegExp(`^# HELP (${NAME}) (.*)$`)
const TYPE = new RegExp(`^# TYPE (${NAME}) (counter|gauge|histogram|summary|untyped)$`)
const SAMPLE = new RegExp(`^(${NAME})(?:\\{((?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\\\\n]|\\\\[\\\\"n])*",?)*)\\})? (-?[0-9.eE+-]+|[+-]Inf|NaN)$`)

test('metrics() is valid Prometheus text covering pools, subprocesses and process pools', async () => {
  const pool = new offload.Pool({ name: 'metrics "test"', threads: 1 })
  const workers = new offload.ProcessPool({ script: path.join(__dirname, 'fixtures', 'pool-worker.js'), name: 'renderer', size: 1, stdout: 'ignore' })
  try {
    await offload.hash('sha256', 'x', { pool })
    await assert.rejects(spin(5000, { pool, timeout: 20 }), { code: 'ERR_OFFLOAD_TIMEOUT' })
    await offload.exec('true')
    await workers.run(null, { name: 'pid' })
    await workers.run(2, { name: 'exit' }).catch(() => {})
    // The pool counts the timed-out task once its thread has seen the cancellation.
    await until(() => pool.stats().timedOut === 1 && pool.stats().running === 0, 'the timeout to be counted')
    // A child can end on the I/O thread between two reads: bracket the exposition.
    const before = offload.processStats()
    const text = offload.metrics()
    const after = offload.processStats()
    assert.equal(offload.metrics.contentType, 'text/plain; version=0.0.4; charset=utf-8')
    assert.ok(text.endsWith('\n'))
    const types = new Map()
    for (const line of text.slice(0, -1).split('\n')) {
      let m
      if ((m = HELP.exec(line))) continue
      if ((m = TYPE.exec(line))) {
        assert.ok(!types.has(m[1]), `TYPE repeated for ${m[1]}`)
        types.set(m[1], m[2])
        continue
      }
      m = SAMPLE.exec(line)
      assert.ok(m, `not a valid line: ${line}`)
      const family = m[1].replace(/_(bucket|sum|count)$/, '')
      assert.ok(types.has(m[1]) || types.get(family) === 'histogram', `sample before its TYPE: ${line}`)
    }
    // An independent parser agrees, and the values are the ones the stats report.
    const families = new Map(parsePrometheus(text).map((f) => [f.name, f]))
    const sample = (name, labels) => families.get(name).metrics.find((s) => Object.entries(labels).every(([k, v]) => s.labels?.[k] === v))
    assert.equal(sample('offload_pool_tasks_total', { pool: 'metrics "test"', outcome: 'completed' }).value, '1')
    assert.equal(sample('offload_pool_tasks_total', { pool: 'metrics "test"', outcome: 'timed_out' }).value, '1')
    // Histograms, read with the grammar above (the parser package drops their labels).
    const lines = text.split('\n').map((l) => SAMPLE.exec(l)).filter(Boolean)
    const histogram = lines.filter((m) => m[1].startsWith('offload_pool_run_seconds') && m[2].startsWith('pool="metrics \\"test\\""'))
    const buckets = histogram.filter((m) => m[1].endsWith('_bucket'))
    const les = buckets.map((m) => /le="([^"]+)"/.exec(m[2])[1])
    assert.equal(les.at(-1), '+Inf')
    assert.deepEqual(les.slice(0, -1).map(Number), les.slice(0, -1).map(Number).sort((a, b) => a - b))
    const counts = buckets.map((m) => Number(m[3]))
    assert.deepEqual(counts, [...counts].sort((a, b) => a - b), 'buckets are cumulative')
    const value = (suffix) => Number(histogram.find((m) => m[1] === `offload_pool_run_seconds_${suffix}`)[3])
    assert.equal(value('count'), 2)
    assert.equal(counts.at(-1), 2)
    assert.ok(value('sum') >= 0.015, `run time sum ${value('sum')}`)
    for (const [name, key] of [['offload_subprocesses_spawned_total', 'spawned'], ['offload_subprocesses_exited_total', 'exited']]) {
      const v = Number(families.get(name).metrics[0].value)
      assert.ok(v >= before[key] && v <= after[key], `${name} ${v}; processStats().${key} ${before[key]} then ${after[key]}`)
    }
    const busy = Number(sample('offload_pool_busy_seconds_total', { pool: 'metrics "test"' }).value)
    assert.ok(busy >= 0.015 && busy <= value('sum') + 1e-5, `busy ${busy} s, run sum ${value('sum')} s`)
    assert.equal(sample('offload_process_pool_crashes_total', { pool: 'renderer' }).value, '1')
    assert.equal(sample('offload_process_pool_tasks_total', { pool: 'renderer', outcome: 'completed' }).value, '1')
    // Its only worker crashed and nothing asked for another: no live worker, no memory.
    assert.equal(sample('offload_process_pool_rss_bytes', { pool: 'renderer' }).value, '0')
    // offload_subprocess_max_rss_bytes is absent until a child's peak is measurable; see
    // process-hardening.test.js.
    for (const [name, type] of [['offload_pool_queue_depth', 'gauge'], ['offload_pool_wait_seconds', 'histogram'], ['offload_subprocesses_killed_total', 'counter'], ['offload_process_pool_restarts_total', 'counter']]) {
      assert.equal(types.get(name), type, name)
    }
  } finally {
    await Promise.all([pool.close(), workers.close()])
  }
})

test('metrics labels: pools sharing a name get distinct, stable labels; closed pools leave; values are escaped', async () => {
  const a = new offload.Pool({ name: 'dup', threads: 1 })
  const b = new offload.Pool({ name: 'dup', threads: 1 })
  const odd = new offload.Pool({ name: 'back\\slash"quote', threads: 1 })
  const lines = new offload.ProcessPool({ command: 'true', name: 'two\nlines' })
  try {
    let m = samples(offload.metrics())
    assert.ok(m.has('offload_pool_threads{pool="dup"}'))
    assert.ok(m.has('offload_pool_threads{pool="dup#2"}'))
    assert.ok(m.has('offload_pool_threads{pool="back\\\\slash\\"quote"}'), [...m.keys()].filter((k) => k.startsWith('offload_pool_threads')).join(' '))
    assert.ok(m.has('offload_process_pool_queue_depth{pool="two\\nlines"}'))
    await a.close()
    m = samples(offload.metrics())
    assert.ok(!m.has('offload_pool_threads{pool="dup"}'), 'a closed pool leaves')
    assert.ok(m.has('offload_pool_threads{pool="dup#2"}'), 'the other keeps its label')
    const c = new offload.Pool({ name: 'dup', threads: 1 })
    assert.ok(samples(offload.metrics()).has('offload_pool_threads{pool="dup"}'))
    await c.close()
  } finally {
    await Promise.all([a.close(), b.close(), odd.close(), lines.close()])
  }
})
