'use strict'
// What each isolation level costs: a ThreadPool of 2 threads against a ProcessPool of 2
// processes, both serving workers/isolation.js. Every figure comes from a fresh Node process
// of its own (so one pool's memory or warm caches do not leak into the other's), repeated
// ROUNDS times, reported as the median with the min–max:
//   - start: from the constructor until the first no-op task resolves;
//   - memory per worker: a thread's is the growth of this process's RSS once both threads
//     are up, halved; a process's is its own VmRSS (and PSS, which splits shared pages
//     between the processes mapping them) from /proc/<pid>;
//   - a JavaScript crash (process.exit() in a handler): the one task fails, and the time
//     from its rejection until a replacement has run a no-op;
//   - a fatal signal in a handler (what a segfault in a native addon is): whether the
//     process holding the pool survives it.
//
//   node benchmark/isolation.js [rounds]          # 7 rounds by default
const { spawnSync } = require('node:child_process')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const SCRIPT = path.join(__dirname, 'workers', 'isolation.js')
const KINDS = ['threads', 'processes']

function newPool (kind, workers) {
  const { ThreadPool, ProcessPool } = require('offload')
  return kind === 'threads'
    ? new ThreadPool({ script: SCRIPT, threads: workers })
    // minWorkers: all started with the pool, as a ThreadPool's threads are.
    : new ProcessPool({ script: SCRIPT, size: workers, minWorkers: workers })
}

// kB figures of /proc/<pid>/<file>, as bytes.
function procKb (pid, file, field) {
  const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/${file}`, 'utf8'))
  return m ? Number(m[1]) * 1024 : NaN
}

async function waitFor (check) {
  while (!check()) await new Promise((resolve) => setImmediate(resolve))
}

// One round for one kind, in this (fresh) process; prints its figures as JSON.
async function child (kind) {
  require('offload') // the addon is loaded before the baseline, as in a server
  global.gc()
  const rssBefore = process.memoryUsage().rss
  let t0 = performance.now()
  const pool = newPool(kind, 2)
  await pool.run(null, { name: 'noop' })
  const startMs = performance.now() - t0
  const out = { startMs }
  if (kind === 'threads') {
    await waitFor(() => pool.stats().idle === 2) // both threads up and waiting
    global.gc()
    out.rssPerWorker = (process.memoryUsage().rss - rssBefore) / 2
  } else {
    await waitFor(() => pool.stats().idle === 2)
    const pids = pool.stats().workers.map((w) => w.pid)
    out.rssPerWorker = [...pids].reduce((sum, pid) => sum + procKb(pid, 'status', 'VmRSS'), 0) / 2
    out.pssPerWorker = [...pids].reduce((sum, pid) => sum + procKb(pid, 'smaps_rollup', 'Pss'), 0) / 2
  }
  await pool.close()
  const one = newPool(kind, 1)
  await one.run(null, { name: 'noop' })
  const crash = await one.run(null, { name: 'exit' }).then(() => 'resolved', (err) => err.code)
  t0 = performance.now()
  await one.run(null, { name: 'noop' })
  out.recoverMs = performance.now() - t0
  out.crash = crash
  await one.close()
  console.log(JSON.stringify(out))
}

// A fatal signal in a handler; prints what the pool's caller saw, if it lived to see it.
async function segv (kind) {
  const one = newPool(kind, 1)
  await one.run(null, { name: 'noop' })
  const code = await one.run(null, { name: 'segv' }).then(() => 'resolved', (err) => err.code)
  await one.run(null, { name: 'noop' })
  console.log(JSON.stringify({ code, servedAfter: true }))
  await one.close()
}

function run (args) {
  // No core files from the fatal-signal runs.
  const r = spawnSync('sh', ['-c', 'ulimit -c 0; exec "$@"', 'sh', process.execPath, '--expose-gc', __filename, ...args], { encoding: 'utf8' })
  if (r.status !== 0 && args[0] !== '--segv') throw new Error(`${args.join(' ')}: exit ${r.status} ${r.signal ?? ''}\n${r.stderr}`)
  return r
}

function stat (xs, scale = 1, digits = 1) {
  const s = [...xs].sort((a, b) => a - b)
  const f = (x) => (x / scale).toFixed(digits)
  return `${f(s[Math.floor(s.length / 2)])} (${f(s[0])}–${f(s[s.length - 1])})`
}

function main () {
  const rounds = Number(process.argv[2] ?? 7)
  const results = { threads: [], processes: [] }
  for (let i = 0; i < rounds; i++) {
    for (const kind of i % 2 ? [...KINDS].reverse() : KINDS) results[kind].push(JSON.parse(run(['--child', kind]).stdout))
  }
  const MiB = 1024 * 1024
  console.log(`${os.cpus()[0].model}, ${os.availableParallelism()} CPUs, Node ${process.version}; ${rounds} rounds, median (min–max)\n`)
  console.log('| | ThreadPool (2 threads) | ProcessPool (2 processes) |')
  console.log('|---|---|---|')
  const row = (label, f) => console.log(`| ${label} | ${KINDS.map((k) => f(results[k], k)).join(' | ')} |`)
  row('start, until the first no-op resolves (ms)', (r) => stat(r.map((x) => x.startMs)))
  row('RSS per worker (MiB)', (r) => stat(r.map((x) => x.rssPerWorker), MiB))
  row('PSS per worker (MiB)', (r, k) => (k === 'threads' ? 'n/a (one process)' : stat(r.map((x) => x.pssPerWorker), MiB)))
  row('`process.exit()` in a handler', (r) => [...new Set(r.map((x) => x.crash))].join(', '))
  row('then a replacement runs a no-op (ms)', (r) => stat(r.map((x) => x.recoverMs)))
  row('a fatal signal (SIGSEGV) in a handler', (r, k) => {
    const s = run(['--segv', k])
    if (s.signal) return `the whole process dies (${s.signal})`
    const out = JSON.parse(s.stdout)
    return `the task fails (${out.code}), the pool serves on`
  })
}

if (process.argv[2] === '--child') child(process.argv[3])
else if (process.argv[2] === '--segv') segv(process.argv[3])
else main()
