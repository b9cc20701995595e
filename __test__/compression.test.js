'use strict'
// offload/express compression() through real HTTP on loopback: every coding decoded by
// node:zlib (zstd by offload's decompress), q-values, Vary, no-transform, threshold, filter,
// HEAD, 204, 304 with a fresh ETag, server-sent events read before the response ends, a 32 MiB
// streamed response under backpressure, and the uncompressed fallback when the pool's queue is
// full, and the example server's compressed HTML. Tests that need zstd skip while lib/cpu/streams.js is the temporary node:zlib stand-in.
const test = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const http = require('node:http')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { pipeline } = require('node:stream')
const { spawn } = require('node:child_process')
const zlib = require('node:zlib')
const express = require('express')
const offload = require('..')
const { spin } = require('offload/testing')
const { compression } = require('offload/express')
const { createCompressStream } = require('../lib/cpu/streams')
const { until } = require('./helpers/until')

// Whether the compressor streams zstd (the temporary stand-in does not).
const hasZstd = (() => {
  try {
    createCompressStream('zstd', { level: 3 }).destroy()
    return true
  } catch {
    return false
  }
})()
const NO_ZSTD = ['br', 'gzip', 'deflate']

// 64 KiB of JSON-ish text: compressible, but not one repeated byte.
// JSON lines with pseudo-random fields (a fixed LCG): repetitive enough to compress 7:1, varied
// enough that higher levels find more (on lines that differ only in a counter, zlib-rs's level 9
// came out larger than its level 1).
let lcg = 1
const rand = (n) => (lcg = (lcg * 1103515245 + 12345) % 2147483648) % n
const TEXT = Array.from({ length: 1200 }, (_, i) => `{"id":${i},"name":"item ${rand(100000)}","score":${rand(1000) / 10},"tags":["a","b"]}\n`).join('').slice(0, 65536)

function listen(app) {
  return new Promise((resolve) => {
    const server = app.listen(0, '127.0.0.1', () => resolve(server))
  })
}

async function serve(t, app) {
  const server = await listen(app)
  t.after(() => new Promise((resolve) => {
    server.close(resolve)
    server.closeAllConnections() // a failed test may leave a response open
  }))
  return server.address().port
}

function get(port, path, headers = {}, method = 'GET') {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method, headers, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('aborted', () => reject(new Error(`${path}: response cut short`)))
    })
    req.on('error', reject)
    req.end()
  })
}

async function decode(body, coding) {
  switch (coding) {
    case undefined: return body
    case 'gzip': return zlib.gunzipSync(body)
    case 'deflate': return zlib.inflateSync(body)
    case 'br': return zlib.brotliDecompressSync(body)
    case 'zstd': return offload.decompress('zstd', body)
    default: throw new Error(`unexpected coding ${coding}`)
  }
}

// An app whose routes answer with TEXT (or a slice of it) in various ways, behind `mw`.
function textApp(mw) {
  const app = express()
  app.use(mw)
  app.get('/text', (req, res) => res.type('json').send(TEXT))
  app.get('/bytes/:n', (req, res) => res.type('text').send(TEXT.slice(0, Number(req.params.n))))
  app.get('/streamed/:n', (req, res) => {
    res.type('text')
    for (let i = 0; i < Number(req.params.n); i += 100) res.write(TEXT.slice(i, Math.min(i + 100, Number(req.params.n))))
    res.end()
  })
  app.get('/header', (req, res) => {
    for (const [k, v] of Object.entries(req.query)) res.setHeader(k, v)
    res.type(res.getHeader('content-type') ?? 'text').send(TEXT)
  })
  app.get('/png', (req, res) => res.type('png').send(Buffer.from(TEXT)))
  app.get('/empty', (req, res) => res.status(204).end())
  app.get('/etag', (req, res) => {
    res.setHeader('ETag', '"strong-1"')
    res.type('text').send(TEXT)
  })
  return app
}

test('every coding is decoded to the original bytes; Content-Length is the compressed one or goes, Vary comes', async (t) => {
  const port = await serve(t, textApp(compression()))
  for (const coding of ['zstd', 'br', 'gzip', 'deflate']) {
    await t.test(coding, async (t) => {
      if (coding === 'zstd' && !hasZstd) return t.skip('needs offload streams')
      for (const path of ['/text', `/streamed/${TEXT.length}`]) {
        const r = await get(port, path, { 'accept-encoding': coding })
        assert.equal(r.status, 200)
        assert.equal(r.headers['content-encoding'], coding, path)
        // A body sent whole is compressed in one task and gets its compressed length; a
        // streamed one goes out chunked.
        assert.equal(r.headers['content-length'], path === '/text' ? String(r.body.length) : undefined, path)
        assert.equal(r.headers.vary, 'Accept-Encoding')
        assert.ok(r.body.length < TEXT.length / 3, `${path} ${coding}: ${r.body.length} bytes`)
        assert.equal((await decode(r.body, coding)).toString(), TEXT)
      }
    })
  }
})

test('levels reach the compressor: defaults, per coding, and compression\'s own spellings', async (t) => {
  const sizes = {}
  for (const [name, options] of Object.entries({ one: { levels: { gzip: 1, br: 0 } }, nine: { levels: { gzip: 9, br: 11 } }, compat: { level: 1, brotli: { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: 0 } } } })) {
    const port = await serve(t, textApp(compression(options)))
    for (const coding of ['gzip', 'br']) {
      const r = await get(port, '/text', { 'accept-encoding': coding })
      assert.equal((await decode(r.body, coding)).toString(), TEXT)
      sizes[`${name} ${coding}`] = r.body.length
    }
  }
  assert.ok(sizes['nine gzip'] < sizes['one gzip'], JSON.stringify(sizes))
  assert.ok(sizes['nine br'] < sizes['one br'], JSON.stringify(sizes))
  assert.equal(sizes['compat gzip'], sizes['one gzip'])
  assert.equal(sizes['compat br'], sizes['one br'])
})

test('Accept-Encoding: q-values, q=0, *, identity, server preference and enforceEncoding', async (t) => {
  const port = await serve(t, textApp(compression({ encodings: NO_ZSTD })))
  const cases = [
    ['gzip, deflate, br', 'br'], // a tie: the server's order
    ['deflate, gzip', 'gzip'],
    ['gzip;q=0.5, br;q=0.9', 'br'],
    ['br;q=0.2, gzip;q=0.8, deflate;q=0.5', 'gzip'],
    ['br;q=0, gzip', 'gzip'],
    ['BR ; Q=1', 'br'],
    ['*', 'br'],
    ['br;q=0, *;q=0.5', 'gzip'],
    ['*;q=0', undefined],
    ['identity', undefined],
    ['gzip;q=0.3, identity;q=0.6', undefined], // the client prefers the bytes as they are
    ['', undefined],
    ['compress, x-unknown', undefined],
    ['gzip;q=oops, deflate', 'deflate'], // a malformed q: the entry is ignored
    [undefined, undefined],
  ]
  for (const [accept, want] of cases) {
    const r = await get(port, '/text', accept === undefined ? {} : { 'accept-encoding': accept })
    assert.equal(r.headers['content-encoding'], want, `Accept-Encoding: ${accept}`)
    assert.equal(r.headers.vary, 'Accept-Encoding')
    assert.equal((await decode(r.body, want)).toString(), TEXT)
  }
  const own = await serve(t, textApp(compression({ encodings: ['deflate', 'gzip'], enforceEncoding: 'gzip' })))
  assert.equal((await get(own, '/text', { 'accept-encoding': 'br, gzip, deflate' })).headers['content-encoding'], 'deflate')
  assert.equal((await get(own, '/text', { 'accept-encoding': 'br' })).headers['content-encoding'], undefined)
  const enforced = await get(own, '/text')
  assert.equal(enforced.headers['content-encoding'], 'gzip')
  assert.equal((await decode(enforced.body, 'gzip')).toString(), TEXT)
})

test('zstd first by default, when the client accepts it', async (t) => {
  if (!hasZstd) return t.skip('needs offload streams')
  const port = await serve(t, textApp(compression()))
  const r = await get(port, '/text', { 'accept-encoding': 'gzip, deflate, br, zstd' })
  assert.equal(r.headers['content-encoding'], 'zstd')
  assert.equal((await decode(r.body, 'zstd')).toString(), TEXT)
})

test('Vary is merged, never duplicated', async (t) => {
  const port = await serve(t, textApp(compression({ encodings: NO_ZSTD })))
  const vary = async (v, accept = 'gzip') => (await get(port, `/header?vary=${encodeURIComponent(v)}`, { 'accept-encoding': accept })).headers.vary
  assert.equal(await vary('Origin'), 'Origin, Accept-Encoding')
  assert.equal(await vary('Origin, accept-encoding'), 'Origin, accept-encoding')
  assert.equal(await vary('*'), '*')
  assert.equal(await vary('Origin', 'identity'), 'Origin, Accept-Encoding') // not compressed, still varies
})

test('Cache-Control: no-transform, an existing Content-Encoding and the filter leave the body alone', async (t) => {
  const port = await serve(t, textApp(compression({ encodings: NO_ZSTD })))
  const same = async (path, why) => {
    const r = await get(port, path, { 'accept-encoding': 'gzip, br' })
    assert.equal(r.headers['content-encoding'] ?? 'none', path.includes('content-encoding') ? 'x-custom' : 'none', why)
    assert.equal(r.headers['content-length'], String(TEXT.length), why)
    assert.equal(r.body.toString(), TEXT, why)
  }
  await same('/header?cache-control=public,%20No-Transform', 'no-transform')
  await same('/header?content-encoding=x-custom', 'already encoded')
  await same('/png', 'image/png is not compressible')
  await same('/header?content-range=bytes%200-65535%2F65536', 'a range (send() serves them as 206)')
  await same('/header?content-type=application%2Fvnd.unknown', 'an unknown type')
  for (const type of ['text/html; charset=utf-8', 'application/ld+json', 'image/svg+xml', 'application/javascript']) {
    const r = await get(port, `/header?content-type=${encodeURIComponent(type)}`, { 'accept-encoding': 'gzip' })
    assert.equal(r.headers['content-encoding'], 'gzip', type)
  }
  const custom = await serve(t, textApp(compression({ filter: (req, res) => req.headers['x-compress'] === 'yes' || compression.filter(req, res) })))
  assert.equal((await get(custom, '/png', { 'accept-encoding': 'gzip', 'x-compress': 'yes' })).headers['content-encoding'], 'gzip')
  assert.equal((await get(custom, '/png', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined)
})

test('threshold: from Content-Length or end(chunk); a body begun with write() is compressed', async (t) => {
  const port = await serve(t, textApp(compression({ encodings: NO_ZSTD })))
  const coding = async (path) => (await get(port, path, { 'accept-encoding': 'gzip' })).headers['content-encoding']
  assert.equal(await coding('/bytes/1023'), undefined)
  assert.equal(await coding('/bytes/1024'), 'gzip')
  assert.equal(await coding('/streamed/200'), 'gzip')
  const own = await serve(t, textApp(compression({ threshold: '2kb', encodings: NO_ZSTD })))
  const big = await get(own, '/bytes/2048', { 'accept-encoding': 'gzip' })
  assert.equal(big.headers['content-encoding'], 'gzip')
  assert.equal(zlib.gunzipSync(big.body).toString(), TEXT.slice(0, 2048))
  assert.equal((await get(own, '/bytes/2047', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined)
  // A plain http server: end(chunk) with no Content-Length.
  const mw = compression({ encodings: NO_ZSTD })
  const server = http.createServer((req, res) => mw(req, res, () => {
    res.setHeader('Content-Type', 'text/plain')
    res.end(TEXT.slice(0, Number(req.url.slice(1))))
  }))
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve))
  t.after(() => server.close())
  const plain = server.address().port
  assert.equal((await get(plain, '/1000', { 'accept-encoding': 'gzip' })).headers['content-encoding'], undefined)
  const r = await get(plain, '/5000', { 'accept-encoding': 'gzip' })
  assert.equal(r.headers['content-encoding'], 'gzip')
  assert.equal(zlib.gunzipSync(r.body).toString(), TEXT.slice(0, 5000))
})

test('HEAD, 204 and 304 are not compressed; a strong ETag is weakened and still matches', async (t) => {
  const port = await serve(t, textApp(compression({ encodings: NO_ZSTD })))
  const head = await get(port, '/text', { 'accept-encoding': 'gzip' }, 'HEAD')
  assert.equal(head.headers['content-encoding'], undefined)
  assert.equal(head.headers['content-length'], String(TEXT.length))
  assert.equal(head.headers.vary, 'Accept-Encoding')
  const empty = await get(port, '/empty', { 'accept-encoding': 'gzip' })
  assert.equal(empty.status, 204)
  assert.equal(empty.headers['content-encoding'], undefined)
  // Express's own (weak) ETag: a conditional request gets a 304 without a body or a coding.
  const first = await get(port, '/text', { 'accept-encoding': 'gzip' })
  assert.match(first.headers.etag, /^W\//)
  const again = await get(port, '/text', { 'accept-encoding': 'gzip', 'if-none-match': first.headers.etag })
  assert.equal(again.status, 304)
  assert.equal(again.headers['content-encoding'], undefined)
  assert.equal(again.body.length, 0)
  // A strong ETag names exact bytes: compressed, it becomes weak.
  const strong = await get(port, '/etag', { 'accept-encoding': 'gzip' })
  assert.equal(strong.headers.etag, 'W/"strong-1"')
  assert.equal((await get(port, '/etag')).headers.etag, '"strong-1"')
  assert.equal((await get(port, '/etag', { 'accept-encoding': 'gzip', 'if-none-match': strong.headers.etag })).status, 304)
})

// A server-sent events route: one event, flushed, then the second only when the test says.
function sseApp(mw, release) {
  const app = express()
  app.use(mw)
  app.get('/events', (req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-cache' })
    res.write('data: first\n\n')
    res.flush()
    // The first write is flushed anyway (see compression.js); this one only by res.flush().
    res.write('data: second\n\n')
    res.flush()
    release.then(() => res.end('data: last\n\n'))
  })
  return app
}

test('server-sent events: res.flush() delivers each event before the response ends', { timeout: 30_000 }, async (t) => {
  for (const coding of ['gzip', 'br', 'deflate']) {
    await t.test(coding, async (t) => {
      let release
      const released = new Promise((resolve) => { release = resolve })
      const port = await serve(t, sseApp(compression(), released))
      const { headers, events, ended } = await new Promise((resolve, reject) => {
        const req = http.get({ host: '127.0.0.1', port, path: '/events', headers: { 'accept-encoding': coding }, agent: false }, (res) => {
          const decoder = { gzip: zlib.createGunzip, br: zlib.createBrotliDecompress, deflate: zlib.createInflate }[coding]()
          let text = ''
          let ended = false
          res.on('end', () => { ended = true })
          res.pipe(decoder).on('data', (d) => {
            text += d
            if (text === 'data: first\n\ndata: second\n\n') resolve({ headers: res.headers, events: text, ended })
          })
          decoder.on('error', reject)
        })
        req.on('error', reject)
      })
      assert.equal(headers['content-encoding'], coding)
      assert.equal(events, 'data: first\n\ndata: second\n\n')
      assert.equal(ended, false, 'the response was still open when the events were read')
      release()
    })
  }
})

test('a 32 MiB streamed response: write() returns false, drain follows, the client reads it all', { timeout: 120_000 }, async (t) => {
  // Base64 of random bytes: compresses by about a quarter, so the socket fills while the client waits.
  const piece = Buffer.from(crypto.randomBytes(48 * 1024).toString('base64'))
  const pieces = 512 // 32 MiB
  const expected = crypto.createHash('sha256')
  for (let i = 0; i < pieces; i++) expected.update(piece)
  let response
  const seen = { refused: 0, drained: 0, endCallback: false }
  const app = express()
  app.use(compression({ encodings: NO_ZSTD }))
  app.get('/big', (req, res) => {
    res.type('text')
    response = res
    let i = 0
    const more = () => {
      while (i < pieces) {
        i++
        if (!res.write(piece)) {
          seen.refused++
          res.once('drain', () => { seen.drained++; more() })
          return
        }
      }
      res.end(() => { seen.endCallback = true })
    }
    more()
  })
  const port = await serve(t, app)
  const digest = await new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port, path: '/big', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      assert.equal(res.headers['content-encoding'], 'gzip')
      res.pause() // until the server's socket is full
      const hash = crypto.createHash('sha256')
      until(() => response?.writableNeedDrain, 'the server socket to fill').then(() => res.pipe(zlib.createGunzip()).on('data', (d) => hash.update(d)).on('end', () => resolve(hash.digest('hex'))).on('error', reject), reject)
    }).on('error', reject)
  })
  assert.equal(digest, expected.digest('hex'))
  assert.ok(seen.refused > 0)
  assert.equal(seen.drained, seen.refused)
  await until(() => seen.endCallback, 'the end() callback')
})

test('write() refused by a full compressor is followed by drain while the socket never fills', { timeout: 30_000 }, async (t) => {
  // 8 x 64 KiB of JSON compress to about 45 KiB, which a reading client takes at once: the
  // compressor (16 KiB of buffer) is full, the socket is not, so the 'drain' events the route
  // waits for come from the middleware.
  const app = express()
  app.use(compression({ encodings: NO_ZSTD }))
  let refused = 0
  app.get('/json', async (req, res) => {
    res.type('json')
    for (let i = 0; i < 8; i++) {
      if (!res.write(TEXT)) {
        refused++
        await new Promise((resolve) => res.once('drain', resolve))
      }
    }
    res.end()
  })
  const port = await serve(t, app)
  for (const coding of ['gzip', 'br']) {
    const r = await get(port, '/json', { 'accept-encoding': coding })
    assert.equal((await decode(r.body, coding)).toString(), TEXT.repeat(8))
  }
  assert.ok(refused >= 2, `write() returned false ${refused} times`)
})

test('pipeline() from a file into res, and res.sendFile(), compress the file as it is on disk', { timeout: 60_000 }, async (t) => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-compression-'))
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }))
  const file = path.join(dir, 'data.txt')
  const lines = Array.from({ length: 120_000 }, (_, i) => `${i}\t${crypto.createHash('md5').update(String(i)).digest('hex')}\n`)
  fs.writeFileSync(file, lines.join('')) // about 4.5 MiB
  const want = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex')
  const app = express()
  app.use(compression({ encodings: NO_ZSTD }))
  app.get('/piped', (req, res) => {
    res.type('text')
    pipeline(fs.createReadStream(file, { highWaterMark: 256 * 1024 }), res, () => {})
  })
  app.get('/sent', (req, res) => res.sendFile(file))
  const port = await serve(t, app)
  for (const [route, coding] of [['/piped', 'gzip'], ['/sent', 'br']]) {
    const r = await get(port, route, { 'accept-encoding': coding })
    assert.equal(r.headers['content-encoding'], coding, route)
    assert.equal(crypto.createHash('sha256').update(await decode(r.body, coding)).digest('hex'), want, route)
  }
})

test('a client that leaves mid-stream closes the response; writes after it fail quietly', { timeout: 30_000 }, async (t) => {
  const app = express()
  app.use(compression({ encodings: NO_ZSTD }))
  const seen = { closed: false, afterClose: undefined }
  app.get('/endless', (req, res) => {
    res.type('text')
    res.once('close', () => {
      seen.closed = true
      seen.afterClose = res.write(TEXT)
    })
    const more = () => {
      while (!seen.closed) if (!res.write(TEXT)) return res.once('drain', more)
    }
    more()
  })
  const port = await serve(t, app)
  await new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: '/endless', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      assert.equal(res.headers['content-encoding'], 'gzip')
      res.once('data', () => {
        req.destroy()
        resolve()
      })
    })
    req.on('error', (err) => (err.code === 'ECONNRESET' ? undefined : reject(err)))
  })
  await until(() => seen.closed, 'the response to close')
  assert.equal(seen.afterClose, false)
})

test('a full queue on the first chunk: the response goes out uncompressed, counted', { timeout: 60_000 }, async (t) => {
  const pool = new offload.Pool({ threads: 1, maxQueue: 0, name: 'compression-full' })
  const busy = new AbortController()
  t.after(() => { busy.abort(); return pool.close() })
  const fallbacks = []
  const mw = compression({ pool, encodings: NO_ZSTD, onFallback: (err, req) => fallbacks.push([err.code, req.url]) })
  const app = textApp(mw)
  const port = await serve(t, app)
  const spinning = spin(60_000, { pool, signal: busy.signal }).catch((err) => err)
  await until(() => pool.stats().running === 1, 'the pool thread to be busy')
  for (const path of ['/text', `/streamed/${TEXT.length}`]) {
    const r = await get(port, path, { 'accept-encoding': 'gzip' })
    assert.equal(r.status, 200)
    assert.equal(r.headers['content-encoding'], undefined, path)
    assert.equal(r.body.toString(), TEXT, path)
    assert.equal(r.headers.vary, 'Accept-Encoding')
  }
  assert.deepEqual(fallbacks, [['ERR_OFFLOAD_QUEUE_FULL', '/text'], ['ERR_OFFLOAD_QUEUE_FULL', `/streamed/${TEXT.length}`]])
  busy.abort()
  assert.equal((await spinning).name, 'AbortError')
  const r = await get(port, '/text', { 'accept-encoding': 'gzip' })
  assert.equal(r.headers['content-encoding'], 'gzip')
  assert.equal(zlib.gunzipSync(r.body).toString(), TEXT)
  assert.deepEqual(mw.stats(), { compressed: { zstd: 0, br: 0, gzip: 1, deflate: 0 }, fallbacks: 2 })
})

test('bad options are refused with Node-style errors naming them', () => {
  const refuse = (options, code, name) => assert.throws(() => compression(options), (err) => err.code === code && err.message.includes(name))
  refuse({ threshold: true }, 'ERR_INVALID_ARG_TYPE', 'options.threshold')
  refuse({ threshold: '1 parsec' }, 'ERR_INVALID_ARG_VALUE', 'options.threshold')
  refuse({ threshold: -1 }, 'ERR_OUT_OF_RANGE', 'options.threshold')
  refuse({ levels: { br: 12 } }, 'ERR_OUT_OF_RANGE', 'options.levels.br')
  refuse({ levels: { zstd: 0 } }, 'ERR_OUT_OF_RANGE', 'options.levels.zstd')
  refuse({ levels: { lz4: 1 } }, 'ERR_INVALID_ARG_VALUE', 'options.levels.lz4')
  refuse({ level: 10 }, 'ERR_OUT_OF_RANGE', 'options.level')
  refuse({ encodings: 'gzip' }, 'ERR_INVALID_ARG_TYPE', 'options.encodings')
  refuse({ encodings: ['gzip', 'lz4'] }, 'ERR_INVALID_ARG_VALUE', 'options.encodings[1]')
  refuse({ encodings: ['gzip', 'gzip'] }, 'ERR_INVALID_ARG_VALUE', 'options.encodings[1]')
  refuse({ enforceEncoding: 'br', encodings: ['gzip'] }, 'ERR_INVALID_ARG_VALUE', 'options.enforceEncoding')
  refuse({ filter: 'text' }, 'ERR_INVALID_ARG_TYPE', 'options.filter')
  refuse({ pool: {} }, 'ERR_INVALID_ARG_TYPE', 'options.pool')
  refuse({ priority: 'urgent' }, 'ERR_INVALID_ARG_VALUE', 'options.priority')
  refuse('fast', 'ERR_INVALID_ARG_TYPE', 'options')
})

test('the example server compresses its HTML reports on its pool, and leaves gzip files alone', { timeout: 60_000 }, async (t) => {
  const { salesReport } = require('../examples/express/sales-report')
  const server = spawn(process.execPath, [path.join(__dirname, '..', 'examples', 'express', 'server.js')], {
    env: { ...process.env, PORT: '0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  })
  t.after(() => server.kill('SIGKILL'))
  let out = ''
  server.stdout.on('data', (c) => { out += c })
  await until(() => /listening on/.test(out), 'the server to listen')
  const port = Number(/:(\d+)/.exec(out)[1])
  const report = await get(port, '/sales-report/7?rows=2000', { 'accept-encoding': 'br, gzip' })
  assert.equal(report.headers['content-encoding'], 'br')
  assert.equal(zlib.brotliDecompressSync(report.body).toString(), salesReport('7', 2000))
  const gz = await new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/compress', headers: { 'accept-encoding': 'gzip' }, agent: false }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    req.end(TEXT)
  })
  assert.equal(gz.headers['content-encoding'], undefined, 'application/gzip is not compressed again')
  assert.equal(zlib.gunzipSync(gz.body).toString(), TEXT)
})
