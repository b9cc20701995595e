'use strict'
// One ThreadPool task on the main thread: the promise's resolvers, the native task id, and the
// memory a task moves through a worker's port (codec.js) while it waits there. The completion
// channel settles it with the worker's reply; a reply whose moved memory has not arrived yet
// waits for the port message (the pool calls resolveReply again when it does).
const { CancellableTask } = require('../shared/cancellable')
const { reviveError } = require('../shared/error-record')
const { INLINE, decode, modeOf, senderOf } = require('./codec')

// The channel delivers [ok, bytes]: the encoded result (JSON text, codec bytes, or undefined), or the encoded
// error. Module functions, not closures, so a task allocates nothing else.
/**
 * @this {ThreadTask}
 * @param {any[]} reply
 */
function resolveReply(reply) {
  const bytes = reply[1]
  if (typeof bytes === 'string') {
    this.pool._forget(this)
    let value
    try {
      value = JSON.parse(bytes)
    } catch (err) {
      this.rejectUser(err)
      return
    }
    this.resolveUser(value) // errors never travel as JSON
    return
  }
  if (bytes !== undefined && modeOf(bytes) !== INLINE && this.inbound === undefined) {
    // Its moved buffers come by the worker's port, posted before this reply: wait for them.
    this.reply = reply
    this.sender = senderOf(bytes)
    this.pool._await(this)
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

/** @typedef {import('./codec').Outbound} Outbound */

class ThreadTask extends CancellableTask {
  constructor(pool, resolve, reject) {
    super(resolveReply, rejectReply)
    this.resolveUser = resolve
    this.rejectUser = reject
    this.pool = pool
    this.id = -1
    /** the completion slot, while the task is submitted */
    this.slot = -1
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


module.exports = { ThreadTask, resolveReply }
