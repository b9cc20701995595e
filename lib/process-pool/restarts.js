'use strict'
// How the process pool meets workers that die or cannot start: the restart backoff (after a
// failure, the next start waits `restartBackoff` ms, doubling per failure up to 30 s, reset by
// a worker that answers), and the errors that say what happened (a crash, a start failure,
// with the end of the worker's stderr and a hint for the usual mistakes).
const { OffloadError } = require('../shared/errors')
const { howEnded } = require('./pool-worker')
const { ERR_OFFLOAD_WORKER_CRASHED, ERR_OFFLOAD_WORKER_START } = require('../shared/codes')

// The longest wait between start attempts of a worker that keeps failing.
const MAX_BACKOFF = 30_000

class Backoff {
  #base
  #retry
  #timer
  failures = 0
  until = 0 // performance.now() before which no worker starts

  /**
   * @param {number} base ms after the first failure
   * @param {() => void} retry called when a wait ends
   */
  constructor(base, retry) {
    this.#base = Math.max(1, base)
    this.#retry = retry
  }

  fail() {
    const delay = Math.min(MAX_BACKOFF, this.#base * 2 ** Math.min(this.failures, 20))
    this.failures++
    this.until = performance.now() + delay
    this.retryIn(delay)
  }

  /** ms left to wait (<= 0: none). */
  remaining() { return this.until - performance.now() }

  /** @param {number} ms */
  retryIn(ms) {
    clearTimeout(this.#timer)
    this.#timer = setTimeout(this.#retry, ms)
    this.#timer.unref()
  }

  stop() { clearTimeout(this.#timer) }
}

// What to do about a worker script Node could not load: TypeScript needs a loader.
function startHint(script, stderr) {
  if (stderr.includes('ERR_UNKNOWN_FILE_EXTENSION') ||
      (script !== undefined && /\.[cm]?ts$/.test(script) && stderr.includes('SyntaxError'))) {
    return "a .ts worker needs a loader: execArgv: ['--import', 'tsx'], or build it to .js"
  }
  return undefined
}

/**
 * ERR_OFFLOAD_WORKER_START for the pool's worker `o.command`.
 * @param {{ command: string, script?: string }} o
 * @param {string} reason
 * @param {{ exitCode?: number | null, signal?: string | null }} raw
 * @param {string} stderr
 */
function startError(o, reason, raw, stderr) {
  let text = `the process pool's worker (${o.command}) ${reason}`
  if (stderr !== '') text += `; the end of its stderr:\n${stderr}`
  const hint = startHint(o.script, stderr)
  if (hint !== undefined) text += `\n${hint}`
  const err = new OffloadError(ERR_OFFLOAD_WORKER_START, text)
  return Object.assign(err, { exitCode: raw.exitCode ?? null, signal: raw.signal ?? null, stderr })
}

// A fresh copy of a start failure, one per task it fails.
function copyError(last) {
  const err = new OffloadError(last.code, last.message)
  return Object.assign(err, { exitCode: last.exitCode, signal: last.signal, stderr: last.stderr })
}

// ERR_OFFLOAD_WORKER_CRASHED for the task a worker was running. The end of its stderr says
// why (an uncaught exception's stack, an abort message).
function crashError(raw, stderr) {
  let text = `the worker (pid ${raw.pid ?? '?'}) ${howEnded(raw)} while running the task`
  if (stderr !== '') text += `; the end of its stderr:\n${stderr}`
  const err = new OffloadError(ERR_OFFLOAD_WORKER_CRASHED, text)
  return Object.assign(err, { pid: raw.pid ?? undefined, exitCode: raw.exitCode, signal: raw.signal, stderr })
}

module.exports = { Backoff, startError, copyError, crashError }
