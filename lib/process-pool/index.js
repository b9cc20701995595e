'use strict'
// ProcessPool: persistent, isolated worker processes running the user's code (docs/protocol.md).
//
// This is the public class: it checks arguments, encodes each payload into a request frame,
// makes the task (task.js) and hands it to its private scheduler (scheduler.js), which owns
// the workers, the queue, restarts and recycling. Admission works as in the CPU pool: a task
// runs on an idle worker at once or waits in a bounded queue (FIFO within three priority
// levels; past `maxQueue` it is refused with ERR_OFFLOAD_QUEUE_FULL). A call either rejects at
// once or becomes a task that settles exactly once. The processes themselves are the
// supervisor's: no fork, own process group (a kill takes the whole tree), parent-death
// signal, rlimits.
const { OffloadError, outOfRange } = require('../shared/errors')
const { abortError } = require('../shared/cancellable')
const { asyncDispose } = require('../shared/dispose')
const { register } = require('../shared/metrics-registry')
const { Supervisor, killChildrenOnExit, kNative } = require('../subprocess/process')
const { workerOptions, runOptions } = require('./options')
const { ERR_OFFLOAD_POOL_CLOSED, ERR_OFFLOAD_POOL_DESTROYED } = require('../shared/codes')
const { validateOptions } = require('../shared/validate')
const { budgetOf, SlotQueue } = require('../host-budget')

// The machinery behind a pool (scheduler, worker handle, queue, protocol) is loaded when the
// first pool is made: most programs that require offload never make one, and every module
// loaded costs startup time (require('offload') has a budget, scripts/install-test.js).
/** @type {{ Scheduler: typeof import('./scheduler').Scheduler, Task: typeof import('./task').Task, protocol: typeof import('./protocol') }} */
let impl
function load() {
  impl ??= { Scheduler: require('./scheduler').Scheduler, Task: require('./task').Task, protocol: require('./protocol') }
  return impl
}

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

class ProcessPool {
  #o
  #scheduler
  #nextId = 1
  #closing
  #unregister
  #supervisorRef
  #slots // tasks waiting for a slot of options.hostBudget, which each task takes

  constructor(options) {
    const o = workerOptions(options)
    const budget = budgetOf(validateOptions(options))
    if (budget !== undefined) this.#slots = new SlotQueue(budget, o.maxQueue)
    const { Scheduler } = load()
    this.#o = o
    // A private budget: workers must never wait behind exec() calls, and a dying worker may
    // briefly overlap its replacement.
    const supervisor = new Supervisor({ maxConcurrent: 2 * o.size + 2, maxQueue: Infinity })
    this.#supervisorRef = new WeakRef(supervisor)
    poolSupervisors.add(this.#supervisorRef)
    const spawnArgs = [supervisor[kNative], o.file, o.args, o.native, undefined, o.envBlock, { channels: true }]
    killChildrenOnExit()
    this.#unregister = register('processPools', this, o.name)
    this.#scheduler = new Scheduler(o, spawnArgs)
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
    if (this.#scheduler.closing || this.#closing !== undefined) {
      return this.#refuse(new OffloadError(ERR_OFFLOAD_POOL_CLOSED, 'the process pool is closed'))
    }
    if (o.signal !== undefined && o.signal.aborted) return Promise.reject(abortError(o.signal))
    if (this.#slots === undefined) return this.#dispatch(payload, o)
    // Submitted (its timeout counting from this call) only once it holds a slot.
    return this.#slots.runParsed(o, (timeout) => this.#dispatch(payload, { ...o, timeout }))
  }

  #dispatch(payload, o) {
    const scheduler = this.#scheduler
    if (scheduler.closing) {
      return this.#refuse(new OffloadError(ERR_OFFLOAD_POOL_CLOSED, 'the process pool is closed'))
    }
    const refusal = scheduler.refusal()
    if (refusal !== undefined) return this.#refuse(refusal)
    const id = this.#nextId
    this.#nextId = id >= 0xffffffff ? 1 : id + 1
    const { Task, protocol: { DEFAULT_MAX_FRAME, KIND, message } } = impl
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
    const { promise, resolve, reject } = withResolvers()
    const task = new Task(scheduler, id, frame, resolve, reject)
    if (o.signal !== undefined) {
      try {
        task.listen(o.signal)
      } catch (err) {
        // Never admitted: settled already, so an abort its signal still delivers is ignored.
        task.settled = true
        return Promise.reject(err)
      }
    }
    if (o.timeout !== undefined) task.startTimer(o.timeout)
    scheduler.submit(task, o.priority)
    return promise
  }

  // A call refused at admission (it never became a task): counted, as the CPU pool counts its
  // refusals, so that every call past the argument checks ends in exactly one outcome.
  #refuse(err) {
    this.#scheduler.counts.rejected++
    return Promise.reject(err)
  }

  /** Counters, gauges and the live workers. */
  stats() {
    const s = this.#scheduler.stats()
    const c = this.#scheduler.counts
    const budget = this.#slots === undefined ? {} : { hostBudget: this.#slots.budget.stats() }
    return {
      ...budget,
      size: this.#o.size,
      workers: s.workers,
      starting: s.starting,
      idle: s.idle,
      busy: s.busy,
      queued: s.queued,
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
      // No worker is left when it resolves, and a child's slot is given back before its exit
      // is reported: the supervisor holds nothing metrics() should subtract. Tasks waiting for
      // a host budget slot were accepted: they are submitted first.
      const close = () => this.#scheduler.close(() => poolSupervisors.delete(this.#supervisorRef))
      this.#closing = this.#slots === undefined ? close() : this.#slots.drain().then(close)
    }
    return this.#closing
  }

  /** Fails every queued and running task and kills every worker at once. */
  destroy() {
    this.#slots?.cancelAll(new OffloadError(ERR_OFFLOAD_POOL_DESTROYED, 'the process pool was destroyed'))
    const closing = this.close()
    this.#scheduler.destroy()
    return closing
  }

  [asyncDispose]() {
    return this.close()
  }
}

// Promise.withResolvers is Node 22+.
function withResolvers() {
  let resolve
  let reject
  const promise = new Promise((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

module.exports = { ProcessPool, poolWorkerSlots }
