'use strict'
// Scenario 10 (BENCH_ONLY=passwords): issue 16's password hashing, hash and verify, at equal
// parameters per algorithm (scenarios/passwords-contestants.js): argon2id at OWASP's
// m=19456 KiB, t=2, p=1 (the headline: offload's and @node-rs/argon2 2's defaults) and, in the
// full run, at m=4096 KiB, t=3, p=1 (the defaults issue 16 measured with);
// bcrypt cost 10; scrypt N=16384, r=8, p=1 (node's default) and, in the full run, N=131072
// (OWASP's).
// Rows: offload on its own pool of THREADS threads at nice 10, and the same under SCHED_IDLE
// (Pool option `idlePriority`); each anchor as its docs show, all of which run on libuv's
// threadpool, at its default 4 threads and at UV_THREADPOOL_SIZE = THREADS. 8 hashes in flight,
// as the issue measured (a login storm).
// Every row is a fresh helper process (workers/passwords.js) in which fs.promises.readFile
// (4 KiB) is issued every PROBE_EVERY_MS during the load: what a static file or any other fs
// call in that server would wait. The 'idle (no load)' row is the same probe with nothing
// running.
// Correctness before timing: every row's hashes carry the configured parameters (so no row hashes
// at other ones), are read by the other libraries (argon2 by both argon2 anchors; bcrypt by
// bcrypt; scrypt by recomputing it with node:crypto), and every row's verify reads an anchor's
// hash (another library's, where the algorithm has two anchors) and rejects a wrong password.
// offload's rows are skipped, with the reason printed, while hashPassword/verifyPassword are not
// built (missing, or rejecting with 'not built yet'); the anchors still run.
// Targets (informational): offload >= 1.0x the fastest anchor row's hashes/s (and verifies/s) at
// each parameter set; offload's loop p99 and readFile p99 <= 2 ms while it is saturated.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, stats, runHelper, noteHelperNoise, printTable, range, target, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const { logText } = require('../logtext')
const { PASSWORD, CONFIGS, hasher, checkWithOracles, checkVerify } = require('./passwords-contestants')

const INFLIGHT = 8
const DURATION_MS = QUICK ? 300 : 1000
const PROBE_EVERY_MS = 10
const PROBE_BYTES = 4096
const UV_SIZES = [...new Set([4, THREADS])]
const GOAL_MS = 2
// Warm-up hashes per helper, all at once, after the checked one: enough to start every thread
// of libuv's pool (at most max(4, THREADS) here) or of offload's.
const WARM = Math.max(4, THREADS)
const IDLE = 'idle (no load)'
const IDLE_ROW = 'offload (idlePriority)'
const OPS = ['hash', 'verify']

function helper (probeFile, kind, key, uv, extra) {
  return runHelper('passwords', [JSON.stringify({
    kind, key, probeFile, inflight: INFLIGHT, durationMs: DURATION_MS, probeEveryMs: PROBE_EVERY_MS,
    warm: WARM, threads: THREADS, nice: C.NICE, ...extra
  })], { env: { UV_THREADPOOL_SIZE: String(uv) } })
}

// Why offload cannot run parameter set `key` yet, or null when it can. Only "not built" skips:
// any other failure is a real one and fails the scenario.
async function offloadMissing (key) {
  if (C.skipOffload) return 'BENCH_NO_OFFLOAD=1'
  const api = require('../..')
  for (const fn of ['hashPassword', 'verifyPassword']) if (typeof api[fn] !== 'function') return `offload.${fn} is not exported`
  const pool = new api.Pool({ threads: 1, name: 'pwprobe' })
  try {
    const h = hasher('offload', key, { pool })
    await checkVerify(h.verify, await h.hash(), 'offload')
    return null
  } catch (err) {
    if (/not built yet/.test(err && err.message)) return `hashPassword/verifyPassword: ${err.message}`
    throw err
  } finally {
    await pool.close()
  }
}

async function config (key, probeFile, idle) {
  const c = CONFIGS[key]
  // A hash by each anchor, checked by the others, for the rows' verify to read: each row gets
  // one made by another library than its own where the family has one.
  const made = {}
  for (const a of c.anchors) {
    made[a] = await hasher(a, key).hash()
    await checkWithOracles(key, made[a], a)
  }
  const foreign = (kind) => made[c.anchors.find((a) => a !== kind) || c.anchors[0]]
  const skipped = await offloadMissing(key)
  const rows = skipped ? [] : [['offload', 'offload', 4], [IDLE_ROW, 'offload', 4, { idlePriority: true }]]
  for (const a of c.anchors) for (const uv of UV_SIZES) rows.push([`${a} (uv ${uv})`, a, uv])

  const raw = await rounds(rows.map(([name, kind, uv, extra]) => ({ name, run: () => helper(probeFile, kind, key, uv, { foreign: foreign(kind), ...extra }) })), ROUNDS)
  const kindOf = Object.fromEntries(rows.map(([name, kind]) => [name, kind]))
  const res = { hash: {}, verify: {} }
  for (const [name, runs] of Object.entries(raw)) {
    for (const r of runs) await checkWithOracles(key, r.sample, kindOf[name])
    for (const op of OPS) {
      noteHelperNoise(runs.map((r) => r[op]))
      res[op][name] = stats(runs.map((r) => r[op]))
    }
  }

  const anchors = Object.keys(raw).filter((k) => kindOf[k] !== 'offload')
  const fastest = Object.fromEntries(OPS.map((op) => {
    const best = anchors.reduce((b, k) => (res[op][k].median.opsPerSec > res[op][b].median.opsPerSec ? k : b))
    return [op, { row: best, opsPerSec: res[op][best].median.opsPerSec }]
  }))
  const line = (k, op, s) => {
    const m = s.median
    const load = op === '-' ? ['-', '-', '-'] : [m.opsPerSec, range(s, 'opsPerSec'), (m.opsPerSec / fastest[op].opsPerSec).toFixed(2) + 'x']
    return [k, op, ...load, m.fs.p50.toFixed(2), m.fs.p99.toFixed(2), range(s, 'fs.p99', 2), m.peakRssMiB, ...loopCpuCols(s)]
  }
  printTable(`10 ${key}. ${c.label}: ${INFLIGHT} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); every row a fresh process; ` +
    `fs = fs.promises.readFile(${PROBE_BYTES / 1024} KiB) every ${PROBE_EVERY_MS} ms during the load (ms); offload at nice ${C.NICE} on ${THREADS} threads`,
  ['impl', 'op', 'ops/s', 'min–max', 'x fastest anchor', 'fs p50', 'fs p99', 'fs p99 min–max', 'peak RSS MiB', ...LOOP_CPU_HEADER],
  [line(IDLE, '-', idle), ...Object.keys(raw).flatMap((k) => OPS.map((op) => line(k, op, res[op][k])))])
  console.log(`  fastest anchor: hash ${fastest.hash.row}, verify ${fastest.verify.row}`)
  if (skipped) console.log(`  offload: not run, ${skipped}`)

  const targets = {}
  const say = (name, value, ok, goal, text) => {
    targets[name] = { value, goal, pass: ok }
    console.log(`  target: (${key}) ${text} -> ${target(value, ok, goal)}`)
  }
  if (res.hash.offload) {
    for (const op of OPS) {
      const ratio = res[op].offload.median.opsPerSec / fastest[op].opsPerSec
      say(`${op}Throughput`, ratio, ratio >= 1, '>= 1.0x', `offload ${op} ${ratio.toFixed(2)}x the fastest anchor (${fastest[op].row})`)
    }
    const worst = (row, field) => Math.max(...OPS.map((op) => field(res[op][row].median)))
    const loop = worst('offload', (m) => m.loop.p99)
    say('loopP99', loop, loop <= GOAL_MS, `<= ${GOAL_MS} ms`, `offload loop p99 ${loop.toFixed(2)} ms (worse of hash and verify)`)
    const fsP99 = worst('offload', (m) => m.fs.p99)
    say('readFileP99', fsP99, fsP99 <= GOAL_MS, `<= ${GOAL_MS} ms`, `readFile p99 under offload's load ${fsP99.toFixed(2)} ms (worse of hash and verify)`)
    if (res.hash[IDLE_ROW]) {
      const p99 = worst(IDLE_ROW, (m) => m.fs.p99)
      say('readFileP99IdlePriority', p99, p99 <= GOAL_MS, `<= ${GOAL_MS} ms`, `readFile p99 under offload's load with idlePriority ${p99.toFixed(2)} ms`)
    }
  }
  return { results: res, fastestAnchor: fastest, skipped: skipped ? { offload: skipped } : {}, targets }
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-passwords-'))
  try {
    const probeFile = path.join(dir, 'probe.txt')
    fs.writeFileSync(probeFile, logText(PROBE_BYTES, 7))
    // The probe with no load, once for all parameter sets: what readFile costs in such a process.
    const idleRuns = (await rounds([{ name: IDLE, run: () => helper(probeFile, 'idle', null, 4) }], ROUNDS))[IDLE].map((r) => r.idle)
    noteHelperNoise(idleRuns)
    const idle = stats(idleRuns)
    const keys = Object.keys(CONFIGS).filter((k) => !QUICK || CONFIGS[k].quick !== false)
    const out = {}
    for (const key of keys) out[key] = await config(key, probeFile, idle)
    return {
      config: {
        password: PASSWORD,
        parameterSets: Object.fromEntries(keys.map((k) => [k, CONFIGS[k]])),
        inflight: INFLIGHT,
        durationMs: DURATION_MS,
        warm: WARM,
        probe: { everyMs: PROBE_EVERY_MS, bytes: PROBE_BYTES },
        rounds: ROUNDS,
        threads: THREADS,
        nice: C.NICE,
        uvSizes: UV_SIZES
      },
      idle,
      ...out,
      targets: Object.fromEntries(Object.entries(out).flatMap(([key, r]) => Object.entries(r.targets).map(([k, v]) => [`${key}.${k}`, v])))
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'passwords', run }
