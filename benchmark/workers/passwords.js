'use strict'
// Helper process for one row of the passwords scenario (not a pool task): one hasher (offload,
// @node-rs/argon2, argon2, bcrypt or node's crypto.scrypt; see scenarios/passwords-contestants.js)
// hashes in a closed loop, then verifies in a closed loop, while fs.promises.readFile of a small
// file is issued every `probeEveryMs` in this same process: every anchor runs on this process's
// libuv threadpool (UV_THREADPOOL_SIZE, set by the parent), the one readFile needs too. A fresh
// process per row makes each peak RSS the hasher's own (benchmark/inprocess.js); the mark is
// reset before each of the two measured runs.
// Before timing, the row is checked: its hash carries the configured parameters, and its verify
// accepts `foreign` (a hash the parent made with an anchor, another library than this row's where
// there is one) for the password and rejects it for a wrong one. Every timed hash is checked for
// the parameters again, and every timed verify (of the row's own first hash, `sample`) must
// return true. The parent reads `sample` with the other libraries.
// kind 'idle' runs no load: the probe's baseline in the same kind of process.
// argv: JSON { kind, key, foreign, probeFile, inflight, durationMs, probeEveryMs, warm, threads,
//   nice, idlePriority }. Sends { hash, verify, sample } (idle: { idle }): one measured run each.

const fs = require('node:fs')
const { setTimeout: sleep } = require('node:timers/promises')
const { measure, closedLoop, performance, helperMain, gc } = require('../lib')
const { startProbe, probeSummary, resetPeak, peakRssMiB, checkPoolThreads } = require('../inprocess')
const C = require('../contestants')
const { hasher, checkEncoded, checkVerify } = require('../scenarios/passwords-contestants')

const cfg = JSON.parse(process.argv[2])

// One measured run of `submit` (or of nothing, for 'idle') with the probe running.
async function timed (submit) {
  gc()
  const peakRssScope = resetPeak() ? 'run' : 'process'
  const r = await measure(async () => {
    const stopProbe = startProbe(cfg.probeFile, cfg.probeEveryMs)
    if (!submit) {
      await sleep(cfg.durationMs)
      return { fs: probeSummary(await stopProbe()) }
    }
    const t0 = performance.now()
    const { ops } = await closedLoop(submit, { inflight: cfg.inflight, durationMs: cfg.durationMs })
    const loadMs = performance.now() - t0
    return { ops, loadMs, opsPerSec: ops / (loadMs / 1000), fs: probeSummary(await stopProbe()) }
  })
  return { ...r, peakRssMiB: peakRssMiB(), peakRssScope, uvThreads: Number(process.env.UV_THREADPOOL_SIZE) || 4 }
}

helperMain(async () => {
  if (cfg.kind === 'idle') {
    await fs.promises.readFile(cfg.probeFile)
    return { idle: await timed(null) }
  }
  let pool
  if (cfg.kind === 'offload') {
    const { Pool } = require('../..')
    pool = new Pool({ threads: cfg.threads, nice: cfg.nice, idlePriority: Boolean(cfg.idlePriority), name: 'pw' })
  }
  const h = hasher(cfg.kind, cfg.key, { pool })
  const sample = await h.hash()
  checkEncoded(cfg.key, sample, cfg.kind)
  await checkVerify(h.verify, cfg.foreign, `${cfg.kind} (on the parent's anchor hash)`)
  await C.warm(h.hash, cfg.warm)
  if (pool) checkPoolThreads('pw', cfg)
  // The first readFile in a process starts libuv's threads: start-up, not load.
  await fs.promises.readFile(cfg.probeFile)

  const hash = await timed(async () => checkEncoded(cfg.key, await h.hash(), cfg.kind))
  const verify = await timed(async () => {
    if (await h.verify(sample) !== true) throw new Error(`${cfg.kind} rejected its own hash ${sample} during the run`)
  })
  if (pool) await pool.close()
  return { hash, verify, sample }
})
