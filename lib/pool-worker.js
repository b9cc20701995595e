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
const binding = require('./native.js')
const { KIND, FrameReader } = require('./protocol')
const { fromNative } = require('./errors')
const { rawReport } = require('./process')

// Frames below this size are written as one Buffer; larger ones as a gathered write of the
// header and the caller's own blob memory.
const SMALL = 64 * 1024

// How a worker's exit is described in messages.
function howEnded(raw) {
  if (raw.errorCode !== null) return `could not be spawned (${raw.errorCode}: ${raw.errorMessage})`
  if (raw.signal !== null) return `was killed by ${raw.signal}`
  return `exited with code ${raw.exitCode}`
}

class PoolWorker {
  // `events`: { frame(worker, frame), silent(worker), broken(worker, reason), exit(worker, raw) }.
  constructor(spawnArgs, events) {
    this.events = events
    this.state = 'starting' // starting → idle ⇄ busy → (cancelling) → retiring | killing → dead
    this.task = undefined
    this.tasks = 0
    this.pid = undefined
    this.startedAt = Date.now()
    this.killedByPool = false
    this.timer = undefined
    let spawned
    try {
      spawned = binding.spawnProcess(...spawnArgs)
    } catch (err) {
      throw fromNative(err)
    }
    const [handle, report, requestsFd, repliesFd] = spawned
    this.handle = handle
    try {
      this.requests = new net.Socket({ fd: requestsFd, readable: false, writable: true })
      this.replies = new net.Socket({ fd: repliesFd, readable: true, writable: false })
    } catch (err) {
      // Without its pipes the worker is useless: kill it, and close what was not adopted.
      binding.processKill(handle, 'SIGKILL')
      if (this.requests === undefined) fs.closeSync(requestsFd)
      else this.requests.destroy()
      fs.closeSync(repliesFd)
      throw err
    }
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
    await Promise.race([this.repliesEnded, new Promise((resolve) => setTimeout(resolve, 100).unref())])
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
