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
const { measure, closedLoop, performance, helperMain, gc } = require('../lib')
const { startProbe, probeSummary: summary, resetPeak, peakRssMiB, checkPoolThreads } = require('../inprocess')
const C = require('../contestants')
const { transformer, checkSignature } = require('../scenarios/images-contestants')

const cfg = JSON.parse(process.argv[2])

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
  if (pool) checkPoolThreads('img', cfg)
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
  if (pool) await pool.close()
  return { ...r, outBytes, peakRssMiB: peakRssMiB(), peakRssScope, uvThreads: Number(process.env.UV_THREADPOOL_SIZE) || 4 }
})
