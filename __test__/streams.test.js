'use strict'
// Streams on the pool (lib/cpu/streams.js) against node:zlib and node:crypto as oracles: round
// trips both ways for every format, a few hundred MiB through pipeline() with a slow consumer
// and the read-ahead bounded, truncated and corrupt input, flush(), hash of a Readable and of
// an AsyncIterable, abort and destroy mid-stream.
const { test } = require('node:test')
const assert = require('node:assert')
const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { Readable, Writable, PassThrough } = require('node:stream')
const { pipeline } = require('node:stream/promises')
const { once } = require('node:events')
const { Pool, createCompressStream, createDecompressStream, hash, hmac, compress, decompress } = require('..')

const ZLIB = {
  gzip: [zlib.gzipSync, zlib.gunzipSync],
  deflate: [zlib.deflateSync, zlib.inflateSync],
  'deflate-raw': [zlib.deflateRawSync, zlib.inflateRawSync],
  brotli: [zlib.brotliCompressSync, zlib.brotliDecompressSync],
}

// Log-like text with some noise: compressible, but not trivially.
function sample(size, seed = 1) {
  const line = Buffer.from('2026-11-30T08:00:00Z GET /api/items?id=12345 200 1234 "Mozilla/5.0"\n')
  const out = Buffer.alloc(size)
  let x = seed
  for (let i = 0; i < size; i++) {
    x = (x * 1103515245 + 12345) >>> 0
    out[i] = line[i % line.length] ^ ((x >>> 28) & 1)
  }
  return out
}

// Pieces of assorted sizes (1 byte to 100 KiB), the same on every run.
function pieces(buf) {
  const sizes = [1, 7, 4096, 100 * 1024, 333, 65536]
  const out = []
  for (let pos = 0, i = 0; pos < buf.length; i++) {
    const end = Math.min(buf.length, pos + sizes[i % sizes.length])
    out.push(buf.subarray(pos, end))
    pos = end
  }
  return out
}

async function collect(source, transform) {
  const out = []
  await pipeline(source, transform, async (s) => { for await (const c of s) out.push(c) })
  return Buffer.concat(out)
}

const data = sample(700 * 1024)

test('offload compresses as a stream, node:zlib (or offload one-shot) decompresses', async () => {
  for (const [format, [, unzip]] of Object.entries(ZLIB)) {
    const z = await collect(Readable.from(pieces(data)), createCompressStream(format, { level: 5 }))
    assert.ok(unzip(z).equals(data), format)
  }
  for (const format of ['zstd', 'lz4']) {
    const z = await collect(Readable.from(pieces(data)), createCompressStream(format))
    assert.ok((await decompress(format, z)).equals(data), format)
  }
})

test('node:zlib (or offload one-shot) compresses, offload decompresses as a stream', async () => {
  for (const [format, [zip]] of Object.entries(ZLIB)) {
    const out = await collect(Readable.from(pieces(zip(data))), createDecompressStream(format, { chunkSize: 4096 }))
    assert.ok(out.equals(data), format)
  }
  const z = await compress('zstd', data)
  assert.ok((await collect(Readable.from(pieces(z)), createDecompressStream('zstd'))).equals(data))
})

test('writes buffered while a task runs go to the next task together, in order', async () => {
  const pool = new Pool({ threads: 1 })
  try {
    const s = createCompressStream('gzip', { pool })
    const parts = pieces(data).slice(0, 200)
    const out = []
    s.on('data', (c) => out.push(c))
    for (const p of parts) s.write(p)
    s.end()
    await once(s, 'end')
    assert.ok(zlib.gunzipSync(Buffer.concat(out)).equals(Buffer.concat(parts)))
    const tasks = pool.stats().completed
    assert.ok(tasks < parts.length / 4, `${tasks} tasks for ${parts.length} writes`)
  } finally {
    await pool.close()
  }
})

test('a small input that expands a lot waits for the consumer: each task stops at chunkSize', async () => {
  const bomb = zlib.gzipSync(Buffer.alloc(32 << 20))
  assert.ok(bomb.length < 64 * 1024)
  const s = createDecompressStream('gzip')
  let most = 0
  const push = s.push.bind(s)
  s.push = (chunk) => {
    const room = push(chunk)
    most = Math.max(most, s.readableLength)
    return room
  }
  let total = 0
  s.end(bomb)
  for await (const c of s) {
    total += c.length
    await new Promise((resolve) => setImmediate(resolve))
  }
  assert.strictEqual(total, 32 << 20)
  // readableHighWaterMark (16 KiB) + chunkSize (64 KiB) + one decoder step (256 KiB).
  assert.ok(most <= (16 + 64 + 256) * 1024, `readable side held ${most} bytes`)
})

test('lz4 decompression is refused at creation; bad options throw Node codes', () => {
  assert.throws(() => createDecompressStream('lz4'), { code: 'ERR_INVALID_ARG_VALUE', message: /lz4/ })
  assert.throws(() => createCompressStream('zip'), { code: 'ERR_INVALID_ARG_VALUE', message: /format/ })
  assert.throws(() => createCompressStream('gzip', { level: 10 }), { code: 'ERR_OUT_OF_RANGE', message: /options\.level/ })
  assert.throws(() => createCompressStream(1), { code: 'ERR_INVALID_ARG_TYPE' })
  assert.throws(() => createDecompressStream('gzip', { chunkSize: 1 }), { code: 'ERR_OUT_OF_RANGE', message: /chunkSize/ })
  assert.throws(() => createCompressStream('gzip', { priority: 'urgent' }), { code: 'ERR_INVALID_ARG_VALUE', message: /options\.priority/ })
  assert.throws(() => createDecompressStream('gzip', { maxOutputLength: -1 }), { code: 'ERR_OUT_OF_RANGE', message: /maxOutputLength/ })
})

test('truncated, corrupt and oversized streams error with the code', async () => {
  for (const [format, [zip]] of Object.entries(ZLIB)) {
    const z = zip(data)
    await assert.rejects(collect(Readable.from([z.subarray(0, z.length - 10)]), createDecompressStream(format)),
      { code: 'ERR_OFFLOAD_CORRUPT_INPUT' }, `${format} truncated`)
    const bad = Buffer.from(z)
    bad.fill(0xa5, 2, 40)
    await assert.rejects(collect(Readable.from([bad]), createDecompressStream(format)),
      { code: 'ERR_OFFLOAD_CORRUPT_INPUT' }, `${format} corrupt`)
    await assert.rejects(collect(Readable.from([z]), createDecompressStream(format, { maxOutputLength: 1000 })),
      { code: 'ERR_OFFLOAD_OUTPUT_TOO_LARGE' }, `${format} too large`)
  }
})

test('flush() makes everything written so far decodable by zlib', async () => {
  for (const format of ['gzip', 'deflate', 'deflate-raw']) {
    const s = createCompressStream(format)
    const got = []
    s.on('data', (c) => got.push(c))
    const event = Buffer.from('data: {"tick": 1}\n\n')
    s.write(event)
    await new Promise((resolve) => s.flush(resolve))
    const inflate = { gzip: zlib.gunzipSync, deflate: zlib.inflateSync, 'deflate-raw': zlib.inflateRawSync }[format]
    const so = inflate(Buffer.concat(got), { finishFlush: zlib.constants.Z_SYNC_FLUSH })
    assert.ok(so.equals(event), format)
    s.end()
    await once(s, 'end')
    assert.ok(inflate(Buffer.concat(got)).equals(event), format)
  }
  const b = createCompressStream('brotli')
  const got = []
  b.on('data', (c) => got.push(c))
  b.write('event one')
  await new Promise((resolve) => b.flush(zlib.constants.BROTLI_OPERATION_FLUSH, resolve))
  const so = zlib.brotliDecompressSync(Buffer.concat(got), { finishFlush: zlib.constants.BROTLI_OPERATION_FLUSH })
  assert.strictEqual(so.toString(), 'event one')
  b.destroy()
  // zstd: no node oracle; offload's own stream decoder reads the flushed, unfinished frame.
  const z = createCompressStream('zstd')
  const zgot = []
  z.on('data', (c) => zgot.push(c))
  z.write('event two')
  await new Promise((resolve) => z.flush(resolve))
  const d = createDecompressStream('zstd')
  d.write(Buffer.concat(zgot))
  const [decoded] = await once(d, 'data')
  assert.strictEqual(decoded.toString(), 'event two')
  z.destroy()
  d.destroy()
})

test('hash and hmac of a Readable or an AsyncIterable equal node:crypto for every algorithm', async () => {
  const chunks = pieces(data.subarray(0, 300 * 1024))
  const algs = ['sha1', 'sha256', 'sha384', 'sha512', 'sha3-256', 'sha3-512', 'md5']
  for (const alg of algs) {
    const want = crypto.createHash(alg).update(data.subarray(0, 300 * 1024)).update('tail').digest('hex')
    assert.strictEqual(await hash(alg, Readable.from([...chunks, 'tail']), { encoding: 'hex' }), want, alg)
    async function* gen() { yield* chunks; yield 'tail' }
    assert.strictEqual(await hash(alg, gen(), { encoding: 'hex' }), want, alg)
    const mac = crypto.createHmac(alg, 'k3y').update(data.subarray(0, 300 * 1024)).digest()
    assert.ok((await hmac(alg, 'k3y', Readable.from(chunks))).equals(mac), alg)
  }
  // Empty source: the digest of nothing.
  assert.strictEqual(await hash('sha256', Readable.from([]), { encoding: 'hex' }), crypto.createHash('sha256').digest('hex'))
  // blake3 and the checksums have no node:crypto oracle: the one-shot kernel is theirs.
  for (const alg of ['blake3', 'xxh3-64', 'xxh3-128', 'crc32c']) {
    assert.ok((await hash(alg, Readable.from(chunks))).equals(await hash(alg, data.subarray(0, 300 * 1024))), alg)
  }
  await assert.rejects(hash('sha256', Readable.from([{}], { objectMode: true })), { code: 'ERR_INVALID_ARG_TYPE' })
  await assert.rejects(hash('nope', Readable.from([])), { code: 'ERR_INVALID_ARG_VALUE' })
})

test('abort while hashing a slow Readable rejects with the reason, leaving the source alive', async () => {
  const source = new PassThrough()
  source.write(data.subarray(0, 1024))
  const ac = new AbortController()
  const p = hash('sha256', source, { signal: ac.signal })
  await new Promise((resolve) => setTimeout(resolve, 20))
  const reason = new Error('stop')
  ac.abort(reason)
  await assert.rejects(p, (err) => err.name === 'AbortError' && err.cause === reason)
  assert.strictEqual(source.destroyed, false)
  await assert.rejects(hash('sha256', new PassThrough(), { timeout: 10 }), { code: 'ERR_OFFLOAD_TIMEOUT' })
})

test('destroy() mid-stream settles: close follows, no callback is lost', async () => {
  const cases = [[createCompressStream('brotli', { level: 11 }), data], [createDecompressStream('gzip'), zlib.gzipSync(data)]]
  for (const [s, input] of cases) {
    let called = 0
    s.write(input, () => called++)
    s.on('error', () => {})
    const closed = new Promise((resolve) => s.on('close', resolve))
    setImmediate(() => s.destroy(new Error('gone')))
    await closed
    await new Promise((resolve) => setImmediate(resolve))
    assert.strictEqual(called, 1)
  }
  // The signal option destroys the stream with an AbortError.
  const ac = new AbortController()
  const s = createCompressStream('gzip', { signal: ac.signal })
  s.write(data)
  ac.abort()
  const [err] = await once(s, 'error')
  assert.strictEqual(err.name, 'AbortError')
})

test('pipeline of a few hundred MiB file with a slow consumer keeps the read-ahead bounded', async () => {
  const size = 256 * 1024 * 1024
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'offload-streams-')), 'big.log')
  const block = sample(1 << 20, 7)
  const fd = fs.openSync(file, 'w')
  for (let i = 0; i < size / block.length; i++) fs.writeSync(fd, block)
  fs.closeSync(fd)
  const expected = crypto.createHash('sha256')
  for (let i = 0; i < size / block.length; i++) expected.update(block)
  try {
    const source = fs.createReadStream(file)
    const got = crypto.createHash('sha256')
    let consumed = 0
    let ahead = 0
    let writes = 0
    const consumer = new Writable({
      write(chunk, _enc, cb) {
        consumed += chunk.length
        got.update(chunk)
        ahead = Math.max(ahead, source.bytesRead - consumed)
        // Slow: every 64th chunk waits for a timer turn.
        if (++writes % 64 === 0) setTimeout(cb, 1)
        else cb()
      },
    })
    await pipeline(source, createCompressStream('gzip', { level: 1 }), createDecompressStream('gzip'), consumer)
    assert.strictEqual(consumed, size)
    assert.strictEqual(got.digest('hex'), expected.digest('hex'))
    // Each stage holds at most its two highWaterMarks plus one task's input and output: the
    // file stream 64 KiB (+64 in flight), compression 16 + 16 KiB (+64 KiB in a task),
    // decompression 16 + 16 KiB (+ chunkSize 64 KiB + one 256 KiB decoder step), the consumer
    // 16 KiB. 2 MiB is several times that; without backpressure the whole file runs ahead.
    assert.ok(ahead < 2 * 1024 * 1024, `read ahead of the consumer: ${ahead} bytes`)
  } finally {
    fs.rmSync(path.dirname(file), { recursive: true, force: true })
  }
})
