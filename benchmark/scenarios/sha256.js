'use strict'
// Scenario 2: sha256 over 1 MiB buffers — does offload reach THREADS x its own
// single-thread rate while keeping the event loop responsive?
// Rows: offload at nice 10 (its default) and at nice 0; offload on 1 thread (the
// base of "ideal"); one core of the main thread; WebCrypto on libuv's pool sized
// to THREADS and at its default 4 (each in a fresh helper process, see
// workers/libuv.js); piscina (niceIncrement 10) with 1 MiB copies and with the
// inputs in SharedArrayBuffers, as its docs advise for large inputs.

const crypto = require('node:crypto')
const { QUICK, THREADS, ROUNDS, runThroughput, runHelper, noteHelperNoise, printTable, range, target, yieldToLoop, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const SIZE = 1 << 20
// 4 tasks per thread (min 8): enough to cover libuv's 4 threads and to hide
// the gap between one task settling and its lane submitting the next.
const INFLIGHT = Math.max(8, 4 * THREADS)
const DURATION_MS = QUICK ? 300 : 1500
// libuv pool sizes for the WebCrypto rows: the pools' thread count, and the default.
const UV_SIZES = [...new Set([THREADS, 4])]

async function run () {
  // Distinct buffers per lane so no implementation benefits from a hot cache line.
  const bufs = Array.from({ length: INFLIGHT }, () => crypto.randomBytes(SIZE))
  const digests = bufs.map((b) => crypto.createHash('sha256').update(b).digest())
  // The same bytes in SharedArrayBuffers, for the piscina (shared) row.
  const shared = bufs.map((b) => {
    const s = Buffer.from(new SharedArrayBuffer(SIZE))
    b.copy(s)
    return s
  })
  let next = 0
  const pick = () => bufs[next++ % bufs.length]
  let nextShared = 0
  const pickShared = () => shared[nextShared++ % shared.length]
  // Sanity first: a fast wrong answer is not a result. Every buffer, every contestant.
  const check = async (name, hashOf, inputs = bufs) => {
    for (let i = 0; i < inputs.length; i++) {
      const got = Buffer.from(await hashOf(inputs[i]))
      if (!digests[i].equals(got)) throw new Error(`${name} sha256 mismatch on buffer ${i}: ${got.toString('hex')}`)
    }
  }

  const impls = []
  if (!C.skipOffload) {
    const { api, pool } = C.loadOffload()
    const nice0 = C.offloadPool('nice0')
    const one = C.offloadPool('one')
    await check('offload', (b) => api.hash('sha256', b, { pool, encoding: 'buffer' }))
    const hex = await api.hash('sha256', bufs[0], { pool, encoding: 'hex' })
    if (hex !== digests[0].toString('hex')) throw new Error(`offload sha256 hex mismatch: ${hex}`)
    await check('offload (nice 0)', (b) => api.hash('sha256', b, { pool: nice0, encoding: 'buffer' }))
    await check('offload (1 thread)', (b) => api.hash('sha256', b, { pool: one, encoding: 'buffer' }))
    impls.push({ name: 'offload', inflight: INFLIGHT, submit: () => api.hash('sha256', pick(), { pool, encoding: 'buffer' }) })
    impls.push({ name: 'offload (nice 0)', inflight: INFLIGHT, submit: () => api.hash('sha256', pick(), { pool: nice0, encoding: 'buffer' }) })
    impls.push({ name: 'offload (1 thread)', inflight: 4, submit: () => api.hash('sha256', pick(), { pool: one, encoding: 'buffer' }) })
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
  for (const uv of UV_SIZES) {
    // Checked against node:crypto inside the helper, before its timed run.
    const cfg = { kind: 'webcrypto', size: SIZE, inflight: INFLIGHT, durationMs: DURATION_MS }
    impls.push({ name: `webcrypto (uv ${uv})`, helper: true, run: () => runHelper('libuv', [JSON.stringify(cfg)], { env: { UV_THREADPOOL_SIZE: String(uv) } }) })
  }
  const pis = await C.piscina('sha256')
  await check('piscina', (b) => pis.run(b))
  await check('piscina (shared)', (b) => pis.run(b), shared)
  impls.push({ name: 'piscina', inflight: INFLIGHT, submit: () => pis.run(pick()) })
  impls.push({ name: 'piscina (shared)', inflight: INFLIGHT, submit: () => pis.run(pickShared()) })

  for (const impl of impls) if (impl.submit) await C.warm(impl.submit, INFLIGHT)
  await C.checkNices()

  const res = await runThroughput(impls, { bytesPerOp: SIZE, durationMs: DURATION_MS, rounds: ROUNDS })
  for (const impl of impls) if (impl.helper) noteHelperNoise(res[impl.name].runs)
  const main = res['main-thread'].median.mbPerSec
  // Ideal: THREADS x offload's own single-thread rate (so a faster kernel does not
  // count as parallel efficiency); without offload, THREADS x the main thread.
  const one = res['offload (1 thread)'] ? res['offload (1 thread)'].median.mbPerSec : main
  const ideal = THREADS * one
  const idealText = res['offload (1 thread)'] ? `${THREADS} x offload (1 thread)` : `${THREADS} x main`

  printTable(`2. sha256 of 1 MiB buffers, ${INFLIGHT} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); ideal = ${idealText} = ${ideal.toFixed(0)} MB/s; offload and piscina at nice ${C.NICE} unless marked`,
    ['impl', 'MB/s', 'min–max', 'tasks/s', 'x main', '% ideal', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, s]) => [k, s.median.mbPerSec, range(s, 'mbPerSec', 0), s.median.opsPerSec,
      (s.median.mbPerSec / main).toFixed(2) + 'x', (100 * s.median.mbPerSec / ideal).toFixed(0) + '%', ...loopCpuCols(s)]))

  const targets = {}
  if (res.offload) {
    const m = res.offload.median
    const eff = m.mbPerSec / ideal
    targets.idealFraction = { value: eff, goal: '>= 0.9', pass: eff >= 0.9, base: 'offload (1 thread)' }
    targets.loopP99Ms = { value: m.loop.p99, goal: '<= 2', pass: m.loop.p99 <= 2 }
    console.log(`  target: offload ${(eff * 100).toFixed(0)}% of ${THREADS} x its own 1-thread rate -> ${target(eff, eff >= 0.9, '>= 90%')}`)
    console.log(`  target: offload loop p99 ${m.loop.p99.toFixed(2)} ms -> ${target(m.loop.p99, m.loop.p99 <= 2, '<= 2 ms')}`)
  }
  return { config: { bytes: SIZE, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS, threads: THREADS, nice: C.NICE, uvSizes: UV_SIZES }, idealMBps: ideal, idealBase: idealText, results: res, targets }
}

module.exports = { name: 'sha256', run }
