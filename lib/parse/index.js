'use strict'
// parseCsv, parseNdjson, parseJson (issue 18, docs/parsing.md). A native session parses on the
// CPU pool, one batch per task; JS only decodes each batch's tape (decoder.js), a slice of at
// most about SLICE_MS at a time, so a batch of any size or width never holds the loop longer.
//
// Read-ahead is one task: while a batch is decoded and consumed, the next is parsed. Input is
// pulled only when the session asks for it (a Readable is read as fast as batches are taken,
// so memory stays flat), in pieces of at most PIECE bytes that the task copies, so a piece is
// free once its task settles. `{ path }` is read by the session itself with pread. `break`,
// `return()` and an abort close the session at once: a running step is cancelled, and its
// file is closed when it stops (within one batch or one 1 MiB read).
const { performance } = require('node:perf_hooks')
const binding = require('../shared/native')
const { OffloadError, fromNative, invalidArgType } = require('../shared/errors')
const { ERR_OFFLOAD_PARSE } = require('../shared/codes')
const { abortError, timeoutError } = require('../shared/cancellable')
const { abortable } = require('../shared/abortable')
const { validateOptions, optionalSignal, optionalString, optionalTimeout, unlisten } = require('../shared/validate')
const { nativeOf } = require('../cpu/pool')
const { submit } = require('../cpu/tasks')
const { isSource, iteratorOf } = require('../cpu/streams')
const { resolvedPath, fsError } = require('../files/paths')
const { Shapes, Decoder, columnsOf } = require('./decoder')
const { parseOptions } = require('./options')

// Bytes of input per step (pieces of a Buffer, string or large stream chunk).
const PIECE = 1 << 20
// Ops decoded between clock reads, and the time a decode slice may take before yielding.
const SLICE_OPS = 1024
const SLICE_MS = 0.25

const immediate = () => new Promise((resolve) => setImmediate(resolve))

const SOURCE_TYPES = 'of type string, Buffer, Uint8Array, a Readable, an async iterable, or { path }'

// The pieces of input `source` gives, as an async iterator; null for `{ path }`.
function piecesOf(source, encoding) {
  if (typeof source === 'string') return stringPieces(source)
  if (source instanceof Uint8Array) return bytePieces([source])
  // Stopping early destroys a Readable, as `for await` does: the parse was its reader.
  if (isSource(source)) return streamPieces(iteratorOf(source, true), encoding)
  throw invalidArgType('source', SOURCE_TYPES, source)
}

async function * bytePieces(list) {
  for (const b of list) {
    for (let i = 0; i < b.length; i += PIECE) yield b.subarray(i, i + PIECE)
  }
}

// The text as UTF-8, a bounded slice at a time (never a pair of surrogates cut apart).
async function * stringPieces(s) {
  for (let i = 0; i < s.length;) {
    let j = Math.min(s.length, i + PIECE)
    const last = s.charCodeAt(j - 1)
    if (j < s.length && last >= 0xd800 && last < 0xdc00) j--
    yield Buffer.from(s.slice(i, j), 'utf8')
    i = j
  }
}

async function * streamPieces(it, encoding) {
  try {
    for (;;) {
      const r = await it.next()
      if (r.done) return
      const c = r.value
      if (typeof c === 'string') yield * bytePieces([Buffer.from(c, encoding === 'latin1' ? 'latin1' : 'utf8')])
      else if (c instanceof Uint8Array) yield * bytePieces([c])
      else throw invalidArgType('chunk of source', 'of type string, Buffer or Uint8Array', c)
    }
  } finally {
    if (typeof it.return === 'function') await it.return()
  }
}

// The binding's step result as named fields (napi/src/parse.rs).
function tapeOf(r) {
  const [bin, counts, text1, text2, defs, first, reset, rows, numeric, names] = r
  if (bin === null) return undefined
  const [nOps, nLens, nNums] = counts
  let buf = /** @type {Buffer} */ (bin)
  // Views need 8-byte alignment; a Buffer copied into V8's heap may lack it.
  if (buf.byteOffset % 8 !== 0) buf = Buffer.from(buf)
  const ab = buf.buffer
  let at = buf.byteOffset
  const nums = new Float64Array(ab, at, nNums)
  at += nNums * 8
  const columns = numeric.map(() => {
    const col = new Float64Array(ab, at, rows)
    at += rows * 8
    return col
  })
  const ops = new Uint32Array(ab, at, nOps)
  at += nOps * 4
  const lens = new Uint32Array(ab, at, nLens)
  return { ops, lens, nums, text1, text2, defs, first, reset, rows, numeric, columns, names }
}

function parseError([message, line, column, offset]) {
  const err = new OffloadError(ERR_OFFLOAD_PARSE, message)
  Object.assign(err, { line, column, offset })
  return err
}

/** A parse: one native session and the JS state around it. */
class Parse {
  #stopped = /** @type {Error | undefined} */ (undefined)
  #ac = new AbortController()
  #signal
  #onAbort
  #timer
  constructor(format, source, options) {
    const opts = validateOptions(options)
    const o = parseOptions(format, opts)
    const isPath = source !== null && typeof source === 'object' && !ArrayBuffer.isView(source) && !isSource(source)
    if (isPath && !('path' in source)) throw invalidArgType('source', SOURCE_TYPES, source)
    const file = isPath ? resolvedPath(source.path, 'source.path') : undefined
    // A string is text: sent as UTF-8 whatever `encoding` says (which is still checked).
    if (typeof source === 'string') o.text = true
    this.pieces = isPath ? null : piecesOf(source, o.text ? 'utf8' : o.encoding)
    this.native = nativeOf(opts.pool)
    this.priority = optionalString(opts, 'priority')
    this.#signal = optionalSignal(opts)
    const timeout = optionalTimeout(opts)
    this.shapes = new Shapes()
    /** @type {string[] | undefined} */
    this.names = undefined
    this.stats = { rows: 0, skipped: 0, bytes: 0 }
    this.columnar = o.shape === 'columns'
    try {
      this.state = binding.createParser(format, o, file, this.priority)
    } catch (err) {
      throw fromNative(err)
    }
    const signal = this.#signal
    if (signal !== undefined) {
      if (signal.aborted) this.stop(abortError(signal))
      this.#onAbort = () => this.stop(abortError(signal))
      signal.addEventListener('abort', this.#onAbort)
    }
    if (timeout !== undefined) {
      // The whole parse's deadline; a parse nobody iterates does not keep the process alive.
      this.#timer = setTimeout(() => this.stop(timeoutError(timeout)), timeout)
      this.#timer.unref()
    }
  }

  stop(err) {
    if (this.#stopped !== undefined) return
    this.#stopped = err
    this.#ac.abort(err)
  }

  #abortable(p) {
    return abortable(p, this.#ac.signal, () => this.#stopped)
  }

  /**
   * One native step; rejects at once on an abort. Streaming steps go without a signal: each
   * is bounded by a batch, so a stop waits for at most one batch, and a task with a signal
   * costs an abort listener per step (measured: they kept each result alive past two
   * scavenges, doubling young-GC pauses). `parseJson`'s one long step is cancellable.
   */
  async step(piece, eof, cancellable = false) {
    if (this.#stopped !== undefined) throw this.#stopped
    const keep = piece === undefined ? [] : [piece]
    const p = submit(this.native, cancellable ? this.#ac.signal : undefined, undefined, this.priority, keep,
      (h, slot, pr, c) => binding.submitParseStep(h, slot, this.state, piece, eof, pr, c), true)
    try {
      return await this.#abortable(p)
    } catch (err) {
      throw this.#stopped ?? fsError(err)
    }
  }

  /**
   * One task: a step fed the next piece of input if the session asked for it (`needInput`),
   * else a plain step. Settles with its results, one per batch (napi/src/parse.rs).
   */
  async fetch(needInput, cancellable = false) {
    if (!needInput) return this.step(undefined, false, cancellable)
    const n = this.pieces === null ? { done: true } : await this.#abortable(this.pieces.next())
    return this.step(n.done ? undefined : n.value, n.done === true, cancellable)
  }

  /**
   * The results of `pending`, fetching more while they hold nothing but a request for input:
   * the first batch is returned as soon as it exists, so a stream is read only as far as the
   * batches taken (plus the piece the session holds).
   */
  async next(pending, cancellable = false) {
    let results = await pending
    while (results.length === 1 && results[0][10] === true) results = await this.fetch(true, cancellable)
    const last = results[results.length - 1]
    this.stats = { rows: last[13], skipped: last[14], bytes: last[15] }
    return results
  }

  /** The values of a step's batch, decoded a slice at a time. */
  async decode(r) {
    const tape = tapeOf(r)
    if (tape === undefined) return []
    if (tape.names !== null) this.names = tape.names
    this.shapes.add(tape.first, tape.defs, tape.reset)
    const dec = new Decoder(this.shapes, tape)
    await this.#sliced((n) => dec.run(n))
    if (!this.columnar) return dec.out
    // The text columns' values arrive row by row: dealt into their columns, sliced too.
    const { batch, text } = columnsOf(this.names ?? [], tape)
    const { out } = dec
    const k = text.length
    let i = 0
    await this.#sliced((n) => {
      for (const end = Math.min(out.length, i + n); i < end; i++) text[i % k][(i / k) | 0] = out[i]
      return i === out.length
    })
    return batch
  }

  /** Runs `step(n)` (n units of work; true when done) in slices of about SLICE_MS. */
  async #sliced(step) {
    let t0 = performance.now()
    while (!step(SLICE_OPS)) {
      if (performance.now() - t0 >= SLICE_MS) {
        await immediate()
        if (this.#stopped !== undefined) throw this.#stopped
        t0 = performance.now()
      }
    }
  }

  close() {
    clearTimeout(this.#timer)
    if (this.#signal !== undefined && this.#onAbort !== undefined) unlisten(this.#signal, this.#onAbort)
    this.stop(new OffloadError(ERR_OFFLOAD_PARSE, 'the parse was closed'))
    binding.closeParser(this.state)
    if (this.pieces !== null) this.pieces.return(undefined).catch(() => {})
  }
}

// Batches of a streamed parse (CSV or NDJSON).
async function * batches(parse) {
  try {
    let pending = parse.fetch(false)
    for (;;) {
      const results = await parse.next(pending)
      const last = results[results.length - 1]
      const done = last[11] === true || last[12] !== null
      // The next batches are parsed while these are decoded and consumed.
      if (!done) {
        pending = parse.fetch(last[10] === true)
        // Awaited in the next turn; a consumer that stops first must not leave it unhandled.
        pending.catch(() => {})
      }
      for (const r of results) {
        if (r[0] === null) continue
        const batch = await parse.decode(r)
        if (r[7] > 0) yield batch
        if (r[12] !== null) throw parseError(r[12])
      }
      if (done) return
    }
  } finally {
    parse.close()
  }
}

/** A streamed parse: async-iterable once, with `stats`. */
class ParseStream {
  #parse
  #it
  constructor(format, source, options) {
    this.#parse = new Parse(format, source, options)
    this.#it = batches(this.#parse)
  }

  get stats() {
    return { ...this.#parse.stats }
  }

  [Symbol.asyncIterator]() {
    return this.#it
  }
}

function parseCsv(source, options) {
  return new ParseStream('csv', source, options)
}

function parseNdjson(source, options) {
  return new ParseStream('ndjson', source, options)
}

async function parseJson(source, options) {
  const opts = validateOptions(options)
  for (const key of ['batchRows', 'batchBytes', 'onError']) {
    if (opts[key] !== undefined) throw invalidArgType(`options.${key}`, 'undefined (parseJson returns one value)', opts[key])
  }
  const o = { ...opts, maxRowBytes: opts.maxBytes }
  const parse = new Parse('json', source, o)
  try {
    const results = await parse.next(parse.fetch(false, true), true)
    const r = results[results.length - 1]
    const out = await parse.decode(r)
    if (r[12] !== null) throw parseError(r[12])
    return out[0]
  } finally {
    parse.close()
  }
}

module.exports = { parseCsv, parseNdjson, parseJson }
