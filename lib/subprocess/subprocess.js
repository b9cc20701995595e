'use strict'
// spawn(): a running child with Node streams over its pipes.
//
// Each stream moves one chunk at a time: `_read()` asks the binding for the next chunk (what
// the pipe holds, up to 1 MiB) and is not called again until that chunk is pushed, so a
// slow consumer stops the reads and, through the full pipe, the child. Writes to stdin are
// read in place by the I/O thread and acknowledged when written.
const { EventEmitter } = require('node:events')
const { Readable, Writable } = require('node:stream')
const { StringDecoder } = require('node:string_decoder')
const binding = require('../shared/native')
const { OffloadError, fromNative, invalidArgValue } = require('../shared/errors')
const { start, finish } = require('./process')
const { stringOrNumber } = require('./options')
const { toBytes } = require('../shared/validate')
const { asyncDispose } = require('../shared/dispose')
const { EPIPE, ERR_OFFLOAD_INTERNAL } = require('../shared/codes')

const kHandle = Symbol('offload.child')
const STDOUT = 1
const STDERR = 2

class ChildOutput extends Readable {
  constructor(handle, fd) {
    super()
    this[kHandle] = handle
    this.fd = fd
  }

  _read() {
    binding.processRead(this[kHandle], this.fd).then(
      (chunk) => this.push(chunk),
      (err) => this.destroy(err),
    )
  }

  // Breaking out of `for await`, or destroy(): close the pipe so the child is not left
  // blocked on a full one (its next write fails, as with Node's child_process).
  _destroy(err, callback) {
    binding.processCloseOutput(this[kHandle], this.fd)
    callback(err)
  }
}

class ChildInput extends Writable {
  constructor(handle) {
    super()
    this[kHandle] = handle
    this.broken = false
  }

  _write(chunk, _encoding, callback) {
    // A child that stops reading (or exits) makes later writes EPIPE; like a shell pipeline,
    // the rest of the input is dropped rather than raised as an error nobody handles.
    if (this.broken) return callback()
    binding.processWrite(this[kHandle], toBytes(chunk, 'chunk')).then(
      () => callback(),
      (err) => {
        if (err.code === EPIPE) {
          this.broken = true
          callback()
        } else callback(err)
      },
    )
  }

  _final(callback) {
    binding.processCloseStdin(this[kHandle])
    callback()
  }

  _destroy(err, callback) {
    binding.processCloseStdin(this[kHandle])
    callback(err)
  }
}

function noop() {}

/**
 * A running child process; see `spawn()`. Emits `'spawn'` (as Node's ChildProcess does) once
 * the child exists: it may first wait in the supervisor's queue.
 */
class Subprocess extends EventEmitter {
  #spawned = undefined

  constructor(handle, raw, call) {
    super()
    this[kHandle] = handle
    const o = call.options
    this.stdin = o.input === undefined && (o.stdin ?? 'pipe') === 'pipe' ? new ChildInput(handle) : null
    this.stdout = o.stdout === 'pipe' ? new ChildOutput(handle, STDOUT) : null
    this.stderr = o.stderr === 'pipe' ? new ChildOutput(handle, STDERR) : null
    this.killSignal = call.killSignal
    /** Settles when the child has ended: the Result, or the error `exec()` would reject with. */
    this.exited = raw.then((r) => {
      // Like Node's ChildProcess: output nobody has started reading is drained once the child
      // is gone, so its pipe closes now rather than when this object is collected.
      for (const stream of [this.stdout, this.stderr]) {
        if (stream !== null && stream.readableFlowing === null) stream.resume()
      }
      return finish(r, call)
    })
    // Marked handled: a caller that only uses the streams must not get an unhandled
    // rejection; awaiting `exited` still throws.
    this.exited.catch(noop)
    // The 'spawn' event costs a native wait, so it is armed only once someone listens.
    this.on('newListener', function arm(event) {
      if (event !== 'spawn') return
      this.off('newListener', arm)
      this.spawned.then(() => this.emit('spawn'), noop)
    })
  }

  /**
   * Resolves with the pid once the child has been spawned; rejects, as `exited` does, if it
   * never is (program not found, aborted or killed while queued, ...).
   */
  get spawned() {
    if (this.#spawned === undefined) {
      this.#spawned = binding.processSpawned(this[kHandle]).then((pid) => pid ?? this.exited.then(() => {
        throw new OffloadError(ERR_OFFLOAD_INTERNAL, 'the child was never spawned, yet its report shows no error')
      }))
      this.#spawned.catch(noop)
    }
    return this.#spawned
  }

  /** The child's pid, once it has been spawned (it may wait in the supervisor's queue). */
  get pid() {
    return binding.processPid(this[kHandle]) ?? undefined
  }

  /** Signals the child (its whole tree with `killTree`); false if it had already exited. */
  kill(signal = this.killSignal) {
    stringOrNumber(signal, 'signal')
    try {
      return binding.processKill(this[kHandle], signal)
    } catch (err) {
      throw fromNative(err)
    }
  }

  /** The lines of stdout or stderr as strings, without their line endings. */
  lines(stream = 'stdout') {
    if (stream !== 'stdout' && stream !== 'stderr') throw invalidArgValue('stream', stream, "must be 'stdout' or 'stderr'")
    const source = this[stream]
    if (source === null) throw invalidArgValue('stream', stream, 'is not piped')
    return linesOf(source)
  }

  async [asyncDispose]() {
    this.kill()
    await this.exited.catch(noop)
  }
}

// Splits a byte stream into UTF-8 lines; a final line without a newline is still yielded.
async function * linesOf(source) {
  const decoder = new StringDecoder('utf8')
  // Partial line so far, as pieces: a line arriving in many chunks is joined once, and only
  // each new chunk is searched for a newline (linear in the output, whatever the line length).
  let pending = []
  for await (const chunk of source) {
    const text = decoder.write(chunk)
    let from = 0
    let nl
    while ((nl = text.indexOf('\n', from)) !== -1) {
      pending.push(text.slice(from, nl))
      const line = pending.join('')
      pending = []
      yield line.endsWith('\r') ? line.slice(0, -1) : line
      from = nl + 1
    }
    if (from < text.length) pending.push(text.slice(from))
  }
  pending.push(decoder.end())
  const last = pending.join('')
  if (last.length > 0) yield last
}

/** Starts `file` with `args` (no shell) and returns it with streams over its stdio. */
function spawn(file, args, options) {
  const [handle, raw, call] = start(file, args, options, true)
  return new Subprocess(handle, raw, call)
}

module.exports = { Subprocess, spawn }
