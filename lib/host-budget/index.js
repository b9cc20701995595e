'use strict'
// `hostBudget`: one CPU budget shared by the pools of every process of this user on this host
// that name it (see docs/host-budget.md). A budget is joined once per process and directory and
// shared by its pools. The CPU `Pool` is gated natively (its drainers hold the slots); the JS
// schedulers (ThreadPool, ProcessPool) take a slot per task through a `SlotQueue`, which never
// waits on the JS thread: a slot that is not free now arrives through the completion channel,
// granted on the budget's own thread.
const os = require('node:os')
const path = require('node:path')
const binding = require('../shared/native')
const { fromNative, invalidArgType, invalidArgValue, OffloadError } = require('../shared/errors')
const { reserve, track, release, capture, captured } = require('../shared/completion')
const { abortError, timeoutError } = require('../shared/cancellable')
const { ERR_OFFLOAD_QUEUE_FULL } = require('../shared/codes')
const { validateOptions, optionalSignal, optionalTimeout } = require('../shared/validate')

const joined = new Map()

// $XDG_RUNTIME_DIR (per-user, 0700, cleaned at logout) when set, else a per-uid dir in /tmp, the
// same for every process of the user whatever its TMPDIR.
function defaultDir() {
  const xdg = process.env.XDG_RUNTIME_DIR
  if (xdg !== undefined && path.isAbsolute(xdg)) return path.join(xdg, 'offload')
  return `/tmp/offload-${process.getuid?.() ?? 0}`
}

// OFFLOAD_HOST_BUDGET=name or name:slots, for pools given no `hostBudget` option.
function fromEnv() {
  const v = process.env.OFFLOAD_HOST_BUDGET
  if (v === undefined || v.trim() === '') return undefined
  const [name, slots] = v.trim().split(':')
  const spec = { name }
  if (slots !== undefined) {
    const n = Number(slots)
    if (!/^\d+$/.test(slots)) throw invalidArgValue('OFFLOAD_HOST_BUDGET', v, 'must be a name or name:slots')
    spec.slots = n
  }
  return spec
}

class HostBudget {
  constructor(native, name) {
    this.native = native
    this.name = name
  }

  stats() {
    return binding.hostBudgetStats(this.native)
  }
}

// The budget a pool's options ask for: `hostBudget` ({ name, slots?, dir? }), else
// OFFLOAD_HOST_BUDGET; `false` opts out of the latter. Undefined: no budget.
function budgetOf(options) {
  let spec = options.hostBudget
  if (spec === false) return undefined
  if (spec === undefined) spec = fromEnv()
  if (spec === undefined) return undefined
  if (spec === null || typeof spec !== 'object') throw invalidArgType('options.hostBudget', 'of type object or false', spec)
  const { name, slots, dir } = spec
  if (typeof name !== 'string') throw invalidArgType('options.hostBudget.name', 'of type string', name)
  if (slots !== undefined && typeof slots !== 'number') throw invalidArgType('options.hostBudget.slots', 'of type number', slots)
  if (dir !== undefined && typeof dir !== 'string') throw invalidArgType('options.hostBudget.dir', 'of type string', dir)
  const base = dir ?? defaultDir()
  const key = `${base}\0${name}`
  const known = joined.get(key)?.deref()
  let native
  try {
    // The binding returns the same budget for the same directory, and checks `slots` agrees.
    native = binding.openHostBudget({ name, slots, dir: base }, os.availableParallelism())
  } catch (err) {
    throw fromNative(err)
  }
  // The same budget for every pool of this process (one set of stats and metrics).
  if (known !== undefined) return known
  const budget = new HostBudget(native, name)
  joined.set(key, new WeakRef(budget))
  return budget
}

// The tasks of one JS scheduler (ThreadPool, ProcessPool) waiting for a slot of `budget`.
// A task is submitted to its pool only once it holds a slot, and gives it back when its promise
// settles. Waiting tasks count against `maxQueue`; `signal` and `timeout` end the wait as they
// end a queued task. `drain()` lets a closing pool submit the ones it accepted.
class SlotQueue {
  constructor(budget, maxQueue) {
    this.budget = budget
    this.maxQueue = maxQueue
    this.waiting = new Set()
    this.emptied = undefined
  }

  /** Reads `signal` and `timeout` from a task's options, then `runParsed`. */
  run(options, start) {
    let limits
    try {
      const o = validateOptions(options)
      limits = { signal: optionalSignal(o), timeout: optionalTimeout(o) }
    } catch (err) {
      return Promise.reject(err)
    }
    return this.runParsed(limits, start)
  }

  /** Calls `start(timeout)` holding a slot; `timeout` is what is left of the task's (ms). */
  runParsed({ signal, timeout }, start) {
    const native = this.budget.native
    const slot = reserve()
    let r
    try {
      r = binding.hostBudgetAcquire(native, slot)
    } catch (err) {
      release(slot)
      return Promise.reject(fromNative(err))
    }
    if (r > 0) {
      release(slot)
      return runHolding(native, r, () => start(timeout))
    }
    if (this.waiting.size >= this.maxQueue) {
      // Withdrawn, the request posts `undefined` to its slot, which frees it.
      binding.hostBudgetWithdraw(native, -r)
      return Promise.reject(new OffloadError(ERR_OFFLOAD_QUEUE_FULL, `the queue is full (${this.maxQueue} tasks already waiting for a host budget slot)`))
    }
    const began = Date.now()
    const promise = new Promise(capture)
    const outer = { resolve: captured.resolve, reject: captured.reject }
    const entry = {
      settled: false,
      timer: undefined,
      cleanup() {},
      reject() {},
      // The permit id once granted; undefined once withdrawn (rejected already).
      resolve: (permit) => {
        this.#leave(entry)
        if (permit === undefined) return
        const left = timeout === undefined ? undefined : Math.max(1, timeout - (Date.now() - began))
        let p
        try {
          p = runHolding(native, permit, () => start(left))
        } catch (err) {
          outer.reject(err)
          return
        }
        p.then(outer.resolve, outer.reject)
      },
      // Ends the wait. Granted meanwhile, the task starts with its aborted signal or a 1 ms
      // timeout, and ends so.
      stop: (err) => {
        if (!binding.hostBudgetWithdraw(native, -r)) return
        this.#leave(entry)
        outer.reject(err)
      },
      onAbort: () => entry.stop(abortError(/** @type {AbortSignal} */ (signal))),
      signal,
    }
    track(slot, entry)
    this.waiting.add(entry)
    signal?.addEventListener('abort', entry.onAbort, { once: true })
    if (timeout !== undefined) entry.timer = setTimeout(() => entry.stop(timeoutError(timeout)), timeout).unref()
    return promise
  }

  #leave(entry) {
    if (!this.waiting.delete(entry)) return
    clearTimeout(entry.timer)
    entry.signal?.removeEventListener('abort', entry.onAbort)
    if (this.waiting.size === 0) this.emptied?.()
  }

  /** Resolves once no task waits for a slot (each was submitted or ended). */
  drain() {
    if (this.waiting.size === 0) return Promise.resolve()
    return new Promise((resolve) => {
      const before = this.emptied
      this.emptied = () => {
        this.emptied = undefined
        before?.()
        resolve()
      }
    })
  }

  /** Ends every wait with `err` (a destroyed pool). */
  cancelAll(err) {
    for (const entry of [...this.waiting]) entry.stop(err)
  }
}

// Runs the task holding `permit`, which goes back once its promise settles.
function runHolding(native, permit, run) {
  let p
  try {
    p = run()
  } catch (err) {
    binding.hostBudgetRelease(native, permit)
    throw err
  }
  const done = () => binding.hostBudgetRelease(native, permit)
  p.then(done, done)
  return p
}

// The budgets some live pool of this process uses, for metrics().
function liveBudgets() {
  const out = []
  for (const [key, ref] of joined) {
    const b = ref.deref()
    if (b === undefined) joined.delete(key)
    else out.push(b)
  }
  return out
}

module.exports = { budgetOf, SlotQueue, defaultDir, liveBudgets }
