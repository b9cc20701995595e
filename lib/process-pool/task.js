'use strict'
// One process-pool task: the shared cancellable base (settles once, owns its abort listener
// and timeout timer) plus what the scheduler tracks, the encoded request frame (dropped once
// sent or settled) and the worker running it. Cancelling hands the task to the scheduler,
// which settles it at once and then asks the worker to stop (a cancel frame, then a kill).
// Also: a worker's reply as the task's outcome (replyOf, workerError).
const { OffloadError } = require('../shared/errors')
const { CancellableTask } = require('../shared/cancellable')
const { KIND, valueOf } = require('./protocol')
const { ERR_OFFLOAD_WORKER_PROTOCOL } = require('../shared/codes')

/**
 * @typedef {object} Canceller
 * @property {(task: Task, err: Error, counter: 'cancelled' | 'timedOut') => void} cancel
 */

class Task extends CancellableTask {
  /**
   * @param {Canceller} scheduler
   * @param {number} id
   * @param {Buffer[] | undefined} frame
   * @param {(value: any) => void} resolve
   * @param {(err: any) => void} reject
   */
  constructor(scheduler, id, frame, resolve, reject) {
    super(resolve, reject)
    this.scheduler = scheduler
    this.id = id
    this.frame = frame
    /** @type {any} the PoolWorker running it */
    this.worker = undefined
    this.queued = false
  }

  /**
   * @param {Error} err
   * @param {'abort' | 'timeout'} why
   */
  cancel(err, why) {
    this.scheduler.cancel(this, err, why === 'abort' ? 'cancelled' : 'timedOut')
  }

  /**
   * @param {unknown} err
   * @param {unknown} [value]
   */
  settle(err, value) {
    if (this.settled) return false
    this.frame = undefined
    return super.settle(err, value)
  }
}

// Rebuilds an error thrown in a worker: same class where it is a built-in one, same name,
// message and code, the worker's stack, and the error's other own properties, as data only.
const BUILTIN = { Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError }
/**
 * @param {any} e the decoded `error` field of the reply
 * @param {number | undefined} pid
 */
function workerError(e, pid) {
  const described = e !== null && typeof e === 'object' ? e : { name: 'Error', message: String(e) }
  const Ctor = Object.hasOwn(BUILTIN, described.name) ? BUILTIN[described.name] : Error
  /** @type {Error & Record<string, unknown>} */
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

// A worker's answer as [error, value]: its result, the error it threw, or a protocol error if
// the reply cannot be decoded.
/**
 * @param {{ kind: number }} frame a result or error frame
 * @param {number | undefined} pid
 * @returns {[Error | undefined, unknown]}
 */
function replyOf(frame, pid) {
  try {
    if (frame.kind === KIND.result) return [undefined, valueOf(frame, 'value')]
    return [workerError(valueOf(frame, 'error'), pid), undefined]
  } catch (e) {
    return [new OffloadError(ERR_OFFLOAD_WORKER_PROTOCOL, `the worker (pid ${pid}) sent a reply that could not be decoded: ${e.message}`), undefined]
  }
}

module.exports = { Task, workerError, replyOf }
