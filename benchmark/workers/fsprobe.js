'use strict'
// Helper process for the fsprobe scenario (not a pool task): probes
// fs.promises.readFile latency for `probeMs` while a background gzip load runs
// at a fixed rate, in a fresh process so each row has its own libuv pool of
// UV_THREADPOOL_SIZE threads (set by the parent). Sends one measured run.
// argv: JSON { file, probeMs, load: null | 'offload' | 'zlib', nice, threads,
//   level, chunkSize, size, inflight, rateMBps (null: as fast as it goes) }.

const fs = require('node:fs')
const zlib = require('node:zlib')
const { promisify } = require('node:util')
const { setTimeout: sleep } = require('node:timers/promises')
const { measure, percentile, performance, helperMain, threadNices } = require('../lib')
const { logText } = require('../logtext')
const C = require('../contestants')

const cfg = JSON.parse(process.argv[2])
const gzip = promisify(zlib.gzip)

// The background job, checked once (round trip through node's zlib) before use.
async function loadJob () {
  if (!cfg.load) return null
  const input = logText(cfg.size)
  let job
  if (cfg.load === 'offload') {
    const api = require('../..')
    const pool = new api.Pool({ threads: cfg.threads, nice: cfg.nice, name: 'probe' })
    job = () => api.compress('gzip', input, { pool, level: cfg.level })
  } else {
    job = () => gzip(input, { level: cfg.level, chunkSize: cfg.chunkSize })
  }
  const out = Buffer.from(await job())
  if (!zlib.gunzipSync(out).equals(input)) throw new Error(`${cfg.load} gzip output does not round-trip to the input`)
  await C.warm(job, cfg.inflight)
  if (cfg.load === 'offload' && process.platform === 'linux') {
    const nices = threadNices('offload-probe')
    if (nices.length !== cfg.threads || nices.some((n) => n !== cfg.nice)) throw new Error(`offload-probe threads at nice [${nices.join(', ')}], expected ${cfg.threads} at ${cfg.nice}`)
  }
  return job
}

// Job k starts at t0 + k * interval, in one of `inflight` lanes: a load that
// keeps up runs at exactly rateMBps; one that cannot falls behind (at most
// `inflight` jobs outstanding) and its achieved rate says so.
function background (job, signal) {
  let ops = 0
  if (!job) return { done: Promise.resolve(), ops: () => 0 }
  const interval = cfg.rateMBps ? (cfg.size / 1e6 / cfg.rateMBps) * 1000 : 0
  const t0 = performance.now()
  let next = 0
  const lane = async () => {
    while (!signal.stop) {
      const at = t0 + next++ * interval
      const wait = at - performance.now()
      if (wait > 0) await sleep(wait)
      if (signal.stop) break
      await job()
      ops++
    }
  }
  return { done: Promise.all(Array.from({ length: cfg.inflight }, lane)), ops: () => ops }
}

helperMain(async () => {
  const job = await loadJob()
  return measure(async () => {
    const signal = { stop: false }
    const bg = background(job, signal)
    const lat = []
    const t0 = performance.now()
    const end = t0 + cfg.probeMs
    while (performance.now() < end) {
      const s = performance.now()
      await fs.promises.readFile(cfg.file)
      lat.push(performance.now() - s)
    }
    const probeMs = performance.now() - t0
    // Jobs finished within the probe window: the load the probes actually saw.
    const ops = bg.ops()
    signal.stop = true
    await bg.done
    return {
      probes: lat.length,
      p50: percentile(lat, 50),
      p99: percentile(lat, 99),
      max: Math.max(...lat),
      bgMBps: (ops * cfg.size) / 1e6 / (probeMs / 1000),
      uvThreads: Number(process.env.UV_THREADPOOL_SIZE) || 4
    }
  })
})
