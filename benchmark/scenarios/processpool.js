'use strict'
// Scenario 7: process pools, 2 worker processes each: offload's ProcessPool
// (Buffers as raw bytes on its own pipes) against workerpool's process workers
// in both of its serializations (forkOpts.serialization 'advanced', the V8
// serializer that carries Buffers natively, and its default 'json'), and a
// minimal hand-written pool over child_process.fork IPC in the same two modes.
// (a) small object echo, sequential awaits — round-trip latency.
// (b) small object echo, 64 in flight — dispatch throughput.
// (c) sha256 of a 1 MiB Buffer in the worker, 4 in flight — payload transfer.
// Targets compare with workerpool's faster mode for each case (json for small
// objects, advanced for Buffers), never with a mode its docs would not pick.
// Measured in a helper process (workers/processpool.js) so neither this
// process nor its pools share the loop; contestants alternate rounds there.
// Runs are time-boxed: JSON-serialized pools manage only a few dozen 1 MiB tasks/s.
// "worker cpu": cores used by the pools' worker processes during the run
// (split out of "other cpu", which would otherwise count them).

const { QUICK, ROUNDS, printTable, range, target, runHelper, noteHelperNoise, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')

const SIZE = 2
const DURATION_MS = QUICK ? 400 : 1500
// 7c's goal is against workerpool with 'advanced' serialization: both sides then
// carry the bytes themselves; offload saves the V8 serializer's copies and
// Node's IPC framing, not an order of magnitude. (The old 40x was against
// workerpool's JSON default, which no one should use for Buffers.)
const CASES = [
  { key: 'smallSequential', task: 'echo', inflight: 1, label: '7a', title: 'echo small object, sequential awaits', goal: 2 },
  { key: 'small64', task: 'echo', inflight: 64, label: '7b', title: 'echo small object, 64 in flight', goal: 2 },
  { key: 'sha256_1MiB', task: 'sha256', inflight: 4, label: '7c', title: 'sha256 of a 1 MiB Buffer in the worker, 4 in flight', goal: 1.25 }
]

async function run () {
  const cfg = { size: SIZE, durationMs: DURATION_MS, rounds: ROUNDS, cases: CASES.map(({ key, task, inflight }) => ({ key, task, inflight })) }
  const r = await runHelper('processpool', [JSON.stringify(cfg)], { timeoutMs: 300_000 })
  const targets = {}
  for (const c of CASES) {
    const res = r.results[c.key]
    for (const v of Object.values(res)) noteHelperNoise(v.runs)
    const med = Object.fromEntries(Object.entries(res).map(([k, v]) => [k, v.median]))
    const off = med.offload && med.offload.tasksPerSec

    printTable(`${c.label}. ${c.title}, pool size ${SIZE}, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside)`,
      ['impl', 'tasks/s', 'min–max', 'tasks', 'offload / this', ...LOOP_CPU_HEADER, 'worker cpu'],
      Object.entries(res).map(([k, s]) => [k, s.median.tasksPerSec, range(s, 'tasksPerSec'), s.median.ops, off ? (off / s.median.tasksPerSec).toFixed(2) + 'x' : '-',
        ...loopCpuCols(s), s.median.cpu.workers == null ? '-' : s.median.cpu.workers.toFixed(2)]))

    if (off) {
      // workerpool's best mode for this case.
      const [bestName, best] = Object.entries(med).filter(([k]) => k.startsWith('workerpool')).sort((a, b) => b[1].tasksPerSec - a[1].tasksPerSec)[0]
      const ratio = off / best.tasksPerSec
      targets[`vsWorkerpool_${c.key}`] = { value: ratio, against: bestName, goal: `>= ${c.goal}`, pass: ratio >= c.goal }
      console.log(`  target: offload ${ratio.toFixed(2)}x ${bestName} (workerpool's faster mode here) tasks/s -> ${target(ratio, ratio >= c.goal, `>= ${c.goal}x`)}`)
      const p99 = med.offload.loop.p99
      targets[`loopP99Ms_${c.key}`] = { value: p99, goal: '<= 2', pass: p99 <= 2 }
      console.log(`  target: offload loop p99 ${p99.toFixed(2)} ms (max ${med.offload.loop.max.toFixed(2)}) -> ${target(p99, p99 <= 2, '<= 2 ms')}`)
    }
  }
  return {
    config: { size: SIZE, durationMs: DURATION_MS, rounds: ROUNDS, cases: cfg.cases, childProcesses: r.childProcesses, skipOffload: C.skipOffload },
    results: r.results,
    targets
  }
}

module.exports = { name: 'processpool', run }
