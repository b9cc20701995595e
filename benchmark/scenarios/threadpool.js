'use strict'
// Scenario 8 (BENCH_ONLY=threadpool): the user's own JavaScript on worker
// threads (issue 14). Contestants (benchmark/threadpools.js), THREADS threads
// each, all running workers/tp-handlers.js: piscina (niceIncrement 10, atomics
// at its default 'sync'), tinypool and workerpool ('thread') at their defaults
// (nice 0: neither can renice), the raw floor (bare worker_threads, one
// MessagePort per worker, round-robin postMessage ping-pong, no pool logic),
// and offload's ThreadPool once require('offload').ThreadPool exists.
// (a) no-op round trip, sequential awaits (µs per task);
// (b), (c) no-ops with 64 and 256 in flight (tasks/s);
// (d) a 1 MiB Buffer echoed with no transfer list written by the caller: each
//     lane sends the Buffer it holds and keeps the reply for its next send (a
//     pool that moves buffers detaches what it sent, so a lane cannot resend
//     it). Every reply is checked for length and sampled bytes; the first reply
//     of every run byte for byte;
// (e) a pure-JS CPU task, ~2 ms: a JSON sales report from deterministic data,
//     every reply checked against the string computed here once per seed, at
//     THREADS threads and on a 1-thread pool of the same kind: scaling
//     efficiency = rate(T) / (T × rate(1)).
// Runs are time-boxed closed loops (lib.js's closedLoop), rounds alternate the
// contestants; every table has the event-loop delay and cpu columns. A wrong
// echo or report fails the scenario (bench exits 1). Issue 14's targets are
// printed only when an offload row exists.

const { QUICK, THREADS, ROUNDS, prng, measure, closedLoop, rounds, statsOf, range, printTable, target, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const TP = require('../threadpools')
const { report } = require('../workers/tp-handlers')

const MiB = 1 << 20
const RUN_MS = QUICK ? 120 : 400
const CPU_RUN_MS = QUICK ? 250 : 700
// ~2 ms per report on this machine's cores (8 000 generated orders).
const REPORT_ROWS = 8000
const REPORT_SEEDS = 16
// Two 1 MiB tasks per thread: one running, one queued behind it.
const ECHO_INFLIGHT = 2 * THREADS
const CPU_INFLIGHT = (threads) => 2 * threads

const CASES = [
  { key: 'roundTrip', label: '8a', task: 'noop', inflight: 1, title: 'No-op round trip, sequential awaits' },
  { key: 'noop64', label: '8b', task: 'noop', inflight: 64, title: 'No-ops, 64 in flight' },
  { key: 'noop256', label: '8c', task: 'noop', inflight: 256, title: 'No-ops, 256 in flight' },
  { key: 'echo1MiB', label: '8d', task: 'echo', inflight: ECHO_INFLIGHT, title: `1 MiB Buffer echo, no transfer list, ${ECHO_INFLIGHT} in flight` }
]

const asBuffer = (x, who) => {
  if (!ArrayBuffer.isView(x)) throw new Error(`${who} echo: reply is not a Buffer or TypedArray: ${Object.prototype.toString.call(x)}`)
  return Buffer.from(x.buffer, x.byteOffset, x.byteLength)
}

// The tasks one pool runs, each checking its reply. `echo` holds one buffer per
// lane; `startRun()` arms the full byte check for the next reply.
function tasks (name, pool, inputs) {
  const free = inputs.echo.map((bytes, k) => ({ k, buf: Buffer.from(bytes) }))
  let fullCheck = true
  let seq = 0
  let nextSeed = 0
  return {
    startRun () { fullCheck = true },
    fullChecked: () => !fullCheck,
    noop: () => pool.run(null, { name: 'noop' }),
    async echo () {
      const slot = free.pop()
      const got = asBuffer(await pool.run(slot.buf, { name: 'echo' }), name)
      const want = inputs.echo[slot.k]
      let ok = got.length === MiB
      if (ok && fullCheck) {
        ok = got.equals(want)
        fullCheck = false
      } else if (ok) {
        // Three 64-byte samples, one at a moving offset: cheap enough for every reply.
        const mid = ((seq++ * 4099) * 64) % (MiB - 64)
        ok = [0, mid, MiB - 64].every((o) => got.subarray(o, o + 64).equals(want.subarray(o, o + 64)))
      }
      if (!ok) throw new Error(`${name} echo: reply (${got.length} bytes) differs from lane ${slot.k}'s 1 MiB input`)
      slot.buf = got
      free.push(slot)
    },
    async report () {
      const i = nextSeed++ % REPORT_SEEDS
      const got = await pool.run({ seed: i, rows: REPORT_ROWS }, { name: 'report' })
      if (got !== inputs.reports[i]) throw new Error(`${name} report for seed ${i} differs from the main thread's: ${String(got).slice(0, 80)}`)
    }
  }
}

async function timed (t, task, inflight, durationMs) {
  t.startRun()
  const r = await measure(() => closedLoop(t[task], { inflight, durationMs }))
  if (task === 'echo' && !t.fullChecked()) throw new Error('echo run ended without a fully checked reply')
  return { ...r, tasksPerSec: r.ops / (r.elapsedMs / 1000), usPerOp: (r.elapsedMs * 1000) / r.ops }
}

// Starts `threads`-thread pools of every contestant, warms each with every
// task (every thread started, JIT warm, replies checked) and checks niceness.
async function startPools (contestants, threads, inputs, open, taskNames) {
  const out = []
  for (const c of contestants) {
    const pool = await c.create(threads)
    open.push(pool)
    const t = tasks(c.name, pool, inputs)
    if (taskNames.includes('noop')) await C.warm(t.noop, 2000)
    if (taskNames.includes('echo')) for (let i = 0; i < 8; i++) await C.warm(t.echo, ECHO_INFLIGHT)
    for (let i = 0; i < 10; i++) await C.warm(t.report, 2 * threads)
    await TP.checkNice(c, pool, threads)
    out.push({ c, t })
  }
  return out
}

const medians = (st) => Object.fromEntries(Object.entries(st).map(([k, v]) => [k, v.median]))

async function run () {
  const contestants = TP.list()
  // Distinct bytes per lane, so a reply crossed between lanes fails the check.
  const echo = Array.from({ length: ECHO_INFLIGHT }, (_, k) => {
    const rand = prng(0x7b00 + k)
    const b = Buffer.allocUnsafe(MiB)
    for (let off = 0; off < MiB; off += 4) b.writeUInt32LE(Math.floor(rand() * 2 ** 32), off)
    return b
  })
  const reports = Array.from({ length: REPORT_SEEDS }, (_, seed) => report({ seed, rows: REPORT_ROWS }))
  const inputs = { echo, reports }
  const open = []
  const results = {}
  const targets = {}
  try {
    const pools = await startPools(contestants, THREADS, inputs, open, ['noop', 'echo', 'report'])
    for (const c of CASES) {
      results[c.key] = statsOf(await rounds(pools.map(({ c: k, t }) => ({
        name: k.name, run: () => timed(t, c.task, c.inflight, RUN_MS)
      })), ROUNDS))
    }
    // (e): the 1-thread pools only now, so they sit idle through nothing else.
    const ones = THREADS > 1 ? await startPools(contestants, 1, inputs, open, []) : pools
    const cpuImpls = [
      ...pools.map(({ c, t }) => ({ name: c.name, run: () => timed(t, 'report', CPU_INFLIGHT(THREADS), CPU_RUN_MS) })),
      ...(THREADS > 1 ? ones.map(({ c, t }) => ({ name: `${c.name}, 1 thread`, run: () => timed(t, 'report', CPU_INFLIGHT(1), CPU_RUN_MS) })) : [])
    ]
    const cpu = statsOf(await rounds(cpuImpls, ROUNDS))
    const efficiency = {}
    for (const { c } of pools) {
      const one = cpu[THREADS > 1 ? `${c.name}, 1 thread` : c.name]
      efficiency[c.name] = cpu[c.name].median.tasksPerSec / (THREADS * one.median.tasksPerSec)
    }
    results.cpu = { ...cpu, efficiency }
    printAll(results)
    Object.assign(targets, checkTargets(results))
  } finally {
    await Promise.all(open.map((p) => p.close()))
  }
  return {
    config: { threads: THREADS, rounds: ROUNDS, runMs: RUN_MS, cpuRunMs: CPU_RUN_MS, reportRows: REPORT_ROWS, echoInflight: ECHO_INFLIGHT, cpuInflight: CPU_INFLIGHT(THREADS), contestants: contestants.map((c) => ({ name: c.name, nice: c.nice })) },
    results,
    targets
  }
}

function printAll (results) {
  const spread = `median of ${ROUNDS} (min–max beside)`
  for (const c of CASES) {
    const st = results[c.key]
    const pis = st.piscina && st.piscina.median
    if (c.inflight === 1) {
      printTable(`${c.label}. ${c.title}, ${THREADS} threads, ${RUN_MS} ms runs, ${spread}`,
        ['impl', 'us/task', 'min–max', 'tasks/s', 'piscina / this', ...LOOP_CPU_HEADER],
        Object.entries(st).map(([k, s]) => [k, s.median.usPerOp.toFixed(1), range(s, 'usPerOp'), s.median.tasksPerSec,
          pis ? (pis.usPerOp / s.median.usPerOp).toFixed(2) + 'x' : '-', ...loopCpuCols(s)]))
    } else {
      printTable(`${c.label}. ${c.title}, ${THREADS} threads, ${RUN_MS} ms runs, ${spread}`,
        ['impl', 'tasks/s', 'min–max', 'tasks', 'this / piscina', ...LOOP_CPU_HEADER],
        Object.entries(st).map(([k, s]) => [k, s.median.tasksPerSec, range(s, 'tasksPerSec'), s.median.ops,
          pis ? (s.median.tasksPerSec / pis.tasksPerSec).toFixed(2) + 'x' : '-', ...loopCpuCols(s)]))
    }
  }
  const { efficiency, ...cpu } = results.cpu
  const pis = cpu.piscina && cpu.piscina.median
  printTable(`8e. JSON report (~2 ms pure JS, ${REPORT_ROWS} rows), ${CPU_INFLIGHT(THREADS)} in flight on ${THREADS} threads (2 on 1 thread), ${CPU_RUN_MS} ms runs, ${spread}; efficiency = rate(${THREADS}) / (${THREADS} × rate(1))`,
    ['impl', 'tasks/s', 'min–max', 'ms/task/thread', 'efficiency', 'this / piscina', ...LOOP_CPU_HEADER],
    Object.entries(cpu).map(([k, s]) => {
      const threads = k.endsWith(', 1 thread') ? 1 : THREADS
      return [k, s.median.tasksPerSec, range(s, 'tasksPerSec'), ((threads * 1000) / s.median.tasksPerSec).toFixed(2),
        efficiency[k] == null ? '-' : (efficiency[k] * 100).toFixed(1) + '%',
        pis && threads === THREADS ? (s.median.tasksPerSec / pis.tasksPerSec).toFixed(2) + 'x' : '-', ...loopCpuCols(s)]
    }))
}

// Issue 14's targets, against piscina's row of the same table; only when both
// rows exist.
function checkTargets (results) {
  const out = {}
  const off = (key) => results[key].offload && results[key].offload.median
  const pis = (key) => results[key].piscina && results[key].piscina.median
  const say = (key, value, pass, goal, text) => {
    out[key] = { value, goal, pass }
    console.log(`  target: ${text} -> ${target(value, pass, goal)}`)
  }
  if (!off('roundTrip') || !pis('roundTrip')) return out
  const rt = off('roundTrip').usPerOp / pis('roundTrip').usPerOp
  say('roundTripVsPiscina', rt, rt <= 1 / 3, '<= 1/3', `round trip ${(rt * 100).toFixed(1)}% of piscina's`)
  const n64 = off('noop64').tasksPerSec / pis('noop64').tasksPerSec
  say('noop64VsPiscina', n64, n64 >= 8, '>= 8x', `64 in flight ${n64.toFixed(2)}x piscina`)
  const e = off('echo1MiB').tasksPerSec / pis('echo1MiB').tasksPerSec
  say('echo1MiBVsPiscina', e, e >= 15, '>= 15x', `1 MiB echo ${e.toFixed(2)}x piscina`)
  const eff = results.cpu.efficiency.offload
  say('cpuEfficiency', eff, eff >= 0.95, '>= 95%', `CPU task efficiency ${(eff * 100).toFixed(1)}% of ${THREADS} x one thread`)
  for (const key of [...CASES.map((c) => c.key), 'cpu']) {
    const p99 = off(key).loop.p99
    say(`loopP99Ms_${key}`, p99, p99 <= 2, '<= 2 ms', `offload loop p99 in ${key} ${p99.toFixed(2)} ms (max ${off(key).loop.max.toFixed(2)})`)
  }
  return out
}

module.exports = { name: 'threadpool', run }
