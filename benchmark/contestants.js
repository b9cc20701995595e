'use strict'
// Creates (once) and tears down every pool under test, all with THREADS threads.

const path = require('node:path')
const { THREADS } = require('./lib')

const workerFile = (name) => path.join(__dirname, 'workers', `${name}.js`)

let offload = null
function loadOffload () {
  if (offload) return offload
  // Loaded lazily so BENCH_NO_OFFLOAD=1 runs need no built addon.
  const api = require('..')
  const testing = require('../testing')
  // A dedicated pool rather than defaultPool: explicit thread count, and a
  // queue large enough for the 50k-concurrent dispatch test.
  const pool = new api.Pool({ threads: THREADS, maxQueue: 100000, name: 'bench' })
  offload = { api, testing, pool }
  return offload
}

// Pool counters after a scenario (queue peaks, completed, ...) go into the JSON
// so a pool that failed to saturate can be diagnosed after the fact.
function offloadStats () {
  if (!offload) return undefined
  try {
    return offload.pool.stats()
  } catch (e) {
    return { error: String(e) }
  }
}

const piscinas = new Map()
function piscina (worker) {
  if (!piscinas.has(worker)) {
    const { Piscina } = require('piscina')
    piscinas.set(worker, new Piscina({
      filename: workerFile(worker),
      minThreads: THREADS,
      maxThreads: THREADS,
      idleTimeout: 60_000 // keep workers alive between rounds
    }))
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
  if (offload) closing.push(offload.pool.close())
  piscinas.clear()
  tinypools.clear()
  offload = null
  await Promise.all(closing)
}

module.exports = { loadOffload, offloadStats, piscina, tinypool, warm, closeAll, skipOffload: process.env.BENCH_NO_OFFLOAD === '1' }
