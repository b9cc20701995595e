'use strict'
// Scenario 14 (BENCH_ONLY=parse): issue 18's parsers. The orders data set (benchmark/data/orders.js:
// 7 columns, quoted fields with commas, doubled quotes and non-ASCII text) parsed into row objects
// or values by offload and by what a Node program uses today:
// - CSV, 64 MiB (~935k rows): csv-parse 7 and papaparse 5 streamed from the file, against
//   offload's parseCsv({ path }, { columns: true });
// - NDJSON, 141 MB (~1.03M rows): readline + JSON.parse per line, against parseNdjson({ path });
// - one JSON array, 141 MB: JSON.parse(await fs.promises.readFile(file, 'utf8')), against
//   parseJson({ path });
// - CSV, 1 GiB (~14.7M rows; full run only): papaparse against parseCsv, for flat memory.
//   csv-parse is left out there: at ~270k rows/s its five rounds would add 4.5 minutes.
// BENCH_QUICK shrinks the sets to 8 MiB of CSV and 17.6 MB of NDJSON/JSON.
// Every row is a fresh process (workers/parse.js) per round, rounds rotate the order within a set;
// offload runs on a pool of THREADS threads at nice 10 and again under SCHED_IDLE (idlePriority),
// as in the files and compression scenarios. Each consumer touches every row (count, sum of
// quantity, total length of customer) and keeps none; a set whose rows disagree on those, or
// miss the generated row count, fails the scenario. Measured per row: rows/s, loop delay,
// fs.promises.readFile(4 KiB) every 10 ms in the same process, peak RSS since just before the run.
// Files are generated once per run in os.tmpdir() (page cache warm) and deleted at the end.
// Targets (informational): CSV >= 3x papaparse's rows/s; NDJSON >= 1.5x readline + JSON.parse;
// the JSON document with loop max <= 10 ms; every offload row loop p99 <= 2 ms and max <= 10 ms;
// peak RSS of the streamed 1 GiB CSV <= 256 MiB.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { QUICK, THREADS, ROUNDS, rounds, stats, runHelper, noteHelperNoise, printTable, range, target, fmt, LOOP_CPU_HEADER, loopCpuCols } = require('../lib')
const C = require('../contestants')
const { logText } = require('../logtext')
const { writeOrders, rowsFor } = require('../data/orders')

const MiB = 2 ** 20
const PROBE_EVERY_MS = 10
const PROBE_BYTES = 4096
const IDLE = 'idle (no load)'
const SMALL = QUICK ? 8 * MiB : 64 * MiB
const DOC = QUICK ? 17.6e6 : 141e6 // NDJSON and JSON: about as many rows as the CSV set
const GOALS = { loopP99: 2, loopMax: 10, rssMiB: 256 }

// Each set: its file and its rows [label, worker kind, extra config]; `base` is the row the
// ratio column divides by, `goal` the rows/s ratio offload's rows must reach.
const offloadRows = (kind, tag) => (C.skipOffload
  ? []
  : [[`offload ${tag}`, kind], [`offload ${tag} (idlePriority)`, kind, { idlePriority: true }]])
const SETS = [
  { key: 'csv', format: 'csv', bytes: SMALL, what: 'CSV to row objects', base: 'papaparse', goal: 3, rows: [['csv-parse', 'csv-parse'], ['papaparse', 'papaparse'], ...offloadRows('offload-csv', 'parseCsv')] },
  { key: 'ndjson', format: 'ndjson', bytes: DOC, what: 'NDJSON to values', base: 'readline + JSON.parse', goal: 1.5, rows: [['readline + JSON.parse', 'readline'], ...offloadRows('offload-ndjson', 'parseNdjson')] },
  { key: 'json', format: 'json', bytes: DOC, what: 'one JSON array', base: 'JSON.parse(readFile)', stallGoal: true, rows: [['JSON.parse(readFile)', 'json-parse'], ...offloadRows('offload-json', 'parseJson')] },
  // papaparse takes ~17 s per GiB here: allow a slow or busy machine far more.
  { key: 'csv1g', format: 'csv', bytes: 1024 * MiB, what: 'CSV to row objects, streamed', base: 'papaparse', goal: 3, rssGoal: true, fullOnly: true, timeoutMs: 600_000, rows: [['papaparse', 'papaparse'], ...(C.skipOffload ? [] : [['offload parseCsv', 'offload-csv']])] }
]

// Every set's rows must agree on what they saw, and see every generated row.
function check (set, expectRows, raw) {
  let first
  for (const [name, runs] of Object.entries(raw)) {
    for (const r of runs) {
      const seen = { rows: r.rows, quantity: r.quantity, chars: r.chars }
      if (r.rows !== expectRows) throw new Error(`${set.key}: ${name} saw ${r.rows} rows, ${expectRows} were written`)
      if (!first) first = { name, seen }
      else if (seen.quantity !== first.seen.quantity || seen.chars !== first.seen.chars) {
        throw new Error(`${set.key}: ${name} saw ${JSON.stringify(seen)}, ${first.name} ${JSON.stringify(first.seen)}`)
      }
    }
  }
  return first && first.seen
}

function printSet (set, file, res) {
  const base = res[set.base].median.rowsPerSec
  const line = (k, s) => {
    const m = s.median
    const load = k === IDLE
      ? ['-', '-', '-', '-', '-']
      : [m.elapsedMs, m.rowsPerSec, range(s, 'rowsPerSec'), (m.rowsPerSec / base).toFixed(2) + 'x', m.mbPerSec]
    return [k, ...load, m.peakRssMiB, m.rssGrowthMiB, m.fs.p99.toFixed(2), range(s, 'fs.p99', 2), ...loopCpuCols(s), range(s, 'loop.max')]
  }
  printTable(`14 parse ${set.what}: ${(file.bytes / MiB).toFixed(1)} MiB of ${set.format.toUpperCase()}, ${fmt(file.rows)} rows (page cache warm), median of ${ROUNDS}; ` +
    `every row a fresh process; fs = fs.promises.readFile(${PROBE_BYTES / 1024} KiB) every ${PROBE_EVERY_MS} ms during the run (ms); offload at nice ${C.NICE} on ${THREADS} threads unless marked`,
  ['impl', 'ms', 'rows/s', 'min–max', `x ${set.base}`, 'MB/s', 'peak RSS MiB', 'RSS growth MiB', 'fs p99', 'fs p99 min–max', ...LOOP_CPU_HEADER, 'loop max min–max'],
  Object.entries(res).map(([k, s]) => line(k, s)))
}

// Target lines for one set; offload rows only. Medians, as every scenario's targets; the worst
// round's loop max is shown beside its median.
function targetsOf (set, res) {
  const t = {}
  const base = res[set.base].median.rowsPerSec
  for (const [k, s] of Object.entries(res)) {
    if (!k.startsWith('offload')) continue
    const m = s.median
    if (set.goal) t[`${k} rows/s`] = { value: m.rowsPerSec / base, unit: 'x', goal: `>= ${set.goal}x ${set.base}`, pass: m.rowsPerSec / base >= set.goal }
    t[`${k} loop p99`] = { value: m.loop.p99, unit: ' ms', goal: `<= ${GOALS.loopP99} ms`, pass: m.loop.p99 <= GOALS.loopP99 }
    t[`${k} loop max`] = { value: m.loop.max, worst: s.max.loop.max, unit: ' ms', goal: `<= ${GOALS.loopMax} ms${set.stallGoal ? ' (no stall over 10 ms)' : ''}`, pass: m.loop.max <= GOALS.loopMax }
    if (set.rssGoal) t[`${k} peak RSS`] = { value: m.peakRssMiB, unit: ' MiB', goal: `<= ${GOALS.rssMiB} MiB`, pass: m.peakRssMiB <= GOALS.rssMiB }
  }
  for (const [k, v] of Object.entries(t)) {
    const worst = v.worst == null ? '' : ` (worst round ${v.worst.toFixed(2)})`
    console.log(`  target: (${set.key}) ${k} ${v.value.toFixed(2)}${v.unit}${worst} -> ${target(v.value, v.pass, v.goal)}`)
  }
  return t
}

async function run () {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'offload-bench-parse-'))
  try {
    const probeFile = path.join(dir, 'probe.txt')
    fs.writeFileSync(probeFile, logText(PROBE_BYTES, 7))
    // One file per format and size, written once for the run.
    const files = new Map()
    const fileFor = (format, bytes) => {
      const key = `${format}-${bytes}`
      if (!files.has(key)) {
        const rows = rowsFor(format, bytes)
        const p = path.join(dir, `orders-${key}.${format}`)
        writeOrders(p, format, rows)
        files.set(key, { path: p, rows, bytes: fs.statSync(p).size })
      }
      return files.get(key)
    }
    const helper = (kind, file, extra, timeoutMs) => runHelper('parse', [JSON.stringify({
      kind, file, probeFile, probeEveryMs: PROBE_EVERY_MS, durationMs: 1000, threads: THREADS, nice: C.NICE, ...extra
    })], { timeoutMs })

    const out = {}
    const targets = {}
    let idleDone = false
    for (const set of SETS) {
      if (set.fullOnly && QUICK) {
        console.log(`\n14 parse ${set.what}, ${set.bytes / MiB} MiB: full run only (BENCH_QUICK)`)
        continue
      }
      const file = fileFor(set.format, set.bytes)
      const impls = set.rows.map(([name, kind, extra]) => ({ name, run: () => helper(kind, file.path, extra, set.timeoutMs) }))
      // The probes' no-load baseline, once per run, in the first set's rounds.
      if (!idleDone) impls.unshift({ name: IDLE, run: () => helper('idle', file.path) })
      const raw = await rounds(impls, ROUNDS)
      const idle = idleDone ? null : raw[IDLE]
      delete raw[IDLE]
      idleDone = true
      const seen = check(set, file.rows, raw)
      const res = idle ? { [IDLE]: stats(idle) } : {}
      for (const [name, runs] of Object.entries(raw)) {
        noteHelperNoise(runs)
        res[name] = stats(runs)
      }
      if (idle) noteHelperNoise(idle)
      printSet(set, file, res)
      if (C.skipOffload) console.log('  offload: not run, BENCH_NO_OFFLOAD=1')
      targets[set.key] = targetsOf(set, res)
      out[set.key] = { format: set.format, bytes: file.bytes, rows: file.rows, seen, results: res }
    }
    return { config: { rounds: ROUNDS, threads: THREADS, nice: C.NICE, probe: { everyMs: PROBE_EVERY_MS, bytes: PROBE_BYTES }, goals: GOALS }, sets: out, targets }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true })
  }
}

module.exports = { name: 'parse', run }
