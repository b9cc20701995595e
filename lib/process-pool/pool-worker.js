'use strict'
// One process-pool worker: a supervised child with a request pipe (its descriptor 3) and a
// reply pipe (its descriptor 4), spoken to in the frames of docs/protocol.md.
//
// The pipes are driven by Node's own event loop (net.Socket over the descriptors the binding
// hands over), so a round trip costs two wake-ups and no extra thread hop; the process itself
// (spawn without fork, process group, parent-death signal, limits, reaping) belongs to the Rust
// supervisor, whose report promise tells us how it ended. A worker runs one task at a time, so
// a crash costs exactly one task.
const fs = require('node:fs')
const net = require('node:net')
const binding = require('../shared/native')
const { KIND, FrameReader } = require('./protocol')
const { fromNative } = require('../shared/errors')
const { rawReport } = require('../subprocess/process')

// Frames below this size are written as one Buffer; larger ones as a gathered write of the
// header and the caller's own blob memory.
const SMALL = 64 * 1024
// The end of a worker's stderr kept for ERR_OFFLOAD_WORKER_START: bytes, then lines.
const TAIL_BYTES = 4096
const TAIL_LINES = 20

// Workers' stderr forwarded to ours ('inherit'). On Linux process.stderr writes synchronously
// (files, pipes and TTYs); where a write is queued instead, the worker's pipe is paused until
// ours drains, so a chatty worker waits on its full pipe rather than growing our memory. One
// 'drain' listener for every worker.
const paused = new Set()
let draining = false
function forward(socket, chunk) {
  if (process.stderr.write(chunk) || paused.has(socket)) return
  socket.pause()
  paused.add(socket)
  if (draining) return
  draining = true
  process.stderr.once('drain', () => {
    draining = false
    for (const s of paused) s.resume()
    paused.clear()
  })
}

// The last TAIL_BYTES of a stream in a fixed ring: one copy per chunk, no allocation.
class Tail {
  constructor() {
    this.ring = Buffer.allocUnsafe(TAIL_BYTES)
    this.end = 0 // next write position
    this.size = 0 // bytes held
    this.dropped = false
  }

  push(chunk) {
    let src = chunk
    if (src.length > TAIL_BYTES) {
      this.dropped = true
      src = src.subarray(src.length - TAIL_BYTES)
    }
    const first = Math.min(src.length, TAIL_BYTES - this.end)
    src.copy(this.ring, this.end, 0, first)
    if (first < src.length) src.copy(this.ring, 0, first)
    this.end = (this.end + src.length) % TAIL_BYTES
    if (this.size + src.length > TAIL_BYTES) this.dropped = true
    this.size = Math.min(TAIL_BYTES, this.size + src.length)
  }

  // The last TAIL_LINES whole lines as text ('' if nothing was written).
  text() {
    if (this.size === 0) return ''
    const start = (this.end - this.size + TAIL_BYTES) % TAIL_BYTES
    const bytes = start + this.size <= TAIL_BYTES
      ? this.ring.subarray(start, start + this.size)
      : Buffer.concat([this.ring.subarray(start), this.ring.subarray(0, this.end)])
    let lines = bytes.toString('utf8').replace(/\n+$/, '').split('\n')
    if (this.dropped) lines.shift() // cut in the middle
    if (lines.length > TAIL_LINES) lines = lines.slice(-TAIL_LINES)
    return lines.join('\n')
  }
}

// How a worker's exit is described in messages.
function howEnded(raw) {
  if (raw.errorCode !== null) return `could not be spawned (${raw.errorCode}: ${raw.errorMessage})`
  if (raw.signal !== null) return `was killed by ${raw.signal}`
  return `exited with code ${raw.exitCode}`
}

class PoolWorker {
  // `events`: { frame(worker, frame), silent(worker), broken(worker, reason), exit(worker, raw) }.
  // `stderr`: 'inherit' forwards the worker's stderr to ours; 'ignore' keeps only its tail.
  constructor(spawnArgs, events, stderr) {
    this.events = events
    this.state = 'starting' // starting → idle ⇄ busy → (cancelling) → retiring | killing → dead
    this.task = undefined
    this.tasks = 0
    this.pid = undefined
    this.startedAt = Date.now()
    this.killedByPool = false
    this.timer = undefined
    // Set by the scheduler: why it failed before 'ready', whether it took 'ready', whether the
    // pool retired it (an exit then is no crash), and since when it is idle.
    /** @type {string | undefined} */
    this.startFailure = undefined
    this.ready = false
    this.retired = false
    this.idleSince = 0
    this.silent = false
    let spawned
    try {
      spawned = binding.spawnProcess(...spawnArgs)
    } catch (err) {
      throw fromNative(err)
    }
    const [handle, report, requestsFd, repliesFd, stderrFd] = spawned
    this.handle = handle
    try {
      this.requests = new net.Socket({ fd: requestsFd, readable: false, writable: true })
      this.replies = new net.Socket({ fd: repliesFd, readable: true, writable: false })
      this.stderr = new net.Socket({ fd: stderrFd, readable: true, writable: false })
    } catch (err) {
      // Without its pipes the worker is useless: kill it, and close what was not adopted.
      binding.processKill(handle, 'SIGKILL')
      if (this.requests === undefined) fs.closeSync(requestsFd)
      else this.requests.destroy()
      if (this.replies === undefined) fs.closeSync(repliesFd)
      else this.replies.destroy()
      fs.closeSync(stderrFd)
      throw err
    }
    // The worker's stderr: its tail kept for a start failure's message, every chunk forwarded
    // as it comes ('inherit'). Read until its end, even after the worker exits: a grandchild
    // may still hold it (as it would our own stderr). Unref'd like the message pipes.
    this.tail = new Tail()
    const log = this.stderr
    log.unref()
    log.on('error', () => {})
    this.stderrEnded = new Promise((resolve) => log.once('close', resolve))
    const inherit = stderr !== 'ignore'
    log.on('data', (chunk) => {
      this.tail.push(chunk)
      if (inherit) forward(log, chunk)
    })
    log.once('close', () => paused.delete(log))
    this.fd = requestsFd // non-blocking now: libuv set it when the socket adopted it
    // The pool keeps the loop alive while it has work; idle pipes must not.
    this.requests.unref()
    this.replies.unref()
    // EPIPE and the like: the worker is gone or going, and its exit report says how.
    this.requests.on('error', () => {})
    this.replies.on('error', () => {})
    this.repliesEnded = new Promise((resolve) => this.replies.once('close', resolve))
    // A worker that closes its reply pipe but lives on can never answer again. (A worker
    // that exits closes it too; its exit report follows within milliseconds and wins.)
    this.replies.once('close', () => {
      this.silent = true
      this.events.silent(this)
      this.mute = setTimeout(() => this.events.broken(this, 'closed its reply pipe'), 1000)
      this.mute.unref()
    })
    const reader = new FrameReader()
    this.replies.on('data', (chunk) => {
      let frames
      let corrupt
      try {
        frames = reader.push(chunk)
      } catch (err) {
        frames = err.frames ?? []
        corrupt = err
      }
      for (const frame of frames) {
        if (this.state === 'dead' || this.state === 'killing') return
        this.events.frame(this, frame)
      }
      if (corrupt !== undefined) this.events.broken(this, corrupt.message)
    })
    report.then((r) => this.#ended(r))
  }

  // A reply written just before the worker exited is still in the pipe when the exit report
  // arrives: read it first (briefly; a grandchild could hold the pipe open).
  async #ended(report) {
    const raw = rawReport(report)
    this.pid ??= raw.pid ?? undefined
    // The same for the last lines of its stderr, wanted in a start failure's message.
    await Promise.race([Promise.all([this.repliesEnded, this.stderrEnded]), new Promise((resolve) => setTimeout(resolve, 100).unref())])
    clearTimeout(this.timer)
    clearTimeout(this.mute)
    this.state = 'dead'
    this.fd = undefined // closed with the socket, and the number may be reused
    this.requests.destroy()
    this.replies.destroy()
    this.events.exit(this, raw)
  }

  // Sends one frame (as built by protocol.message). A small frame goes straight to the pipe
  // when nothing is queued before it (one non-blocking write, no stream bookkeeping); what the
  // pipe does not take, and every large frame, goes through the socket, which writes as the
  // pipe drains.
  send(frame) {
    let total = 0
    for (const part of frame) total += part.length
    if (total > SMALL) {
      this.requests.cork() // one writev for the header and the blobs, read in place
      for (const part of frame) this.requests.write(part)
      this.requests.uncork()
      return
    }
    const bytes = frame.length === 1 ? frame[0] : Buffer.concat(frame, total)
    let written = 0
    if (this.requests.writableLength === 0 && !this.requests.destroyed && this.fd !== undefined) {
      try {
        written = fs.writeSync(this.fd, bytes)
      } catch {
        // EAGAIN (the pipe is full) or EPIPE (the worker is gone; its exit report follows).
      }
    }
    if (written < bytes.length) this.requests.write(written === 0 ? bytes : bytes.subarray(written))
  }

  // Asks the worker to finish and exit (it exits at the end of its requests); SIGKILL after
  // `grace` ms if it does not.
  retire(grace) {
    if (this.state === 'dead' || this.state === 'killing' || this.state === 'retiring') return
    this.state = 'retiring'
    this.requests.end()
    clearTimeout(this.timer)
    this.timer = setTimeout(() => this.kill(), grace)
    this.timer.unref() // the pool keeps the loop alive while it needs to
  }

  // SIGKILLs the worker's whole process group.
  kill() {
    if (this.state === 'dead' || this.state === 'killing') return
    this.state = 'killing'
    this.killedByPool = true
    clearTimeout(this.timer)
    binding.processKill(this.handle, 'SIGKILL')
  }

  rssBytes() {
    return this.pid === undefined || this.state === 'dead' ? null : binding.processRss(this.pid)
  }
}

module.exports = { PoolWorker, howEnded, KIND }
