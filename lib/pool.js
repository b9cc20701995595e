'use strict'
// `Pool`: a dedicated set of Rust threads with its own bounded queue. Kernels run on the
// default pool unless given `{ pool }`.
const binding = require('../binding.js')
const { fromNative, invalidArgType } = require('./errors')
const { validateOptions } = require('./validate')
const tasks = require('./tasks')

const kNative = Symbol('offload.native')
const asyncDispose = Symbol.asyncDispose ?? Symbol.for('nodejs.asyncDispose')

class Pool {
  #closed = undefined

  constructor(options) {
    options = validateOptions(options)
    for (const key of ['threads', 'maxQueue']) {
      const v = options[key]
      if (v !== undefined && typeof v !== 'number') throw invalidArgType(`options.${key}`, 'of type number', v)
    }
    if (options.name !== undefined && typeof options.name !== 'string') {
      throw invalidArgType('options.name', 'of type string', options.name)
    }
    try {
      this[kNative] = new binding.NativePool({ threads: options.threads, maxQueue: options.maxQueue, name: options.name })
    } catch (err) {
      throw fromNative(err)
    }
  }

  /** Number of worker threads. */
  get threads() { return this[kNative].threads }
  /** Name used in thread names. */
  get name() { return this[kNative].name }
  /** Waiting tasks admitted before `ERR_OFFLOAD_QUEUE_FULL`. */
  get maxQueue() { return this[kNative].maxQueue }

  stats() {
    return this[kNative].stats()
  }

  close() {
    if (this.#closed === undefined) this.#closed = tasks.waitFor((slot) => this[kNative].close(slot))
    return this.#closed
  }

  destroy() {
    this[kNative].destroy()
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
