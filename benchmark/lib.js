'use strict'
// Shared helpers: config, timing, event-loop-delay capture, medians, tables.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { fork } = require('node:child_process')
const v8 = require('node:v8')
const vm = require('node:vm')
const { performance, monitorEventLoopDelay } = require('node:perf_hooks')
const { setImmediate: yieldToLoop, setTimeout: sleep } = require('node:timers/promises')
const { prng } = require('./prng')

const QUICK = process.env.BENCH_QUICK === '1'
// Rounds per comparison: every table shows the median with the min–max of
// these beside it, so fewer than 5 (3 in the smoke run) would say little.
const ROUNDS = QUICK ? 3 : 5
// Same thread count for every pool so the comparison is per-thread fair.
const THREADS = os.availableParallelism()

// `npm run bench` passes no node flags, so enable gc() at runtime. Collecting
// between runs keeps one implementation's garbage from being billed to the next.
v8.setFlagsFromString('--expose-gc')
const gc = vm.runInNewContext('gc')

function machineInfo () {
  const cpus = os.cpus()
  return {
    cpu: cpus[0] ? cpus[0].model : 'unknown',
    cores: cpus.length,
    availableParallelism: THREADS,
    node: process.version,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    totalMemMiB: Math.round(os.totalmem() / 2 ** 20),
    uvThreadpoolSize: Number(process.env.UV_THREADPOOL_SIZE) || 4,
    quick: QUICK
  }
}

function median (xs) {
  const s = xs.filter((x) => x != null && !Number.isNaN(x)).sort((a, b) => a - b)
  if (s.length === 0) return null
  const m = s.length >> 1
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2
}

// Nearest-rank percentile over raw samples (used for per-probe latencies).
function percentile (xs, p) {
  if (xs.length === 0) return null
  const s = Float64Array.from(xs).sort()
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]
}

// One histogram for the whole process; it is reset and enabled only around a
// measured run so warm-up and setup never leak into the numbers.
const loopHist = monitorEventLoopDelay({ resolution: 1 })

// Histogram values are nanoseconds; report milliseconds.
function loopDelaySnapshot () {
  if (loopHist.count === 0) return { p50: 0, p99: 0, max: 0, samples: 0 }
  return {
    p50: loopHist.percentile(50) / 1e6,
    p99: loopHist.percentile(99) / 1e6,
    max: loopHist.max / 1e6,
    samples: loopHist.count
  }
}

// Machine-wide busy CPU time (ms) from /proc/stat; null off Linux. Comparing it
// with our own process.cpuUsage() tells us how much CPU other processes took,
// and how many cores this process (main thread + pools) actually kept busy.
function machineBusyMs () {
  try {
    const f = fs.readFileSync('/proc/stat', 'latin1').split('\n', 1)[0].trim().split(/\s+/).slice(1).map(Number)
    const ticks = f.reduce((a, b) => a + b, 0) - f[3] - f[4] // minus idle, iowait
    return ticks * 10 // USER_HZ is 100 on every mainstream Linux build
  } catch {
    return null
  }
}

// CPU time (ms) of this process's reaped children (cutime + cstime in
// /proc/self/stat); null off Linux. Spawned commands are our own work, so they
// are split out of "other" rather than counted as noise.
function childrenCpuMs () {
  try {
    const s = fs.readFileSync('/proc/self/stat', 'latin1')
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
    return (Number(f[13]) + Number(f[14])) * 10 // fields 16-17; USER_HZ 100 as above
  } catch {
    return null
  }
}

// Every measured run's foreign CPU load, for the end-of-run noise warning.
const otherCpu = []
function noiseSummary () {
  return { medianOtherCores: median(otherCpu), maxOtherCores: otherCpu.length ? Math.max(...otherCpu) : null, runs: otherCpu.length }
}

// Adds runs measured in a helper process (their cpu.other) to this process's
// noise summary; the parent sits idle meanwhile, so theirs is the machine's.
function noteHelperNoise (runList) {
  for (const r of runList) if (r.cpu && r.cpu.other != null) otherCpu.push(r.cpu.other)
}

function cpuSince (start, elapsedMs) {
  const self = process.cpuUsage(start.self)
  const selfMs = (self.user + self.system) / 1000
  const busy = machineBusyMs()
  const kids = childrenCpuMs()
  const kidsMs = start.kids == null || kids == null ? 0 : kids - start.kids
  return {
    self: selfMs / elapsedMs,
    children: kidsMs / elapsedMs,
    other: start.busy == null || busy == null ? null : Math.max(0, (busy - start.busy - selfMs - kidsMs) / elapsedMs)
  }
}

// Resolves once the loop-delay sampler has recorded one more sample.
async function nextLoopSample () {
  const seen = loopHist.count
  while (loopHist.count === seen) await sleep(1)
}

// Runs fn() as a measured run: returns { ...fn's result, elapsedMs, loop }.
async function measure (fn) {
  gc()
  loopHist.reset()
  loopHist.enable()
  // The first tick after enable() only sets the sampler's baseline timestamp;
  // without it a run that blocks from the start would go unrecorded. Waited for
  // by sample count, not a fixed sleep, which a slow machine could outrun (as
  // __test__/helpers/loop-delay.js does).
  await nextLoopSample()
  const cpu0 = { self: process.cpuUsage(), busy: machineBusyMs(), kids: childrenCpuMs() }
  const t0 = performance.now()
  let res, elapsedMs, cpu
  try {
    res = await fn()
    elapsedMs = performance.now() - t0
    cpu = cpuSince(cpu0, elapsedMs)
    if (cpu.other != null) otherCpu.push(cpu.other)
    // The sampler only records a stall when its timer next fires, so let it
    // fire once more: a run that blocked the loop until the end still counts.
    await nextLoopSample()
  } finally {
    loopHist.disable()
  }
  return { elapsedMs, ...res, loop: loopDelaySnapshot(), cpu }
}

// Closed loop: `inflight` lanes each keep exactly one task outstanding until the
// deadline passes, so a pool stays saturated without an unbounded queue.
// Tasks in flight at the deadline still finish and count (elapsed covers them).
async function closedLoop (submit, { inflight, durationMs }) {
  const deadline = performance.now() + durationMs
  let ops = 0
  const lane = async () => {
    while (performance.now() < deadline) {
      await submit()
      ops++
    }
  }
  await Promise.all(Array.from({ length: inflight }, lane))
  return { ops }
}

// Runs every implementation `rounds` times, rotating the order each round so
// drift on a noisy machine (thermal, neighbours) doesn't favour one of them.
// impls: [{ name, run: async () => ({ elapsedMs, loop, ...metrics }) }]
// Progress only on a terminal so CI logs stay clean.
async function rounds (impls, n, { log = process.stderr.isTTY } = {}) {
  const runs = Object.fromEntries(impls.map((i) => [i.name, []]))
  for (let r = 0; r < n; r++) {
    for (let k = 0; k < impls.length; k++) {
      const impl = impls[(k + r) % impls.length]
      runs[impl.name].push(await impl.run())
    }
    if (log) process.stderr.write(`  round ${r + 1}/${n} done\r`)
  }
  if (log) process.stderr.write(' '.repeat(30) + '\r')
  return runs
}

// `agg` of every numeric (possibly nested one level, e.g. loop.p99) field.
function aggregate (runList, agg) {
  const out = {}
  const first = runList[0]
  for (const [k, v] of Object.entries(first)) {
    if (typeof v === 'number') out[k] = agg(runList.map((r) => r[k]))
    else if (v && typeof v === 'object') {
      out[k] = {}
      for (const kk of Object.keys(v)) {
        if (typeof v[kk] === 'number') out[k][kk] = agg(runList.map((r) => r[k] && r[k][kk]))
      }
    }
  }
  return out
}

const finite = (xs) => xs.filter((x) => x != null && !Number.isNaN(x))
const summarize = (runList) => aggregate(runList, median)
const minOf = (xs) => (finite(xs).length ? Math.min(...finite(xs)) : null)
const maxOf = (xs) => (finite(xs).length ? Math.max(...finite(xs)) : null)

// What every result keeps in the JSON: medians, the spread over the rounds
// (min and max of each field) and the raw runs.
function stats (runList) {
  return { median: summarize(runList), min: aggregate(runList, minOf), max: aggregate(runList, maxOf), runs: runList }
}

function statsOf (runs) {
  return Object.fromEntries(Object.entries(runs).map(([k, v]) => [k, stats(v)]))
}

// A dotted path ('loop.p99') into a summary.
const pick = (o, key) => key.split('.').reduce((x, k) => (x == null ? x : x[k]), o)

// "1,523–1,610": the min–max of one field over the rounds, for the column beside
// its median.
function range (s, key, digits = 1) {
  const lo = pick(s.min, key)
  const hi = pick(s.max, key)
  if (lo == null || hi == null) return '-'
  // Big counts shortened (1.10M, 24.4k) so the column stays narrow.
  const short = (x) => (Math.abs(x) >= 1e6 ? (x / 1e6).toFixed(2) + 'M' : Math.abs(x) >= 1e4 ? (x / 1e3).toFixed(1) + 'k' : fmt(x, digits))
  return `${short(lo)}–${short(hi)}`
}

// Throughput runs shared by the sha256/gzip scenarios. impls:
// [{ name, submit: () => Promise, inflight }, or { name, run: () => Promise<run> }
// for a run measured elsewhere, e.g. in a helper process]; returns
// { name: stats } (see stats()).
async function runThroughput (impls, { bytesPerOp, durationMs, rounds: n }) {
  const runs = await rounds(impls.map((impl) => ({
    name: impl.name,
    run: impl.run || (() => throughputRun(impl.submit, { inflight: impl.inflight, bytesPerOp, durationMs }))
  })), n)
  return statsOf(runs)
}

// One measured closed-loop run; also what helper processes measure.
async function throughputRun (submit, { inflight, bytesPerOp, durationMs }) {
  const r = await measure(() => closedLoop(submit, { inflight, durationMs }))
  const s = r.elapsedMs / 1000
  return { ...r, opsPerSec: r.ops / s, mbPerSec: (r.ops * bytesPerOp) / 1e6 / s }
}

function fmt (x, digits = 1) {
  if (x == null || Number.isNaN(x)) return '-'
  if (typeof x === 'string') return x
  if (Math.abs(x) >= 1e7) return (x / 1e6).toFixed(2) + 'M'
  if (Math.abs(x) >= 1e3 || Number.isInteger(x)) return Math.round(x).toLocaleString('en-US')
  return x.toFixed(digits)
}

// rows: array of arrays (strings or numbers); first column left-aligned.
function printTable (title, header, rows) {
  const cells = [header, ...rows.map((r) => r.map((c) => (typeof c === 'number' ? fmt(c) : String(c ?? '-'))))]
  const widths = header.map((_, i) => Math.max(...cells.map((r) => String(r[i]).length)))
  const line = (r) => r.map((c, i) => (i === 0 ? String(c).padEnd(widths[i]) : String(c).padStart(widths[i]))).join('  ')
  console.log(`\n${title}`)
  console.log(line(header))
  console.log(widths.map((w) => '-'.repeat(w)).join('  '))
  for (const r of cells.slice(1)) console.log(line(r))
}

// Shared trailing columns: event-loop delay, then cores used by this process
// (main thread + pool threads) and by everything else on the machine except
// our own children (cpu.children in the JSON).
// Takes a stats() result, or plain medians (then the p99 range shows '-').
const LOOP_CPU_HEADER = ['loop p50', 'loop p99', 'p99 min–max', 'loop max', 'cpu', 'other cpu']
function loopCpuCols (s) {
  const m = s.median || s
  const c = m.cpu || {}
  return [m.loop.p50, m.loop.p99, s.median ? range(s, 'loop.p99') : '-', m.loop.max, c.self == null ? '-' : c.self.toFixed(2), c.other == null ? '-' : c.other.toFixed(2)]
}

// "25.3x (target >= 20x) ok" — targets are informational, never fail the run.
function target (value, ok, text) {
  if (value == null) return `n/a (${text})`
  return `${ok ? 'PASS' : 'MISS'} (${text})`
}

// Runs benchmark/workers/<name>.js in a fresh node process and resolves with the
// one message it sends over IPC, once it has exited (so a big helper's memory is
// gone before the next run). For measurements that need their own process: a
// different heap size, or a peak RSS that nothing else has touched.
// `env` is added to this process's environment (e.g. UV_THREADPOOL_SIZE, which
// libuv reads once, when its pool first starts).
function runHelper (name, args = [], { execArgv = [], env, timeoutMs = 300_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = fork(path.join(__dirname, 'workers', `${name}.js`), args, {
      execArgv,
      env: env ? { ...process.env, ...env } : process.env,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc']
    })
    let result
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`helper ${name} ${args.join(' ')} did not finish within ${timeoutMs} ms`))
    }, timeoutMs)
    child.on('message', (m) => { result = m })
    child.on('error', (err) => { clearTimeout(timer); reject(err) })
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      if (code === 0 && result !== undefined) resolve(result)
      else reject(new Error(`helper ${name} ${args.join(' ')} exited with ${signal ?? `code ${code}`}${result === undefined ? ' without a result' : ''}`))
    })
  })
}

// Sends a helper's result to the parent and exits once it is flushed; a thrown
// error exits 1 with its stack on stderr, which the parent reports.
function helperMain (fn) {
  fn().then(
    (result) => process.send(result, () => process.exit(0)),
    (err) => {
      console.error(err && err.stack ? err.stack : err)
      process.exit(1)
    }
  )
}

// Niceness of this process's threads whose name starts with `prefix` (Linux:
// /proc/self/task/*/comm and field 19 of stat); [] elsewhere.
function threadNices (prefix) {
  return threadStat(prefix, 19)
}

// Scheduling policy (field 41 of stat: 0 SCHED_OTHER, 5 SCHED_IDLE) of the same threads.
function threadPolicies (prefix) {
  return threadStat(prefix, 41)
}

function threadStat (prefix, field) {
  const out = []
  try {
    for (const t of fs.readdirSync('/proc/self/task')) {
      try {
        if (!fs.readFileSync(`/proc/self/task/${t}/comm`, 'latin1').startsWith(prefix)) continue
        const s = fs.readFileSync(`/proc/self/task/${t}/stat`, 'latin1')
        // Fields from 3 on follow the parenthesised name, which may contain spaces.
        out.push(Number(s.slice(s.lastIndexOf(')') + 2).split(' ')[field - 3]))
      } catch {} // the thread exited meanwhile
    }
  } catch {}
  return out
}

// CPU time (ms) processes have used so far (utime + stime of /proc/<pid>/stat, USER_HZ 100).
// Live children are not in the parent's cutime/cstime; a process gone meanwhile loses its last
// ticks, a few ms at most.
function processCpuMs (pids) {
  let ms = 0
  for (const pid of pids) {
    try {
      const s = fs.readFileSync(`/proc/${pid}/stat`, 'latin1')
      const f = s.slice(s.lastIndexOf(')') + 2).split(' ')
      ms += (Number(f[11]) + Number(f[12])) * 10
    } catch {}
  }
  return ms
}

module.exports = {
  processCpuMs,
  QUICK,
  THREADS,
  ROUNDS,
  stats,
  statsOf,
  range,
  throughputRun,
  threadNices,
  threadPolicies,
  gc,
  machineInfo,
  noiseSummary,
  noteHelperNoise,
  median,
  percentile,
  measure,
  closedLoop,
  rounds,
  runThroughput,
  summarize,
  fmt,
  printTable,
  LOOP_CPU_HEADER,
  loopCpuCols,
  target,
  prng,
  runHelper,
  helperMain,
  yieldToLoop,
  performance
}
