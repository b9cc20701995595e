'use strict'
// offload/bullmq: a BullMQ worker whose jobs do their CPU work through offload, so the event
// loop stays free and BullMQ's lock renewal and stalled checks (plain timers on that loop) run
// on time. `createWorker()` returns a real BullMQ `Worker`; what it adds:
// - the processor gets `(job, { signal, token })`: the wrapper declares three parameters, which
//   is how BullMQ decides to make an AbortController per job. The signal fires on lock loss
//   (BullMQ only emits `lockRenewalFailed`; we turn it into `cancelJob`) and at the close
//   deadline (BullMQ's close never aborts anything).
// - errors: offload's that no retry can cure (UNRECOVERABLE below) become BullMQ's
//   `UnrecoverableError` (message and `code` kept, the original as `cause`); a full offload
//   queue (ERR_OFFLOAD_QUEUE_FULL) moves the job back to delayed for a few ms without using an
//   attempt; a job aborted by shutdown goes back the same way at once; a job whose lock was
//   lost is left alone (it is no longer ours: the stalled checker has moved it).
// - `close()` stops fetching and waits for running jobs up to `closeTimeout`, aborts the rest
//   (they go back to the queue for another worker), destroys the pools if a job still runs a
//   moment later, and closes the pools it was given.
// Guarantees: a job is put back only with its own lock token (BullMQ's scripts check it), so a
// put-back never races another worker's run of the same job.
const { invalidArgType, invalidArgValue, outOfRange, raisedByOffload, OffloadError } = require('../shared/errors')
const { validateOptions, validateString, optionalMs } = require('../shared/validate')
const codes = require('../shared/codes')
const { Pool } = require('../cpu/pool')
const { ThreadPool } = require('../thread-pool')
const { ProcessPool } = require('../process-pool')

const MISSING_PEER = 'offload/bullmq needs the optional peer dependency bullmq: npm install bullmq ioredis'

/** @type {typeof import('bullmq')} */
let bullmq
try {
  bullmq = require('bullmq')
} catch (err) {
  // Only bullmq itself missing gets the short line; a broken install keeps its own error.
  if (err?.code === 'MODULE_NOT_FOUND' && String(err.message).startsWith("Cannot find module 'bullmq'")) {
    throw Object.assign(new Error(MISSING_PEER, { cause: err }), { code: 'MODULE_NOT_FOUND' })
  }
  throw err
}
const { Worker, UnrecoverableError, DelayedError } = bullmq

// offload's errors that the same job data meets again on every attempt: the input or the
// arguments are wrong, not the moment. Kept in step with docs/bullmq.md. Not here: timeouts,
// crashes, exits and file errors (load, memory or the file system may differ next time).
const UNRECOVERABLE = new Set([
  codes.ERR_INVALID_ARG_TYPE,
  codes.ERR_INVALID_ARG_VALUE,
  codes.ERR_OUT_OF_RANGE,
  codes.ERR_UNKNOWN_SIGNAL,
  codes.ERR_OFFLOAD_CORRUPT_INPUT,
  codes.ERR_OFFLOAD_UNSUPPORTED_FORMAT,
  codes.ERR_OFFLOAD_IMAGE_TOO_LARGE,
  codes.ERR_OFFLOAD_OUTPUT_TOO_LARGE,
  codes.ERR_OFFLOAD_PARSE,
  codes.ERR_OFFLOAD_AUTH_FAILED,
  codes.ERR_CRYPTO_INVALID_KEYLEN,
  codes.ERR_CRYPTO_INVALID_IV,
  codes.ERR_CRYPTO_INVALID_AUTH_TAG,
  codes.ERR_CRYPTO_INVALID_DIGEST,
  codes.ERR_CRYPTO_INVALID_SCRYPT_PARAMS,
  codes.ERR_CRYPTO_SCRYPT_INVALID_PARAMETER,
])

const DEFAULT_CLOSE_TIMEOUT = 30000
// After the close deadline has aborted the jobs, how long they get to notice before the pools
// are destroyed under them (which fails their pool tasks, signal or not).
const DESTROY_GRACE = 1000
// A job refused by a full queue waits this long, plus up to JITTER, so a fleet refused at once
// does not come back at once.
const BACKOFF = 50
const JITTER = 200

function isPool(p) {
  return p instanceof Pool || p instanceof ThreadPool || p instanceof ProcessPool
}

/** The tasks the pools run at once: Pool and ThreadPool threads, ProcessPool workers. */
function capacity(pools) {
  let n = 0
  for (const p of pools) n += p instanceof ProcessPool ? p.size : p.threads
  return Math.max(1, n)
}

function workerOptions(options) {
  const o = validateOptions(options)
  // BullMQ's own check throws a plain Error; say which option, as Node does.
  if (o.connection === null || typeof o.connection !== 'object') {
    throw invalidArgType('options.connection', 'of type object (ioredis options or a Redis instance)', o.connection)
  }
  const pools = o.pools ?? []
  if (!Array.isArray(pools)) throw invalidArgType('options.pools', 'an instance of Array', pools)
  pools.forEach((p, i) => {
    if (!isPool(p)) throw invalidArgType(`options.pools[${i}]`, 'an instance of Pool, ThreadPool or ProcessPool', p)
  })
  let concurrency = o.concurrency ?? (pools.length > 0 ? 'auto' : 1)
  if (concurrency === 'auto') {
    if (pools.length === 0) throw invalidArgValue('options.concurrency', concurrency, "is 'auto' but options.pools is empty")
    concurrency = capacity(pools)
  } else if (typeof concurrency !== 'number') {
    throw invalidArgType('options.concurrency', "of type number or 'auto'", concurrency)
  } else if (!Number.isSafeInteger(concurrency) || concurrency < 1) {
    throw outOfRange('options.concurrency', "an integer >= 1 or 'auto'", concurrency)
  }
  const closeTimeout = optionalMs(o, 'closeTimeout') ?? DEFAULT_CLOSE_TIMEOUT
  const { pools: _p, closeTimeout: _c, concurrency: _n, ...rest } = o
  return { bull: { ...rest, concurrency }, pools: [...pools], closeTimeout }
}

/**
 * A BullMQ `Worker` for `queueName` whose `processor(job, { signal, token })` does its work
 * through offload. See the header comment and docs/bullmq.md.
 */
function createWorker(queueName, processor, options) {
  validateString(queueName, 'queueName')
  if (queueName === '') throw invalidArgValue('queueName', queueName, 'must not be empty')
  if (typeof processor !== 'function') throw invalidArgType('processor', 'of type function', processor)
  const { bull, pools, closeTimeout } = workerOptions(options)

  // Reasons are compared by identity: a reason we made says why the signal fired, whatever
  // error the processor then threw.
  const lockLost = new WeakSet()
  let shutdown // the reason given to every job aborted by close()

  // BullMQ reads `length` to decide whether to pass a signal: keep three parameters.
  const run = async function offloadProcessor(job, token, signal) {
    try {
      return await processor(job, { signal, token })
    } catch (err) {
      throw await failure(job, token, signal, err)
    }
  }

  // What BullMQ gets instead of `err`. DelayedError tells it the job has been moved already
  // (or is not ours to move): no attempt is used and nothing more is written.
  async function failure(job, token, signal, err) {
    if (signal?.aborted) {
      if (lockLost.has(signal.reason)) return new DelayedError()
      if (shutdown !== undefined && signal.reason === shutdown) {
        await job.moveToDelayed(Date.now(), token)
        return new DelayedError()
      }
    }
    if (err?.code === codes.ERR_OFFLOAD_QUEUE_FULL) {
      await job.moveToDelayed(Date.now() + BACKOFF + Math.floor(Math.random() * JITTER), token)
      return new DelayedError()
    }
    if (UNRECOVERABLE.has(err?.code) && raisedByOffload(err)) {
      return Object.assign(new UnrecoverableError(err.message), { code: err.code, cause: err })
    }
    return err
  }

  const worker = new Worker(queueName, run, bull)

  worker.on('lockRenewalFailed', (ids) => {
    for (const id of ids) {
      const reason = new OffloadError(codes.ERR_OFFLOAD_CANCELLED, `the lock of job ${id} was lost; another worker may run it`)
      lockLost.add(reason)
      // BullMQ types the reason as a string; any value reaches the signal, and an error
      // with a code is what offload's own aborts carry.
      worker.cancelJob(id, /** @type {any} */ (reason))
    }
  })

  const bullClose = worker.close
  let closing
  let deadline
  let grace
  let closed = false
  // The close deadline: abort what still runs; a moment later, destroy the pools, so a job
  // that does not pass its signal on still has its pool tasks failed.
  const abortRunning = () => {
    clearTimeout(deadline)
    if (closed || shutdown !== undefined) return
    shutdown = new OffloadError(codes.ERR_OFFLOAD_CANCELLED, 'the BullMQ worker is closing: the job goes back to the queue')
    worker.cancelAllJobs(/** @type {any} */ (shutdown))
    grace = setTimeout(() => {
      for (const p of pools) Promise.resolve(p.destroy()).catch(() => {})
    }, DESTROY_GRACE)
  }
  /**
   * Stops fetching, waits up to closeTimeout for running jobs (not at all with `force`, also
   * when a close is already under way), aborts the rest (they go back to the queue), then
   * closes the pools. Resolves once all that is done.
   */
  worker.close = function close(force = false) {
    closing ??= (async () => {
      deadline = setTimeout(abortRunning, closeTimeout)
      try {
        await bullClose.call(worker, false)
      } finally {
        closed = true
        clearTimeout(deadline)
        clearTimeout(grace)
      }
      await Promise.all(pools.map((p) => p.close()))
    })()
    if (force) abortRunning()
    return closing
  }
  return worker
}

module.exports = { createWorker, UNRECOVERABLE }
