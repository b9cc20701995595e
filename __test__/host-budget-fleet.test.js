'use strict'
// The host budget across processes (issue 19): 4 processes, each with a Pool of 2 threads, on
// one 2-slot budget. The number of their pool threads actually running is sampled from /proc
// (comm `offload-fl-<n>`, state R in stat) while they hash; a SIGKILLed holder's slots go to
// the others; every digest is checked against node:crypto in the children. The same sampler
// run on the same fleet without a budget sees all 8 threads runnable, so the bound can fail.
const test = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { fork } = require('node:child_process')
const { once } = require('node:events')
const { setTimeout: sleep } = require('node:timers/promises')
const { dies } = require('./helpers/proc')
const { until, within } = require('./helpers/until')

const CHILD = path.join(__dirname, 'fixtures', 'budget-fleet-child.js')
const PROCS = 4
const SLOTS = 2
// 4 MiB: about 2.5 ms of sha256 per task on a core with SHA extensions, so a slot changes
// hands hundreds of times a second across the fleet.
const RUN = { tasks: 300, inflight: 4, mib: 4 }
// Hang guards only: a fleet run takes a few seconds here, even on a loaded machine.
const HANG_MS = 120_000

// One fleet process: `ask` sends a command and resolves with the child's next answer of the
// expected type (stats answers carry the request's id).
function startChild(budget) {
  const child = fork(CHILD, [JSON.stringify(budget)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  let seq = 0
  const waiters = []
  child.on('message', (m) => {
    const i = waiters.findIndex((w) => w.type === m.type && (w.id === undefined || w.id === m.id))
    if (m.type === 'error') for (const w of waiters.splice(0)) w.reject(new Error(m.message))
    else if (i >= 0) waiters.splice(i, 1)[0].resolve(m)
  })
  child.on('exit', (code, signal) => {
    for (const w of waiters.splice(0)) w.reject(new Error(`fleet child ${child.pid} exited with ${signal ?? code}`))
  })
  const expect = (type, id) => new Promise((resolve, reject) => waiters.push({ type, id, resolve, reject }))
  const ready = expect('ready')
  child.ask = (msg, type) => {
    const id = msg.cmd === 'stats' ? ++seq : undefined
    const answer = expect(type, id)
    child.send({ ...msg, id })
    return answer
  }
  child.ready = ready
  return child
}

async function withFleet(budget, fn) {
  const children = Array.from({ length: PROCS }, () => startChild(budget))
  try {
    await within(Promise.all(children.map((c) => c.ready)), HANG_MS, 'the fleet starting')
    return await fn(children)
  } finally {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL')
    for (const c of children) await dies(c.pid, 10_000)
  }
}

// Counts the pool threads in state R (running or runnable) across `pids`, every ~2 ms until
// stopped. Pool threads are recognised by name (comm is fixed at spawn, so cached per tid);
// the state is the field after the parenthesised name in /proc/<pid>/task/<tid>/stat.
function sampler(pids) {
  const isPool = new Map()
  const counts = []
  let stopped = false
  const count = () => {
    let n = 0
    for (const pid of pids) {
      let tids
      try {
        tids = fs.readdirSync(`/proc/${pid}/task`)
      } catch {
        continue // gone (the killed one)
      }
      for (const tid of tids) {
        try {
          let pool = isPool.get(tid)
          if (pool === undefined) {
            pool = fs.readFileSync(`/proc/${pid}/task/${tid}/comm`, 'latin1').startsWith('offload-fl-')
            isPool.set(tid, pool)
          }
          if (!pool) continue
          const s = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'latin1')
          if (s[s.lastIndexOf(')') + 2] === 'R') n++
        } catch {} // the thread exited meanwhile
      }
    }
    return n
  }
  // Each sample's duration too: reading 4 processes' threads is not atomic, and a sample
  // during which this process was preempted is a smear over time, not a snapshot.
  const spans = []
  const times = []
  const loop = (async () => {
    while (!stopped) {
      const t0 = performance.now()
      counts.push(count())
      times.push(t0)
      spans.push(performance.now() - t0)
      await sleep(2)
    }
  })()
  return {
    get counts() { return counts },
    get spans() { return spans },
    get times() { return times },
    async stop() {
      stopped = true
      await loop
      return counts
    },
  }
}

// How many samples saw each count, e.g. { 2: 950, 3: 12 }.
function histogram(counts) {
  const h = {}
  for (const c of counts) h[c] = (h[c] ?? 0) + 1
  return h
}

// Runs RUN on every child while sampling; checks every child's results.
async function runFleet(children) {
  const s = sampler(children.map((c) => c.pid))
  const t0 = performance.now()
  let done
  try {
    done = await within(Promise.all(children.map((c) => c.ask({ cmd: 'run', ...RUN }, 'done'))), HANG_MS, 'the fleet run')
  } finally {
    await s.stop()
  }
  const ms = performance.now() - t0
  for (const d of done) assert.deepEqual({ completed: d.completed, mismatches: d.mismatches, failed: d.failed }, { completed: RUN.tasks, mismatches: 0, failed: 0 })
  return { counts: s.counts, spans: s.spans, tasksPerSec: (PROCS * RUN.tasks) / (ms / 1000) }
}

const stats = (children) => Promise.all(children.map((c) => c.ask({ cmd: 'stats' }, 'stats')))

function budgetDir() {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'offload-budget-fleet-'))
}

let unconstrained

test('without a budget the sampler sees all 8 pool threads runnable (the control)', async () => {
  await withFleet(null, async (children) => {
    const r = await runFleet(children)
    unconstrained = r.tasksPerSec
    const h = histogram(r.counts)
    console.log(`no budget: ${r.counts.length} samples, runnable pool threads ${JSON.stringify(h)}; ${r.tasksPerSec.toFixed(0)} tasks/s`)
    // Without a budget all 8 threads have work; most samples see more than 2 runnable.
    assert.ok(Math.max(...r.counts) > SLOTS, JSON.stringify(h))
  })
})

function quantiles(xs) {
  const s = [...xs].sort((a, b) => a - b)
  const q = (p) => s[Math.min(s.length - 1, Math.ceil(p * s.length) - 1)]
  return `p50 ${q(0.5).toFixed(3)} p99 ${q(0.99).toFixed(3)} max ${s[s.length - 1].toFixed(3)} ms`
}

// Polls `check` (async) every ~1 ms until it returns a truthy value, which it resolves with;
// rejects after `ms` (a hang guard, not a timed assertion).
async function poll(check, what, ms = HANG_MS) {
  for (const end = Date.now() + ms; ;) {
    const v = await check()
    if (v) return v
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await sleep(1)
  }
}

test('with a 2-slot budget at most 2 of the 8 pool threads run at once', async () => {
  const dir = budgetDir()
  try {
    await withFleet({ name: 'fleet', slots: SLOTS, dir }, async (children) => {
      const r = await runFleet(children)
      const h = histogram(r.counts)
      const over = r.counts.filter((c) => c > SLOTS).length
      console.log(`budget ${SLOTS}: ${r.counts.length} samples, runnable pool threads ${JSON.stringify(h)}, ${over} over ${SLOTS}; sample span ${quantiles(r.spans)}; ${r.tasksPerSec.toFixed(0)} tasks/s` +
        (unconstrained ? ` (${(r.tasksPerSec / unconstrained * 100).toFixed(0)}% of the unconstrained run)` : ''))
      assert.ok(over <= 0.05 * r.counts.length, JSON.stringify(h))

      // The budget's files: a 0700 directory of its own under `dir`.
      assert.equal(fs.statSync(path.join(dir, 'fleet')).mode & 0o777, 0o700)
      // Every process took slots and, once idle, gives them all back.
      const st = await poll(async () => {
        const st = await stats(children)
        return st.every((s) => s.hostBudget && s.hostBudget.held === 0) && st
      }, 'the fleet to give its slots back')
      for (const s of st) {
        const b = s.hostBudget
        assert.deepEqual({ name: b.name, slots: b.slots, held: b.held, waiting: b.waiting }, { name: 'fleet', slots: SLOTS, held: 0, waiting: 0 })
        assert.ok(b.acquired > 0, JSON.stringify(b))
      }
      console.log(`acquired ${st.map((s) => s.hostBudget.acquired)}, waited ${st.map((s) => s.hostBudget.waited)}, waitMs p99 ${st.map((s) => s.hostBudget.waitMs.p99)}`)
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})

test('kill -9 of a process holding both slots gives them to the others, which finish', async () => {
  const dir = budgetDir()
  try {
    await withFleet({ name: 'fleet', slots: SLOTS, dir }, async ([victim, ...others]) => {
      await within(victim.ask({ cmd: 'hold' }, 'holding'), HANG_MS, 'the victim taking both slots')
      const [v] = await stats([victim])
      assert.equal(v.hostBudget.held, SLOTS)

      const runs = others.map((c) => c.ask({ cmd: 'run', ...RUN }, 'done'))
      // While the victim holds both slots the others only wait: nothing of theirs runs.
      await poll(async () => (await stats(others)).every((s) => s.hostBudget.waiting > 0), 'the others to wait for a slot')
      await sleep(200)
      for (const s of await stats(others)) assert.deepEqual({ completed: s.completed, held: s.hostBudget.held }, { completed: 0, held: 0 })

      const s = sampler(others.map((c) => c.pid))
      const t0 = performance.now()
      victim.kill('SIGKILL')
      const held = () => stats(others).then((st) => st.reduce((n, x) => n + x.hostBudget.held, 0))
      await poll(async () => (await held()) >= 1, 'a slot to come back')
      const first = performance.now() - t0
      await poll(async () => (await held()) === SLOTS, 'both slots to come back')
      const both = performance.now() - t0
      const done = await within(Promise.all(runs), HANG_MS, 'the others finishing')
      await s.stop()
      const firstRunning = s.times[s.counts.findIndex((c) => c > 0)] - t0
      console.log(`after kill -9: first slot back ${first.toFixed(1)} ms, both ${both.toFixed(1)} ms (stats over IPC, ~1 ms polls); ` +
        `a survivor's pool thread first seen runnable after ${firstRunning.toFixed(1)} ms (/proc samples ~2 ms apart)`)
      assert.ok(await dies(victim.pid, 10_000))
      for (const d of done) assert.deepEqual({ completed: d.completed, mismatches: d.mismatches, failed: d.failed }, { completed: RUN.tasks, mismatches: 0, failed: 0 })
    })
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
})
