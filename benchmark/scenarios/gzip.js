'use strict'
// Scenario 3: gzip of 1 MiB of log text — offload vs node:zlib on libuv's
// threadpool, against the THREADS x gzipSync ideal.

const zlib = require('node:zlib')
const { promisify } = require('node:util')
const { QUICK, THREADS, runThroughput, printTable, target, yieldToLoop, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const { logText } = require('../logtext')
const C = require('../contestants')

const SIZE = 1 << 20
const LEVEL = 6 // zlib's default, pinned so both sides do the same work
const INFLIGHT = Math.max(8, 4 * THREADS)
const DURATION_MS = QUICK ? 300 : 1500
const ROUNDS = QUICK ? 1 : 5
const gzip = promisify(zlib.gzip)

async function run () {
  const input = logText(SIZE)
  const sizes = { input: input.length, zlib: zlib.gzipSync(input, { level: LEVEL }).length }

  const impls = []
  if (!C.skipOffload) {
    const { api, pool } = C.loadOffload()
    const out = Buffer.from(await api.compress('gzip', input, { pool, level: LEVEL }))
    // Must be real gzip that round-trips through node's zlib.
    let back
    try {
      back = zlib.gunzipSync(out)
    } catch (err) {
      throw new Error(`offload gzip output is not valid gzip (${err.message}); first bytes ${out.subarray(0, 8).toString('hex')}`)
    }
    if (!back.equals(input)) throw new Error('offload gzip output does not round-trip to the input')
    sizes.offload = out.length
    impls.push({ name: 'offload', inflight: INFLIGHT, submit: () => api.compress('gzip', input, { pool, level: LEVEL }) })
  }
  impls.push({ name: 'zlib async', inflight: INFLIGHT, submit: () => gzip(input, { level: LEVEL }) })
  impls.push({
    name: 'gzipSync main',
    inflight: 1,
    submit: async () => {
      zlib.gzipSync(input, { level: LEVEL })
      await yieldToLoop()
    }
  })

  for (const impl of impls) await C.warm(impl.submit, INFLIGHT)

  const res = await runThroughput(impls, { bytesPerOp: SIZE, durationMs: DURATION_MS, rounds: ROUNDS })
  const main = res['gzipSync main'].median.mbPerSec
  const ideal = THREADS * main

  printTable(`3. gzip level ${LEVEL} of 1 MiB log text (-> ${sizes.zlib} B zlib${sizes.offload ? `, ${sizes.offload} B offload` : ''}), ${INFLIGHT} in flight, median of ${ROUNDS}; ideal = ${THREADS} x main = ${ideal.toFixed(0)} MB/s`,
    ['impl', 'MB/s', 'tasks/s', 'x main', '% ideal', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, { median: m }]) => [k, m.mbPerSec, m.opsPerSec,
      (m.mbPerSec / main).toFixed(2) + 'x', (100 * m.mbPerSec / ideal).toFixed(0) + '%', ...loopCpuCols(m)]))

  const targets = {}
  if (res.offload) {
    const m = res.offload.median
    const eff = m.mbPerSec / ideal
    targets.idealFraction = { value: eff, goal: '>= 0.9', pass: eff >= 0.9 }
    console.log(`  target: offload ${(eff * 100).toFixed(0)}% of ideal -> ${target(eff, eff >= 0.9, '>= 90%')}`)
    console.log(`  offload loop p99/max ${m.loop.p99.toFixed(2)} / ${m.loop.max.toFixed(2)} ms`)
  }
  return { config: { bytes: SIZE, level: LEVEL, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS, threads: THREADS }, sizes, idealMBps: ideal, results: res, targets }
}

module.exports = { name: 'gzip', run }
