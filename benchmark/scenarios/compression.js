'use strict'
// Scenario 13 (BENCH_ONLY=compression): issue 17's middleware. offload's compression() against
// the `compression` package (1.8) on an Express 5 route serving a ~1 MiB JSON response
// (deterministic records with varied fields), 8 keep-alive clients in a separate process, for
// gzip (level 6 on both sides) and brotli (quality 4 on both sides: offload's default, and
// `compression` 1.8's own default, so the defaults are already equal).
// Rows (workers/compression.js, a fresh server process per row, case and round; rounds rotate
// the order): offload on a pool of THREADS threads at nice 10, the same under SCHED_IDLE
// (idlePriority), the `compression` package (zlib on libuv's threadpool, default size), and
// identity (no compression: the ceiling; one run per round, shown in both tables, since it
// does not depend on Accept-Encoding). 'idle' serves only /health: the probes' baseline.
// Measured: req/s, response bytes, the clients' /health p99 (one GET every 10 ms from the
// client process), fs.promises.readFile(4 KiB) every 10 ms in the server process, its loop
// delay, its CPU and peak RSS. Correctness before timing: each client's warm-up responses must
// decode with node:zlib to exactly the JSON.
// Targets (informational): offload >= 1.5x compression's req/s at gzip 6; readFile p99 <= 2 ms
// and loop p99 <= 2 ms on offload's rows.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, stats, runHelper, noteHelperNoise, printTable, range, target, LOOP_CPU_HEADER, loopCpuCols, prng } = require('../lib')
const C = require('../contestants')
const { logText } = require('../logtext')

const MiB = 2 ** 20
const CLIENTS = 8
const DURATION_MS = QUICK ? 1000 : 3000
const WARM = QUICK ? 2 : 4 // verified responses per client before timing
const HEALTH_EVERY_MS = 10
const PROBE_EVERY_MS = 10
const PROBE_BYTES = 4096
const GOAL = 1.5
const CODINGS = [{ coding: 'gzip', label: 'gzip level 6' }, { coding: 'br', label: 'brotli quality 4' }]
const IDLE = 'idle (/health only)'
const IDENTITY = 'identity (no compression)'
const OFFLOAD = 'offload compression()'
const OFFLOAD_IDLE = 'offload compression() (idlePriority)'
const PACKAGE = 'compression 1.8'

// ~1 MiB of a JSON array of user-ish records: names, e-mails, timestamps, tags, numbers and a
// free-text note drawn from a seeded PRNG, so gzip meets the redundancy (repeated keys, shared
// vocabulary) and the entropy (ids, hashes, numbers) of a real API response.
function makeJson (bytes, seed = 17) {
  const rnd = prng(seed)
  const pick = (a) => a[Math.floor(rnd() * a.length)]
  const hex = (n) => Array.from({ length: n }, () => Math.floor(rnd() * 16).toString(16)).join('')
  const FIRST = ['Ada', 'Grace', 'Linus', 'Margaret', 'Ken', 'Barbara', 'Dennis', 'Frances', 'Edsger', 'Radia', 'Guido', 'Yukihiro', 'Anders', 'Sophie', 'Tim']
  const LAST = ['Lovelace', 'Hopper', 'Torvalds', 'Hamilton', 'Thompson', 'Liskov', 'Ritchie', 'Allen', 'Dijkstra', 'Perlman', 'van Rossum', 'Matsumoto', 'Hejlsberg', 'Wilson', 'Berners-Lee']
  const CITIES = ['Lisbon', 'Oslo', 'Kyoto', 'Austin', 'Nairobi', 'Montréal', 'São Paulo', 'Wrocław', 'Auckland', 'Pune']
  const TAGS = ['admin', 'beta', 'billing', 'churn-risk', 'enterprise', 'trial', 'vip', 'eu', 'us', 'apac', 'mobile', 'api']
  const WORDS = 'the order was shipped late because the warehouse ran out of boxes and customer support offered a refund or store credit while the courier updated tracking twice'.split(' ')
  const records = []
  let size = 2
  for (let id = 1; ; id++) {
    const first = pick(FIRST)
    const last = pick(LAST)
    const r = {
      id,
      uuid: `${hex(8)}-${hex(4)}-4${hex(3)}-${hex(4)}-${hex(12)}`,
      name: `${first} ${last}`,
      email: `${first}.${last}${Math.floor(rnd() * 1000)}@example.${pick(['com', 'org', 'net', 'io'])}`.toLowerCase().replace(/ /g, ''),
      createdAt: new Date(Date.UTC(2020, 0, 1) + Math.floor(rnd() * 2e11)).toISOString(),
      active: rnd() < 0.8,
      score: Math.round(rnd() * 1e5) / 100,
      address: { city: pick(CITIES), zip: String(10000 + Math.floor(rnd() * 89999)) },
      tags: Array.from({ length: 1 + Math.floor(rnd() * 4) }, () => pick(TAGS)),
      orders: Math.floor(rnd() * 250),
      note: Array.from({ length: 4 + Math.floor(rnd() * 12) }, () => pick(WORDS)).join(' ')
    }
    const text = JSON.stringify(r)
    if (size + Buffer.byteLength(text) + 1 > bytes) break
    records.push(text)
    size += Buffer.byteLength(text) + 1
  }
  return Buffer.from(`[${records.join(',')}]`)
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-compression-'))
  try {
    const bodyFile = path.join(dir, 'data.json')
    const probeFile = path.join(dir, 'probe.txt')
    const body = makeJson(MiB)
    JSON.parse(body) // the response must be JSON
    fs.writeFileSync(bodyFile, body)
    fs.writeFileSync(probeFile, logText(PROBE_BYTES, 7))
    const helper = (kind, coding, extra) => runHelper('compression', [JSON.stringify({
      kind, coding, bodyFile, probeFile, probeEveryMs: PROBE_EVERY_MS, durationMs: DURATION_MS, clients: CLIENTS, warm: WARM,
      healthEveryMs: HEALTH_EVERY_MS, threads: THREADS, nice: C.NICE, ...extra
    })])

    const impls = [{ name: IDLE, run: () => helper('idle', 'identity') }, { name: IDENTITY, run: () => helper('identity', 'identity') }]
    for (const { coding } of CODINGS) {
      if (!C.skipOffload) {
        impls.push({ name: `${OFFLOAD} ${coding}`, run: () => helper('offload', coding) })
        impls.push({ name: `${OFFLOAD_IDLE} ${coding}`, run: () => helper('offload', coding, { idlePriority: true }) })
      }
      impls.push({ name: `${PACKAGE} ${coding}`, run: () => helper('compression', coding) })
    }
    const raw = await rounds(impls, ROUNDS)
    const res = {}
    for (const [name, runs] of Object.entries(raw)) {
      noteHelperNoise(runs)
      res[name] = stats(runs)
    }

    const out = {}
    const targets = {}
    for (const { coding, label } of CODINGS) {
      const rows = { [IDLE]: res[IDLE], [IDENTITY]: res[IDENTITY] }
      for (const k of [OFFLOAD, OFFLOAD_IDLE, PACKAGE]) if (res[`${k} ${coding}`]) rows[k] = res[`${k} ${coding}`]
      const base = rows[PACKAGE].median.reqPerSec
      const line = (k, s) => {
        const m = s.median
        const load = k === IDLE
          ? ['-', '-', '-', '-', '-', '-', '-']
          : [m.reqPerSec, range(s, 'reqPerSec'), (m.reqPerSec * body.length) / 1e6, m.responseBytes / 1024, (body.length / m.responseBytes).toFixed(2), (m.reqPerSec / base).toFixed(2) + 'x', m.latency.p99]
        return [k, ...load, m.health.p99.toFixed(2), m.fs.p50.toFixed(2), m.fs.p99.toFixed(2), range(s, 'fs.p99', 2), m.peakRssMiB, ...loopCpuCols(s), m.cpu.client.toFixed(2)]
      }
      printTable(`13 compression ${label}: Express 5, GET of a ${(body.length / 1024).toFixed(0)} KiB JSON, ${CLIENTS} keep-alive clients in another process, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); ` +
        `every row a fresh server process; health = GET /health every ${HEALTH_EVERY_MS} ms from the client process; fs = fs.promises.readFile(${PROBE_BYTES / 1024} KiB) every ${PROBE_EVERY_MS} ms in the server (ms); ` +
        `cpu = the server's cores, client cpu = the client process's; offload at nice ${C.NICE} on ${THREADS} threads unless marked`,
      ['impl', 'req/s', 'min–max', 'JSON MB/s', 'resp KiB', 'ratio', 'x compression', 'req p99', 'health p99', 'fs p50', 'fs p99', 'fs p99 min–max', 'peak RSS MiB', ...LOOP_CPU_HEADER, 'client cpu'],
      Object.entries(rows).map(([k, s]) => line(k, s)))
      if (C.skipOffload) console.log('  offload: not run, BENCH_NO_OFFLOAD=1')
      const t = {}
      for (const k of [OFFLOAD, OFFLOAD_IDLE]) {
        const m = rows[k]?.median
        if (!m) continue
        const ratio = m.reqPerSec / base
        if (coding === 'gzip') t[`${k} req/s`] = { value: ratio, goal: `>= ${GOAL}x compression`, pass: ratio >= GOAL }
        t[`${k} fs p99`] = { value: m.fs.p99, goal: '<= 2 ms', pass: m.fs.p99 <= 2 }
        t[`${k} loop p99`] = { value: m.loop.p99, goal: '<= 2 ms', pass: m.loop.p99 <= 2 }
      }
      for (const [k, v] of Object.entries(t)) console.log(`  target: (${coding}) ${k} ${v.value.toFixed(2)} -> ${target(v.value, v.pass, v.goal)}`)
      targets[coding] = t
      out[coding] = { results: rows }
    }
    return {
      config: { bodyBytes: body.length, clients: CLIENTS, durationMs: DURATION_MS, warm: WARM, healthEveryMs: HEALTH_EVERY_MS, probe: { everyMs: PROBE_EVERY_MS, bytes: PROBE_BYTES }, rounds: ROUNDS, threads: THREADS, nice: C.NICE, levels: { gzip: 6, br: 4 } },
      ...out,
      targets
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'compression', run, makeJson }
