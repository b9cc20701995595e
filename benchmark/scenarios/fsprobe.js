'use strict'
// Scenario 4: does saturating the CPU pool hurt unrelated async I/O?
// fs.promises.readFile runs open/fstat/read/close on libuv's threadpool, so it
// queues behind node:zlib's gzip jobs; offload's own threads should leave it alone.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const zlib = require('node:zlib')
const { promisify } = require('node:util')
const { QUICK, measure, rounds, summarize, percentile, printTable, target, performance, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const { logText } = require('../logtext')
const C = require('../contestants')

const PROBE_MS = QUICK ? 600 : 2500
const BG_INFLIGHT = 16
const ROUNDS = QUICK ? 1 : 3
const LEVEL = 6
const gzip = promisify(zlib.gzip)

// Probe loop with `background` lanes hammering the pool until the probe ends.
async function probeRun (file, background, bgBytes) {
  return measure(async () => {
    let stop = false
    let bgOps = 0
    const lanes = background
      ? Array.from({ length: BG_INFLIGHT }, async () => {
        while (!stop) { await background(); bgOps++ }
      })
      : []
    const lat = []
    const t0 = performance.now()
    const end = t0 + PROBE_MS
    while (performance.now() < end) {
      const s = performance.now()
      await fs.promises.readFile(file)
      lat.push(performance.now() - s)
    }
    const probeMs = performance.now() - t0
    stop = true
    await Promise.all(lanes)
    return {
      probes: lat.length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: Math.max(...lat),
      bgMBps: (bgOps * bgBytes) / 1e6 / (probeMs / 1000)
    }
  })
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-'))
  const file = path.join(dir, 'probe.txt')
  fs.writeFileSync(file, logText(4096, 7))
  const input = logText(1 << 20)
  try {
    const impls = [{ name: 'idle (baseline)', run: () => probeRun(file, null, 0) }]
    if (!C.skipOffload) {
      const { api, pool } = C.loadOffload()
      impls.push({ name: 'offload gzip x16', run: () => probeRun(file, () => api.compress('gzip', input, { pool, level: LEVEL }), input.length) })
    }
    impls.push({ name: 'zlib gzip x16', run: () => probeRun(file, () => gzip(input, { level: LEVEL }), input.length) })

    const runs = await rounds(impls, ROUNDS)
    const med = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, summarize(v)]))
    // Worst probe over every round: the tail is the point of this scenario.
    const worst = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.max(...v.map((r) => r.max))]))

    printTable(`4. fs.promises.readFile(4 KiB) latency (ms) during ${PROBE_MS} ms of background gzip, median of ${ROUNDS}`,
      ['background', 'probes', 'p50', 'p99', 'max', 'worst all rounds', 'bg MB/s', ...LOOP_CPU_HEADER],
      Object.entries(med).map(([k, m]) => [k, m.probes, m.p50.toFixed(2), m.p99.toFixed(2), m.max.toFixed(2), worst[k].toFixed(2), m.bgMBps, ...loopCpuCols(m)]))

    const targets = {}
    if (med['offload gzip x16']) {
      const w = worst['offload gzip x16']
      targets.offloadWorstMs = { value: w, goal: '<= 10', pass: w <= 10 }
      console.log(`  target: readFile worst under offload load ${w.toFixed(2)} ms -> ${target(w, w <= 10, '<= 10 ms')}`)
    }
    return {
      config: { probeMs: PROBE_MS, bgInflight: BG_INFLIGHT, rounds: ROUNDS, level: LEVEL, probeBytes: 4096 },
      results: Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, { median: med[k], worstMs: worst[k], runs: v }])),
      targets
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'fsprobe', run }
