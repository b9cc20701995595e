'use strict'
// Helper process for the libuv rows of the sha256 and gzip scenarios (not a pool
// task): WebCrypto's digest and async node:zlib run on libuv's threadpool, whose
// size (UV_THREADPOOL_SIZE, default 4) is read once per process, so each row
// runs in a fresh process with the size in its environment. One warmed-up,
// checked, measured closed-loop run per process; sends the run to the parent.
// argv: JSON { kind: 'webcrypto' | 'zlib', size, level, chunkSize, inflight, durationMs }.
// (sharp, which runs its pipelines on the same threadpool, has its own helper: workers/images.js.)

const crypto = require('node:crypto')
const zlib = require('node:zlib')
const { promisify } = require('node:util')
const { throughputRun, helperMain } = require('../lib')
const { logText } = require('../logtext')
const C = require('../contestants')

const cfg = JSON.parse(process.argv[2])
const gzip = promisify(zlib.gzip)

async function webcrypto () {
  // Distinct buffers per lane, as in the parent's rows.
  const bufs = Array.from({ length: cfg.inflight }, () => crypto.randomBytes(cfg.size))
  const expected = bufs.map((b) => crypto.createHash('sha256').update(b).digest())
  // Every buffer's digest checked against node:crypto before anything is timed.
  const got = await Promise.all(bufs.map((b) => crypto.subtle.digest('SHA-256', b)))
  got.forEach((d, i) => {
    if (!expected[i].equals(Buffer.from(d))) throw new Error(`webcrypto sha256 mismatch on buffer ${i}: ${Buffer.from(d).toString('hex')}`)
  })
  let next = 0
  return { submit: () => crypto.subtle.digest('SHA-256', bufs[next++ % bufs.length]) }
}

async function gzipper () {
  const input = logText(cfg.size)
  const opts = { level: cfg.level, chunkSize: cfg.chunkSize }
  const out = await gzip(input, opts)
  // Real gzip of the input, and the same bytes as gzipSync: chunkSize changes
  // only how often the output buffer is handed back, not the stream.
  if (!zlib.gunzipSync(out).equals(input)) throw new Error('zlib.gzip output does not round-trip to the input')
  if (!out.equals(zlib.gzipSync(input, { level: cfg.level }))) throw new Error('zlib.gzip with chunkSize differs from gzipSync')
  return { submit: () => gzip(input, opts), outBytes: out.length }
}

const KINDS = { webcrypto, zlib: gzipper }

helperMain(async () => {
  const { submit, outBytes } = await KINDS[cfg.kind]()
  await C.warm(submit, cfg.inflight * 2)
  const r = await throughputRun(submit, { inflight: cfg.inflight, bytesPerOp: cfg.size, durationMs: cfg.durationMs })
  return { ...r, outBytes, uvThreads: Number(process.env.UV_THREADPOOL_SIZE) || 4 }
})
