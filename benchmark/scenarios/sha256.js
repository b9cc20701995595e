'use strict'
// Scenario 2: sha256 over 1 MiB buffers — does offload reach THREADS x the
// single-thread rate while keeping the event loop responsive?

const crypto = require('node:crypto')
const { QUICK, THREADS, runThroughput, printTable, target, yieldToLoop, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const SIZE = 1 << 20
// 4 tasks per thread (min 8): enough to cover libuv's 4 threads and to hide
// the gap between one task settling and its lane submitting the next.
const INFLIGHT = Math.max(8, 4 * THREADS)
const DURATION_MS = QUICK ? 300 : 1500
const ROUNDS = QUICK ? 1 : 5

async function run () {
  // Distinct buffers per lane so no implementation benefits from a hot cache line.
  const bufs = Array.from({ length: INFLIGHT }, () => crypto.randomBytes(SIZE))
  const expected = crypto.createHash('sha256').update(bufs[0]).digest()
  let next = 0
  const pick = () => bufs[next++ % bufs.length]

  const impls = []
  if (!C.skipOffload) {
    const { api, pool } = C.loadOffload()
    // Sanity first: a fast wrong answer is not a result.
    const got = await api.hash('sha256', bufs[0], { pool, encoding: 'buffer' })
    if (!expected.equals(Buffer.from(got))) throw new Error('offload sha256 mismatch')
    const hex = await api.hash('sha256', bufs[0], { pool, encoding: 'hex' })
    if (hex !== expected.toString('hex')) throw new Error(`offload sha256 hex mismatch: ${hex}`)
    impls.push({ name: 'offload', inflight: INFLIGHT, submit: () => api.hash('sha256', pick(), { pool, encoding: 'buffer' }) })
  }
  // Main thread: one hash, then yield, so loop delay shows the per-task block.
  impls.push({
    name: 'main-thread',
    inflight: 1,
    submit: async () => {
      crypto.createHash('sha256').update(pick()).digest()
      await yieldToLoop()
    }
  })
  impls.push({ name: 'webcrypto', inflight: INFLIGHT, submit: () => crypto.subtle.digest('SHA-256', pick()) })
  const pis = C.piscina('sha256')
  const pgot = await pis.run(bufs[0])
  if (!expected.equals(Buffer.from(pgot))) throw new Error('piscina sha256 mismatch')
  impls.push({ name: 'piscina', inflight: INFLIGHT, submit: () => pis.run(pick()) })

  for (const impl of impls) await C.warm(impl.submit, INFLIGHT)

  const res = await runThroughput(impls, { bytesPerOp: SIZE, durationMs: DURATION_MS, rounds: ROUNDS })
  const main = res['main-thread'].median.mbPerSec
  const ideal = THREADS * main

  printTable(`2. sha256 of 1 MiB buffers, ${INFLIGHT} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS}; ideal = ${THREADS} x main = ${ideal.toFixed(0)} MB/s`,
    ['impl', 'MB/s', 'tasks/s', 'x main', '% ideal', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, { median: m }]) => [k, m.mbPerSec, m.opsPerSec,
      (m.mbPerSec / main).toFixed(2) + 'x', (100 * m.mbPerSec / ideal).toFixed(0) + '%', ...loopCpuCols(m)]))

  const targets = {}
  if (res.offload) {
    const m = res.offload.median
    const eff = m.mbPerSec / ideal
    targets.idealFraction = { value: eff, goal: '>= 0.9', pass: eff >= 0.9 }
    targets.loopP99Ms = { value: m.loop.p99, goal: '<= 2', pass: m.loop.p99 <= 2 }
    console.log(`  target: offload ${(eff * 100).toFixed(0)}% of ideal -> ${target(eff, eff >= 0.9, '>= 90%')}`)
    console.log(`  target: offload loop p99 ${m.loop.p99.toFixed(2)} ms -> ${target(m.loop.p99, m.loop.p99 <= 2, '<= 2 ms')}`)
  }
  return { config: { bytes: SIZE, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS, threads: THREADS }, idealMBps: ideal, results: res, targets }
}

module.exports = { name: 'sha256', run }
