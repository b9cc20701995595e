'use strict'
// Scenario 11 (BENCH_ONLY=aead): issue 16's authenticated encryption. offload's encrypt against
// node:crypto's createCipheriv on the event loop (one update() and final() per message), for
// aes-256-gcm and chacha20-poly1305, on 1 KiB and 16 MiB messages: the rate, and what the load
// does to the event loop and to fs.promises.readFile in the same process.
// Rows (workers/aead.js, a fresh process per row and round, running every case in turn):
// - node:crypto (loop): createCipheriv on the JS thread, each message followed by a yield to the
//   loop: OpenSSL's single-core rate, and the loop delay a server encrypting inline would see;
// - offload on its own pool of THREADS threads at nice 10, and the same under SCHED_IDLE (Pool
//   option `idlePriority`);
// - offload (1 thread): the per-thread rate the target is about.
// In flight: 8 messages of 16 MiB (as the other scenarios' 8 requests), 64 of 1 KiB (enough for
// a 1 KiB message's few microseconds of work to keep the pool busy).
// Correctness before timing: each case's first ciphertext is decrypted with createDecipheriv and
// must give the plaintext back; every timed output's IV, tag and ciphertext sizes are checked.
// offload's rows (or an algorithm of theirs) are skipped, with the reason printed, while encrypt
// is not built (missing, or rejecting with 'not built yet'); node's row still runs.
// Target (informational): offload per pool thread >= 0.9x OpenSSL's single-core rate, i.e. the
// 1-thread row's MB/s against node's, for each case.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, stats, runHelper, noteHelperNoise, printTable, range, target, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const { logText } = require('../logtext')

const ALGORITHMS = ['aes-256-gcm', 'chacha20-poly1305']
const SIZES = [{ bytes: 1024, label: '1 KiB', inflight: 64, warm: 200 }, { bytes: 16 << 20, label: '16 MiB', inflight: 8, warm: 8 }]
// Small messages first: a process keeps much of the memory its 16 MiB messages took (glibc raises
// its mmap threshold after the first free), which would inflate a later small case's peak RSS.
const CASES = SIZES.flatMap((s) => ALGORITHMS.map((algorithm) => ({ algorithm, ...s })))
const DURATION_MS = QUICK ? 400 : 1000
const PROBE_EVERY_MS = 10
const PROBE_BYTES = 4096
const GOAL = 0.9
const IDLE = 'idle (no load)'
const NODE = 'node:crypto (loop)'
const ONE = 'offload (1 thread)'
const caseName = (c) => `${c.algorithm} ${c.label}`

function helper (probeFile, kind, cases, extra) {
  return runHelper('aead', [JSON.stringify({
    kind, cases: cases.map(({ algorithm, bytes, inflight, warm }) => ({ algorithm, bytes, inflight, warm })),
    probeFile, durationMs: DURATION_MS, probeEveryMs: PROBE_EVERY_MS, threads: THREADS, nice: C.NICE, ...extra
  })])
}

// Why offload cannot encrypt with `algorithm` yet, or null when it can. Only "not built" skips:
// any other failure is a real one and fails the scenario.
async function offloadMissing (algorithm) {
  if (C.skipOffload) return 'BENCH_NO_OFFLOAD=1'
  const api = require('../..')
  if (typeof api.encrypt !== 'function') return 'offload.encrypt is not exported'
  const pool = new api.Pool({ threads: 1, name: 'aeadprobe' })
  try {
    await api.encrypt(algorithm, crypto.randomBytes(32), Buffer.alloc(16), { pool })
    return null
  } catch (err) {
    if (/not built yet/.test(err && err.message)) return `encrypt: ${err.message}`
    throw err
  } finally {
    await pool.close()
  }
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-aead-'))
  try {
    const probeFile = path.join(dir, 'probe.txt')
    fs.writeFileSync(probeFile, logText(PROBE_BYTES, 7))
    const skipped = {}
    for (const a of ALGORITHMS) {
      const why = await offloadMissing(a)
      if (why) skipped[a] = why
    }
    const offloadCases = CASES.filter((c) => !skipped[c.algorithm])
    const rows = [[NODE, 'node', CASES]]
    if (offloadCases.length) {
      rows.push(['offload', 'offload', offloadCases], ['offload (idlePriority)', 'offload', offloadCases, { idlePriority: true }])
      rows.push([ONE, 'offload', offloadCases, { threads: 1 }])
    }
    const idleRuns = (await rounds([{ name: IDLE, run: () => helper(probeFile, 'idle', []) }], ROUNDS))[IDLE].map((r) => r.idle)
    noteHelperNoise(idleRuns)
    const idle = stats(idleRuns)
    const raw = await rounds(rows.map(([name, kind, cases, extra]) => ({ name, run: () => helper(probeFile, kind, cases, extra) })), ROUNDS)

    const out = {}
    const targets = {}
    for (const c of CASES) {
      const name = caseName(c)
      const res = {}
      for (const [row, , cases] of rows) {
        const i = cases.indexOf(c)
        if (i < 0) continue
        const runs = raw[row].map((r) => r.cases[i])
        noteHelperNoise(runs)
        res[row] = stats(runs)
      }
      const base = res[NODE].median.mbPerSec
      const threadsOf = (row) => (row === NODE || row === ONE ? 1 : THREADS)
      const line = (k, s) => {
        const m = s.median
        const load = k === IDLE ? ['-', '-', '-', '-', '-'] : [m.mbPerSec, range(s, 'mbPerSec'), m.mbPerSec / threadsOf(k), m.opsPerSec, (m.mbPerSec / base).toFixed(2) + 'x']
        return [k, ...load, m.fs.p50.toFixed(2), m.fs.p99.toFixed(2), range(s, 'fs.p99', 2), m.peakRssMiB, ...loopCpuCols(s)]
      }
      printTable(`11 ${name}: encrypt, ${c.inflight} in flight, ${DURATION_MS} ms runs, median of ${ROUNDS} (min–max beside); every row a fresh process; ` +
        `fs = fs.promises.readFile(${PROBE_BYTES / 1024} KiB) every ${PROBE_EVERY_MS} ms during the load (ms); offload at nice ${C.NICE} on ${THREADS} threads unless marked`,
      ['impl', 'MB/s', 'min–max', 'MB/s per thread', 'msgs/s', 'x node', 'fs p50', 'fs p99', 'fs p99 min–max', 'peak RSS MiB', ...LOOP_CPU_HEADER],
      Object.entries({ [IDLE]: idle, ...res }).map(([k, s]) => line(k, s)))
      if (skipped[c.algorithm]) console.log(`  offload: not run, ${skipped[c.algorithm]}`)
      if (res[ONE]) {
        const ratio = res[ONE].median.mbPerSec / base
        targets[name] = { value: ratio, goal: `>= ${GOAL}x`, pass: ratio >= GOAL }
        console.log(`  target: (${name}) offload on 1 thread ${ratio.toFixed(2)}x node:crypto's single-core MB/s -> ${target(ratio, ratio >= GOAL, `>= ${GOAL}x`)}`)
      }
      out[name] = { results: res, skipped: skipped[c.algorithm] ? { offload: skipped[c.algorithm] } : {} }
    }
    return {
      config: { cases: CASES, durationMs: DURATION_MS, probe: { everyMs: PROBE_EVERY_MS, bytes: PROBE_BYTES }, rounds: ROUNDS, threads: THREADS, nice: C.NICE },
      idle,
      ...out,
      targets
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'aead', run }
