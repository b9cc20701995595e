'use strict'
// The threadpool scenario's contestants: pools that run the user's own
// JavaScript on worker threads. Each is one adapter
//   { name, nice, create(threads) → Promise<{ run(payload, { name }), close() }> }
// over a worker module of its own (workers/tp-*.js, all running the same
// workers/tp-handlers.js), set up as its docs recommend for CPU work. `name`
// picks the handler (noop, echo, report, priority); `nice` is the niceness the
// pool's threads run at (checked where the pool can set it). The scenario
// warms every pool before measuring. Adding a contestant is one entry in list().

const path = require('node:path')
const { Worker } = require('node:worker_threads')
const C = require('./contestants')

const workerFile = (name) => path.join(__dirname, 'workers', `${name}.js`)

// A row labelled with a niceness must run at it. Every worker reports
// os.getPriority(); one task per thread at once reaches them all (a worker
// that takes two still reports the same code's niceness). Called once the
// pool is warm.
async function checkNice (c, pool, threads) {
  if (process.platform !== 'linux' || c.nice == null) return
  const got = await Promise.all(Array.from({ length: threads }, () => pool.run(null, { name: 'priority' })))
  if (got.some((n) => n !== c.nice)) throw new Error(`${c.name} threads run at nice [${got.join(', ')}], expected ${c.nice}`)
}

// piscina as its README has it: `atomics` left at its default 'sync' (a
// worker blocks in Atomics.wait between tasks and picks the next one up
// without a turn of its event loop: the fast path for synchronous CPU
// handlers), concurrentTasksPerWorker 1, and `niceIncrement` at offload's nice
// 10 (applied through the optional @napi-rs/nice, skipped silently without it:
// hence checkNice).
const piscina = {
  name: 'piscina',
  nice: C.NICE,
  async create (threads) {
    const { Piscina } = require('piscina')
    const pool = new Piscina({
      filename: workerFile('tp-piscina'),
      minThreads: threads,
      maxThreads: threads,
      idleTimeout: 60_000, // keep workers alive between rounds
      niceIncrement: C.NICE
    })
    return { run: (payload, opts) => pool.run(payload, opts), close: () => pool.destroy() }
  }
}

// tinypool (piscina's fork; ESM-only, so a dynamic import): its defaults,
// useAtomics true and isolateWorkers false. It has no niceness option.
const tinypool = {
  name: 'tinypool (nice 0)',
  nice: 0,
  async create (threads) {
    const { Tinypool } = await import('tinypool')
    const pool = new Tinypool({ filename: workerFile('tp-tinypool'), minThreads: threads, maxThreads: threads, idleTimeout: 60_000 })
    return { run: (payload, opts) => pool.run(payload, opts), close: () => pool.destroy() }
  }
}

// workerpool on worker_threads ('thread'; its default 'auto' picks the same in
// Node, named here as its README advises for anything beyond plain JSON), all
// `threads` workers started up front (minWorkers 'max'; its default maxWorkers
// would be cores - 1). No niceness option.
const workerpool = {
  name: 'workerpool (nice 0)',
  nice: 0,
  async create (threads) {
    const pool = require('workerpool').pool(workerFile('tp-workerpool'), { workerType: 'thread', minWorkers: 'max', maxWorkers: threads })
    return { run: (payload, { name }) => pool.exec(name, [payload]), close: () => pool.terminate() }
  }
}

// The floor: `threads` bare workers, tasks dealt round-robin, replies matched by
// id. No queue or pool logic, so what it scores is postMessage's own cost.
class Floor {
  constructor (threads) {
    this.pending = new Map()
    this.nextId = 0
    this.failed = null
    this.workers = Array.from({ length: threads }, () => {
      const w = new Worker(workerFile('tp-raw'))
      w.on('message', (m) => this._reply(m))
      w.on('error', (err) => this._fail(err))
      w.on('exit', (code) => { if (!this.closing) this._fail(new Error(`floor worker exited with code ${code}`)) })
      return w
    })
  }

  run (payload, { name }) {
    if (this.failed) return Promise.reject(this.failed)
    return new Promise((resolve, reject) => {
      const id = this.nextId++
      this.pending.set(id, { resolve, reject })
      this.workers[id % this.workers.length].postMessage({ id, name, payload })
    })
  }

  _reply ({ id, result, error }) {
    const p = this.pending.get(id)
    if (!p) return this._fail(new Error(`floor: reply for unknown task ${id}`))
    this.pending.delete(id)
    if (error !== undefined) p.reject(new Error(error))
    else p.resolve(result)
  }

  // A broken floor is a broken contestant: fail everything, do not limp on.
  _fail (err) {
    this.failed = err
    for (const p of this.pending.values()) p.reject(err)
    this.pending.clear()
  }

  close () {
    this.closing = true
    return Promise.all(this.workers.map((w) => w.terminate()))
  }
}

const floor = {
  name: 'postMessage floor (nice 0)',
  nice: 0,
  async create (threads) {
    const f = new Floor(threads)
    return { run: (payload, opts) => f.run(payload, opts), close: () => f.close() }
  }
}

// ── offload ThreadPool ───────────────────────────────────────────────────────
// workers/tp-offload.js runs offload/worker's serve() over the same handlers.
// Its threads run at offload's default nice 10, as piscina's niceIncrement here.
// Skipped with BENCH_NO_OFFLOAD=1 like every offload row.
function offload () {
  if (C.skipOffload) return null
  const api = require('..')
  if (typeof api.ThreadPool !== 'function') return null
  return {
    name: 'offload',
    nice: C.NICE,
    async create (threads) {
      const pool = new api.ThreadPool({ script: workerFile('tp-offload'), threads, nice: C.NICE })
      return { run: (payload, opts) => pool.run(payload, opts), close: () => pool.close() }
    }
  }
}

// offload first (when present), the floor last.
function list () {
  return [offload(), piscina, tinypool, workerpool, floor].filter(Boolean)
}

module.exports = { list, checkNice }
