'use strict'
// Scenario 5: spawn rate of `true`, 8 in flight, in a ~50 MiB parent and in ones
// holding ~4 GiB, as V8 heap and as Buffers (fork's cost depends on how the
// memory is mapped: see workers/spawnstorm.js). child_process (and execa, built on it) fork() on
// the JS thread, paying per resident page; offload's clone(CLONE_VM|CLONE_VFORK)
// on a native thread should not care about the parent's size.
// Each size runs in its own helper process (workers/spawnstorm.js) so the heap
// is the only difference; contestants alternate rounds inside that process.
// "js runq ms": time the JS thread was runnable but had no CPU during the run —
// loop delay caused by sharing cores with the children, not by blocking calls.

const { execFileSync } = require('node:child_process')
const { QUICK, ROUNDS, printTable, range, target, runHelper, noteHelperNoise, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const INFLIGHT = 8
// Sized by time, not count: rates differ a lot between contestants and heaps,
// and child_process can starve the loop for most of a run.
const DURATION_MS = QUICK ? 600 : 2500
// The CI smoke run keeps the big heap small enough to stay quick.
const BIG_HEAP_MIB = QUICK ? 1024 : 4096
const SIZES = [
  { key: 'small', heapMiB: 0, memory: 'v8', label: '5a' },
  { key: 'big', heapMiB: BIG_HEAP_MIB, memory: 'v8', label: '5b' },
  { key: 'bigBuffers', heapMiB: BIG_HEAP_MIB, memory: 'buffers', label: '5c' }
]

const sizeLabel = (mib) => (mib >= 1024 ? `${(mib / 1024).toFixed(1)} GiB` : `${Math.round(mib)} MiB`)

async function run () {
  // Same absolute path for everyone: no PATH lookup in any contestant.
  const truePath = execFileSync('which', ['true'], { encoding: 'utf8' }).trim()
  const out = {}
  const targets = {}
  for (const size of SIZES) {
    const cfg = { heapMiB: size.heapMiB, memory: size.memory, truePath, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS }
    const r = await runHelper('spawnstorm', [JSON.stringify(cfg)], { execArgv: ['--max-old-space-size=8192'] })
    out[size.key] = { heapMiB: size.heapMiB, memory: size.memory, ...r }
    for (const v of Object.values(r.results)) noteHelperNoise(v.runs)
    const med = Object.fromEntries(Object.entries(r.results).map(([k, v]) => [k, v.median]))
    const off = med.offload && med.offload.spawnsPerSec

    const held = size.heapMiB === 0 ? '' : size.memory === 'buffers' ? ` holding ${sizeLabel(size.heapMiB)} in Buffers` : ` holding ${sizeLabel(size.heapMiB)} of V8 heap`
    printTable(`${size.label}. spawn ${truePath}, ${INFLIGHT} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); parent RSS ${sizeLabel(r.rssMiB)}${held} (V8 heap used ${sizeLabel(r.heapUsedMiB)}); child cpu = cores used by the spawned children`,
      ['impl', 'spawns/s', 'min–max', 'spawns', 'offload / this', 'js runq ms', ...LOOP_CPU_HEADER, 'child cpu'],
      Object.entries(r.results).map(([k, s]) => [k, s.median.spawnsPerSec, range(s, 'spawnsPerSec'), s.median.ops, off ? (off / s.median.spawnsPerSec).toFixed(2) + 'x' : '-', s.median.jsRunqWaitMs,
        ...loopCpuCols(s), s.median.cpu.children == null ? '-' : s.median.cpu.children.toFixed(2)]))

    if (off) {
      const ratio = off / med.child_process.spawnsPerSec
      const goal = size.heapMiB > 0 ? 50 : 1.5
      const label = `${sizeLabel(r.rssMiB)} parent${held}`
      targets[`vsChildProcess_${size.key}`] = { value: ratio, goal: `>= ${goal}`, pass: ratio >= goal, rssMiB: r.rssMiB }
      console.log(`  target: ${label}: offload ${ratio.toFixed(2)}x child_process spawns/s -> ${target(ratio, ratio >= goal, `>= ${goal}x`)}`)
      console.log(`  offload / execa: ${(off / med.execa.spawnsPerSec).toFixed(2)}x`)
      const p99 = med.offload.loop.p99
      targets[`loopP99Ms_${size.key}`] = { value: p99, goal: '<= 2', pass: p99 <= 2 }
      console.log(`  target: ${label}: offload loop p99 ${p99.toFixed(2)} ms (max ${med.offload.loop.max.toFixed(2)}) -> ${target(p99, p99 <= 2, '<= 2 ms')}`)
    }
  }
  return {
    config: { file: truePath, inflight: INFLIGHT, durationMs: DURATION_MS, rounds: ROUNDS, bigHeapMiB: BIG_HEAP_MIB, skipOffload: C.skipOffload },
    results: out,
    targets
  }
}

module.exports = { name: 'spawn', run }
