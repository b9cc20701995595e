'use strict'
// One process-pool task: the shared cancellable base (settles once, owns its abort listener
// and timeout timer) plus what the scheduler tracks, the encoded request frame (dropped once
// sent or settled) and the worker running it. Cancelling hands the task to the scheduler,
// which settles it at once and then asks the worker to stop (a cancel frame, then a kill).
// Also: a worker's reply as the task's outcome (replyOf; errors revived by shared/error-record.js).
const { OffloadError } = require('../shared/errors')
const { CancellableTask } = require('../shared/cancellable')
const { KIND, valueOf } = require('./protocol')
const { ERR_OFFLOAD_WORKER_PROTOCOL } = require('../shared/codes')
const { reviveError } = require('../shared/error-record')

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
    return [reviveError(valueOf(frame, 'error'), `offload worker pid ${pid}`), undefined]
  } catch (e) {
    return [new OffloadError(ERR_OFFLOAD_WORKER_PROTOCOL, `the worker (pid ${pid}) sent a reply that could not be decoded: ${e.message}`), undefined]
  }
}

module.exports = { Task, replyOf }
