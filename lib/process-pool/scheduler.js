'use strict'
// The process pool's scheduler, private to one ProcessPool (index.js): its workers, the
// waiting tasks, dispatch, restarts with backoff, recycling and the idle sweep.
//
// A task runs on an idle worker at once or waits in the queue (queue.js). Workers start on
// demand up to `size` (`minWorkers` are started up front and kept), run one task at a time,
// and are replaced when they crash, are killed for a timeout or an abort, or are recycled
// (`maxTasksPerWorker`, `maxRssBytes`). Only the task a worker was running when it died
// fails. A worker that cannot start delays the next attempt (`restartBackoff`, doubling) and,
// while no worker is up, the waiting tasks fail with ERR_OFFLOAD_WORKER_START instead of
// retrying in a loop. Every task that is admitted settles exactly once, and is counted under
// exactly one outcome.
const binding = require('../shared/native')
const { OffloadError } = require('../shared/errors')
const { MAX_TIMEOUT } = require('../shared/validate')
const { message } = require('./protocol')
const { PoolWorker, howEnded, KIND } = require('./pool-worker')
const { TaskQueue } = require('./queue')
const { replyOf } = require('./task')
const { Backoff, startError, copyError, crashError } = require('./restarts')
const { ERR_OFFLOAD_POOL_DESTROYED, ERR_OFFLOAD_QUEUE_FULL, ERR_OFFLOAD_WORKER_PROTOCOL } = require('../shared/codes')

const LIVE = new Set(['idle', 'busy', 'cancelling'])
const ACTIVE = new Set(['starting', 'idle', 'busy', 'cancelling'])
const STARTING = new Set(['starting'])

class Scheduler {
  #o
  #spawnArgs
  #queue = new TaskQueue()
  #workers = new Set()
  #idle = [] // most recently used last, so the others can time out
  #inFlight = 0
  #keepAlive
  #refed = false
  #backoff
  #sweeper
  #lastStartError
  #owed = 0 // replacements owed for workers that died or were recycled
  #closing
  #closed
  #destroyed = false
  counts = { completed: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0, crashed: 0, restarts: 0, recycled: 0, startFailures: 0 }

  /**
   * @param {ReturnType<import('./options').workerOptions>} o the pool's checked options
   * @param {unknown[]} spawnArgs the arguments of every worker's spawn
   */
  constructor(o, spawnArgs) {
    this.#o = o
    this.#spawnArgs = spawnArgs
    this.#backoff = new Backoff(o.restartBackoff, () => this.#pump())
    this.#keepAlive = setInterval(() => {}, MAX_TIMEOUT)
    this.#keepAlive.unref()
    if (o.idleTimeout > 0) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.max(50, o.idleTimeout / 4))
      this.#sweeper.unref()
    }
    for (let i = 0; i < o.minWorkers; i++) this.#start()
  }

  get closing() { return this.#closing !== undefined || this.#destroyed }

  // Why a new task cannot be admitted now (undefined if it can). Tasks that a starting
  // worker, or one the pool may still start, will take are not waiting; maxQueue bounds the
  // rest (so maxQueue 0 means "only if a worker is free").
  refusal() {
    if (this.#idle.length > 0) return undefined
    const o = this.#o
    if (this.#queue.length >= o.maxQueue + this.#starting() + Math.max(0, o.size - this.#active())) {
      return new OffloadError(ERR_OFFLOAD_QUEUE_FULL, `the process pool queue is full (${o.maxQueue} waiting)`)
    }
    if (this.#lastStartError !== undefined && this.#live() === 0 && this.#backoff.remaining() > 0) {
      return copyError(this.#lastStartError)
    }
    return undefined
  }

  /**
   * Runs `task` on an idle worker, or queues it at `priority`.
   * @param {import('./task').Task} task
   * @param {number} priority
   */
  submit(task, priority) {
    this.#inFlight++
    this.#ref()
    if (this.#idle.length > 0) this.#dispatch(this.#idle.pop(), task)
    else {
      this.#queue.push(task, priority)
      this.#pump()
    }
  }

  stats() {
    const workers = []
    let busy = 0
    for (const w of this.#workers) {
      if (w.state === 'busy' || w.state === 'cancelling') busy++
      if (!w.ready || w.state === 'dead') continue
      workers.push({ pid: w.pid, state: w.state, tasks: w.tasks, rssBytes: w.rssBytes() })
    }
    return { workers, starting: this.#starting(), idle: this.#idle.length, busy, queued: this.#queue.length }
  }

  /** @param {() => void} onClosed called once every worker has exited and every task settled */
  close(onClosed) {
    if (this.#closing === undefined) {
      this.#closing = new Promise((resolve) => {
        this.#closed = () => {
          onClosed()
          resolve()
        }
      })
      this.#ref()
      this.#maybeFinishClose()
    }
    return this.#closing
  }

  destroy() {
    this.#destroyed = true
    const err = () => new OffloadError(ERR_OFFLOAD_POOL_DESTROYED, 'the process pool was destroyed')
    for (const w of this.#workers) {
      if (w.task !== undefined) this.#settle(w.task, err(), 'failed')
      w.kill()
    }
    this.#idle.length = 0
    this.#rejectQueued(err, 'failed')
    this.#maybeFinishClose()
  }

  // Worker counts by state, derived rather than kept (size is small, and a counter kept by
  // hand drifts the first time a transition is missed).
  #count(states) {
    let n = 0
    for (const w of this.#workers) if (states.has(w.state)) n++
    return n
  }

  // Ready and taking or running tasks; counting against `size` (all but those on their way
  // out); started and not ready yet.
  #live() { return this.#count(LIVE) }
  #active() { return this.#count(ACTIVE) }
  #starting() { return this.#count(STARTING) }

  #start() {
    if (this.#destroyed) return
    const o = this.#o
    let worker
    try {
      worker = new PoolWorker(this.#spawnArgs, this, o.stderr)
    } catch (err) {
      // Argument problems were caught by the constructor; this is a resource failure (pipes).
      this.#startFailed(err.message, {})
      return
    }
    this.#workers.add(worker)
    if (this.#owed > 0) {
      this.#owed--
      this.counts.restarts++
    }
    worker.timer = setTimeout(() => {
      worker.startFailure = `did not become ready within ${o.startTimeout} ms`
      worker.kill()
    }, o.startTimeout)
    worker.timer.unref() // the keep-alive covers it while a task waits for this worker
  }

  // PoolWorker events: frame, silent, broken, exit.
  frame(worker, frame) {
    if (worker.state === 'starting') {
      if (frame.kind !== KIND.ready) return this.broken(worker, `sent frame kind ${frame.kind} before 'ready'`)
      if (frame.header.protocol !== 1) return this.broken(worker, `speaks protocol ${frame.header.protocol}, not 1`)
      clearTimeout(worker.timer)
      worker.pid = binding.processPid(worker.handle) ?? frame.header.pid
      this.#lastStartError = undefined
      this.#becomeIdle(worker)
      return
    }
    if (frame.kind !== KIND.result && frame.kind !== KIND.error) return this.broken(worker, `sent unexpected frame kind ${frame.kind}`)
    const task = worker.task
    if (task === undefined || frame.id !== task.id) return this.broken(worker, `answered task ${frame.id}, which it was not running`)
    worker.task = undefined
    worker.tasks++
    this.#backoff.failures = 0 // a worker that answers is healthy: reset the restart backoff
    clearTimeout(worker.timer)
    const [err, value] = replyOf(frame, worker.pid)
    this.#settle(task, err, err === undefined ? 'completed' : 'failed', value)
    if (worker.state === 'busy' || worker.state === 'cancelling') this.#afterTask(worker)
  }

  // The worker's reply pipe closed: it is exiting (its exit report follows) and can take
  // nothing more.
  silent(worker) {
    this.#forget(worker)
    if (worker.state !== 'killing' && worker.state !== 'dead') worker.state = 'exiting'
  }

  #forget(worker) {
    const i = this.#idle.indexOf(worker)
    if (i >= 0) this.#idle.splice(i, 1)
  }

  broken(worker, reason) {
    const task = worker.task
    if (!worker.ready) worker.startFailure ??= reason
    else this.#owe()
    this.#forget(worker)
    worker.kill()
    if (task !== undefined) {
      this.#settle(task, new OffloadError(ERR_OFFLOAD_WORKER_PROTOCOL, `the worker (pid ${worker.pid ?? '?'}) broke the protocol: ${reason}`), 'failed')
      worker.task = undefined
    }
  }

  exit(worker, raw) {
    this.#workers.delete(worker)
    this.#forget(worker)
    if (!worker.ready) {
      if (!this.#destroyed && (worker.startFailure !== undefined || !worker.killedByPool)) {
        let reason = worker.startFailure ?? `${howEnded(raw)} before it was ready`
        // A script that ends without serving is the common mistake behind a clean exit.
        if (worker.startFailure === undefined && raw.errorCode === null && raw.exitCode === 0) {
          reason += ': did the script call serve() from offload/worker?'
        }
        this.#startFailed(reason, raw, worker.tail.text())
      }
    } else if (!worker.killedByPool && !worker.retired) {
      this.counts.crashed++
      this.#owe()
      if (worker.tasks === 0) this.#backoff.fail() // dies without finishing anything: do not spin
    }
    const task = worker.task
    if (task !== undefined) {
      worker.task = undefined
      this.#settle(task, crashError(raw, worker.tail.text()), 'failed')
    }
    this.#pump()
    this.#maybeFinishClose()
  }

  // A worker died or was retired: the next start replaces it (a restart). The pool never
  // owes more replacements than it has slots.
  #owe() {
    this.#owed = Math.min(this.#owed + 1, this.#o.size)
  }

  #startFailed(reason, raw, stderr = '') {
    this.counts.startFailures++
    this.#lastStartError = startError(this.#o, reason, raw, stderr)
    this.#backoff.fail()
    // Nothing is up or on its way to take the waiting tasks: fail them rather than keep them
    // waiting for a worker that may never start.
    if (this.#live() === 0 && this.#starting() === 0) this.#rejectQueued(() => copyError(this.#lastStartError), 'failed')
  }

  #dispatch(worker, task) {
    worker.state = 'busy'
    worker.task = task
    task.worker = worker
    const frame = task.frame
    task.frame = undefined
    worker.send(frame)
  }

  #afterTask(worker) {
    const o = this.#o
    let recycle = worker.tasks >= o.maxTasksPerWorker
    if (!recycle && o.maxRssBytes !== undefined) {
      const rss = worker.rssBytes()
      recycle = rss !== null && rss > o.maxRssBytes
    }
    if (recycle) {
      this.counts.recycled++
      this.#owe()
      this.#retire(worker)
      this.#pump()
      return
    }
    this.#becomeIdle(worker)
  }

  #retire(worker) {
    worker.retired = true
    worker.retire(this.#o.retireGrace)
  }

  #becomeIdle(worker) {
    worker.ready = true
    if (worker.silent) return // exiting: the exit report will account for it
    worker.state = 'idle'
    const task = this.#queue.next()
    if (task !== undefined) return this.#dispatch(worker, task)
    if (this.#closing !== undefined) {
      this.#retire(worker)
      this.#maybeFinishClose()
      return
    }
    worker.idleSince = Date.now()
    this.#idle.push(worker)
    this.#unrefIfQuiet()
  }

  // Retires workers idle for `idleTimeout`, above `minWorkers`. One sweep timer for the pool,
  // not a timer per task: the longest-idle workers are at the front of `#idle`.
  #sweep() {
    const cutoff = Date.now() - this.#o.idleTimeout
    while (this.#idle.length > 0 && this.#idle[0].idleSince <= cutoff && this.#active() > this.#o.minWorkers) {
      this.#retire(this.#idle.shift())
    }
  }

  // Starts workers for waiting tasks (and up to minWorkers), within `size` and the backoff.
  #pump() {
    if (this.#destroyed) return
    const o = this.#o
    const want = this.#closing !== undefined ? 0 : o.minWorkers
    const starting = this.#starting()
    let needed = Math.max(this.#queue.length - starting, want - this.#active())
    if (needed <= 0) return
    const wait = this.#backoff.remaining()
    if (wait > 0) {
      // Timers may fire a little early: come back rather than strand the queue.
      this.#backoff.retryIn(Math.ceil(wait))
      return
    }
    // After a failure, one attempt at a time until a worker comes up.
    if (this.#backoff.failures > 0) needed = starting === 0 ? 1 : 0
    while (needed-- > 0 && this.#active() < o.size) this.#start()
  }

  /**
   * A task's signal fired or its timeout passed: it settles now. If a worker is running it,
   * a cooperative handler gets `cancelGrace` ms to see its signal and answer; then the worker
   * (and its tree) is killed and replaced.
   * @param {import('./task').Task} task
   * @param {Error} err
   * @param {'cancelled' | 'timedOut'} counter
   */
  cancel(task, err, counter) {
    if (task.settled) return
    const worker = task.worker
    this.#settle(task, err, counter)
    if (worker === undefined || worker.task !== task) return // still queued: skipped later
    worker.state = 'cancelling'
    worker.send(message(KIND.cancel, task.id, 'value', undefined))
    clearTimeout(worker.timer)
    worker.timer = setTimeout(() => {
      if (worker.task === task) {
        this.#owe()
        worker.kill()
      }
    }, this.#o.cancelGrace)
  }

  #settle(task, err, counter, value) {
    if (!task.settle(err, value)) return
    this.#queue.settled(task)
    this.counts[counter]++
    this.#inFlight--
    this.#unrefIfQuiet()
    if (this.#closing !== undefined) this.#maybeFinishClose()
  }

  #rejectQueued(makeError, counter) {
    let task
    while ((task = this.#queue.next()) !== undefined) this.#settle(task, makeError(), counter)
  }

  #maybeFinishClose() {
    if (this.#closing === undefined) return
    if (this.#queue.length === 0) {
      for (const w of this.#idle) this.#retire(w)
      this.#idle.length = 0
    }
    if (this.#workers.size === 0 && this.#inFlight === 0) {
      this.#backoff.stop()
      clearInterval(this.#sweeper)
      clearInterval(this.#keepAlive)
      this.#closed()
    }
  }

  // The pool keeps the process alive while a task is accepted or it is closing; an idle
  // pool does not (as with piscina), and its workers die with the process.
  #ref() {
    if (this.#refed) return
    this.#refed = true
    this.#keepAlive.ref()
  }

  #unrefIfQuiet() {
    if (!this.#refed || this.#inFlight > 0 || this.#closing !== undefined) return
    this.#refed = false
    this.#keepAlive.unref()
  }
}

module.exports = { Scheduler }
