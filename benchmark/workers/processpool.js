'use strict'
// Helper process for the processpool scenario (not a pool task): starts every
// process pool under test (2 workers each), warms them, then runs each case as
// a time-boxed closed loop per contestant, rounds alternating implementations,
// and sends { workers, results } to the parent. Measuring here keeps the
// benchmark's main process (and its other pools) out of the numbers.
// argv: JSON { durationMs, rounds, size, cases: [{ key, task, inflight }] }.

const cp = require('node:child_process')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { measure, closedLoop, rounds, statsOf, helperMain, prng, processCpuMs } = require('../lib')
const C = require('../contestants')

const cfg = JSON.parse(process.argv[2])
const script = (name) => path.join(__dirname, `${name}.js`)
const MiB = 2 ** 20

// A minimal hand-written pool over child_process.fork: `size` children, one
// task per child at a time, a request goes to an idle child or waits in FIFO.
class ForkPool {
  constructor (file, size, serialization) {
    this.idle = []
    this.queue = []
    this.nextId = 0
    this.closing = false
    this.children = Array.from({ length: size }, () => {
      const child = cp.fork(file, [], { serialization, stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
      child.task = null
      child.on('message', (m) => this._reply(child, m))
      child.on('exit', (code, signal) => {
        const task = child.task
        child.task = null
        if (!this.closing) this._fail(new Error(`fork worker ${child.pid} exited with ${signal ?? code}`), task)
      })
      this.idle.push(child)
      return child
    })
  }

  exec (name, payload) {
    return new Promise((resolve, reject) => {
      const task = { id: ++this.nextId, name, payload, resolve, reject }
      const child = this.idle.pop()
      if (child) this._send(child, task)
      else this.queue.push(task)
    })
  }

  _send (child, task) {
    child.task = task
    child.send({ id: task.id, name: task.name, payload: task.payload })
  }

  _reply (child, m) {
    const task = child.task
    child.task = null
    if (!task || m.id !== task.id) {
      this._fail(new Error(`fork worker ${child.pid} answered request ${m.id}, expected ${task && task.id}`), task)
      return
    }
    const next = this.queue.shift()
    if (next) this._send(child, next)
    else this.idle.push(child)
    if (m.error !== undefined) task.reject(new Error(m.error))
    else task.resolve(m.result)
  }

  // A broken worker is a broken contestant: fail everything, do not limp on.
  _fail (err, task) {
    if (task) task.reject(err)
    for (const t of this.queue.splice(0)) t.reject(err)
  }

  // Disconnecting closes each child's only handle, so it exits on its own.
  close () {
    this.closing = true
    return Promise.all(this.children.map((child) => new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve()
      child.once('exit', resolve)
      if (child.connected) child.disconnect()
      else child.kill('SIGKILL')
    })))
  }

  destroy () {
    this.closing = true
    for (const child of this.children) child.kill('SIGKILL')
  }
}

// This process's direct children (all contestants' workers, started by now).
function childPids () {
  const pids = []
  for (const d of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue
    try {
      const s = fs.readFileSync(`/proc/${d}/stat`, 'latin1')
      if (Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[1]) === process.pid) pids.push(Number(d))
    } catch {}
  }
  return pids
}


helperMain(async () => {
  const size = cfg.size
  const impls = []
  const closers = []
  const destroyers = []
  try {
    if (!C.skipOffload) {
      const { ProcessPool } = require('../..')
      const pool = new ProcessPool({ script: script('pp-offload-worker'), size, stdout: 'ignore' })
      closers.push(() => pool.close())
      destroyers.push(() => pool.destroy())
      impls.push({ name: 'offload', run: (name, payload) => pool.run(payload, { name }), workers: () => pool.stats().workers.length })
    }
    const workerpool = require('workerpool')
    // workerpool passes forkOpts to child_process.fork (its README): 'advanced'
    // serialization carries Buffers as bytes; its default, 'json', turns them
    // into arrays of numbers. Both run, and the targets use the faster per case.
    for (const serialization of ['advanced', 'json']) {
      const wp = workerpool.pool(script('pp-workerpool-worker'), { workerType: 'process', maxWorkers: size, forkOpts: { serialization } })
      closers.push(() => wp.terminate())
      destroyers.push(() => wp.terminate(true))
      impls.push({ name: `workerpool (${serialization})`, run: (name, payload) => wp.exec(name, [payload]), workers: () => wp.stats().totalWorkers })
    }
    for (const [name, serialization] of [['fork (json)', 'json'], ['fork (advanced)', 'advanced']]) {
      const fp = new ForkPool(script('pp-fork-worker'), size, serialization)
      closers.push(() => fp.close())
      destroyers.push(() => fp.destroy())
      impls.push({ name, run: (task, payload) => fp.exec(task, payload), workers: () => fp.children.length })
    }

    // Inputs: distinct 1 MiB buffers, so a reply mixed up between requests
    // shows as a wrong digest; expected digests from node:crypto here.
    const rand = prng(0x5eed)
    const bufs = Array.from({ length: 4 }, () => {
      const b = Buffer.allocUnsafe(MiB)
      for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(Math.floor(rand() * 2 ** 32), i)
      return b
    })
    const digests = bufs.map((b) => crypto.createHash('sha256').update(b).digest('hex'))

    // Every submit checks its answer, so warm-up doubles as the correctness check
    // and a contestant returning garbage fails the scenario instead of scoring.
    const submits = (impl) => {
      let seq = 0
      return {
        echo: async () => {
          const id = seq++
          const r = await impl.run('echo', { id, name: 'task', tags: ['a', 'b'], n: 3.14 })
          if (!r || r.id !== id || r.name !== 'task' || r.n !== 3.14 || r.tags.length !== 2) throw new Error(`${impl.name} echo mismatch: ${JSON.stringify(r)}`)
        },
        sha256: async () => {
          const k = seq++ % bufs.length
          const hex = await impl.run('sha256', bufs[k])
          if (hex !== digests[k]) throw new Error(`${impl.name} sha256 mismatch: got ${hex}, expected ${digests[k]}`)
        }
      }
    }

    for (const impl of impls) {
      impl.submit = submits(impl)
      // One task per worker at once, twice: both workers started and answering.
      // Workers start on demand, and a fast first one may take both tasks while
      // the second is still booting, so repeat (bounded) until all are up.
      for (let i = 0; i < 2 || impl.workers() < size; i++) {
        if (i >= 200) throw new Error(`${impl.name}: ${impl.workers()} workers after warm-up, expected ${size}`)
        await C.warm(impl.submit.echo, size)
        if (i >= 2) await sleep(10)
      }
      // Then each case's shape once (JIT, buffers), digests checked.
      for (const c of cfg.cases) await C.warm(impl.submit[c.task], Math.min(c.inflight * 4, 256))
    }
    // Besides the workers, offload keeps one idle watchdog child (a shell that
    // kills worker process groups if this process dies); it counts as offload's.
    const pids = childPids()
    if (pids.length < impls.length * size) throw new Error(`expected ${impls.length * size} worker processes, found ${pids.length}`)

    const results = {}
    for (const c of cfg.cases) {
      const runs = await rounds(impls.map((impl) => ({
        name: impl.name,
        run: async () => {
          // Live workers are not in our cutime/cstime, so measure() bills them as "other":
          // they are our work, so they are split out here.
          const w0 = processCpuMs(pids)
          const r = await measure(() => closedLoop(impl.submit[c.task], { inflight: c.inflight, durationMs: cfg.durationMs }))
          // Read outside measure(): /proc reads must not show up as loop delay.
          // The window also holds measure()'s few idle ms, when workers are idle.
          const workers = (processCpuMs(pids) - w0) / r.elapsedMs
          if (r.cpu.other != null) r.cpu.other = Math.max(0, r.cpu.other - workers)
          r.cpu.workers = workers
          return { ...r, tasksPerSec: r.ops / (r.elapsedMs / 1000) }
        }
      })), cfg.rounds)
      results[c.key] = statsOf(runs)
    }
    if (childPids().sort().join() !== pids.sort().join()) throw new Error('worker processes changed during the runs (crash or restart)')

    await Promise.all(closers.map((close) => close()))
    return { childProcesses: pids.length, results }
  } catch (err) {
    for (const destroy of destroyers) {
      try { await destroy() } catch {}
    }
    throw err
  }
})
