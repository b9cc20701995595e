'use strict'
// The one cancellable-task base, shared by CPU tasks (cpu/tasks.js) and process-pool tasks
// (process-pool/task.js). A task settles exactly once (`settle` says whether this call did);
// it listens to its AbortSignal as an EventListener object (no closure per task) and owns its
// timeout timer, and settling releases both. An abort becomes an AbortError whose `cause` is
// the signal's reason; a timeout an OffloadError ERR_OFFLOAD_TIMEOUT. What cancelling does (a
// native cancel, a cancel frame and then a kill) is the subclass's `cancel(err, why)`, `why`
// being 'abort' or 'timeout'.
const { AbortError, OffloadError } = require('./errors')
const { unlisten } = require('./validate')
const { ERR_OFFLOAD_TIMEOUT } = require('./codes')

// The signal's reason. The signal is the caller's object: a getter that throws gives its error
// as the reason, the best there is, rather than escaping into a listener or a timer.
function reasonOf(signal) {
  try {
    return signal.reason
  } catch (err) {
    return err
  }
}

/** @param {AbortSignal} signal */
function abortError(signal) {
  return new AbortError(undefined, { cause: reasonOf(signal) })
}

/** @param {number} ms */
function timeoutError(ms) {
  return new OffloadError(ERR_OFFLOAD_TIMEOUT, `the task did not finish within ${ms} ms`)
}

// A module function rather than a closure per task.
function onTimeout(task, ms) {
  task.cancel(timeoutError(ms), 'timeout')
}

class CancellableTask {
  /**
   * @param {(value: any) => void} resolve
   * @param {(err: any) => void} reject
   */
  constructor(resolve, reject) {
    this.resolve = resolve
    this.reject = reject
    this.settled = false
    /** @type {AbortSignal | undefined} */
    this.signal = undefined
    /** @type {NodeJS.Timeout | undefined} */
    this.timer = undefined
  }

  // Subscribes to `signal` before the task is admitted: the signal is the caller's object and
  // may throw, and once admitted the task must follow it to the end. On a throw nothing is
  // subscribed. addEventListener, never `onabort`: the caller's own handler must survive.
  /** @param {AbortSignal} signal */
  listen(signal) {
    signal.addEventListener('abort', this, { once: true })
    this.signal = signal
  }

  /** @param {number} ms */
  startTimer(ms) {
    this.timer = setTimeout(onTimeout, ms, this, ms)
  }

  // Called by the AbortSignal.
  handleEvent() {
    this.cancel(abortError(/** @type {AbortSignal} */ (this.signal)), 'abort')
  }

  // Overridden: what cancelling the running work takes. By default, settle with the error.
  /**
   * @param {Error} err
   * @param {'abort' | 'timeout'} _why
   */
  cancel(err, _why) {
    this.settle(err)
  }

  // Unsubscribes and stops the timer. The caller's signal runs here, inside completion batches,
  // timers and exit handlers: what its removeEventListener throws becomes a warning (unlisten).
  cleanup() {
    if (this.signal !== undefined) unlisten(this.signal, this)
    if (this.timer !== undefined) clearTimeout(this.timer)
  }

  // Settles once: rejects with `err` if given, else resolves with `value`; false if it already
  // had settled.
  /**
   * @param {unknown} err
   * @param {unknown} [value]
   */
  settle(err, value) {
    if (this.settled) return false
    this.settled = true
    this.cleanup()
    if (err !== undefined) this.reject(err)
    else this.resolve(value)
    return true
  }
}

module.exports = { CancellableTask, abortError, timeoutError }
