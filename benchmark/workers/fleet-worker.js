'use strict'
// Helper process for the fleet scenario: one process of the 4 × 2 fleet. A Pool of 2 threads
// named `fl` (on the host budget given, or none; at the niceness given, else the default 10)
// hashes `mib` MiB buffers with sha256, `inflight` at a time, in a closed loop for `durationMs`
// from the parent's 'go'. Every digest is checked against node:crypto (a wrong one fails the
// scenario). Sends { ops, elapsedMs, lat (submit → result, ms, every task), nices,
// hostBudget }, then waits for the parent to disconnect or kill it (exiting right after a send
// can let the parent see the exit before the message). Stdout unused; IPC only.
// argv: JSON { budget: { name, slots, dir } | null, nice?, mib, inflight, durationMs }.
const crypto = require('node:crypto')
const { performance } = require('node:perf_hooks')
const { Pool, hash } = require('../..')
const { threadNices } = require('../lib')

const cfg = JSON.parse(process.argv[2])
const pool = new Pool({ threads: 2, name: 'fl', ...(cfg.nice !== undefined && { nice: cfg.nice }), ...(cfg.budget && { hostBudget: cfg.budget }) })
// Four distinct inputs, so a result handed to the wrong task shows as a wrong digest.
const bufs = Array.from({ length: 4 }, () => crypto.randomBytes(cfg.mib * 2 ** 20))
const digests = bufs.map((b) => crypto.createHash('sha256').update(b).digest('hex'))
let seq = 0

async function one (lat) {
  const k = seq++ % bufs.length
  const t0 = performance.now()
  const d = await hash('sha256', bufs[k], { pool })
  if (lat) lat.push(performance.now() - t0)
  if (d.toString('hex') !== digests[k]) throw new Error(`sha256 mismatch on buffer ${k}`)
}

async function go () {
  const lat = []
  const t0 = performance.now()
  const deadline = t0 + cfg.durationMs
  const lane = async () => {
    while (performance.now() < deadline) await one(lat)
  }
  await Promise.all(Array.from({ length: cfg.inflight }, lane))
  const elapsedMs = performance.now() - t0
  const s = pool.stats()
  await pool.close()
  return { ops: lat.length, elapsedMs, lat, nices: threadNices('offload-fl-'), hostBudget: s.hostBudget ?? null }
}

async function main () {
  // Warm: both threads started, the kernel's code paths and the buffers touched.
  await Promise.all(Array.from({ length: cfg.inflight * 2 }, () => one()))
  process.send({ type: 'ready' })
  await new Promise((resolve) => process.once('message', resolve))
  return go()
}

main().then(
  (r) => {
    process.send({ type: 'result', ...r })
    process.on('disconnect', () => process.exit(0))
  },
  (err) => {
    console.error(err && err.stack ? err.stack : err)
    process.exit(1)
  }
)
