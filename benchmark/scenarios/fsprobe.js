'use strict'
// Scenario 4: does a busy CPU pool hurt unrelated async I/O?
// fs.promises.readFile runs open/fstat/read/close on libuv's threadpool, so it
// queues behind node:zlib's gzip jobs; offload's own threads should leave it alone.
// Every row is a fresh helper process (workers/fsprobe.js) with its own libuv
// pool: zlib at UV_THREADPOOL_SIZE = THREADS (the pools' size), at libuv's
// default 4, and at 16 (the usual advice for a busy libuv pool).
// Fair load: every background runs at the same rate, 70% of the slowest row's
// capacity, measured first in a short calibration run per row (the probe loop
// itself takes CPU, so capacity is measured with it running). BENCH_FSPROBE_MBPS
// fixes the rate instead. A row whose load fell short of it is flagged.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, statsOf, range, printTable, target, runHelper, noteHelperNoise, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const { logText } = require('../logtext')
const C = require('../contestants')

const PROBE_MS = QUICK ? 600 : 2000
const CALIBRATE_MS = QUICK ? 500 : 1500
const BG_INFLIGHT = 16
const LEVEL = 6
const SIZE = 1 << 20
const CHUNK = 1 << 20
const RATE_SHARE = 0.7
// A row counts as having carried the load if its median rate is within 5% of it.
const RATE_TOLERANCE = 0.95
// Target: offload's load may add at most this much to the idle p99.
const P99_EXTRA_MS = 0.5
const UV_SIZES = [...new Set([THREADS, 4, 16])]

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-'))
  const file = path.join(dir, 'probe.txt')
  fs.writeFileSync(file, logText(4096, 7))
  try {
    const base = { file, probeMs: PROBE_MS, level: LEVEL, chunkSize: CHUNK, size: SIZE, inflight: BG_INFLIGHT, threads: THREADS }
    // name -> [helper config, UV_THREADPOOL_SIZE]
    const rows = [['idle (baseline)', { load: null }, 4]]
    if (!C.skipOffload) {
      rows.push(['offload', { load: 'offload', nice: C.NICE }, 4])
      rows.push(['offload (nice 0)', { load: 'offload', nice: 0 }, 4])
    }
    for (const uv of UV_SIZES) rows.push([`zlib.gzip (uv ${uv})`, { load: 'zlib' }, uv])
    const probe = (cfg, uv, extra) => runHelper('fsprobe', [JSON.stringify({ ...base, ...cfg, ...extra })], { env: { UV_THREADPOOL_SIZE: String(uv) } })

    const capacity = {}
    let rate = Number(process.env.BENCH_FSPROBE_MBPS) || null
    const fixed = rate != null
    if (!fixed) {
      for (const [name, cfg, uv] of rows.slice(1)) {
        const r = await probe(cfg, uv, { probeMs: CALIBRATE_MS, rateMBps: null })
        noteHelperNoise([r])
        capacity[name] = r.bgMBps
      }
      rate = RATE_SHARE * Math.min(...Object.values(capacity))
    }

    const runs = await rounds(rows.map(([name, cfg, uv]) => ({ name, run: () => probe(cfg, uv, { rateMBps: cfg.load ? rate : null }) })), ROUNDS)
    for (const v of Object.values(runs)) noteHelperNoise(v)
    const res = statsOf(runs)
    // Worst probe over every round: the tail is the point of this scenario.
    const worst = Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, Math.max(...v.map((r) => r.max))]))
    const reached = Object.fromEntries(rows.map(([name, cfg]) => [name, cfg.load ? res[name].median.bgMBps >= RATE_TOLERANCE * rate : null]))
    const short = Object.entries(reached).filter(([, ok]) => ok === false).map(([k]) => k)

    printTable(`4. fs.promises.readFile(4 KiB) latency (ms) during ${PROBE_MS} ms of background gzip at ${rate.toFixed(1)} MB/s (${fixed ? 'BENCH_FSPROBE_MBPS' : `${RATE_SHARE * 100}% of the slowest row's capacity`}), ${BG_INFLIGHT} jobs max in flight, fresh process per run, median of ${ROUNDS} (min–max beside)`,
      ['background', 'capacity', 'bg MB/s', 'min–max', 'probes', 'p50', 'p99', 'p99 min–max', 'max', 'worst all rounds', ...LOOP_CPU_HEADER],
      Object.entries(res).map(([k, s]) => {
        const m = s.median
        const load = reached[k] == null ? '-' : `${m.bgMBps.toFixed(1)}${reached[k] ? '' : ' SHORT'}`
        return [k, capacity[k] ?? '-', load, reached[k] == null ? '-' : range(s, 'bgMBps'), m.probes, m.p50.toFixed(2), m.p99.toFixed(2), range(s, 'p99', 2),
          m.max.toFixed(2), worst[k].toFixed(2), ...loopCpuCols(s)]
      }))
    if (short.length) console.log(`  WARNING: load short of ${rate.toFixed(1)} MB/s (median below ${RATE_TOLERANCE * 100}%) in: ${short.join(', ')}; their latencies are not comparable`)

    const targets = {}
    if (res.offload) {
      const idle = res['idle (baseline)'].median.p99
      const p99 = res.offload.median.p99
      const ok = reached.offload && p99 <= idle + P99_EXTRA_MS
      targets.offloadP99VsIdle = { value: p99, idle, goal: `<= idle p99 + ${P99_EXTRA_MS} ms`, loadReached: reached.offload, pass: ok }
      console.log(`  target: readFile p99 under offload load ${p99.toFixed(2)} ms vs idle ${idle.toFixed(2)} ms -> ${target(p99, ok, `<= idle + ${P99_EXTRA_MS} ms${reached.offload ? '' : ', load short'}`)}`)
    }
    return {
      config: { probeMs: PROBE_MS, calibrateMs: CALIBRATE_MS, bgInflight: BG_INFLIGHT, rounds: ROUNDS, level: LEVEL, chunkSize: CHUNK, probeBytes: 4096, threads: THREADS, nice: C.NICE, uvSizes: UV_SIZES },
      rateMBps: rate,
      rateFixed: fixed,
      capacityMBps: capacity,
      loadReached: reached,
      results: Object.fromEntries(Object.entries(res).map(([k, s]) => [k, { ...s, worstMs: worst[k] }])),
      targets
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'fsprobe', run }
