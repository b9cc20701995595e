'use strict'
// Helper process for one row of the images scenario (not a pool task): one contestant
// (offload, sharp or jimp; see scenarios/images-contestants.js) runs one task in a closed loop
// while fs.promises.readFile of a small file is issued every `probeEveryMs`, in this same
// process, whose libuv threadpool (UV_THREADPOOL_SIZE, set by the parent) is the one sharp's
// pipelines and readFile's open/fstat/read/close share. A fresh process per run also makes the
// peak RSS the contestant's own: the peak is reset (Linux: /proc/self/clear_refs) after warm-up,
// so VmHWM afterwards is the highest resident size during the measured run; elsewhere it is
// the process's lifetime maxRSS, and `peakRssScope` says which.
// Probes are measured from the moment each is issued; a probe whose timer is held up by a busy
// loop (jimp) starts late, and that wait shows in the loop-delay columns instead.
// kind 'idle' runs no load: the probe's baseline in the same kind of process.
// argv: JSON { kind, task, input (file path), probeFile, inflight, durationMs, probeEveryMs,
//   warm, threads, nice }. Sends one measured run.

const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')
const { measure, closedLoop, percentile, performance, helperMain, threadNices, threadPolicies, gc } = require('../lib')
const C = require('../contestants')
const { transformer, checkSignature } = require('../scenarios/images-contestants')

const cfg = JSON.parse(process.argv[2])

// Starts probing; the returned stop() ends it and resolves with every probe's latency (ms),
// once the ones still outstanding have finished.
function startProbe (file, everyMs) {
  const lat = []
  const all = []
  const one = () => {
    const s = performance.now()
    all.push(fs.promises.readFile(file).then(() => { lat.push(performance.now() - s) }))
  }
  one()
  const timer = setInterval(one, everyMs)
  return async () => {
    clearInterval(timer)
    await Promise.all(all)
    return lat
  }
}

// Resets the kernel's peak-RSS mark to the current RSS; false where that is not possible.
function resetPeak () {
  try {
    fs.writeFileSync('/proc/self/clear_refs', '5')
    return true
  } catch {
    return false
  }
}

function peakRssKiB () {
  try {
    return Number(/^VmHWM:\s+(\d+) kB/m.exec(fs.readFileSync('/proc/self/status', 'latin1'))[1])
  } catch {
    return process.resourceUsage().maxRSS
  }
}

const summary = (lat) => ({ probes: lat.length, p50: percentile(lat, 50), p99: percentile(lat, 99), max: Math.max(...lat) })

// The contestant's warmed-up transform, or null for 'idle'.
async function setup () {
  if (cfg.kind === 'idle') return { once: null }
  const input = fs.readFileSync(cfg.input)
  let pool
  if (cfg.kind === 'offload') {
    const { Pool } = require('../..')
    pool = new Pool({ threads: cfg.threads, nice: cfg.nice, idlePriority: Boolean(cfg.idlePriority), name: 'img' })
  }
  const once = transformer(cfg.kind, cfg.task, input, { pool })
  const out = await once()
  checkSignature(cfg.task, out, cfg.kind)
  await C.warm(once, cfg.warm)
  if (pool && process.platform === 'linux') {
    if (cfg.idlePriority) {
      const policies = threadPolicies('offload-img-')
      if (policies.length !== cfg.threads || policies.some((p) => p !== 5)) throw new Error(`offload-img threads under policies [${policies.join(', ')}], expected ${cfg.threads} under SCHED_IDLE (5)`)
    } else {
      const nices = threadNices('offload-img-')
      if (nices.length !== cfg.threads || nices.some((n) => n !== cfg.nice)) throw new Error(`offload-img threads at nice [${nices.join(', ')}], expected ${cfg.threads} at ${cfg.nice}`)
    }
  }
  return { once, pool, outBytes: out.length }
}

helperMain(async () => {
  const { once, pool, outBytes } = await setup()
  // The first readFile in a process starts libuv's threads (and, with no load, nothing else
  // would have): a few ms that belong to start-up, not to the load.
  await fs.promises.readFile(cfg.probeFile)
  gc()
  const peakRssScope = resetPeak() ? 'run' : 'process'
  const r = await measure(async () => {
    const stopProbe = startProbe(cfg.probeFile, cfg.probeEveryMs)
    if (!once) {
      await sleep(cfg.durationMs)
      return { fs: summary(await stopProbe()) }
    }
    const t0 = performance.now()
    const { ops } = await closedLoop(once, { inflight: cfg.inflight, durationMs: cfg.durationMs })
    const loadMs = performance.now() - t0
    const lat = await stopProbe()
    return { ops, loadMs, opsPerSec: ops / (loadMs / 1000), fs: summary(lat) }
  })
  const peakRssMiB = peakRssKiB() / 1024
  if (pool) await pool.close()
  return { ...r, outBytes, peakRssMiB, peakRssScope, uvThreads: Number(process.env.UV_THREADPOOL_SIZE) || 4 }
})
