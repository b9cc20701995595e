'use strict'
// Scenario 1: pure dispatch overhead with a task that does nothing.
// (a) N concurrent calls under one Promise.all — batching/settling throughput.
// (b) M sequential awaits — single round-trip latency.

// offload and piscina run their threads at nice 10, tinypool (no such option) at
// 0; "offload (nice 0)" shows what offload's niceness does to the loop columns.

const { QUICK, THREADS, ROUNDS, performance, measure, rounds, statsOf, range, printTable, target, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const CONCURRENT = QUICK ? 10_000 : 50_000
const SEQUENTIAL = QUICK ? 1_000 : 5_000

async function run () {
  const impls = []
  if (!C.skipOffload) {
    const { testing, pool } = C.loadOffload()
    const nice0 = C.offloadPool('nice0')
    impls.push({ name: 'offload', call: () => testing.noop({ pool }) })
    impls.push({ name: 'offload (nice 0)', call: () => testing.noop({ pool: nice0 }) })
  }
  const pis = await C.piscina('noop')
  impls.push({ name: 'piscina', call: () => pis.run(null) })
  const tiny = await C.tinypool('noop')
  impls.push({ name: 'tinypool (nice 0)', call: () => tiny.run(null) })

  for (const impl of impls) await C.warm(impl.call, 2000)
  await C.checkNices()

  const concurrent = await rounds(impls.map((impl) => ({
    name: impl.name,
    run: async () => {
      const r = await measure(async () => {
        const t0 = performance.now()
        const ps = new Array(CONCURRENT)
        for (let i = 0; i < CONCURRENT; i++) ps[i] = impl.call()
        // The submit loop is synchronous, so it alone blocks the event loop;
        // timing it separates submission cost from completion/settle cost.
        const submitMs = performance.now() - t0
        await Promise.all(ps)
        return { submitMs }
      })
      return { ...r, opsPerSec: CONCURRENT / (r.elapsedMs / 1000) }
    }
  })), ROUNDS)

  const sequential = await rounds(impls.map((impl) => ({
    name: impl.name,
    run: async () => {
      const r = await measure(async () => {
        for (let i = 0; i < SEQUENTIAL; i++) await impl.call()
      })
      return { ...r, usPerOp: (r.elapsedMs * 1000) / SEQUENTIAL }
    }
  })), ROUNDS)

  const cStats = statsOf(concurrent)
  const sStats = statsOf(sequential)
  const cMed = Object.fromEntries(Object.entries(cStats).map(([k, v]) => [k, v.median]))
  const sMed = Object.fromEntries(Object.entries(sStats).map(([k, v]) => [k, v.median]))
  const pc = cMed.piscina.opsPerSec
  const ps = sMed.piscina.usPerOp

  printTable(`1a. No-op dispatch, ${CONCURRENT.toLocaleString('en-US')} concurrent (Promise.all), ${THREADS} threads, median of ${ROUNDS} (min–max beside); offload and piscina at nice ${C.NICE} unless marked`,
    ['impl', 'ops/s', 'min–max', 'total ms', 'submit ms', 'vs piscina', ...LOOP_CPU_HEADER],
    Object.entries(cStats).map(([k, s]) => [k, s.median.opsPerSec, range(s, 'opsPerSec'), s.median.elapsedMs, s.median.submitMs, (s.median.opsPerSec / pc).toFixed(2) + 'x', ...loopCpuCols(s)]))
  printTable(`1b. No-op round trip, ${SEQUENTIAL.toLocaleString('en-US')} sequential awaits, median of ${ROUNDS} (min–max beside)`,
    ['impl', 'us/op', 'min–max', 'ops/s', 'speedup vs piscina', ...LOOP_CPU_HEADER],
    Object.entries(sStats).map(([k, s]) => [k, s.median.usPerOp.toFixed(2), range(s, 'usPerOp', 2), 1e6 / s.median.usPerOp, (ps / s.median.usPerOp).toFixed(2) + 'x', ...loopCpuCols(s)]))

  const targets = {}
  if (cMed.offload) {
    const cr = cMed.offload.opsPerSec / pc
    const sr = sMed.offload.usPerOp / ps
    targets.concurrentVsPiscina = { value: cr, goal: '>= 20', pass: cr >= 20 }
    targets.roundTripVsPiscina = { value: sr, goal: '<= 0.125', pass: sr <= 1 / 8 }
    console.log(`  target: concurrent ${cr.toFixed(1)}x piscina -> ${target(cr, cr >= 20, '>= 20x')}`)
    console.log(`  target: round trip ${(sr * 100).toFixed(1)}% of piscina's -> ${target(sr, sr <= 1 / 8, '<= 12.5%')}`)
  }
  return {
    config: { concurrent: CONCURRENT, sequential: SEQUENTIAL, rounds: ROUNDS, threads: THREADS, nice: C.NICE },
    concurrent: cStats,
    sequential: sStats,
    targets
  }
}

module.exports = { name: 'noop', run }
