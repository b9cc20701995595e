'use strict'
// ThreadPool: the user's own JavaScript on worker threads, dispatched through the addon.
// `run()` encodes the payload (codec.js: structured-clone rules) and queues the bytes natively
// with the handler's name and the task's slot; a free worker takes the task from the native
// queue itself and posts the result into this thread's completion channel, so no MessagePort
// carries tasks and one wake-up settles a whole batch. A worker's port carries its `ready`
// message and only the memory that moves or is shared (big Buffers, SharedArrayBuffers).
//
// Guarantees: admission (`maxQueue`, ERR_OFFLOAD_QUEUE_FULL) and priorities in the native
// queue; a timeout terminates the worker running the task (even a tight loop) and starts a
// replacement; an abort reaches the handler's signal, and a handler that ignores it for
// `abortGrace` ms has its worker terminated; a worker that exits or crashes fails only its
// own task (ERR_OFFLOAD_WORKER_CRASHED) and is replaced.
//
// Elastic: `minThreads` start with the pool; a task that finds no idle thread starts another,
// up to `threads`. A thread idle for `idleTimeout` above minThreads is retired: the native
// queue takes it out of the idle set atomically (threadPoolRetire) before it is terminated, so
// it is never handed a task. A worker that has not called serve() within `startTimeout` is
// barred from joining (threadPoolRefuse), terminated, and counts as a start failure. Workers
// are known by their `threadId`, on both sides, from the moment they are created.
const path = require('node:path')
const { Worker } = require('node:worker_threads')
const binding = require('../shared/native')
const { reserve, track, release, captured, capture } = require('../shared/completion')
const { abortError } = require('../shared/cancellable')
const { OffloadError, fromNative, invalidArgType, invalidArgValue } = require('../shared/errors')
const { validateOptions, optionalSignal, optionalString, optionalTimeout } = require('../shared/validate')
const { ERR_OFFLOAD_POOL_CLOSED, ERR_OFFLOAD_POOL_DESTROYED, ERR_OFFLOAD_WORKER_CRASHED, ERR_OFFLOAD_WORKER_START } = require('../shared/codes')
const { asyncDispose } = require('../shared/dispose')
const { register } = require('../shared/metrics-registry')
const { budgetOf, SlotQueue } = require('../host-budget')
const { kThreadPool } = require('./handshake')
const { Outbound, asJson, encode, detach } = require('./codec')
const { threadPoolOptions, transferList } = require('./options')
const { ThreadTask, resolveReply } = require('./task')

const BOOT = path.join(__dirname, 'boot.js')
// The shortest wait between two looks for idle threads to retire.
const REAP_MS = 10

class ThreadPool {
  #id
  #o
  #workers = new Map() // threadId -> { worker, ready, retired, startTimer, failure, timedOut }
  #active = 0 // workers starting or serving, not retired
  #starting = 0 // workers whose `ready` has not been read
  #started = 0 // workers ever started, for their names
  #reaper // looks for idle threads to retire, while more than minThreads are active
  #retry // the start backoff
  // Tasks native code may still settle, by their completion slot: an array, not a Map, which
  // under a stream of tasks kept dead entries reachable long enough to be promoted (measured:
  // 4 MB promoted per scavenge, 7–10 ms pauses). A reply that waits for its port message has
  // left its slot (the channel freed it) and waits in #awaiting, by task id.
  /** @type {(ThreadTask | undefined)[]} */
  #bySlot = []
  /** @type {Map<number, ThreadTask>} */
  #awaiting = new Map()
  #closed = false
  #closing
  #startFailures = 0
  #unregister
  #startError // why the last start failed, until a worker is ready again
  #final // the stats once the native pool is dropped
  #slots // tasks waiting for a slot of options.hostBudget, which each task takes

  constructor(options) {
    this.#o = threadPoolOptions(options)
    const budget = budgetOf(validateOptions(options))
    if (budget !== undefined) this.#slots = new SlotQueue(budget, this.#o.maxQueue)
    this.#id = binding.threadPoolCreate(this.#o.maxQueue)
    try {
      // new Worker() checks resourceLimits, execArgv and env itself, and throws on bad ones.
      this.#fill()
    } catch (err) {
      this.#closed = true
      for (const w of this.#workers.values()) w.worker.terminate()
      this.#drop()
      throw err
    }
    this.#unregister = register('threadPools', this, this.#o.name)
  }

  /** The pool's name in metrics(). */
  get name() { return this.#o.name }

  /** The most worker threads (`options.threads`). */
  get threads() { return this.#o.threads }

  // Starts workers up to minThreads, and more, up to `threads`, while tasks wait that no
  // starting worker will take. Not while a start backoff runs. A worker counts as starting
  // until it joins natively: its `ready` message can arrive after it took a task.
  #fill() {
    const o = this.#o
    if (this.#closed || this.#retry !== undefined) return
    const wanted = () => this.#active < o.minThreads || binding.threadPoolBacklog(this.#id) > this.#active - binding.threadPoolJoined(this.#id)
    while (this.#active < o.threads && wanted()) this.#start()
  }

  // #fill() where a throw would lose a task already queued: new Worker() refusing an option
  // (checked by the constructor only when minThreads > 0) is a start failure.
  #grow() {
    try {
      this.#fill()
    } catch (err) {
      this.#startFailed(`${err.name}: ${err.message}`)
    }
  }

  #start() {
    const o = this.#o
    const worker = new Worker(BOOT, {
      workerData: { [kThreadPool]: { id: this.#id, script: o.script, nice: o.nice } },
      resourceLimits: o.resourceLimits,
      execArgv: o.execArgv,
      env: o.env,
      name: `${o.name}-${this.#started++}`,
    })
    const threadId = worker.threadId
    const w = { worker, ready: false, retired: false, startTimer: undefined, failure: undefined, timedOut: false }
    this.#workers.set(threadId, w)
    this.#active++
    this.#starting++
    if (o.idleTimeout > 0 && this.#active > o.minThreads && this.#reaper === undefined) {
      this.#reaper = setTimeout(() => this.#reap(), Math.max(o.idleTimeout, REAP_MS)).unref()
    }
    if (o.startTimeout > 0) {
      w.startTimer = setTimeout(() => {
        // Barred natively first: it cannot join and take a task while it is being terminated.
        if (this.#final !== undefined || !binding.threadPoolRefuse(this.#id, threadId)) return // it joined; `ready` is on its way
        w.timedOut = true
        worker.terminate()
      }, o.startTimeout).unref()
    }
    worker.on('message', (m) => {
      const ready = m !== null && typeof m === 'object' ? m[kThreadPool] : undefined
      if (ready !== 'ready') {
        this.#onPort(worker, ready, m)
        return
      }
      if (w.ready) return
      w.ready = true
      this.#starting--
      clearTimeout(w.startTimer)
      this.#startError = undefined
      this.#startFailures = 0
    })
    worker.on('error', (err) => { w.failure = err })
    worker.on('exit', (code) => {
      clearTimeout(w.startTimer)
      this.#workers.delete(threadId)
      this.#orphaned(threadId, w.failure, code)
      if (!w.ready) this.#starting--
      if (!w.retired) this.#active--
      const why = w.failure ? `${w.failure.name}: ${w.failure.message}` : `exit code ${code}`
      // After a failed constructor the native pool is gone already.
      const joined = this.#final === undefined && binding.threadPoolWorkerExited(this.#id, threadId, `the thread pool worker ${threadId} died while running the task (${why})`)
      if (this.#closed) {
        if (this.#workers.size === 0) this.#drop()
      } else if (w.retired) {
        // Retired idle: nothing to replace.
      } else if (!joined) {
        // It never got to serve(): a broken module fails the waiting tasks rather than hang them.
        this.#startFailed(w.timedOut ? `it did not call serve() within ${o.startTimeout} ms` : why)
      } else {
        this.#grow() // a replacement, up to minThreads or for waiting tasks
      }
    })
  }

  // Fails the waiting tasks; the next start waits (100 ms, doubling to 30 s).
  #startFailed(why) {
    this.#startError = `the thread pool worker could not start: ${why}`
    binding.threadPoolFailQueued(this.#id, this.#startError)
    if (this.#retry !== undefined) return
    const delay = Math.min(30_000, 100 * 2 ** this.#startFailures++)
    this.#retry = setTimeout(() => {
      this.#retry = undefined
      this.#grow()
      // No thread wanted now (minThreads 0): the next task tries a start instead of failing.
      if (this.#starting === 0 && !this.#closed) this.#startError = undefined
    }, delay).unref()
  }

  // Retires threads idle for idleTimeout while more than minThreads are active, then looks
  // again when the next parked one would qualify.
  #reap() {
    this.#reaper = undefined
    const o = this.#o
    while (!this.#closed && this.#active > o.minThreads) {
      const r = binding.threadPoolRetire(this.#id, o.idleTimeout)
      if (r <= 0) {
        this.#reaper = setTimeout(() => this.#reap(), Math.max(-r, REAP_MS)).unref()
        return
      }
      // It left the idle set natively and will never take a task: terminating it loses none.
      const w = this.#workers.get(r)
      if (w === undefined) continue
      w.retired = true
      this.#active--
      w.worker.terminate()
    }
  }

  /** Runs `payload` through the worker module's handler (`options.name` picks a named one). */
  run(payload, options) {
    if (this.#slots === undefined) return this.#run(payload, options)
    if (this.#closing) return Promise.reject(new OffloadError(ERR_OFFLOAD_POOL_CLOSED, 'the thread pool is closed'))
    // Submitted (its timeout counting from this call) only once it holds a slot.
    return this.#slots.run(options, (timeout) => this.#run(payload, { ...options, timeout }))
  }

  #run(payload, options) {
    const promise = new Promise(capture)
    const task = new ThreadTask(this, captured.resolve, captured.reject)
    task.promise = promise
    try {
      const o = validateOptions(options)
      const name = o.name ?? undefined
      if (name !== undefined && typeof name !== 'string') throw invalidArgType('options.name', 'of type string', name)
      // Its value is checked by the binding, as for every pool.
      const priority = optionalString(o, 'priority')
      const signal = optionalSignal(o)
      const timeout = optionalTimeout(o)
      if (this.#closed || this.#final !== undefined) throw new OffloadError(ERR_OFFLOAD_POOL_CLOSED, 'the thread pool is closed')
      // While no worker can start, fail at once rather than wait out the backoff (up to 30 s).
      if (this.#startError !== undefined && !this.#serving()) throw new OffloadError(ERR_OFFLOAD_WORKER_START, this.#startError)
      if (signal?.aborted) {
        task.cancel(abortError(signal), 'abort')
        return promise
      }
      const transfer = o.transfer ?? true
      if (typeof transfer !== 'boolean' && !Array.isArray(transfer)) throw invalidArgType('options.transfer', 'an array or a boolean', transfer)
      const list = typeof transfer === 'boolean' ? null : transferList(transfer)
      const bytes = payload === undefined && list === null ? null : this.#encode(task, payload, transfer, list)
      const slot = reserve()
      try {
        task.id = binding.threadPoolSubmit(this.#id, slot, name ?? null, bytes, priority ?? null)
      } catch (err) {
        release(slot)
        throw fromNative(err)
      }
      track(slot, task)
      task.slot = slot
      this.#bySlot[slot] = task
      if (this.#active < this.#o.threads) this.#grow()
      if (signal !== undefined) task.listen(signal)
      if (timeout !== undefined && timeout > 0) task.startTimer(timeout)
    } catch (err) {
      task.settle(err)
    }
    return promise
  }

  // The payload as JSON text when JSON carries it exactly, else codec bytes; memory that moves
  // is detached from the caller now and held by the task until a worker fetches it.
  #encode(task, payload, transfer, list) {
    if (list === null) {
      const json = asJson(payload)
      if (json !== undefined) return json
    }
    try {
      const encoded = encode(payload, transfer !== false, list, 0)
      if (!(encoded instanceof Outbound)) return encoded
      task.outbound = detach(encoded)
      return encoded.bytes
    } catch (err) {
      throw invalidArgValue('payload', payload, `could not be cloned (${err.message})`)
    }
  }

  // A worker's port carries only what the addon's queue cannot: moved buffers, shared memory
  // and host objects (codec.js). It asks for a task's payload parts once it has taken the task,
  // and posts a result's parts just before the result itself.
  #onPort(worker, kind, m) {
    if (kind === 'fetch') {
      const task = this.#find(m.slot, m.task)
      const out = task?.outbound
      if (task !== undefined) task.outbound = undefined
      worker.postMessage({ [kThreadPool]: 'parts', task: m.task, message: out?.message ?? null }, out?.transfer)
    } else if (kind === 'result') {
      const task = this.#find(m.slot, m.task) ?? this.#awaiting.get(m.task)
      if (task === undefined) return // it was cancelled or crashed meanwhile
      task.inbound = m.message
      if (task.reply !== undefined) resolveReply.call(task, task.reply)
    }
  }

  // A worker exited after the messages it posted were delivered: a reply still waiting for its
  // port message from that worker never gets it.
  #orphaned(threadId, failure, code) {
    for (const task of this.#awaiting.values()) {
      if (task.sender !== threadId) continue
      this.#awaiting.delete(task.id)
      const why = failure ? `${failure.name}: ${failure.message}` : `exit code ${code}`
      task.rejectUser(new OffloadError(ERR_OFFLOAD_WORKER_CRASHED, `the thread pool worker died while handing over the task's result (${why})`))
    }
  }

  #serving() {
    for (const w of this.#workers.values()) if (w.ready && !w.retired) return true
    return false
  }

  // Forgets the native pool, keeping its last stats for stats() after close.
  #drop() {
    if (this.#final !== undefined) return
    this.#final = this.#nativeStats()
    binding.threadPoolDrop(this.#id)
  }

  #find(slot, id) {
    const task = this.#bySlot[slot]
    return task !== undefined && task.id === id ? task : undefined
  }

  // Every task native code or a worker's port may still settle.
  #live() {
    const live = [...this.#awaiting.values()]
    for (const t of this.#bySlot) if (t !== undefined) live.push(t)
    return live
  }

  _forget(task) {
    if (this.#bySlot[task.slot] === task) this.#bySlot[task.slot] = undefined
    this.#awaiting.delete(task.id)
  }

  // The task's reply came before its port message, and the channel has freed its slot.
  _await(task) {
    if (this.#bySlot[task.slot] === task) this.#bySlot[task.slot] = undefined
    this.#awaiting.set(task.id, task)
  }

  // Called by a task's abort or timeout: a queued task leaves the queue now (its completion
  // carries `task.error`); a running one is signalled (abort) or its worker terminated.
  _cancel(task, why) {
    const r = binding.threadPoolCancel(this.#id, task.id)
    if (r <= 1) return
    // The worker's threadId: known here from its creation, even before its `ready` is read.
    const workerId = r - 1
    const stop = () => { this.#workers.get(workerId)?.worker.terminate() }
    if (why === 'timeout') stop()
    else setTimeout(() => { if (!task.settled) stop() }, this.#o.abortGrace).unref()
  }

  #nativeStats() {
    const s = binding.threadPoolStats(this.#id)
    return { threads: 0, queued: s[0], running: s[1], idle: s[2], submitted: s[3], completed: s[4], cancelled: s[5], rejected: s[6], crashed: s[7] }
  }

  stats() {
    if (this.#final !== undefined) return { ...this.#final }
    const budget = this.#slots === undefined ? {} : { hostBudget: this.#slots.budget.stats() }
    return { ...this.#nativeStats(), threads: this.#workers.size, ...budget }
  }

  /** Refuses new tasks, lets queued and running ones finish, then stops the workers. */
  close() {
    if (this.#closing) return this.#closing
    // Tasks waiting for a host budget slot were accepted: they are submitted first.
    const waiting = this.#slots?.drain()
    if (waiting === undefined && this.#final === undefined) binding.threadPoolClose(this.#id, false)
    this.#closing = (async () => {
      if (waiting !== undefined) await waiting
      if (waiting !== undefined && this.#final === undefined) binding.threadPoolClose(this.#id, false)
      for (let live = this.#live(); live.length > 0; live = this.#live()) await Promise.allSettled(live.map((t) => t.promise))
      await this.#stop()
    })()
    return this.#closing
  }

  /** Fails every queued and running task with ERR_OFFLOAD_POOL_DESTROYED and stops the workers. */
  async destroy() {
    const err = new OffloadError(ERR_OFFLOAD_POOL_DESTROYED, 'the thread pool was destroyed')
    this.#slots?.cancelAll(err)
    for (const t of this.#live()) if (!t.settled && t.error === undefined) t.error = err
    // Replies waiting for their moved memory: the channel has settled their entries already.
    for (const t of this.#awaiting.values()) t.rejectUser(err)
    this.#awaiting.clear()
    if (this.#final === undefined) binding.threadPoolClose(this.#id, true)
    await this.#stop()
  }

  [asyncDispose]() {
    return this.close()
  }

  async #stop() {
    this.#unregister()
    this.#closed = true
    clearTimeout(this.#reaper)
    clearTimeout(this.#retry)
    if (this.#workers.size === 0) this.#drop()
    await Promise.all([...this.#workers.values()].map((w) => w.worker.terminate()))
  }
}

module.exports = { ThreadPool }
