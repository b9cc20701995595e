'use strict'
// offload benchmark: `npm run bench` (full, ~23 min, passwords alone ~9, compression 2.5) or BENCH_QUICK=1 (smoke, ~5.3 min, compression 45 s).
// Optional: BENCH_ONLY=noop,sha256,gzip,fsprobe,spawn,capture,processpool,threadpool,images,passwords,aead,files,compression to run a subset;
// parse (issue 18's CSV/NDJSON/JSON parsers; 1 GiB set in the full run only) is a BENCH_ONLY name too;
// so is bullmq (issue 19: BullMQ jobs/s, offload's createWorker against inline; starts its own redis-server);
// and fleet (issue 19's host budget: 4 processes x 2 pool threads beside an Express /health; ~40 s quick, ~2.5 min full);
// BENCH_NO_OFFLOAD=1 to run only the comparisons (no addon needed);
// BENCH_FSPROBE_MBPS=<n> to fix the fsprobe background rate instead of calibrating it.
// Pools run in this process; rows that need a process of their own run in helper
// processes (see benchmark/workers): libuv's rows (UV_THREADPOOL_SIZE is read once
// per process), spawn, capture, processpool. Rounds alternate implementations
// (5, or 3 in the smoke run); tables show medians with the min–max over the rounds
// beside the main figures, results/<timestamp>.json + results/latest.json keep
// medians, min, max and every run.
// Every pool runs as its docs recommend for the workload: offload and piscina at
// nice 10 (tinypool has no such option), piscina also with SharedArrayBuffer
// inputs, workerpool in both serializations (and on threads for threadpool),
// libuv at the pools' thread count and at its default, zlib.gzip with a 1 MiB
// chunkSize.
// Targets are printed PASS/MISS but never change the exit code; a crash or a
// failed correctness check (wrong digest, invalid gzip, short capture, a pool
// not at its stated niceness) exits 1.

const fs = require('node:fs')
const path = require('node:path')
const { machineInfo, noiseSummary, QUICK } = require('./lib')
const C = require('./contestants')

const SCENARIOS = [
  require('./scenarios/noop'),
  require('./scenarios/sha256'),
  require('./scenarios/gzip'),
  require('./scenarios/fsprobe'),
  require('./scenarios/spawn'),
  require('./scenarios/capture'),
  require('./scenarios/processpool'),
  require('./scenarios/threadpool'),
  require('./scenarios/images'),
  require('./scenarios/passwords'),
  require('./scenarios/aead'),
  require('./scenarios/files'),
  require('./scenarios/compression'),
  require('./scenarios/parse'),
  require('./scenarios/bullmq'),
  require('./scenarios/fleet')
]

async function main () {
  const only = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((s) => s.trim()) : null
  const machine = machineInfo()
  const startedAt = new Date()
  console.log(`offload benchmark${QUICK ? ' (BENCH_QUICK smoke run)' : ''} — ${startedAt.toISOString()}`)
  console.log(`cpu: ${machine.cpu} | cores: ${machine.cores} (availableParallelism ${machine.availableParallelism}) | node ${machine.node} | ${machine.platform} | UV_THREADPOOL_SIZE ${machine.uvThreadpoolSize}`)
  console.log('loop = monitorEventLoopDelay({ resolution: 1 }) in ms during measured runs only; raw values include the 1 ms sampling tick, so an idle loop reads ~1.0')
  if (C.skipOffload) console.log('BENCH_NO_OFFLOAD=1: offload rows skipped')

  const results = {}
  const failed = []
  try {
    for (const s of SCENARIOS) {
      if (only && !only.includes(s.name)) continue
      const t0 = Date.now()
      // One broken scenario (e.g. a kernel returning wrong output) must not hide
      // the others' numbers; it is recorded and still fails the run at the end.
      try {
        results[s.name] = await s.run()
      } catch (err) {
        console.error(`\nscenario ${s.name} failed: ${err && err.stack ? err.stack : err}`)
        results[s.name] = { error: String(err && err.stack ? err.stack : err) }
        failed.push(s.name)
      }
      results[s.name].wallMs = Date.now() - t0
      results[s.name].offloadPoolStats = C.offloadStats()
    }
  } finally {
    await closeWithin(C.closeAll(), 10_000)
  }

  const noise = noiseSummary()
  if (noise.medianOtherCores != null) {
    console.log(`\nother processes used ${noise.medianOtherCores.toFixed(2)} cores (median; max ${noise.maxOtherCores.toFixed(2)}) during measured runs`)
    // Everything here is relative to the cores actually free; say so loudly.
    if (noise.medianOtherCores > 0.25) console.log(`WARNING: the machine was busy with other work; offload/ideal and loop-delay numbers are pessimistic`)
  }
  const out = { startedAt: startedAt.toISOString(), wallMs: Date.now() - startedAt, ok: failed.length === 0, machine, noise, scenarios: results }
  const dir = path.join(__dirname, 'results')
  fs.mkdirSync(dir, { recursive: true })
  // Colons are not portable in file names, so the ISO time uses '-' instead.
  const file = path.join(dir, `${startedAt.toISOString().replace(/:/g, '-')}.json`)
  // Native stats may contain BigInt counters, which JSON.stringify rejects.
  const json = JSON.stringify(out, (k, v) => (typeof v === 'bigint' ? Number(v) : v), 2)
  fs.writeFileSync(file, json)
  fs.writeFileSync(path.join(dir, 'latest.json'), json)
  console.log(`\nwrote ${path.relative(process.cwd(), file)} and latest.json (${(out.wallMs / 1000).toFixed(1)} s total)`)
  if (failed.length) throw new Error(`scenario(s) failed: ${failed.join(', ')}`)
}

// A pool that never finishes closing must not hang CI.
function closeWithin (p, ms) {
  let timer
  return Promise.race([
    p,
    new Promise((resolve, reject) => { timer = setTimeout(() => reject(new Error(`pools did not close within ${ms} ms`)), ms) })
  ]).finally(() => clearTimeout(timer))
}

main().then(
  // Explicit exit: a lingering handle in any pool must not keep the process alive.
  () => process.exit(0),
  (err) => {
    console.error('\nbenchmark failed:', err && err.stack ? err.stack : err)
    process.exit(1)
  }
)
