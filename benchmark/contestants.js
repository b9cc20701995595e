'use strict'
// Creates (once) and tears down every pool under test, all with THREADS threads.

const path = require('node:path')
const { setTimeout: sleep } = require('node:timers/promises')
const { THREADS, threadNices } = require('./lib')

// Pool threads run at nice 10 unless told otherwise: offload's default (Pool
// option `nice`), and piscina's documented `niceIncrement` set to match, so the
// event loop (nice 0) wins the CPU from either pool alike. tinypool has no such
// option, so its threads stay at nice 0.
const NICE = 10

const workerFile = (name) => path.join(__dirname, 'workers', `${name}.js`)

let offload = null
function loadOffload () {
  if (offload) return offload
  // Loaded lazily so BENCH_NO_OFFLOAD=1 runs need no built addon.
  const api = require('..')
  const testing = require('offload/testing')
  // A dedicated pool rather than defaultPool: explicit thread count, and a
  // queue large enough for the 50k-concurrent dispatch test.
  const pool = new api.Pool({ threads: THREADS, maxQueue: 100000, name: 'bench', nice: NICE })
  offload = { api, testing, pool, extra: new Map() }
  expectNice.push({ prefix: 'offload-bench', threads: THREADS, nice: NICE })
  return offload
}

// Further offload pools, made once each: 'nice0' (THREADS threads at nice 0, the
// row for loop-delay comparisons with a pool that does not yield to the loop) and
// 'one' (1 thread, nice 10: offload's own single-thread rate, the base of "ideal").
const OFFLOAD_VARIANTS = {
  nice0: { threads: THREADS, nice: 0 },
  one: { threads: 1, nice: NICE }
}
function offloadPool (variant) {
  const o = loadOffload()
  if (!o.extra.has(variant)) {
    const cfg = OFFLOAD_VARIANTS[variant]
    o.extra.set(variant, new o.api.Pool({ ...cfg, maxQueue: 100000, name: variant }))
    expectNice.push({ prefix: `offload-${variant}`, threads: cfg.threads, nice: cfg.nice })
  }
  return o.extra.get(variant)
}

// A row labelled "nice 10" must really run at nice 10: read it back from /proc
// once the pools' threads are up (they name and renice themselves as they start,
// so poll, bounded). Called by the scenarios after their warm-up.
const expectNice = []
async function checkNices (deadlineMs = 10_000) {
  if (process.platform !== 'linux') return
  const end = Date.now() + deadlineMs
  for (const { prefix, threads, nice } of expectNice) {
    for (;;) {
      const got = threadNices(prefix)
      if (got.length === threads && got.every((n) => n === nice)) break
      if (Date.now() > end) throw new Error(`${prefix} threads: expected ${threads} at nice ${nice}, found [${got.join(', ')}]`)
      await sleep(10)
    }
  }
}

// Pool counters after a scenario (queue peaks, completed, ...) go into the JSON
// so a pool that failed to saturate can be diagnosed after the fact.
function offloadStats () {
  if (!offload) return undefined
  try {
    const out = { bench: offload.pool.stats() }
    for (const [k, p] of offload.extra) out[k] = p.stats()
    return out
  } catch (e) {
    return { error: String(e) }
  }
}

const piscinas = new Map()
async function piscina (worker) {
  if (!piscinas.has(worker)) {
    const { Piscina } = require('piscina')
    const pool = new Piscina({
      filename: workerFile(worker),
      minThreads: THREADS,
      maxThreads: THREADS,
      idleTimeout: 60_000, // keep workers alive between rounds
      // Applied by each worker through the optional @napi-rs/nice, silently
      // skipped when that is missing: hence the check below.
      niceIncrement: NICE
    })
    piscinas.set(worker, pool)
    // Every worker file exports `priority` (os.getPriority() is the calling
    // thread's niceness on Linux); one task per thread at once reaches them all.
    const nices = await Promise.all(Array.from({ length: THREADS }, () => pool.run(null, { name: 'priority' })))
    if (process.platform === 'linux' && nices.some((n) => n !== NICE)) {
      throw new Error(`piscina workers run at nice [${nices.join(', ')}], expected ${NICE} (is @napi-rs/nice installed?)`)
    }
  }
  return piscinas.get(worker)
}

const tinypools = new Map()
async function tinypool (worker) {
  if (!tinypools.has(worker)) {
    // tinypool 2 is ESM-only; dynamic import works from CommonJS on any Node 20.
    const { Tinypool } = await import('tinypool')
    tinypools.set(worker, new Tinypool({
      filename: workerFile(worker),
      minThreads: THREADS,
      maxThreads: THREADS,
      idleTimeout: 60_000,
      isolateWorkers: false
    }))
  }
  return tinypools.get(worker)
}

// Spins up workers before any timed run so thread start-up isn't measured.
async function warm (run, n = 200) {
  await Promise.all(Array.from({ length: n }, run))
}

async function closeAll () {
  const closing = []
  for (const p of piscinas.values()) closing.push(p.destroy())
  for (const p of tinypools.values()) closing.push(p.destroy())
  if (offload) closing.push(offload.pool.close(), ...[...offload.extra.values()].map((p) => p.close()))
  piscinas.clear()
  tinypools.clear()
  offload = null
  expectNice.length = 0
  await Promise.all(closing)
}

module.exports = { NICE, loadOffload, offloadPool, checkNices, offloadStats, piscina, tinypool, warm, closeAll, skipOffload: process.env.BENCH_NO_OFFLOAD === '1' }
