'use strict'
// What `serve()` shares between a process-pool worker and a thread-pool thread: finding the
// handler a task names, and the context object a handler gets as its second argument. No
// addon here: a process-pool worker never loads it.
const { ERR_OFFLOAD_UNKNOWN_TASK } = require('./codes')

// A handler's second argument. Its AbortSignal is made on first use: most handlers never look
// at it, and an AbortController costs more than the rest of a small task.
class TaskContext {
  #controller
  #aborted = false

  constructor(name) {
    this.name = name
  }

  get signal() {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#aborted) this.#controller.abort()
    }
    return this.#controller.signal
  }

  abort() {
    this.#aborted = true
    this.#controller?.abort()
  }
}

/**
 * The handler `name` picks from what `serve()` got: a function serves unnamed calls only; an
 * object serves its own keys, unnamed calls going to `default`. Throws ERR_OFFLOAD_UNKNOWN_TASK.
 * @param {Function | Record<string, Function>} handlers
 * @param {string | null} name
 * @returns {Function}
 */
function handlerFor(handlers, name) {
  const h = typeof handlers === 'function'
    ? (name === null ? handlers : undefined)
    : (Object.hasOwn(handlers, name ?? 'default') ? handlers[name ?? 'default'] : undefined)
  if (typeof h === 'function') return h
  throw Object.assign(new Error(`offload/worker: no task named ${JSON.stringify(name)}`), { code: ERR_OFFLOAD_UNKNOWN_TASK })
}

module.exports = { TaskContext, handlerFor }
