'use strict'
// Scenario 12 (BENCH_ONLY=files): issue 17's hashFile. SHA-256 of a generated 1 GiB file
// (BENCH_QUICK: 256 MiB) by offload's hashFile, by crypto.createHash fed from
// fs.createReadStream, and by coreutils' sha256sum: time, MB/s, peak RSS and its growth over
// the process's RSS before the run, event-loop delay, and the p99 of fs.promises.readFile(4 KiB)
// issued every 10 ms in the same process during the run.
// Every row is a fresh process (workers/files.js) per round; rounds rotate the order; the file
// is read once before timing, so every row reads from the page cache (sha256sum's figure is the
// CPU-bound rate, not the disk's). Correctness first: the three digests must be equal.
// Targets (informational): hashFile >= 0.95x sha256sum's MB/s; RSS growth <= 16 MiB;
// readFile p99 <= 2 ms and loop p99 <= 2 ms during hashFile.

const crypto = require('node:crypto')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, stats, runHelper, noteHelperNoise, printTable, range, target, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const { logText } = require('../logtext')

const MiB = 2 ** 20
const SIZE = (QUICK ? 256 : 1024) * MiB
const PROBE_EVERY_MS = 10
const PROBE_BYTES = 4096
const IDLE = 'idle (no load)'
const OFFLOAD = 'offload hashFile'
const OFFLOAD_IDLE = 'offload hashFile (idlePriority)'
const NODE = 'createHash + createReadStream'
const COREUTILS = 'sha256sum'

// A random 1 MiB block written over and over, each copy stamped with its index.
function generate (file, size) {
  const block = crypto.randomBytes(MiB)
  const fd = fs.openSync(file, 'w')
  try {
    for (let i = 0; i * MiB < size; i++) {
      block.writeBigUInt64LE(BigInt(i))
      fs.writeSync(fd, block, 0, Math.min(MiB, size - i * MiB))
    }
  } finally {
    fs.closeSync(fd)
  }
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-files-'))
  try {
    const file = path.join(dir, 'big.bin')
    const probeFile = path.join(dir, 'probe.txt')
    fs.writeFileSync(probeFile, logText(PROBE_BYTES, 7))
    generate(file, SIZE)
    const helper = (kind, extra) => runHelper('files', [JSON.stringify({ kind, file, probeFile, probeEveryMs: PROBE_EVERY_MS, durationMs: 1000, threads: THREADS, nice: C.NICE, ...extra })])
    // Warms the page cache and checks the contestants agree before anything is timed.
    const digests = {}
    const kinds = { [NODE]: 'node', [COREUTILS]: 'sha256sum' }
    if (!C.skipOffload) kinds[OFFLOAD] = 'offload'
    for (const [name, kind] of Object.entries(kinds)) digests[name] = (await helper(kind)).digest
    if (new Set(Object.values(digests)).size !== 1) throw new Error(`the digests differ: ${JSON.stringify(digests)}`)

    const idleRuns = (await rounds([{ name: IDLE, run: () => helper('idle') }], ROUNDS))[IDLE]
    noteHelperNoise(idleRuns)
    // The same pool under SCHED_IDLE (Pool option idlePriority), as in the images and passwords
    // scenarios: what readFile waits when a pool thread yields its core at once.
    const rows = Object.entries(kinds).map(([name, kind]) => ({ name, run: () => helper(kind) }))
    if (kinds[OFFLOAD]) rows.push({ name: OFFLOAD_IDLE, run: () => helper('offload', { idlePriority: true }) })
    const raw = await rounds(rows, ROUNDS)
    const res = { [IDLE]: stats(idleRuns) }
    for (const [name, runs] of Object.entries(raw)) {
      noteHelperNoise(runs)
      res[name] = stats(runs)
    }
    const base = res[COREUTILS].median.mbPerSec
    const line = (k, s) => {
      const m = s.median
      const load = k === IDLE ? ['-', '-', '-', '-'] : [m.elapsedMs, m.mbPerSec, range(s, 'mbPerSec'), (m.mbPerSec / base).toFixed(2) + 'x']
      return [k, ...load, m.peakRssMiB, m.rssGrowthMiB, m.childRssMiB ?? '-', m.fs.p50.toFixed(2), m.fs.p99.toFixed(2), range(s, 'fs.p99', 2), ...loopCpuCols(s)]
    }
    printTable(`12 hashFile: SHA-256 of a ${SIZE / MiB} MiB file (page cache warm), median of ${ROUNDS}; every row a fresh process; ` +
      `fs = fs.promises.readFile(${PROBE_BYTES / 1024} KiB) every ${PROBE_EVERY_MS} ms during the run (ms); offload at nice ${C.NICE} on ${THREADS} threads unless marked`,
    ['impl', 'ms', 'MB/s', 'min–max', 'x sha256sum', 'peak RSS MiB', 'RSS growth MiB', 'child RSS MiB', 'fs p50', 'fs p99', 'fs p99 min–max', ...LOOP_CPU_HEADER],
    Object.entries(res).map(([k, s]) => line(k, s)))
    const targets = {}
    const o = res[OFFLOAD]?.median
    if (o) {
      const ratio = o.mbPerSec / base
      targets.speed = { value: ratio, goal: '>= 0.95x sha256sum', pass: ratio >= 0.95 }
      targets.rssGrowth = { value: o.rssGrowthMiB, goal: '<= 16 MiB', pass: o.rssGrowthMiB <= 16 }
      targets.fsP99 = { value: o.fs.p99, goal: '<= 2 ms', pass: o.fs.p99 <= 2 }
      targets.loopP99 = { value: o.loop.p99, goal: '<= 2 ms', pass: o.loop.p99 <= 2 }
      const idle = res[OFFLOAD_IDLE].median
      targets.fsP99IdlePriority = { value: idle.fs.p99, goal: '<= 2 ms', pass: idle.fs.p99 <= 2 }
      for (const [k, t] of Object.entries(targets)) console.log(`  target: ${k} ${typeof t.value === 'number' ? t.value.toFixed(2) : t.value} -> ${target(t.value, t.pass, t.goal)}`)
    }
    return { config: { size: SIZE, probe: { everyMs: PROBE_EVERY_MS, bytes: PROBE_BYTES }, rounds: ROUNDS, threads: THREADS, nice: C.NICE }, digests, results: res, targets }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'files', run }
