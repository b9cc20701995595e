'use strict'
// Scenario 15 (BENCH_ONLY=fleet): issue 19's host budget. A fleet of 4 processes, each with a
// Pool of 2 threads (8 pool threads on this host's cores, as 4 cluster workers would start),
// hashes 4 MiB buffers with sha256 in a closed loop (4 in flight per process), beside a
// co-located Express server answering GET /health, which a client process probes every 5 ms
// on a keep-alive connection. Rows:
// - no budget: every pool at its default nice 10; the server and client at nice 0, as any
//   service runs (the default already: offload's pools renice their own threads only);
// - budget: the same fleet sharing one hostBudget of 2 slots (a fresh dir per run);
// - the same two with the pools at nice 0, to show how much of the /health protection is the
//   default niceness and how much the budget;
// - idle: /health with no fleet running (the floor).
// Every row is fresh processes (workers/fleet-worker.js ×4; the server and client live for the
// whole scenario); rows rotate their order each round. Figures: fleet throughput (tasks/s
// summed over the 4 processes), task latency p50/p99 (submit → result, all tasks of the
// round), tasks per CPU-second of the fleet's processes and the cores they used, /health
// latency p50/p99/max (send → body), "procs min/max" (the process that finished fewest tasks
// over the one that finished most: 1 is fair), the pools' slot wait p99 (stats, worst process), and the
// CPU other processes took meanwhile (on a shared machine, a budgeted fleet with fewer
// runnable threads gets a smaller share of contested cores; tasks/cpu-s separates that from
// the budget's own overhead). A wrong digest, a pool thread not at the stated
// niceness, or a budget row without budget stats fails the scenario.
// Targets (informational): the budget cuts /health p99 against no budget (both nice 10),
// and costs <= 10% of the fleet's throughput.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { fork } = require('node:child_process')
const { setTimeout: sleep } = require('node:timers/promises')
const { QUICK, ROUNDS, rounds, statsOf, printTable, range, target, percentile, performance, processCpuMs } = require('../lib')
const C = require('../contestants')

const PROCS = 4
const SLOTS = 2
const MIB = 4
const INFLIGHT = 4
const EVERY_MS = 5
const DURATION_MS = QUICK ? 2000 : 5000
const worker = (name) => path.join(__dirname, '..', 'workers', `${name}.js`)

const CONFIGS = [
  { name: 'no budget (nice 10)', budget: false },
  { name: `budget ${SLOTS} (nice 10)`, budget: true },
  { name: 'no budget (nice 0)', budget: false, nice: 0 },
  { name: `budget ${SLOTS} (nice 0)`, budget: true, nice: 0 },
  { name: 'idle (no fleet)', idle: true }
]

// Forks a helper and resolves with it once its first message arrived (passed along).
function start (file, arg) {
  return new Promise((resolve, reject) => {
    const child = fork(file, [JSON.stringify(arg)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
    child.once('message', (m) => resolve({ child, first: m }))
    child.once('error', reject)
    child.once('exit', (code, signal) => reject(new Error(`${path.basename(file)} exited with ${signal ?? code} before it was ready`)))
  })
}

const nextMessage = (child) => new Promise((resolve, reject) => {
  const onExit = (code, signal) => reject(new Error(`helper ${child.pid} exited with ${signal ?? code}`))
  child.once('exit', onExit)
  child.once('message', (m) => { child.off('exit', onExit); resolve(m) })
})

// Machine-wide busy CPU (ms, /proc/stat) and the CPU of given processes (utime + stime of
// /proc/<pid>/stat; USER_HZ 100): "other cpu" is the machine's minus ours.
function busyMs () {
  const f = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
  return (f.reduce((a, b) => a + b, 0) - f[3] - f[4]) * 10
}

async function round (cfg, ctx) {
  const wcfg = { budget: cfg.budget ? ctx.budget : null, nice: cfg.nice, mib: MIB, inflight: INFLIGHT, durationMs: DURATION_MS }
  const fleet = cfg.idle ? [] : await Promise.all(Array.from({ length: PROCS }, () => start(worker('fleet-worker'), wcfg)))
  try {
    const fleetPids = fleet.map((f) => f.child.pid)
    const pids = [process.pid, ctx.server.pid, ctx.client.pid, ...fleetPids]
    const busy0 = busyMs()
    const ours0 = processCpuMs(pids)
    const fleet0 = processCpuMs(fleetPids)
    const t0 = performance.now()
    ctx.client.send({ cmd: 'start' })
    const results = fleet.map((f) => nextMessage(f.child))
    for (const f of fleet) f.child.send({ cmd: 'go' })
    // The fleet's CPU is read before its processes exit (they send, then exit).
    const done = cfg.idle ? (await sleep(DURATION_MS), []) : await Promise.all(results)
    const ours = processCpuMs(pids) - ours0
    const fleetCpuMs = processCpuMs(fleetPids) - fleet0
    const elapsedMs = performance.now() - t0
    const other = Math.max(0, (busyMs() - busy0 - ours) / elapsedMs)
    const health = nextMessage(ctx.client)
    ctx.client.send({ cmd: 'stop' })
    const h = await health

    const r = {
      healthP50: percentile(h.lat, 50), healthP99: percentile(h.lat, 99), healthMax: Math.max(...h.lat),
      probes: h.sent, unanswered: h.sent - h.lat.length - h.errors, lateP99: percentile(h.late, 99), cpu: { fleet: fleetCpuMs / elapsedMs, other }
    }
    if (h.errors > 0) throw new Error(`${cfg.name}: ${h.errors} /health probes failed`)
    if (cfg.idle) return r
    const nice = cfg.nice ?? 10
    for (const d of done) {
      if (d.nices.length !== 2 || d.nices.some((n) => n !== nice)) throw new Error(`${cfg.name}: pool threads at nice ${d.nices}, expected 2 at ${nice}`)
      if (cfg.budget && !d.hostBudget) throw new Error(`${cfg.name}: the pool has no hostBudget stats (option ignored?)`)
    }
    const lat = done.flatMap((d) => d.lat)
    const fleetMs = Math.max(...done.map((d) => d.elapsedMs))
    return {
      ...r,
      tasksPerSec: lat.length / (fleetMs / 1000),
      // Tasks per CPU-second of the fleet's processes: the budget's own overhead (hand-overs,
      // idle threads' spinning) shows here; a lower share of a busy machine's CPU does not.
      tasksPerCpuSec: lat.length / (fleetCpuMs / 1000),
      taskP50: percentile(lat, 50),
      taskP99: percentile(lat, 99),
      // Fairness between the processes: the slowest one's tasks over the fastest one's.
      minOverMax: Math.min(...done.map((d) => d.ops)) / Math.max(...done.map((d) => d.ops)),
      slotWaitP99: cfg.budget ? Math.max(...done.map((d) => d.hostBudget.waitTime.p99)) : null
    }
  } finally {
    for (const f of fleet) if (f.child.exitCode === null) f.child.disconnect()
  }
}

async function run () {
  if (C.skipOffload) return { skipped: 'BENCH_NO_OFFLOAD' }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-fleet-'))
  const helpers = []
  try {
    const server = await start(worker('fleet-health'), {})
    helpers.push(server.child)
    const client = await start(worker('fleet-client'), { port: server.first.port, everyMs: EVERY_MS })
    helpers.push(client.child)
    const ctx = { budget: { name: 'bench-fleet', slots: SLOTS, dir }, server: server.child, client: client.child }
    const runs = await rounds(CONFIGS.map((cfg) => ({ name: cfg.name, run: () => round(cfg, ctx) })), ROUNDS)
    return report(statsOf(runs))
  } finally {
    for (const c of helpers) c.kill('SIGKILL')
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

function report (res) {
  const ms = (x) => (x == null ? '-' : x.toFixed(2))
  printTable(`15. fleet: ${PROCS} processes × Pool({ threads: 2 }) hashing ${MIB} MiB (sha256, ${INFLIGHT} in flight each), ${DURATION_MS} ms runs, ` +
    `/health every ${EVERY_MS} ms; median of ${ROUNDS} (min–max beside); server and client at nice 0`,
  ['config', 'tasks/s', 'min–max', 'tasks/cpu-s', 'fleet cpu', 'task p50 ms', 'task p99 ms', 'min–max', 'procs min/max', '/health p50', '/health p99', 'min–max', '/health max', 'slot wait p99', 'other cpu'],
  Object.entries(res).map(([k, s]) => {
    const m = s.median
    return [k, m.tasksPerSec ?? '-', m.tasksPerSec == null ? '-' : range(s, 'tasksPerSec', 0), m.tasksPerCpuSec ?? '-', m.cpu.fleet ? m.cpu.fleet.toFixed(2) : '-', ms(m.taskP50), ms(m.taskP99), m.taskP99 == null ? '-' : range(s, 'taskP99', 2), m.minOverMax == null ? '-' : m.minOverMax.toFixed(2),
      ms(m.healthP50), ms(m.healthP99), range(s, 'healthP99', 2), ms(m.healthMax), ms(m.slotWaitP99), m.cpu.other.toFixed(2)]
  }))
  const base = res[CONFIGS[0].name].median
  const with_ = res[CONFIGS[1].name].median
  const tput = with_.tasksPerSec / base.tasksPerSec
  const perCpu = with_.tasksPerCpuSec / base.tasksPerCpuSec
  const cut = with_.healthP99 / base.healthP99
  const targets = {
    healthP99Cut: { value: cut, goal: '< 1', pass: cut < 1 },
    throughput: { value: tput, goal: '>= 0.9', pass: tput >= 0.9 },
    tasksPerCpuSec: { value: perCpu }
  }
  console.log(`  target: budget /health p99 ${ms(with_.healthP99)} ms vs ${ms(base.healthP99)} ms without (${cut.toFixed(2)}x) -> ${target(cut, cut < 1, 'budget cuts /health p99')}`)
  console.log(`  target: budget throughput ${(tput * 100).toFixed(1)}% of no budget -> ${target(tput, tput >= 0.9, '>= 90%')}` +
    ` (tasks per fleet CPU-second ${(perCpu * 100).toFixed(1)}%, fleet cpu ${with_.cpu.fleet.toFixed(2)} vs ${base.cpu.fleet.toFixed(2)} cores, other processes ${with_.cpu.other.toFixed(2)} vs ${base.cpu.other.toFixed(2)})`)
  return { config: { procs: PROCS, threads: 2, slots: SLOTS, mib: MIB, inflight: INFLIGHT, everyMs: EVERY_MS, durationMs: DURATION_MS, rounds: ROUNDS }, results: res, targets }
}

module.exports = { name: 'fleet', run }
