'use strict'
// ProcessPool: persistent, isolated worker processes running the user's code (docs/protocol.md).
//
// Admission works as in the CPU pool: a task runs on an idle worker at once or waits in a
// bounded queue (FIFO within three priority levels; past `maxQueue` it is refused with
// ERR_OFFLOAD_QUEUE_FULL). Workers start on demand up to `size` (`minWorkers` are started up
// front and kept), run one task at a time, and are replaced when they crash, are killed for a
// timeout or an abort, or are recycled (`maxTasksPerWorker`, `maxRssBytes`). Only the task a
// worker was running when it died fails. A worker that cannot start delays the next attempt
// (`restartBackoff`, doubling) and, while no worker is up, fails the waiting tasks with
// ERR_OFFLOAD_WORKER_START instead of retrying in a loop. The processes themselves are the
// supervisor's: no fork, own process group (a kill takes the whole tree), parent-death
// signal, rlimits.
const binding = require('./native.js')
const { AbortError, OffloadError, invalidArgType, invalidArgValue, outOfRange } = require('./errors')
const { DEFAULT_MAX_FRAME, message, valueOf } = require('./protocol')
const { PoolWorker, howEnded, KIND } = require('./pool-worker')
const { Supervisor, killChildrenOnExit, kNative } = require('./process')
const { MAX_TIMEOUT, validateOptions, optionalSignal, optionalTimeout, unlisten } = require('./validate')
const { workerOptions } = require('./process-pool-options')
const { register } = require('./metrics-registry')

const asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')
const PRIORITY = { high: 0, normal: 1, low: 2 }
// The longest wait between start attempts of a worker that keeps failing.
const MAX_BACKOFF = 30_000
const LIVE = new Set(['idle', 'busy', 'cancelling'])
const ACTIVE = new Set(['starting', 'idle', 'busy', 'cancelling'])
const STARTING = new Set(['starting'])

// The private supervisors of pools not yet closed, so metrics() can tell pool workers (reported
// with their pool) from exec()/spawn() children: all are children of some supervisor, and the
// binding counts them together. Weak, so a pool dropped without close() is not kept.
const poolSupervisors = new Set()

/** Running and queued slots held by process-pool workers, over every pool. */
function poolWorkerSlots() {
  let running = 0
  let queued = 0
  for (const ref of poolSupervisors) {
    const supervisor = ref.deref()
    if (supervisor === undefined) {
      poolSupervisors.delete(ref)
      continue
    }
    const s = supervisor.stats()
    running += s.running
    queued += s.queued
  }
  return { running, queued }
}

// A FIFO with O(1) shift; cancelled entries are skipped when they reach the front.
class Fifo {
  constructor() {
    this.items = []
    this.head = 0
  }

  push(x) { this.items.push(x) }

  shift() {
    const x = this.items[this.head]
    this.items[this.head++] = undefined
    if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head)
      this.head = 0
    }
    return x
  }

  get length() { return this.items.length - this.head }
}

class Task {
  constructor(pool, id, frame, signal, resolve, reject) {
    this.pool = pool
    this.id = id
    this.frame = frame
    this.signal = signal
    this.resolve = resolve
    this.reject = reject
    this.settled = false
    this.worker = undefined
    this.timer = undefined
    this.queued = false
  }

  // AbortSignal listener (an object, so no closure per task). Inert once the task is settled.
  handleEvent() {
    let reason
    try {
      reason = this.signal.reason
    } catch (err) {
      reason = err // a signal-like object's getter threw: that is the best reason there is
    }
    this.pool._cancel(this, new AbortError(undefined, { cause: reason }), 'cancelled')
  }

  // Settles once; returns false if it already was.
  finish(err, value) {
    if (this.settled) return false
    this.settled = true
    if (this.timer !== undefined) clearTimeout(this.timer)
    if (this.signal !== undefined) {
      // The caller's signal (or polyfill) runs here, inside the pool's reply, timer and exit
      // handlers: whatever it throws must not escape into them (it becomes a warning). A
      // listener it failed to remove is inert.
      unlisten(this.signal, this)
    }
    this.frame = undefined
    if (err !== undefined) this.reject(err)
    else this.resolve(value)
    return true
  }
}

function onTimeout(task, ms) {
  task.pool._cancel(task, new OffloadError('ERR_OFFLOAD_TIMEOUT', `the task did not finish within ${ms} ms`), 'timedOut')
}

// Rebuilds an error thrown in a worker: same class where it is a built-in one, same name,
// message and code, the worker's stack, and the error's other own properties, as data only.
const BUILTIN = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }
function workerError(e, pid) {
  const described = e !== null && typeof e === 'object' ? e : { name: 'Error', message: String(e) }
  const Ctor = Object.hasOwn(BUILTIN, described.name) ? BUILTIN[described.name] : Error
  const err = new Ctor(typeof described.message === 'string' ? described.message : String(described.message))
  if (typeof described.name === 'string' && err.name !== described.name) {
    Object.defineProperty(err, 'name', { value: described.name, writable: true, configurable: true })
  }
  if (described.code !== undefined && described.code !== null) err.code = described.code
  if (described.props !== null && typeof described.props === 'object') {
    for (const k of Object.keys(described.props)) {
      // Never over a member the error has, own or inherited: a `toString` or `valueOf` copied
      // as data breaks `${err}`, a `constructor` breaks class checks, and name, message, stack
      // and code come from their own fields. (`__proto__` is an own key in the parsed JSON.)
      if (k === '__proto__' || k === 'code' || k in err) continue
      err[k] = described.props[k]
    }
  }
  if (typeof described.stack === 'string') {
    Object.defineProperty(err, 'stack', { value: `${described.stack}\n    at <offload worker pid ${pid}>`, writable: true, configurable: true })
  }
  return err
}

class ProcessPool {
  #o
  #supervisor
  #spawnArgs
  #queues = [new Fifo(), new Fifo(), new Fifo()]
  #queued = 0
  #stale = 0 // settled tasks still in the queue arrays
  #workers = new Set()
  #idle = [] // most recently used last, so the others can time out
  #nextId = 1
  #inFlight = 0
  #keepAlive
  #refed = false
  #failures = 0
  #backoffUntil = 0
  #backoffTimer
  #sweeper
  #lastStartError
  #owed = 0 // replacements owed for workers that died or were recycled
  #closing
  #unregister
  #supervisorRef
  #closed
  #destroyed = false
  #counts = { completed: 0, failed: 0, cancelled: 0, timedOut: 0, rejected: 0, crashed: 0, restarts: 0, recycled: 0, startFailures: 0 }

  constructor(options) {
    const o = workerOptions(options)
    this.#o = o
    // A private budget: workers must never wait behind exec() calls, and a dying worker may
    // briefly overlap its replacement.
    this.#supervisor = new Supervisor({ maxConcurrent: 2 * o.size + 2, maxQueue: Infinity })
    this.#supervisorRef = new WeakRef(this.#supervisor)
    poolSupervisors.add(this.#supervisorRef)
    this.#spawnArgs = [this.#supervisor[kNative], o.file, o.args, o.native, undefined, o.envBlock, { channels: true }]
    this.#keepAlive = setInterval(() => {}, MAX_TIMEOUT)
    this.#keepAlive.unref()
    if (o.idleTimeout > 0) {
      this.#sweeper = setInterval(() => this.#sweep(), Math.max(50, o.idleTimeout / 4))
      this.#sweeper.unref()
    }
    killChildrenOnExit()
    this.#unregister = register('processPools', this, o.name)
    for (let i = 0; i < o.minWorkers; i++) this.#start()
  }

  /** Names the pool in metrics. */
  get name() { return this.#o.name }
  /** The most workers running at once. */
  get size() { return this.#o.size }
  /** Workers started up front and kept even when idle. */
  get minWorkers() { return this.#o.minWorkers }
  /** Waiting tasks admitted before `ERR_OFFLOAD_QUEUE_FULL`. */
  get maxQueue() { return this.#o.maxQueue }

  /** Runs `payload` on a worker; resolves with the handler's result. */
  run(payload, options) {
    let o
    try {
      o = runOptions(options, this.#o)
    } catch (err) {
      return Promise.reject(err)
    }
    if (this.#closing !== undefined || this.#destroyed) {
      return this.#refuse(new OffloadError('ERR_OFFLOAD_POOL_CLOSED', 'the process pool is closed'))
    }
    if (o.signal !== undefined && o.signal.aborted) {
      return Promise.reject(new AbortError(undefined, { cause: o.signal.reason }))
    }
    const idle = this.#idle.length > 0
    // Tasks that a starting worker, or one the pool may still start, will take are not
    // waiting; maxQueue bounds the rest (so maxQueue 0 means "only if a worker is free").
    if (!idle && this.#queued >= this.#o.maxQueue + this.#starting() + Math.max(0, this.#o.size - this.#active())) {
      return this.#refuse(new OffloadError('ERR_OFFLOAD_QUEUE_FULL', `the process pool queue is full (${this.#o.maxQueue} waiting)`))
    }
    if (!idle && this.#lastStartError !== undefined && this.#live() === 0 && performance.now() < this.#backoffUntil) {
      return this.#refuse(this.#startError())
    }
    const id = this.#nextId
    this.#nextId = id >= 0xffffffff ? 1 : id + 1
    let frame
    try {
      frame = message(KIND.run, id, 'payload', payload, { name: o.name ?? null })
    } catch (err) {
      return Promise.reject(err)
    }
    let bytes = 0
    for (const part of frame) bytes += part.length
    if (bytes > DEFAULT_MAX_FRAME) {
      // The worker helpers refuse longer frames (as a corrupt stream): fail here, clearly.
      return Promise.reject(outOfRange('payload', `at most ${DEFAULT_MAX_FRAME} bytes encoded`, bytes))
    }
    let resolve
    let reject
    const promise = new Promise((res, rej) => {
      resolve = res
      reject = rej
    })
    const task = new Task(this, id, frame, o.signal, resolve, reject)
    if (o.signal !== undefined) {
      try {
        o.signal.addEventListener('abort', task, { once: true })
      } catch (err) {
        // Never admitted: settled already, so an abort its signal still delivers is ignored.
        task.settled = true
        return Promise.reject(err)
      }
    }
    if (o.timeout !== undefined) task.timer = setTimeout(onTimeout, o.timeout, task, o.timeout)
    this.#inFlight++
    this.#ref()
    if (idle) this.#dispatch(this.#idle.pop(), task)
    else {
      this.#queues[o.priority].push(task)
      task.queued = true
      this.#queued++
      this.#pump()
    }
    return promise
  }

  // A call refused at admission (it never became a task): counted, as the CPU pool counts its
  // refusals, so that every call past the argument checks ends in exactly one outcome.
  #refuse(err) {
    this.#counts.rejected++
    return Promise.reject(err)
  }

  /** Counters, gauges and the live workers. */
  stats() {
    const workers = []
    let busy = 0
    for (const w of this.#workers) {
      if (w.state === 'busy' || w.state === 'cancelling') busy++
      if (!w.ready || w.state === 'dead') continue
      workers.push({ pid: w.pid, state: w.state, tasks: w.tasks, rssBytes: w.rssBytes() })
    }
    const c = this.#counts
    return {
      size: this.#o.size,
      workers,
      starting: this.#starting(),
      idle: this.#idle.length,
      busy,
      queued: this.#queued,
      completed: c.completed,
      failed: c.failed,
      cancelled: c.cancelled,
      timedOut: c.timedOut,
      rejected: c.rejected,
      crashed: c.crashed,
      restarts: c.restarts,
      recycled: c.recycled,
      startFailures: c.startFailures,
    }
  }

  /** Stops taking tasks, finishes the accepted ones, then lets every worker exit. */
  close() {
    if (this.#closing === undefined) {
      this.#unregister()
      this.#closing = new Promise((resolve) => { this.#closed = resolve })
      this.#ref()
      this.#maybeFinishClose()
    }
    return this.#closing
  }

  /** Fails every queued and running task and kills every worker at once. */
  destroy() {
    this.#destroyed = true
    const closing = this.close()
    const err = () => new OffloadError('ERR_OFFLOAD_POOL_DESTROYED', 'the process pool was destroyed')
    for (const w of this.#workers) {
      if (w.task !== undefined) this.#settle(w.task, err(), 'failed')
      w.kill()
    }
    this.#idle.length = 0
    this.#rejectQueued(err, 'failed')
    this.#maybeFinishClose()
    return closing
  }

  [asyncDispose]() {
    return this.close()
  }

  // ---- workers ----

  // Worker counts by state, derived rather than kept (size is small, and a counter kept by
  // hand drifts the first time a transition is missed).
  #count(states) {
    let n = 0
    for (const w of this.#workers) if (states.has(w.state)) n++
    return n
  }

  // Workers that took `ready` and can take or are running tasks.
  #live() { return this.#count(LIVE) }
  // Workers that count against `size`: all but those on their way out.
  #active() { return this.#count(ACTIVE) }
  // Started, not ready yet.
  #starting() { return this.#count(STARTING) }

  #start() {
    if (this.#destroyed) return
    const o = this.#o
    let worker
    try {
      worker = new PoolWorker(this.#spawnArgs, this, this.#o.stderr)
    } catch (err) {
      // Argument problems were caught by the constructor; this is a resource failure (pipes).
      this.#startFailed(err.message, {})
      return
    }
    this.#workers.add(worker)
    if (this.#owed > 0) {
      this.#owed--
      this.#counts.restarts++
    }
    worker.timer = setTimeout(() => {
      worker.startFailure = `did not become ready within ${o.startTimeout} ms`
      worker.kill()
    }, o.startTimeout)
    worker.timer.unref() // the keep-alive covers it while a task waits for this worker
  }

  // PoolWorker events.
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
    this.#failures = 0 // a worker that answers is healthy: reset the restart backoff
    clearTimeout(worker.timer)
    let err
    let value
    try {
      if (frame.kind === KIND.result) value = valueOf(frame, 'value')
      else err = workerError(valueOf(frame, 'error'), worker.pid)
    } catch (e) {
      err = new OffloadError('ERR_OFFLOAD_WORKER_PROTOCOL', `the worker (pid ${worker.pid}) sent a reply that could not be decoded: ${e.message}`)
    }
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
      this.#settle(task, new OffloadError('ERR_OFFLOAD_WORKER_PROTOCOL', `the worker (pid ${worker.pid ?? '?'}) broke the protocol: ${reason}`), 'failed')
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
      this.#counts.crashed++
      this.#owe()
      if (worker.tasks === 0) this.#backoff() // dies without finishing anything: do not spin
    }
    const task = worker.task
    if (task !== undefined) {
      worker.task = undefined
      // The end of its stderr says why (an uncaught exception's stack, an abort message).
      const stderr = worker.tail.text()
      let text = `the worker (pid ${raw.pid ?? '?'}) ${howEnded(raw)} while running the task`
      if (stderr !== '') text += `; the end of its stderr:\n${stderr}`
      const err = new OffloadError('ERR_OFFLOAD_WORKER_CRASHED', text)
      Object.assign(err, { pid: raw.pid ?? undefined, exitCode: raw.exitCode, signal: raw.signal, stderr })
      this.#settle(task, err, 'failed')
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
    this.#counts.startFailures++
    let text = `the process pool's worker (${this.#o.command}) ${reason}`
    if (stderr !== '') text += `; the end of its stderr:\n${stderr}`
    const hint = startHint(this.#o.script, stderr)
    if (hint !== undefined) text += `\n${hint}`
    const err = new OffloadError('ERR_OFFLOAD_WORKER_START', text)
    Object.assign(err, { exitCode: raw.exitCode ?? null, signal: raw.signal ?? null, stderr })
    this.#lastStartError = err
    this.#backoff()
    // Nothing is up or on its way to take the waiting tasks: fail them rather than keep them
    // waiting for a worker that may never start.
    if (this.#live() === 0 && this.#starting() === 0) this.#rejectQueued(() => this.#startError(), 'failed')
  }

  #startError() {
    const last = this.#lastStartError
    const err = new OffloadError(last.code, last.message)
    return Object.assign(err, { exitCode: last.exitCode, signal: last.signal, stderr: last.stderr })
  }

  #backoff() {
    const delay = Math.min(MAX_BACKOFF, Math.max(1, this.#o.restartBackoff) * 2 ** Math.min(this.#failures, 20))
    this.#failures++
    this.#backoffUntil = performance.now() + delay
    clearTimeout(this.#backoffTimer)
    this.#backoffTimer = setTimeout(() => this.#pump(), delay)
    this.#backoffTimer.unref()
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
      this.#counts.recycled++
      this.#owe()
      worker.retired = true
      worker.retire(o.retireGrace)
      this.#pump()
      return
    }
    this.#becomeIdle(worker)
  }

  #becomeIdle(worker) {
    worker.ready = true
    if (worker.silent) return // exiting: the exit report will account for it
    worker.state = 'idle'
    const task = this.#next()
    if (task !== undefined) return this.#dispatch(worker, task)
    if (this.#closing !== undefined) {
      worker.retired = true
      worker.retire(this.#o.retireGrace)
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
      const worker = this.#idle.shift()
      worker.retired = true
      worker.retire(this.#o.retireGrace)
    }
  }

  #next() {
    for (const q of this.#queues) {
      while (q.length > 0) {
        const task = q.shift()
        if (task.settled) { // cancelled while waiting; already uncounted
          this.#stale--
          continue
        }
        task.queued = false
        this.#queued--
        return task
      }
    }
    return undefined
  }

  // Starts workers for waiting tasks (and up to minWorkers), within `size` and the backoff.
  #pump() {
    if (this.#destroyed) return
    const o = this.#o
    const want = this.#closing !== undefined ? 0 : o.minWorkers
    const starting = this.#starting()
    let needed = Math.max(this.#queued - starting, want - this.#active())
    if (needed <= 0) return
    const wait = this.#backoffUntil - performance.now()
    if (wait > 0) {
      // Timers may fire a little early: come back rather than strand the queue.
      clearTimeout(this.#backoffTimer)
      this.#backoffTimer = setTimeout(() => this.#pump(), Math.ceil(wait))
      this.#backoffTimer.unref()
      return
    }
    // After a failure, one attempt at a time until a worker comes up.
    if (this.#failures > 0) needed = starting === 0 ? 1 : 0
    while (needed-- > 0 && this.#active() < o.size) this.#start()
  }

  // ---- tasks ----

  _cancel(task, err, counter) {
    if (task.settled) return
    const worker = task.worker
    this.#settle(task, err, counter)
    if (worker === undefined || worker.task !== task) return // still queued: skipped later
    // Give a cooperative handler `cancelGrace` ms to see its signal and answer; then the
    // worker (and its tree) is killed and replaced.
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
    if (!task.finish(err, value)) return
    if (task.queued) {
      task.queued = false
      this.#queued--
      // Settled tasks stay in the queue arrays until they reach the front; do not let a storm
      // of aborted waiting tasks grow them past what maxQueue allows.
      if (++this.#stale > 1024 && this.#stale > this.#queued) this.#compact()
    }
    this.#counts[counter]++
    this.#inFlight--
    this.#unrefIfQuiet()
    if (this.#closing !== undefined) this.#maybeFinishClose()
  }

  #compact() {
    for (let i = 0; i < this.#queues.length; i++) {
      const fresh = new Fifo()
      for (let q = this.#queues[i]; q.length > 0;) {
        const task = q.shift()
        if (!task.settled) fresh.push(task)
      }
      this.#queues[i] = fresh
    }
    this.#stale = 0
  }

  #rejectQueued(makeError, counter) {
    let task
    while ((task = this.#next()) !== undefined) this.#settle(task, makeError(), counter)
  }

  #maybeFinishClose() {
    if (this.#closing === undefined) return
    if (this.#queued === 0) {
      for (const w of this.#idle) {
        w.retired = true
        w.retire(this.#o.retireGrace)
      }
      this.#idle.length = 0
    }
    if (this.#workers.size === 0 && this.#inFlight === 0) {
      clearTimeout(this.#backoffTimer)
      clearInterval(this.#sweeper)
      clearInterval(this.#keepAlive)
      // No worker is left, and a child's slot is given back before its exit is reported.
      poolSupervisors.delete(this.#supervisorRef)
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

// What to do about a worker script Node could not load: TypeScript needs a loader.
function startHint(script, stderr) {
  if (stderr.includes('ERR_UNKNOWN_FILE_EXTENSION') ||
      (script !== undefined && /\.[cm]?ts$/.test(script) && stderr.includes('SyntaxError'))) {
    return "a .ts worker needs a loader: execArgv: ['--import', 'tsx'], or build it to .js"
  }
  return undefined
}

function runOptions(options, poolOptions) {
  const o = validateOptions(options)
  const name = o.name
  if (name !== undefined && name !== null && typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
  const priority = o.priority ?? 'normal'
  if (typeof priority !== 'string') throw invalidArgType('options.priority', 'of type string', priority)
  if (!Object.hasOwn(PRIORITY, priority)) throw invalidArgValue('options.priority', priority, "must be one of: 'high', 'normal', 'low'")
  return {
    name: name ?? undefined,
    priority: PRIORITY[priority],
    signal: optionalSignal(o),
    timeout: o.timeout === undefined ? poolOptions.timeout : optionalTimeout(o),
  }
}

module.exports = { ProcessPool, workerError, poolWorkerSlots }
