'use strict'
// `hostBudget`: one CPU budget shared by the pools of every process of this user on this host
// that name it (see docs/host-budget.md). A budget is joined once per process and directory and
// shared by its pools. The CPU `Pool` is gated natively (its drainers hold the slots); the JS
// schedulers (ThreadPool, ProcessPool) take a slot per task through `runWithSlot`, which never
// waits on the JS thread: a slot that is not free now arrives through the completion channel,
// granted on the budget's own thread.
const os = require('node:os')
const path = require('node:path')
const binding = require('../shared/native')
const { fromNative, invalidArgType, invalidArgValue, OffloadError } = require('../shared/errors')
const { reserve, track, release, capture, captured } = require('../shared/completion')
const { abortError, timeoutError } = require('../shared/cancellable')
const { ERR_OFFLOAD_QUEUE_FULL } = require('../shared/codes')

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
  constructor(native) {
    this.native = native
    this.name = binding.hostBudgetStats(native).name
    this.waiting = 0 // tasks of the JS schedulers waiting for a slot
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
  if (known !== undefined && known.native === native) return known
  const budget = new HostBudget(native)
  joined.set(key, new WeakRef(budget))
  return budget
}

// Runs `start()` (which returns the task's promise) once `budget` gives a slot, and gives the
// slot back when that promise settles. `start(timeout)` gets what is left of `timeout` (ms).
// Waiting tasks count against `maxQueue`; `signal` and `timeout` end the wait as they end a
// queued task.
function runWithSlot(budget, { signal, timeout, maxQueue }, start) {
  const slot = reserve()
  let r
  try {
    r = binding.hostBudgetAcquire(budget.native, slot)
  } catch (err) {
    release(slot)
    return Promise.reject(fromNative(err))
  }
  if (r > 0) {
    release(slot)
    return runHolding(budget, r, () => start(timeout))
  }
  if (budget.waiting >= maxQueue) {
    withdraw(budget, -r)
    return Promise.reject(new OffloadError(ERR_OFFLOAD_QUEUE_FULL, `the queue is full (${maxQueue} tasks already waiting)`))
  }
  budget.waiting++
  const began = Date.now()
  const promise = new Promise(capture)
  const outer = { resolve: captured.resolve, reject: captured.reject }
  let timer
  const stop = (err) => {
    // Granted meanwhile: the task starts with the aborted signal or a 1 ms timeout, and ends so.
    if (!withdraw(budget, -r)) return
    outer.reject(err)
  }
  const onAbort = () => stop(abortError(/** @type {AbortSignal} */ (signal)))
  const entry = {
    settled: false,
    cleanup() {},
    reject: () => {},
    resolve: (permit) => {
      budget.waiting--
      clearTimeout(timer)
      signal?.removeEventListener('abort', onAbort)
      if (permit === undefined) return // withdrawn: rejected already
      const left = timeout === undefined ? undefined : Math.max(1, timeout - (Date.now() - began))
      let p
      try {
        p = runHolding(budget, permit, () => start(left))
      } catch (err) {
        outer.reject(err)
        return
      }
      p.then(outer.resolve, outer.reject)
    },
  }
  track(slot, entry)
  signal?.addEventListener('abort', onAbort, { once: true })
  if (timeout !== undefined) timer = setTimeout(() => stop(timeoutError(timeout)), timeout).unref()
  return promise
}

function withdraw(budget, request) {
  return binding.hostBudgetWithdraw(budget.native, request)
}

// Runs the task holding `permit`, which goes back once its promise settles.
function runHolding(budget, permit, run) {
  let p
  try {
    p = run()
  } catch (err) {
    binding.hostBudgetRelease(budget.native, permit)
    throw err
  }
  const done = () => binding.hostBudgetRelease(budget.native, permit)
  p.then(done, done)
  return p
}

module.exports = { budgetOf, runWithSlot, defaultDir }
