'use strict'
// metrics(): every pool, process pool and the subprocess supervisor in the Prometheus text
// exposition format (version 0.0.4), without prom-client. Pools register themselves in
// shared/metrics-registry.js; one call reads each pool's counters once (O(pools), no per-task work).
const binding = require('../shared/native')
const { nativeOf } = require('../cpu/pool')
const { live } = require('../shared/metrics-registry')
const { poolWorkerSlots } = require('../process-pool')
const { liveBudgets } = require('../host-budget')

// Latency buckets in seconds: dispatch (tens of µs) to long tasks (minutes).
const BOUNDS = [0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60]

// Label values are escaped as the format requires (backslash, quote, newline).
function label(v) {
  return String(v).replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function num(v) {
  if (v === Infinity) return '+Inf'
  if (v === -Infinity) return '-Inf'
  if (Number.isNaN(v)) return 'NaN'
  return String(v)
}

class Exposition {
  constructor() {
    this.lines = []
  }

  family(name, type, help, samples) {
    if (samples.length === 0) return
    this.lines.push(`# HELP ${name} ${help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`)
    this.lines.push(`# TYPE ${name} ${type}`)
    for (const [suffix, labels, value] of samples) {
      const l = Object.entries(labels).map(([k, v]) => `${k}="${label(v)}"`).join(',')
      this.lines.push(`${name}${suffix}${l ? `{${l}}` : ''} ${num(value)}`)
    }
  }

  text() {
    return this.lines.length === 0 ? '' : `${this.lines.join('\n')}\n`
  }
}

function cpuPools(out, pools) {
  const stats = pools.map(([name, p]) => [name, p.stats(), binding.poolLatencyBuckets(nativeOf(p), BOUNDS)])
  const gauge = (metric, help, pick) => out.family(metric, 'gauge', help, stats.map(([pool, s]) => ['', { pool }, pick(s)]))
  gauge('offload_pool_threads', 'Worker threads of the CPU pool.', (s) => s.threads)
  gauge('offload_pool_queue_depth', 'Tasks waiting for a thread.', (s) => s.queued)
  gauge('offload_pool_running', 'Tasks running now.', (s) => s.running)
  gauge('offload_pool_utilization_ratio', 'Share of thread time spent running tasks since the pool started (0 to 1).', (s) => s.utilization)
  out.family('offload_pool_busy_seconds_total', 'counter', 'Thread time spent running tasks; rate() / threads is the utilization over a window.',
    stats.map(([pool, s]) => ['', { pool }, s.busySeconds]))
  const outcomes = [['completed', 'completed'], ['failed', 'failed'], ['cancelled', 'cancelled'], ['timed_out', 'timedOut'], ['rejected', 'rejected']]
  out.family('offload_pool_tasks_total', 'counter', 'Tasks that ended, by outcome (rejected: refused at admission, queue full or pool closed).',
    stats.flatMap(([pool, s]) => outcomes.map(([outcome, key]) => ['', { pool, outcome }, s[key]])))
  /** @type {Array<[string, number, string]>} */
  const histograms = [['wait', 0, 'Time from submission to start.'], ['run', BOUNDS.length + 2, 'Time from start to finish.']]
  for (const [which, offset, help] of histograms) {
    out.family(`offload_pool_${which}_seconds`, 'histogram', help, stats.flatMap(([pool, , b]) => [
      ...BOUNDS.map((le, i) => ['_bucket', { pool, le: num(le) }, b[offset + i]]),
      ['_bucket', { pool, le: '+Inf' }, b[offset + BOUNDS.length]],
      ['_sum', { pool }, b[offset + BOUNDS.length + 1]],
      ['_count', { pool }, b[offset + BOUNDS.length]],
    ]))
  }
}

function subprocesses(out) {
  const s = binding.processStats()
  // The gauges are about exec() and spawn() children: process-pool workers hold slots of their
  // pools' supervisors too, and are reported as offload_process_pool_workers instead. (The
  // counters keep counting every child, as their help says.)
  const pools = poolWorkerSlots()
  const counter = (metric, help, v) => out.family(metric, 'counter', help, [['', {}, v]])
  const gauge = (metric, help, v) => out.family(metric, 'gauge', help, [['', {}, v]])
  counter('offload_subprocesses_spawned_total', 'Children started by exec(), spawn() and process-pool workers.', s.spawned)
  gauge('offload_subprocesses_running', 'exec() and spawn() children holding a running slot (process-pool workers are in offload_process_pool_workers).', Math.max(0, s.running - pools.running))
  gauge('offload_subprocesses_queued', 'exec() and spawn() children waiting for a slot.', Math.max(0, s.queued - pools.queued))
  counter('offload_subprocesses_exited_total', 'Children that ended, however they ended.', s.exited)
  counter('offload_subprocesses_failed_total', 'Children that exited non-zero, were killed by a signal, or never started.', s.failed)
  counter('offload_subprocesses_timed_out_total', 'Children killed for their timeout.', s.timedOut)
  counter('offload_subprocesses_killed_total', 'Children offload signalled (kill(), timeout, abort, maxBuffer, teardown).', s.killed)
  counter('offload_subprocesses_spawn_errors_total', 'Children that could not be started (ENOENT, EACCES, setup failures).', s.spawnErrors)
  // Absent until a child's peak could be measured: Linux reports a child started without
  // fork with at least this process's own peak, so smaller children are not measurable, and a
  // 0 or this process's size would be a misleading sample.
  if (s.maxRssBytes !== undefined) {
    gauge('offload_subprocess_max_rss_bytes', "The largest peak resident set measured of any child (children whose peak stays below this process's own are not measurable).", s.maxRssBytes)
  }
}

function processPools(out, pools) {
  const stats = pools.map(([name, p]) => [name, p.stats()])
  const states = ['starting', 'idle', 'busy']
  out.family('offload_process_pool_workers', 'gauge', 'Worker processes by state.',
    stats.flatMap(([pool, s]) => states.map((state) => ['', { pool, state }, s[state]])))
  out.family('offload_process_pool_queue_depth', 'gauge', 'Tasks waiting for a worker.', stats.map(([pool, s]) => ['', { pool }, s.queued]))
  const outcomes = [['completed', 'completed'], ['failed', 'failed'], ['cancelled', 'cancelled'], ['timed_out', 'timedOut'], ['rejected', 'rejected']]
  out.family('offload_process_pool_tasks_total', 'counter', 'Tasks that ended, by outcome (rejected: refused at admission, queue full, pool closed or no worker able to start).',
    stats.flatMap(([pool, s]) => outcomes.map(([outcome, key]) => ['', { pool, outcome }, s[key]])))
  const counter = (metric, help, key) => out.family(metric, 'counter', help, stats.map(([pool, s]) => ['', { pool }, s[key]]))
  counter('offload_process_pool_crashes_total', 'Workers that died without being asked to.', 'crashed')
  counter('offload_process_pool_restarts_total', 'Workers started to replace one that crashed, was killed or was recycled.', 'restarts')
  counter('offload_process_pool_recycled_total', 'Workers replaced for maxTasksPerWorker or maxRssBytes.', 'recycled')
  counter('offload_process_pool_start_failures_total', 'Workers that exited, or did not answer in time, before they were ready.', 'startFailures')
  out.family('offload_process_pool_rss_bytes', 'gauge', 'Resident memory of all live workers together.',
    stats.map(([pool, s]) => ['', { pool }, s.workers.reduce((sum, w) => sum + (w.rssBytes ?? 0), 0)]))
}

function threadPools(out, pools) {
  const stats = pools.map(([name, p]) => [name, p.stats()])
  out.family('offload_thread_pool_threads', 'gauge', 'Worker threads by state.',
    stats.flatMap(([pool, s]) => [['', { pool, state: 'idle' }, s.idle], ['', { pool, state: 'busy' }, s.running]]))
  out.family('offload_thread_pool_queue_depth', 'gauge', 'Tasks waiting for a thread.', stats.map(([pool, s]) => ['', { pool }, s.queued]))
  const outcomes = [['completed', 'completed'], ['cancelled', 'cancelled'], ['rejected', 'rejected'], ['crashed', 'crashed']]
  out.family('offload_thread_pool_tasks_total', 'counter', 'Tasks that ended, by outcome (completed: the handler settled; cancelled: left the queue by abort or timeout; rejected: queue full; crashed: lost with its thread).',
    stats.flatMap(([pool, s]) => outcomes.map(([outcome, key]) => ['', { pool, outcome }, s[key]])))
}

// Host budgets (issue 19): as this process sees them; `held` by any process is probed now.
function hostBudgets(out, budgets) {
  const stats = budgets.map((b) => [b.name, b.stats(), binding.hostBudgetWaitBuckets(b.native, BOUNDS)])
  const gauge = (metric, help, pick) => out.family(metric, 'gauge', help, stats.map(([budget, s]) => ['', { budget }, pick(s)]))
  gauge('offload_host_budget_slots', 'Slots of the host budget: tasks that may run at once across all its processes.', (s) => s.slots)
  out.family('offload_host_budget_slots_held', 'gauge', 'Slots held now, by this process or by any process on the host.',
    stats.flatMap(([budget, s]) => [['', { budget, holder: 'this_process' }, s.held], ['', { budget, holder: 'any_process' }, s.heldAnywhere]]))
  gauge('offload_host_budget_waiting', 'Tasks (or CPU-pool drainers) of this process waiting for a slot.', (s) => s.waiting)
  out.family('offload_host_budget_acquired_total', 'counter', 'Slots this process has taken.', stats.map(([budget, s]) => ['', { budget }, s.acquired]))
  out.family('offload_host_budget_wait_seconds', 'histogram', 'Time waited for a slot, by the acquisitions that had to wait.', stats.flatMap(([budget, , b]) => [
    ...BOUNDS.map((le, i) => ['_bucket', { budget, le: num(le) }, b[i]]),
    ['_bucket', { budget, le: '+Inf' }, b[BOUNDS.length]],
    ['_sum', { budget }, b[BOUNDS.length + 1]],
    ['_count', { budget }, b[BOUNDS.length]],
  ]))
}

/** Every offload pool, process pool, thread pool and the subprocess counters, as Prometheus text. */
function metrics() {
  const out = new Exposition()
  cpuPools(out, live('pools'))
  subprocesses(out)
  processPools(out, live('processPools'))
  threadPools(out, live('threadPools'))
  hostBudgets(out, liveBudgets())
  return out.text()
}

metrics.contentType = 'text/plain; version=0.0.4; charset=utf-8'

module.exports = { metrics }
