'use strict'
// Option checks for `new ThreadPool()`: types with Node's wording (ERR_INVALID_ARG_TYPE), ranges
// with ERR_OUT_OF_RANGE, each naming the option and its value, and the defaults in one place
// (types.d.ts and docs/thread-pool.md document the same ones). resourceLimits, execArgv and env
// are checked by `new Worker()` itself. Also `run()`'s transfer list.
const os = require('node:os')
const path = require('node:path')
const { MessagePort } = require('node:worker_threads')
const { invalidArgType } = require('../shared/errors')
const { MAX_TIMEOUT, pathString, validateOptions, optionalString, boundedInteger: integer } = require('../shared/validate')

const MAX_THREADS = 1024

function threadPoolOptions(options) {
  const o = validateOptions(options)
  const script = pathString(o.script, 'options.script')
  const minGiven = integer(o, 'minThreads', 0, MAX_THREADS, undefined)
  // As piscina: without `threads`, a larger minThreads raises the maximum rather than failing.
  const threads = integer(o, 'threads', 1, MAX_THREADS, Math.max(os.availableParallelism(), minGiven ?? 0))
  const minThreads = integer(o, 'minThreads', 0, threads, threads)
  return {
    script: path.resolve(script),
    threads,
    minThreads,
    maxQueue: integer(o, 'maxQueue', 0, Infinity, Infinity),
    nice: integer(o, 'nice', 0, 19, 10),
    abortGrace: integer(o, 'abortGrace', 0, MAX_TIMEOUT, 1000),
    // 0: never retired (as ProcessPool's idleTimeout).
    idleTimeout: integer(o, 'idleTimeout', 0, MAX_TIMEOUT, 30_000),
    // 0: no limit.
    startTimeout: integer(o, 'startTimeout', 0, MAX_TIMEOUT, 10_000),
    name: optionalString(o, 'name') ?? 'threads',
    resourceLimits: o.resourceLimits,
    execArgv: o.execArgv,
    env: o.env,
  }
}

// `run()`'s `options.transfer` list: what postMessage's transfer list may hold.
/** @param {unknown[]} list */
function transferList(list) {
  list.forEach((t, i) => {
    if (!(t instanceof ArrayBuffer) && !(t instanceof MessagePort)) throw invalidArgType(`options.transfer[${i}]`, 'an ArrayBuffer or a MessagePort', t)
  })
  return list
}

module.exports = { threadPoolOptions, transferList }
