'use strict'
// Helper process for the spawn scenario (not a pool task): fills `heapMiB` of
// memory (V8 heap or Buffers, per `memory`), then runs a closed-loop spawn storm per contestant, rounds alternating
// implementations, and sends { rssMiB, results } to the parent.
// argv: JSON { heapMiB, memory: 'v8' | 'buffers', truePath, inflight, durationMs, rounds }.

const cp = require('node:child_process')
const fs = require('node:fs')
const { measure, closedLoop, rounds, statsOf, helperMain } = require('../lib')
const C = require('../contestants')

const cfg = JSON.parse(process.argv[2])
const MiB = 2 ** 20

// 'v8': pointer-free double arrays: genuine V8 heap (old-space large objects),
// every page written and resident, yet nothing for the GC to trace, so
// collections stay out of the storm. Measured here, fork() from such a heap is
// cheap (a few ms at 4 GiB).
// 'buffers': the same amount in 1 MiB Buffers (malloc'd, as a service caching
// files or images holds them). fork() copies their page tables on the JS thread,
// about 200 ms per spawn at 4 GiB here: the case the issue measured (6 spawns/s).
function fillHeap (mib, memory) {
  const hold = []
  if (memory === 'buffers') {
    for (let i = 0; i < mib; i++) hold.push(Buffer.alloc(MiB, i & 0xff))
    return hold
  }
  const template = new Array(MiB).fill(0.5) // 1 Mi doubles = 8 MiB
  for (let i = 0; i < mib / 8; i++) hold.push(template.slice()) // slice copies: fresh, touched pages
  return hold
}

// Time the JS thread spent runnable but waiting for a CPU (schedstat field 2).
// On a small machine the children and spawner threads compete with the event
// loop for cores, which shows up as loop delay without any blocking call.
function jsRunqWaitMs () {
  try {
    return Number(fs.readFileSync(`/proc/self/task/${process.pid}/schedstat`, 'latin1').split(' ')[1]) / 1e6
  } catch {
    return null
  }
}

// Resolves on a clean exit; anything else is a broken contestant, not a result.
function cpSpawn (file) {
  return new Promise((resolve, reject) => {
    const child = cp.spawn(file, [], { stdio: 'ignore' })
    child.on('error', reject)
    child.on('exit', (code, signal) => (code === 0 ? resolve() : reject(new Error(`${file} exited with ${signal ?? code}`))))
  })
}

helperMain(async () => {
  const { truePath, inflight, durationMs } = cfg
  const impls = []
  if (!C.skipOffload) {
    const { exec } = require('../..')
    impls.push({ name: 'offload', submit: () => exec(truePath, [], { stdout: 'ignore', stderr: 'ignore' }) })
  }
  impls.push({ name: 'child_process', submit: () => cpSpawn(truePath) })
  const { execa } = await import('execa')
  impls.push({ name: 'execa', submit: () => execa(truePath, [], { stdio: 'ignore' }) })

  const heap = fillHeap(cfg.heapMiB, cfg.memory)
  // Each submit rejects unless the child exited 0, so warm-up doubles as the check.
  for (const impl of impls) await C.warm(impl.submit, inflight)
  const mem = process.memoryUsage()

  const runs = await rounds(impls.map((impl) => ({
    name: impl.name,
    run: async () => {
      const r = await measure(async () => {
        const w0 = jsRunqWaitMs()
        const res = await closedLoop(impl.submit, { inflight, durationMs })
        return { ...res, jsRunqWaitMs: w0 == null ? null : jsRunqWaitMs() - w0 }
      })
      return { ...r, spawnsPerSec: r.ops / (r.elapsedMs / 1000) }
    }
  })), cfg.rounds)

  const results = statsOf(runs)
  return {
    rssMiB: mem.rss / MiB,
    heapUsedMiB: mem.heapUsed / MiB,
    heapArrays: heap.length, // also keeps the heap reachable through the storm
    results
  }
})
