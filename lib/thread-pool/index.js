'use strict'
// ThreadPool (issue 14, work in progress): the user's own JavaScript on worker threads,
// dispatched through the addon. `run()` serializes the payload with v8.serialize (structured
// clone rules) and queues the bytes natively with the handler's name and the task's slot;
// a free worker takes the task from the native queue itself and posts the result into this
// thread's completion channel, so no MessagePort carries tasks and one wake-up settles a
// whole batch. The port of each worker is only used for its `ready` message.
//
// Guarantees: admission (`maxQueue`, ERR_OFFLOAD_QUEUE_FULL) and priorities in the native
// queue; a timeout terminates the worker running the task (even a tight loop) and starts a
// replacement; an abort reaches the handler's signal, and a handler that ignores it for
// `abortGrace` ms has its worker terminated; a worker that exits or crashes fails only its
// own task (ERR_OFFLOAD_WORKER_CRASHED) and is replaced.
const os = require('node:os')
const path = require('node:path')
const { MessagePort, Worker } = require('node:worker_threads')
const binding = require('../shared/native')
const { reserve, track, release, captured, capture } = require('../shared/completion')
const { CancellableTask, abortError } = require('../shared/cancellable')
const { OffloadError, fromNative, invalidArgType, invalidArgValue, outOfRange } = require('../shared/errors')
const { MAX_TIMEOUT, pathString, validateOptions, optionalSignal, optionalString, optionalTimeout } = require('../shared/validate')
const { reviveError } = require('../shared/error-record')
const { ERR_OFFLOAD_POOL_CLOSED, ERR_OFFLOAD_POOL_DESTROYED, ERR_OFFLOAD_WORKER_CRASHED, ERR_OFFLOAD_WORKER_START } = require('../shared/codes')
const { asyncDispose } = require('../shared/dispose')
const { register } = require('../shared/metrics-registry')
const { kThreadPool } = require('./handshake')
const { INLINE, Outbound, encode, decode, detach, modeOf, senderOf } = require('./codec')

const BOOT = path.join(__dirname, 'boot.js')

// The channel delivers [ok, bytes]: the encoded result (null for undefined), or the encoded
// error. Module functions, not closures, so a task allocates nothing else.
/**
 * @this {ThreadTask}
 * @param {any[]} reply
 */
function resolveReply(reply) {
  const bytes = reply[1]
  if (bytes !== undefined && modeOf(bytes) !== INLINE && this.inbound === undefined) {
    // Its moved buffers come by the worker's port, posted before this reply: wait for them.
    this.reply = reply
    this.sender = senderOf(bytes)
    return
  }
  this.pool._forget(this)
  let value
  try {
    value = bytes === undefined ? undefined : decode(bytes, this.inbound)
  } catch (err) {
    this.rejectUser(err)
    return
  } finally {
    this.inbound = undefined
  }
  if (reply[0]) this.resolveUser(value)
  else this.rejectUser(reviveError(value, 'offload thread worker'))
}

function rejectReply(err) {
  this.pool._forget(this)
  this.rejectUser(err)
}

// `options.transfer`: what postMessage's transfer list may hold.
function transferList(list) {
  list.forEach((t, i) => {
    if (!(t instanceof ArrayBuffer) && !(t instanceof MessagePort)) throw invalidArgType(`options.transfer[${i}]`, 'an ArrayBuffer or a MessagePort', t)
  })
  return list
}

class ThreadTask extends CancellableTask {
  constructor(pool, resolve, reject) {
    super(resolveReply, rejectReply)
    this.resolveUser = resolve
    this.rejectUser = reject
    this.pool = pool
    this.id = -1
    this.error = undefined
    this.promise = undefined
    /** @type {Outbound | undefined} moved payload buffers, until a worker fetches them */
    this.outbound = undefined
    /** @type {unknown} the result's port message, when it came before the reply */
    this.inbound = undefined
    /** @type {unknown[] | undefined} a reply waiting for its port message */
    this.reply = undefined
    /** the threadId of the worker whose port message the reply waits for */
    this.sender = 0
  }

  cancel(err, why) {
    if (this.settled || this.error !== undefined) return
    if (this.id < 0) {
      this.settle(err) // never submitted
      return
    }
    this.error = err
    this.pool._cancel(this, why)
  }
}

class ThreadPool {
  #id
  #o
  #workers = new Map() // Worker -> workerId (0 until ready)
  // Workers to terminate as soon as their `ready` arrives: a worker takes tasks before this
  // thread has read that message, so a timeout can name a worker not yet in #workers.
  #doomed = new Set()
  #tasks = new Map() // task id -> ThreadTask, while native code may still settle it
  #closed = false
  #closing
  #startFailures = 0
  #unregister
  #startError // why the last start failed, until a worker is ready again
  #final // the stats once the native pool is dropped

  constructor(options) {
    const o = validateOptions(options)
    const script = pathString(o.script, 'options.script')
    const threads = o.threads ?? os.availableParallelism()
    if (!Number.isInteger(threads)) throw invalidArgType('options.threads', 'an integer', threads)
    if (threads < 1 || threads > 1024) throw outOfRange('options.threads', '>= 1 && <= 1024', threads)
    const maxQueue = o.maxQueue ?? Infinity
    if (typeof maxQueue !== 'number' || Number.isNaN(maxQueue)) throw invalidArgType('options.maxQueue', 'of type number', maxQueue)
    if (maxQueue < 0 || (maxQueue !== Infinity && !Number.isInteger(maxQueue))) throw outOfRange('options.maxQueue', 'an integer >= 0, or Infinity', maxQueue)
    const nice = o.nice ?? 10
    if (!Number.isInteger(nice) || nice < 0 || nice > 19) throw outOfRange('options.nice', 'an integer >= 0 && <= 19', nice)
    const abortGrace = o.abortGrace ?? 1000
    if (!Number.isInteger(abortGrace) || abortGrace < 0 || abortGrace > MAX_TIMEOUT) throw outOfRange('options.abortGrace', `an integer >= 0 && <= ${MAX_TIMEOUT}`, abortGrace)
    const name = optionalString(o, 'name') ?? 'threads'
    this.#o = {
      script: path.resolve(script),
      threads,
      nice,
      abortGrace,
      name,
      resourceLimits: o.resourceLimits,
      execArgv: o.execArgv,
      env: o.env,
    }
    this.#id = binding.threadPoolCreate(maxQueue)
    try {
      // new Worker() checks resourceLimits, execArgv and env itself, and throws on bad ones.
      for (let i = 0; i < threads; i++) this.#start()
    } catch (err) {
      this.#closed = true
      for (const w of this.#workers.keys()) w.terminate()
      this.#drop()
      throw err
    }
    this.#unregister = register('threadPools', this, name)
  }

  /** The pool's name in metrics(). */
  get name() { return this.#o.name }

  /** The number of worker threads. */
  get threads() { return this.#o.threads }

  #start() {
    const o = this.#o
    const worker = new Worker(BOOT, {
      workerData: { [kThreadPool]: { id: this.#id, script: o.script, nice: o.nice } },
      resourceLimits: o.resourceLimits,
      execArgv: o.execArgv,
      env: o.env,
      name: `${o.name}-${this.#workers.size}`,
    })
    this.#workers.set(worker, 0)
    worker.on('message', (m) => {
      const ready = m !== null && typeof m === 'object' ? m[kThreadPool] : undefined
      if (ready !== 'ready') {
        this.#onPort(worker, ready, m)
        return
      }
      this.#workers.set(worker, m.workerId)
      this.#startError = undefined
      if (this.#doomed.delete(m.workerId)) worker.terminate()
    })
    let failure
    worker.on('error', (err) => { failure = err })
    worker.on('exit', (code) => {
      const workerId = this.#workers.get(worker)
      this.#orphaned(worker.threadId, failure, code)
      this.#workers.delete(worker)
      const why = failure ? `${failure.name}: ${failure.message}` : `exit code ${code}`
      if (workerId) {
        this.#startFailures = 0
        binding.threadPoolWorkerExited(this.#id, workerId, `the thread pool worker ${workerId} died while running the task (${why})`)
      } else if (!this.#closed) {
        // It never got to serve(): a broken module fails the waiting tasks rather than hang them,
        // and the next start waits (100 ms, doubling to 30 s).
        this.#startError = `the thread pool worker could not start: ${why}`
        binding.threadPoolFailQueued(this.#id, this.#startError)
        const delay = Math.min(30_000, 100 * 2 ** this.#startFailures++)
        setTimeout(() => { if (!this.#closed) this.#start() }, delay).unref()
        return
      }
      if (this.#closed) {
        if (this.#workers.size === 0) this.#drop()
      } else {
        this.#start()
      }
    })
  }

  /** Runs `payload` through the worker module's handler (`options.name` picks a named one). */
  run(payload, options) {
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
      let bytes = null
      if (payload !== undefined || list !== null) {
        let encoded
        try {
          encoded = encode(payload, transfer !== false, list, 0)
          if (encoded instanceof Outbound) {
            task.outbound = detach(encoded)
            encoded = encoded.bytes
          }
        } catch (err) {
          throw invalidArgValue('payload', payload, `could not be cloned (${err.message})`)
        }
        bytes = encoded
      }
      const slot = reserve()
      try {
        task.id = binding.threadPoolSubmit(this.#id, slot, name ?? null, bytes, priority ?? null)
      } catch (err) {
        release(slot)
        throw fromNative(err)
      }
      track(slot, task)
      this.#tasks.set(task.id, task)
      if (signal !== undefined) task.listen(signal)
      if (timeout !== undefined && timeout > 0) task.startTimer(timeout)
    } catch (err) {
      task.settle(err)
    }
    return promise
  }

  // A worker's port carries only what the addon's queue cannot: moved buffers, shared memory
  // and host objects (codec.js). It asks for a task's payload parts once it has taken the task,
  // and posts a result's parts just before the result itself.
  #onPort(worker, kind, m) {
    if (kind === 'fetch') {
      const task = this.#tasks.get(m.task)
      const out = task?.outbound
      if (task !== undefined) task.outbound = undefined
      worker.postMessage({ [kThreadPool]: 'parts', task: m.task, message: out?.message ?? null }, out?.transfer)
    } else if (kind === 'result') {
      const task = this.#tasks.get(m.task)
      if (task === undefined) return // it was cancelled or crashed meanwhile
      task.inbound = m.message
      if (task.reply !== undefined) resolveReply.call(task, task.reply)
    }
  }

  // A worker exited after the messages it posted were delivered: a reply still waiting for its
  // port message from that worker never gets it.
  #orphaned(threadId, failure, code) {
    for (const task of this.#tasks.values()) {
      if (task.reply === undefined || task.sender !== threadId) continue
      this.#tasks.delete(task.id)
      const why = failure ? `${failure.name}: ${failure.message}` : `exit code ${code}`
      task.rejectUser(new OffloadError(ERR_OFFLOAD_WORKER_CRASHED, `the thread pool worker died while handing over the task's result (${why})`))
    }
  }

  #serving() {
    for (const id of this.#workers.values()) if (id !== 0) return true
    return false
  }

  // Forgets the native pool, keeping its last stats for stats() after close.
  #drop() {
    if (this.#final !== undefined) return
    this.#final = this.#nativeStats()
    binding.threadPoolDrop(this.#id)
  }

  _forget(task) {
    this.#tasks.delete(task.id)
  }

  // Called by a task's abort or timeout: a queued task leaves the queue now (its completion
  // carries `task.error`); a running one is signalled (abort) or its worker terminated.
  _cancel(task, why) {
    const r = binding.threadPoolCancel(this.#id, task.id)
    if (r <= 1) return
    const workerId = r - 1
    const stop = () => {
      for (const [w, id] of this.#workers) {
        if (id === workerId) {
          w.terminate()
          return
        }
      }
      this.#doomed.add(workerId)
    }
    if (why === 'timeout') stop()
    else setTimeout(() => { if (!task.settled) stop() }, this.#o.abortGrace).unref()
  }

  #nativeStats() {
    const s = binding.threadPoolStats(this.#id)
    return { threads: 0, queued: s[0], running: s[1], idle: s[2], submitted: s[3], completed: s[4], cancelled: s[5], rejected: s[6], crashed: s[7] }
  }

  stats() {
    if (this.#final !== undefined) return { ...this.#final }
    return { ...this.#nativeStats(), threads: this.#workers.size }
  }

  /** Refuses new tasks, lets queued and running ones finish, then stops the workers. */
  close() {
    if (this.#closing) return this.#closing
    if (this.#final === undefined) binding.threadPoolClose(this.#id, false)
    this.#closing = (async () => {
      while (this.#tasks.size > 0) await Promise.allSettled([...this.#tasks.values()].map((t) => t.promise))
      await this.#stop()
    })()
    return this.#closing
  }

  /** Fails every queued and running task with ERR_OFFLOAD_POOL_DESTROYED and stops the workers. */
  async destroy() {
    const err = new OffloadError(ERR_OFFLOAD_POOL_DESTROYED, 'the thread pool was destroyed')
    for (const t of this.#tasks.values()) if (!t.settled && t.error === undefined) t.error = err
    if (this.#final === undefined) binding.threadPoolClose(this.#id, true)
    await this.#stop()
  }

  [asyncDispose]() {
    return this.close()
  }

  async #stop() {
    this.#unregister()
    this.#closed = true
    if (this.#workers.size === 0) this.#drop()
    await Promise.all([...this.#workers.keys()].map((w) => w.terminate()))
  }
}

module.exports = { ThreadPool }
