'use strict'
// `Pool`: a dedicated set of Rust threads with its own bounded queue. Kernels run on the
// default pool unless given `{ pool }`.
const binding = require('../shared/native')
const { fromNative, invalidArgType } = require('../shared/errors')
const { validateOptions, optionalBoolean, optionalNumber, optionalString } = require('../shared/validate')
const { waitFor } = require('../shared/completion')
const { register } = require('../shared/metrics-registry')
const { budgetOf } = require('../host-budget')

const kNative = Symbol('offload.native')
const { asyncDispose } = require('../shared/dispose')

// Types checked here, with Node's wording; values (thread and queue bounds, niceness, the
// name's length) by the binding. It gets a fresh object of values read once, never the
// caller's object.
function poolOptions(options) {
  const o = validateOptions(options)
  const threads = optionalNumber(o, 'threads') ?? envThreads()
  const maxQueue = optionalNumber(o, 'maxQueue')
  const nice = optionalNumber(o, 'nice')
  const idlePriority = optionalBoolean(o, 'idlePriority')
  return { threads, maxQueue, name: optionalString(o, 'name'), nice, idlePriority }
}

// OFFLOAD_THREADS, read from process.env (under Node's environment lock; the binding never
// reads `environ`, which a SHARE_ENV worker may be rewriting). Ignored unless a positive integer.
function envThreads() {
  const v = process.env.OFFLOAD_THREADS
  const n = v === undefined ? NaN : Number(v.trim())
  return Number.isSafeInteger(n) && n > 0 && /^\s*\d+\s*$/.test(v) ? n : undefined
}

class Pool {
  #closed = undefined
  #info
  #unregister
  #budget

  constructor(options) {
    const o = poolOptions(options)
    this.#budget = budgetOf(validateOptions(options))
    try {
      this[kNative] = this.#budget === undefined ? binding.createPool(o) : binding.createGatedPool(o, this.#budget.native)
    } catch (err) {
      throw fromNative(err)
    }
    this.#info = binding.poolInfo(this[kNative])
    this.#unregister = register('pools', this, this.#info.name)
  }

  /** Number of worker threads. */
  get threads() { return this.#info.threads }
  /** Name used in thread names. */
  get name() { return this.#info.name }
  /** Waiting tasks admitted before `ERR_OFFLOAD_QUEUE_FULL`. */
  get maxQueue() { return this.#info.maxQueue }

  /** The host budget this pool's tasks take slots from, if any (`options.hostBudget`). */
  get hostBudget() { return this.#budget?.name }

  stats() {
    const s = binding.poolStats(this[kNative])
    return this.#budget === undefined ? s : { ...s, hostBudget: this.#budget.stats() }
  }

  close() {
    if (this.#closed === undefined) {
      this.#unregister()
      this.#closed = waitFor((slot) => binding.closePool(this[kNative], slot))
    }
    return this.#closed
  }

  destroy() {
    this.#unregister()
    binding.destroyPool(this[kNative])
  }

  [asyncDispose]() {
    return this.close()
  }
}

let defaultPool

function getDefaultPool() {
  if (defaultPool === undefined) defaultPool = new Pool({ name: 'default' })
  return defaultPool
}

function nativeOf(pool) {
  if (pool === undefined) return getDefaultPool()[kNative]
  if (!(pool instanceof Pool)) throw invalidArgType('options.pool', 'an instance of Pool', pool)
  return pool[kNative]
}

module.exports = { Pool, getDefaultPool, nativeOf }
