'use strict'
// Helper process for one row of the files scenario: hashes `file` with SHA-256 once, while
// fs.promises.readFile of a small file is issued every `probeEveryMs` in this same process
// (benchmark/inprocess.js; peak RSS mark reset before the run).
// - 'offload': hashFile('sha256', file) on a pool of its own (`threads` at `nice`): the pool
//   thread preads the file in 1 MiB chunks;
// - 'node': crypto.createHash('sha256') fed by fs.createReadStream(file) through
//   stream.pipeline, as node's docs show (64 KiB reads on libuv's threadpool, hashing on the
//   JS thread);
// - 'sha256sum': coreutils' sha256sum in a child (spawned, awaited); its own peak RSS is read
//   by /usr/bin/time -f %M when that exists.
// kind 'idle' runs no load: the probe's baseline.
// argv: JSON { kind, file, probeFile, probeEveryMs, durationMs, threads, nice, idlePriority }. Sends
//   { elapsedMs, digest, mbPerSec, fs, loop, peakRssMiB, baseRssMiB, childRssMiB }.

const crypto = require('node:crypto')
const fs = require('node:fs')
const { execFile } = require('node:child_process')
const { pipeline } = require('node:stream/promises')
const { setTimeout: sleep } = require('node:timers/promises')
const { measure, helperMain, gc } = require('../lib')
const { startProbe, probeSummary, resetPeak, peakRssMiB, checkPoolThreads } = require('../inprocess')

const cfg = JSON.parse(process.argv[2])

function sha256sum (file) {
  const time = fs.existsSync('/usr/bin/time')
  const [cmd, args] = time ? ['/usr/bin/time', ['-f', '%M', 'sha256sum', file]] : ['sha256sum', [file]]
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) return reject(err)
      const kib = time ? Number(stderr.trim().split('\n').pop()) : NaN
      resolve({ digest: stdout.split(' ')[0], childRssMiB: Number.isFinite(kib) ? kib / 1024 : null })
    })
  })
}

helperMain(async () => {
  await fs.promises.readFile(cfg.probeFile) // starts libuv's threads: start-up, not load
  let hashOnce
  let pool
  if (cfg.kind === 'offload') {
    const api = require('../..')
    pool = new api.Pool({ threads: cfg.threads, nice: cfg.nice, idlePriority: Boolean(cfg.idlePriority), name: 'files' })
    // Several tasks at once, each long enough (4 MiB, ~2.5 ms) that every pool thread starts
    // and takes its priority before the check: one small task started only one thread, so the
    // check failed whenever the second had not been needed yet.
    const block = Buffer.alloc(4 << 20)
    await Promise.all(Array.from({ length: 4 * cfg.threads }, () => api.hash('sha256', block, { pool })))
    checkPoolThreads('files', cfg)
    hashOnce = async () => ({ digest: await api.hashFile('sha256', cfg.file, { pool, encoding: 'hex' }) })
  } else if (cfg.kind === 'node') {
    hashOnce = async () => {
      const h = crypto.createHash('sha256')
      await pipeline(fs.createReadStream(cfg.file), h)
      return { digest: h.digest('hex') }
    }
  } else if (cfg.kind === 'sha256sum') {
    hashOnce = () => sha256sum(cfg.file)
  } else if (cfg.kind !== 'idle') throw new Error(`unknown files contestant ${cfg.kind}`)

  gc()
  const baseRssMiB = process.memoryUsage().rss / 2 ** 20
  const peakRssScope = resetPeak() ? 'run' : 'process'
  const r = await measure(async () => {
    const stopProbe = startProbe(cfg.probeFile, cfg.probeEveryMs)
    const out = hashOnce ? await hashOnce() : await sleep(cfg.durationMs).then(() => ({}))
    return { ...out, fs: probeSummary(await stopProbe()) }
  })
  const peak = peakRssMiB()
  if (pool) await pool.close()
  const size = fs.statSync(cfg.file).size
  return { ...r, mbPerSec: hashOnce ? size / 1e6 / (r.elapsedMs / 1000) : null, peakRssMiB: peak, baseRssMiB, rssGrowthMiB: peak - baseRssMiB, peakRssScope }
})
